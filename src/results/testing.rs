//! Results built by hand, for tests (the crate's own and tests/): a scenario as the collector
//! would report it, with only what a test names filled in. A run never calls this.

use super::{Level, ScenarioResult, Status};

/// The MUST scenario `feature › name` with `status` and nothing else recorded: no tags, no
/// failure message, no steps or exchanges, 1 ms. Set the rest with struct update syntax:
/// `ScenarioResult { failures: vec![…], ..testing::scenario("Verify", "A case", Status::Failed) }`.
pub fn scenario(feature: &str, name: &str, status: Status) -> ScenarioResult {
    ScenarioResult {
        feature: feature.to_owned(),
        name: name.to_owned(),
        tags: Vec::new(),
        status,
        level: Level::Must,
        citation: None,
        failures: Vec::new(),
        skip_reason: None,
        error: None,
        cause: None,
        review: None,
        unexpectedly_passed: false,
        undefined_steps: Vec::new(),
        duration_ms: 1,
        steps: Vec::new(),
        exchanges: Vec::new(),
        failure_exchange: None,
    }
}
