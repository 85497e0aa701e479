//! Inbound webhook payloads, normalised into one internal event per endpoint.
//!
//! Senders vary the shape of the same event, so parsing reads loosely typed JSON
//! ([`fields`]) rather than one rigid struct per sender.

pub mod cloudtalk;
pub mod fields;
pub mod ghl;

use serde_json::Value;

use crate::error::BridgeError;

/// Bodies larger than this are refused with 413 before they are parsed.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Decodes a webhook body: it must be UTF-8 JSON whose top level is an object.
pub fn parse_body(bytes: &[u8]) -> Result<Value, BridgeError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(BridgeError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(BridgeError::BadRequest("the request body is empty".into()));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| BridgeError::BadRequest("the request body is not valid UTF-8".into()))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| BridgeError::BadRequest(format!("the request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(BridgeError::BadRequest(
            "the request body must be a JSON object".into(),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_that_are_refused() {
        let code = |b: &[u8]| parse_body(b).unwrap_err().code();
        assert_eq!(code(b""), "bad_request");
        assert_eq!(code(b"  \n"), "bad_request");
        assert_eq!(code(b"{not json"), "bad_request");
        assert_eq!(code(b"[1,2]"), "bad_request");
        assert_eq!(code(b"\"text\""), "bad_request");
        assert_eq!(code(&[0xff, 0xfe, b'{', b'}']), "bad_request");
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(code(format!("{{\"a\":{deep}}}").as_bytes()), "bad_request");
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        assert_eq!(code(big.as_bytes()), "payload_too_large");
        assert!(parse_body(br#"{"contact":{"id":"1"}}"#).is_ok());
    }
}
