//! CloudTalk's texts, `POST /sms/send.json`, as CloudTalk's spec (v1.7) documents it.
//!
//! The body is `{"recipient", "message", "sender"}` (required; numbers in E.164), optionally
//! `country_code` and `images_by_url` (up to 5 URLs, sent as MMS). The answer:
//! - 200 `{"responseData": {"success": true, "data": {"recipient", "message", "sender",
//!   "country_code"}}}` when the text went out (`country_code`: the body's, else the
//!   recipient's calling code, `"39"`);
//! - 200 `{"responseData": {"success": false, "data": "<reason>"}}` when the provider refused
//!   it: `Unknown number` (the sender is none of the company's numbers: its agents' numbers
//!   and the company's `+390212345678`), `Bad number configuration` (the recipient is E.164 in
//!   form but no phone number, as libphonenumber tells), `SMS send failed` (the recipient is
//!   on the company's undeliverable list, [`super::sms::SmsSettings`]);
//! - 403 `Insufficient Funds` while the company has no credit ([`super::sms::SmsSettings`]);
//! - 406 `Invalid input data.` by field: a required field empty, a number not E.164, more than
//!   5 images (a required field absent, or of the wrong type, is refused by the contract check
//!   before the operation, and recorded);
//! - the operation's own fault ([`super::sms::SmsFault`]): 500, or the answer held back.
//!
//! Every request the operation answers is a [`super::sms::SentSms`] of `cloudtalk.sms.sent`
//! in `GET /sandbox/state`; it counts against the company's limit as any request does.
//! WhatsApp (`whatsapp:+…` numbers, `file`, `file_by_url`) and blob `images` are not
//! simulated.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::api::{text, texts, Call, Outcome, Reply};
use super::cloudtalk_common::{envelope, invalid, list_envelope, paging, valid_number};
use super::sms::SentSms;
use super::state::{millis_iso, State};
use super::team::COMPANY_NUMBER;

/// The texts' path, after the API's prefix.
pub(crate) const PATH: &str = "/sms/send.json";

/// Images one text may carry (the spec: "Can contain up to 5 urls").
const MAX_IMAGES: usize = 5;

/// Calling codes of one or two digits (ITU-T E.164 assignments); every other is three.
const SHORT_CODES: &[&str] = &[
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
    "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
];

/// A text's body, checked.
struct Text {
    recipient: String,
    message: String,
    sender: String,
    country_code: Option<String>,
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// The calling code an E.164 number starts with (`"39"` for `+39…`).
fn calling_code(e164: &str) -> String {
    let digits = digits(e164);
    let short = SHORT_CODES.iter().find(|c| digits.starts_with(*c));
    match short {
        Some(code) => code.to_string(),
        None => digits.chars().take(3).collect(),
    }
}

/// The company's numbers: the company's own and its agents'.
pub(crate) fn company_numbers(state: &State) -> Vec<String> {
    let agents = state.ct_agents.iter();
    let mut numbers = vec![COMPANY_NUMBER.to_string()];
    for number in agents.flat_map(|a| a.default_number.iter().chain(&a.associated_numbers)) {
        if !numbers.contains(number) {
            numbers.push(number.clone());
        }
    }
    numbers
}

/// `GET /numbers/index.json`: the company's numbers (see [`company_numbers`]), each
/// `{"CallNumber": {"id", "country_code", "caller_id_e164", "internal_name", "connected_to"}}`
/// in the list envelope, filtered by `country_code`.
pub(crate) fn list_numbers(call: &mut Call) -> Outcome {
    let country = call.req.query("country_code").map(digits);
    let rows = company_numbers(call.state)
        .iter()
        .enumerate()
        .filter(|(_, n)| country.as_deref().is_none_or(|c| calling_code(n) == c))
        .map(|(i, n)| {
            let company = n == COMPANY_NUMBER;
            json!({"CallNumber": {
                "id": (i + 1).to_string(),
                "country_code": calling_code(n),
                "caller_id_e164": digits(n).parse::<u64>().unwrap_or_default(),
                "internal_name": if company { "Company" } else { "Agent" },
                "connected_to": if company { "0" } else { "1" },
            }})
        })
        .collect();
    let (page, limit) = paging(call);
    Ok((200, list_envelope(rows, page, limit)))
}

/// The body's text, or CloudTalk's 406 naming each field it refuses.
fn read_text(data: &Value) -> Result<Text, Reply> {
    let mut errors = Map::new();
    let mut field = |name: &str, number: bool| {
        let value = text(data.get(name));
        let problem = match &value {
            None => Some("This field is required.".to_string()),
            Some(n) if number && !valid_number(n) => Some(format!(
                "Please supply only valid numbers. Number {n} is not valid."
            )),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            errors.insert(name.into(), json!([problem]));
        }
        value.unwrap_or_default()
    };
    let (recipient, message, sender) = (
        field("recipient", true),
        field("message", false),
        field("sender", true),
    );
    if texts(data.get("images_by_url")).len() > MAX_IMAGES {
        let problem = format!("Can contain up to {MAX_IMAGES} urls.");
        errors.insert("images_by_url".into(), json!([problem]));
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let country_code = text(data.get("country_code"));
    Ok(Text {
        recipient,
        message,
        sender,
        country_code,
    })
}

/// Why the provider does not send the text (a `success: false` reason), if it does not.
fn refused_because(state: &State, text: &Text) -> Option<&'static str> {
    let sender = digits(&text.sender);
    let recipient = digits(&text.recipient);
    let settings = &state.ct_sms.settings;
    if !company_numbers(state).iter().any(|n| digits(n) == sender) {
        Some("Unknown number")
    } else if bridge::phone::to_e164(&text.recipient, None).is_err() {
        Some("Bad number configuration")
    } else if settings
        .undeliverable
        .iter()
        .any(|n| digits(n) == recipient)
    {
        Some("SMS send failed")
    } else {
        None
    }
}

/// The answer to a text with a valid body: the fault's, 403 without credit, else the
/// provider's.
fn answer(call: &mut Call, text: &Text) -> Outcome {
    if let Some(fault) = call.state.ct_sms.fault.take() {
        call.state.faults_injected += 1;
        if fault.late_answer_ms > 0 {
            call.answer_late(Duration::from_millis(fault.late_answer_ms));
        }
        if fault.failing {
            return Err((500, envelope(500, "Something went wrong.")));
        }
    }
    if call.state.ct_sms.settings.no_credit {
        return Err((403, envelope(403, "Insufficient Funds")));
    }
    let data = match refused_because(call.state, text) {
        Some(reason) => return Ok((200, provider_answer(false, json!(reason)))),
        None => json!({
            "recipient": text.recipient,
            "message": text.message,
            "sender": text.sender,
            "country_code": text.country_code.clone().unwrap_or_else(|| calling_code(&text.recipient)),
        }),
    };
    Ok((200, provider_answer(true, data)))
}

fn provider_answer(success: bool, data: Value) -> Value {
    json!({"responseData": {"success": success, "data": data}})
}

/// `POST /sms/send.json`: see the module's documentation.
pub(crate) fn send(call: &mut Call) -> Outcome {
    let outcome = match read_text(&call.data) {
        Ok(text) => answer(call, &text),
        Err(refusal) => Err(refusal),
    };
    record(call, &outcome);
    outcome
}

/// What an answer means for a text.
fn result_of((status, body): &Reply) -> (String, bool) {
    let data = body.pointer("/responseData/data");
    let success = body.pointer("/responseData/success") == Some(&Value::Bool(true));
    match status {
        200 if success => ("sent".into(), true),
        200 => (
            data.and_then(Value::as_str).unwrap_or("failed").into(),
            false,
        ),
        403 => ("Insufficient Funds".into(), false),
        406 => ("invalid input".into(), false),
        500 => ("server error".into(), false),
        other => (format!("status {other}"), false),
    }
}

/// Records the text and its answer in the state, with a console line.
fn record(call: &mut Call, outcome: &Outcome) {
    let reply = match outcome {
        Ok(reply) | Err(reply) => reply,
    };
    let (result, sent) = result_of(reply);
    let late = call.held_back().map(|d| d.as_millis() as u64);
    let sms = SentSms {
        id: call.state.ct_id(),
        at: millis_iso(call.inner.config.clock.now_ms()),
        sender: call.field("sender"),
        recipient: call.field("recipient"),
        message: call.field("message"),
        images: texts(call.data.get("images_by_url")),
        status: reply.0,
        result,
        sent,
        answered_late_ms: late,
    };
    let to = sms.recipient.as_deref().map(bridge::telemetry::mask_phone);
    let late = late
        .map(|ms| format!(", answered {ms} ms late"))
        .unwrap_or_default();
    call.say(format!(
        "CloudTalk ← text to {} → {} {}{late}",
        to.as_deref().unwrap_or("?"),
        sms.status,
        sms.result
    ));
    call.state.ct_sms.sent.push(sms);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calling_codes_have_one_two_or_three_digits() {
        assert_eq!(calling_code("+14155552671"), "1");
        assert_eq!(calling_code("+393501234567"), "39");
        assert_eq!(calling_code("+442039960000"), "44");
        assert_eq!(calling_code("+421904247371"), "421");
        assert_eq!(calling_code("+79161234567"), "7");
    }

    #[test]
    fn a_body_needs_its_three_fields_e164_numbers_and_at_most_5_images() {
        let ok = json!({"recipient": "+393501234567", "message": "Hi", "sender": "+390212345678",
            "images_by_url": ["a", "b", "c", "d", "e"]});
        assert!(read_text(&ok).is_ok());
        let (status, body) = read_text(&json!({"recipient": "3501234567", "message": " ",
            "images_by_url": ["a", "b", "c", "d", "e", "f"]}))
        .err()
        .unwrap();
        assert_eq!(status, 406);
        let errors = body["responseData"]["data"].as_object().unwrap();
        let fields: Vec<&String> = errors.keys().collect();
        assert_eq!(
            fields,
            ["images_by_url", "message", "recipient", "sender"],
            "{body}"
        );
    }
}
