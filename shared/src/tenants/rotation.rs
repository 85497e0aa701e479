//! Rotating a tenant's webhook secrets without an outage.
//!
//! `bridge tenants set-cloudtalk` and `bridge tenants set-ghl-secret` give a tenant a new
//! webhook secret; the one it replaces stays accepted for the overlap the operator chose
//! (`--overlap`, 24 h by default), so the senders still using it keep working until each is
//! switched to the new one. The replaced secret is kept sealed on the record with its
//! retirement time ([`SealedRetiring`]); admission accepts it until then, reading the time from
//! the deployment's clock ([`crate::admission::Tenancy::webhook_secrets`]), and the first write
//! of the record after that drops it ([`super::Tenants::save`]). An overlap of 0 retires it at
//! once (a leaked secret): every earlier secret of that kind stops working.

use serde::{Deserialize, Serialize};

/// Which of a tenant's webhook secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookSecretKind {
    /// What the tenant's GHL workflows (Custom Webhook) present.
    Ghl,
    /// What the tenant's CloudTalk workflows present.
    Cloudtalk,
}

impl WebhookSecretKind {
    /// As people read it: `GHL`, `CloudTalk`.
    pub fn label(self) -> &'static str {
        match self {
            WebhookSecretKind::Ghl => "GHL",
            WebhookSecretKind::Cloudtalk => "CloudTalk",
        }
    }
}

/// A replaced webhook secret, plain (in memory only), accepted until `retires_at_ms`.
#[derive(Clone, PartialEq, Eq)]
pub struct RetiringSecret {
    pub kind: WebhookSecretKind,
    pub value: String,
    /// Epoch ms; accepted while the clock is before it.
    pub retires_at_ms: i64,
}

impl std::fmt::Debug for RetiringSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetiringSecret")
            .field("kind", &self.kind)
            .field("retires_at_ms", &self.retires_at_ms)
            .finish_non_exhaustive()
    }
}

/// A replaced webhook secret as the record keeps it: sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedRetiring {
    pub kind: WebhookSecretKind,
    pub sealed: String,
    pub retires_at_ms: i64,
}

/// The secrets of `kind` accepted at `now_ms`: the current ones, then those replaced that have
/// not retired yet.
pub fn accepted(
    current: &[String],
    retiring: &[RetiringSecret],
    kind: WebhookSecretKind,
    now_ms: i64,
) -> Vec<String> {
    let mut out = current.to_vec();
    for r in retiring {
        if r.kind == kind && now_ms < r.retires_at_ms && !out.contains(&r.value) {
            out.push(r.value.clone());
        }
    }
    out
}

/// Makes `new` the only current secret of `kind` (`current` holds that kind's), the ones it
/// replaces accepted `overlap_ms` after `now_ms`. With no overlap, every earlier secret of the
/// kind is retired at once. When the replaced ones retire: `None` when none stays accepted.
pub fn rotate(
    current: &mut Vec<String>,
    retiring: &mut Vec<RetiringSecret>,
    kind: WebhookSecretKind,
    new: &str,
    (now_ms, overlap_ms): (i64, i64),
) -> Option<i64> {
    let replaced = std::mem::replace(current, vec![new.to_string()]);
    retiring.retain(|r| r.kind != kind || (r.value != new && overlap_ms > 0));
    let retires_at_ms = now_ms.saturating_add(overlap_ms);
    let mut kept = false;
    for value in replaced.into_iter().filter(|v| v != new) {
        if overlap_ms > 0 && !retiring.iter().any(|r| r.kind == kind && r.value == value) {
            retiring.push(RetiringSecret {
                kind,
                value,
                retires_at_ms,
            });
            kept = true;
        }
    }
    kept.then_some(retires_at_ms)
}

/// Drops the secrets retired at `now_ms`.
pub fn drop_retired(retiring: &mut Vec<RetiringSecret>, now_ms: i64) {
    retiring.retain(|r| now_ms < r.retires_at_ms);
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_replaced_secret_is_accepted_until_it_retires() {
        let (mut current, mut retiring) = (vec!["old".to_string()], Vec::new());
        let kind = WebhookSecretKind::Cloudtalk;
        let at = rotate(&mut current, &mut retiring, kind, "new", (1_000, 24 * HOUR));
        assert_eq!(at, Some(1_000 + 24 * HOUR));
        assert_eq!(current, ["new"]);
        assert_eq!(accepted(&current, &retiring, kind, 1_000), ["new", "old"]);
        let last = 1_000 + 24 * HOUR - 1;
        assert_eq!(accepted(&current, &retiring, kind, last), ["new", "old"]);
        assert_eq!(accepted(&current, &retiring, kind, last + 1), ["new"]);
        assert!(
            accepted(&[], &retiring, WebhookSecretKind::Ghl, 1_000).is_empty(),
            "a CloudTalk secret never opens GHL routes"
        );
        drop_retired(&mut retiring, last);
        assert_eq!(retiring.len(), 1);
        drop_retired(&mut retiring, last + 1);
        assert!(retiring.is_empty());
    }

    #[test]
    fn no_overlap_retires_every_earlier_secret_at_once() {
        let kind = WebhookSecretKind::Ghl;
        let (mut current, mut retiring) = (vec!["a".to_string()], Vec::new());
        rotate(&mut current, &mut retiring, kind, "b", (0, HOUR));
        assert_eq!(
            rotate(&mut current, &mut retiring, kind, "c", (10, 0)),
            None
        );
        assert!(retiring.is_empty());
        assert_eq!(accepted(&current, &retiring, kind, 10), ["c"]);
    }

    #[test]
    fn rotating_back_or_to_the_same_secret_keeps_no_duplicate() {
        let kind = WebhookSecretKind::Ghl;
        let (mut current, mut retiring) = (vec!["a".to_string()], Vec::new());
        rotate(&mut current, &mut retiring, kind, "b", (0, HOUR));
        assert_eq!(
            rotate(&mut current, &mut retiring, kind, "a", (5, HOUR)),
            Some(5 + HOUR)
        );
        assert_eq!(accepted(&current, &retiring, kind, 6), ["a", "b"]);
        assert_eq!(retiring.len(), 1, "{retiring:?}");
        assert_eq!(
            rotate(&mut current, &mut retiring, kind, "a", (7, HOUR)),
            None
        );
        assert_eq!(current, ["a"]);
    }
}
