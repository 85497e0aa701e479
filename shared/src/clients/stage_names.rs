//! GoHighLevel pipeline and stage names by id, for activities that would otherwise read
//! `moved to "stage_won" stage in "pipe_sales" pipeline`. Marketplace `OpportunityStageUpdate`
//! events carry only `pipelineId` and `pipelineStageId`.
//!
//! The location's pipelines (`GET /opportunities/pipelines`) are cached per container for
//! [`NAMES_TTL_MS`] (10 minutes); an id the cache does not know refreshes it, at most once a
//! minute ([`REFRESH_AFTER_MISS_MS`]). When the lookup fails (no GHL token, an outage), the
//! ids are used.

use std::collections::HashMap;
use std::sync::Mutex;

use super::ghl::{GhlApi, Pipeline};

/// How long a location's pipelines are used before they are read again.
pub const NAMES_TTL_MS: i64 = 10 * 60 * 1000;
/// A miss re-reads the pipelines only when they are at least this old.
pub const REFRESH_AFTER_MISS_MS: i64 = 60 * 1000;

/// The per-container cache: location → (read at, its pipelines).
#[derive(Debug, Default)]
pub struct StageNames {
    cache: Mutex<HashMap<String, (i64, Vec<Pipeline>)>>,
}

/// A pipeline's name and, when asked for, one of its stages' names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub pipeline: Option<String>,
    pub stage: Option<String>,
}

fn lookup(pipelines: &[Pipeline], pipeline_id: Option<&str>, stage_id: Option<&str>) -> Names {
    let pipeline = pipelines
        .iter()
        .find(|p| Some(p.id.as_str()) == pipeline_id)
        .or_else(|| {
            // A stage id alone still names its pipeline.
            pipelines
                .iter()
                .find(|p| p.stages.iter().any(|s| Some(s.id.as_str()) == stage_id))
        });
    let stage = pipeline.and_then(|p| p.stages.iter().find(|s| Some(s.id.as_str()) == stage_id));
    Names {
        pipeline: pipeline
            .filter(|p| pipeline_id.is_none_or(|id| id == p.id))
            .map(|p| p.name.clone()),
        stage: stage.map(|s| s.name.clone()),
    }
}

impl StageNames {
    pub fn new() -> Self {
        Self::default()
    }

    fn cached(&self, location: &str) -> Option<(i64, Vec<Pipeline>)> {
        self.cache.lock().ok()?.get(location).cloned()
    }

    /// The names of `pipeline_id` and `stage_id` in `location`, as far as GoHighLevel knows
    /// them (asked through `ghl`, when given); `None` fields when it does not.
    pub async fn names(
        &self,
        ghl: Option<&dyn GhlApi>,
        now: i64,
        location: &str,
        pipeline_id: Option<&str>,
        stage_id: Option<&str>,
    ) -> Names {
        let wanted = |n: &Names| {
            (pipeline_id.is_none() || n.pipeline.is_some())
                && (stage_id.is_none() || n.stage.is_some())
        };
        let cached = self.cached(location);
        if let Some((read_at, pipelines)) = &cached {
            let names = lookup(pipelines, pipeline_id, stage_id);
            let fresh = now - read_at < NAMES_TTL_MS;
            if fresh && (wanted(&names) || now - read_at < REFRESH_AFTER_MISS_MS) {
                return names;
            }
        }
        let Some(ghl) = ghl else {
            return Names::default();
        };
        match ghl.list_pipelines(location).await {
            Ok(pipelines) => {
                let names = lookup(&pipelines, pipeline_id, stage_id);
                if let Ok(mut cache) = self.cache.lock() {
                    cache.insert(location.to_string(), (now, pipelines));
                }
                names
            }
            Err(e) => {
                tracing::warn!(error = "pipeline_names_unavailable", detail = %e, "pipeline and stage ids are used as names");
                cached
                    .map(|(_, pipelines)| lookup(&pipelines, pipeline_id, stage_id))
                    .unwrap_or_default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::ghl::PipelineStage;

    fn sales() -> Vec<Pipeline> {
        vec![Pipeline {
            id: "pipe_sales".into(),
            name: "Sales".into(),
            stages: vec![
                PipelineStage {
                    id: "stage_new".into(),
                    name: "New Lead".into(),
                },
                PipelineStage {
                    id: "stage_won".into(),
                    name: "Won".into(),
                },
            ],
        }]
    }

    #[test]
    fn ids_become_names_and_unknown_ids_stay_unknown() {
        let names = lookup(&sales(), Some("pipe_sales"), Some("stage_won"));
        assert_eq!(names.pipeline.as_deref(), Some("Sales"));
        assert_eq!(names.stage.as_deref(), Some("Won"));
        let stage_only = lookup(&sales(), None, Some("stage_new"));
        assert_eq!(stage_only.pipeline.as_deref(), Some("Sales"));
        assert_eq!(stage_only.stage.as_deref(), Some("New Lead"));
        // Stage ids are unique across pipelines: a stage is named even under an unknown id.
        let unknown_pipeline = lookup(&sales(), Some("other"), Some("stage_won"));
        assert_eq!(unknown_pipeline.pipeline, None);
        assert_eq!(unknown_pipeline.stage.as_deref(), Some("Won"));
        assert_eq!(
            lookup(&sales(), Some("other"), Some("gone")),
            Names::default()
        );
        assert_eq!(
            lookup(&sales(), Some("pipe_sales"), Some("gone")).stage,
            None
        );
    }
}
