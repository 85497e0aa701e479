//! The cue card of a call that starts: the caller's GHL record in front of the agent, in
//! CloudTalk, while it rings (see [`crate::cue_card`]).
//!
//! It runs first in the call-started handler, inside its own deadline ([`CARD_BUDGET`], 1 s),
//! and never fails the note that follows: whatever goes wrong is one `cue_card` log line.
//! - The contact: the contact map (CloudTalk id → GHL id), else GHL's duplicate search by the
//!   caller's number (and email); nothing is created for the card. A number GHL does not know
//!   gets a card that says so.
//! - Its record, read at once (concurrently): the contact, its opportunities, its notes and,
//!   on a cold container, the location's users (owner names); only what the options show. A
//!   contact's card is kept a minute, the users an hour.
//! - Once per call: a counter of the state table (`cue-card#<tenant>#<call uuid>`, one atomic
//!   write, taken while GHL is read) lets one attempt post; a redelivery, a retry or a second
//!   way in posts nothing. Only the webhook's own attempt posts: the retry worker, later, never
//!   does, so a card that failed (5xx) is not posted after the call is likely answered.
//! - CloudTalk's answer 424 (the call is over) ends it quietly; 403 (not on the plan) stops
//!   cards for the account for an hour. The request is sent once, on the account's shared
//!   budget as background work: it leaves the tokens kept for live writes and books no turn.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::clients::cloudtalk_platform::{CueCard, Shown};
use crate::clients::ghl::{GhlNote, Opportunity};
use crate::clients::{ContactRecord, UpstreamError};
use crate::cue_card::cache::UserNames;
use crate::cue_card::content::{self, Known, OpenOpportunity};
use crate::cue_card::Field;
use crate::deadline::Deadline;
use crate::deps::Deps;
use crate::payload::cloudtalk::CallEvent;

/// The time a card has, from the handler's start to CloudTalk's answer.
pub const CARD_BUDGET: Duration = Duration::from_millis(1000);
/// How long the once-per-call counter is kept (a call is long over by then).
const ONCE_TTL_SECS: i64 = 24 * 3600;

/// What became of a call's card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CardOutcome {
    /// On the agent's screen, with the contact's record.
    Shown,
    /// On the agent's screen: GHL has no contact for the number.
    ShownNotInGhl,
    /// CloudTalk answered 424: the call was no longer active.
    CallOver,
    /// This call's card was posted (or tried) before.
    Duplicate,
    /// Not the webhook's own attempt (the retry worker): too late to be of use.
    Late,
    /// CloudTalk answered 403: the account's plan has no cue cards (remembered an hour).
    NotOnPlan,
    /// The CloudTalk key or the GHL token and location are not configured.
    NotConfigured,
    /// Nothing to look the caller up by (no linked contact, number or email).
    Unidentified,
    /// A shared budget had no token at once.
    Throttled,
    /// The deadline came first.
    TimedOut,
    /// An upstream or the store failed.
    Failed,
}

impl CardOutcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CardOutcome::Shown => "shown",
            CardOutcome::ShownNotInGhl => "shown_not_in_ghl",
            CardOutcome::CallOver => "call_over",
            CardOutcome::Duplicate => "duplicate",
            CardOutcome::Late => "late",
            CardOutcome::NotOnPlan => "not_on_plan",
            CardOutcome::NotConfigured => "not_configured",
            CardOutcome::Unidentified => "unidentified",
            CardOutcome::Throttled => "throttled",
            CardOutcome::TimedOut => "timed_out",
            CardOutcome::Failed => "failed",
        }
    }

    /// What a failed upstream call means for the card.
    fn of(error: &UpstreamError) -> Self {
        match error {
            UpstreamError::Throttled { .. } => CardOutcome::Throttled,
            UpstreamError::OutOfTime { .. } => CardOutcome::TimedOut,
            UpstreamError::Transport {
                timed_out: true, ..
            } => CardOutcome::TimedOut,
            e if matches!(e.status(), Some(402 | 403)) => CardOutcome::NotOnPlan,
            _ => CardOutcome::Failed,
        }
    }
}

/// One attempt's result: the outcome, the GHL contact shown, and why it failed.
struct Attempt {
    outcome: CardOutcome,
    ghl_contact_id: Option<String>,
    detail: Option<String>,
}

impl From<CardOutcome> for Attempt {
    fn from(outcome: CardOutcome) -> Self {
        Attempt {
            outcome,
            ghl_contact_id: None,
            detail: None,
        }
    }
}

/// Posts the cue card of `call`, once; never fails. `None` when cards are off or the call has
/// no uuid (no card can name it); else what became of it, for the event's outcome.
pub(crate) async fn show(deps: &Deps, call: &CallEvent) -> Option<&'static str> {
    let started = Instant::now();
    let uuid = call.call_uuid.as_deref().filter(|u| !u.trim().is_empty())?;
    if !deps.config.cue_cards.enabled {
        return None;
    }
    let attempt = match skipped(deps) {
        Some(outcome) => Attempt::from(outcome),
        None => {
            Deadline::after(CARD_BUDGET)
                .scope(attempt(deps, call, uuid))
                .await
        }
    };
    if attempt.outcome == CardOutcome::NotOnPlan && attempt.detail.is_some() {
        let account = crate::deps::cloudtalk_account(&deps.secrets());
        deps.card_cache.saw_no_cards(&account, deps.clock.now_ms());
    }
    log(deps, uuid, &attempt, started.elapsed());
    Some(attempt.outcome.as_str())
}

/// Why no card is tried, when none is.
fn skipped(deps: &Deps) -> Option<CardOutcome> {
    if !crate::rate_limit::is_arriving() {
        return Some(CardOutcome::Late);
    }
    if !deps.cloudtalk_configured() || !deps.ghl_configured() {
        return Some(CardOutcome::NotConfigured);
    }
    let account = crate::deps::cloudtalk_account(&deps.secrets());
    deps.card_cache
        .knows_no_cards(&account, deps.clock.now_ms())
        .then_some(CardOutcome::NotOnPlan)
}

/// The `cue_card` line: ids, the outcome and the time, never the caller's number or a note.
fn log(deps: &Deps, uuid: &str, attempt: &Attempt, elapsed: Duration) {
    let metrics = crate::telemetry::cue_card_metrics(deps.config.metrics_namespace.as_deref());
    let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    let outcome = attempt.outcome.as_str();
    let ghl = attempt.ghl_contact_id.as_deref();
    match &attempt.detail {
        Some(detail) => tracing::warn!(endpoint = "cloudtalk-call-started", call_uuid = %uuid,
            ghl_contact_id = ghl, cue_card = outcome, cue_card_ms = ms, detail = %detail,
            _aws = metrics.as_deref(), "cue_card"),
        None => tracing::info!(endpoint = "cloudtalk-call-started", call_uuid = %uuid,
            ghl_contact_id = ghl, cue_card = outcome, cue_card_ms = ms,
            _aws = metrics.as_deref(), "cue_card"),
    }
}

/// The card, within the deadline: the once-per-call counter taken while GHL is read, then
/// CloudTalk.
async fn attempt(deps: &Deps, call: &CallEvent, uuid: &str) -> Attempt {
    let location = deps.location_for(None);
    let (first, card) = tokio::join!(once(deps, uuid), card_for(deps, call, uuid, &location));
    match first {
        Ok(true) => {}
        Ok(false) => return CardOutcome::Duplicate.into(),
        Err(e) => {
            return Attempt {
                detail: Some(e.to_string()),
                ..CardOutcome::Failed.into()
            }
        }
    }
    let (card, ghl_contact_id) = match card {
        Ok(card) => card,
        Err(attempt) => return attempt,
    };
    let shown = match ghl_contact_id {
        Some(_) => CardOutcome::Shown,
        None => CardOutcome::ShownNotInGhl,
    };
    // As background work on the account's budget: a card never takes the tokens kept for live
    // writes (a speed-to-lead dial, a contact synced) and books no turn it might not use.
    let posted = crate::rate_limit::background(deps.cloudtalk_platform.post_cue_card(&card));
    let (outcome, detail) = match posted.await {
        Ok(Shown::Shown) => (shown, None),
        Ok(Shown::CallOver) => (CardOutcome::CallOver, None),
        Err(e) => (CardOutcome::of(&e), Some(e.to_string())),
    };
    Attempt {
        outcome,
        ghl_contact_id,
        detail,
    }
}

/// Whether this attempt is the first of the call's: one atomic count in the state table.
async fn once(deps: &Deps, uuid: &str) -> Result<bool, crate::store::StoreError> {
    let tenant = deps.config.tenant_id.as_deref().unwrap_or("default");
    let name = format!("cue-card#{tenant}#{uuid}");
    let expires = deps.clock.now_ms().div_euclid(1000) + ONCE_TTL_SECS;
    Ok(deps
        .state
        .count(&name, "posted", 1, expires)
        .await?
        .is_some())
}

/// How the caller was found in GHL.
enum Found {
    /// Through the contact map: the GHL contact's id.
    Linked(String),
    /// By GHL's duplicate search: the contact as it answered.
    Searched(Box<ContactRecord>),
    /// GHL has no contact for the number (E.164, when there is one).
    Unknown(Option<String>),
}

/// The card and the GHL contact it shows (none for a number GHL does not know).
async fn card_for(
    deps: &Deps,
    call: &CallEvent,
    uuid: &str,
    location: &str,
) -> Result<(CueCard, Option<String>), Attempt> {
    let found = match linked(deps, call, location).await? {
        Some(found) => found,
        None => search(deps, call, location).await?,
    };
    let mut read = match found {
        Found::Unknown(number) => return Ok((not_in_ghl(deps, uuid, number, location), None)),
        found => record(deps, location, found).await,
    };
    if let Read::Gone = read {
        // The link names a contact GHL no longer has: the number finds the caller.
        read = match search(deps, call, location).await? {
            Found::Unknown(number) => return Ok((not_in_ghl(deps, uuid, number, location), None)),
            found => record(deps, location, found).await,
        };
    }
    match read {
        Read::Card(id, known) => {
            let card = content::known(uuid, &known, &deps.config.cue_cards);
            Ok((card, Some(id)))
        }
        Read::Gone => Err(CardOutcome::Failed.into()),
        Read::Failed(attempt) => Err(attempt),
    }
}

/// The card of a number GHL does not know.
fn not_in_ghl(deps: &Deps, uuid: &str, number: Option<String>, location: &str) -> CueCard {
    let contacts = format!(
        "{}/v2/location/{}/contacts/smart_list/All",
        deps.config.ghl_app_base.trim_end_matches('/'),
        urlencoding::encode(location)
    );
    content::unknown(uuid, number.as_deref(), &contacts)
}

/// The GHL contact the contact map links the call's CloudTalk contact to, if any.
async fn linked(deps: &Deps, call: &CallEvent, location: &str) -> Result<Option<Found>, Attempt> {
    let Some(ct_id) = &call.contact.cloudtalk_id else {
        return Ok(None);
    };
    match deps.contacts.find_by_cloudtalk(location, ct_id).await {
        Ok(link) => Ok(link.map(|l| Found::Linked(l.ghl_contact_id))),
        Err(e) => Err(Attempt {
            detail: Some(e.to_string()),
            ..CardOutcome::Failed.into()
        }),
    }
}

/// GHL's duplicate search by the caller's number (E.164) and email.
async fn search(deps: &Deps, call: &CallEvent, location: &str) -> Result<Found, Attempt> {
    let region = deps.config.default_phone_region.as_deref();
    let phone = call
        .contact
        .phone
        .as_deref()
        .and_then(|p| crate::phone::to_e164(p, region).ok());
    let email = call.contact.email.as_deref().map(str::to_lowercase);
    if phone.is_none() && email.is_none() {
        return Err(CardOutcome::Unidentified.into());
    }
    match deps
        .ghl
        .find_duplicate(location, phone.as_deref(), email.as_deref())
        .await
    {
        Ok(Some(record)) => Ok(Found::Searched(Box::new(record))),
        Ok(None) => Ok(Found::Unknown(phone)),
        Err(e) => Err(failed(&e)),
    }
}

fn failed(error: &UpstreamError) -> Attempt {
    Attempt {
        detail: Some(error.to_string()),
        ..CardOutcome::of(error).into()
    }
}

/// A contact's record as a card reads it.
enum Read {
    Card(String, Known),
    /// A linked contact GHL answers 404 for.
    Gone,
    Failed(Attempt),
}

/// A contact's card: the minute-old one, else read from GHL (and kept).
async fn record(deps: &Deps, location: &str, found: Found) -> Read {
    let (id, searched) = match found {
        Found::Linked(id) => (id, None),
        Found::Searched(record) => (record.id.clone(), Some(*record)),
        Found::Unknown(_) => return Read::Failed(CardOutcome::Failed.into()),
    };
    let now = deps.clock.now_ms();
    if let Some(known) = deps.card_cache.card(location, &id, now) {
        return Read::Card(id, known);
    }
    let contact = async {
        match searched {
            Some(record) => Ok(record),
            None => deps.ghl.get_contact(&id).await,
        }
    };
    let (contact, extras) = tokio::join!(contact, extras(deps, location, &id, now));
    let contact = match contact {
        Ok(contact) => contact,
        Err(e) if e.is_not_found() => return Read::Gone,
        Err(e) => return Read::Failed(failed(&e)),
    };
    let known = assemble(deps, location, &contact, extras).await;
    deps.card_cache.keep_card(location, &id, now, known.clone());
    Read::Card(id, known)
}

/// What a card shows besides the contact itself, each read only when the card shows it; a read
/// that fails leaves its part out.
#[derive(Default)]
struct Extras {
    opportunities: Vec<Opportunity>,
    notes: Vec<GhlNote>,
    users: UserNames,
}

async fn extras(deps: &Deps, location: &str, id: &str, now: i64) -> Extras {
    let shows = |field| deps.config.cue_cards.shows(field);
    let opportunities = async {
        match shows(Field::Opportunities) {
            true => deps.ghl.search_opportunities(location, id, None).await,
            false => Ok(Vec::new()),
        }
    };
    let notes = async {
        match shows(Field::Note) {
            true => deps.ghl.list_notes(id).await,
            false => Ok(Vec::new()),
        }
    };
    let users = async {
        match shows(Field::Owner) {
            true => users(deps, location, now).await,
            false => Ok(UserNames::new()),
        }
    };
    let (opportunities, notes, users) = tokio::join!(opportunities, notes, users);
    Extras {
        opportunities: or_left_out("opportunities", opportunities),
        notes: or_left_out("notes", notes),
        users: or_left_out("users", users),
    }
}

/// What was read, or nothing (and a log line) when the read failed.
fn or_left_out<T: Default>(part: &'static str, read: Result<T, UpstreamError>) -> T {
    read.unwrap_or_else(|e| {
        tracing::warn!(cue_card_part = part, detail = %e, "a part of a cue card could not be read");
        T::default()
    })
}

/// The location's user names: this container's, else read (and kept an hour).
async fn users(deps: &Deps, location: &str, now: i64) -> Result<UserNames, UpstreamError> {
    if let Some(names) = deps.card_cache.users(location, now) {
        return Ok(names);
    }
    let users = deps.ghl.location_users(location).await?;
    let names: UserNames = users
        .into_iter()
        .filter_map(|u| Some((u.id, u.name?)))
        .collect::<HashMap<_, _>>();
    deps.card_cache.keep_users(location, now, names.clone());
    Ok(names)
}

/// The card's view of the contact and what was read with it (stage names from the per-container
/// cache of pipelines).
async fn assemble(deps: &Deps, location: &str, contact: &ContactRecord, extras: Extras) -> Known {
    let url = crate::mapping::ghl_to_cloudtalk::ghl_contact_url(
        &deps.config.ghl_app_base,
        location,
        &contact.id,
    );
    let owner = contact
        .owner
        .as_ref()
        .map(|id| extras.users.get(id).cloned().unwrap_or_else(|| id.clone()));
    let mut opportunities = Vec::new();
    let open = extras.opportunities.iter().filter(|o| {
        o.status
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("open"))
    });
    for o in open.take(content::MAX_OPPORTUNITIES) {
        opportunities.push(named(deps, location, o).await);
    }
    Known {
        name: contact.name.clone(),
        url,
        owner,
        tags: contact.tags.clone(),
        opportunities,
        last_note: content::last_note(&extras.notes),
        dnd_all: contact.consent.dnd_all,
        dnd_channels: contact.consent.blocked_channels.clone(),
    }
}

/// An open opportunity with its pipeline's and stage's names.
async fn named(deps: &Deps, location: &str, o: &Opportunity) -> OpenOpportunity {
    let names = deps
        .stage_names
        .names(
            Some(deps.ghl.as_ref()),
            deps.clock.now_ms(),
            location,
            o.pipeline_id.as_deref(),
            o.pipeline_stage_id.as_deref(),
        )
        .await;
    OpenOpportunity {
        name: o.name.clone(),
        pipeline: names.pipeline.or_else(|| o.pipeline_id.clone()),
        stage: names.stage.or_else(|| o.pipeline_stage_id.clone()),
        value: o.monetary_value,
    }
}
