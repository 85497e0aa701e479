//! `POST /api/cloudtalk-webhooks/generic`: any other CloudTalk webhook → one structured log
//! line without personal data (event type, key names, size), and the raw payload kept in the
//! state store for `GENERIC_RETENTION_DAYS` (14 by default; DynamoDB TTL) so an operator can
//! look at what arrived. Always 200 once authenticated and parsed.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::cloudtalk::{event_type, key_names};
use crate::payload::PayloadError;
use crate::registry::EndpointId;
use crate::state::StoredEvent;

pub struct Generic;

/// FNV-1a: a stable, dependency-free fingerprint of the body for the stored event's id.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[async_trait]
impl Handler for Generic {
    type Event = Value;

    /// Any JSON object is a generic event.
    fn parse(&self, body: &Value) -> Result<Value, PayloadError> {
        Ok(body.clone())
    }

    async fn apply(
        &self,
        deps: &Deps,
        body: &Value,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let text = body.to_string();
        let now = chrono::Utc::now();
        let id = format!(
            "{}-{:016x}",
            now.timestamp_millis(),
            fingerprint(text.as_bytes())
        );
        let kind = event_type(body);
        let keys = key_names(body);
        tracing::info!(
            stored_event_id = %id,
            event_type = kind.as_deref().unwrap_or("unknown"),
            keys = %keys.join(","),
            bytes = text.len(),
            "generic CloudTalk event"
        );
        let stored = StoredEvent {
            id: id.clone(),
            route: EndpointId::CloudtalkGeneric.entry().route.to_string(),
            received_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            body: text,
            expires_at: now.timestamp() + i64::from(deps.config.generic_retention_days) * 86_400,
        };
        // A retry of the same event keeps the first stored copy.
        let id = steps
            .run("stored", || async {
                deps.state.put_event(&stored).await?;
                Ok(stored.id.clone())
            })
            .await?;
        let mut outcome = Outcome {
            result: "stored",
            ..Outcome::default()
        };
        outcome.details.insert("storedEventId".into(), json!(id));
        outcome.details.insert("eventType".into(), json!(kind));
        Ok(outcome)
    }
}
