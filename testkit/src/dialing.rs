//! A speed-to-lead run over the fakes, for the suites that dial: GHL's contacts by id (what
//! `GET /contacts/{id}` answers, 404 for any other), CloudTalk's agents with their availability,
//! click-to-call answers per agent, and CloudTalk's blacklist (list, add, delete), all checked
//! against the vendors' contracts like every fake. The bridge runs on a manual clock with an
//! in-memory retry queue that the test drains through the real worker.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bridge::clock::ManualClock;
use bridge::retry_queue::MemoryRetryQueue;
use bridge::worker::WorkerResult;
use bridge::Deps;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::fakes::*;

/// The lead's number, as GHL holds it unless a test says otherwise.
pub const LEAD_PHONE: &str = "+393501234567";
pub const NEW_CONTACT_ROUTE: &str = "/api/ghl-webhooks/new-contact";
pub const MINUTE: i64 = 60_000;

/// Agents 42, 43, 44 and what each click-to-call for them answers, in turn (the last again).
pub type Answers = Arc<Mutex<HashMap<String, Vec<u16>>>>;
type Shared<T> = Arc<Mutex<T>>;

pub struct Dialing {
    pub fakes: Fakes,
    pub deps: Deps,
    pub clock: Arc<ManualClock>,
    pub queue: Arc<MemoryRetryQueue>,
    /// Each agent's availability in the agents list.
    pub availability: Shared<HashMap<String, String>>,
    pub answers: Answers,
    /// GHL's contacts by id.
    pub directory: Shared<HashMap<String, Value>>,
    /// CloudTalk's blacklist rows (`{"Blacklist": {...}}`).
    pub blacklist: Shared<Vec<Value>>,
}

/// Speed to lead on, with `pairs` besides.
pub fn dial_options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all = vec![("SPEED_TO_LEAD".to_string(), "on".to_string())];
    all.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    all
}

/// GHL's record of a lead in the test location.
pub fn ghl_lead(id: &str, phone: &str) -> Value {
    json!({"id": id, "locationId": LOCATION, "firstName": "Mario", "lastName": "Rossi",
        "name": "Mario Rossi", "phone": phone, "source": "Website form", "tags": [],
        "dnd": false})
}

impl Dialing {
    pub async fn start(settings: Vec<(String, String)>) -> Self {
        Self::start_at(settings, ManualClock::starting_now()).await
    }

    pub async fn start_at(settings: Vec<(String, String)>, clock: ManualClock) -> Self {
        let fakes = Fakes::start().await;
        let availability: Shared<HashMap<String, String>> = Arc::new(Mutex::new(
            ["42", "43", "44"]
                .iter()
                .map(|a| (a.to_string(), "online".to_string()))
                .collect(),
        ));
        let answers: Answers = Arc::default();
        let directory: Shared<HashMap<String, Value>> = Arc::default();
        let blacklist: Shared<Vec<Value>> = Arc::default();
        mount_agents(&fakes, availability.clone()).await;
        mount_click_to_call(&fakes, answers.clone()).await;
        mount_directory(&fakes, directory.clone()).await;
        mount_blacklist(&fakes, blacklist.clone()).await;
        mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
        mount_ghl(&fakes.ghl, json!({"id": "ghl-found"}), json!([])).await;
        let clock = Arc::new(clock);
        let queue = Arc::new(MemoryRetryQueue::new());
        let deps = dial_deps(
            &fakes,
            &settings,
            clock.clone(),
            queue.clone(),
            bridge::Backends::in_memory(),
        );
        Self {
            fakes,
            deps,
            clock,
            queue,
            availability,
            answers,
            directory,
            blacklist,
        }
    }

    /// A new-contact webhook for lead `id` (with [`LEAD_PHONE`]), and GHL's record of it.
    pub fn lead(&self, id: &str) -> Value {
        self.put_contact(ghl_lead(id, LEAD_PHONE));
        json!({"contact": {"id": id, "name": "Mario Rossi", "phone": LEAD_PHONE,
            "source": "Website form"}})
    }

    /// GHL now holds `record` (by its id).
    pub fn put_contact(&self, record: Value) {
        let id = record["id"].as_str().unwrap_or_default().to_string();
        self.directory.lock().unwrap().insert(id, record);
    }

    /// Changes GHL's record of `id`.
    pub fn edit_contact(&self, id: &str, change: impl FnOnce(&mut Value)) {
        let mut all = self.directory.lock().unwrap();
        if let Some(record) = all.get_mut(id) {
            change(record);
        }
    }

    /// Puts `number` (E.164) on CloudTalk's blacklist with `kind`, as someone else did.
    pub fn blacklist_number(&self, number: &str, kind: &str) {
        let mut rows = self.blacklist.lock().unwrap();
        let id = 500 + rows.len();
        rows.push(json!({"Blacklist": {"id": id.to_string(), "type": kind,
            "public_number": number.trim_start_matches('+')}}));
    }

    /// Posts `body` to `route` with the GHL secret; the answer must be a success.
    pub async fn send(&self, route: &str, body: &Value) -> Value {
        send_dial(&self.deps, route, body).await
    }

    /// Runs every queued event due by the manual clock through the worker.
    pub async fn drain(&self) -> Vec<WorkerResult> {
        let mut results = Vec::new();
        for (event, _) in self.queue.drain() {
            results.push(bridge::worker::process(&self.deps, event).await);
        }
        results
    }

    /// Runs the retry queue as SQS would, for `ms` of the manual clock: each queued event is
    /// delivered when its delay is over (the clock jumps to it), through the real worker,
    /// until nothing is queued or the time is up. Every result, in order.
    pub async fn run_queue_for(&self, ms: i64) -> Vec<WorkerResult> {
        use bridge::clock::Clock;
        let end = self.clock.now_ms() + ms;
        let mut pending: Vec<(i64, bridge::retry_queue::QueuedEvent)> = Vec::new();
        let mut results = Vec::new();
        loop {
            let now = self.clock.now_ms();
            for (event, delay) in self.queue.drain() {
                pending.push((now + i64::from(delay) * 1000, event));
            }
            pending.sort_by_key(|(due, _)| *due);
            if pending.is_empty() || pending[0].0 > end {
                break;
            }
            let (due, event) = pending.remove(0);
            self.clock.set_ms(due.max(now));
            results.push(bridge::worker::process(&self.deps, event).await);
        }
        let now = self.clock.now_ms();
        for (due, event) in pending {
            let delay = u32::try_from((due - now).max(0) / 1000).unwrap_or(u32::MAX);
            let kept = bridge::retry_queue::RetryQueue::enqueue(self.queue.as_ref(), &event, delay);
            kept.await.expect("the memory queue takes it back");
        }
        results
    }

    /// The agents dialled, in order, with the number each was asked to call.
    pub async fn dials(&self) -> Vec<(String, String)> {
        received(&self.fakes.cloudtalk)
            .await
            .into_iter()
            .filter(|r| r.path == "/api/calls/create.json")
            .map(|r| {
                let number = r.body["callee_number"].as_str().unwrap_or_default();
                (r.body["agent_id"].to_string(), number.to_string())
            })
            .collect()
    }

    /// The bodies GHL received by `POST` to a path ending with `suffix`.
    pub async fn ghl_posts(&self, suffix: &str) -> Vec<Value> {
        received(&self.fakes.ghl)
            .await
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with(suffix))
            .map(|r| r.body)
            .collect()
    }

    pub fn set(&self, agent: &str, status: &str) {
        self.availability
            .lock()
            .unwrap()
            .insert(agent.into(), status.into());
    }
}

/// Posts `body` to `route` with the GHL secret through the real router; must succeed.
pub async fn send_dial(deps: &Deps, route: &str, body: &Value) -> Value {
    let res = bridge::route(deps, post(route, &body.to_string(), Some(GHL_SECRET))).await;
    let answer = response_json(&res);
    assert!(res.status().is_success(), "{answer}");
    answer
}

/// Deps over the fakes with speed to lead `settings` and `backends` (the stores).
pub fn dial_deps(
    fakes: &Fakes,
    settings: &[(String, String)],
    clock: Arc<ManualClock>,
    queue: Arc<MemoryRetryQueue>,
    mut backends: bridge::Backends,
) -> Deps {
    backends.retry_queue = queue;
    let mut config = config(&fakes.cloudtalk, &fakes.ghl);
    let map: HashMap<String, String> = settings.iter().cloned().collect();
    config.config.speed_to_lead =
        bridge::speed_to_lead::SpeedToLeadOptions::parse(|k| map.get(k).cloned())
            .expect("speed to lead settings");
    Deps::build_with_clock(config, backends, clock).expect("deps")
}

async fn mount_agents(fakes: &Fakes, availability: Shared<HashMap<String, String>>) {
    let names = [
        ("42", "Roberto", "Bianchi"),
        ("43", "Anna", "Verdi"),
        ("44", "Marco", "Neri"),
    ];
    Mock::given(method("GET"))
        .and(path("/api/agents/index.json"))
        .respond_with(move |_: &wiremock::Request| {
            let now = availability.lock().unwrap().clone();
            let data: Vec<Value> = names
                .iter()
                .map(|(id, first, last)| {
                    let email = format!("{}.{}@example.com", first, last).to_lowercase();
                    let status = now.get(*id).cloned().unwrap_or("offline".into());
                    json!({"Agent": {"id": id, "firstname": first, "lastname": last,
                        "email": email, "availability_status": status}})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({"responseData": {
                "itemsCount": data.len(), "pageCount": 1, "pageNumber": 1, "limit": 1000,
                "data": data}}))
        })
        .with_priority(1)
        .mount(&fakes.cloudtalk)
        .await;
}

async fn mount_click_to_call(fakes: &Fakes, answers: Answers) {
    Mock::given(method("POST"))
        .and(path("/api/calls/create.json"))
        .respond_with(move |req: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let agent = body["agent_id"].to_string();
            let mut all = answers.lock().unwrap();
            let queue = all.entry(agent).or_insert_with(|| vec![200]);
            let status = if queue.len() > 1 {
                queue.remove(0)
            } else {
                queue[0]
            };
            let message = match status {
                403 => "Agent is not online.",
                409 => "Agent is already calling.",
                500..=599 => "Something went wrong.",
                _ => "OK",
            };
            let mut answer = json!({"responseData": {"status": status}});
            if status != 200 {
                answer["responseData"]["message"] = json!(message);
            }
            ResponseTemplate::new(status).set_body_json(answer)
        })
        .with_priority(2)
        .mount(&fakes.cloudtalk)
        .await;
}

/// `GET /contacts/{id}` answers GHL's record of the contact, or 404 as GHL does.
async fn mount_directory(fakes: &Fakes, directory: Shared<HashMap<String, Value>>) {
    Mock::given(method("GET"))
        .and(path_regex("^/contacts/[^/]+$"))
        .respond_with(move |req: &wiremock::Request| {
            let id = req.url.path().trim_start_matches("/contacts/").to_string();
            match directory.lock().unwrap().get(&id) {
                Some(record) => {
                    ResponseTemplate::new(200).set_body_json(json!({"contact": record}))
                }
                None => ResponseTemplate::new(404).set_body_json(json!({"statusCode": 404,
                    "message": "Contact not found"})),
            }
        })
        .with_priority(1)
        .mount(&fakes.ghl)
        .await;
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// CloudTalk's blacklist: the list filtered by `public_number`, additions and deletions.
async fn mount_blacklist(fakes: &Fakes, rows: Shared<Vec<Value>>) {
    let listed = rows.clone();
    Mock::given(method("GET"))
        .and(path("/api/blacklist/index.json"))
        .respond_with(move |req: &wiremock::Request| {
            let wanted = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "public_number")
                .map(|(_, v)| digits(&v));
            let all = listed.lock().unwrap();
            let data: Vec<Value> = all
                .iter()
                .filter(|r| {
                    let number = r["Blacklist"]["public_number"].as_str().unwrap_or_default();
                    wanted.as_deref().is_none_or(|w| digits(number) == w)
                })
                .cloned()
                .collect();
            ResponseTemplate::new(200).set_body_json(history_page(data))
        })
        .with_priority(1)
        .mount(&fakes.cloudtalk)
        .await;
    let added = rows.clone();
    Mock::given(method("PUT"))
        .and(path("/api/blacklist/add.json"))
        .respond_with(move |req: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let mut all = added.lock().unwrap();
            let id = (900 + all.len()).to_string();
            all.push(json!({"Blacklist": {"id": id, "type": body["type"],
                "public_number": digits(body["public_number"].as_str().unwrap_or_default())}}));
            ResponseTemplate::new(201)
                .set_body_json(json!({"responseData": {"status": 201, "data": {"id": id}}}))
        })
        .with_priority(1)
        .mount(&fakes.cloudtalk)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/api/blacklist/delete/[^/]+\.json$"))
        .respond_with(move |req: &wiremock::Request| {
            let id = req.url.path().rsplit('/').next().unwrap_or_default();
            let id = id.trim_end_matches(".json").to_string();
            let mut all = rows.lock().unwrap();
            let before = all.len();
            all.retain(|r| r["Blacklist"]["id"].as_str() != Some(id.as_str()));
            let status = if all.len() < before { 200 } else { 404 };
            ResponseTemplate::new(status).set_body_json(json!({"responseData": {"status": status}}))
        })
        .with_priority(1)
        .mount(&fakes.cloudtalk)
        .await;
}
