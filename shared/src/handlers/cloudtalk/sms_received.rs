//! `POST /api/cloudtalk-webhooks/sms-received`: a contact texted one of the account's numbers
//! (CloudTalk's workflow automation, trigger "SMS received") → an inbound SMS in the contact's
//! GHL conversation, under the app's SMS provider (`GHL_SMS_PROVIDER_ID`), so GHL's inbox,
//! notifications and "Customer replied" triggers fire. The contact is found by number as a
//! call's is (the map, GHL's duplicate search, else created).
//!
//! A text that is one of the opt-out words (`SMS_STOP_WORDS`: STOP, UNSUBSCRIBE, …) sets the
//! contact's SMS Do Not Disturb in GHL; an opt-in word (`SMS_START_WORDS`: START, …) lifts it.
//! The text itself is added either way.
//!
//! Once per text: the message is a step whose intent is recorded before the write; a write
//! whose answer was lost is looked for among the conversation's latest texts before any retry.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::clients::ghl::InboundSms;
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_ghl;
use crate::idempotency::Steps;
use crate::payload::cloudtalk::ContactRef;
use crate::payload::sms::{parse_sms_received, ReceivedSms};
use crate::payload::PayloadError;
use crate::resolve::ghl_contact::resolve_ghl_contact;
use crate::sms::text::{keyword, Keyword};

pub struct SmsReceived;

#[async_trait]
impl Handler for SmsReceived {
    type Event = ReceivedSms;

    fn parse(&self, body: &Value) -> Result<ReceivedSms, PayloadError> {
        parse_sms_received(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        sms: &ReceivedSms,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        require_ghl(deps)?;
        let Some(provider) = deps.config.sms.provider_id.clone() else {
            return Err(BridgeError::Config(
                "GHL_SMS_PROVIDER_ID is not set: received texts have no conversation provider to arrive under".into(),
            ));
        };
        let location = deps.location_for(None);
        let contact = ContactRef {
            cloudtalk_id: sms.cloudtalk_contact_id.clone(),
            phone: Some(sms.from.clone()),
            email: None,
            name: None,
        };
        let resolved = resolve_ghl_contact(deps, &location, &contact, None, steps).await?;
        let options = &deps.config.sms;
        let asked = keyword(&sms.text, &options.stop_words, &options.start_words);
        if let Some(asked) = asked {
            consent_once(deps, &resolved.ghl_id, asked, steps).await?;
        }
        let conversation = steps
            .run("conversation", || async {
                Ok(deps
                    .ghl
                    .conversation_of(&location, &resolved.ghl_id)
                    .await?)
            })
            .await?;
        let message = InboundSms {
            kind: "SMS",
            conversation_id: conversation.clone(),
            contact_id: resolved.ghl_id.clone(),
            conversation_provider_id: provider,
            message: sms.text.clone(),
            direction: "inbound",
            date: sms.date.clone(),
            attachments: Vec::new(),
        };
        let message_id = inbound_once(deps, &message, steps).await?;
        let mut outcome = Outcome::with_result("applied");
        outcome.ghl_contact_id = Some(resolved.ghl_id);
        let outcome = outcome.detail("messageId", message_id);
        Ok(match asked {
            Some(Keyword::Stop) => outcome.detail("smsDnd", true),
            Some(Keyword::Start) => outcome.detail("smsDnd", false),
            None => outcome,
        })
    }
}

/// Sets (STOP) or lifts (START) the contact's SMS Do Not Disturb in GHL, once (step `consent`).
async fn consent_once(
    deps: &Deps,
    contact: &str,
    asked: Keyword,
    steps: &mut Steps,
) -> Result<(), BridgeError> {
    let (status, message) = match asked {
        Keyword::Stop => ("active", "The contact texted an opt-out word"),
        Keyword::Start => ("inactive", "The contact texted an opt-in word"),
    };
    let fields = json!({"dndSettings": {"SMS": {"status": status, "message": message,
        "code": "cloudtalk-bridge"}}});
    steps
        .run("consent", || async {
            deps.ghl.update_contact(contact, &fields).await?;
            Ok(status.to_string())
        })
        .await?;
    Ok(())
}

/// Adds the text to the conversation once (step `inbound`); an earlier attempt's write whose
/// answer was lost is found among the conversation's latest texts first.
async fn inbound_once(
    deps: &Deps,
    message: &InboundSms,
    steps: &mut Steps,
) -> Result<String, BridgeError> {
    if let Some(id) = steps.get("inbound") {
        return Ok(id.to_string());
    }
    if steps.get("inbound?").is_some() {
        let texts = deps.ghl.recent_texts(&message.conversation_id).await?;
        let same = texts
            .iter()
            .find(|t| t.direction == "inbound" && t.body == message.message);
        if let Some(found) = same {
            steps.record("inbound", &found.id).await?;
            return Ok(found.id.clone());
        }
    }
    steps.record("inbound?", "sent").await?;
    let id = deps.ghl.add_inbound_sms(message).await?;
    steps.record("inbound", &id).await?;
    Ok(id)
}
