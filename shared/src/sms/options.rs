//! What a deployment or a tenant asks of texts, read by one parse from named settings: the
//! deployment's environment (`SMS_*`) or a tenant's options (the same names).

use std::collections::BTreeMap;

use crate::phone::to_e164;

/// The setting names, as the environment and a tenant's options spell them.
pub mod name {
    pub const SENDER: &str = "SMS_SENDER_NUMBER";
    pub const PROVIDER: &str = "GHL_SMS_PROVIDER_ID";
    pub const MAX_PER_MINUTE: &str = "SMS_MAX_PER_MINUTE";
    pub const MAX_PER_NUMBER_PER_DAY: &str = "SMS_MAX_PER_NUMBER_PER_DAY";
    pub const STOP_WORDS: &str = "SMS_STOP_WORDS";
    pub const START_WORDS: &str = "SMS_START_WORDS";

    /// Every name, in the order the documentation lists them.
    pub const ALL: [&str; 6] = [
        SENDER,
        PROVIDER,
        MAX_PER_MINUTE,
        MAX_PER_NUMBER_PER_DAY,
        STOP_WORDS,
        START_WORDS,
    ];
}

/// The defaults (see [`SmsOptions`]).
pub mod default {
    pub const MAX_PER_MINUTE: u32 = 30;
    pub const MAX_PER_NUMBER_PER_DAY: u32 = 10;
    /// The opt-out words carriers honour (CTIA's list, and the usual European ones).
    pub const STOP_WORDS: &str = "STOP,STOPALL,UNSUBSCRIBE,CANCEL,END,QUIT,OPTOUT,REVOKE";
    pub const START_WORDS: &str = "START,UNSTOP,SUBSCRIBE";
}

/// Texts: CloudTalk numbers as GHL's SMS provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsOptions {
    /// The number texts are sent from (E.164, one of the CloudTalk account's), unless the GHL
    /// user who sends has an agent with a default number (`SMS_SENDER_NUMBER`).
    pub sender: Option<String>,
    /// The app's SMS conversation provider: received texts are added to GHL's conversations
    /// under it (`GHL_SMS_PROVIDER_ID`); without it they are not.
    pub provider_id: Option<String>,
    /// Texts sent per tenant per minute, counted across containers (`SMS_MAX_PER_MINUTE`, 30);
    /// the next wait for the next minute.
    pub max_per_minute: u32,
    /// Texts sent to one number per day (UTC) (`SMS_MAX_PER_NUMBER_PER_DAY`, 10); the next are
    /// reported failed.
    pub max_per_number_per_day: u32,
    /// A received text that is one of these words (upper case) sets the contact's SMS Do Not
    /// Disturb in GHL (`SMS_STOP_WORDS`).
    pub stop_words: Vec<String>,
    /// A received text that is one of these lifts it (`SMS_START_WORDS`).
    pub start_words: Vec<String>,
}

impl Default for SmsOptions {
    fn default() -> Self {
        Self {
            sender: None,
            provider_id: None,
            max_per_minute: default::MAX_PER_MINUTE,
            max_per_number_per_day: default::MAX_PER_NUMBER_PER_DAY,
            stop_words: words(default::STOP_WORDS),
            start_words: words(default::START_WORDS),
        }
    }
}

fn words(list: &str) -> Vec<String> {
    list.split(',')
        .map(|w| w.trim().to_uppercase())
        .filter(|w| !w.is_empty())
        .collect()
}

fn count(name: &str, value: &str) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "{name}: expected a whole number of at least 1, got {value:?}"
        )),
    }
}

impl SmsOptions {
    /// Reads the settings through `get` (a missing or empty one keeps its default).
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |n: &str| get(n).filter(|v| !v.trim().is_empty());
        let mut o = Self::default();
        if let Some(v) = get(name::SENDER) {
            let e164 = to_e164(v.trim(), None)
                .map_err(|e| format!("{}: not a number in E.164 ({e})", name::SENDER))?;
            o.sender = Some(e164);
        }
        o.provider_id = get(name::PROVIDER).map(|v| v.trim().to_string());
        if let Some(v) = get(name::MAX_PER_MINUTE) {
            o.max_per_minute = count(name::MAX_PER_MINUTE, &v)?;
        }
        if let Some(v) = get(name::MAX_PER_NUMBER_PER_DAY) {
            o.max_per_number_per_day = count(name::MAX_PER_NUMBER_PER_DAY, &v)?;
        }
        if let Some(v) = get(name::STOP_WORDS) {
            o.stop_words = words(&v);
        }
        if let Some(v) = get(name::START_WORDS) {
            o.start_words = words(&v);
        }
        Ok(o)
    }

    /// Reads a tenant's settings (name → value).
    pub fn from_settings(settings: &BTreeMap<String, String>) -> Result<Self, String> {
        Self::parse(|n| settings.get(n).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_and_checked() {
        let o = SmsOptions::parse(|n| match n {
            name::SENDER => Some("+44 20 3996 0000".into()),
            name::MAX_PER_MINUTE => Some("5".into()),
            name::STOP_WORDS => Some("stop, basta".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(o.sender.as_deref(), Some("+442039960000"));
        assert_eq!(o.max_per_minute, 5);
        assert_eq!(o.stop_words, ["STOP", "BASTA"]);
        assert_eq!(o.start_words, words(default::START_WORDS));
        let bad = SmsOptions::parse(|n| (n == name::MAX_PER_MINUTE).then(|| "0".into()));
        assert!(bad.unwrap_err().contains(name::MAX_PER_MINUTE));
        let bad = SmsOptions::parse(|n| (n == name::SENDER).then(|| "call me".into()));
        assert!(bad.unwrap_err().contains(name::SENDER));
    }
}
