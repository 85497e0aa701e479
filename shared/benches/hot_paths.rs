//! The pure paths every event runs: the body parsed and read into its event, the event mapped
//! to the upstream write, and phone numbers normalised. `cargo bench -p bridge --bench
//! hot_paths`; under `cargo test` each case runs once (see BENCHMARKS.md).

use std::hint::black_box;

use bridge::mapping::{cloudtalk_to_ghl, ghl_to_cloudtalk};
use bridge::payload::{cloudtalk, ghl, parse_body};
use bridge::phone::to_e164;
use criterion::{criterion_group, criterion_main, Criterion};

/// The body of a sample event (an API Gateway event under `events/`).
fn body(path: &str) -> Vec<u8> {
    let file = format!("{}/../events/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let event: serde_json::Value = serde_json::from_str(&text).expect("an event file");
    event["body"]
        .as_str()
        .expect("a text body")
        .as_bytes()
        .to_vec()
}

fn payloads(c: &mut Criterion) {
    let new_contact = body("ghl-new-contact/workflow.json");
    let call_ended = body("cloudtalk-call-ended/answered.json");
    c.bench_function("parse ghl new-contact", |b| {
        b.iter(|| {
            let root = parse_body(black_box(&new_contact)).expect("json");
            ghl::parse_new_contact(&root).expect("a contact")
        })
    });
    c.bench_function("parse cloudtalk call-ended", |b| {
        b.iter(|| {
            let root = parse_body(black_box(&call_ended)).expect("json");
            cloudtalk::parse_call(&root)
        })
    });
}

fn mapping(c: &mut Criterion) {
    let root = parse_body(&body("ghl-new-contact/workflow.json")).expect("json");
    let event = ghl::parse_new_contact(&root).expect("a contact");
    c.bench_function("map ghl contact to cloudtalk", |b| {
        b.iter(|| {
            let contact = black_box(&event.contact);
            let reach = ghl_to_cloudtalk::reachable(contact, Some("IT"));
            ghl_to_cloudtalk::cloudtalk_contact(contact, &reach, &contact.tags, None)
        })
    });
    let call = cloudtalk::parse_call(
        &parse_body(&body("cloudtalk-call-ended/answered.json")).expect("json"),
    );
    c.bench_function("map cloudtalk call-ended to a ghl note", |b| {
        b.iter(|| cloudtalk_to_ghl::call_ended_note(black_box(&call), Some("+393513416607")))
    });
}

fn phones(c: &mut Criterion) {
    // The first parse loads libphonenumber's metadata; the cases measure the warm path.
    let _ = to_e164("+39 351 341 6607", None);
    let mut group = c.benchmark_group("phone to E.164");
    for (name, raw, region) in [
        ("international", "+39 351 341 6607", None),
        ("cloudtalk digits", "393513416607", Some("US")),
        ("national", "351 341 6607", Some("IT")),
        ("invalid", "12", Some("IT")),
    ] {
        group.bench_function(name, |b| b.iter(|| to_e164(black_box(raw), region)));
    }
    group.finish();
}

criterion_group!(benches, payloads, mapping, phones);
criterion_main!(benches);
