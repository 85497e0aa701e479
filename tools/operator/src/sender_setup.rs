//! What each sender is set up with, per webhook route: the trigger and the JSON body to paste
//! (GoHighLevel's workflow **Custom Webhook** action, CloudTalk's workflow **API Request**
//! action). The one place these texts live in code: `bridge doctor --print-setup` prints them
//! with the deployment's URL and header, and a test (`tests/doctor.rs`) checks that the manual's
//! sender chapter (`docs/src/operator/senders.md`) shows the same trigger and body for each
//! route, so the two cannot drift.
//!
//! `ghl-app-install` has no entry: GoHighLevel's Marketplace sends it, signed, to the app's
//! webhook URL (and the other event types of installed locations with it).

use bridge::registry::{EndpointId, Sender};

/// How one route's sender is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderSetup {
    pub endpoint: EndpointId,
    /// The sender's trigger (GHL's workflow trigger, CloudTalk's workflow event).
    pub trigger: &'static str,
    /// The JSON body, with the sender's variables (`{{contact.id}}`) and `<…>` for what the
    /// operator fills in.
    pub body: &'static str,
    /// What to add or know, when anything.
    pub note: Option<&'static str>,
}

impl SenderSetup {
    /// The route's last segment (`call-ended`), as the manual's tables name it.
    pub fn route_name(&self) -> &'static str {
        let route = self.endpoint.entry().route;
        route.rsplit('/').next().unwrap_or(route)
    }

    pub fn sender(&self) -> Sender {
        self.endpoint.entry().sender
    }

    /// The action to add in the sender's workflow.
    pub fn action(&self) -> &'static str {
        match self.sender() {
            Sender::GoHighLevel => "Custom Webhook",
            Sender::CloudTalk => "API Request",
        }
    }
}

use EndpointId as E;

const fn route(
    endpoint: EndpointId,
    trigger: &'static str,
    body: &'static str,
    note: Option<&'static str>,
) -> SenderSetup {
    SenderSetup {
        endpoint,
        trigger,
        body,
        note,
    }
}

/// Every webhook route but the Marketplace app's, GoHighLevel's first, in the order of the
/// manual's tables.
#[rustfmt::skip]
pub static SENDERS: &[SenderSetup] = &[
    route(E::GhlNewContact, "Contact Created",
        r#"{"contact_id": "{{contact.id}}", "first_name": "{{contact.first_name}}", "last_name": "{{contact.last_name}}", "email": "{{contact.email}}", "phone": "{{contact.phone}}", "tags": "{{contact.tags}}", "company_name": "{{contact.company_name}}", "source": "{{contact.source}}", "location": {"id": "{{location.id}}"}}"#,
        None),
    route(E::GhlNewTag, "Contact Tag (tag added)",
        r#"{"contact_id": "{{contact.id}}", "full_name": "{{contact.name}}", "phone": "{{contact.phone}}", "email": "{{contact.email}}", "tag": "<the tag the trigger watches>", "location": {"id": "{{location.id}}"}}"#,
        None),
    route(E::GhlNewNote, "Note Added",
        r#"{"contact_id": "{{contact.id}}", "note": {"body": "{{note.body}}"}, "location": {"id": "{{location.id}}"}}"#,
        None),
    route(E::GhlPipelineChange, "Pipeline Stage Changed",
        r#"{"contact_id": "{{contact.id}}", "opportunity_name": "{{opportunity.name}}", "pipeline_name": "{{opportunity.pipeline_name}}", "pipeline_stage": "{{opportunity.pipeline_stage}}", "location": {"id": "{{location.id}}"}}"#,
        None),
    route(E::GhlStatusChange, "Contact Changed (the field holding the status)",
        r#"{"contact_id": "{{contact.id}}", "status": "<the new status>", "previous_status": "<the old status>", "reason": "<why>", "location": {"id": "{{location.id}}"}}"#,
        None),
    route(E::GhlDndChange, "Contact DND",
        r#"{"contact_id": "{{contact.id}}", "location": {"id": "{{location.id}}"}}"#,
        Some("the bridge reads the contact's Do Not Disturb from GHL itself")),
    route(E::GhlSmsDelivery, "the app's SMS provider: Delivery URL",
        r#"{"contactId": "<id>", "locationId": "<id>", "messageId": "<id>", "type": "SMS", "phone": "<number>", "message": "<text>", "attachments": [], "userId": "<id>"}"#,
        Some("GHL sends this itself, signed: the URL goes in the app's SMS conversation provider, not in a workflow")),
    route(E::CloudtalkCallStarted, "Call → Started",
        r#"{"call_id": "{{call.id}}", "call_uuid": "{{call.uuid}}", "contact_id": "{{contact.id}}", "external_number": "{{call.external_number}}", "agent_name": "{{agent.name}}", "agent_id": "{{call.agent_id}}", "direction": "{{call.direction}}"}"#,
        None),
    route(E::CloudtalkCallEnded, "Call → Ended",
        r#"{"call_id": "{{call.id}}", "call_uuid": "{{call.uuid}}", "contact_id": "{{contact.id}}", "external_number": "{{call.external_number}}", "agent_name": "{{agent.name}}", "direction": "{{call.direction}}", "status": "{{call.status}}", "duration": "{{call.duration}}", "talking_time": "{{call.talking_time}}", "waiting_time": "{{call.waiting_time}}", "recording_url": "{{call.recording_url}}"}"#,
        None),
    route(E::CloudtalkRecordingAvailable, "Recording → Recording Uploaded",
        r#"{"call_id": "{{call.id}}", "contact_id": "{{contact.id}}", "external_number": "{{call.external_number}}", "recording_url": "{{call.recording_url}}"}"#,
        None),
    route(E::CloudtalkAgentStatusChange, "Agent → status changed",
        r#"{"agent_id": "{{agent.id}}", "agent_name": "{{agent.name}}", "status": "{{agent.status}}"}"#,
        None),
    route(E::CloudtalkContactCreated, "Contact → Created",
        r#"{"contact_id": "{{contact.id}}", "contact_name": "{{contact.name}}", "external_number": "{{contact.phone}}", "contact_email": "{{contact.email}}", "company": "{{contact.company}}"}"#,
        None),
    route(E::CloudtalkCampaignStatusChange, "Campaign → status changed",
        r#"{"campaign_id": "{{campaign.id}}", "campaign_name": "{{campaign.name}}", "campaign_status": "{{campaign.status}}", "campaign_tag": "<the tag the campaign dials>"}"#,
        Some("plus the contact keys when the trigger is about one contact")),
    route(E::CloudtalkCallModified, "Call Modified",
        r#"{"call_id": "{{call_id}}", "contact_id": "{{contact_id}}", "external_number": "{{external_number}}", "agent_id": "{{agent_id}}", "tags": "{{call_tags}}", "rating": "{{call_rating}}", "notes": "{{call_notes}}"}"#,
        None),
    route(E::CloudtalkSmsReceived, "SMS → Received",
        r#"{"sms_id": "{{sms.id}}", "external_number": "{{sms.external_number}}", "internal_number": "{{sms.internal_number}}", "text": "{{sms.text}}", "date": "{{sms.date}}", "contact_id": "{{contact.id}}"}"#,
        Some("sms_id (or date) tells two equal texts apart")),
    route(E::CloudtalkGeneric, "anything else",
        r#"{"event": "<what it is>"}"#,
        Some("any other keys too; \"event\" names it in the logs")),
];

/// The setup of `endpoint`'s sender, if it is set up by hand.
pub fn of(endpoint: EndpointId) -> Option<&'static SenderSetup> {
    SENDERS.iter().find(|s| s.endpoint == endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bridge::registry::REGISTRY;

    #[test]
    fn every_route_but_the_app_s_has_one_setup_and_its_body_is_json() {
        for entry in &REGISTRY {
            let found = SENDERS.iter().filter(|s| s.endpoint == entry.id).count();
            let expected = usize::from(entry.id != EndpointId::GhlAppInstall);
            assert_eq!(found, expected, "{}", entry.name);
        }
        for setup in SENDERS {
            let body: serde_json::Value = serde_json::from_str(setup.body)
                .unwrap_or_else(|e| panic!("{}: {e}", setup.route_name()));
            assert!(body.is_object(), "{}", setup.route_name());
        }
        assert_eq!(
            of(EndpointId::CloudtalkCallEnded).map(SenderSetup::route_name),
            Some("call-ended")
        );
    }
}
