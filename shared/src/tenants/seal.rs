//! Sealing the secrets a tenant record holds (CloudTalk key secrets, webhook secrets, GHL
//! tokens): AES-256-GCM with a random nonce per value, under a key derived from
//! `TENANT_SEAL_KEY` (kept in the bridge's Secrets Manager secret, which the stack generates).
//! The tenants table only ever holds `v1.<base64 nonce ‖ ciphertext>`.
//!
//! Sealing in the table, rather than one Secrets Manager secret per tenant, keeps an OAuth
//! refresh a single conditional write beside its version, and costs no extra call per event.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;

const PREFIX: &str = "v1.";

/// A value could not be opened: another key sealed it, or it was altered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sealed tenant secret could not be opened (wrong TENANT_SEAL_KEY, or altered)")]
pub struct Unsealable;

/// Seals and opens tenant secrets.
pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer whose key is derived from `secret` (any length; at least 32 characters of
    /// randomness is what the stack generates).
    pub fn new(secret: &str) -> Self {
        let digest = crate::digest::sha256(format!("bridge-tenant-seal\n{secret}").as_bytes());
        let key = UnboundKey::new(&AES_256_GCM, &digest).expect("a 32-byte key is an AES-256 key");
        Self {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        }
    }

    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        // The system's random source does not fail on the platforms the bridge runs on.
        let _ = self.random.fill(&mut nonce);
        let mut data = plain.as_bytes().to_vec();
        let sealed = self.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::empty(),
            &mut data,
        );
        if sealed.is_err() {
            return String::new();
        }
        let mut out = nonce.to_vec();
        out.extend(data);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        )
    }

    pub fn open(&self, sealed: &str) -> Result<String, Unsealable> {
        let body = sealed.strip_prefix(PREFIX).ok_or(Unsealable)?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(body)
            .map_err(|_| Unsealable)?;
        if bytes.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unsealable)?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut data)
            .map_err(|_| Unsealable)?;
        String::from_utf8(plain.to_vec()).map_err(|_| Unsealable)
    }
}

/// A new random secret (32 bytes, URL-safe base64): for webhook secrets an operator pastes
/// into a sender.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    // The system's random source does not fail on the platforms the bridge runs on.
    let _ = SystemRandom::new().fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_their_key_only_and_never_repeat() {
        let sealer =
            Sealer::new("a-generated-key-of-sixty-four-characters-0123456789abcdefghijklm");
        let a = sealer.seal("ct-key-secret");
        let b = sealer.seal("ct-key-secret");
        assert!(a.starts_with("v1.") && !a.contains("ct-key-secret"));
        assert_ne!(a, b, "a fresh nonce each time");
        assert_eq!(sealer.open(&a).unwrap(), "ct-key-secret");
        assert_eq!(Sealer::new("another key").open(&a), Err(Unsealable));
        let mut tampered = a.clone();
        tampered.replace_range(10..11, if &a[10..11] == "A" { "B" } else { "A" });
        assert_eq!(sealer.open(&tampered), Err(Unsealable));
        assert_eq!(sealer.open("plain text"), Err(Unsealable));
    }

    #[test]
    fn random_secrets_are_long_and_never_repeat() {
        let (a, b) = (random_secret(), random_secret());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
