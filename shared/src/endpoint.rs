//! What an endpoint is to the rest of the bridge: a [`Handler`] that parses its event once and
//! applies it, seen by the pipeline through the object-safe [`Endpoint`]. Which handler serves
//! which route, for which sender, is decided in one place: [`crate::registry`].

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::identity::CallIdentity;
use crate::payload::PayloadError;
pub use crate::registry::Sender;

/// How the other side's contact of an event was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FoundBy {
    /// The contact map already linked it.
    Map,
    /// A contact with the same phone or email existed.
    Search,
    /// The bridge created it for this event.
    Created,
}

impl FoundBy {
    pub fn as_str(self) -> &'static str {
        match self {
            FoundBy::Map => "map",
            FoundBy::Search => "search",
            FoundBy::Created => "created",
        }
    }
}

/// What applying an event did, returned to the sender and logged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// `applied`, or why nothing was written (e.g. `already_linked`).
    pub result: &'static str,
    pub ghl_contact_id: Option<String>,
    pub cloudtalk_contact_id: Option<String>,
    /// The bridge created the contact on the target side for this event.
    pub contact_created: bool,
    /// Links found stale (the linked contact was gone) and replaced while applying the event.
    pub relinked: u32,
    /// Extra safe fields for the response (ids, counts; never personal data).
    pub details: Map<String, Value>,
    /// Jobs the event asks for, each its own event under its own key, run by the way the
    /// event came in (the webhook route, the retry worker) once it is applied.
    pub follow_ups: Vec<FollowUp>,
    /// The work the key names is not done yet (what it needs is not there, and another event
    /// brings it later): the key is released with its steps, never completed, so the event
    /// that does the work is not answered as a duplicate of this one.
    pub not_yet: bool,
}

/// A job an applied event asks for (a lead's dial): an event body for `endpoint`, whose
/// result is answered as the detail `label`.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    pub label: &'static str,
    pub endpoint: crate::registry::EndpointId,
    pub body: Value,
}

impl Outcome {
    pub fn applied() -> Self {
        Self::with_result("applied")
    }

    /// Nothing was written, for the reason `result` names.
    pub fn with_result(result: &'static str) -> Self {
        Self {
            result,
            ..Self::default()
        }
    }

    /// Nothing was done **yet**, for the reason `result` names: the key stays open for the
    /// event that does the work (see [`Outcome::not_yet`]).
    pub fn not_yet(result: &'static str) -> Self {
        Self {
            result,
            not_yet: true,
            ..Self::default()
        }
    }

    /// An applied event about a contact pair, saying how the other side's contact was found.
    pub fn for_contact(
        ghl_id: Option<String>,
        cloudtalk_id: Option<String>,
        found_by: FoundBy,
    ) -> Self {
        let mut outcome = Self::applied();
        outcome.ghl_contact_id = ghl_id;
        outcome.cloudtalk_contact_id = cloudtalk_id;
        outcome.contact_created = found_by == FoundBy::Created;
        outcome.detail("foundBy", found_by.as_str())
    }

    /// Asks for a job to run after this event (see [`FollowUp`]).
    pub fn follow_up(mut self, job: Option<FollowUp>) -> Self {
        self.follow_ups.extend(job);
        self
    }

    /// Adds a detail to the answer.
    pub fn detail(mut self, key: &str, value: impl serde::Serialize) -> Self {
        self.details.insert(key.to_string(), json!(value));
        self
    }
}

/// One endpoint's logic, typed: its event is parsed once, before the event is claimed (an
/// invalid payload is never answered as a duplicate of a valid one), then applied.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    type Event: Send + Sync;

    /// Reads the event, or says what is missing (422) or malformed (400).
    fn parse(&self, body: &Value) -> Result<Self::Event, PayloadError>;

    /// What matters about the event beyond its key, compared when a second version arrives
    /// under the same key (see [`crate::pipeline::conflict`]); none for most events.
    fn identity(&self, _deps: &Deps, _event: &Self::Event) -> Option<CallIdentity> {
        None
    }

    /// Applies the event. Expected failures are errors with a 4xx mapping, never panics. Each
    /// upstream write goes through `steps`, so a retried event resumes where it failed.
    async fn apply(
        &self,
        deps: &Deps,
        event: &Self::Event,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError>;
}

/// A parsed event, ready to apply.
#[async_trait]
pub trait Prepared: Send + Sync {
    async fn apply(&self, deps: &Deps, steps: &mut Steps) -> Result<Outcome, BridgeError>;
    /// See [`Handler::identity`].
    fn identity(&self, deps: &Deps) -> Option<CallIdentity>;
}

/// A [`Handler`] as the pipeline sees it, usable as `&dyn Endpoint`.
pub trait Endpoint: Send + Sync {
    fn prepare<'a>(&'a self, body: &Value) -> Result<Box<dyn Prepared + 'a>, PayloadError>;
}

struct PreparedEvent<'a, H: Handler> {
    handler: &'a H,
    event: H::Event,
}

#[async_trait]
impl<H: Handler> Prepared for PreparedEvent<'_, H> {
    async fn apply(&self, deps: &Deps, steps: &mut Steps) -> Result<Outcome, BridgeError> {
        self.handler.apply(deps, &self.event, steps).await
    }

    fn identity(&self, deps: &Deps) -> Option<CallIdentity> {
        self.handler.identity(deps, &self.event)
    }
}

impl<H: Handler> Endpoint for H {
    fn prepare<'a>(&'a self, body: &Value) -> Result<Box<dyn Prepared + 'a>, PayloadError> {
        let event = self.parse(body)?;
        Ok(Box::new(PreparedEvent {
            handler: self,
            event,
        }))
    }
}
