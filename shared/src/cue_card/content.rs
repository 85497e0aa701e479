//! A cue card's text: the contact as GoHighLevel holds it ([`Known`]) or the news that it holds
//! none ([`unknown`]), as CloudTalk's `CueCardRequest` with HTML content.
//!
//! Everything GoHighLevel holds is text someone typed (a name, a tag, a note), so it is never
//! markup: the content escapes it ([`escape`]), and the title and subtitle, which CloudTalk may
//! show as text or as HTML, lose the characters that could open a tag ([`plain`]).

use super::options::{CueCardOptions, Field};
use crate::clients::cloudtalk_platform::CueCard;
use crate::clients::ghl::GhlNote;

/// The longest note a card quotes, in characters.
pub const NOTE_CHARS: usize = 280;
/// The most open opportunities a card lists.
pub const MAX_OPPORTUNITIES: usize = 3;
/// The longest title or subtitle, in characters.
const TITLE_CHARS: usize = 80;
/// What starts the note the bridge writes for a call that starts: never the "last note".
const CALL_STARTED_NOTE: &str = "[CloudTalk] Call started";

/// An open opportunity of the contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenOpportunity {
    pub name: Option<String>,
    pub pipeline: Option<String>,
    pub stage: Option<String>,
    /// In the location's currency.
    pub value: Option<f64>,
}

/// What a card shows of a GHL contact (each part only when the options show it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    pub name: Option<String>,
    /// The contact in GoHighLevel's app.
    pub url: String,
    /// The owner's name (its user id when the name is unknown).
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub opportunities: Vec<OpenOpportunity>,
    /// The last note, trimmed to [`NOTE_CHARS`].
    pub last_note: Option<String>,
    /// Do Not Disturb on every channel.
    pub dnd_all: bool,
    /// The channels barred (`SMS`, `Call`, …).
    pub dnd_channels: Vec<String>,
}

/// `text` safe inside HTML text and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` for a title: one line, without `<` or `>`, at most [`TITLE_CHARS`] characters.
pub fn plain(text: &str) -> String {
    let kept: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| !matches!(c, '<' | '>'))
        .collect();
    shorten(&collapse(&kept), TITLE_CHARS)
}

/// Whitespace runs as one space, trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `most` characters of `text`, with `…` when there was more.
fn shorten(text: &str, most: usize) -> String {
    match text.char_indices().nth(most) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_string(),
    }
}

/// The contact's last note, trimmed: the latest by `dateAdded` (the last listed when GHL gives
/// no dates), leaving out the bridge's own notes of calls that start and empty notes.
pub fn last_note(notes: &[GhlNote]) -> Option<String> {
    notes
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.body.trim().is_empty())
        .filter(|(_, n)| !n.body.trim_start().starts_with(CALL_STARTED_NOTE))
        .max_by(|(i, a), (j, b)| a.date_added.cmp(&b.date_added).then(i.cmp(j)))
        .map(|(_, n)| shorten(&collapse(&n.body), NOTE_CHARS))
}

/// An amount as people write it: `1,200`, `1,234.50`.
pub fn amount(value: f64) -> String {
    let cents = (value.abs() * 100.0).round() as u64;
    let (whole, part) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if value < 0.0 && cents > 0 { "-" } else { "" };
    match part {
        0 => format!("{sign}{grouped}"),
        p => format!("{sign}{grouped}.{p:02}"),
    }
}

/// A link that opens in a new tab; only `http(s)` addresses are linked.
fn link(url: &str, text: &str) -> String {
    match url.starts_with("https://") || url.starts_with("http://") {
        true => format!(
            r#"<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>"#,
            escape(url),
            escape(text)
        ),
        false => escape(text),
    }
}

fn opportunity_line(o: &OpenOpportunity) -> String {
    let mut parts = vec![format!(
        "<b>{}</b>",
        escape(o.name.as_deref().unwrap_or("Opportunity"))
    )];
    let place: Vec<&str> = [o.pipeline.as_deref(), o.stage.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !place.is_empty() {
        parts.push(escape(&place.join(" › ")));
    }
    if let Some(value) = o.value {
        parts.push(escape(&amount(value)));
    }
    format!("<li>{}</li>", parts.join(" · "))
}

/// The HTML of one field, when it has something to say.
fn field_html(field: Field, c: &Known) -> Option<String> {
    let line = |label: &str, text: &str| format!("<p><b>{label}:</b> {}</p>", escape(text));
    match field {
        Field::Owner => c.owner.as_deref().map(|o| line("Owner", o)),
        Field::Tags => (!c.tags.is_empty()).then(|| line("Tags", &c.tags.join(", "))),
        Field::Opportunities if c.opportunities.is_empty() => {
            Some("<p><b>Open opportunities:</b> none</p>".to_string())
        }
        Field::Opportunities => {
            let shown = c.opportunities.iter().take(MAX_OPPORTUNITIES);
            let items: String = shown.map(opportunity_line).collect();
            Some(format!("<p><b>Open opportunities:</b></p><ul>{items}</ul>"))
        }
        Field::Note => c.last_note.as_deref().map(|n| line("Last note", n)),
        Field::Dnd if c.dnd_all => Some(line("Do not disturb", "every channel")),
        Field::Dnd => {
            (!c.dnd_channels.is_empty()).then(|| line("Do not disturb", &c.dnd_channels.join(", ")))
        }
    }
}

/// The card of a contact GoHighLevel knows, for call `call_uuid`.
pub fn known(call_uuid: &str, c: &Known, options: &CueCardOptions) -> CueCard {
    let mut content = format!("<p>{}</p>", link(&c.url, "Open in GoHighLevel"));
    for field in &options.fields {
        content.extend(field_html(*field, c));
    }
    let owner = c.owner.as_deref().filter(|_| options.shows(Field::Owner));
    let subtitle = match owner {
        Some(owner) => format!("GoHighLevel contact · owner {owner}"),
        None => "GoHighLevel contact".to_string(),
    };
    let name = c.name.as_deref().map(plain).filter(|n| !n.is_empty());
    CueCard {
        call_uuid: call_uuid.to_string(),
        kind: "html",
        title: name.unwrap_or_else(|| "Unnamed GoHighLevel contact".to_string()),
        subtitle: Some(plain(&subtitle)),
        icon_url: None,
        content,
    }
}

/// The card of a number GoHighLevel has no contact for: it says so, and where to add the
/// caller's details (the bridge writes nothing for the card; the call's note creates the
/// contact).
pub fn unknown(call_uuid: &str, number: Option<&str>, contacts_url: &str) -> CueCard {
    let who = match number {
        Some(n) => format!("<b>{}</b>", escape(n)),
        None => "this caller".to_string(),
    };
    let content = format!(
        "<p>GoHighLevel has no contact for {who}.</p><p>Create in GoHighLevel: the call's note \
         adds the caller as a new contact (source CloudTalk); fill in their details in {}.</p>",
        link(contacts_url, "GoHighLevel's contacts")
    );
    CueCard {
        call_uuid: call_uuid.to_string(),
        kind: "html",
        title: "Not in GoHighLevel".to_string(),
        subtitle: number.map(plain),
        icon_url: None,
        content,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("Mario Rossi"), "Mario Rossi");
        assert_eq!(plain("<b>Mario</b>\n Rossi"), "bMario/b Rossi");
    }

    #[test]
    fn amounts_notes_and_titles_are_short_and_readable() {
        assert_eq!(amount(1200.0), "1,200");
        assert_eq!(amount(1234.5), "1,234.50");
        assert_eq!(amount(999.999), "1,000");
        assert_eq!(amount(-50.0), "-50");
        assert_eq!(amount(1_000_000.0), "1,000,000");
        let long = "x".repeat(NOTE_CHARS + 5);
        let note = |id: &str, body: &str, at: Option<&str>| GhlNote {
            id: id.into(),
            body: body.into(),
            date_added: at.map(str::to_string),
        };
        let notes = vec![
            note("1", "older", Some("2026-11-01T10:00:00Z")),
            note("2", &long, Some("2026-11-20T10:00:00Z")),
            note(
                "3",
                "[CloudTalk] Call started - x",
                Some("2026-11-30T10:00:00Z"),
            ),
            note("4", "  ", Some("2026-12-01T10:00:00Z")),
        ];
        let last = last_note(&notes).unwrap();
        assert_eq!(last.chars().count(), NOTE_CHARS + 1);
        assert!(last.ends_with('…'));
        assert_eq!(last_note(&notes[..1]).as_deref(), Some("older"));
        assert_eq!(last_note(&[]), None);
    }

    #[test]
    fn a_card_shows_the_fields_asked_for() {
        let contact = Known {
            name: Some("Mario <Rossi>".into()),
            url: "https://app.example.com/v2/location/l/contacts/detail/c".into(),
            owner: Some("Anna Verdi".into()),
            tags: vec!["vip".into(), "<i>lead</i>".into()],
            opportunities: vec![OpenOpportunity {
                name: Some("Website".into()),
                pipeline: Some("Sales".into()),
                stage: Some("Proposal".into()),
                value: Some(1200.0),
            }],
            last_note: Some("Call back <after> 5".into()),
            dnd_all: false,
            dnd_channels: vec!["SMS".into()],
        };
        let all = known("u-1", &contact, &CueCardOptions::default());
        assert_eq!(all.title, "Mario Rossi");
        assert_eq!(
            all.subtitle.as_deref(),
            Some("GoHighLevel contact · owner Anna Verdi")
        );
        for part in [
            r#"<a href="https://app.example.com/v2/location/l/contacts/detail/c""#,
            "<p><b>Owner:</b> Anna Verdi</p>",
            "<p><b>Tags:</b> vip, &lt;i&gt;lead&lt;/i&gt;</p>",
            "<li><b>Website</b> · Sales › Proposal · 1,200</li>",
            "<p><b>Last note:</b> Call back &lt;after&gt; 5</p>",
            "<p><b>Do not disturb:</b> SMS</p>",
        ] {
            assert!(all.content.contains(part), "{part} in {}", all.content);
        }
        let few = known("u-1", &contact, &CueCardOptions::parse("tags").unwrap());
        assert!(few.content.contains("Tags") && !few.content.contains("Owner"));
        assert_eq!(few.subtitle.as_deref(), Some("GoHighLevel contact"));
        let none = unknown("u-2", Some("+393331234567"), "javascript:alert(1)");
        assert_eq!(none.title, "Not in GoHighLevel");
        assert!(none.content.contains("<b>+393331234567</b>"));
        assert!(!none.content.contains("javascript"), "{}", none.content);
    }
}
