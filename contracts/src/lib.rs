//! The vendors' own API contracts, and the check of every request the bridge's fakes receive,
//! and of every answer the sandbox gives, against them.
//!
//! Our tests are only as honest as our fakes: a fake that accepts what the real API refuses lets
//! a broken request pass every test. So each fake (the `wiremock` mounts of `bridge-testkit`,
//! the sandbox, and through it the load simulation and the end-to-end suites) checks each
//! request against the vendor's published OpenAPI spec first:
//! - the path and method exist; path and query parameters have the declared types and enums,
//!   and required ones are there (a query parameter the spec does not declare is refused);
//! - required headers are there with an allowed value (GHL's `Version`);
//! - the JSON (or form) body matches the operation's request schema: types, required fields,
//!   enums, `maxItems`, and, for GoHighLevel, no property the schema does not declare (GHL's
//!   API is NestJS with `forbidNonWhitelisted`: "property X should not exist").
//!
//! A request that breaks the contract is answered as the real API answers it ([`refusal`]) and
//! recorded ([`record`]); any violation still recorded when a test process ends fails it (see
//! [`record`]). Where a spec is known to be wrong or silent, [`overrides`] says so, each entry
//! with its evidence.
//!
//! The specs live in `contracts/specs/` (see the manual's `docs/src/developer/contract-check.md`): GoHighLevel's,
//! copied whole (CC0), and the CloudTalk operations the bridge and the sandbox use, written from
//! CloudTalk's published spec by `scripts/cloudtalk_contract.py`.

pub mod overrides;
pub mod record;
mod spec;

use std::fmt;

use serde_json::{json, Value};

pub use record::{pending, record, take, take_where};

/// Whose API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vendor {
    CloudTalk,
    GoHighLevel,
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Vendor::CloudTalk => "CloudTalk",
            Vendor::GoHighLevel => "GoHighLevel",
        })
    }
}

/// A request as a fake received it, its path relative to the API's base (`/contacts/add.json`,
/// `/contacts/abc/notes`).
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Decoded query pairs, in order.
    pub query: &'a [(String, String)],
    /// Header names lower case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Request<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What broke the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// No operation of the spec has this method and path.
    UnknownOperation,
    /// A path or query parameter, or a header.
    Parameters,
    /// The request body.
    Body,
    /// An answer of the sandbox does not match the operation's response schema.
    Response,
}

/// One request (or answer) that broke a vendor's contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub vendor: Vendor,
    pub method: String,
    pub path: String,
    /// The spec's path template it matched, when one did.
    pub operation: Option<String>,
    pub kind: Kind,
    /// Each problem, as the validator states it (field paths, no values).
    pub problems: Vec<String>,
    /// Which fake saw it (its base URL), so that a test can take the violations it planted.
    pub origin: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            Kind::Response => "answer to",
            _ => "request",
        };
        write!(
            f,
            "{} {what} {} {}{}: {}",
            self.vendor,
            self.method,
            self.path,
            self.operation
                .as_deref()
                .map(|o| format!(" (spec: {o})"))
                .unwrap_or_default(),
            self.problems.join("; ")
        )
    }
}

/// Checks a request against `vendor`'s contract.
pub fn check_request(
    vendor: Vendor,
    request: &Request,
    origin: &str,
) -> Result<(), Box<Violation>> {
    spec::check_request(vendor, request).map_err(|(operation, kind, problems)| {
        Box::new(Violation {
            vendor,
            method: request.method.to_ascii_uppercase(),
            path: request.path.to_string(),
            operation,
            kind,
            problems,
            origin: origin.to_string(),
        })
    })
}

/// Checks an answer (a 2xx JSON body) against the response schema of its operation and status.
/// Answers to requests that match no operation, and statuses the spec does not describe, pass.
pub fn check_response(
    vendor: Vendor,
    method: &str,
    path: &str,
    status: u16,
    body: &Value,
    origin: &str,
) -> Result<(), Box<Violation>> {
    spec::check_response(vendor, method, path, status, body).map_err(|(operation, problems)| {
        Box::new(Violation {
            vendor,
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            operation,
            kind: Kind::Response,
            problems,
            origin: origin.to_string(),
        })
    })
}

/// The answer the real API gives such a request: CloudTalk's 406 `responseData` envelope
/// (404 for an unknown path), GoHighLevel's NestJS error (422 for a body or parameter it
/// refuses, 400 for a missing `Version` header, 404 for an unknown route).
pub fn refusal(violation: &Violation) -> (u16, Value) {
    let message = violation.problems.join("; ");
    match (violation.vendor, &violation.kind) {
        (Vendor::CloudTalk, Kind::UnknownOperation) => (
            404,
            json!({"responseData": {"status": 404, "message": "Not Found"}}),
        ),
        (Vendor::CloudTalk, _) => (
            406,
            json!({"responseData": {"status": 406,
                "message": format!("Invalid input data. ({message})")}}),
        ),
        (Vendor::GoHighLevel, Kind::UnknownOperation) => (
            404,
            json!({"statusCode": 404, "error": "Not Found",
                "message": format!("Cannot {} {}", violation.method, violation.path)}),
        ),
        (Vendor::GoHighLevel, _) if violation.problems.iter().any(|p| p.contains("Version")) => (
            400,
            json!({"statusCode": 400, "error": "Bad Request",
                "message": "Version header was not found or is not valid"}),
        ),
        (Vendor::GoHighLevel, _) => (
            422,
            json!({"statusCode": 422, "error": "Unprocessable Entity",
                "message": violation.problems}),
        ),
    }
}

/// Checks a request and, when it breaks the contract, records the violation and returns the
/// real API's answer to it: what a fake calls before serving a request.
pub fn guard(vendor: Vendor, request: &Request, origin: &str) -> Option<(u16, Value)> {
    let violation = check_request(vendor, request, origin).err()?;
    let answer = refusal(&violation);
    record(*violation);
    Some(answer)
}

/// Decodes a query string into pairs (`+` and `%XX` decoded).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                spec::decode(&k.replace('+', " ")),
                spec::decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
