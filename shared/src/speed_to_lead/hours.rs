//! Business hours in a time zone: `mon-fri 09:00-18:00; sat 10:00-13:00` in `Europe/Rome`.

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

use super::zone::Zone;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One opening: on some weekdays, from `start` to `end` (minutes of the local day).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    /// Monday first.
    days: [bool; 7],
    start: u32,
    end: u32,
}

/// When dials may ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    zone: Zone,
    windows: Vec<Window>,
}

fn day(text: &str) -> Result<usize, String> {
    let text = text.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|d| text.starts_with(d) && d.len() <= text.len())
        .ok_or_else(|| format!("{text:?} is not a day (mon … sun)"))
}

fn days(text: &str) -> Result<[bool; 7], String> {
    let mut set = [false; 7];
    for part in text.split(',') {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from)?, day(to)?);
                let mut d = from;
                loop {
                    set[d] = true;
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => set[day(part)?] = true,
        }
    }
    Ok(set)
}

fn minute(text: &str) -> Result<u32, String> {
    let time = if text.trim() == "24:00" {
        return Ok(24 * 60);
    } else {
        NaiveTime::parse_from_str(text.trim(), "%H:%M")
            .map_err(|_| format!("{text:?} is not a time (HH:MM)"))?
    };
    Ok(time.hour() * 60 + time.minute())
}

fn window(text: &str) -> Result<Window, String> {
    let (days_text, times) = text
        .trim()
        .split_once(' ')
        .ok_or_else(|| format!("{text:?}: expected days and hours, like mon-fri 09:00-18:00"))?;
    let (start, end) = times
        .trim()
        .split_once('-')
        .ok_or_else(|| format!("{text:?}: expected hours like 09:00-18:00"))?;
    let (start, end) = (minute(start)?, minute(end)?);
    if start >= end {
        return Err(format!(
            "{text:?}: the opening must come before the closing"
        ));
    }
    Ok(Window {
        days: days(days_text)?,
        start,
        end,
    })
}

impl BusinessHours {
    /// Reads `spec` (windows separated by `;`) in the IANA time zone `zone`.
    pub fn parse(spec: &str, zone: &str) -> Result<Self, String> {
        let zone = Zone::named(zone)
            .ok_or_else(|| format!("{zone:?} is not an IANA time zone (e.g. Europe/Rome)"))?;
        let windows = spec
            .split(';')
            .filter(|w| !w.trim().is_empty())
            .map(window)
            .collect::<Result<Vec<_>, _>>()?;
        if windows.is_empty() {
            return Err("no opening hours".to_string());
        }
        Ok(Self { zone, windows })
    }

    /// The time zone's name.
    pub fn zone(&self) -> &str {
        self.zone.name()
    }

    /// Epoch ms of a local date and minute of the day (the later instant when the clocks go
    /// back, the first valid one after a gap when they go forward).
    fn instant(&self, date: NaiveDate, minute_of_day: u32) -> Option<i64> {
        let mut naive =
            date.and_hms_opt(0, 0, 0)? + chrono::Duration::minutes(minute_of_day.into());
        for _ in 0..4 {
            if let Some(t) = self.zone.earliest_utc_ms(naive) {
                return Some(t);
            }
            naive += chrono::Duration::minutes(30);
        }
        None
    }

    /// The first moment at or after `now_ms` when dials may ring: `now_ms` while open.
    pub fn next_opening_ms(&self, now_ms: i64) -> Option<i64> {
        let today = self.zone.local(now_ms)?.date();
        for offset in 0..=7 {
            let date = today + chrono::Duration::days(offset);
            let weekday = date.weekday().num_days_from_monday() as usize;
            let mut earliest: Option<i64> = None;
            for w in self.windows.iter().filter(|w| w.days[weekday]) {
                let (Some(open), Some(close)) =
                    (self.instant(date, w.start), self.instant(date, w.end))
                else {
                    continue;
                };
                if open <= now_ms && now_ms < close {
                    return Some(now_ms);
                }
                if open > now_ms {
                    earliest = Some(earliest.map_or(open, |e| e.min(open)));
                }
            }
            if earliest.is_some() {
                return earliest;
            }
        }
        None
    }

    pub fn is_open(&self, now_ms: i64) -> bool {
        self.next_opening_ms(now_ms) == Some(now_ms)
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

    #[test]
    fn open_inside_closed_outside_and_the_next_opening() {
        let hours =
            BusinessHours::parse("mon-fri 09:00-18:00; sat 10:00-13:00", "Europe/Rome").unwrap();
        // Friday 4 December 2026, 10:00 in Rome (UTC+1).
        assert!(hours.is_open(ms("2026-12-04T09:00:00Z")));
        // Friday 18:30 in Rome: Saturday 10:00 is next.
        let friday_evening = ms("2026-12-04T17:30:00Z");
        assert!(!hours.is_open(friday_evening));
        assert_eq!(
            hours.next_opening_ms(friday_evening),
            Some(ms("2026-12-05T09:00:00Z"))
        );
        // Saturday 14:00: Monday 09:00.
        assert_eq!(
            hours.next_opening_ms(ms("2026-12-05T13:00:00Z")),
            Some(ms("2026-12-07T08:00:00Z"))
        );
        // Early on a weekday: the same day's opening.
        assert_eq!(
            hours.next_opening_ms(ms("2026-12-07T05:00:00Z")),
            Some(ms("2026-12-07T08:00:00Z"))
        );
    }

    #[test]
    fn summer_time_moves_the_opening_in_utc() {
        let hours = BusinessHours::parse("mon-sun 09:00-17:00", "Europe/Rome").unwrap();
        assert_eq!(
            hours.next_opening_ms(ms("2026-07-01T05:00:00Z")),
            Some(ms("2026-07-01T07:00:00Z"))
        );
    }

    #[test]
    fn wrapping_day_ranges_and_bad_specs() {
        let hours = BusinessHours::parse("sat-mon 00:00-24:00", "UTC").unwrap();
        assert!(hours.is_open(ms("2026-12-06T12:00:00Z")), "a Sunday");
        assert!(!hours.is_open(ms("2026-12-08T12:00:00Z")), "a Tuesday");
        for bad in [
            "",
            "weekdays",
            "mon 18:00-09:00",
            "mon 9-5",
            "xyz 09:00-10:00",
        ] {
            assert!(BusinessHours::parse(bad, "UTC").is_err(), "{bad:?}");
        }
    }
}
