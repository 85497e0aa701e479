//! What the sandbox holds: CloudTalk contacts, tags, notes, activities, call history, agents,
//! click-to-call requests (and their fault), the blacklist and texts; GoHighLevel contacts (their
//! owners and Do Not Disturb), notes, tasks,
//! opportunities, pipelines, custom values, users, conversations and OAuth; the request log
//! and counters.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::call_ai::CallAi;
use super::call_spec::CallSpec;
use super::config::{DialFault, SandboxConfig};
use super::ghl_dnd::{DndChange, DndSettings};
use super::ghl_oauth_state::OAuthState;
use super::sms::{SmsBook, StatusChange};
use super::team::{Agent, AgentStatus, User};

#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct CtContact {
    pub id: String,
    pub name: String,
    pub company: Option<String>,
    pub title: Option<String>,
    pub numbers: Vec<String>,
    pub emails: Vec<String>,
    pub tags: Vec<String>,
    pub external_urls: Vec<Value>,
    pub created: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CtNote {
    pub id: String,
    pub contact_id: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CtActivity {
    pub id: String,
    pub contact_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub description: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GhlContact {
    pub id: String,
    pub location_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub source: Option<String>,
    /// The contact's owner: a user's id.
    pub assigned_to: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: Vec<Value>,
    /// Do Not Disturb on every channel; GHL answers it, `false` too.
    pub dnd: bool,
    /// Do Not Disturb by channel (`dndSettings`), once set.
    pub dnd_settings: Option<DndSettings>,
    pub date_added: String,
    /// Moved on every change (create, upsert, update, tags); what contact search sorts by.
    pub date_updated: String,
}

impl GhlContact {
    /// Records a change now.
    pub fn touch(&mut self) {
        self.date_updated = now_millis();
    }

    /// Sets what `change` carries of `dnd` and `dndSettings` (sent channels replace); the
    /// others stay.
    pub fn set_dnd(&mut self, change: DndChange) {
        if let Some(dnd) = change.dnd {
            self.dnd = dnd;
        }
        if let Some(sent) = change.dnd_settings {
            self.dnd_settings.get_or_insert_default().merge(sent);
        }
    }

    /// `dateUpdated` in epoch milliseconds (0 when unreadable).
    pub fn updated_ms(&self) -> i64 {
        chrono::DateTime::parse_from_rfc3339(&self.date_updated)
            .map(|t| t.timestamp_millis())
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GhlNote {
    pub id: String,
    pub contact_id: String,
    pub body: String,
    /// Left out when unset, as GHL does (the spec types it as a string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub date_added: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Opportunity {
    pub id: String,
    pub name: String,
    pub pipeline_id: String,
    pub pipeline_stage_id: Option<String>,
    pub status: String,
    pub contact_id: String,
    pub location_id: String,
    /// `monetaryValue`, when it was given one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monetary_value: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CustomValue {
    pub id: String,
    pub name: String,
    #[serde(rename = "fieldKey")]
    pub field_key: String,
    pub value: String,
}

/// A task on a GHL contact.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Task {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    pub due_date: String,
    pub completed: bool,
    pub contact_id: String,
}

/// A contact's conversation in GHL (Conversations).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Conversation {
    pub id: String,
    pub location_id: String,
    pub contact_id: String,
    pub date_added: String,
    /// Moves when a message is added.
    pub date_updated: String,
    /// When the last message was added; when the conversation was created until then.
    pub last_message_date: String,
    pub deleted: bool,
}

/// A message of a conversation: a Call or SMS message a conversation provider added, or an
/// SMS a user sent to be delivered by the SMS provider.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Message {
    pub id: String,
    pub conversation_id: String,
    pub contact_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub direction: String,
    pub conversation_provider_id: Option<String>,
    pub alt_id: Option<String>,
    pub body: Option<String>,
    pub call: Value,
    pub attachments: Vec<String>,
    pub date_added: String,
    /// Its status (GHL's `status`), once it has one: `pending` for a text to deliver, then
    /// what the provider set.
    pub status: Option<String>,
    /// Every status it was given, oldest first.
    pub status_history: Vec<StatusChange>,
    /// The user who sent it, for a text sent from GHL.
    pub user_id: Option<String>,
}

/// One click-to-call request and how it was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dial {
    /// When it arrived, RFC 3339 UTC with milliseconds (the sandbox's clock).
    pub at: String,
    /// The body's `agent_id`, as text; `None` when it had none.
    pub agent_id: Option<String>,
    /// The agent's name, when the sandbox knows the agent.
    pub agent_name: Option<String>,
    /// The body's `callee_number`; `None` when it had none.
    pub callee: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// What the answer means: `ringing`, `not online`, `already calling`, `unknown agent`,
    /// `invalid input`, `unauthorized`, `rate limited`, `server error`, else `status N`.
    pub answer: String,
    /// The answer's `responseData.message`, when it had one.
    pub message: Option<String>,
    /// The call a dial that rang made in the history.
    pub call_id: Option<String>,
    /// Until when (epoch ms) the agent is `calling` because of this dial.
    #[serde(skip)]
    pub(crate) busy_until_ms: Option<i64>,
}

/// A cue card posted to CloudTalk's platform API (`POST /cuecards`), and how it was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CueCard {
    /// When it arrived, RFC 3339 UTC with milliseconds (the sandbox's clock).
    pub at: String,
    pub call_uuid: String,
    /// The request's `type` (`html`, or a name for blocks).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub subtitle: Option<String>,
    /// The content as sent: the HTML text, or the blocks as JSON text.
    pub content: String,
    /// The HTTP status answered: 200 shown, 424 the call was not active.
    pub status: u16,
}

/// Which calls a blacklist entry stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlacklistType {
    All,
    Incoming,
    Outgoing,
}

impl BlacklistType {
    /// As CloudTalk writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Incoming => "incoming",
            Self::Outgoing => "outgoing",
        }
    }
}

/// A number on CloudTalk's blacklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlacklistEntry {
    /// A numeric string.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: BlacklistType,
    /// As it was added (E.164 through the API).
    pub public_number: String,
    /// RFC 3339 UTC.
    pub created: String,
    pub modified: String,
}

/// A row that belongs to one contact: a note, an activity, an opportunity.
pub(crate) trait OfContact {
    fn contact_id(&self) -> &str;
}

macro_rules! of_contact {
    ($($row:ty),*) => {
        $(impl OfContact for $row {
            fn contact_id(&self) -> &str {
                &self.contact_id
            }
        })*
    };
}

of_contact!(CtNote, CtActivity, GhlNote, Opportunity, Task);

/// The rows that belong to a contact, in order.
pub(crate) fn of_contact<'s, T: OfContact + 's>(
    rows: impl IntoIterator<Item = &'s T>,
    contact_id: &str,
) -> Vec<&'s T> {
    rows.into_iter()
        .filter(|r| r.contact_id() == contact_id)
        .collect()
}

/// A call in CloudTalk's call history.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CtCall {
    pub id: String,
    #[serde(flatten)]
    pub spec: CallSpec,
    /// The ids of the call's agent notes (`spec.notes`), in order.
    #[serde(skip)]
    pub note_ids: Vec<String>,
    /// The id of the call's rating, once it has one.
    #[serde(skip)]
    pub rating_id: Option<String>,
    /// Conversation Intelligence content a test set (`Sandbox::set_call_ai`); `None`: derived
    /// from the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai: Option<CallAi>,
    /// Requests to the AI API for this call so far (since its content was last set).
    pub ai_requests: u32,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct RequestLog {
    pub api: String,
    pub method: String,
    pub path: String,
    pub status: u16,
}

pub(crate) struct State {
    next_id: u64,
    pub ct_contacts: BTreeMap<String, CtContact>,
    /// Tag catalogue: id → name.
    pub ct_tags: BTreeMap<String, String>,
    pub ct_notes: Vec<CtNote>,
    pub ct_activities: Vec<CtActivity>,
    /// The call history, in the order calls were recorded.
    pub ct_calls: Vec<CtCall>,
    /// The company's agents, in the order they were added, with the availability set for
    /// them (a dial makes one `calling` for a while: [`State::availability`]).
    pub ct_agents: Vec<Agent>,
    /// Every click-to-call request, oldest first.
    pub ct_dials: Vec<Dial>,
    /// Every cue card posted, oldest first.
    pub ct_cue_cards: Vec<CueCard>,
    /// Click-to-call's own fault, until cleared.
    pub dial_fault: DialFault,
    /// The company's blacklist, in the order numbers were added.
    pub ct_blacklist: Vec<BlacklistEntry>,
    /// Texts sent and received, the SMS settings and fault.
    pub ct_sms: SmsBook,
    pub ghl_contacts: BTreeMap<String, GhlContact>,
    pub ghl_notes: Vec<GhlNote>,
    /// Tasks on GHL contacts, in the order they were created.
    pub ghl_tasks: Vec<Task>,
    /// The users of GHL locations (each with its location), in the order they were added.
    pub ghl_users: Vec<User>,
    pub opportunities: BTreeMap<String, Opportunity>,
    pub pipelines: Vec<Value>,
    pub custom_values: BTreeMap<String, CustomValue>,
    pub conversations: Vec<Conversation>,
    pub messages: Vec<Message>,
    pub oauth: OAuthState,
    pub requests: Vec<RequestLog>,
    pub cloudtalk_requests: u64,
    pub ghl_requests: u64,
    /// Requests that could change something (not reads, not searches).
    pub cloudtalk_writes: u64,
    pub ghl_writes: u64,
    pub faults_injected: u64,
    /// The rate limits: CloudTalk's counts per minute (its `X-CloudTalkAPI-ResetTime` names
    /// the minute's end), GHL's over the last 10 s.
    pub ct_window: MinuteWindow,
    pub ghl_window: RateWindow,
}

/// What one clock minute has counted of a limit that resets at the minute's end.
#[derive(Default)]
pub(crate) struct MinuteWindow {
    minute: i64,
    count: usize,
}

impl MinuteWindow {
    /// Counts a request that costs `cost` requests (at least one) in `minute` (Unix seconds /
    /// 60), unless that would take the minute over `limit`: then it is refused and counts as
    /// one request, as any refused request does. Whether it is admitted.
    pub fn admit(&mut self, minute: i64, cost: u32, limit: usize) -> bool {
        if minute != self.minute {
            self.minute = minute;
            self.count = 0;
        }
        let cost = usize::try_from(cost.max(1)).unwrap_or(usize::MAX);
        let admitted = self.count.saturating_add(cost) <= limit;
        self.count = self.count.saturating_add(if admitted { cost } else { 1 });
        admitted
    }

    /// What `minute` has counted so far.
    pub fn count(&self, minute: i64) -> usize {
        if minute == self.minute {
            self.count
        } else {
            0
        }
    }
}

/// The times of recent requests, for a rate limit.
#[derive(Default)]
pub(crate) struct RateWindow(VecDeque<tokio::time::Instant>);

impl RateWindow {
    /// Counts a request now; returns how many the last `span` saw, this one included.
    pub fn hit(&mut self, span: Duration) -> usize {
        let now = self.forget_older_than(span);
        self.0.push_back(now);
        self.0.len()
    }

    /// Drops the requests older than `span`; now, on tokio's clock (virtual time in
    /// simulations).
    fn forget_older_than(&mut self, span: Duration) -> tokio::time::Instant {
        let now = tokio::time::Instant::now();
        while self
            .0
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > span)
        {
            self.0.pop_front();
        }
        now
    }
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Now as RFC 3339 with milliseconds, as GHL gives `dateAdded` and `dateUpdated`.
pub(crate) fn now_millis() -> String {
    millis_iso(chrono::Utc::now().timestamp_millis())
}

/// Epoch milliseconds as RFC 3339 UTC with milliseconds.
pub(crate) fn millis_iso(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Whether a request only reads: a `GET`, or GHL's contact search (a `POST` that changes
/// nothing).
pub(crate) fn is_read(api: &str, method: &str, path: &str) -> bool {
    method == "GET"
        || (api == "ghl" && method == "POST" && path.trim_matches('/') == "contacts/search")
}

impl State {
    /// An empty state but for the pipeline, and the agents and users `config` names.
    pub fn new(config: &SandboxConfig) -> Self {
        let location = config.ghl_location_id.as_str();
        let stages = [
            ("new", "New Lead"),
            ("qualified", "Qualified Lead"),
            ("proposal", "Proposal Sent"),
            ("won", "Won"),
            ("campaign-done", "Campaign Completed"),
        ];
        let pipeline = json!({
            "id": "sandbox-pipeline", "name": "Sales Pipeline", "locationId": location,
            "stages": stages.iter().enumerate().map(|(i, (id, name))| json!({"id": id, "name": name, "position": i})).collect::<Vec<_>>(),
        });
        let mut state = Self {
            next_id: 1,
            ct_contacts: BTreeMap::new(),
            ct_tags: BTreeMap::new(),
            ct_notes: Vec::new(),
            ct_activities: Vec::new(),
            ct_calls: Vec::new(),
            ct_agents: Vec::new(),
            ct_dials: Vec::new(),
            ct_cue_cards: Vec::new(),
            dial_fault: DialFault::default(),
            ct_blacklist: Vec::new(),
            ct_sms: SmsBook::default(),
            ghl_contacts: BTreeMap::new(),
            ghl_notes: Vec::new(),
            ghl_tasks: Vec::new(),
            ghl_users: Vec::new(),
            opportunities: BTreeMap::new(),
            pipelines: vec![pipeline],
            custom_values: BTreeMap::new(),
            conversations: Vec::new(),
            messages: Vec::new(),
            oauth: Default::default(),
            requests: Vec::new(),
            cloudtalk_requests: 0,
            ghl_requests: 0,
            cloudtalk_writes: 0,
            ghl_writes: 0,
            faults_injected: 0,
            ct_window: MinuteWindow::default(),
            ghl_window: RateWindow::default(),
        };
        state.put_agents(&config.cloudtalk_agents);
        state.put_users(location, &config.ghl_users);
        state
    }

    /// CloudTalk ids: numeric strings from 1000001.
    pub fn ct_id(&mut self) -> String {
        self.next_id += 1;
        (1_000_000 + self.next_id - 1).to_string()
    }

    /// GHL ids: `<prefix>-000001`.
    pub fn ghl_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{:06}", self.next_id - 1)
    }

    /// Puts `number` on the blacklist for `kind` calls; the entry's id.
    pub fn blacklist_number(&mut self, number: &str, kind: BlacklistType) -> String {
        let id = self.ct_id();
        let now = now();
        self.ct_blacklist.push(BlacklistEntry {
            id: id.clone(),
            kind,
            public_number: number.to_string(),
            created: now.clone(),
            modified: now,
        });
        id
    }

    /// The catalogue id of a tag, created on first use.
    pub fn tag_id(&mut self, name: &str) -> String {
        if let Some((id, _)) = self
            .ct_tags
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
        {
            return id.clone();
        }
        let id = self.ct_id();
        self.ct_tags.insert(id.clone(), name.to_string());
        id
    }

    pub fn log(&mut self, api: &str, method: &str, path: &str, status: u16) {
        let write = u64::from(!is_read(api, method, path));
        match api {
            "cloudtalk" | "cloudtalk-ai" | "cloudtalk-analytics" | "cloudtalk-platform" => {
                self.cloudtalk_requests += 1;
                self.cloudtalk_writes += write;
            }
            _ => {
                self.ghl_requests += 1;
                self.ghl_writes += write;
            }
        }
        self.requests.push(RequestLog {
            api: api.to_string(),
            method: method.to_string(),
            path: path.to_string(),
            status,
        });
        if self.requests.len() > 2000 {
            self.requests.drain(..500);
        }
    }

    /// Everything, the agents' availability as of `now_ms` (the sandbox's clock).
    pub fn to_json(&self, now_ms: i64) -> Value {
        json!({
            "cloudtalk": self.cloudtalk_json(now_ms),
            "ghl": self.ghl_json(),
            "counters": {
                "cloudtalkRequests": self.cloudtalk_requests,
                "ghlRequests": self.ghl_requests,
                "cloudtalkWrites": self.cloudtalk_writes,
                "ghlWrites": self.ghl_writes,
                "faultsInjected": self.faults_injected,
                "cloudtalkSmsSent": self.ct_sms.sent_count(),
            },
        })
    }

    /// CloudTalk's contacts, each with its notes and activities, the tag catalogue, the call
    /// history, the agents (as of `now_ms`), the click-to-call requests and fault, and the
    /// blacklist.
    fn cloudtalk_json(&self, now_ms: i64) -> Value {
        let contacts: Vec<Value> = self
            .ct_contacts
            .values()
            .map(|c| {
                let mut v = json!(c);
                let notes = of_contact(&self.ct_notes, &c.id);
                v["notes"] = json!(notes.iter().map(|n| &n.note).collect::<Vec<_>>());
                v["activities"] = json!(of_contact(&self.ct_activities, &c.id));
                v
            })
            .collect();
        json!({
            "contacts": contacts,
            "tags": self.ct_tags.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
            "calls": self.ct_calls,
            "agents": self.agents_now(now_ms),
            "dials": self.ct_dials,
            "cueCards": self.ct_cue_cards,
            "dialFault": self.dial_fault,
            "blacklist": self.ct_blacklist,
            "sms": self.ct_sms.to_json(),
        })
    }

    /// The agents with their availability as of `now_ms`.
    pub fn agents_now(&self, now_ms: i64) -> Vec<Agent> {
        let now = |a: &Agent| self.agent_now(a, now_ms);
        self.ct_agents.iter().map(now).collect()
    }

    /// The agent's availability as of `now_ms`: `calling` while a dial of theirs lasts, else
    /// what is set.
    pub fn availability(&self, agent: &Agent, now_ms: i64) -> AgentStatus {
        let dialling = self.ct_dials.iter().any(|d| {
            d.agent_id.as_deref() == Some(agent.id.as_str())
                && d.busy_until_ms.is_some_and(|until| now_ms < until)
        });
        match dialling {
            true => AgentStatus::Calling,
            false => agent.availability_status,
        }
    }

    /// The agent as it is as of `now_ms` (see [`State::availability`]).
    pub fn agent_now(&self, agent: &Agent, now_ms: i64) -> Agent {
        Agent {
            availability_status: self.availability(agent, now_ms),
            ..agent.clone()
        }
    }

    /// Adds agents, each replacing the one with its id; returns their ids.
    pub fn put_agents(&mut self, agents: &[Agent]) -> Vec<String> {
        for agent in agents {
            match self.ct_agents.iter_mut().find(|a| a.id == agent.id) {
                Some(known) => *known = agent.clone(),
                None => self.ct_agents.push(agent.clone()),
            }
        }
        agents.iter().map(|a| a.id.clone()).collect()
    }

    /// Adds users, each replacing the one with its id, in `location` unless they name one;
    /// returns their ids.
    pub fn put_users(&mut self, location: &str, users: &[User]) -> Vec<String> {
        for user in users {
            let mut user = user.clone();
            user.location_id.get_or_insert_with(|| location.to_string());
            match self.ghl_users.iter_mut().find(|u| u.id == user.id) {
                Some(known) => *known = user,
                None => self.ghl_users.push(user),
            }
        }
        users.iter().map(|u| u.id.clone()).collect()
    }

    /// The name of the user with this id, when the sandbox knows one.
    pub fn user_name(&self, id: &str) -> Option<String> {
        self.ghl_users
            .iter()
            .find(|u| u.id == id)
            .map(User::name)
            .filter(|n| !n.is_empty())
    }

    /// The name of the user `id`, else the id itself.
    pub fn user_label(&self, id: &str) -> String {
        self.user_name(id).unwrap_or_else(|| id.to_string())
    }

    /// GHL's contacts, each with its owner (`owner`: the user's name, else the id `assignedTo`
    /// holds), notes, tasks (each with its assignee's name) and opportunities; pipelines,
    /// custom values, users.
    fn ghl_json(&self) -> Value {
        let contacts: Vec<Value> = self
            .ghl_contacts
            .values()
            .map(|c| {
                let mut v = json!(c);
                v["owner"] = json!(c.assigned_to.as_deref().map(|u| self.user_label(u)));
                let notes = of_contact(&self.ghl_notes, &c.id);
                v["notes"] = json!(notes.iter().map(|n| &n.body).collect::<Vec<_>>());
                let tasks: Vec<Value> = of_contact(&self.ghl_tasks, &c.id)
                    .into_iter()
                    .map(|t| {
                        let mut task = json!(t);
                        task["assignee"] =
                            json!(t.assigned_to.as_deref().map(|u| self.user_label(u)));
                        task
                    })
                    .collect();
                v["tasks"] = json!(tasks);
                v["opportunities"] = json!(of_contact(self.opportunities.values(), &c.id));
                v
            })
            .collect();
        json!({
            "contacts": contacts,
            "pipelines": self.pipelines,
            "customValues": self.custom_values.values().collect::<Vec<_>>(),
            "conversations": self.conversations.iter().map(|c| {
                let mut v = json!(c);
                v["messages"] = json!(self.messages.iter().filter(|m| m.conversation_id == c.id).collect::<Vec<_>>());
                v
            }).collect::<Vec<_>>(),
            "oauth": self.oauth.to_json(),
            "users": self.ghl_users,
        })
    }
}
