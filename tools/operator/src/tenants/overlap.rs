//! `--overlap`: how long a webhook secret a rotation replaces stays accepted.

/// The overlap when none is given.
pub const DEFAULT_OVERLAP: &str = "24h";

/// The longest overlap: a replaced secret kept for months would defeat the rotation.
pub const MAX_OVERLAP_SECS: i64 = 30 * 86_400;

/// How long a replaced webhook secret stays accepted: `24h`, `90m`, `1h30m`, `45s`, `7d`, or `0`
/// (retired at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap {
    secs: i64,
}

impl Default for Overlap {
    fn default() -> Self {
        Overlap { secs: 24 * 3600 }
    }
}

impl Overlap {
    pub fn from_secs(secs: i64) -> Self {
        Overlap { secs: secs.max(0) }
    }

    pub fn secs(self) -> i64 {
        self.secs
    }

    pub fn ms(self) -> i64 {
        self.secs.saturating_mul(1000)
    }

    /// `24h`, `90m`, `1h30m`, `45s`, `7d` (units may be combined, largest first), or `0`; at
    /// most [`MAX_OVERLAP_SECS`].
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim().to_ascii_lowercase();
        if text == "0" {
            return Ok(Overlap { secs: 0 });
        }
        let wrong = || format!("{text:?} is not a duration: say 24h, 90m, 1h30m, 45s, 7d or 0");
        let (mut secs, mut number, mut last_unit) = (0i64, String::new(), i64::MAX);
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit = match c {
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                's' => 1,
                _ => return Err(wrong()),
            };
            let n: i64 = number.parse().map_err(|_| wrong())?;
            if unit >= last_unit {
                return Err(wrong());
            }
            secs = n
                .checked_mul(unit)
                .and_then(|v| secs.checked_add(v))
                .ok_or_else(wrong)?;
            (number, last_unit) = (String::new(), unit);
        }
        if !number.is_empty() || last_unit == i64::MAX {
            return Err(wrong());
        }
        if secs > MAX_OVERLAP_SECS {
            return Err(format!("{text} is longer than the longest overlap, 30d"));
        }
        Ok(Overlap { secs })
    }
}

impl std::fmt::Display for Overlap {
    /// `24h`, `1h30m`, `45s`, `0`; whole days beyond one as days (`7d`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.secs {
            0 => return f.write_str("0"),
            s if s > 86_400 && s % 86_400 == 0 => return write!(f, "{}d", s / 86_400),
            _ => {}
        }
        let mut rest = self.secs;
        for (unit, name) in [(3_600, "h"), (60, "m"), (1, "s")] {
            if rest >= unit {
                write!(f, "{}{name}", rest / unit)?;
                rest %= unit;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_people_write_them() {
        let secs = |t: &str| Overlap::parse(t).map(Overlap::secs);
        assert_eq!(secs("24h"), Ok(86_400));
        assert_eq!(secs("90m"), Ok(5_400));
        assert_eq!(secs("1h30m"), Ok(5_400));
        assert_eq!(secs(" 45S "), Ok(45));
        assert_eq!(secs("7d"), Ok(7 * 86_400));
        assert_eq!(secs("0"), Ok(0));
        assert_eq!(secs("0h"), Ok(0));
        assert_eq!(secs("30d"), Ok(MAX_OVERLAP_SECS));
        for wrong in [
            "", "24", "h", "-1h", "1.5h", "30m1h", "1h1h", "2w", "31d", "1h 30m",
        ] {
            assert!(Overlap::parse(wrong).is_err(), "{wrong:?}");
        }
        assert_eq!(Overlap::default().to_string(), DEFAULT_OVERLAP);
        assert_eq!(Overlap::parse(DEFAULT_OVERLAP), Ok(Overlap::default()));
        assert_eq!(Overlap::from_secs(5_400).to_string(), "1h30m");
        assert_eq!(Overlap::from_secs(90_061).to_string(), "25h1m1s");
        assert_eq!(Overlap::from_secs(7 * 86_400).to_string(), "7d");
        assert_eq!(Overlap::from_secs(0).to_string(), "0");
    }
}
