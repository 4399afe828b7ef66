//! What every scenario of a run shares: the flows of the profile and the spec it is judged by.

use std::sync::Arc;

use crate::flow::Flow;
use crate::spec::SpecDocument;

/// Shared, read-only context of a run.
#[derive(Debug)]
pub struct RunContext {
    /// Flows of the provider under test.
    pub flow: Arc<Flow>,
    /// The NV spec the provider is judged against.
    pub spec: Arc<SpecDocument>,
}

impl RunContext {
    /// Every NV scope the spec names (what "a valid access token" is asked for).
    pub fn all_nv_scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = self
            .spec
            .operations()
            .flat_map(|o| o.scopes.iter().cloned())
            .collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// The API root joined with `base_path` and `path`.
    pub fn api_url(&self, base_path: &str, path: &str) -> Result<url::Url, String> {
        let root = self.flow.profile().api_root.as_str().trim_end_matches('/');
        let text = format!("{root}{}{path}", base_path.trim_end_matches('/'));
        url::Url::parse(&text).map_err(|e| format!("cannot build API URL {text:?}: {e}"))
    }
}
