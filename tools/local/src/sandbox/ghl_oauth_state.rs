//! What GoHighLevel's OAuth server holds ([`OAuthState`]): authorization codes, access and
//! refresh tokens by install ([`Authorization`]), revoked refresh chains and counters. The
//! token endpoints that use it are in `ghl_oauth.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How long issued access tokens live, as GHL's (about a day).
pub(crate) const ACCESS_TTL_SECS: i64 = 86_399;

/// The user who approved every install (the token answers' `userId`, which GHL's spec
/// requires: the person who performed the installation).
pub(crate) const INSTALLING_USER_ID: &str = "sandbox-user-000001";

/// Who an install is for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    /// A location install; absent for an agency's.
    #[serde(default)]
    pub location_id: Option<String>,
    /// The agency; for an agency install, the company whose token mints location tokens.
    #[serde(default)]
    pub company_id: Option<String>,
    /// An agency install's locations.
    #[serde(default)]
    pub approved_locations: Vec<String>,
    /// Send the app's `INSTALL` webhook for each location to the bridge.
    #[serde(default)]
    pub send_install_webhooks: bool,
}

impl Authorization {
    fn user_type(&self) -> &'static str {
        match self.location_id {
            Some(_) => "Location",
            None => "Company",
        }
    }
}

/// An access token issued.
#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub install: Authorization,
    pub expires_at: i64,
    /// Minted by `locationToken` for this location.
    pub location: Option<String>,
    /// The refresh chain it belongs to (revoked together).
    pub chain: u64,
}

/// A refresh token issued: single-use.
#[derive(Debug, Clone)]
pub(crate) struct RefreshToken {
    pub install: Authorization,
    pub used: bool,
    pub chain: u64,
}

/// What GHL's OAuth server holds.
#[derive(Debug, Default)]
pub(crate) struct OAuthState {
    pub codes: BTreeMap<String, Authorization>,
    pub access: BTreeMap<String, AccessToken>,
    pub refresh: BTreeMap<String, RefreshToken>,
    pub revoked_chains: Vec<u64>,
    next: u64,
    /// Counters for tests and the state view.
    pub exchanges: u64,
    pub refreshes: u64,
    pub reuse_detected: u64,
    pub location_tokens: u64,
}

impl OAuthState {
    /// A new token (or code) of this kind.
    pub fn token(&mut self, kind: &str) -> String {
        self.next += 1;
        format!("sandbox-{kind}-{:06}", self.next)
    }

    /// A new code for `install`.
    pub fn code_for(&mut self, install: Authorization) -> String {
        let code = self.token("code");
        self.codes.insert(code.clone(), install);
        code
    }

    /// Whether `token` is a live access token; with `location`, one that may act for it.
    pub fn access_valid(&self, token: &str, now: i64, location: Option<&str>) -> bool {
        self.access.get(token).is_some_and(|t| {
            let serves = match (location, &t.location, &t.install.location_id) {
                (None, _, _) => true,
                (Some(l), Some(minted), _) => minted == l,
                (Some(l), None, Some(own)) => own == l,
                (Some(_), None, None) => false,
            };
            t.expires_at > now && !self.revoked_chains.contains(&t.chain) && serves
        })
    }

    /// Ends every access token now (so the next call must refresh).
    pub fn expire_all(&mut self, now: i64) {
        for token in self.access.values_mut() {
            token.expires_at = now;
        }
    }

    /// A new access and refresh token pair for `install` (in refresh chain `chain`, else a new
    /// one): the token endpoint's answer.
    pub fn grant(&mut self, install: Authorization, now: i64, chain: Option<u64>) -> Value {
        let chain = chain.unwrap_or_else(|| {
            self.next += 1;
            self.next
        });
        let access = self.token("access");
        let refresh = self.token("refresh");
        self.access.insert(
            access.clone(),
            AccessToken {
                install: install.clone(),
                expires_at: now + ACCESS_TTL_SECS,
                location: None,
                chain,
            },
        );
        self.refresh.insert(
            refresh.clone(),
            RefreshToken {
                install: install.clone(),
                used: false,
                chain,
            },
        );
        let mut answer = json!({"access_token": access, "token_type": "Bearer",
            "expires_in": ACCESS_TTL_SECS, "refresh_token": refresh, "scope": "contacts.write conversations/message.write",
            "userType": install.user_type(), "userId": INSTALLING_USER_ID});
        if let Some(company) = &install.company_id {
            answer["companyId"] = json!(company);
        }
        match &install.location_id {
            Some(location) => answer["locationId"] = json!(location),
            None => {
                answer["approvedLocations"] = json!(install.approved_locations);
                answer["isBulkInstallation"] = json!(true);
            }
        }
        answer
    }

    /// The installs in view (no token values): for `GET /sandbox/state`.
    pub fn to_json(&self) -> Value {
        json!({
            "exchanges": self.exchanges,
            "refreshes": self.refreshes,
            "reuseDetected": self.reuse_detected,
            "locationTokens": self.location_tokens,
            "liveRefreshTokens": self.refresh.values().filter(|r| !r.used && !self.revoked_chains.contains(&r.chain)).count(),
            "revokedChains": self.revoked_chains.len(),
        })
    }
}
