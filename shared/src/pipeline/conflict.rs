//! Two versions of one call. Call events are keyed by the call (its id, so that the webhook,
//! reconciliation's copy from the call history and a redrive are one event), and CloudTalk's
//! call ids are sequential: anyone holding the tenant's CloudTalk secret could send an event
//! for the next call first. So the key is not the whole identity: each completed call event
//! records what matters about it ([`CallIdentity`]: the call's uuid, the contact, the number,
//! the direction and the outcome), and a later event under the same key that disagrees on any
//! of them is not answered as the first. CloudTalk's own record of the call (its analytics
//! API, [`crate::clients::cloudtalk_calls`]) settles it: when it agrees with the new version
//! and not with the recorded one, the new version is applied (under the key of what CloudTalk
//! holds, so every later copy of the genuine call is one event) and the recorded version is
//! reported parked; otherwise the new version is parked. Both as `conflicting_duplicate`, with
//! both summaries, for `bridge redrive list` and `bridge status`.

use serde_json::json;

use crate::deps::Deps;
use crate::error::BridgeError;
use crate::identity::CallIdentity;
use crate::registry::EndpointId;

/// How two versions of one call were settled: apply the received one under the key of what
/// CloudTalk holds (and report the recorded one with `both` summaries), or park it (an error).
pub(super) struct Settled {
    pub key: String,
    pub both: String,
}

/// Settles a duplicate whose identity disagrees with the recorded one (see the module).
pub(super) async fn settle(
    deps: &Deps,
    id: EndpointId,
    key: &str,
    (recorded, received): (CallIdentity, CallIdentity),
) -> Result<Settled, BridgeError> {
    let region = deps.config.default_phone_region.as_deref();
    let facts = deps.cloudtalk_calls.call_facts(&received.call_id).await?;
    let truth = facts.map(|f| CallIdentity::of_facts(&received.call_id, &f, region));
    let agrees = |v: &CallIdentity| {
        truth
            .as_ref()
            .is_some_and(|t| t.disagreements(v).is_empty())
    };
    let said = |t: &Option<CallIdentity>| t.as_ref().map_or("no such call".into(), |t| t.summary());
    let both = format!(
        "recorded {}; received {}; CloudTalk's record: {}",
        recorded.summary(),
        received.summary(),
        said(&truth)
    );
    let keep_received = agrees(&received) && !agrees(&recorded);
    let kept = if keep_received {
        "received"
    } else {
        "recorded"
    };
    tracing::warn!(endpoint = %id, call_id = %received.call_id, kept, "conflicting_duplicate");
    match (&truth, keep_received) {
        (Some(truth), true) => Ok(Settled {
            key: format!("{key}#settled#{}", truth.hash()),
            both,
        }),
        _ => Err(BridgeError::ConflictingDuplicate(format!(
            "a second version of call {} disagrees with the first; {both}",
            received.call_id
        ))),
    }
}

/// Parks a report of the recorded version that CloudTalk's record contradicts (it was applied
/// before the genuine one came): for an operator to see, and to undo in GHL by hand. Redriven,
/// it is a duplicate of the call.
pub(super) async fn report_superseded(deps: &Deps, id: EndpointId, key: &str, both: &str) {
    let body = json!({"_bridge_conflict": {"superseded": true, "summaries": both}});
    let event = deps.own_event_keyed(id, &body, key.to_string());
    let reason = format!(
        "conflicting_duplicate: the version applied first is contradicted by CloudTalk's record \
         of the call (its writes in GHL stand until undone by hand); {both}"
    );
    if let Err(e) = deps.retry_queue.park(&event, &reason).await {
        tracing::error!(endpoint = %id, detail = %e, "the superseded version could not be reported");
    }
}
