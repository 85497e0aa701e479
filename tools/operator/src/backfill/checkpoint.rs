//! The checkpoint file (`--checkpoint`): how far a run got, so that a run that stopped (a
//! crash, a fault, `--limit`) is continued by the next one with the same file.
//!
//! It holds ids and counts only, never contact data: which side has been read (pages,
//! contacts), the contacts already decided (`ghl:<id>`, `ct:<id>`), the outcome counts so far,
//! and whether the run finished. A resumed run reads both sides again (a few requests per
//! thousand contacts) and goes on with the contacts not decided yet; whatever a stopped run
//! linked or created is found again then (links are conditional, created contacts match), so
//! nothing is linked or created twice. A finished checkpoint starts a new run. The file is
//! replaced atomically (written aside, then renamed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::outcome::{Outcome, Row};

const VERSION: u32 = 1;

/// Why a checkpoint cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("reading the checkpoint {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("writing the checkpoint {path}: {reason}")]
    Unwritable { path: PathBuf, reason: String },
    #[error("the checkpoint {path} belongs to an unfinished {theirs} run, not to this {ours} run: run it again as it was, or use another checkpoint file")]
    OtherRun {
        path: PathBuf,
        theirs: String,
        ours: String,
    },
}

/// What a run is: a checkpoint continues only the same kind of run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunKind {
    pub location: String,
    pub apply: bool,
    pub create_missing: bool,
}

impl std::fmt::Display for RunKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = if self.apply { "--apply" } else { "dry" };
        let create = if self.create_missing {
            " --create-missing"
        } else {
            ""
        };
        write!(f, "{mode}{create} (location {})", self.location)
    }
}

/// What reading a side saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideProgress {
    pub complete: bool,
    pub pages: u32,
    pub contacts: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    pub run: RunKind,
    pub ghl: SideProgress,
    pub cloudtalk: SideProgress,
    pub decided: BTreeSet<String>,
    pub counts: BTreeMap<Outcome, usize>,
    pub finished: bool,
}

impl Checkpoint {
    pub fn new(run: RunKind) -> Self {
        Self {
            version: VERSION,
            run,
            ghl: SideProgress::default(),
            cloudtalk: SideProgress::default(),
            decided: BTreeSet::new(),
            counts: BTreeMap::new(),
            finished: false,
        }
    }

    /// The unfinished run `path` holds for `run`, else a new one; `Ok((checkpoint, resumed))`.
    pub fn load(path: &Path, run: &RunKind) -> Result<(Self, bool), CheckpointError> {
        let unreadable = |reason: String| CheckpointError::Unreadable {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Self::new(run.clone()), false))
            }
            Err(e) => return Err(unreadable(e.to_string())),
        };
        let saved: Checkpoint =
            serde_json::from_slice(&bytes).map_err(|e| unreadable(e.to_string()))?;
        if saved.version != VERSION {
            return Err(unreadable(format!(
                "version {} is not {VERSION}",
                saved.version
            )));
        }
        match (saved.finished, &saved.run == run) {
            (true, _) => Ok((Self::new(run.clone()), false)),
            (false, true) => Ok((saved, true)),
            (false, false) => Err(CheckpointError::OtherRun {
                path: path.to_path_buf(),
                theirs: saved.run.to_string(),
                ours: run.to_string(),
            }),
        }
    }

    /// Writes it aside and renames it over `path`.
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        let unwritable = |e: std::io::Error| CheckpointError::Unwritable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(unwritable)?;
        }
        let aside = path.with_extension("tmp");
        let bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        std::fs::write(&aside, bytes).map_err(unwritable)?;
        std::fs::rename(&aside, path).map_err(unwritable)
    }

    /// The contacts of `rows` are decided.
    pub fn record(&mut self, keys: impl IntoIterator<Item = String>, rows: &[Row]) {
        self.decided.extend(keys);
        for row in rows {
            *self.counts.entry(row.outcome).or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(apply: bool) -> RunKind {
        RunKind {
            location: "loc".into(),
            apply,
            create_missing: false,
        }
    }

    fn path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "backfill-checkpoint-{}-{name}.json",
            std::process::id()
        ))
    }

    #[test]
    fn an_unfinished_run_is_resumed_a_finished_one_starts_over() {
        let file = path("resume");
        let _ = std::fs::remove_file(&file);
        let (mut fresh, resumed) = Checkpoint::load(&file, &run(true)).unwrap();
        assert!(!resumed);
        fresh.record(["ghl:g1".to_string()], &[Row::new(Outcome::Linked, false)]);
        fresh.save(&file).unwrap();
        let (again, resumed) = Checkpoint::load(&file, &run(true)).unwrap();
        assert!(resumed);
        assert_eq!(again, fresh);
        assert!(matches!(
            Checkpoint::load(&file, &run(false)),
            Err(CheckpointError::OtherRun { .. })
        ));
        fresh.finished = true;
        fresh.save(&file).unwrap();
        let (new, resumed) = Checkpoint::load(&file, &run(false)).unwrap();
        assert!(!resumed && new.decided.is_empty());
        std::fs::write(&file, b"{").unwrap();
        assert!(matches!(
            Checkpoint::load(&file, &run(true)),
            Err(CheckpointError::Unreadable { .. })
        ));
        let _ = std::fs::remove_file(&file);
    }
}
