//! Which webhooks have arrived: per tenant and endpoint, when one was last accepted (its
//! credential checked, its tenant served), kept in the state table
//! (`value#arrived#<tenant>#<endpoint>`, RFC 3339). `bridge doctor` reads it to say, in words,
//! which sender was never set up. Written at most once per [`NOTE_EVERY_MS`] per container for
//! each tenant and endpoint, never in the way of the event: a failure is only logged.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::registry::EndpointId;
use crate::state::StateStore;

/// How often a container writes that an endpoint's webhook arrived again.
pub const NOTE_EVERY_MS: i64 = 10 * 60 * 1000;

static NOTED: Mutex<Option<HashMap<(String, EndpointId), i64>>> = Mutex::new(None);

/// The state value of a tenant's (`None`: the deployment's own) endpoint.
pub fn name(tenant: Option<&str>, id: EndpointId) -> String {
    format!("arrived#{}#{}", tenant.unwrap_or("default"), id.name())
}

/// Whether this container should write the arrival now (and remembers that it did).
fn due(tenant: &str, id: EndpointId, now_ms: i64) -> bool {
    let Ok(mut noted) = NOTED.lock() else {
        return false;
    };
    let noted = noted.get_or_insert_with(HashMap::new);
    let key = (tenant.to_string(), id);
    match noted.get(&key) {
        Some(at) if now_ms - at < NOTE_EVERY_MS => false,
        _ => {
            noted.insert(key, now_ms);
            true
        }
    }
}

/// Notes that a webhook of endpoint `id` arrived for `tenant` at `now_ms`.
pub async fn note(state: &dyn StateStore, tenant: Option<&str>, id: EndpointId, now_ms: i64) {
    if !due(tenant.unwrap_or("default"), id, now_ms) {
        return;
    }
    let when = crate::clock::rfc3339(now_ms);
    if let Err(e) = state.put_value(&name(tenant, id), &when).await {
        tracing::debug!(detail = %e, "the webhook's arrival could not be noted");
    }
}

/// When a webhook of endpoint `id` last arrived for `tenant` (RFC 3339), if ever.
pub async fn last(
    state: &dyn StateStore,
    tenant: Option<&str>,
    id: EndpointId,
) -> Result<Option<String>, crate::store::StoreError> {
    state.get_value(&name(tenant, id)).await
}
