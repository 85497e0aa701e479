//! One line of `bridge doctor`'s report: which check, for whom, `ok`/`warn`/`fail`, what it
//! found and what to do. Plain data (Serialize: `--json` prints the list as it is).

use serde::Serialize;

/// The checks, by the name `--json` gives them (stable).
pub mod id {
    /// The stack named could be read (only with a stack).
    pub const STACK: &str = "stack";
    /// `GET <ApiUrl>/health`.
    pub const HEALTH: &str = "health";
    /// The secrets are present (never their values).
    pub const SECRETS: &str = "secrets";
    /// A tenant that is registered but not served (or not registered at all).
    pub const TENANT: &str = "tenant";
    /// CloudTalk accepts the API key (`GET /agents/index.json`).
    pub const CLOUDTALK_KEY: &str = "cloudtalk_key";
    /// The GHL token reaches its location (`GET /users/?locationId=`).
    pub const GHL_ACCESS: &str = "ghl_access";
    /// Each custom field a setting names exists in the location.
    pub const CUSTOM_FIELDS: &str = "custom_fields";
    /// `CAMPAIGN_STAGE_MAP`'s pipelines and stages exist in the location.
    pub const STAGE_MAP: &str = "stage_map";
    /// Each CloudTalk agent has a GHL user (the agent map wins).
    pub const AGENTS: &str = "agents";
    /// The Conversations provider of calls logged in Conversations.
    pub const CALL_PROVIDER: &str = "call_provider";
    /// Speed to lead's agents exist and can be dialled.
    pub const SPEED_TO_LEAD: &str = "speed_to_lead";
    /// Texts: the SMS provider's id is set, the sender is one of the account's numbers.
    pub const TEXTS: &str = "texts";
    /// Which webhooks have arrived, per endpoint, and when last.
    pub const WEBHOOKS: &str = "webhooks";

    /// Every check, in the order they are made.
    pub const ALL: [&str; 13] = [
        STACK,
        HEALTH,
        SECRETS,
        TENANT,
        CLOUDTALK_KEY,
        GHL_ACCESS,
        CUSTOM_FIELDS,
        STAGE_MAP,
        AGENTS,
        CALL_PROVIDER,
        SPEED_TO_LEAD,
        TEXTS,
        WEBHOOKS,
    ];
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Nothing to do (a feature that is off included).
    Ok,
    /// Worth a look, or could not be checked: the deployment works, maybe not fully.
    Warn,
    /// Something the deployment needs is missing or refused: the exit code is 1.
    Fail,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Warn => "warn",
            State::Fail => "fail",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which check (see [`id`]).
    pub check: &'static str,
    /// Whose: `default` for the deployment's own location, a tenant's location id, or none
    /// for the deployment as a whole (its stack, its health route, the Marketplace app).
    pub tenant: Option<String>,
    pub state: State,
    /// What was found; never a secret's value.
    pub message: String,
    /// What to do, when anything.
    pub fix: Option<String>,
}

impl Check {
    fn new(check: &'static str, tenant: Option<&str>, state: State, message: String) -> Self {
        Self {
            check,
            tenant: tenant.map(str::to_string),
            state,
            message,
            fix: None,
        }
    }

    pub fn ok(check: &'static str, tenant: Option<&str>, message: impl Into<String>) -> Self {
        Self::new(check, tenant, State::Ok, message.into())
    }

    pub fn warn(check: &'static str, tenant: Option<&str>, message: impl Into<String>) -> Self {
        Self::new(check, tenant, State::Warn, message.into())
    }

    pub fn fail(check: &'static str, tenant: Option<&str>, message: impl Into<String>) -> Self {
        Self::new(check, tenant, State::Fail, message.into())
    }

    /// The same, with what to do.
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// The exit code of a report: 1 when any check failed, else 0.
pub fn exit_code(checks: &[Check]) -> i32 {
    i32::from(checks.iter().any(|c| c.state == State::Fail))
}

/// The report as text: a heading naming the deployment, one line per check (`<message>:
/// <fix>`), and the count of each state.
pub fn render(heading: &str, checks: &[Check]) -> String {
    let mut out = format!("bridge doctor: {heading}\n");
    for c in checks {
        let tenant = c.tenant.as_deref().unwrap_or("-");
        let fix = c
            .fix
            .as_deref()
            .map(|f| format!(": {f}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<5} {:<15} {:<20} {}{fix}\n",
            c.state.as_str(),
            c.check,
            tenant,
            c.message
        ));
    }
    let count = |s: State| checks.iter().filter(|c| c.state == s).count();
    out.push_str(&format!(
        "\n{} fail, {} warn, {} ok\n",
        count(State::Fail),
        count(State::Warn),
        count(State::Ok)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_its_fix_after_its_message_and_the_exit_code_follows_failures() {
        let checks = vec![
            Check::ok(id::HEALTH, None, "GET http://x/health: ok (HTTP 200)"),
            Check::warn(
                id::WEBHOOKS,
                Some("default"),
                "no call-ended webhook has ever arrived for default",
            )
            .fix("set up the CloudTalk workflow (see `bridge doctor --print-setup`)"),
        ];
        assert_eq!(exit_code(&checks), 0);
        let text = render("the local run", &checks);
        assert!(text.contains("warn  webhooks        default              no call-ended webhook has ever arrived for default: set up the CloudTalk workflow (see `bridge doctor --print-setup`)\n"), "{text}");
        assert!(text.ends_with("\n0 fail, 1 warn, 1 ok\n"), "{text}");
        let failed = [Check::fail(id::SECRETS, Some("default"), "x")];
        assert_eq!(exit_code(&failed), 1);
        let json = serde_json::to_value(&failed[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"check": "secrets", "tenant": "default", "state": "fail",
                "message": "x", "fix": null})
        );
    }
}
