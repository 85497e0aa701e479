//! GoHighLevel Marketplace webhook signatures.
//!
//! GHL signs Marketplace-app webhooks over the raw body bytes (after API Gateway's base64
//! decoding, which `lambda_http` has already done): `x-ghl-signature` is Ed25519, the legacy
//! `x-wh-signature` is RSA-SHA256 with PKCS#1 v1.5; both base64. The public keys GHL publishes
//! are built in and can be replaced through `GHL_WEBHOOK_PUBLIC_KEY` and
//! `GHL_WEBHOOK_RSA_PUBLIC_KEY` (PEM) when GHL rotates them. A signature proves only that GHL
//! sent the body, not that it is for this deployment: [`crate::pipeline::auth::check_origin`] checks
//! the location and app. A signed body whose `timestamp` is more than five minutes away from now
//! is refused unless it is a redelivery of an event the bridge received before, and a replayed
//! `webhookId` is a duplicate (see [`crate::idempotency`]).

use base64::Engine;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use ed25519_dalek::{Signature, VerifyingKey};
use rsa::pkcs1v15::{Signature as RsaSignature, VerifyingKey as RsaVerifyingKey};
use rsa::signature::Verifier as _;
use rsa::RsaPublicKey;
use sha2::Sha256;

/// GHL's published Ed25519 key for `x-ghl-signature`.
pub const GHL_ED25519_PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=
-----END PUBLIC KEY-----";

/// GHL's published RSA key for the legacy `x-wh-signature`.
pub const GHL_RSA_PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSC
Frm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4u3cLSqJGOLaPuXw6
dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfB
csedpinheNnyYeFXolrJvcsjDtfAeRx5ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpv
uxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF
3kvoV5rTnXV0IknLBXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKU
J062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp
IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzN
h/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yDiOXCCs9FkHibELhC
HULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJ
PQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXCsu9aTEGEnKzmsFqwcSsnw3JB31IGKAyk
T1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ==
-----END PUBLIC KEY-----";

/// How far a signed body's `timestamp` may be from now.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The outcome of checking a request's signature headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Neither signature header is present.
    Absent,
    Valid,
    /// A signature header is present but does not verify; the reason is safe to return.
    Invalid(&'static str),
}

/// Verifies GHL signatures with the configured (or built-in) public keys.
#[derive(Clone, Debug)]
pub struct GhlSignatureVerifier {
    ed25519: VerifyingKey,
    rsa: RsaVerifyingKey<Sha256>,
}

/// Environment values often carry PEM line breaks as literal `\n`.
fn pem_text(value: &str) -> String {
    value.replace("\\n", "\n").trim().to_string()
}

impl GhlSignatureVerifier {
    /// The built-in keys, or the given PEM overrides.
    pub fn new(ed25519_pem: Option<&str>, rsa_pem: Option<&str>) -> Result<Self, String> {
        let ed_text = pem_text(ed25519_pem.unwrap_or(GHL_ED25519_PUBLIC_KEY_PEM));
        let ed25519 = VerifyingKey::from_public_key_pem(&ed_text)
            .map_err(|e| format!("GHL_WEBHOOK_PUBLIC_KEY is not an Ed25519 public key PEM: {e}"))?;
        let rsa_text = pem_text(rsa_pem.unwrap_or(GHL_RSA_PUBLIC_KEY_PEM));
        let rsa_key = RsaPublicKey::from_public_key_pem(&rsa_text)
            .map_err(|e| format!("GHL_WEBHOOK_RSA_PUBLIC_KEY is not an RSA public key PEM: {e}"))?;
        Ok(Self {
            ed25519,
            rsa: RsaVerifyingKey::new(rsa_key),
        })
    }

    /// Checks `x-ghl-signature` (Ed25519) first, else `x-wh-signature` (RSA), over `body`.
    pub fn check(
        &self,
        ghl_signature: Option<&str>,
        wh_signature: Option<&str>,
        body: &[u8],
    ) -> SignatureCheck {
        let decode = |s: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .ok()
        };
        if let Some(sig) = ghl_signature {
            let Some(bytes) = decode(sig) else {
                return SignatureCheck::Invalid("x-ghl-signature is not base64");
            };
            let Ok(signature) = Signature::from_slice(&bytes) else {
                return SignatureCheck::Invalid("x-ghl-signature has the wrong length");
            };
            return match self.ed25519.verify_strict(body, &signature) {
                Ok(()) => SignatureCheck::Valid,
                Err(_) => SignatureCheck::Invalid("x-ghl-signature does not match the body"),
            };
        }
        if let Some(sig) = wh_signature {
            let Some(bytes) = decode(sig) else {
                return SignatureCheck::Invalid("x-wh-signature is not base64");
            };
            let Ok(signature) = RsaSignature::try_from(bytes.as_slice()) else {
                return SignatureCheck::Invalid("x-wh-signature is malformed");
            };
            return match self.rsa.verify(body, &signature) {
                Ok(()) => SignatureCheck::Valid,
                Err(_) => SignatureCheck::Invalid("x-wh-signature does not match the body"),
            };
        }
        SignatureCheck::Absent
    }
}

/// Where a signed body's `timestamp` lies against now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Within [`MAX_CLOCK_SKEW_SECS`] of now (or absent: the pipeline requires it separately).
    Fresh,
    /// Older than the window.
    Stale,
    /// Further ahead than the window.
    Future,
    /// Not a date.
    Unreadable,
}

/// Reads a signed body's `timestamp` (RFC 3339 or Unix seconds/milliseconds) against `now`.
pub fn timestamp_freshness(body: &serde_json::Value, now: i64) -> Freshness {
    let Some(ts) = body.get("timestamp") else {
        return Freshness::Fresh;
    };
    let secs = match ts {
        serde_json::Value::String(s) => chrono::DateTime::parse_from_rfc3339(s.trim())
            .map(|d| d.timestamp())
            .ok()
            .or_else(|| s.trim().parse::<i64>().ok()),
        serde_json::Value::Number(n) => n.as_i64(),
        _ => None,
    };
    let Some(mut secs) = secs else {
        return Freshness::Unreadable;
    };
    if secs > 100_000_000_000 {
        secs /= 1000;
    }
    match now - secs {
        age if age > MAX_CLOCK_SKEW_SECS => Freshness::Stale,
        age if age < -MAX_CLOCK_SKEW_SECS => Freshness::Future,
        _ => Freshness::Fresh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_published_keys_parse() {
        let v = GhlSignatureVerifier::new(None, None).unwrap();
        assert_eq!(v.check(None, None, b"{}"), SignatureCheck::Absent);
        assert!(GhlSignatureVerifier::new(Some("not a key"), None).is_err());
        assert!(GhlSignatureVerifier::new(None, Some(GHL_ED25519_PUBLIC_KEY_PEM)).is_err());
    }

    #[test]
    fn timestamps() {
        let now = 1_795_860_000;
        let at = |ts: serde_json::Value, now| timestamp_freshness(&json!({ "timestamp": ts }), now);
        assert_eq!(timestamp_freshness(&json!({}), now), Freshness::Fresh);
        assert_eq!(
            at(json!("2026-11-28T10:00:00Z"), now + 10),
            Freshness::Fresh
        );
        assert_eq!(
            at(json!("2026-11-28T10:00:00Z"), now + 301),
            Freshness::Stale
        );
        assert_eq!(
            at(json!("2026-11-28T10:00:00Z"), now - 301),
            Freshness::Future
        );
        assert_eq!(at(json!(1_795_860_000_000i64), now), Freshness::Fresh);
        assert_eq!(at(json!("yesterday"), now), Freshness::Unreadable);
    }
}
