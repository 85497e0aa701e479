//! The key the sample events' GHL signatures are made with (`events/**` with an
//! `x-ghl-signature` header), and that the sandbox signs its own GHL webhooks with. It is a
//! test key, public in this repository: a bridge trusts it only when told to
//! (`GHL_WEBHOOK_PUBLIC_KEY`), as `scripts/local.sh` does with the sandbox.

use base64::Engine;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::Signer;

/// The private half (PKCS#8 PEM).
const PRIVATE_PEM: &str = include_str!("../../keys/sample-ghl-webhook-ed25519-private.pem");
/// The public half (SPKI PEM): the value of `GHL_WEBHOOK_PUBLIC_KEY` that trusts it.
pub const PUBLIC_PEM: &str = include_str!("../../keys/sample-ghl-webhook-ed25519-public.pem");

/// `body`'s signature as GHL sends it in `x-ghl-signature` (Ed25519, base64).
pub fn sign(body: &[u8]) -> String {
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(PRIVATE_PEM)
        .expect("the sample key in the repository is a valid PKCS#8 Ed25519 key");
    base64::engine::general_purpose::STANDARD.encode(key.sign(body).to_bytes())
}

/// A signed sample's body made current: its `timestamp` set to now (GHL's signed timestamps
/// must be within 5 minutes), then signed again. `None` when the body is not a JSON object.
pub fn refreshed(body: &[u8]) -> Option<(Vec<u8>, String)> {
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object_mut()?;
    if object.contains_key("timestamp") {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        object.insert("timestamp".into(), serde_json::Value::String(now));
    }
    let body = serde_json::to_vec(&value).ok()?;
    let signature = sign(&body);
    Some((body, signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_pair_matches_the_samples_fixture() {
        use ed25519_dalek::pkcs8::DecodePublicKey;
        use ed25519_dalek::Verifier;
        let public = ed25519_dalek::VerifyingKey::from_public_key_pem(PUBLIC_PEM).unwrap();
        let (body, signature) =
            refreshed(br#"{"type":"INSTALL","timestamp":"2026-01-01T00:00:00Z"}"#).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&bytes).unwrap();
        assert!(public.verify(&body, &signature).is_ok());
        let text = String::from_utf8(body).unwrap();
        assert!(!text.contains("2026-01-01"), "the timestamp is now: {text}");
    }
}
