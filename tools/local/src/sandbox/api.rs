//! What the simulated APIs share: the pipeline every request goes through (injected faults, then
//! the API's own checks, then its route table), what a handler sees of a request, and helpers for
//! reading JSON bodies.

use std::borrow::Cow;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::base::{Fault, Inner, Sandbox};
use super::routes::{self, Params};
use super::state::State;

/// An answer's status and JSON body.
pub(crate) type Reply = (u16, Value);

/// What a handler decides: `Err` is an error answer, so that checks can end a handler with `?`.
pub(crate) type Outcome = Result<Reply, Reply>;

/// One operation of an API.
pub(crate) type Handler = fn(&mut Call) -> Outcome;

/// One line of an API's route table.
pub(crate) type Route = routes::Route<Handler>;

/// Rate-limit headers of an answer.
pub(crate) type Headers = Vec<(&'static str, String)>;

/// How one API differs from the other: where it is served, its route table, its checks before
/// routing, its error bodies and its rate-limit headers.
pub(crate) trait Api {
    /// Its name in the request log.
    const NAME: &'static str;
    /// Whose published contract its requests and answers are checked against.
    const VENDOR: bridge_contracts::Vendor;
    /// Where the sandbox serves it.
    const PREFIX: &'static str;
    const ROUTES: &'static [Route];
    /// What an answer's rate-limit headers report.
    type Quota;

    /// The answer to an injected fault.
    fn fault(req: &Incoming, fault: Fault) -> (Reply, Self::Quota);
    /// Credentials, required headers and the API's own rate limit; `Err` answers instead.
    fn admit(inner: &Inner, req: &Incoming) -> Result<Self::Quota, (Reply, Self::Quota)>;
    fn limit_headers(inner: &Inner, status: u16, quota: Self::Quota) -> Headers;
    /// The answer when the state is unavailable.
    fn server_error() -> Reply;
    /// The answer to a body that is required but is not JSON.
    fn bad_body() -> Reply;
    /// The answer when no route matches.
    fn no_route(req: &Incoming) -> Reply;
    /// The answer to a request that breaks the vendor's contract: by default the one
    /// `bridge_contracts` gives for the vendor's main API.
    fn refusal(violation: &bridge_contracts::Violation) -> Reply {
        bridge_contracts::refusal(violation)
    }

    /// Sees every answer once it is decided (a fault's, a refusal's or a handler's), before
    /// it is sent: by default nothing.
    fn answered(_inner: &Inner, _req: &Incoming, _reply: &Reply) {}

    /// The path the route table matches.
    fn route_path(path: &str) -> Cow<'_, str> {
        Cow::Borrowed(path)
    }
    /// Whether the request must carry a JSON body.
    fn needs_body(req: &Incoming) -> bool {
        matches!(req.method, Method::POST | Method::PUT)
    }
}

/// Every request to an API: a fault answers without applying it; then [`Api::admit`], the route
/// table, the request log and the rate-limit headers.
pub(crate) async fn handle<A: Api>(
    AxumState(sandbox): AxumState<Sandbox>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = sandbox.inner.config.clock.now_secs();
    let req = Incoming::new(method, uri, headers, body, A::PREFIX, received);
    let inner = &sandbox.inner;
    let mut held = None;
    let (reply, quota) = match inner.fault().await {
        Some(fault) => A::fault(&req, fault),
        None => match A::admit(inner, &req) {
            Ok(quota) => match contract::<A>(inner, &req) {
                Some(refusal) => (refusal, quota),
                None => {
                    let (reply, hold) = serve::<A>(&sandbox, &req);
                    held = hold;
                    check_answer::<A>(inner, &req, &reply);
                    (reply, quota)
                }
            },
            Err(refusal) => refusal,
        },
    };
    inner.log_request(A::NAME, &req.method, &req.path, reply.0);
    A::answered(inner, &req, &reply);
    let (status, value) = reply;
    let late = (status < 300).then(|| inner.late_answer()).flatten();
    if let Some(late) = late.or(held) {
        tokio::time::sleep(late).await;
    }
    let headers = A::limit_headers(inner, status, quota);
    answer(status, value, headers)
}

/// The vendor's contract, checked before the request is served: a request the real API would
/// refuse is refused the same way, and recorded (see `bridge-contracts`).
fn contract<A: Api>(inner: &Inner, req: &Incoming) -> Option<Reply> {
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let method = req.method.to_string();
    let request = bridge_contracts::Request {
        method: &method,
        path: &req.path,
        query: &req.query,
        headers: &headers,
        body: &req.body,
    };
    let violation = bridge_contracts::check_request(A::VENDOR, &request, &inner.origin).err()?;
    let answer = A::refusal(&violation);
    bridge_contracts::record(*violation);
    Some(answer)
}

/// The sandbox's own answer, checked against the operation's response schema: what the
/// bridge's parsers are tested with must be what the vendor documents (or what the real API
/// was seen answering: `bridge_contracts::overrides`).
fn check_answer<A: Api>(inner: &Inner, req: &Incoming, (status, body): &Reply) {
    if !(200..300).contains(status) {
        return;
    }
    let method = req.method.to_string();
    let checked = bridge_contracts::check_response(
        A::VENDOR,
        &method,
        &req.path,
        *status,
        body,
        &inner.origin,
    );
    if let Err(violation) = checked {
        bridge_contracts::record(*violation);
    }
}

/// Work a handler leaves for after its answer, once the state is unlocked.
type AfterAnswer = Box<dyn FnOnce(&Sandbox)>;

/// The handler's answer, and how long it asked for it to be held back ([`Call::answer_late`]).
fn serve<A: Api>(sandbox: &Sandbox, req: &Incoming) -> (Reply, Option<Duration>) {
    let mut after = Vec::new();
    let mut hold = None;
    let reply = dispatch::<A>(&sandbox.inner, req, &mut after, &mut hold);
    for task in after {
        task(sandbox);
    }
    (reply, hold)
}

fn dispatch<A: Api>(
    inner: &Inner,
    req: &Incoming,
    after: &mut Vec<AfterAnswer>,
    hold: &mut Option<Duration>,
) -> Reply {
    let Ok(mut state) = inner.state.lock() else {
        return A::server_error();
    };
    let body = req.json();
    if A::needs_body(req) && body.is_none() {
        return A::bad_body();
    }
    let Some((route, params)) = routes::find(A::ROUTES, &req.method, &A::route_path(&req.path))
    else {
        return A::no_route(req);
    };
    let mut call = Call {
        inner,
        req,
        params,
        data: body.unwrap_or(Value::Null),
        state: &mut state,
        after,
        hold,
    };
    (route.handler())(&mut call).unwrap_or_else(|refusal| refusal)
}

/// What a handler gets: the request, what its path captured, its JSON body and the state, locked.
pub(crate) struct Call<'a> {
    pub inner: &'a Inner,
    pub req: &'a Incoming,
    pub params: Params,
    /// The JSON body; `null` when there is none.
    pub data: Value,
    pub state: &'a mut State,
    after: &'a mut Vec<AfterAnswer>,
    /// How long the answer is held back once decided (an operation's own late-answer fault).
    hold: &'a mut Option<Duration>,
}

impl Call<'_> {
    /// What the path captured as `{name}`, owned so that the state can be changed meanwhile.
    pub(crate) fn param(&self, name: &str) -> String {
        self.params.get(name).to_string()
    }

    /// A body field as text (see [`text`]).
    pub(crate) fn field(&self, key: &str) -> Option<String> {
        text(self.data.get(key))
    }

    /// A console line.
    pub(crate) fn say(&self, line: String) {
        self.inner.say(line);
    }

    /// Runs `task` once the answer is decided and the state unlocked: the webhooks a change sets
    /// off, say.
    pub(crate) fn after_answer(&mut self, task: impl FnOnce(&Sandbox) + 'static) {
        self.after.push(Box::new(task));
    }

    /// Holds the answer back `by` once it is decided (the request applied, its answer late:
    /// past a client's timeout it is lost), as the late-answer fault does for any request.
    pub(crate) fn answer_late(&mut self, by: Duration) {
        *self.hold = Some(by);
    }

    /// How long the answer is to be held back, if [`Call::answer_late`] was asked.
    pub(crate) fn held_back(&self) -> Option<Duration> {
        *self.hold
    }
}

/// A JSON answer with extra headers.
pub(crate) fn answer(status: u16, body: Value, headers: Headers) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        Json(body),
    )
        .into_response();
    for (name, value) in headers {
        if let Ok(v) = value.parse() {
            response.headers_mut().insert(name, v);
        }
    }
    response
}

/// A trimmed non-empty string, or a number as text.
pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The [`text`] items of an array; none when it is not one.
pub(crate) fn texts(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|i| text(Some(i))).collect())
        .unwrap_or_default()
}

/// Appends the tags not there yet, compared case-insensitively.
pub(crate) fn add_tags(tags: &mut Vec<String>, added: &[String]) {
    for tag in added {
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.clone());
        }
    }
}

/// Drops the tags named, compared case-insensitively.
pub(crate) fn remove_tags(tags: &mut Vec<String>, removed: &[String]) {
    tags.retain(|t| !removed.iter().any(|r| r.eq_ignore_ascii_case(t)));
}

/// Request parts both APIs read.
pub(crate) struct Incoming {
    pub method: Method,
    /// The path after the API's prefix.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When it arrived, in Unix seconds.
    pub received: i64,
}

impl Incoming {
    pub(crate) fn new(
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
        prefix: &str,
        received: i64,
    ) -> Self {
        let path = uri
            .path()
            .strip_prefix(prefix)
            .unwrap_or(uri.path())
            .to_string();
        let query = uri.query().map(parse_query).unwrap_or_default();
        Self {
            method,
            path,
            query,
            headers,
            body,
            received,
        }
    }

    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| urlencoding_decode(&s.replace('+', " "));
            (decode(k), decode(v))
        })
        .collect()
}

fn urlencoding_decode(s: &str) -> String {
    String::from_utf8_lossy(&urlencoding::decode_binary(s.as_bytes())).into_owned()
}
