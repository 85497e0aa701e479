//! What a deployment or a tenant asks of speed to lead, read by one parse from named settings:
//! the deployment's environment (`SPEED_TO_LEAD_*`) or a tenant's options (the same names).

use std::collections::BTreeMap;

use super::hours::BusinessHours;

/// The setting names, as the environment and a tenant's options spell them.
pub mod name {
    pub const ENABLED: &str = "SPEED_TO_LEAD";
    pub const ON_NEW_CONTACT: &str = "SPEED_TO_LEAD_ON_NEW_CONTACT";
    pub const TAG: &str = "SPEED_TO_LEAD_TAG";
    pub const EXCLUDE_SOURCES: &str = "SPEED_TO_LEAD_EXCLUDE_SOURCES";
    pub const EXCLUDE_TAGS: &str = "SPEED_TO_LEAD_EXCLUDE_TAGS";
    pub const AGENTS: &str = "SPEED_TO_LEAD_AGENTS";
    pub const HOURS: &str = "SPEED_TO_LEAD_HOURS";
    pub const TIME_ZONE: &str = "SPEED_TO_LEAD_TIME_ZONE";
    pub const AFTER_HOURS: &str = "SPEED_TO_LEAD_AFTER_HOURS";
    pub const WINDOW_MINUTES: &str = "SPEED_TO_LEAD_WINDOW_MINUTES";
    pub const RETRY_SECONDS: &str = "SPEED_TO_LEAD_RETRY_SECONDS";
    pub const MAX_PER_HOUR: &str = "SPEED_TO_LEAD_MAX_PER_HOUR";
    pub const MAX_PER_NUMBER_PER_DAY: &str = "SPEED_TO_LEAD_MAX_PER_NUMBER_PER_DAY";
    pub const MAX_ATTEMPTS: &str = "SPEED_TO_LEAD_MAX_ATTEMPTS";
    pub const HORIZON_HOURS: &str = "SPEED_TO_LEAD_HORIZON_HOURS";
    pub const COUNTRIES: &str = "SPEED_TO_LEAD_COUNTRIES";

    /// Every name, in the order the documentation lists them.
    pub const ALL: [&str; 16] = [
        ENABLED,
        ON_NEW_CONTACT,
        TAG,
        EXCLUDE_SOURCES,
        EXCLUDE_TAGS,
        AGENTS,
        HOURS,
        TIME_ZONE,
        AFTER_HOURS,
        WINDOW_MINUTES,
        RETRY_SECONDS,
        MAX_PER_HOUR,
        MAX_PER_NUMBER_PER_DAY,
        MAX_ATTEMPTS,
        HORIZON_HOURS,
        COUNTRIES,
    ];
}

/// The bounds' defaults (see [`SpeedToLeadOptions`]).
pub mod default {
    pub const MAX_PER_HOUR: u32 = 60;
    pub const MAX_PER_NUMBER_PER_DAY: u32 = 2;
    pub const MAX_ATTEMPTS: u32 = 3;
    pub const HORIZON_HOURS: u32 = 72;
}

/// Which agents may take a lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eligible {
    /// Every agent of the CloudTalk account (`all`, the default).
    All,
    /// Only the contact owner's agent, through the agent ↔ user map (`owner`).
    OwnerOnly,
    /// These agent ids (`42,43`).
    Listed(Vec<String>),
}

/// What happens to a lead that arrives outside business hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterHours {
    /// It waits on the retry queue for the opening time, then rings (`queue`, the default).
    Queue,
    /// A task for the owner ("call this lead") and a note; nothing rings (`task`).
    Task,
}

/// Speed to lead: a new GHL lead dialled at once through CloudTalk's click-to-call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeedToLeadOptions {
    /// Off unless asked for (`SPEED_TO_LEAD`).
    pub enabled: bool,
    /// A new contact starts a dial (`SPEED_TO_LEAD_ON_NEW_CONTACT`, on).
    pub on_new_contact: bool,
    /// A tag added to a contact starts a dial (`SPEED_TO_LEAD_TAG`, e.g. `call-now`).
    pub tag: Option<String>,
    /// Contacts from these sources are never dialled (lower case).
    pub exclude_sources: Vec<String>,
    /// Contacts with one of these tags are never dialled (lower case).
    pub exclude_tags: Vec<String>,
    pub eligible: Eligible,
    /// When dials may ring (`SPEED_TO_LEAD_HOURS` in `SPEED_TO_LEAD_TIME_ZONE`); none: always.
    pub hours: Option<BusinessHours>,
    pub after_hours: AfterHours,
    /// How long to keep trying when no agent is free (`SPEED_TO_LEAD_WINDOW_MINUTES`, 10).
    pub window_minutes: u32,
    /// The wait between tries when no agent is free (`SPEED_TO_LEAD_RETRY_SECONDS`, 30).
    pub retry_secs: u32,
    /// Leads dialled per tenant per hour, counted across containers
    /// (`SPEED_TO_LEAD_MAX_PER_HOUR`, 60); the next gets a task instead.
    pub max_per_hour: u32,
    /// Dial jobs per number per day (UTC), whatever triggered them
    /// (`SPEED_TO_LEAD_MAX_PER_NUMBER_PER_DAY`, 2).
    pub max_per_number_per_day: u32,
    /// Click-to-calls per job that count (every answer but "not online" and "already calling",
    /// a lost answer included) (`SPEED_TO_LEAD_MAX_ATTEMPTS`, 3); then a task.
    pub max_attempts: u32,
    /// A job ends with a task this long after its trigger, whatever it waits for
    /// (`SPEED_TO_LEAD_HORIZON_HOURS`, 72: a lead of Friday evening still rings on Monday
    /// morning).
    pub horizon_hours: u32,
    /// The countries whose numbers are dialled, ISO 3166 alpha-2 in upper case
    /// (`SPEED_TO_LEAD_COUNTRIES`); empty: the country of `DEFAULT_PHONE_REGION` only.
    pub countries: Vec<String>,
}

impl Default for SpeedToLeadOptions {
    fn default() -> Self {
        Self {
            enabled: false,
            on_new_contact: true,
            tag: None,
            exclude_sources: Vec::new(),
            exclude_tags: Vec::new(),
            eligible: Eligible::All,
            hours: None,
            after_hours: AfterHours::Queue,
            window_minutes: 10,
            retry_secs: 30,
            max_per_hour: default::MAX_PER_HOUR,
            max_per_number_per_day: default::MAX_PER_NUMBER_PER_DAY,
            max_attempts: default::MAX_ATTEMPTS,
            horizon_hours: default::HORIZON_HOURS,
            countries: Vec::new(),
        }
    }
}

fn switch(name: &str, value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "0" | "false" | "off" | "no" | "" => Ok(false),
        other => Err(format!("{name}: expected on or off, got {other:?}")),
    }
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|v| v.trim().to_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

fn bounded(name: &str, value: &str, range: std::ops::RangeInclusive<u32>) -> Result<u32, String> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "{name}: expected a whole number from {} to {}, got {value:?}",
                range.start(),
                range.end()
            )
        })
}

/// `IT, sm` → `["IT", "SM"]`; each must be a region libphonenumber knows.
fn countries(value: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for code in value.split(',').map(|c| c.trim().to_ascii_uppercase()) {
        if code.is_empty() {
            continue;
        }
        if code.parse::<phonenumber::country::Id>().is_err() {
            return Err(format!(
                "{}: {code:?} is not an ISO 3166 country code (like IT or US)",
                name::COUNTRIES
            ));
        }
        out.push(code);
    }
    Ok(out)
}

impl Eligible {
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        match value.to_ascii_lowercase().as_str() {
            "" | "all" => Ok(Eligible::All),
            "owner" => Ok(Eligible::OwnerOnly),
            _ => {
                let ids: Vec<String> = value
                    .split(',')
                    .map(|id| id.trim().to_string())
                    .filter(|id| !id.is_empty())
                    .collect();
                if ids.iter().all(|id| id.chars().all(|c| c.is_ascii_digit())) {
                    Ok(Eligible::Listed(ids))
                } else {
                    Err(format!(
                        "{}: expected all, owner or agent ids like 42,43, got {value:?}",
                        name::AGENTS
                    ))
                }
            }
        }
    }

    /// Whether agent `id` may take a lead whose owner's agent is `owner_agent`.
    pub fn admits(&self, id: &str, owner_agent: Option<&str>) -> bool {
        match self {
            Eligible::All => true,
            Eligible::OwnerOnly => owner_agent == Some(id),
            Eligible::Listed(ids) => ids.iter().any(|i| i == id),
        }
    }
}

impl SpeedToLeadOptions {
    /// Reads the options from named settings (see [`name`]); an unset name keeps its default.
    /// Every invalid value is an error naming the setting.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut o = Self::default();
        let get = |n: &str| get(n).filter(|v| !v.trim().is_empty());
        if let Some(v) = get(name::ENABLED) {
            o.enabled = switch(name::ENABLED, &v)?;
        }
        if let Some(v) = get(name::ON_NEW_CONTACT) {
            o.on_new_contact = switch(name::ON_NEW_CONTACT, &v)?;
        }
        o.tag = get(name::TAG).map(|t| t.trim().to_string());
        o.exclude_sources = get(name::EXCLUDE_SOURCES)
            .map(|v| list(&v))
            .unwrap_or_default();
        o.exclude_tags = get(name::EXCLUDE_TAGS)
            .map(|v| list(&v))
            .unwrap_or_default();
        if let Some(v) = get(name::AGENTS) {
            o.eligible = Eligible::parse(&v)?;
        }
        if let Some(v) = get(name::HOURS) {
            let zone = get(name::TIME_ZONE).unwrap_or_else(|| "UTC".to_string());
            let hours = BusinessHours::parse(&v, &zone);
            o.hours = Some(hours.map_err(|e| match e.contains("time zone") {
                true => format!("{}: {e}", name::TIME_ZONE),
                false => format!("{}: {e}", name::HOURS),
            })?);
        } else if get(name::TIME_ZONE).is_some() {
            return Err(format!("{} needs {}", name::TIME_ZONE, name::HOURS));
        }
        if let Some(v) = get(name::AFTER_HOURS) {
            o.after_hours = match v.trim().to_ascii_lowercase().as_str() {
                "queue" => AfterHours::Queue,
                "task" => AfterHours::Task,
                other => {
                    let what = name::AFTER_HOURS;
                    return Err(format!("{what}: expected queue or task, got {other:?}"));
                }
            };
        }
        if let Some(v) = get(name::WINDOW_MINUTES) {
            o.window_minutes = bounded(name::WINDOW_MINUTES, &v, 0..=24 * 60)?;
        }
        if let Some(v) = get(name::RETRY_SECONDS) {
            o.retry_secs = bounded(name::RETRY_SECONDS, &v, 5..=900)?;
        }
        o.read_bounds(&get)?;
        Ok(o)
    }

    /// The bounds: the caps, the attempts, the horizon and the countries.
    fn read_bounds(&mut self, get: &impl Fn(&str) -> Option<String>) -> Result<(), String> {
        let numbers: [(&str, &mut u32, std::ops::RangeInclusive<u32>); 4] = [
            (name::MAX_PER_HOUR, &mut self.max_per_hour, 1..=10_000),
            (
                name::MAX_PER_NUMBER_PER_DAY,
                &mut self.max_per_number_per_day,
                1..=20,
            ),
            (name::MAX_ATTEMPTS, &mut self.max_attempts, 1..=10),
            (name::HORIZON_HOURS, &mut self.horizon_hours, 1..=96),
        ];
        for (setting, field, range) in numbers {
            if let Some(v) = get(setting) {
                *field = bounded(setting, &v, range)?;
            }
        }
        if let Some(v) = get(name::COUNTRIES) {
            self.countries = countries(&v)?;
        }
        Ok(())
    }

    /// The countries dialled: the option's, else the country of `default_region`.
    pub fn allowed_countries(&self, default_region: Option<&str>) -> Vec<String> {
        if !self.countries.is_empty() {
            return self.countries.clone();
        }
        default_region
            .map(|r| r.trim().to_ascii_uppercase())
            .filter(|r| !r.is_empty())
            .into_iter()
            .collect()
    }

    /// The options from a tenant's settings (a map of the same names).
    pub fn from_settings(settings: &BTreeMap<String, String>) -> Result<Self, String> {
        Self::parse(|n| settings.get(n).cloned())
    }

    /// Whether `tag` (added to a contact) starts a dial.
    pub fn is_trigger_tag(&self, tag: &str) -> bool {
        self.tag
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(tag.trim()))
    }

    /// Why a contact with `source` and `tags` is not dialled, if it is excluded.
    pub fn exclusion(&self, source: Option<&str>, tags: &[String]) -> Option<&'static str> {
        let source = source.map(|s| s.trim().to_lowercase());
        if source.is_some_and(|s| self.exclude_sources.contains(&s)) {
            return Some("excluded_source");
        }
        let excluded_tag = tags
            .iter()
            .any(|t| self.exclude_tags.contains(&t.trim().to_lowercase()));
        excluded_tag.then_some("excluded_tag")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<SpeedToLeadOptions, String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SpeedToLeadOptions::from_settings(&map)
    }

    #[test]
    fn off_by_default_and_every_setting_is_read() {
        assert_eq!(parse(&[]).unwrap(), SpeedToLeadOptions::default());
        let o = parse(&[
            (name::ENABLED, "on"),
            (name::ON_NEW_CONTACT, "off"),
            (name::TAG, "call-now"),
            (name::EXCLUDE_SOURCES, "Import, Zapier"),
            (name::EXCLUDE_TAGS, "DNC"),
            (name::AGENTS, "42, 43"),
            (name::HOURS, "mon-fri 09:00-18:00"),
            (name::TIME_ZONE, "Europe/Rome"),
            (name::AFTER_HOURS, "task"),
            (name::WINDOW_MINUTES, "5"),
            (name::RETRY_SECONDS, "20"),
            (name::MAX_PER_HOUR, "30"),
            (name::MAX_PER_NUMBER_PER_DAY, "1"),
            (name::MAX_ATTEMPTS, "2"),
            (name::HORIZON_HOURS, "24"),
            (name::COUNTRIES, "it, sm"),
        ])
        .unwrap();
        assert_eq!(
            (
                o.max_per_hour,
                o.max_per_number_per_day,
                o.max_attempts,
                o.horizon_hours
            ),
            (30, 1, 2, 24)
        );
        assert_eq!(o.allowed_countries(Some("US")), vec!["IT", "SM"]);
        assert!(o.enabled && !o.on_new_contact);
        assert!(o.is_trigger_tag(" Call-Now"));
        assert_eq!(o.exclusion(Some("zapier"), &[]), Some("excluded_source"));
        assert_eq!(o.exclusion(None, &["dnc".into()]), Some("excluded_tag"));
        assert_eq!(o.exclusion(Some("form"), &["lead".into()]), None);
        assert_eq!(o.eligible, Eligible::Listed(vec!["42".into(), "43".into()]));
        assert!(o.hours.is_some());
        assert_eq!(
            (o.after_hours, o.window_minutes, o.retry_secs),
            (AfterHours::Task, 5, 20)
        );
    }

    #[test]
    fn a_wrong_value_names_its_setting() {
        for (n, v) in [
            (name::ENABLED, "maybe"),
            (name::AGENTS, "roberto"),
            (name::HOURS, "weekdays"),
            (name::AFTER_HOURS, "later"),
            (name::WINDOW_MINUTES, "-1"),
            (name::RETRY_SECONDS, "1"),
            (name::MAX_PER_HOUR, "0"),
            (name::MAX_PER_NUMBER_PER_DAY, "21"),
            (name::MAX_ATTEMPTS, "many"),
            (name::HORIZON_HOURS, "97"),
            (name::COUNTRIES, "Italy"),
        ] {
            let error = parse(&[(n, v)]).unwrap_err();
            assert!(error.contains(n), "{error}");
        }
        let error = parse(&[
            (name::HOURS, "mon 09:00-10:00"),
            (name::TIME_ZONE, "Mars/Base"),
        ]);
        assert!(error.unwrap_err().contains(name::TIME_ZONE));
    }

    #[test]
    fn the_bounds_have_safe_defaults() {
        let o = SpeedToLeadOptions::default();
        assert_eq!(
            (
                o.max_per_hour,
                o.max_per_number_per_day,
                o.max_attempts,
                o.horizon_hours
            ),
            (60, 2, 3, 72)
        );
        assert_eq!(o.allowed_countries(Some("it")), vec!["IT"]);
        assert!(o.allowed_countries(None).is_empty());
    }

    #[test]
    fn eligibility() {
        assert!(Eligible::All.admits("42", None));
        assert!(Eligible::OwnerOnly.admits("42", Some("42")));
        assert!(!Eligible::OwnerOnly.admits("43", Some("42")));
        assert!(!Eligible::Listed(vec!["42".into()]).admits("43", None));
    }
}
