//! The `tenants` command on a real registry (the local store file): a tenant added with it is
//! served by the bridge with its own accounts and the secrets it printed once; nothing secret
//! is stored in the clear or shown again; disabled, it is refused.

use std::sync::Arc;

use bridge::local_store::LocalStore;
use bridge::secrets::Lookup;
use bridge::Deps;
use bridge_testkit::*;
use bridge_tools::tenants::{self, Action, Command};
use serde_json::json;

fn action(text: &str) -> Action {
    match tenants::parse(text.split_whitespace().map(str::to_string)) {
        Ok(Command::Run { action, .. }) => *action,
        other => panic!("{text}: {other:?}"),
    }
}

fn env(pairs: &'static [(&'static str, &'static str)]) -> Lookup {
    Arc::new(move |k: &str| {
        pairs
            .iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.to_string())
    })
}

/// The secrets a command printed, in order.
fn printed_secrets(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("Authorization: Bearer "))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn a_tenant_added_with_the_tool_is_served_with_its_own_accounts_and_can_be_disabled() {
    let dir = std::env::temp_dir().join(format!("tenants-tool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("store.json");
    let _ = std::fs::remove_file(&file);
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(Arc::new(LocalStore::new(&file)));
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.secrets.tenant_seal_key = Some("seal-key-of-the-stack".into());
    let deps = Deps::build(settings, backends).unwrap();
    let registry = deps.tenants.as_deref().unwrap();

    let secrets = env(&[
        ("TENANT_GHL_TOKEN", "pit-dental-0001"),
        ("TENANT_CLOUDTALK_KEY_SECRET", "ct-secret-dental"),
    ]);
    let missing = tenants::run(
        registry,
        &action("add loc_dental --cloudtalk-key-id KEYD"),
        &env(&[("TENANT_GHL_TOKEN", "pit")]),
    )
    .await;
    assert!(
        matches!(
            missing,
            Err(tenants::TenantsError::MissingSecret(
                "TENANT_CLOUDTALK_KEY_SECRET"
            ))
        ),
        "{missing:?}"
    );
    let added = tenants::run(
        registry,
        &action("add loc_dental --cloudtalk-key-id KEYD --phone-region IT --name Dental"),
        &secrets,
    )
    .await
    .unwrap();
    let printed = printed_secrets(&added);
    assert_eq!(
        printed.len(),
        2,
        "the GHL and CloudTalk webhook secrets: {added}"
    );
    assert!(!added.contains("pit-dental-0001") && !added.contains("ct-secret-dental"));
    let again = tenants::run(
        registry,
        &action("add loc_dental --cloudtalk-key-id K"),
        &secrets,
    )
    .await;
    assert!(
        matches!(again, Err(tenants::TenantsError::Exists(_))),
        "{again:?}"
    );

    // Stored sealed, shown without values.
    let stored = std::fs::read_to_string(&file).unwrap();
    for plain in [
        "pit-dental-0001",
        "ct-secret-dental",
        &printed[0],
        &printed[1],
    ] {
        assert!(!stored.contains(plain), "{plain} stored in the clear");
    }
    let shown = tenants::run(registry, &action("show loc_dental"), &secrets)
        .await
        .unwrap();
    assert!(shown.contains("status:                active"), "{shown}");
    assert!(shown.contains("phone region:          IT"), "{shown}");
    assert!(printed_secrets(&shown).is_empty() && !shown.contains(&printed[0]));
    let listed = tenants::run(registry, &action("list"), &secrets)
        .await
        .unwrap();
    assert!(
        listed.starts_with("loc_dental  active  private integration  cloudtalk key KEYD"),
        "{listed}"
    );

    // The bridge serves it: its GHL webhook secret, its CloudTalk account.
    let body = json!({"contact": {"id": "g-1", "name": "Client", "phone": "+393331112222",
        "locationId": "loc_dental"}});
    let req = post(
        "/api/ghl-webhooks/new-contact",
        &body.to_string(),
        Some(&printed[0]),
    );
    let res = bridge::route(&deps, req).await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    let cloudtalk = received(&fakes.cloudtalk).await;
    assert!(!cloudtalk.is_empty());
    let basic = {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("KEYD:ct-secret-dental")
        )
    };
    assert!(cloudtalk
        .iter()
        .all(|r| r.authorization.as_deref() == Some(basic.as_str())));
    // Its CloudTalk route takes the printed CloudTalk secret.
    let call = json!({"call_id": 8101, "external_number": "+393331112222", "status": "answered"});
    let req = post(
        "/api/cloudtalk-webhooks/loc_dental/call-ended",
        &call.to_string(),
        Some(&printed[1]),
    );
    let res = bridge::route(&deps, req).await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    assert!(received(&fakes.ghl)
        .await
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer pit-dental-0001")));

    // Disabled, it is refused before any upstream call.
    tenants::run(registry, &action("disable loc_dental"), &secrets)
        .await
        .unwrap();
    let before = received(&fakes.cloudtalk).await.len();
    let req = post(
        "/api/ghl-webhooks/new-contact",
        &body.to_string(),
        Some(&printed[0]),
    );
    let res = bridge::route(&deps, req).await;
    assert_eq!(res.status(), 403);
    assert_eq!(received(&fakes.cloudtalk).await.len(), before);
    let _ = std::fs::remove_dir_all(&dir);
}
