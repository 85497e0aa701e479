//! The contract check on the `wiremock` fakes: every request a fake receives is checked against
//! the vendor's published spec first (see `bridge-contracts`). One that breaks it is answered as
//! the real API answers it and recorded; [`crate::Fakes`] fails the test that sent it when it is
//! dropped, and any violation left recorded fails the test process at its end.

use bridge_contracts::Request;
pub use bridge_contracts::Vendor;
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

/// Where each API is served on its fake: CloudTalk's base is `<fake>/api` (its AI API's
/// `<fake>/v1`, its analytics API's `<fake>/analytics`, its platform API's `<fake>/platform`),
/// GHL's the fake itself.
fn prefixes(vendor: Vendor) -> &'static [&'static str] {
    match vendor {
        Vendor::CloudTalk => &["/api", "/v1", "/analytics", "/platform"],
        Vendor::GoHighLevel => &[],
    }
}

/// Matches (and answers) the requests that break `vendor`'s contract.
#[derive(Clone)]
struct Guard {
    vendor: Vendor,
    origin: String,
}

impl Guard {
    fn check(&self, request: &wiremock::Request, record: bool) -> Option<(u16, serde_json::Value)> {
        let full = request.url.path();
        let path = prefixes(self.vendor)
            .iter()
            .find_map(|p| full.strip_prefix(p))
            .unwrap_or(full);
        let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let method = request.method.to_string();
        let request = Request {
            method: &method,
            path,
            query: &query,
            headers: &headers,
            body: &request.body,
        };
        match record {
            true => bridge_contracts::guard(self.vendor, &request, &self.origin),
            false => bridge_contracts::check_request(self.vendor, &request, &self.origin)
                .err()
                .map(|v| bridge_contracts::refusal(&v)),
        }
    }
}

impl wiremock::Match for Guard {
    fn matches(&self, request: &wiremock::Request) -> bool {
        self.check(request, true).is_some()
    }
}

impl Respond for Guard {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let (status, body) = self
            .check(request, false)
            .unwrap_or((500, serde_json::Value::Null));
        ResponseTemplate::new(status).set_body_json(body)
    }
}

/// Puts `vendor`'s contract in front of every other answer of `server`.
pub async fn guard(server: &MockServer, vendor: Vendor) {
    let guard = Guard {
        vendor,
        origin: server.uri(),
    };
    Mock::given(guard.clone())
        .respond_with(guard)
        .with_priority(1)
        .named(format!("{vendor}'s contract"))
        .mount(server)
        .await;
}

/// Forgets `server`'s mocks and requests, keeping its contract in front.
pub async fn reset(server: &MockServer, vendor: Vendor) {
    server.reset().await;
    guard(server, vendor).await;
}
