//! Which parts of the GHL record a cue card shows (`CUE_CARD_FIELDS`, a tenant's
//! `cue_card_fields`): `all` (the default), `none` (no card), or a comma list of [`Field`]
//! names. The contact's name and its link to GoHighLevel are always on a card.

/// A part of the card besides the contact's name and link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// The contact's owner (GHL's `assignedTo`, by the user's name).
    Owner,
    Tags,
    /// The open opportunities: name, pipeline, stage and value.
    Opportunities,
    /// The last note, trimmed.
    Note,
    /// Do Not Disturb: every channel, or the channels barred.
    Dnd,
}

impl Field {
    /// Every field, in the order a card shows them.
    pub const ALL: [Field; 5] = [
        Field::Owner,
        Field::Tags,
        Field::Opportunities,
        Field::Note,
        Field::Dnd,
    ];

    /// Its name in the setting.
    pub fn name(self) -> &'static str {
        match self {
            Field::Owner => "owner",
            Field::Tags => "tags",
            Field::Opportunities => "opportunities",
            Field::Note => "note",
            Field::Dnd => "dnd",
        }
    }

    fn named(name: &str) -> Option<Field> {
        Field::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

/// Cue cards: whether a call gets one, and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CueCardOptions {
    pub enabled: bool,
    /// In the order a card shows them.
    pub fields: Vec<Field>,
}

impl Default for CueCardOptions {
    /// On, with every field.
    fn default() -> Self {
        Self {
            enabled: true,
            fields: Field::ALL.to_vec(),
        }
    }
}

impl CueCardOptions {
    /// No card at all.
    pub fn off() -> Self {
        Self {
            enabled: false,
            fields: Vec::new(),
        }
    }

    /// Reads `all`, `none` (`off`, `false`) or a comma list of field names (`owner,tags`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("all") {
            return Ok(Self::default());
        }
        if ["none", "off", "false"]
            .iter()
            .any(|w| text.eq_ignore_ascii_case(w))
        {
            return Ok(Self::off());
        }
        let mut fields = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let field = Field::named(name).ok_or_else(|| {
                let known: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "CUE_CARD_FIELDS: `{name}` is not one of all, none, {}",
                    known.join(", ")
                )
            })?;
            fields.push(field);
        }
        fields.sort();
        fields.dedup();
        Ok(Self {
            enabled: true,
            fields,
        })
    }

    /// The options `text` gives; off, and said so, when it cannot be read (a card never shows
    /// more than was asked for).
    pub fn read(text: Option<&str>) -> Self {
        match text.map(Self::parse) {
            None => Self::default(),
            Some(Ok(options)) => options,
            Some(Err(e)) => {
                tracing::error!(detail = %e, "cue cards are off: their setting is invalid");
                Self::off()
            }
        }
    }

    pub fn shows(&self, field: Field) -> bool {
        self.enabled && self.fields.contains(&field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_none_or_a_list_of_fields() {
        assert_eq!(CueCardOptions::parse("all"), Ok(CueCardOptions::default()));
        assert_eq!(CueCardOptions::parse(" "), Ok(CueCardOptions::default()));
        assert!(!CueCardOptions::parse("None").unwrap().enabled);
        assert!(!CueCardOptions::parse("off").unwrap().enabled);
        let some = CueCardOptions::parse("dnd, Owner,dnd").unwrap();
        assert_eq!(some.fields, [Field::Owner, Field::Dnd]);
        assert!(some.shows(Field::Dnd) && !some.shows(Field::Note));
        let error = CueCardOptions::parse("owner,phone").unwrap_err();
        assert!(error.contains("`phone`"), "{error}");
    }

    #[test]
    fn an_unreadable_setting_turns_cards_off() {
        assert_eq!(CueCardOptions::read(None), CueCardOptions::default());
        assert_eq!(CueCardOptions::read(Some("tags,")).fields, [Field::Tags]);
        assert_eq!(CueCardOptions::read(Some("emails")), CueCardOptions::off());
    }
}
