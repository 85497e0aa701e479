//! CloudTalk's platform API (`https://platform-api.cloudtalk.io/api/`), under
//! `/cloudtalk/platform`: cue cards, `POST /cuecards`, shown to the agent during an active call.
//!
//! As the spec documents it (`CueCardRequest`, `CueCardError`): the body is checked against
//! the request schema (a body that breaks it is the spec's 400 `{"success": false, "errors":
//! […]}`); a card for a call of the history that is over (its end before now, on the
//! sandbox's clock) is 424 `no such active call - call_uuid: …`; any other card is shown,
//! `{"success": true}` (a call the sandbox did not place, such as one whose webhook was sent by
//! hand, counts as active). The same Basic auth and company rate limit as the CloudTalk API.
//!
//! Every card is kept with its answer ([`CueCard`], [`Sandbox::cue_cards`], `cloudtalk.cueCards`
//! of `/sandbox/state`), and the console shows them.

use serde_json::{json, Value};

use super::api::{Api, Call, Headers, Incoming, Outcome, Reply, Route};
use super::base::{Fault, Inner, Sandbox};
use super::cloudtalk_common::{authorized, limit_headers, next_minute, over_limit};
use super::routes::post;
use super::state::{millis_iso, CueCard, State};

#[rustfmt::skip]
const ROUTES: &[Route] = &[
    post("/cuecards", post_cue_card),
];

pub(crate) struct CloudTalkPlatform;

impl Api for CloudTalkPlatform {
    const NAME: &'static str = "cloudtalk-platform";
    const VENDOR: bridge_contracts::Vendor = bridge_contracts::Vendor::CloudTalk;
    const PREFIX: &'static str = "/cloudtalk/platform";
    const ROUTES: &'static [Route] = ROUTES;
    /// When the company's limit window resets, in Unix seconds.
    type Quota = i64;

    fn fault(req: &Incoming, fault: Fault) -> (Reply, i64) {
        match fault {
            Fault::ServerError => (Self::server_error(), next_minute(req)),
            Fault::RateLimited => (error(429, "too many requests"), req.received + 2),
        }
    }

    fn admit(inner: &Inner, req: &Incoming) -> Result<i64, (Reply, i64)> {
        let reset = next_minute(req);
        if !authorized(inner, req) {
            return Err((error(401, "unauthorized"), reset));
        }
        if over_limit(inner, req, 1) {
            return Err((error(429, "too many requests"), reset));
        }
        Ok(reset)
    }

    fn limit_headers(inner: &Inner, status: u16, reset_at: i64) -> Headers {
        limit_headers(inner, status, reset_at)
    }

    fn server_error() -> Reply {
        error(500, "error processing cue card")
    }

    fn bad_body() -> Reply {
        error(400, "request body is not JSON")
    }

    fn no_route(req: &Incoming) -> Reply {
        error(404, &format!("no route {} {}", req.method, req.path))
    }

    /// A body that breaks the spec is its 400; a path it does not have, 404.
    fn refusal(violation: &bridge_contracts::Violation) -> Reply {
        match violation.kind {
            bridge_contracts::Kind::UnknownOperation => error(
                404,
                &format!("no route {} {}", violation.method, violation.path),
            ),
            _ => (
                400,
                json!({"success": false, "errors": violation.problems.clone()}),
            ),
        }
    }
}

/// The spec's `CueCardError`.
fn error(status: u16, message: &str) -> Reply {
    (status, json!({"success": false, "errors": [message]}))
}

/// Whether the history has the call `uuid` and it is over at `now_ms`.
fn is_over(state: &State, uuid: &str, now_ms: i64) -> bool {
    state
        .ct_calls
        .iter()
        .find(|c| c.spec.uuid.as_deref() == Some(uuid))
        .is_some_and(|c| c.spec.ended_ms < now_ms)
}

/// The content as text: the HTML, or the blocks as JSON.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(html)) => html.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// `POST /cuecards`: shown (and kept), or 424 for a call of the history that is over.
fn post_cue_card(call: &mut Call) -> Outcome {
    let uuid = call.field("call_uuid").unwrap_or_default();
    let now = call.inner.config.clock.now_ms();
    let over = is_over(call.state, &uuid, now);
    let status = if over { 424 } else { 200 };
    let card = CueCard {
        at: millis_iso(now),
        call_uuid: uuid.clone(),
        kind: call.field("type").unwrap_or_default(),
        title: call.field("title").unwrap_or_default(),
        subtitle: call.field("subtitle"),
        content: content_text(call.data.get("content")),
        status,
    };
    call.say(format!(
        "CloudTalk ← cue card {:?} for call {uuid}{}",
        card.title,
        if over { ": the call is over (424)" } else { "" }
    ));
    call.state.ct_cue_cards.push(card);
    match over {
        true => Err(error(
            424,
            &format!("no such active call - call_uuid: {uuid}"),
        )),
        false => Ok((200, json!({"success": true}))),
    }
}

impl Sandbox {
    /// Every cue card posted, oldest first, with the status it was answered.
    pub fn cue_cards(&self) -> Vec<CueCard> {
        self.inner
            .state
            .lock()
            .map(|s| s.ct_cue_cards.clone())
            .unwrap_or_default()
    }
}
