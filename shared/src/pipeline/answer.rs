//! The one place where what happened to a request becomes its HTTP answer and its log line.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde_json::{json, Value};

use super::apply::{outcome_body, Handled};
use crate::clients::CallCounts;
use crate::error::BridgeError;
use crate::payload::NamedContacts;
use crate::registry::EndpointId;
use crate::retry_queue::backoff_secs;

/// A JSON response with the right content type.
pub fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// How long a sender told "not now" (429) should wait: what the upstream asked for, else the
/// delay the bridge itself would wait before its first retry.
pub fn retry_after_secs(error: &BridgeError) -> u32 {
    backoff_secs(1, error.retry_after_secs())
}

/// `{error, message}` (and `missing` for 422), with `Retry-After` on a 429.
pub fn error_response(error: &BridgeError) -> Response<Body> {
    let mut body = json!({ "error": error.code(), "message": error.public_message() });
    if let BridgeError::Unprocessable { missing, .. } = error {
        body["missing"] = json!(missing);
    }
    let mut response = json_response(error.status(), &body);
    if error.status() == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after_secs(error).into());
    }
    response
}

/// What a request cost, for its log line.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    /// Upstream requests and 429s, per upstream.
    pub calls: CallCounts,
    pub duration_ms: u64,
}

/// The one `webhook` line: the endpoint, what the branch adds, then the cost and its metrics
/// (`_aws`, in the embedded metric format, when the stack names a namespace).
macro_rules! webhook_line {
    ($level:ident, $id:expr, $ids:expr, $cost:expr, $metrics:expr, $($field:tt)*) => {
        tracing::$level!(
            endpoint = %$id,
            $($field)*
            ghl_contact_id = $ids.ghl.as_deref(),
            cloudtalk_contact_id = $ids.cloudtalk.as_deref(),
            upstream_calls = $cost.calls.total(),
            cloudtalk_calls = $cost.calls.cloudtalk,
            ghl_calls = $cost.calls.ghl,
            cloudtalk_429s = $cost.calls.cloudtalk_429s,
            ghl_429s = $cost.calls.ghl_429s,
            duration_ms = $cost.duration_ms,
            _aws = $metrics,
            "webhook"
        )
    };
}

/// The answer to a webhook request on endpoint `id`, after writing its one `webhook` log line:
/// with the contacts it acted on (or, when it did not get that far, those its body `named`)
/// and its metrics in `metrics_namespace`, when there is one.
pub fn respond(
    id: EndpointId,
    result: &Result<Handled, BridgeError>,
    cost: Cost,
    named: &NamedContacts,
    metrics_namespace: Option<&str>,
) -> Response<Body> {
    let metrics = crate::telemetry::webhook_metrics(metrics_namespace);
    let metrics = metrics.as_deref();
    let ids = match result {
        Ok(Handled::Applied(outcome)) => NamedContacts {
            ghl: outcome.ghl_contact_id.clone().or_else(|| named.ghl.clone()),
            cloudtalk: (outcome.cloudtalk_contact_id.clone()).or_else(|| named.cloudtalk.clone()),
        },
        _ => named.clone(),
    };
    match result {
        Ok(Handled::Applied(outcome)) => {
            webhook_line!(
                info,
                id,
                ids,
                cost,
                metrics,
                outcome = outcome.result,
                status = 200,
                contact_created = outcome.contact_created,
                relinked = (outcome.relinked > 0).then_some(outcome.relinked),
            );
            json_response(StatusCode::OK, &outcome_body(id, outcome))
        }
        Ok(Handled::Duplicate(answer)) => {
            webhook_line!(
                info,
                id,
                ids,
                cost,
                metrics,
                outcome = "duplicate",
                status = 200,
            );
            let mut answer = match answer {
                Value::Object(_) => answer.clone(),
                _ => json!({ "ok": true, "endpoint": id }),
            };
            answer["duplicate"] = json!(true);
            json_response(StatusCode::OK, &answer)
        }
        Ok(Handled::Queued { delay_secs, reason }) => {
            webhook_line!(warn, id, ids, cost, metrics, outcome = "queued", status = 202, reason = %reason, retry_in_secs = delay_secs,);
            json_response(
                StatusCode::ACCEPTED,
                &json!({ "ok": true, "endpoint": id, "result": "queued", "queued": true, "retryInSeconds": delay_secs, "reason": reason }),
            )
        }
        Ok(Handled::Parked {
            reason,
            code,
            status,
        }) => {
            webhook_line!(error, id, ids, cost, metrics, outcome = "parked", status = status.as_u16(), reason = %reason,);
            json_response(
                *status,
                &json!({ "error": code, "message": reason, "parked": true }),
            )
        }
        Err(err) => answer_error(id, &ids, cost, metrics, err),
    }
}

/// A request that was neither applied nor queued: `failed` (an error line) when the bridge or
/// an upstream failed, `refused` (a warning) when the request itself was at fault.
fn answer_error(
    id: EndpointId,
    ids: &NamedContacts,
    cost: Cost,
    metrics: Option<&str>,
    err: &BridgeError,
) -> Response<Body> {
    let status = err.status().as_u16();
    let failed = status >= 500
        || matches!(
            err,
            BridgeError::Upstream(_) | BridgeError::Store(_) | BridgeError::TokenUnavailable(_)
        );
    if failed {
        webhook_line!(error, id, ids, cost, metrics, outcome = "failed", status, error = err.code(), detail = %err,);
    } else {
        webhook_line!(warn, id, ids, cost, metrics, outcome = "refused", status, error = err.code(), detail = %err.public_message(),);
    }
    error_response(err)
}
