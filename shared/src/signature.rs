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

use std::sync::{Arc, LazyLock};

use aws_lc_rs::signature::{
    ParsedPublicKey, VerificationAlgorithm, ED25519, RSA_PKCS1_2048_8192_SHA256,
};
use base64::Engine;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::SubjectPublicKeyInfoDer;

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

/// How a request proved who sent it. Recorded on a queued event, so that the retry worker applies
/// it only as far as the credential it was received with allows (an install needs
/// [`Credential::Signature`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// A valid GHL Marketplace signature (the body's timestamp must still be fresh).
    Signature,
    /// One of the sender's shared webhook secrets.
    Secret,
    /// No credential configured and the local-only switch is on.
    LocalInsecure,
}

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
///
/// The built-in keys are parsed once, at their first use, not at init; overrides are parsed
/// when the verifier is built, so a malformed one stops the function from starting.
#[derive(Clone)]
pub struct GhlSignatureVerifier {
    ed25519: Key,
    rsa: Key,
}

#[derive(Clone)]
enum Key {
    BuiltIn(&'static LazyLock<ParsedPublicKey>),
    Override(Arc<ParsedPublicKey>),
}

impl Key {
    fn get(&self) -> &ParsedPublicKey {
        match self {
            Key::BuiltIn(key) => key,
            Key::Override(key) => key,
        }
    }
}

impl std::fmt::Debug for GhlSignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let origin = |k: &Key| match k {
            Key::BuiltIn(_) => "built-in",
            Key::Override(_) => "override",
        };
        f.debug_struct("GhlSignatureVerifier")
            .field("ed25519", &origin(&self.ed25519))
            .field("rsa", &origin(&self.rsa))
            .finish()
    }
}

/// Environment values often carry PEM line breaks as literal `\n`.
fn pem_text(value: &str) -> String {
    value.replace("\\n", "\n").trim().to_string()
}

/// A `BEGIN PUBLIC KEY` PEM (an X.509 SubjectPublicKeyInfo) as a key of `algorithm`.
fn parse_pem(
    algorithm: &'static dyn VerificationAlgorithm,
    pem: &str,
) -> Result<ParsedPublicKey, String> {
    let der = SubjectPublicKeyInfoDer::from_pem_slice(pem_text(pem).as_bytes())
        .map_err(|e| format!("not a public key PEM: {e}"))?;
    ParsedPublicKey::new(algorithm, der.as_ref()).map_err(|e| format!("rejected: {e}"))
}

static BUILT_IN_ED25519: LazyLock<ParsedPublicKey> = LazyLock::new(|| {
    parse_pem(&ED25519, GHL_ED25519_PUBLIC_KEY_PEM).expect("the built-in Ed25519 key parses")
});
static BUILT_IN_RSA: LazyLock<ParsedPublicKey> = LazyLock::new(|| {
    parse_pem(&RSA_PKCS1_2048_8192_SHA256, GHL_RSA_PUBLIC_KEY_PEM)
        .expect("the built-in RSA key parses")
});

impl GhlSignatureVerifier {
    /// The built-in keys, or the given PEM overrides.
    pub fn new(ed25519_pem: Option<&str>, rsa_pem: Option<&str>) -> Result<Self, String> {
        let ed25519 = match ed25519_pem {
            None => Key::BuiltIn(&BUILT_IN_ED25519),
            Some(pem) => Key::Override(Arc::new(parse_pem(&ED25519, pem).map_err(|e| {
                format!("GHL_WEBHOOK_PUBLIC_KEY is not an Ed25519 public key PEM: {e}")
            })?)),
        };
        let rsa = match rsa_pem {
            None => Key::BuiltIn(&BUILT_IN_RSA),
            Some(pem) => Key::Override(Arc::new(
                parse_pem(&RSA_PKCS1_2048_8192_SHA256, pem).map_err(|e| {
                    format!("GHL_WEBHOOK_RSA_PUBLIC_KEY is not an RSA public key PEM: {e}")
                })?,
            )),
        };
        Ok(Self { ed25519, rsa })
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
            if bytes.len() != 64 {
                return SignatureCheck::Invalid("x-ghl-signature has the wrong length");
            }
            return match self.ed25519.get().verify_sig(body, &bytes) {
                Ok(()) => SignatureCheck::Valid,
                Err(_) => SignatureCheck::Invalid("x-ghl-signature does not match the body"),
            };
        }
        if let Some(sig) = wh_signature {
            let Some(bytes) = decode(sig) else {
                return SignatureCheck::Invalid("x-wh-signature is not base64");
            };
            if bytes.is_empty() {
                return SignatureCheck::Invalid("x-wh-signature is malformed");
            }
            return match self.rsa.get().verify_sig(body, &bytes) {
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
    match now.saturating_sub(secs) {
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
        // The built-in keys are parsed at their first use.
        LazyLock::force(&BUILT_IN_ED25519);
        LazyLock::force(&BUILT_IN_RSA);
        let zeros = base64::engine::general_purpose::STANDARD.encode([0u8; 64]);
        assert_eq!(
            v.check(Some(&zeros), None, b"{}"),
            SignatureCheck::Invalid("x-ghl-signature does not match the body")
        );
        let zeros = base64::engine::general_purpose::STANDARD.encode([0u8; 512]);
        assert_eq!(
            v.check(None, Some(&zeros), b"{}"),
            SignatureCheck::Invalid("x-wh-signature does not match the body")
        );
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
        // Extreme values are compared, never overflowed.
        assert_eq!(at(json!(i64::MIN), now), Freshness::Stale);
        assert_eq!(at(json!(i64::MAX), i64::MIN), Freshness::Future);
    }
}
