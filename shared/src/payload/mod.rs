//! Inbound webhook payloads, normalised into one internal event per endpoint.
//!
//! Senders vary the shape of the same event, so parsing reads loosely typed JSON
//! ([`fields`]) rather than one rigid struct per sender.

pub mod cloudtalk;
pub mod error;
pub mod fields;
pub mod ghl;

use serde_json::Value;

pub use error::PayloadError;

/// Bodies larger than this are refused with 413 before they are parsed.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Decodes a webhook body: it must be UTF-8 JSON whose top level is an object.
pub fn parse_body(bytes: &[u8]) -> Result<Value, PayloadError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(PayloadError::TooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(PayloadError::Malformed("the request body is empty".into()));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| PayloadError::Malformed("the request body is not valid UTF-8".into()))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| PayloadError::Malformed(format!("the request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(PayloadError::Malformed(
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
        let malformed = |b: &[u8]| matches!(parse_body(b), Err(PayloadError::Malformed(_)));
        assert!(malformed(b""));
        assert!(malformed(b"  \n"));
        assert!(malformed(b"{not json"));
        assert!(malformed(b"[1,2]"));
        assert!(malformed(b"\"text\""));
        assert!(malformed(&[0xff, 0xfe, b'{', b'}']));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(malformed(format!("{{\"a\":{deep}}}").as_bytes()));
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        assert!(matches!(
            parse_body(big.as_bytes()),
            Err(PayloadError::TooLarge { .. })
        ));
        assert!(parse_body(br#"{"contact":{"id":"1"}}"#).is_ok());
    }
}
