//! Texts both ways, as a test or the console plays them: a GHL user texting a contact (GHL
//! then delivers the text to the SMS provider's Delivery URL, the bridge), a text arriving at
//! one of CloudTalk's numbers (CloudTalk's "SMS received" workflow webhook to the bridge), the
//! company's SMS settings and `POST /sms/send.json`'s own fault; and their control routes
//! ([`routes`]):
//!
//! - `POST /sandbox/ghl/send-sms` with [`GhlSms`] (`{"contactId", "message", "attachments"?,
//!   "userId"?}`), [`Sandbox::send_sms_from_ghl`];
//! - `POST /sandbox/cloudtalk/receive-sms` with [`CloudTalkSms`] (`{"from", "to"?, "text"}`),
//!   [`Sandbox::receive_sms_in_cloudtalk`];
//! - `GET|PUT /sandbox/cloudtalk/sms-settings` ([`SmsSettings`]) and
//!   `GET|PUT /sandbox/faults/sms` ([`SmsFault`]).
//!
//! Both deliveries answer an [`SmsDelivery`]: what was sent to the bridge and what it answered
//! (awaited, with no delay). They are in the console's event feed.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::base::Sandbox;
use super::feed::Source;
use super::ghl_conversations::add_outbound_sms;
use super::sms::{ReceivedSms, SentSms, SmsFault, SmsSettings};
use super::team::COMPANY_NUMBER;

/// Where GHL delivers a text to the SMS provider: the bridge's route.
pub const SMS_DELIVERY_PATH: &str = "/api/ghl-webhooks/sms-delivery";
/// Where CloudTalk's "SMS received" workflow webhook goes: the bridge's route.
pub const SMS_RECEIVED_PATH: &str = "/api/cloudtalk-webhooks/sms-received";

/// How long the sandbox waits for the bridge's answer to a delivery.
const BRIDGE_TIMEOUT: Duration = Duration::from_secs(30);

/// A text a GHL user sends a contact (`POST /sandbox/ghl/send-sms`'s body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GhlSms {
    /// A GHL contact the sandbox holds, with a phone.
    pub contact_id: String,
    #[serde(default)]
    pub message: String,
    /// URLs (MMS).
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Who sends it; the location's first user when unset (`usr_roberto` by default).
    #[serde(default)]
    pub user_id: Option<String>,
}

/// A text arriving at CloudTalk (`POST /sandbox/cloudtalk/receive-sms`'s body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudTalkSms {
    /// Who texts (`external_number`), as CloudTalk would write it (E.164).
    pub from: String,
    /// The company's number texted (`internal_number`); `+390212345678` when unset.
    #[serde(default)]
    pub to: Option<String>,
    pub text: String,
}

/// What the bridge answered a delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BridgeAnswer {
    /// Its status; `None` when there was no answer.
    pub status: Option<u16>,
    /// Its JSON body (`null` when none, or not JSON).
    pub body: Value,
    /// Why there was no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A delivery to the bridge and its answer (the control routes' answer).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SmsDelivery {
    /// The GHL conversation and message of a text sent from GHL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The webhook's body, as sent (or as it would have been without a bridge).
    pub webhook: Value,
    /// Whether a bridge is configured ([`super::config::SandboxConfig::bridge_url`]).
    pub sent_to_bridge: bool,
    /// Its answer; `None` without a bridge.
    pub bridge: Option<BridgeAnswer>,
}

/// Why a text could not be played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsRefusal {
    /// No GHL contact with this id.
    UnknownContact(String),
    /// The GHL contact has no phone to text.
    NoPhone(String),
    /// Neither a message nor attachments (from GHL), or no text or no number (to CloudTalk).
    Empty(&'static str),
}

impl std::fmt::Display for SmsRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownContact(id) => write!(f, "no GHL contact {id}"),
            Self::NoPhone(id) => write!(f, "GHL contact {id} has no phone"),
            Self::Empty(what) => write!(f, "{what} is empty"),
        }
    }
}

/// A uuid (v4 in form) for the `n`th text, unique to this sandbox.
fn sms_uuid(n: &str, origin: &str, now_ms: i64) -> String {
    let seed = format!("sms|{origin}|{n}|{now_ms}");
    let hex: String = bridge::digest::sha256(seed.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..]
    )
}

impl Sandbox {
    /// Plays a GHL user texting contact `sms.contact_id` with the sandbox's CloudTalk as the
    /// location's SMS provider: an outbound SMS message, status `pending`, in the contact's
    /// conversation; then GHL's delivery to the provider, `POST` [`SMS_DELIVERY_PATH`] on
    /// [`super::config::SandboxConfig::bridge_url`] (when set) with
    /// `{"contactId", "locationId", "messageId", "type": "SMS", "phone", "message",
    /// "attachments", "userId"}`, signed as GHL signs it (`X-GHL-Signature`: Ed25519 over the
    /// raw body, [`Sandbox::sign_webhook`]). Returns it and the bridge's answer.
    pub async fn send_sms_from_ghl(&self, sms: GhlSms) -> Result<SmsDelivery, SmsRefusal> {
        if sms.message.trim().is_empty() && sms.attachments.is_empty() {
            return Err(SmsRefusal::Empty("message (and attachments)"));
        }
        let location = self.inner.config.ghl_location_id.clone();
        let (message, phone, user) = {
            let Ok(mut state) = self.inner.state.lock() else {
                return Err(SmsRefusal::UnknownContact(sms.contact_id));
            };
            let contact = state.ghl_contacts.get(&sms.contact_id);
            let contact =
                contact.ok_or_else(|| SmsRefusal::UnknownContact(sms.contact_id.clone()))?;
            let phone = contact.phone.clone().filter(|p| !p.trim().is_empty());
            let phone = phone.ok_or_else(|| SmsRefusal::NoPhone(sms.contact_id.clone()))?;
            let user = sms.user_id.clone().or_else(|| {
                let first = state
                    .ghl_users
                    .iter()
                    .find(|u| u.location_id.as_deref() == Some(location.as_str()));
                first.map(|u| u.id.clone())
            });
            let body = Some(sms.message.clone()).filter(|m| !m.trim().is_empty());
            let attachments = sms.attachments.clone();
            let contact = sms.contact_id.as_str();
            let message = add_outbound_sms(
                &mut state,
                &location,
                contact,
                body,
                attachments,
                user.clone(),
            );
            (message, phone, user)
        };
        let webhook = json!({
            "contactId": sms.contact_id, "locationId": location, "messageId": message.id,
            "type": "SMS", "phone": phone, "message": sms.message,
            "attachments": sms.attachments, "userId": user,
        });
        self.inner.say(format!(
            "GHL ← text to {} from {}: message {}",
            bridge::telemetry::mask_phone(&phone),
            user.as_deref().unwrap_or("?"),
            message.id
        ));
        let text = webhook.to_string();
        let signature = self.sign_webhook(&text);
        let headers = [("x-ghl-signature", signature)];
        let bridge = self
            .to_bridge(Source::GhlDelivery, SMS_DELIVERY_PATH, text, &headers)
            .await;
        Ok(SmsDelivery {
            conversation_id: Some(message.conversation_id),
            message_id: Some(message.id),
            webhook,
            sent_to_bridge: bridge.is_some(),
            bridge,
        })
    }

    /// Plays a text from `sms.from` arriving at the company's number `sms.to`: CloudTalk's
    /// "SMS received" workflow webhook, `POST` [`SMS_RECEIVED_PATH`] on
    /// [`super::config::SandboxConfig::bridge_url`] (when set) with
    /// [`super::config::SandboxConfig::cloudtalk_webhook_secret`] as bearer token and
    /// `{"sms_id": "<uuid>", "external_number", "internal_number", "text", "date": "<RFC
    /// 3339>"}`. Recorded in `cloudtalk.sms.received`. Returns it and the bridge's answer.
    pub async fn receive_sms_in_cloudtalk(
        &self,
        sms: CloudTalkSms,
    ) -> Result<SmsDelivery, SmsRefusal> {
        if sms.from.trim().is_empty() {
            return Err(SmsRefusal::Empty("from"));
        }
        if sms.text.trim().is_empty() {
            return Err(SmsRefusal::Empty("text"));
        }
        let now = self.inner.config.clock.now_ms();
        let to = sms.to.clone().filter(|t| !t.trim().is_empty());
        let to = to.unwrap_or_else(|| COMPANY_NUMBER.to_string());
        let date = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(now)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let sms_id = {
            let Ok(mut state) = self.inner.state.lock() else {
                return Err(SmsRefusal::Empty("the state"));
            };
            let n = state.ct_id();
            let sms_id = sms_uuid(&n, &self.inner.origin, now);
            state.ct_sms.received.push(ReceivedSms {
                sms_id: sms_id.clone(),
                at: date.clone(),
                from: sms.from.clone(),
                to: to.clone(),
                text: sms.text.clone(),
                bridge_status: None,
            });
            sms_id
        };
        let webhook = json!({"sms_id": sms_id, "external_number": sms.from,
            "internal_number": to, "text": sms.text, "date": date});
        self.inner.say(format!(
            "CloudTalk ← text from {} to {to}",
            bridge::telemetry::mask_phone(&sms.from)
        ));
        let secret = self.inner.config.cloudtalk_webhook_secret.clone();
        let headers = [(
            "authorization",
            format!("Bearer {}", secret.unwrap_or_default()),
        )];
        let text = webhook.to_string();
        let bridge = self
            .to_bridge(Source::CloudTalkWorkflow, SMS_RECEIVED_PATH, text, &headers)
            .await;
        let status = bridge.as_ref().and_then(|b| b.status);
        if let Ok(mut state) = self.inner.state.lock() {
            let held = state
                .ct_sms
                .received
                .iter_mut()
                .find(|r| r.sms_id == sms_id);
            if let Some(received) = held {
                received.bridge_status = status;
            }
        }
        Ok(SmsDelivery {
            conversation_id: None,
            message_id: None,
            webhook,
            sent_to_bridge: bridge.is_some(),
            bridge,
        })
    }

    /// Posts `body` (JSON) to the bridge's `path` with `headers`, recorded in the console's
    /// feed as from `source`, and awaits the answer; `None` without a bridge.
    async fn to_bridge(
        &self,
        source: Source,
        path: &'static str,
        body: String,
        headers: &[(&'static str, String)],
    ) -> Option<BridgeAnswer> {
        let bridge = self.inner.config.bridge_url.clone()?;
        let url = format!("{}{path}", bridge.trim_end_matches('/'));
        let feed_id = self
            .inner
            .feed
            .lock()
            .ok()
            .map(|mut f| f.begin(source, "POST", path, None));
        let mut request = self.inner.http.post(&url).timeout(BRIDGE_TIMEOUT);
        request = request.header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let answer = match request.body(body).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let body = r.json::<Value>().await.unwrap_or(Value::Null);
                BridgeAnswer {
                    status: Some(status),
                    body,
                    error: None,
                }
            }
            Err(e) => {
                let why = e.without_url().to_string();
                BridgeAnswer {
                    status: None,
                    body: Value::Null,
                    error: Some(why),
                }
            }
        };
        if let (Some(id), Ok(mut feed)) = (feed_id, self.inner.feed.lock()) {
            let recorded = match (answer.status, &answer.error) {
                (Some(status), _) => Ok((status, Some(answer.body.clone()))),
                (None, error) => Err(error.clone().unwrap_or_default()),
            };
            feed.finish(id, recorded);
        }
        let outcome = answer.status.map_or_else(
            || answer.error.clone().unwrap_or_default(),
            |s| s.to_string(),
        );
        self.inner
            .say(format!("{} → bridge {path} → {outcome}", source.label()));
        Some(answer)
    }

    /// The texts sent through CloudTalk's API so far, oldest first (`cloudtalk.sms.sent` of
    /// `GET /sandbox/state`), each with what it was answered.
    pub fn sent_sms(&self) -> Vec<SentSms> {
        self.inner
            .state
            .lock()
            .map(|s| s.ct_sms.sent.clone())
            .unwrap_or_default()
    }

    /// The texts CloudTalk received so far, oldest first (`cloudtalk.sms.received`).
    pub fn received_sms(&self) -> Vec<ReceivedSms> {
        self.inner
            .state
            .lock()
            .map(|s| s.ct_sms.received.clone())
            .unwrap_or_default()
    }

    /// Sets the company's SMS settings (see [`SmsSettings`]), replacing those set before.
    pub fn set_sms_settings(&self, settings: SmsSettings) {
        self.inner
            .say(format!("sandbox ← SMS settings {}", json!(settings)));
        if let Ok(mut state) = self.inner.state.lock() {
            state.ct_sms.settings = settings;
        }
    }

    /// The company's SMS settings as they are set.
    pub fn sms_settings(&self) -> SmsSettings {
        self.inner
            .state
            .lock()
            .map(|s| s.ct_sms.settings.clone())
            .unwrap_or_default()
    }

    /// Sets `POST /sms/send.json`'s own fault (see [`SmsFault`]), replacing the one set
    /// before; `SmsFault::default()` clears it.
    pub fn set_sms_fault(&self, fault: SmsFault) {
        self.inner
            .say(format!("sandbox ← SMS fault {}", json!(fault)));
        if let Ok(mut state) = self.inner.state.lock() {
            state.ct_sms.fault = fault;
        }
    }

    /// `POST /sms/send.json`'s own fault as it is now (`times` counted down).
    pub fn sms_fault(&self) -> SmsFault {
        self.inner
            .state
            .lock()
            .map(|s| s.ct_sms.fault.clone())
            .unwrap_or_default()
    }
}

/// The control routes of texts.
pub(crate) fn routes() -> Router<Sandbox> {
    // libphonenumber's metadata loads on its first use (about 0.4 s in a debug build): now,
    // rather than in the answer to the first text.
    std::thread::spawn(|| bridge::phone::to_e164(COMPANY_NUMBER, None));
    Router::new()
        .route("/sandbox/ghl/send-sms", post(send_sms_route))
        .route("/sandbox/cloudtalk/receive-sms", post(receive_sms_route))
        .route(
            "/sandbox/cloudtalk/sms-settings",
            get(get_settings).put(put_settings),
        )
        .route("/sandbox/faults/sms", get(get_fault).put(put_fault))
}

/// A control route's JSON error.
fn refused(status: StatusCode, error: &str, message: String) -> Response {
    (status, Json(json!({"error": error, "message": message}))).into_response()
}

/// A body as `T`, or why not and what it should be.
fn read_body<T: serde::de::DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("{e}: the body is {shape}"))
}

/// 400 for a body that is not what the route takes.
fn invalid_body(message: String) -> Response {
    refused(StatusCode::BAD_REQUEST, "invalid_body", message)
}

/// What a delivery's refusal answers: 404 for an unknown contact, else 400.
fn refusal_response(refusal: SmsRefusal) -> Response {
    let (status, error) = match &refusal {
        SmsRefusal::UnknownContact(_) => (StatusCode::NOT_FOUND, "unknown_contact"),
        SmsRefusal::NoPhone(_) => (StatusCode::BAD_REQUEST, "no_phone"),
        SmsRefusal::Empty(_) => (StatusCode::BAD_REQUEST, "empty"),
    };
    refused(status, error, refusal.to_string())
}

/// `POST /sandbox/ghl/send-sms` with a [`GhlSms`]: answers the [`SmsDelivery`]; 404 for an
/// unknown contact, 400 for a contact without a phone, nothing to send or another body.
async fn send_sms_route(AxumState(sandbox): AxumState<Sandbox>, body: Bytes) -> Response {
    let shape =
        r#"{"contactId": "…", "message": "…", "attachments": ["https://…"], "userId": "…"}"#;
    let sms = match read_body::<GhlSms>(&body, shape) {
        Ok(sms) => sms,
        Err(message) => return invalid_body(message),
    };
    match sandbox.send_sms_from_ghl(sms).await {
        Ok(delivery) => Json(delivery).into_response(),
        Err(refusal) => refusal_response(refusal),
    }
}

/// `POST /sandbox/cloudtalk/receive-sms` with a [`CloudTalkSms`]: answers the
/// [`SmsDelivery`]; 400 for an empty number or text, or another body.
async fn receive_sms_route(AxumState(sandbox): AxumState<Sandbox>, body: Bytes) -> Response {
    let shape = r#"{"from": "+39…", "to": "+39…" (optional), "text": "…"}"#;
    let sms = match read_body::<CloudTalkSms>(&body, shape) {
        Ok(sms) => sms,
        Err(message) => return invalid_body(message),
    };
    match sandbox.receive_sms_in_cloudtalk(sms).await {
        Ok(delivery) => Json(delivery).into_response(),
        Err(refusal) => refusal_response(refusal),
    }
}

async fn get_settings(AxumState(sandbox): AxumState<Sandbox>) -> Json<SmsSettings> {
    Json(sandbox.sms_settings())
}

/// `PUT /sandbox/cloudtalk/sms-settings` with [`SmsSettings`] (`{"no_credit": true,
/// "undeliverable": ["+39…"]}`; what is left out is off or empty): answers them; 400 for
/// another body.
async fn put_settings(AxumState(sandbox): AxumState<Sandbox>, body: Bytes) -> Response {
    let shape = r#"{"no_credit": bool, "undeliverable": ["+39…"]}"#;
    match read_body::<SmsSettings>(&body, shape) {
        Ok(settings) => {
            sandbox.set_sms_settings(settings.clone());
            Json(settings).into_response()
        }
        Err(message) => invalid_body(message),
    }
}

async fn get_fault(AxumState(sandbox): AxumState<Sandbox>) -> Json<SmsFault> {
    Json(sandbox.sms_fault())
}

/// `PUT /sandbox/faults/sms` with an [`SmsFault`] (`{"failing": true}`, `{"late_answer_ms":
/// 3000, "times": 1}`; `{}` clears it): answers it; 400 for another body.
async fn put_fault(AxumState(sandbox): AxumState<Sandbox>, body: Bytes) -> Response {
    let shape = r#"{"failing": bool, "late_answer_ms": ms, "times": n}"#;
    match read_body::<SmsFault>(&body, shape) {
        Ok(fault) => {
            sandbox.set_sms_fault(fault.clone());
            Json(fault).into_response()
        }
        Err(message) => invalid_body(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_ids_are_uuids_unique_per_text() {
        let a = sms_uuid("1000001", "sandbox-1-0", 1_796_000_000_000);
        let b = sms_uuid("1000002", "sandbox-1-0", 1_796_000_000_000);
        assert_ne!(a, b);
        let parts: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
