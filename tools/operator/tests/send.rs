//! `bridge send`, the real binary, against a fake bridge: the webhook secrets it sends come
//! from a file (`-`: standard input) or the environment, never from the command line, which
//! no longer takes them; without either, the samples' own credentials go out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Two samples, one per sender, with the samples' own credentials.
fn samples(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("send-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (function, path, secret) in [
        (
            "ghl-new-tag",
            "/api/ghl-webhooks/new-tag",
            "local-dev-ghl-secret",
        ),
        (
            "cloudtalk-call-ended",
            "/api/cloudtalk-webhooks/call-ended",
            "local-dev-cloudtalk-secret",
        ),
    ] {
        let event = json!({"rawPath": path, "requestContext": {"http": {"method": "POST"}},
            "headers": {"authorization": format!("Bearer {secret}")}, "body": "{}"});
        std::fs::create_dir_all(dir.join(function)).unwrap();
        std::fs::write(dir.join(function).join("nested.json"), event.to_string()).unwrap();
    }
    dir
}

/// `bridge send <args> <dir> --base-url <fake>` with `env` and `stdin`: the exit code, stderr,
/// and the Authorization each route received (GHL's, CloudTalk's).
async fn send(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> (i32, String, Vec<(String, String)>) {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "applied"})))
        .mount(&fake)
        .await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_bridge"));
    command
        .arg("send")
        .args(args)
        .arg(dir)
        .arg("--base-url")
        .arg(fake.uri())
        .env_remove("GHL_WEBHOOK_SECRET")
        .env_remove("CLOUDTALK_WEBHOOK_SECRET")
        .env_remove("BRIDGE_URL")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    // A command that does not read its input may have exited already: nothing to write to.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let received = fake.received_requests().await.unwrap_or_default();
    let seen = received
        .iter()
        .map(|r| {
            let auth = r.headers.get("authorization").map(|v| v.to_str().unwrap());
            (
                r.url.path().to_string(),
                auth.unwrap_or_default().to_string(),
            )
        })
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code().unwrap_or(-1), stderr, seen)
}

fn sent(seen: &[(String, String)], route: &str) -> String {
    let found = seen.iter().find(|(path, _)| path.contains(route));
    found
        .map(|(_, auth)| auth.clone())
        .unwrap_or_else(|| panic!("nothing sent to {route}: {seen:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_are_never_arguments() {
    let dir = samples("flags");
    for flag in ["--ghl-secret", "--cloudtalk-secret"] {
        let (code, err, seen) = send(&dir, &[flag, "s3cret"], &[], "").await;
        assert_eq!(code, 2, "a usage error: {err}");
        assert!(err.contains(flag), "{err}");
        assert!(seen.is_empty(), "nothing sent: {seen:?}");
    }
    let both = ["--ghl-secret-file", "-", "--cloudtalk-secret-file", "-"];
    let (code, err, seen) = send(&dir, &both, &[], "x").await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("only one secret can come from standard input"),
        "{err}"
    );
    assert!(seen.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_come_from_the_environment_a_file_or_stdin() {
    let dir = samples("sources");
    // The environment, as the local run sets it (the first of a rotation's list).
    let env = [
        ("GHL_WEBHOOK_SECRET", "env-ghl,env-ghl-old"),
        ("CLOUDTALK_WEBHOOK_SECRET", "env-ct"),
    ];
    let (code, err, seen) = send(&dir, &[], &env, "").await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(sent(&seen, "ghl-webhooks"), "Bearer env-ghl");
    assert_eq!(sent(&seen, "cloudtalk-webhooks"), "Bearer env-ct");
    // A file wins over the environment; `-` reads standard input.
    let file = dir.join("ghl.secret");
    std::fs::write(&file, "file-ghl\n").unwrap();
    let flags = [
        "--ghl-secret-file",
        file.to_str().unwrap(),
        "--cloudtalk-secret-file",
        "-",
    ];
    let (code, err, seen) = send(&dir, &flags, &env, "stdin-ct\n").await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(sent(&seen, "ghl-webhooks"), "Bearer file-ghl");
    assert_eq!(sent(&seen, "cloudtalk-webhooks"), "Bearer stdin-ct");
    // Neither: the samples' own credentials.
    let (code, err, seen) = send(&dir, &[], &[], "").await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(sent(&seen, "ghl-webhooks"), "Bearer local-dev-ghl-secret");
    assert_eq!(
        sent(&seen, "cloudtalk-webhooks"),
        "Bearer local-dev-cloudtalk-secret"
    );
    // An empty or missing file is an error, naming the file, not a secret.
    std::fs::write(&file, "\n").unwrap();
    let flags = ["--ghl-secret-file", file.to_str().unwrap()];
    let (code, err, seen) = send(&dir, &flags, &env, "").await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is empty"), "{err}");
    assert!(seen.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
