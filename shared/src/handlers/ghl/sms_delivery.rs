//! `POST /api/ghl-webhooks/sms-delivery`: the app's SMS provider Delivery URL. GHL posts each
//! text a user (web, mobile), a workflow or a bulk action sends to a contact of a location
//! whose SMS provider is the app; the bridge sends it through the tenant's CloudTalk account
//! and reports `delivered` or `failed` (with the reason) on GHL's message.
//!
//! Before it sends, it asks GHL: the message must be GHL's and still pending, the contact must
//! be in the tenant's location and must not have opted out of texts (`dnd`, or
//! `dndSettings.SMS` active or permanent), and the number texted is one GHL holds for it. Then
//! the bounds (texts per tenant per minute, per number per day, counted across containers),
//! the length (split into at most three texts) and the pictures (`images_by_url`).
//!
//! Exactly once per `messageId` (the event's key): each part is a step, its intent recorded
//! before the request. CloudTalk has no API to read sent texts back, so a request whose answer
//! was lost (no answer, a server error) is never sent again: the message is reported failed
//! with that reason. A request that was not made (the budget, CloudTalk's 429) is retried.

use async_trait::async_trait;
use serde_json::Value;

use crate::clients::cloudtalk::{SmsAnswer, SmsInput};
use crate::clients::ghl::MessageStatus;
use crate::clients::ContactRecord;
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::{require_cloudtalk, require_ghl};
use crate::idempotency::Steps;
use crate::payload::sms::{parse_sms_delivery, SmsDelivery as Delivery};
use crate::payload::PayloadError;
use crate::phone::{same_number, to_e164};
use crate::sms::text;

pub struct SmsDelivery;

/// The step that records what was reported to GHL.
const REPORTED: &str = "status";

/// What became of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Delivered {
        parts: usize,
    },
    /// Not sent, and why: the rule (`dnd_sms`, `cap_per_number`, …) and the reason.
    Failed {
        code: String,
        reason: String,
    },
    /// Not the bridge's to send (GHL has no such pending message): nothing sent or reported.
    Skipped(&'static str),
}

fn failed(code: &str, reason: impl Into<String>) -> Verdict {
    Verdict::Failed {
        code: code.to_string(),
        reason: reason.into(),
    }
}

#[async_trait]
impl Handler for SmsDelivery {
    type Event = Delivery;

    fn parse(&self, body: &Value) -> Result<Delivery, PayloadError> {
        parse_sms_delivery(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        d: &Delivery,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        require_cloudtalk(deps)?;
        require_ghl(deps)?;
        let verdict = match steps.get(REPORTED) {
            Some(reported) => return Ok(outcome(d, reported)),
            None => deliver(deps, d, steps).await?,
        };
        let status = match &verdict {
            Verdict::Delivered { .. } => MessageStatus::delivered(),
            Verdict::Failed { code, reason } => MessageStatus::failed(code, reason),
            Verdict::Skipped(why) => {
                return Ok(Outcome::with_result(why).detail("messageId", &d.message_id))
            }
        };
        deps.ghl.set_message_status(&d.message_id, &status).await?;
        let reported = match &verdict {
            Verdict::Failed { code, .. } => format!("failed:{code}"),
            _ => "delivered".to_string(),
        };
        steps.record(REPORTED, &reported).await?;
        let mut done = outcome(d, &reported);
        if let Verdict::Delivered { parts } = verdict {
            done = done.detail("texts", parts);
        }
        Ok(done)
    }
}

/// The answer for a message whose outcome was reported (`delivered`, `failed:<code>`).
fn outcome(d: &Delivery, reported: &str) -> Outcome {
    let mut outcome = match reported.split_once(':') {
        Some((_, code)) => Outcome::with_result("failed").detail("reason", code),
        None => Outcome::with_result("delivered"),
    };
    outcome.ghl_contact_id = Some(d.contact_id.clone());
    outcome.detail("messageId", &d.message_id)
}

/// Checks the text against GHL and the rules, then sends it.
async fn deliver(deps: &Deps, d: &Delivery, steps: &mut Steps) -> Result<Verdict, BridgeError> {
    // Once a part went out, the checks were passed: the rest goes on from there.
    if steps.get("sms:0?").is_none() {
        match deps.ghl.message_status(&d.message_id).await? {
            None => return Ok(Verdict::Skipped("no_such_message")),
            Some(s) if !s.eq_ignore_ascii_case("pending") => {
                return Ok(Verdict::Skipped("not_pending"))
            }
            Some(_) => {}
        }
    }
    let record = match deps.ghl.get_contact(&d.contact_id).await {
        Ok(record) => record,
        Err(e) if e.is_not_found() => {
            return Ok(failed("contact_missing", "GoHighLevel has no such contact"))
        }
        Err(e) => return Err(e.into()),
    };
    let text = match checked(deps, d, &record).await {
        Ok(text) => text,
        Err(verdict) => return Ok(verdict),
    };
    if let Some(rule) = take_bounds(deps, &text.recipient, steps).await? {
        return Ok(rule);
    }
    send(deps, &text, steps).await
}

/// A text that passed the checks: to whom, from which number, in which parts.
struct Checked {
    recipient: String,
    sender: String,
    parts: Vec<String>,
    images: Vec<String>,
}

/// The checks of a text against what GHL holds and the rules: the text to send, or why not.
async fn checked(deps: &Deps, d: &Delivery, record: &ContactRecord) -> Result<Checked, Verdict> {
    let location = deps.location_for(d.location_id.as_deref());
    if location != "default" && record.location_id.as_deref() != Some(location.as_str()) {
        return Err(failed(
            "other_location",
            "the contact is not in this location",
        ));
    }
    if let Some(why) = record.consent.refuses_texts() {
        let reason = "the contact does not accept texts (Do Not Disturb in GoHighLevel)";
        return Err(failed(why, reason));
    }
    let recipient = recipient(deps, d, record).ok_or_else(|| {
        failed(
            "no_phone",
            "GoHighLevel holds no number to text for the contact",
        )
    })?;
    let sender = sender(deps, d).await.ok_or_else(|| {
        failed(
            "no_sender",
            "no number to text from: set SMS_SENDER_NUMBER, or give the user's CloudTalk agent a default number",
        )
    })?;
    let parts = text::parts(&d.message).map_err(|e| failed("too_long", e))?;
    let images = text::images(&d.attachments).map_err(|e| failed("attachments", e))?;
    Ok(Checked {
        recipient,
        sender,
        parts,
        images,
    })
}

/// The number texted: the one the delivery names, when GHL holds it for the contact, else the
/// contact's first (a webhook body is a claim; GHL's record is the fact).
fn recipient(deps: &Deps, d: &Delivery, record: &ContactRecord) -> Option<String> {
    let region = deps.config.default_phone_region.as_deref();
    let held: Vec<String> = record
        .phones
        .iter()
        .filter_map(|p| to_e164(p, region).ok())
        .collect();
    let named = d.phone.as_deref().and_then(|p| to_e164(p, region).ok());
    match named {
        Some(n) if held.iter().any(|h| same_number(h, &n, region)) => Some(n),
        _ => held.into_iter().next(),
    }
}

/// The number texted from: the default number of the sending user's CloudTalk agent, else the
/// tenant's `SMS_SENDER_NUMBER`.
async fn sender(deps: &Deps, d: &Delivery) -> Option<String> {
    if let Some(user) = &d.user_id {
        if let Some(number) = crate::resolve::agent::number_of_user(deps, user).await {
            return Some(number);
        }
    }
    deps.config.sms.sender.clone()
}

/// Takes the text's place under both bounds, once (step `bounds`): the tenant's minute first
/// (when it is full the text waits for the next minute), then the number's day (when it is
/// full the text fails). `Some` when a bound stops it.
async fn take_bounds(
    deps: &Deps,
    recipient: &str,
    steps: &mut Steps,
) -> Result<Option<Verdict>, BridgeError> {
    match steps.get("bounds") {
        Some("ok") => return Ok(None),
        Some(_) => return Ok(Some(day_cap(deps))),
        None => {}
    }
    let options = &deps.config.sms;
    let location = deps.location_for(None);
    let now = deps.clock.now_ms();
    let minute = now.div_euclid(60_000);
    let name = format!("sms#{location}#minute#{minute}");
    let keep = (minute + 2) * 60;
    let per_minute = u64::from(options.max_per_minute);
    if deps
        .state
        .count(&name, "texts", per_minute, keep)
        .await?
        .is_none()
    {
        let wait_secs = u64::try_from(60 - now.rem_euclid(60_000) / 1000).unwrap_or(60);
        return Err(BridgeError::Waiting {
            message: format!("{per_minute} texts were sent this minute; the next minute's turn"),
            wait_secs: wait_secs.max(1),
        });
    }
    let name = number_day_name(&location, recipient, now);
    let keep = now / 1000 + 2 * 86_400;
    let per_day = u64::from(options.max_per_number_per_day);
    let counted = deps.state.count(&name, "texts", per_day, keep).await?;
    steps
        .record(
            "bounds",
            if counted.is_some() {
                "ok"
            } else {
                "cap_per_number"
            },
        )
        .await?;
    Ok(counted.is_none().then(|| day_cap(deps)))
}

/// The texts to number `e164` on the day (UTC) that holds `now_ms`; the number hashed.
fn number_day_name(location: &str, e164: &str, now_ms: i64) -> String {
    let digest = crate::digest::sha256(e164.as_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let day = now_ms.div_euclid(86_400_000);
    format!("sms#{location}#number#{hash}#{day}")
}

fn day_cap(deps: &Deps) -> Verdict {
    let limit = deps.config.sms.max_per_number_per_day;
    failed(
        "cap_per_number",
        format!("{limit} texts were sent to this number today (SMS_MAX_PER_NUMBER_PER_DAY)"),
    )
}

/// Sends each part once (steps `sms:<i>`, the intent `sms:<i>?` recorded before the request).
async fn send(deps: &Deps, text: &Checked, steps: &mut Steps) -> Result<Verdict, BridgeError> {
    for (i, part) in text.parts.iter().enumerate() {
        let step = format!("sms:{i}");
        let intent = format!("{step}?");
        if steps.get(&step).is_some() {
            continue;
        }
        if steps.get(&intent) == Some("sent") {
            return Ok(lost());
        }
        steps.record(&intent, "sent").await?;
        let sms = SmsInput {
            recipient: text.recipient.clone(),
            sender: text.sender.clone(),
            message: part.clone(),
            images_by_url: if i == 0 {
                text.images.clone()
            } else {
                Vec::new()
            },
        };
        match deps.cloudtalk.send_sms(&sms).await {
            Ok(SmsAnswer::Sent) => steps.record(&step, "sent").await?,
            Ok(SmsAnswer::Refused(reason)) => {
                steps.record(&step, "refused").await?;
                return Ok(failed(
                    "cloudtalk",
                    format!("CloudTalk did not send it: {reason}"),
                ));
            }
            Err(e) if e.may_have_applied() => return Ok(lost()),
            Err(e) if e.is_retryable() => {
                // Not made (the budget, a 429): sent on the next attempt.
                steps.record(&intent, "not-sent").await?;
                return Err(e.into());
            }
            Err(e) => {
                steps.record(&step, "refused").await?;
                let code = e
                    .status()
                    .map_or("cloudtalk".to_string(), |s| format!("cloudtalk_{s}"));
                return Ok(failed(&code, format!("CloudTalk refused it: {e}")));
            }
        }
    }
    Ok(Verdict::Delivered {
        parts: text.parts.len(),
    })
}

/// A request whose answer was lost: reported failed, never sent again.
fn lost() -> Verdict {
    failed(
        "outcome_unknown",
        "CloudTalk's answer was lost: the text may have been sent, and is not sent again",
    )
}
