//! GoHighLevel's Do Not Disturb on a contact: `dnd` (every channel) and `dndSettings`, a status
//! per channel (`Call`, `Email`, `SMS`, `WhatsApp`, `GMB`, `FB`, each `{status, message,
//! code}`), as GHL answers them on `GET /contacts/{id}` and takes them on a create, upsert or
//! update; and what `PUT /sandbox/contacts/{id}/dnd` changes ([`DndChange`]).
//!
//! The two are kept as they are sent, neither derived from the other: `dnd: true` with
//! `dndSettings.Call.status: inactive` is what GHL holds when someone set it so. Channels sent
//! in `dndSettings` replace those the contact has; the others stay.

use serde::{Deserialize, Serialize};

/// A channel's Do Not Disturb status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DndStatus {
    Active,
    Inactive,
    Permanent,
}

impl DndStatus {
    /// As GHL writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Permanent => "permanent",
        }
    }
}

/// One channel's Do Not Disturb (GHL's `DndSettingSchema`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DndSetting {
    pub status: DndStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl DndSetting {
    /// A setting with this status alone.
    pub fn status(status: DndStatus) -> Self {
        Self {
            status,
            message: None,
            code: None,
        }
    }
}

/// Every channel's Do Not Disturb (GHL's `DndSettingsSchema`); a channel left `None` is not
/// set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DndSettings {
    #[serde(rename = "Call", default, skip_serializing_if = "Option::is_none")]
    pub call: Option<DndSetting>,
    #[serde(rename = "Email", default, skip_serializing_if = "Option::is_none")]
    pub email: Option<DndSetting>,
    #[serde(rename = "SMS", default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<DndSetting>,
    #[serde(rename = "WhatsApp", default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<DndSetting>,
    #[serde(rename = "GMB", default, skip_serializing_if = "Option::is_none")]
    pub gmb: Option<DndSetting>,
    #[serde(rename = "FB", default, skip_serializing_if = "Option::is_none")]
    pub fb: Option<DndSetting>,
}

impl DndSettings {
    /// The channels by GHL's names.
    fn channels(&self) -> [(&'static str, &Option<DndSetting>); 6] {
        [
            ("Call", &self.call),
            ("Email", &self.email),
            ("SMS", &self.sms),
            ("WhatsApp", &self.whatsapp),
            ("GMB", &self.gmb),
            ("FB", &self.fb),
        ]
    }

    /// The channels `sent` sets replace these; the others stay.
    pub fn merge(&mut self, sent: DndSettings) {
        let slots = [
            (&mut self.call, sent.call),
            (&mut self.email, sent.email),
            (&mut self.sms, sent.sms),
            (&mut self.whatsapp, sent.whatsapp),
            (&mut self.gmb, sent.gmb),
            (&mut self.fb, sent.fb),
        ];
        for (slot, sent) in slots {
            if sent.is_some() {
                *slot = sent;
            }
        }
    }

    /// The channels not `inactive`, by GHL's names, with their status.
    pub fn barred(&self) -> Vec<(&'static str, DndStatus)> {
        self.channels()
            .into_iter()
            .filter_map(|(name, setting)| Some((name, setting.as_ref()?.status)))
            .filter(|(_, status)| *status != DndStatus::Inactive)
            .collect()
    }
}

/// `PUT /sandbox/contacts/{id}/dnd`'s body ([`super::base::Sandbox::set_contact_dnd`]): `dnd`,
/// `dndSettings` or both; what is left out stays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DndChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnd: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnd_settings: Option<DndSettings>,
}

impl DndChange {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.dnd.is_none() && self.dnd_settings.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sent_channels_replace_and_the_others_stay() {
        let mut held: DndSettings = serde_json::from_value(json!({
            "Call": {"status": "active", "message": "asked"}, "SMS": {"status": "permanent"}
        }))
        .unwrap();
        held.merge(serde_json::from_value(json!({"Call": {"status": "inactive"}})).unwrap());
        assert_eq!(
            serde_json::to_value(&held).unwrap(),
            json!({"Call": {"status": "inactive"}, "SMS": {"status": "permanent"}})
        );
        assert_eq!(held.barred(), [("SMS", DndStatus::Permanent)]);
    }

    #[test]
    fn unknown_channels_and_statuses_are_refused() {
        let bad = |v| serde_json::from_value::<DndChange>(v).is_err();
        assert!(bad(json!({"dndSettings": {"Fax": {"status": "active"}}})));
        assert!(bad(json!({"dndSettings": {"Call": {"status": "on"}}})));
        assert!(bad(json!({"dnd": "yes"})));
        assert!(bad(json!({"dnd": true, "other": 1})));
        let empty: DndChange = serde_json::from_value(json!({})).unwrap();
        assert!(empty.is_empty());
    }
}
