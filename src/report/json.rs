//! `results.json`: the results model as JSON (contract: `specs/results.schema.json`).

use super::ReportError;
use crate::results::RunResults;

pub(super) fn render(results: &RunResults) -> Result<String, ReportError> {
    let mut text =
        serde_json::to_string_pretty(results).map_err(|source| ReportError::Serialize {
            what: "results.json",
            source,
        })?;
    text.push('\n');
    Ok(text)
}
