//! What speed to lead will never dial, and why: each rule that can stop a dial, by name, with
//! the sentence the lead's note gives. Pure: the facts (GHL's record, CloudTalk's blacklist,
//! the counters) are read by the dial job ([`crate::handlers::ghl::speed_to_lead`]).

use std::str::FromStr;

use phonenumber::metadata::DATABASE;
use phonenumber::Type;

/// A rule that stopped a dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// GHL does not hold the contact (404): nothing is written about it.
    NotInGhl,
    /// GHL holds the contact in another location than the tenant's.
    OtherLocation,
    /// GHL holds no number for the contact that can be read.
    NoPhone,
    /// GHL's `dnd`: the contact takes nothing on any channel.
    Dnd,
    /// GHL's `dndSettings.Call` is `active` or `permanent`.
    DndCall,
    /// The number is on the CloudTalk company's blacklist for outgoing calls.
    Blacklisted,
    /// The number is not a mobile or a fixed line (premium rate, toll free, …): its type.
    NumberType(&'static str),
    /// The number's country is not one speed to lead dials: the country, when known.
    Country(String),
    /// The tenant's dials of this hour are at `SPEED_TO_LEAD_MAX_PER_HOUR`.
    TenantHourCap(u32),
    /// The number's dials of this day are at `SPEED_TO_LEAD_MAX_PER_NUMBER_PER_DAY`.
    NumberDayCap(u32),
}

impl Rule {
    /// The rule's name in logs, answers, metrics and `bridge status`.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::NotInGhl => "not_in_ghl",
            Rule::OtherLocation => "other_location",
            Rule::NoPhone => "no_phone",
            Rule::Dnd => "dnd",
            Rule::DndCall => "dnd_call",
            Rule::Blacklisted => "blacklisted",
            Rule::NumberType(_) => "number_type",
            Rule::Country(_) => "country",
            Rule::TenantHourCap(_) => "cap_per_hour",
            Rule::NumberDayCap(_) => "cap_per_number",
        }
    }

    /// Whether the rule is one of the caps (a burst the alarm watches).
    pub fn is_cap(&self) -> bool {
        matches!(self, Rule::TenantHourCap(_) | Rule::NumberDayCap(_))
    }

    /// Whether the lead is real and in this tenant's GHL, so that a note can say why.
    pub fn lead_exists(&self) -> bool {
        !matches!(self, Rule::NotInGhl | Rule::OtherLocation)
    }

    /// Whether the owner gets a task to call the lead by hand: only when the bridge's own
    /// limit stopped the dial, never when the person or the number must not be called.
    pub fn opens_task(&self) -> bool {
        matches!(self, Rule::TenantHourCap(_))
    }

    /// The sentence of the lead's note.
    pub fn why(&self) -> String {
        match self {
            Rule::NotInGhl => "GHL does not hold this contact.".into(),
            Rule::OtherLocation => "the contact belongs to another GHL location.".into(),
            Rule::NoPhone => {
                "GHL holds no phone number for this contact that can be dialled.".into()
            }
            Rule::Dnd => "the contact is on Do Not Disturb in GHL.".into(),
            Rule::DndCall => "the contact has Do Not Disturb for calls in GHL.".into(),
            Rule::Blacklisted => {
                "the number is on the CloudTalk blacklist for outgoing calls.".into()
            }
            Rule::NumberType(kind) => format!(
                "the number is {kind}; speed to lead dials only mobile and fixed-line numbers."
            ),
            Rule::Country(country) => format!(
                "the number is in {country}, not in a country speed to lead dials \
                 (SPEED_TO_LEAD_COUNTRIES)."
            ),
            Rule::TenantHourCap(limit) => format!(
                "speed to lead already dialled {limit} leads this hour, its limit \
                 (SPEED_TO_LEAD_MAX_PER_HOUR); call this lead by hand."
            ),
            Rule::NumberDayCap(limit) => format!(
                "this number was already dialled {limit} times today, the limit \
                 (SPEED_TO_LEAD_MAX_PER_NUMBER_PER_DAY)."
            ),
        }
    }
}

/// Whether `e164` may be dialled: a mobile or fixed line (or either, where the two cannot be
/// told apart) in one of `countries` (ISO 3166 alpha-2, upper case). Premium rate, shared
/// cost, toll free, UAN, voicemail access, personal, VoIP, pager and unknown types are refused.
pub fn destination(e164: &str, countries: &[String]) -> Result<(), Rule> {
    let (region, kind) = classify(e164);
    let refused = match kind {
        Type::Mobile | Type::FixedLine | Type::FixedLineOrMobile => None,
        Type::PremiumRate => Some("a premium-rate number"),
        Type::SharedCost => Some("a shared-cost number"),
        Type::TollFree => Some("a toll-free number"),
        Type::Uan => Some("a universal access number"),
        Type::Voicemail => Some("a voicemail access number"),
        Type::PersonalNumber => Some("a personal (forwarding) number"),
        Type::Voip => Some("a VoIP number"),
        Type::Pager => Some("a pager number"),
        _ => Some("a number of unknown type"),
    };
    if let Some(kind) = refused {
        return Err(Rule::NumberType(kind));
    }
    match region {
        Some(region) if countries.contains(&region) => Ok(()),
        Some(region) => Err(Rule::Country(region)),
        None => Err(Rule::Country("an unknown country".into())),
    }
}

/// The region (ISO 3166 alpha-2) and type of an E.164 number, as libphonenumber decides them:
/// of the regions sharing the country code, the first whose leading digits match, else the
/// first for which the number has a type. The national number keeps its leading zeros (an
/// Italian fixed line is `02…`), which the `phonenumber` crate's own `number_type` drops.
fn classify(e164: &str) -> (Option<String>, Type) {
    let Ok(number) = phonenumber::PhoneNumber::from_str(e164) else {
        return (None, Type::Unknown);
    };
    let national = number.national().to_string();
    let regions = DATABASE.region(&number.code().value()).unwrap_or_default();
    let shared = regions.len() > 1;
    for id in regions {
        let Some(meta) = DATABASE.by_id(id) else {
            continue;
        };
        let kind = kind_of(meta, &national);
        let leading = meta.leading_digits().filter(|_| shared);
        let chosen = match leading {
            Some(pattern) => pattern.find(&national).is_some_and(|m| m.start() == 0),
            None => kind != Type::Unknown,
        };
        if chosen {
            return (Some(id.to_ascii_uppercase()), kind);
        }
    }
    (None, Type::Unknown)
}

/// libphonenumber's `getNumberType` for one region's metadata.
fn kind_of(meta: &phonenumber::Metadata, national: &str) -> Type {
    let descriptors = meta.descriptors();
    if !descriptors.general().is_match(national) {
        return Type::Unknown;
    }
    let special = [
        Type::PremiumRate,
        Type::TollFree,
        Type::SharedCost,
        Type::Voip,
        Type::PersonalNumber,
        Type::Pager,
        Type::Uan,
        Type::Voicemail,
    ];
    let matches = |kind: Type| descriptors.get(kind).is_some_and(|d| d.is_match(national));
    if let Some(kind) = special.into_iter().find(|k| matches(*k)) {
        return kind;
    }
    match (matches(Type::FixedLine), matches(Type::Mobile)) {
        (true, true) => Type::FixedLineOrMobile,
        (true, false) => Type::FixedLine,
        (false, true) => Type::Mobile,
        (false, false) => Type::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it() -> Vec<String> {
        vec!["IT".to_string()]
    }

    #[test]
    fn mobiles_and_fixed_lines_of_the_allowed_countries_pass() {
        assert_eq!(destination("+393501234567", &it()), Ok(()));
        assert_eq!(destination("+390212345678", &it()), Ok(()));
        assert_eq!(destination("+393331234567", &it()), Ok(()));
        let us = vec!["US".to_string()];
        assert_eq!(destination("+14155552671", &us), Ok(()));
        assert_eq!(classify("+390212345678").1, Type::FixedLine);
        assert_eq!(classify("+393501234567").1, Type::Mobile);
        let gb = vec!["GB".to_string()];
        assert_eq!(destination("+447400123456", &gb), Ok(()));
    }

    #[test]
    fn costly_and_odd_numbers_are_refused_with_their_type() {
        let us = vec!["US".to_string()];
        let refused = |n: &str, allowed: &[String]| destination(n, allowed).unwrap_err();
        assert_eq!(
            refused("+19002345678", &us),
            Rule::NumberType("a premium-rate number")
        );
        assert_eq!(
            refused("+18002345678", &us),
            Rule::NumberType("a toll-free number")
        );
        assert_eq!(
            refused("+39892123456", &it()),
            Rule::NumberType("a premium-rate number")
        );
        assert!(matches!(refused("+3912", &it()), Rule::NumberType(_)));
    }

    #[test]
    fn another_country_is_refused_naming_it() {
        assert_eq!(
            destination("+14155552671", &it()),
            Err(Rule::Country("US".into()))
        );
        assert_eq!(
            destination("+447400123456", &[]),
            Err(Rule::Country("GB".into()))
        );
        let both = vec!["IT".to_string(), "GB".to_string()];
        assert_eq!(destination("+447400123456", &both), Ok(()));
    }

    #[test]
    fn every_rule_has_a_name_and_a_reason() {
        let all = [
            Rule::NotInGhl,
            Rule::OtherLocation,
            Rule::NoPhone,
            Rule::Dnd,
            Rule::DndCall,
            Rule::Blacklisted,
            Rule::NumberType("a toll-free number"),
            Rule::Country("US".into()),
            Rule::TenantHourCap(60),
            Rule::NumberDayCap(2),
        ];
        let names: std::collections::BTreeSet<&str> = all.iter().map(Rule::name).collect();
        assert_eq!(names.len(), all.len());
        assert!(all.iter().all(|r| r.why().ends_with('.')));
        assert!(all.iter().filter(|r| r.is_cap()).count() == 2);
        assert!(!Rule::NotInGhl.lead_exists() && Rule::Dnd.lead_exists());
    }
}
