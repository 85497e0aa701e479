//! What one CloudTalk bulk request costs of the company's 60 requests a minute. CloudTalk does
//! not document it (1, or one per command?), so the REST client measures it: the drop of
//! `X-CloudTalkAPI-Remaining` across a bulk request, in one window, the least seen (another
//! caller's request in between can only make a drop larger). A measurement is kept per account
//! in the state table (`value#cloudtalk-bulk-cost#<account>`), so every container budgets by
//! it; until one is measured a bulk request is budgeted as one request.

use crate::deps::{cloudtalk_account, Deps};

fn name(deps: &Deps) -> String {
    let account = cloudtalk_account(&deps.secrets.current());
    format!("cloudtalk-bulk-cost#{account}")
}

/// The cost known for this tenant's account: measured in this container, else kept by
/// another, else 1.
pub async fn known(deps: &Deps) -> u32 {
    if let Some(cost) = deps.cloudtalk.bulk_cost() {
        return cost;
    }
    let kept = deps.state.get_value(&name(deps)).await.ok().flatten();
    match kept.and_then(|v| v.trim().parse::<u32>().ok()) {
        Some(cost) if cost > 0 => {
            deps.cloudtalk.know_bulk_cost(cost);
            cost
        }
        _ => 1,
    }
}

/// Keeps what this container measured, for every other (when it is new or smaller).
pub async fn keep(deps: &Deps) {
    let Some(measured) = deps.cloudtalk.bulk_cost() else {
        return;
    };
    let name = name(deps);
    let kept = deps.state.get_value(&name).await.ok().flatten();
    let kept = kept.and_then(|v| v.trim().parse::<u32>().ok());
    if kept.is_none_or(|k| measured < k) {
        if let Err(e) = deps.state.put_value(&name, &measured.to_string()).await {
            tracing::warn!(detail = %e, "the measured cost of a bulk request could not be kept");
        } else {
            tracing::info!(
                bulk_cost = measured,
                "measured what a CloudTalk bulk request costs"
            );
        }
    }
}
