//! What a run keeps on disk as it goes: the report rows and the checkpoint, saved together (at
//! most a second apart, and whenever the run stops), so that the report holds a row for each
//! contact the checkpoint counts as decided.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::checkpoint::{Checkpoint, RunKind, SideProgress};
use super::contacts::SideRead;
use super::outcome::Row;
use super::report::Report;
use super::{BackfillError, Options};

/// How often rows and the checkpoint are saved while a run goes well.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// Which side was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Ghl,
    CloudTalk,
}

pub struct Journal {
    checkpoint_path: Option<PathBuf>,
    pub checkpoint: Checkpoint,
    report_path: Option<PathBuf>,
    report: Report,
    pending_rows: Vec<Row>,
    pending_keys: Vec<String>,
    saved_at: Instant,
    /// It continues a run that stopped.
    pub resumed: bool,
}

impl Journal {
    pub fn open(options: &Options, run: RunKind) -> Result<Self, BackfillError> {
        let (checkpoint, resumed) = match &options.checkpoint {
            Some(path) => Checkpoint::load(path, &run)?,
            None => (Checkpoint::new(run), false),
        };
        let report = match &options.report {
            Some(path) => {
                Report::open(path, resumed).map_err(|e| BackfillError::report(path, &e))?
            }
            None => Report::none(),
        };
        Ok(Self {
            checkpoint_path: options.checkpoint.clone(),
            checkpoint,
            report_path: options.report.clone(),
            report,
            pending_rows: Vec::new(),
            pending_keys: Vec::new(),
            saved_at: Instant::now(),
            resumed,
        })
    }

    pub fn is_decided(&self, key: &str) -> bool {
        self.checkpoint.decided.contains(key)
    }

    /// A side has been read in full.
    pub fn read(&mut self, side: Side, read: &SideRead) -> Result<(), BackfillError> {
        let progress = SideProgress {
            complete: true,
            pages: read.pages,
            contacts: read.contacts,
        };
        match side {
            Side::Ghl => self.checkpoint.ghl = progress,
            Side::CloudTalk => self.checkpoint.cloudtalk = progress,
        }
        self.save()
    }

    /// The contacts of `keys` are decided, as `rows` say; saved when due.
    pub fn record(&mut self, keys: Vec<String>, rows: Vec<Row>) -> Result<(), BackfillError> {
        self.pending_keys.extend(keys);
        self.pending_rows.extend(rows);
        match self.saved_at.elapsed() >= SAVE_EVERY {
            true => self.save(),
            false => Ok(()),
        }
    }

    /// Rows first, then the checkpoint that counts them.
    pub fn save(&mut self) -> Result<(), BackfillError> {
        let report_failed = |e: std::io::Error| match &self.report_path {
            Some(path) => BackfillError::report(path, &e),
            None => BackfillError::Internal("a report without a path"),
        };
        self.report
            .write(&self.pending_rows)
            .map_err(report_failed)?;
        self.report.flush().map_err(report_failed)?;
        let keys = std::mem::take(&mut self.pending_keys);
        let rows = std::mem::take(&mut self.pending_rows);
        self.checkpoint.record(keys, &rows);
        if let Some(path) = &self.checkpoint_path {
            self.checkpoint.save(path)?;
        }
        self.saved_at = Instant::now();
        Ok(())
    }

    /// The run ends: finished when every contact is decided.
    pub fn close(&mut self, finished: bool) -> Result<(), BackfillError> {
        self.checkpoint.finished = finished;
        self.save()
    }
}
