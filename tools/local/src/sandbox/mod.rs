//! A stateful simulator of the parts of the CloudTalk and GoHighLevel APIs the bridge uses, for
//! local runs, end-to-end tests and fault injection.
//!
//! - CloudTalk under `/cloudtalk/api` (Basic auth, `responseData` envelopes, ids as strings,
//!   406 validation errors, bulk per-command results inside HTTP 200, `addTags` appends while
//!   sending `ContactsTag` replaces, `X-CloudTalkAPI-*` rate-limit headers, a bulk request
//!   counting [`SandboxConfig::bulk_request_cost`] requests against the limit), and the
//!   company's agents, `GET /agents/index.json` (`id`, `associated_number`, `limit`, `page`),
//!   click-to-call, `POST /calls/create.json` (see `dials.rs`: 403 for an agent not online,
//!   409 for one already calling, 404, 406; a dial that rings is a call of the history and
//!   makes the agent `calling` until it ends), and the blacklist, `GET /blacklist/index.json`,
//!   `PUT /blacklist/add.json`, `DELETE /blacklist/delete/{id}.json` (see `blacklist.rs`);
//! - GoHighLevel under `/ghl` (Bearer auth, required `Version` header, duplicate-contact 400 with
//!   `meta.contactId`, upsert, the contact's owner `assignedTo` (set by a create, upsert or
//!   update that carries it), Do Not Disturb (`dnd` and `dndSettings`, see `ghl_dnd.rs`),
//!   notes, tags, tasks (`GET|POST /contacts/{id}/tasks`,
//!   `GET|PUT|DELETE /contacts/{id}/tasks/{taskId}`, `PUT /contacts/{id}/tasks/{taskId}/completed`;
//!   see `ghl_tasks.rs`), opportunities, pipelines, custom values, users (`GET
//!   /users/?locationId=…`, `GET /users/{userId}`), `X-RateLimit-*` headers and 429 over 100
//!   requests per 10 s);
//! - CloudTalk's Conversation Intelligence API under `/cloudtalk/ai/v1` (`GET
//!   /ai/calls/{callId}/summary`, `/smart-notes`, `/overall-sentiment`, `/transcription`,
//!   `/topics`; see `cloudtalk_ai.rs`): content derived from the calls of the history, ready
//!   [`SandboxConfig::ai_ready_after_secs`] after a call ends, 403 without
//!   [`SandboxConfig::ai_enabled`], or set by a test ([`Sandbox::set_call_ai`]);
//! - CloudTalk's analytics API under `/cloudtalk/analytics` (`GET /calls/{callId}`, see
//!   `cloudtalk_analytics.rs`): CloudTalk's record of a call of the history, the spec's `Call`
//!   (plain JSON: `cdr_id`, `uuid`, `contact` {id, name, number}, `direction`, `status`
//!   `answered`/`missed`, `date`, `call_times`, …), `404` `{"statusCode", "message", "error"}`
//!   for a call it does not have; each call has a `uuid`, the one it was recorded with
//!   ([`CallSpec::uuid`]) or one derived from it ([`CallSpec::derived_uuid`]);
//! - CloudTalk's platform API under `/cloudtalk/platform` (`POST /cuecards`, see
//!   `cloudtalk_platform.rs`): cue cards, checked against the spec's `CueCardRequest`, 424 for
//!   a call of the history that is over, each kept ([`CueCard`], [`Sandbox::cue_cards`]) and
//!   shown by the console;
//! - texts both ways, CloudTalk's numbers as GHL's SMS provider: CloudTalk's
//!   `POST /sms/send.json` (see `cloudtalk_sms.rs`: `{"responseData": {"success": true,
//!   "data": {recipient, message, sender, country_code}}}`, or `success: false` with
//!   `Unknown number` for a sender none of the company's numbers (`+390212345678` and the
//!   agents'), `Bad number configuration`, `SMS send failed` for an undeliverable recipient;
//!   403 `Insufficient Funds` without credit; 406 by field; each text in `cloudtalk.sms.sent`,
//!   [`SentSms`]); GHL's SMS messages (`POST /conversations/messages/inbound` with `type: SMS`,
//!   `PUT /conversations/messages/{id}/status` with its history, see `ghl_conversations.rs`);
//!   and their control routes (see `sms_control.rs`): `POST /sandbox/ghl/send-sms`
//!   (`{"contactId", "message", "attachments"?, "userId"?}`, [`GhlSms`],
//!   [`Sandbox::send_sms_from_ghl`]: a GHL user texts a contact, a `pending` SMS message, and
//!   GHL's delivery to the provider, signed `X-GHL-Signature`, to the bridge's
//!   [`SMS_DELIVERY_PATH`]), `POST /sandbox/cloudtalk/receive-sms` (`{"from", "to"?, "text"}`,
//!   [`CloudTalkSms`], [`Sandbox::receive_sms_in_cloudtalk`]: CloudTalk's "SMS received"
//!   workflow webhook to [`SMS_RECEIVED_PATH`]), both answering [`SmsDelivery`] (what was sent
//!   and the bridge's answer), `GET|PUT /sandbox/cloudtalk/sms-settings` (`{"no_credit",
//!   "undeliverable"}`, [`SmsSettings`]) and `GET|PUT /sandbox/faults/sms` (`{"failing",
//!   "late_answer_ms", "times"}`, [`SmsFault`]: 500, or the text sent and its answer late);
//! - control under `/sandbox`: `GET /sandbox/state`, `POST /sandbox/reset`,
//!   `GET|PUT /sandbox/faults`, `GET|PUT /sandbox/faults/click-to-call` (`{"failing": true,
//!   "agent_ids": ["42"]}`: click-to-call answers 500, [`DialFault`]), `GET /sandbox/requests`,
//!   `POST /sandbox/seed` (contacts, calls, agents, users and blacklisted numbers a customer
//!   already has, see [`Seed`] and [`SeedRequest`]),
//!   `POST /sandbox/oauth/authorize` (a user approving the Marketplace app's install: a code,
//!   and optionally the `INSTALL` webhooks), `POST /sandbox/oauth/expire`,
//!   `GET /sandbox/webhook-public-key`, `PUT /sandbox/calls/{id}` (a call's tags, rating and
//!   notes, [`CallChange`]: CloudTalk's "Call Modified" webhook to the bridge),
//!   `PUT /sandbox/calls/{id}/ai` (its Conversation Intelligence content, [`CallAi`]),
//!   `PUT /sandbox/agents/{id}` (`{"availability_status": "online|offline|paused|calling"}`,
//!   [`Sandbox::set_agent_availability`]), `PUT /sandbox/contacts/{id}/dnd` (a GHL contact's
//!   `dnd` and `dndSettings`, [`DndChange`], [`Sandbox::set_contact_dnd`]), the texts' routes
//!   above; click-to-call
//!   requests are `cloudtalk.dials` of the state ([`Dial`], [`Sandbox::dials`]), the blacklist
//!   `cloudtalk.blacklist` ([`BlacklistEntry`], [`Sandbox::blacklist`]);
//! - the local console at `/` (see [`console`]): both sides' contacts (a GHL contact with its
//!   owner, tasks and Do Not Disturb), the click-to-call dials, the blacklist, the texts (a
//!   contact's, and every one CloudTalk was asked to send; forms to text a contact from GHL and
//!   to receive a text in CloudTalk), the live event feed, parked events, and a button per
//!   sample of `events/`.
//!
//! GHL's Marketplace side: OAuth (code exchange, single-use rotating refresh tokens with reuse
//! detection, agency location tokens, reconnect) and Conversations (Call messages and their
//! attachments, SMS messages and their status); see `ghl_oauth.rs` and `ghl_conversations.rs`.
//!
//! The people of both accounts (`team.rs`): CloudTalk's agents and the GHL location's users,
//! [`SandboxConfig::cloudtalk_agents`] and [`SandboxConfig::ghl_users`], by default
//! [`default_agents`] (ids `42` Roberto Bianchi, `43` Anna Verdi, `44` Franco Neri, `45` Lucia
//! Esposito) and [`default_users`] (`usr_roberto`, `usr_anna`, `usr_franco` with Franco's email
//! in another case, and `usr_giulia`, who is no agent; Lucia has no user). Seeded calls are made
//! by these agents.
//!
//! Feeds for reconciliation and backfills: CloudTalk's call history (`GET
//! /calls/index.json`, times in the company's zone, [`SandboxConfig::cloudtalk_utc_offset`];
//! calls come from [`Sandbox::record_call`] and seeding) and GoHighLevel's contact search
//! (`POST /contacts/search` by `dateUpdated` with `searchAfter` paging).
//!
//! It prints a readable line per write (`CloudTalk ← add contact "Mario Rossi" (…567)`), and can
//! call the bridge back the way CloudTalk workflow automation would: a contact added through the
//! API triggers a contact-created webhook, so sync loops show up locally; a call's tags, rating
//! or notes changed ([`Sandbox::modify_call`]) trigger a call-modified webhook.
//!
//! Each API is a route table (`ROUTES` in `cloudtalk.rs` and `ghl.rs`: method + path pattern →
//! one handler per operation) behind one shared pipeline in `api.rs` (faults, auth, rate limits,
//! request log, headers); adding an operation is a table line and a `fn(&mut Call) -> Outcome`.
//!
//! The modules, from the bottom up (each names only those below it): `routes.rs` (route
//! matching), `call_spec.rs`, `call_ai.rs`, `team.rs` (the people), `config.rs`,
//! `ghl_oauth_state.rs`, `ghl_dnd.rs`, `sms.rs` (texts), `state.rs` (what the sandbox holds), `feed.rs`, `base.rs` (the
//! [`Sandbox`] handle and what its parts share), `api.rs` (the pipeline and what a handler
//! sees), `cloudtalk_common.rs` and `ghl_common.rs` (each vendor's answers and checks), the
//! operations (`calls.rs`, `dials.rs`, `blacklist.rs`, `team_routes.rs`, `ghl_tasks.rs`, `ghl_search.rs`,
//! `ghl_conversations.rs`, `ghl_oauth.rs`, `seed.rs`, `cloudtalk_sms.rs`), the APIs with their route tables
//! (`cloudtalk.rs`, `cloudtalk_ai.rs`, `cloudtalk_analytics.rs`, `ghl.rs`), `control.rs`
//! and `sms_control.rs` (`/sandbox/…`), the console's templates (`console_sms.rs`,
//! `console_page.rs`) and [`console`], and this file,
//! which assembles the router.

mod api;
mod base;
mod blacklist;
mod call_ai;
mod call_spec;
mod calls;
mod cloudtalk;
mod cloudtalk_ai;
mod cloudtalk_analytics;
mod cloudtalk_common;
mod cloudtalk_platform;
mod cloudtalk_sms;
mod config;
pub mod console;
mod console_cue_cards;
mod console_page;
mod console_sms;
mod control;
mod dials;
pub mod feed;
mod ghl;
mod ghl_common;
mod ghl_conversations;
mod ghl_dnd;
mod ghl_oauth;
mod ghl_oauth_state;
mod ghl_search;
mod ghl_tasks;
mod routes;
mod seed;
mod sms;
mod sms_control;
mod state;
mod team;
mod team_routes;

pub use base::Sandbox;
pub use call_ai::{CallAi, Sentiment, Speaker, TranscriptSegment};
pub use call_spec::{CallAgent, CallChange, CallChangeError, CallDirection, CallSpec};
pub use config::{ConsoleConfig, DialFault, Faults, SandboxClock, SandboxConfig};
pub use ghl_dnd::{DndChange, DndSetting, DndSettings, DndStatus};
pub use ghl_oauth_state::Authorization;
pub use seed::{BlacklistSeed, Seed, SeedRequest, SeedSummary, SeededPair};
pub use sms::{ReceivedSms, SentSms, SmsFault, SmsSettings};
pub use sms_control::{
    BridgeAnswer, CloudTalkSms, GhlSms, SmsDelivery, SmsRefusal, SMS_DELIVERY_PATH,
    SMS_RECEIVED_PATH,
};
pub use state::{BlacklistEntry, BlacklistType, CueCard, Dial};
pub use team::{default_agents, default_users, Agent, AgentStatus, User};

use std::net::SocketAddr;

use axum::routing::any;
use axum::Router;

use api::handle;
use cloudtalk::CloudTalk;
use cloudtalk_ai::CloudTalkAi;
use cloudtalk_analytics::CloudTalkAnalytics;
use cloudtalk_platform::CloudTalkPlatform;
use ghl::Ghl;

impl Sandbox {
    /// Both vendors' APIs, the control routes and the console.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/cloudtalk/api/{*rest}", any(handle::<CloudTalk>))
            .route("/cloudtalk/ai/v1/{*rest}", any(handle::<CloudTalkAi>))
            .route(
                "/cloudtalk/analytics/{*rest}",
                any(handle::<CloudTalkAnalytics>),
            )
            .route(
                "/cloudtalk/platform/{*rest}",
                any(handle::<CloudTalkPlatform>),
            )
            .route("/ghl/{*rest}", any(handle::<Ghl>))
            .merge(control::routes())
            .merge(sms_control::routes())
            .merge(console::routes())
            .with_state(self.clone())
    }

    pub async fn serve(self, addr: SocketAddr) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        axum::serve(listener, self.router()).await
    }

    /// Starts on a free local port in the background; returns its base URL.
    pub async fn spawn(config: SandboxConfig) -> (String, Sandbox) {
        let sandbox = Sandbox::new(config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let router = sandbox.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        (url, sandbox)
    }
}
