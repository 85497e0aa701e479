//! Texts: CloudTalk numbers as GoHighLevel's SMS provider, both ways.
//!
//! - **Outbound** ([`crate::handlers::ghl::SmsDelivery`]): GHL posts each text a user, a
//!   workflow or a bulk action sends to the provider's Delivery URL; the bridge asks GHL about
//!   the contact (it must exist in the tenant's location and not have opted out of texts),
//!   keeps within the bounds, sends it through `POST /sms/send.json` and reports `delivered` or
//!   `failed` (with the reason) on GHL's message.
//! - **Inbound** ([`crate::handlers::cloudtalk::SmsReceived`]): a text received in CloudTalk
//!   becomes an inbound SMS in the contact's GHL conversation; a lone STOP sets the contact's
//!   SMS Do Not Disturb, START lifts it.

pub mod options;
pub mod text;

pub use options::SmsOptions;
