use serde_json::json;

use super::*;

fn request<'a>(
    method: &'a str,
    path: &'a str,
    query: &'a [(String, String)],
    headers: &'a [(String, String)],
    body: &'a [u8],
) -> Request<'a> {
    Request {
        method,
        path,
        query,
        headers,
        body,
    }
}

fn ghl_headers() -> Vec<(String, String)> {
    vec![
        ("version".into(), "2021-07-28".into()),
        ("content-type".into(), "application/json".into()),
    ]
}

#[test]
fn every_spec_loads_with_its_operations() {
    let cloudtalk = spec::operations(Vendor::CloudTalk);
    assert!(cloudtalk.contains(&("PUT".into(), "/activity/add/{contactId}.json".into())));
    let ghl = spec::operations(Vendor::GoHighLevel);
    assert!(ghl.contains(&("POST".into(), "/contacts/{contactId}/notes".into())));
    assert!(
        ghl.contains(&("POST".into(), "/oauth/reconnect".into())),
        "the override"
    );
}

#[test]
fn a_string_external_id_is_refused_as_cloudtalk_refuses_it() {
    let body =
        json!({"type": "other", "name": "Pipeline Stage Change", "external_id": "99cd32b085"});
    let text = body.to_string();
    let req = request("PUT", "/activity/add/123.json", &[], &[], text.as_bytes());
    let violation = check_request(Vendor::CloudTalk, &req, "t").unwrap_err();
    assert_eq!(violation.kind, Kind::Body);
    assert!(violation.problems[0].contains("external_id"), "{violation}");
    let (status, answer) = refusal(&violation);
    assert_eq!(status, 406);
    assert_eq!(answer["responseData"]["status"], 406);
    let body = json!({"type": "other", "name": "Pipeline Stage Change", "external_id": 4711});
    let text = body.to_string();
    let req = request("PUT", "/activity/add/123.json", &[], &[], text.as_bytes());
    assert_eq!(check_request(Vendor::CloudTalk, &req, "t"), Ok(()));
}

#[test]
fn ghl_refuses_undeclared_properties_a_missing_version_and_unknown_routes() {
    let headers = ghl_headers();
    let ok = json!({"body": "hello", "userId": "u1"}).to_string();
    let req = request("POST", "/contacts/abc/notes", &[], &headers, ok.as_bytes());
    assert_eq!(check_request(Vendor::GoHighLevel, &req, "t"), Ok(()));
    let extra = json!({"body": "hello", "dateAdded": "x"}).to_string();
    let req = request(
        "POST",
        "/contacts/abc/notes",
        &[],
        &headers,
        extra.as_bytes(),
    );
    let violation = check_request(Vendor::GoHighLevel, &req, "t").unwrap_err();
    assert!(
        violation.problems[0].contains("property dateAdded should not exist"),
        "{violation}"
    );
    assert_eq!(refusal(&violation).0, 422);
    let bare = vec![("content-type".to_string(), "application/json".to_string())];
    let req = request("POST", "/contacts/abc/notes", &[], &bare, ok.as_bytes());
    let violation = check_request(Vendor::GoHighLevel, &req, "t").unwrap_err();
    assert_eq!(refusal(&violation).0, 400, "{violation}");
    let req = request(
        "POST",
        "/contacts/abc/nothing",
        &[],
        &headers,
        ok.as_bytes(),
    );
    let violation = check_request(Vendor::GoHighLevel, &req, "t").unwrap_err();
    assert_eq!(violation.kind, Kind::UnknownOperation);
    assert_eq!(refusal(&violation).0, 404);
}

#[test]
fn parameters_are_checked_by_their_declared_types() {
    let req = request("GET", "/contacts/show/abc.json", &[], &[], b"");
    let violation = check_request(Vendor::CloudTalk, &req, "t").unwrap_err();
    assert_eq!(violation.kind, Kind::Parameters, "{violation}");
    let query = vec![("limit".to_string(), "ten".to_string())];
    let req = request("GET", "/contacts/index.json", &query, &[], b"");
    assert!(check_request(Vendor::CloudTalk, &req, "t").is_err());
    let query = vec![("nonsense".to_string(), "1".to_string())];
    let req = request("GET", "/contacts/index.json", &query, &[], b"");
    let violation = check_request(Vendor::CloudTalk, &req, "t").unwrap_err();
    assert!(violation.problems[0].contains("nonsense"), "{violation}");
    let query = vec![("keyword".to_string(), "+39333".to_string())];
    let req = request("GET", "/contacts/index.json", &query, &[], b"");
    assert_eq!(check_request(Vendor::CloudTalk, &req, "t"), Ok(()));
}

#[test]
fn bulk_commands_are_limited_as_the_spec_says() {
    let command = json!({"action": "add_contact", "command_id": "1", "data": {"name": "A"}});
    let eleven = serde_json::Value::Array(vec![command; 11]).to_string();
    let req = request("POST", "/bulk/contacts.json", &[], &[], eleven.as_bytes());
    let violation = check_request(Vendor::CloudTalk, &req, "t").unwrap_err();
    assert!(
        violation.problems.iter().any(|p| p.contains("at most 10")),
        "{violation}"
    );
}

#[test]
fn form_bodies_are_read_as_their_fields() {
    let headers = vec![(
        "content-type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    let form =
        b"client_id=a&client_secret=b&grant_type=refresh_token&refresh_token=r&user_type=Location";
    let req = request("POST", "/oauth/token", &[], &headers, form);
    assert_eq!(check_request(Vendor::GoHighLevel, &req, "t"), Ok(()));
    let form = b"client_id=a&client_secret=b&grant_type=password";
    let req = request("POST", "/oauth/token", &[], &headers, form);
    assert!(check_request(Vendor::GoHighLevel, &req, "t").is_err());
}

#[test]
fn recorded_violations_are_taken_back_by_their_origin() {
    let req = request("GET", "/nowhere", &[], &[], b"");
    assert!(guard(Vendor::CloudTalk, &req, "origin-a").is_some());
    assert!(guard(Vendor::CloudTalk, &req, "origin-b").is_some());
    assert_eq!(take("origin-a").len(), 1);
    assert_eq!(take("origin-b").len(), 1);
    assert!(pending().iter().all(|v| !v.origin.starts_with("origin-")));
}

/// The end-of-suite check, tried in a child process: a test that leaves a violation recorded
/// passes, and the process still ends with status 1, naming it.
#[test]
fn a_violation_left_recorded_fails_the_suite() {
    const TEST: &str = "tests::a_violation_left_recorded_fails_the_suite";
    if std::env::var_os("CONTRACTS_PLANT_VIOLATION").is_some() {
        let body = json!({"type": "other", "name": "n", "external_id": "99cd32b085"}).to_string();
        let req = request("PUT", "/activity/add/1.json", &[], &[], body.as_bytes());
        assert!(guard(Vendor::CloudTalk, &req, "planted").is_some());
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--test-threads", "1"])
        .env("CONTRACTS_PLANT_VIOLATION", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("test result: ok. 1 passed"), "{stdout}");
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("external_id"), "{stderr}");
}
