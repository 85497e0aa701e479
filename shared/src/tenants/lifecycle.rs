//! Who switched a tenant off, and what that means for an install that comes after.
//!
//! - `bridge tenants disable` ([`DisabledBy::Operator`]) sticks: only `bridge tenants enable`
//!   undoes it. A Marketplace re-install (the signed `INSTALL` webhook or the OAuth callback)
//!   of such a tenant is not applied: the tenant stays disabled, its record keeps when the
//!   re-install came, which way and from which company ([`RefusedReinstall`]), one
//!   `reinstall_refused` log line is written (ids only), and `bridge status` and
//!   `bridge tenants show/list` report it.
//! - An uninstall ([`DisabledBy::Uninstall`]) is undone by the next install, as before.
//! - An uninstall of a tenant an operator disabled leaves it the operator's.
//! - A disabled record written before the bridge told the two apart names no one: it counts as
//!   the operator's (a re-install is refused and reported; `bridge tenants enable` serves it).

use serde::{Deserialize, Serialize};

use super::{TenantRecord, TenantStatus};

/// The refused re-installs a record keeps (the latest).
pub const REFUSALS_KEPT: usize = 5;

/// Who switched a disabled tenant off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabledBy {
    /// `bridge tenants disable`: only `bridge tenants enable` undoes it.
    Operator,
    /// The app was uninstalled: the next install enables it again.
    Uninstall,
}

impl DisabledBy {
    pub fn as_str(self) -> &'static str {
        match self {
            DisabledBy::Operator => "operator",
            DisabledBy::Uninstall => "uninstall",
        }
    }
}

/// The way a (re-)install arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallVia {
    /// GHL's signed `INSTALL` webhook.
    InstallWebhook,
    /// The installer's browser at `/oauth/callback`.
    OauthCallback,
}

impl InstallVia {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallVia::InstallWebhook => "install_webhook",
            InstallVia::OauthCallback => "oauth_callback",
        }
    }
}

/// A re-install refused because an operator had disabled the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedReinstall {
    /// When it arrived (RFC 3339).
    pub at: String,
    pub via: InstallVia,
    /// The GHL company (agency) that installed, when the install named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
}

impl TenantRecord {
    /// Whether an operator switched the tenant off (a disabled record that names no one counts
    /// as the operator's): an install does not switch it on again.
    pub fn disabled_by_operator(&self) -> bool {
        self.status == TenantStatus::Disabled && self.disabled_by != Some(DisabledBy::Uninstall)
    }

    /// Who disabled the tenant, as shown: `operator`, `uninstall`, or, for a record written
    /// before the two were told apart, `operator (assumed)`; `None` when it is not disabled.
    pub fn disabled_by_text(&self) -> Option<&'static str> {
        match (self.status, self.disabled_by) {
            (TenantStatus::Disabled, Some(by)) => Some(by.as_str()),
            (TenantStatus::Disabled, None) => Some("operator (assumed)"),
            _ => None,
        }
    }

    /// Switches the tenant off. An uninstall leaves an operator's disable the operator's.
    pub fn disable(&mut self, by: DisabledBy) {
        if by == DisabledBy::Uninstall && self.disabled_by_operator() {
            return;
        }
        self.status = TenantStatus::Disabled;
        self.disabled_by = Some(by);
        if by == DisabledBy::Operator {
            // A new decision: the re-installs refused before it have been seen.
            self.reinstalls_refused.clear();
        }
    }

    /// Gives the tenant `status` (not disabled): an install, or `bridge tenants enable`. Who
    /// had disabled it and the re-installs refused meanwhile are cleared.
    pub fn reinstate(&mut self, status: TenantStatus) {
        self.status = status;
        self.disabled_by = None;
        self.reinstalls_refused.clear();
    }

    /// Records a re-install refused at `at` (RFC 3339), keeping the latest
    /// [`REFUSALS_KEPT`].
    pub fn refuse_reinstall(&mut self, at: String, via: InstallVia, company_id: Option<String>) {
        self.reinstalls_refused.push(RefusedReinstall {
            at,
            via,
            company_id,
        });
        let extra = self.reinstalls_refused.len().saturating_sub(REFUSALS_KEPT);
        self.reinstalls_refused.drain(..extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenants::registry::private_token_tenant;
    use crate::tenants::TenantSecrets;

    fn record() -> TenantRecord {
        private_token_tenant("loc_a", "key", TenantSecrets::default()).record
    }

    #[test]
    fn an_operator_s_disable_outlives_an_uninstall_and_an_uninstall_does_not() {
        let mut r = record();
        r.disable(DisabledBy::Uninstall);
        assert!(!r.disabled_by_operator());
        assert_eq!(r.disabled_by_text(), Some("uninstall"));
        r.disable(DisabledBy::Operator);
        r.disable(DisabledBy::Uninstall);
        assert!(r.disabled_by_operator(), "the operator's decision sticks");
        r.reinstate(TenantStatus::Active);
        assert_eq!((r.status, r.disabled_by), (TenantStatus::Active, None));
        assert_eq!(r.disabled_by_text(), None);
    }

    #[test]
    fn a_disabled_record_of_before_counts_as_the_operator_s() {
        let mut r = record();
        r.status = TenantStatus::Disabled;
        let stored = serde_json::to_string(&r).unwrap();
        assert!(!stored.contains("disabled_by"), "{stored}");
        let read: TenantRecord = serde_json::from_str(&stored).unwrap();
        assert!(read.disabled_by_operator());
        assert_eq!(read.disabled_by_text(), Some("operator (assumed)"));
    }

    #[test]
    fn refused_reinstalls_keep_the_latest_and_a_new_disable_clears_them() {
        let mut r = record();
        r.disable(DisabledBy::Operator);
        for i in 0..7 {
            r.refuse_reinstall(format!("t{i}"), InstallVia::OauthCallback, None);
        }
        assert_eq!(r.reinstalls_refused.len(), REFUSALS_KEPT);
        assert_eq!(r.reinstalls_refused.last().unwrap().at, "t6");
        assert_eq!(r.reinstalls_refused[0].at, "t2");
        let text = serde_json::to_value(&r.reinstalls_refused[0]).unwrap();
        assert_eq!(text["via"], "oauth_callback");
        r.disable(DisabledBy::Operator);
        assert!(r.reinstalls_refused.is_empty());
    }
}
