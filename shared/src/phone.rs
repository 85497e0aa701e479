//! Phone numbers normalised to E.164 with libphonenumber's metadata (the `phonenumber` crate).
//!
//! GoHighLevel sends `+39 350 123 4567` or national numbers; CloudTalk sends `393513416607` as a
//! JSON number without the `+`. Everything is compared and stored as `+393513416607`.

use std::str::FromStr;

use phonenumber::{country, Mode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{masked}' is not a valid phone number")]
pub struct InvalidPhone {
    /// The input with all but its last three digits hidden, safe to log and return.
    pub masked: String,
}

/// Normalises `raw` to E.164. National numbers use `default_region` (ISO 3166 alpha-2, e.g. "IT").
/// A bare digit string that is not valid nationally is tried as an international number, since
/// CloudTalk sends international numbers without the `+`.
pub fn to_e164(raw: &str, default_region: Option<&str>) -> Result<String, InvalidPhone> {
    let invalid = || InvalidPhone {
        masked: crate::telemetry::mask_phone(raw),
    };
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '-' | '.' | '/'))
        .collect();
    if cleaned.is_empty() || cleaned.len() > 40 {
        return Err(invalid());
    }
    let cleaned = match cleaned.strip_prefix("00") {
        Some(rest) if rest.chars().all(|c| c.is_ascii_digit()) => format!("+{rest}"),
        _ => cleaned,
    };
    let region = default_region.and_then(|r| country::Id::from_str(&r.trim().to_uppercase()).ok());
    let parse = |text: &str, region: Option<country::Id>| {
        phonenumber::parse(region, text)
            .ok()
            .filter(|n| n.is_valid())
            .map(|n| n.format().mode(Mode::E164).to_string())
    };
    if cleaned.starts_with('+') {
        return parse(&cleaned, None).ok_or_else(invalid);
    }
    if !cleaned.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    parse(&cleaned, region)
        .or_else(|| parse(&format!("+{cleaned}"), None))
        .ok_or_else(invalid)
}

/// True when two numbers are the same line once normalised.
pub fn same_number(a: &str, b: &str, default_region: Option<&str>) -> bool {
    match (to_e164(a, default_region), to_e164(b, default_region)) {
        (Ok(x), Ok(y)) => x == y,
        _ => {
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            let (da, db) = (digits(a), digits(b));
            !da.is_empty() && da == db
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn international_forms() {
        assert_eq!(to_e164("+393501234567", None).unwrap(), "+393501234567");
        assert_eq!(to_e164("+39 350 123 4567", None).unwrap(), "+393501234567");
        assert_eq!(to_e164("0039 350 1234567", None).unwrap(), "+393501234567");
        assert_eq!(to_e164("+1 (415) 555-2671", None).unwrap(), "+14155552671");
    }

    #[test]
    fn cloudtalk_digits_without_plus() {
        assert_eq!(to_e164("393513416607", None).unwrap(), "+393513416607");
        assert_eq!(
            to_e164("393513416607", Some("US")).unwrap(),
            "+393513416607"
        );
    }

    #[test]
    fn national_numbers_use_the_default_region() {
        assert_eq!(
            to_e164("350 123 4567", Some("IT")).unwrap(),
            "+393501234567"
        );
        assert_eq!(
            to_e164("(415) 555-2671", Some("us")).unwrap(),
            "+14155552671"
        );
    }

    #[test]
    fn garbage_is_rejected_and_masked() {
        let err = to_e164("not a phone 1234", Some("IT")).unwrap_err();
        assert_eq!(err.masked, "…234");
        assert!(to_e164("", None).is_err());
        assert!(to_e164("12", Some("IT")).is_err());
        assert!(to_e164(&"9".repeat(60), None).is_err());
    }

    #[test]
    fn same_number_compares_normalised() {
        assert!(same_number("393513416607", "+39 351 341 6607", None));
        assert!(!same_number("+393513416607", "+393513416608", None));
    }
}
