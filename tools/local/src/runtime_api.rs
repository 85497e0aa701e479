//! A local Lambda Runtime API: runs a function's real `bootstrap` binary the way Lambda does,
//! so tests (and benchmarks) can see what it does at init and per invocation.
//!
//! It serves the endpoints a runtime client calls (`/2018-06-01/runtime/invocation/next`,
//! `…/{id}/response`, `…/{id}/error`, `/2018-06-01/runtime/init/error`), optionally under a
//! path prefix (as `cargo lambda watch` does), and [`RuntimeApi::lambda_env`] gives the
//! variables Lambda sets for an OS-only (`provided.al2023`) runtime.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::Notify;

/// What the function reported for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Response(Value),
    Error(Value),
}

#[derive(Default)]
struct Inner {
    pending: VecDeque<(String, Value)>,
    replies: Vec<(String, Reply)>,
    init_errors: Vec<(Option<String>, Value)>,
    polls: u32,
    next_id: u64,
    /// When the function first asked for an event (its init was done).
    first_poll: Option<Instant>,
    /// When each invocation was handed to the function, and when it replied.
    delivered: Vec<(String, Instant)>,
    replied: Vec<(String, Instant)>,
}

#[derive(Clone, Default)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    event_ready: Arc<Notify>,
    changed: Arc<Notify>,
}

impl Shared {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

/// A running Runtime API on a free local port.
pub struct RuntimeApi {
    addr: SocketAddr,
    prefix: String,
    shared: Shared,
}

fn json_of(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()))
}

async fn next(State(shared): State<Shared>) -> Response {
    shared.with(|i| {
        i.polls += 1;
        i.first_poll.get_or_insert_with(Instant::now);
    });
    shared.changed.notify_waiters();
    loop {
        let ready = shared.event_ready.notified();
        let popped = shared.with(|i| {
            let next = i.pending.pop_front();
            if let Some((id, _)) = &next {
                i.delivered.push((id.clone(), Instant::now()));
            }
            next
        });
        if let Some((id, event)) = popped {
            let deadline = chrono::Utc::now().timestamp_millis() + 20_000;
            let mut headers = HeaderMap::new();
            let put = |h: &mut HeaderMap, k: &'static str, v: String| {
                if let Ok(v) = v.parse() {
                    h.insert(k, v);
                }
            };
            put(&mut headers, "lambda-runtime-aws-request-id", id);
            put(
                &mut headers,
                "lambda-runtime-deadline-ms",
                deadline.to_string(),
            );
            put(
                &mut headers,
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:000000000000:function:local".into(),
            );
            put(&mut headers, "lambda-runtime-trace-id", "Root=1-0-0".into());
            put(&mut headers, "content-type", "application/json".into());
            return (StatusCode::OK, headers, event.to_string()).into_response();
        }
        ready.await;
    }
}

async fn response(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    shared.with(|i| {
        i.replied.push((id.clone(), at));
        i.replies.push((id, Reply::Response(json_of(&body))));
    });
    shared.changed.notify_waiters();
    StatusCode::ACCEPTED
}

async fn error(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    shared.with(|i| {
        i.replied.push((id.clone(), at));
        i.replies.push((id, Reply::Error(json_of(&body))));
    });
    shared.changed.notify_waiters();
    StatusCode::ACCEPTED
}

async fn init_error(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let kind = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    shared.with(|i| i.init_errors.push((kind, json_of(&body))));
    shared.changed.notify_waiters();
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    /// Starts the API at the root path, as Lambda serves it.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with_prefix("").await
    }

    /// Starts the API under a path prefix (`/.rt`, as `cargo lambda watch` does).
    pub async fn start_with_prefix(prefix: &str) -> std::io::Result<Self> {
        let shared = Shared::default();
        let routes = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let prefix = prefix.trim_end_matches('/').to_string();
        let app = if prefix.is_empty() {
            routes
        } else {
            axum::Router::new().nest(&prefix, routes)
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            prefix,
            shared,
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` for the function: `host:port` as Lambda gives it,
    /// or a URL (`http://host:port/.rt`) as `cargo lambda watch` does when there is a prefix.
    pub fn address(&self) -> String {
        match self.prefix.is_empty() {
            true => self.addr.to_string(),
            false => format!("http://{}{}", self.addr, self.prefix),
        }
    }

    /// The variables Lambda sets for a `provided.al2023` function (it sets no
    /// `AWS_EXECUTION_ENV` for OS-only runtimes).
    pub fn lambda_env(&self, function: &str) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", function.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function}"),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/01/[$LATEST]0".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("LAMBDA_TASK_ROOT", "/var/task".into()),
            ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
            ("_HANDLER", "bootstrap".into()),
            ("TZ", ":UTC".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// How many times the function asked for its next event (0 until its init is done).
    pub fn polls(&self) -> u32 {
        self.shared.with(|i| i.polls)
    }

    /// When the function first asked for an event, that is when its init was done.
    pub fn first_poll_at(&self) -> Option<Instant> {
        self.shared.with(|i| i.first_poll)
    }

    /// Waits until the function has finished its init and asks for an event.
    pub async fn wait_until_ready(&self, timeout: Duration) -> bool {
        self.wait_for(timeout, |i| i.polls > 0).await
    }

    /// Waits for an init error; `(Lambda-Runtime-Function-Error-Type, body)`.
    pub async fn init_error(&self, timeout: Duration) -> Option<(Option<String>, Value)> {
        self.wait_for(timeout, |i| !i.init_errors.is_empty()).await;
        self.shared.with(|i| i.init_errors.first().cloned())
    }

    /// Sends one event and waits for the function's reply; with the time from the event being
    /// handed to the function to its reply, as the Runtime API saw them.
    pub async fn invoke_timed(&self, event: Value, timeout: Duration) -> Option<(Reply, Duration)> {
        let (id, reply) = self.send_and_wait(event, timeout).await;
        let reply = reply?;
        let took = self.shared.with(|i| {
            let find = |list: &[(String, Instant)]| {
                list.iter().rev().find(|(r, _)| *r == id).map(|(_, t)| *t)
            };
            Some(find(&i.replied)?.saturating_duration_since(find(&i.delivered)?))
        })?;
        Some((reply, took))
    }

    /// Sends one event and waits for the function's reply.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Option<Reply> {
        self.send_and_wait(event, timeout).await.1
    }

    async fn send_and_wait(&self, event: Value, timeout: Duration) -> (String, Option<Reply>) {
        let id = self.shared.with(|i| {
            i.next_id += 1;
            let id = format!("req-{}", i.next_id);
            i.pending.push_back((id.clone(), event));
            id
        });
        self.shared.event_ready.notify_waiters();
        self.wait_for(timeout, |i| i.replies.iter().any(|(r, _)| *r == id))
            .await;
        let reply = self.shared.with(|i| {
            i.replies
                .iter()
                .find(|(r, _)| *r == id)
                .map(|(_, reply)| reply.clone())
        });
        (id, reply)
    }

    async fn wait_for(&self, timeout: Duration, done: impl Fn(&Inner) -> bool) -> bool {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            if self.shared.with(|i| done(i)) {
                return true;
            }
            // The waiting `next` may have missed a notify sent before it subscribed.
            self.shared.event_ready.notify_waiters();
            if tokio::time::timeout_at(until, async {
                tokio::select! {
                    _ = changed => {},
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {},
                }
            })
            .await
            .is_err()
            {
                return self.shared.with(|i| done(i));
            }
        }
    }
}
