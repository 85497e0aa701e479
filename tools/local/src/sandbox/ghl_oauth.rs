//! GoHighLevel's OAuth for a Marketplace app, under `/ghl/oauth`: what an app install goes
//! through, played with GHL's rules.
//!
//! - `POST /oauth/token` (form fields; client id and secret required):
//!   `grant_type=authorization_code` exchanges a code once; `grant_type=refresh_token` rotates:
//!   every refresh token is single-use, and presenting a used one again is taken as theft,
//!   revoking its whole chain (the install must be authorized again).
//! - `POST /oauth/locationToken` (an agency's Bearer token; form `companyId`, `locationId`): a
//!   location token for a location the agency approved, with no refresh token.
//! - `POST /oauth/reconnect` (`clientKey`, `clientSecret`, `locationId` | `companyId`): a new
//!   authorization code for an install, without asking the user again.
//!
//! Codes come from [`Sandbox::authorize`] (`POST /sandbox/oauth/authorize`), which plays the
//! user approving the install and can send the app's signed `INSTALL` webhooks to the bridge
//! (signed with the samples' test key, whose public half is at `GET
//! /sandbox/webhook-public-key`). Access tokens it issues are
//! accepted by the GHL API until they expire ([`Sandbox::expire_access_tokens`] ends them all).

use std::collections::BTreeMap;

use serde_json::json;

use super::api::{parse_query, Call, Outcome, Reply};
use super::base::Sandbox;
use super::ghl_oauth_state::{AccessToken, Authorization, ACCESS_TTL_SECS, INSTALLING_USER_ID};

/// A code that never expires: the location install of `events/oauth-callback/install.json`
/// (location `loc_new456` of agency `comp_789`), so that sample works in every local run.
pub const DEMO_INSTALL_CODE: &str = "sandbox-demo-install";

fn demo_install() -> Authorization {
    Authorization {
        location_id: Some("loc_new456".into()),
        company_id: Some("comp_789".into()),
        ..Authorization::default()
    }
}

fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    (
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// The form fields of the body.
fn form(call: &Call) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(&call.req.body).into_owned();
    parse_query(&text).into_iter().collect()
}

fn client_ok(call: &Call, id: Option<&String>, secret: Option<&String>) -> Result<(), Reply> {
    let config = &call.inner.config;
    match (id, secret) {
        (Some(id), Some(secret))
            if *id == config.ghl_app_client_id && *secret == config.ghl_app_client_secret =>
        {
            Ok(())
        }
        _ => Err(oauth_error(
            401,
            "invalid_client",
            "Client authentication failed",
        )),
    }
}

/// `POST /oauth/token`.
pub(crate) fn token(call: &mut Call) -> Outcome {
    let fields = form(call);
    client_ok(call, fields.get("client_id"), fields.get("client_secret"))?;
    let now = call.req.received;
    let oauth = &mut call.state.oauth;
    match fields.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = fields.get("code").cloned().unwrap_or_default();
            let standing = (code == DEMO_INSTALL_CODE).then(demo_install);
            let install = standing
                .or_else(|| oauth.codes.remove(&code))
                .ok_or_else(|| {
                    oauth_error(
                        400,
                        "invalid_grant",
                        "Invalid grant: authorization code is invalid",
                    )
                })?;
            oauth.exchanges += 1;
            let who = install
                .location_id
                .clone()
                .or(install.company_id.clone())
                .unwrap_or_default();
            let answer = oauth.grant(install, now, None);
            call.say(format!("GHL ← OAuth code exchanged for {who}"));
            Ok((200, answer))
        }
        Some("refresh_token") => {
            let presented = fields.get("refresh_token").cloned().unwrap_or_default();
            let Some(held) = oauth.refresh.get_mut(&presented) else {
                return Err(oauth_error(
                    400,
                    "invalid_grant",
                    "Invalid grant: refresh token is invalid",
                ));
            };
            let chain = held.chain;
            if held.used || oauth.revoked_chains.contains(&chain) {
                // A used refresh token again: someone else holds the chain. End it.
                if !oauth.revoked_chains.contains(&chain) {
                    oauth.revoked_chains.push(chain);
                    oauth.reuse_detected += 1;
                    call.inner.say(
                        "GHL ← OAuth refresh token reused: the install's tokens are revoked".into(),
                    );
                }
                return Err(oauth_error(
                    400,
                    "invalid_grant",
                    "Invalid grant: refresh token is invalid",
                ));
            }
            held.used = true;
            let install = held.install.clone();
            oauth.refreshes += 1;
            let answer = oauth.grant(install, now, Some(chain));
            Ok((200, answer))
        }
        _ => Err(oauth_error(
            400,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        )),
    }
}

/// `POST /oauth/locationToken`: the agency token is the Bearer (admitted already).
pub(crate) fn location_token(call: &mut Call) -> Outcome {
    let fields = form(call);
    let bearer = call
        .req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
        .trim()
        .to_string();
    let now = call.req.received;
    let oauth = &mut call.state.oauth;
    let agency = oauth
        .access
        .get(&bearer)
        .filter(|t| t.install.location_id.is_none() && t.location.is_none())
        .cloned()
        .ok_or_else(|| oauth_error(401, "invalid_token", "The token is not an agency token"))?;
    let company = fields.get("companyId").cloned().unwrap_or_default();
    let location = fields.get("locationId").cloned().unwrap_or_default();
    if agency.install.company_id.as_deref() != Some(company.as_str())
        || !agency.install.approved_locations.contains(&location)
    {
        return Err(oauth_error(
            403,
            "forbidden",
            "The app is not installed in this location",
        ));
    }
    let access = oauth.token("location-access");
    oauth.access.insert(
        access.clone(),
        AccessToken {
            install: agency.install.clone(),
            expires_at: now + ACCESS_TTL_SECS,
            location: Some(location.clone()),
            chain: agency.chain,
        },
    );
    oauth.location_tokens += 1;
    Ok((
        200,
        json!({"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TTL_SECS,
            "userType": "Location", "locationId": location, "companyId": company,
            "userId": INSTALLING_USER_ID}),
    ))
}

/// `POST /oauth/reconnect`: a new code for an install (its chain starts over).
pub(crate) fn reconnect(call: &mut Call) -> Outcome {
    let fields = form(call);
    client_ok(call, fields.get("clientKey"), fields.get("clientSecret"))?;
    let location = fields.get("locationId").cloned();
    let company = fields.get("companyId").cloned();
    let oauth = &mut call.state.oauth;
    let install = oauth
        .refresh
        .values()
        .map(|r| r.install.clone())
        .find(|i| match (&location, &company) {
            (Some(l), _) => i.location_id.as_ref() == Some(l),
            (None, Some(c)) => i.location_id.is_none() && i.company_id.as_ref() == Some(c),
            _ => false,
        })
        .ok_or_else(|| oauth_error(400, "invalid_request", "The app is not installed there"))?;
    let code = oauth.code_for(install);
    Ok((
        200,
        json!({"authorizationCode": code, "expiresAt": call.req.received + 600}),
    ))
}

impl Sandbox {
    /// Plays the user approving the app's install: a code for the OAuth callback. With
    /// `send_install_webhooks` (and the bridge's URL known), the app's signed `INSTALL`
    /// webhook is sent for each location.
    pub fn authorize(&self, install: Authorization) -> String {
        let code = match self.inner.state.lock() {
            Ok(mut s) => s.oauth.code_for(install.clone()),
            Err(_) => return String::new(),
        };
        if install.send_install_webhooks {
            self.send_install_webhooks(&install);
        }
        code
    }

    /// Ends every access token issued so far.
    pub fn expire_access_tokens(&self) {
        let now = self.inner.config.clock.now_secs();
        if let Ok(mut s) = self.inner.state.lock() {
            s.oauth.expire_all(now);
        }
    }

    /// The public key (PEM) the sandbox signs GHL webhooks with (the samples' test key): the
    /// bridge's `GHL_WEBHOOK_PUBLIC_KEY` for a local run.
    pub fn webhook_public_key(&self) -> String {
        bridge_operator::sample_key::PUBLIC_PEM.to_string()
    }

    /// Signs `body` as GHL signs its webhooks (`X-GHL-Signature`, Ed25519, base64).
    pub fn sign_webhook(&self, body: &str) -> String {
        bridge_operator::sample_key::sign(body.as_bytes())
    }

    fn send_install_webhooks(&self, install: &Authorization) {
        let Some(bridge) = self.inner.config.bridge_url.clone() else {
            return;
        };
        let locations = match &install.location_id {
            Some(l) => vec![l.clone()],
            None => install.approved_locations.clone(),
        };
        for location in locations {
            let body = json!({"type": "INSTALL", "appId": self.inner.config.ghl_app_id,
                "locationId": location, "companyId": install.company_id,
                "installType": if install.location_id.is_some() { "Location" } else { "Company" },
                "webhookId": format!("sandbox-install-{location}-{}", chrono::Utc::now().timestamp_millis()),
                "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)})
            .to_string();
            let signature = self.sign_webhook(&body);
            let url = format!(
                "{}/api/ghl-webhooks/app-install",
                bridge.trim_end_matches('/')
            );
            let http = self.inner.http.clone();
            let inner = self.inner.clone();
            tokio::spawn(async move {
                let sent = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-ghl-signature", signature)
                    .body(body)
                    .send()
                    .await;
                let status = sent.map(|r| r.status().as_u16().to_string());
                inner.say(format!(
                    "sandbox → bridge INSTALL webhook for {location}: {}",
                    status.unwrap_or_else(|e| e.to_string())
                ));
            });
        }
    }
}
