//! Before a lead is dialled, the systems of record are asked: GHL holds the contact in this
//! tenant's location, with a number that may be called and no Do Not Disturb; CloudTalk's
//! blacklist does not bar the number; the tenant's and the number's caps, counted across
//! containers in the state table, are not reached. A webhook's word is never enough.

use crate::clients::ContactRecord;
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::ghl::DialJob;
use crate::phone::to_e164;
use crate::speed_to_lead::rules::{self, Rule};

/// A lead GHL confirmed, as it holds it now.
#[derive(Debug, Clone)]
pub(super) struct Lead {
    /// The GHL contact id.
    pub id: String,
    pub name: Option<String>,
    /// The contact's owner (a GHL user id).
    pub owner: Option<String>,
    /// GHL's number for the contact, E.164: the only number ever dialled.
    pub phone: String,
    /// `new-contact`, or `tag:<tag>`.
    pub trigger: String,
    /// The tenant's location.
    pub location: String,
}

/// What the systems of record say about a job's lead.
pub(super) enum Verdict {
    /// It may be dialled now (the caps are taken later, once per job).
    Dial(Lead),
    /// The tenant's settings leave it out (its source or a tag): not a refusal.
    Excluded(&'static str),
    /// A rule stops it; the lead when GHL holds it in this location.
    Refused(Rule, Option<Lead>),
}

/// The tenant's location, as the job's events named it when the deployment does not say.
pub(super) fn location(deps: &Deps, job: &DialJob) -> String {
    deps.location_for(job.contact.location_id.as_deref())
}

/// Reads the contact from GHL with the tenant's own token, right before a dial attempt, and
/// checks every rule that depends on the person and the number (not the caps).
pub(super) async fn check(deps: &Deps, job: &DialJob) -> Result<Verdict, BridgeError> {
    let record = match deps.ghl.get_contact(&job.contact.id).await {
        Ok(record) => record,
        Err(e) if e.is_not_found() => return Ok(Verdict::Refused(Rule::NotInGhl, None)),
        Err(e) => return Err(e.into()),
    };
    let location = location(deps, job);
    let known = location != "default";
    if known && record.location_id.as_deref() != Some(location.as_str()) {
        return Ok(Verdict::Refused(Rule::OtherLocation, None));
    }
    let options = &deps.config.speed_to_lead;
    if let Some(excluded) = options.exclusion(record.source.as_deref(), &record.tags) {
        return Ok(Verdict::Excluded(excluded));
    }
    let region = deps.config.default_phone_region.as_deref();
    let phone = record.phones.iter().find_map(|p| to_e164(p, region).ok());
    let lead = Lead {
        id: record.id.clone(),
        name: record.name.clone(),
        owner: record.owner.clone(),
        phone: phone.clone().unwrap_or_default(),
        trigger: job.trigger.clone(),
        location,
    };
    let Some(phone) = phone else {
        return Ok(Verdict::Refused(Rule::NoPhone, Some(lead)));
    };
    if let Some(rule) = person_and_number(deps, &record, &phone).await? {
        return Ok(Verdict::Refused(rule, Some(lead)));
    }
    Ok(Verdict::Dial(lead))
}

/// The contact's consent, the number's type and country, then CloudTalk's blacklist (the only
/// one of them that costs a request, so it comes last).
async fn person_and_number(
    deps: &Deps,
    record: &ContactRecord,
    phone: &str,
) -> Result<Option<Rule>, BridgeError> {
    match record.consent.refuses_calls() {
        Some("dnd") => return Ok(Some(Rule::Dnd)),
        Some(_) => return Ok(Some(Rule::DndCall)),
        None => {}
    }
    let options = &deps.config.speed_to_lead;
    let countries = options.allowed_countries(deps.config.default_phone_region.as_deref());
    if let Err(rule) = rules::destination(phone, &countries) {
        return Ok(Some(rule));
    }
    let entries = deps.cloudtalk.blacklist_of(phone).await?;
    Ok(entries
        .iter()
        .any(|e| e.blocks_outgoing())
        .then_some(Rule::Blacklisted))
}

/// How long a cap's counters are kept: past the hour and the day they count.
const HOUR_CAP_KEEP_SECS: i64 = 2 * 3600;
const DAY_CAP_KEEP_SECS: i64 = 2 * 24 * 3600;

/// The tenant's dials of the hour that holds `now_ms`.
pub fn hour_cap_name(location: &str, now_ms: i64) -> String {
    format!("dials#{location}#hour#{}", bucket(now_ms, "%Y%m%d%H"))
}

/// The dials of number `e164` on the day (UTC) that holds `now_ms`; the number hashed.
pub fn number_cap_name(location: &str, e164: &str, now_ms: i64) -> String {
    let digest = crate::digest::sha256(e164.as_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!(
        "dials#{location}#number#{hash}#{}",
        bucket(now_ms, "%Y%m%d")
    )
}

fn bucket(now_ms: i64, format: &str) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .format(format)
        .to_string()
}

/// Takes the job's place under both caps, once per job (the `bounds` step): the number's day
/// first, so that a burst against one number does not use up the tenant's hour. A cap that is
/// reached is the rule that stops the dial.
pub(super) async fn take_caps(
    deps: &Deps,
    lead: &Lead,
    steps: &mut Steps,
) -> Result<Option<Rule>, BridgeError> {
    if let Some(taken) = steps.get("bounds") {
        let (name, limit) = taken.split_once(':').unwrap_or((taken, "0"));
        let limit = limit.parse().unwrap_or(0);
        return Ok(match name {
            "cap_per_number" => Some(Rule::NumberDayCap(limit)),
            "cap_per_hour" => Some(Rule::TenantHourCap(limit)),
            _ => None,
        });
    }
    let options = &deps.config.speed_to_lead;
    let now = deps.clock.now_ms();
    let (per_number, per_hour) = (options.max_per_number_per_day, options.max_per_hour);
    let number = number_cap_name(&lead.location, &lead.phone, now);
    let day_until = now / 1000 + DAY_CAP_KEEP_SECS;
    let hour_until = now / 1000 + HOUR_CAP_KEEP_SECS;
    let rule = if deps
        .state
        .count(&number, "dials", u64::from(per_number), day_until)
        .await?
        .is_none()
    {
        Some(Rule::NumberDayCap(per_number))
    } else {
        let hour = hour_cap_name(&lead.location, now);
        let counted = deps
            .state
            .count(&hour, "dials", u64::from(per_hour), hour_until)
            .await?;
        counted.is_none().then_some(Rule::TenantHourCap(per_hour))
    };
    let value = match &rule {
        Some(r @ (Rule::NumberDayCap(limit) | Rule::TenantHourCap(limit))) => {
            format!("{}:{limit}", r.name())
        }
        _ => "ok".to_string(),
    };
    steps.record("bounds", &value).await?;
    Ok(rule)
}
