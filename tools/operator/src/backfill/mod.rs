//! The backfill: links the contacts a customer already has in GoHighLevel and CloudTalk before
//! the bridge was installed, so that live events find them through the map.
//!
//! 1. Both sides are read in full, page by page, through the bridge's real clients and so
//!    through the deployment's shared request budget, as background work (live webhooks keep
//!    their share) ([`contacts`]).
//! 2. Each GHL contact is matched to CloudTalk contacts by E.164 phone (any of its phones),
//!    else by lower-cased email ([`matching`]).
//! 3. Each decision is settled against the contact map ([`settle`]): `linked` (one candidate,
//!    linked with the map's conditional write, as live events link), `already_linked` (the map
//!    links it already, to that contact or another), `ambiguous` (several candidates, never
//!    linked), `only_in_ghl`, `only_in_cloudtalk`; with `--create-missing` the missing side is
//!    created and linked (`created_in_cloudtalk`, `created_in_ghl`, [`create`]).
//!
//! A dry run (the default) reads the map and both APIs and writes nothing to them (the shared
//! budget still counts its requests). Each decision is a row of the report ([`report`]); the
//! checkpoint ([`checkpoint`]) lets a stopped run be continued and a finished one re-run
//! (everything is then `already_linked`, and nothing is written).

pub mod checkpoint;
pub mod contacts;
mod create;
mod journal;
mod link;
pub mod matching;
pub mod outcome;
pub mod patience;
pub mod progress;
pub mod report;
mod settle;
pub mod setup;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bridge::clients::UpstreamError;
use bridge::contact_map::StoreError;
use bridge::Deps;
use serde::Serialize;

use checkpoint::{CheckpointError, RunKind, SideProgress};
use contacts::Known;
use journal::{Journal, Side};
use matching::Decision;
pub use outcome::{MatchedBy, Outcome, Row};
use patience::Patience;
use progress::{Phase, Progress};

/// Why a run stopped before the end. Whatever it decided before is in the report and the
/// checkpoint; run it again with the same checkpoint to continue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackfillError {
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
    #[error("{during}: {message}")]
    Upstream {
        during: &'static str,
        /// The client's message, phones and emails masked.
        message: String,
    },
    #[error("the contact map: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("writing the report {path}: {reason}")]
    Report { path: PathBuf, reason: String },
    #[error("GHL's contact search answered a full page without a searchAfter cursor")]
    NoCursor,
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl BackfillError {
    pub fn upstream(during: &'static str, error: UpstreamError) -> Self {
        let mut message = error.to_string();
        if error.outcome_unknown() {
            message.push_str(" (it may have been applied: the next run reads both sides again and links what it finds)");
        }
        BackfillError::Upstream { during, message }
    }

    fn report(path: &Path, error: &std::io::Error) -> Self {
        BackfillError::Report {
            path: path.to_path_buf(),
            reason: error.to_string(),
        }
    }
}

/// How to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Write the links (and, with `create_missing`, the contacts); otherwise a dry run.
    pub apply: bool,
    pub create_missing: bool,
    pub report: Option<PathBuf>,
    pub checkpoint: Option<PathBuf>,
    /// Decide at most this many contacts in this run (the checkpoint keeps the rest for later).
    pub limit: Option<usize>,
    pub ghl_page_size: u32,
    pub cloudtalk_page_size: u32,
    pub patience: Patience,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            apply: false,
            create_missing: false,
            report: None,
            checkpoint: None,
            limit: None,
            ghl_page_size: 100,
            cloudtalk_page_size: 1000,
            patience: Patience::default(),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub dry_run: bool,
    /// Every contact is decided (not stopped by `limit`).
    pub complete: bool,
    /// It continued a stopped run.
    pub resumed: bool,
    pub ghl: SideProgress,
    pub cloudtalk: SideProgress,
    /// The outcomes of the whole run, a resumed run's earlier part included.
    pub counts: BTreeMap<Outcome, usize>,
    /// Contacts decided by this invocation, and those left for the next.
    pub decided_now: usize,
    pub remaining: usize,
}

impl Summary {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.counts.get(&outcome).copied().unwrap_or(0)
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let read = |s: &SideProgress| {
            let pages = if s.pages == 1 { "page" } else { "pages" };
            format!("{} contacts in {} {pages}", s.contacts, s.pages)
        };
        writeln!(
            f,
            "GHL: {}; CloudTalk: {}",
            read(&self.ghl),
            read(&self.cloudtalk)
        )?;
        let counts: Vec<String> = Outcome::ALL
            .iter()
            .map(|o| format!("{} {}", o.as_str(), self.count(*o)))
            .collect();
        writeln!(f, "{}", counts.join(", "))?;
        match (self.complete, self.dry_run) {
            (false, _) => write!(
                f,
                "stopped after {} contacts, {} left: run again with the same --checkpoint to continue",
                self.decided_now, self.remaining
            ),
            (true, true) => write!(f, "dry run: nothing was written; --apply writes the links"),
            (true, false) => write!(f, "done"),
        }
    }
}

/// What settling needs.
pub(crate) struct Context<'a> {
    pub deps: &'a Deps,
    pub location: &'a str,
    pub ghl: &'a [Known],
    pub cloudtalk: &'a [Known],
    pub options: &'a Options,
}

impl Context<'_> {
    pub fn dry_run(&self) -> bool {
        !self.options.apply
    }

    pub fn patience(&self) -> &Patience {
        &self.options.patience
    }
}

/// Runs the backfill; see the module documentation. Every upstream call is background work on
/// the shared budget.
pub async fn run(
    deps: &Deps,
    options: &Options,
    progress: &mut dyn Progress,
) -> Result<Summary, BackfillError> {
    bridge::rate_limit::background(run_in_background(deps, options, progress)).await
}

async fn run_in_background(
    deps: &Deps,
    options: &Options,
    progress: &mut dyn Progress,
) -> Result<Summary, BackfillError> {
    let location = configured_location(deps, progress)?;
    let run = RunKind {
        location: location.clone(),
        apply: options.apply,
        create_missing: options.create_missing,
    };
    let mut journal = Journal::open(options, run)?;
    if journal.resumed {
        let decided = journal.checkpoint.decided.len();
        progress.note(&format!(
            "resuming: {decided} contacts were decided by the stopped run"
        ));
    }
    let patience = &options.patience;
    let (ghl, read) =
        contacts::read_ghl(deps, &location, options.ghl_page_size, patience, progress).await?;
    journal.read(Side::Ghl, &read)?;
    let (cloudtalk, read) =
        contacts::read_cloudtalk(deps, options.cloudtalk_page_size, patience, progress).await?;
    journal.read(Side::CloudTalk, &read)?;
    let decisions = matching::plan(&ghl, &cloudtalk);
    let ctx = Context {
        deps,
        location: &location,
        ghl: &ghl,
        cloudtalk: &cloudtalk,
        options,
    };
    let (decided_now, remaining) = settle_all(&ctx, &decisions, &mut journal, progress).await?;
    journal.close(remaining == 0)?;
    progress.finish();
    let checkpoint = &journal.checkpoint;
    Ok(Summary {
        dry_run: !options.apply,
        complete: remaining == 0,
        resumed: journal.resumed,
        ghl: checkpoint.ghl.clone(),
        cloudtalk: checkpoint.cloudtalk.clone(),
        counts: checkpoint.counts.clone(),
        decided_now,
        remaining,
    })
}

/// The location, and both APIs' credentials, or which is missing.
fn configured_location(deps: &Deps, progress: &mut dyn Progress) -> Result<String, BackfillError> {
    let location = deps
        .config
        .ghl_location_id
        .clone()
        .ok_or(BackfillError::NotConfigured("GHL_LOCATION_ID"))?;
    let secrets = deps.secrets();
    if !secrets.cloudtalk_configured() {
        return Err(BackfillError::NotConfigured(
            "CLOUDTALK_API_KEY_ID / CLOUDTALK_API_KEY_SECRET",
        ));
    }
    if secrets.ghl_api_token.is_none() {
        return Err(BackfillError::NotConfigured("GHL_API_TOKEN"));
    }
    if deps.config.default_phone_region.is_none() {
        progress.note("DEFAULT_PHONE_REGION is not set: national numbers cannot be matched");
    }
    Ok(location)
}

/// Settles the decisions not decided yet, up to the limit, a bulk request's worth at a time;
/// returns how many were decided and how many are left.
async fn settle_all(
    ctx: &Context<'_>,
    decisions: &[Decision],
    journal: &mut Journal,
    progress: &mut dyn Progress,
) -> Result<(usize, usize), BackfillError> {
    let todo: Vec<(String, &Decision)> = decisions
        .iter()
        .map(|d| (d.key(ctx.ghl, ctx.cloudtalk), d))
        .filter(|(key, _)| !journal.is_decided(key))
        .collect();
    let now = ctx.options.limit.map_or(todo.len(), |l| l.min(todo.len()));
    progress.phase(Phase::Settle, Some(now as u64));
    for chunk in todo[..now].chunks(create::BULK_MAX) {
        let decisions: Vec<&Decision> = chunk.iter().map(|(_, d)| *d).collect();
        let results = settle::settle(ctx, &decisions).await;
        let (mut keys, mut rows, mut failure) = (Vec::new(), Vec::new(), None);
        for ((key, _), result) in chunk.iter().zip(results) {
            match result {
                Ok(row) => {
                    keys.push(key.clone());
                    rows.push(row);
                }
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        journal.record(keys, rows)?;
        progress.advance(chunk.len() as u64);
        if let Some(e) = failure {
            journal.save()?;
            return Err(e);
        }
    }
    Ok((now, todo.len() - now))
}
