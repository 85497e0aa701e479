//! CloudTalk's call history speaks the company's local time, `YYYY-MM-DD HH:MM:SS`, with no
//! zone. The bridge keeps UTC milliseconds and converts at the edge with the company's offset
//! from UTC (`CLOUDTALK_UTC_OFFSET`, e.g. `+01:00`; UTC by default). The reconciliation
//! window overlaps the last one, so an offset that moved by an hour (daylight saving) costs
//! re-reads, never a missed call.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

/// CloudTalk's date format.
const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A UTC offset as `+HH:MM`, `-HH:MM`, `+HHMM`, `Z` or `UTC`; `None` when unreadable.
pub fn parse_offset(text: &str) -> Option<FixedOffset> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    if hours > 14 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// The company's offset as configured (`CLOUDTALK_UTC_OFFSET`): UTC when unset or unreadable.
pub fn offset(configured: Option<&str>) -> FixedOffset {
    configured
        .and_then(parse_offset)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero is a valid offset"))
}

/// `ms` (UTC) as the company's local time.
pub fn format(ms: i64, offset: FixedOffset) -> String {
    let utc = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    utc.with_timezone(&offset).format(FORMAT).to_string()
}

/// A time CloudTalk gave, as UTC milliseconds: its own format in the company's time, or an
/// RFC 3339 time with its zone.
pub fn parse(text: &str, offset: FixedOffset) -> Option<i64> {
    let t = text.trim();
    if let Ok(with_zone) = DateTime::parse_from_rfc3339(t) {
        return Some(with_zone.timestamp_millis());
    }
    let local = NaiveDateTime::parse_from_str(t, FORMAT).ok()?;
    let at = offset.from_local_datetime(&local).single()?;
    Some(at.timestamp_millis())
}

pub use crate::clock::rfc3339;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_read_in_every_usual_form() {
        assert_eq!(parse_offset("+01:00").unwrap().local_minus_utc(), 3600);
        assert_eq!(parse_offset("-0530").unwrap().local_minus_utc(), -19800);
        assert_eq!(parse_offset("UTC").unwrap().local_minus_utc(), 0);
        assert_eq!(parse_offset("").unwrap().local_minus_utc(), 0);
        for bad in ["01:00", "+1", "+25:00", "Europe/Rome", "+01:60"] {
            assert!(parse_offset(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn company_time_round_trips_across_midnight_and_zones() {
        // 2026-12-01T23:30:00Z
        let ms = 1_796_167_800_000;
        let rome = parse_offset("+01:00").unwrap();
        let new_york = parse_offset("-05:00").unwrap();
        assert_eq!(format(ms, rome), "2026-12-02 00:30:00");
        assert_eq!(format(ms, new_york), "2026-12-01 18:30:00");
        assert_eq!(parse("2026-12-02 00:30:00", rome), Some(ms));
        assert_eq!(parse("2026-12-01 18:30:00", new_york), Some(ms));
        assert_eq!(
            parse("2026-12-01T23:30:00Z", rome),
            Some(ms),
            "a zoned time keeps its zone"
        );
        assert_eq!(parse("yesterday", rome), None);
        assert_eq!(rfc3339(ms), "2026-12-01T23:30:00Z");
    }
}
