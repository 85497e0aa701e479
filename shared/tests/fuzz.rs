//! Property-based fuzzing of everything that reads untrusted input: the body decoder, every
//! payload parser, phone normalisation, the idempotency key and the signature check. None may
//! panic, every refusal is a 4xx, and no tampered body verifies. `PROPTEST_CASES` sets the
//! number of cases (256 by default; CI runs the default). Inputs that once failed are kept in
//! `proptest-regressions/` and the hand-written corpus in `tests/fuzz-corpus/`.

use base64::Engine;
use bridge::payload::{cloudtalk, ghl, parse_body};
use bridge::signature::{GhlSignatureVerifier, SignatureCheck};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::Signer as _;
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        ".{0,40}".prop_map(Value::String),
        "\\+?[0-9 ()-]{0,20}".prop_map(Value::String),
        prop_oneof![
            Just("[object Object]"),
            Just("{{contact.phone}}"),
            Just("undefined")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let keys = prop_oneof![
            Just("contact".to_string()),
            Just("id".to_string()),
            Just("contact_id".to_string()),
            Just("phone".to_string()),
            Just("email".to_string()),
            Just("tags".to_string()),
            Just("tag".to_string()),
            Just("note".to_string()),
            Just("body".to_string()),
            Just("status".to_string()),
            Just("stage".to_string()),
            Just("Call_id".to_string()),
            Just("external_number".to_string()),
            Just("data".to_string()),
            Just("type".to_string()),
            Just("agent_id".to_string()),
            Just("campaign_status".to_string()),
            "[a-zA-Z_ ]{1,12}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn assert_4xx(result: Result<impl Sized, bridge::payload::PayloadError>) {
    if let Err(e) = result {
        let e = bridge::BridgeError::from(e);
        assert!(e.status().is_client_error(), "{e:?} is not a 4xx");
    }
}

proptest! {
    #[test]
    fn the_body_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        assert_4xx(parse_body(&bytes));
    }

    #[test]
    fn payload_parsers_never_panic(value in json_value()) {
        assert_4xx(ghl::parse_new_contact(&value));
        assert_4xx(ghl::parse_new_tag(&value));
        assert_4xx(ghl::parse_new_note(&value));
        assert_4xx(ghl::parse_pipeline_change(&value));
        assert_4xx(ghl::parse_status_change(&value));
        let call = cloudtalk::parse_call(&value);
        assert_4xx(call.contact.require_identifiable());
        assert_4xx(cloudtalk::parse_agent_status(&value));
        assert_4xx(cloudtalk::parse_contact_created(&value));
        assert_4xx(cloudtalk::parse_campaign(&value));
        let _ = bridge::mapping::cloudtalk_to_ghl::call_outcome(&call);
        let a = bridge::idempotency::event_key(bridge::EndpointId::GhlNewTag, &value);
        prop_assert_eq!(a, bridge::idempotency::event_key(bridge::EndpointId::GhlNewTag, &value));
    }

    /// Durations, counts and timestamps at and past the limits of their types: read with
    /// checked arithmetic, never wrapped, never a panic (debug builds check overflow).
    #[test]
    fn numbers_at_their_limits_never_overflow(
        parts in prop::collection::vec(prop_oneof![any::<u64>(), Just(u64::MAX), Just(u64::MAX / 60), 0u64..100], 1..4),
        float in prop_oneof![any::<f64>(), Just(f64::MAX), Just(1.0e300), Just(-1.0)],
        signed in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX)],
        now in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), Just(1_795_860_000i64)],
        page in prop_oneof![any::<u64>(), Just(u64::MAX), Just(u64::from(u32::MAX) + 1)],
    ) {
        let text: Vec<String> = parts.iter().map(u64::to_string).collect();
        let body = serde_json::json!({
            "call_id": 1, "external_number": "+393331234567",
            "talking_time": text.join(":"), "waiting_time": float, "duration": signed,
            "campaign_status": "done", "campaign_name": "c",
            "_bridge_page": {"tagId": "t", "page": page},
        });
        let call = cloudtalk::parse_call(&body);
        for secs in [call.talking_secs, call.waiting_secs, call.duration_secs].into_iter().flatten() {
            prop_assert!(secs <= cloudtalk::MAX_DURATION_SECS);
        }
        let _ = bridge::mapping::cloudtalk_to_ghl::call_ended_note(&call, Some("+393331234567"));
        let _ = bridge::mapping::cloudtalk_to_ghl::call_outcome(&call);
        let _ = bridge::handlers::handler(bridge::EndpointId::CloudtalkCampaignStatusChange).prepare(&body);
        for ts in [serde_json::json!(signed), serde_json::json!(signed.to_string()), serde_json::json!(float)] {
            let _ = bridge::signature::timestamp_freshness(&serde_json::json!({"timestamp": ts}), now);
        }
    }

    #[test]
    fn phone_normalisation_never_panics(raw in ".{0,60}", region in "[A-Za-z]{0,3}") {
        if let Ok(e164) = bridge::phone::to_e164(&raw, Some(&region)) {
            prop_assert!(e164.starts_with('+') && e164[1..].chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn random_signatures_never_verify(sig in ".{0,120}", body in prop::collection::vec(any::<u8>(), 0..512)) {
        let verifier = GhlSignatureVerifier::new(None, None).unwrap();
        prop_assert_ne!(verifier.check(Some(&sig), None, &body), SignatureCheck::Valid);
        prop_assert_ne!(verifier.check(None, Some(&sig), &body), SignatureCheck::Valid);
    }

    #[test]
    fn no_tampered_body_verifies(body in "\\{.{0,200}\\}", flip in any::<prop::sample::Index>(), bit in 0u8..8) {
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(include_str!("fixtures/test-ed25519-private.pem")).unwrap();
        let verifier = GhlSignatureVerifier::new(Some(include_str!("fixtures/test-ed25519-public.pem")), None).unwrap();
        let signature = base64::engine::general_purpose::STANDARD.encode(key.sign(body.as_bytes()).to_bytes());
        prop_assert_eq!(verifier.check(Some(&signature), None, body.as_bytes()), SignatureCheck::Valid);
        let mut tampered = body.into_bytes();
        let i = flip.index(tampered.len());
        tampered[i] ^= 1 << bit;
        prop_assert_ne!(verifier.check(Some(&signature), None, &tampered), SignatureCheck::Valid);
    }
}
