//! TEMPORARY stub (replaced by the real engine).
#![allow(missing_docs, dead_code, unused_variables)]
use crate::exchange::Exchange;
#[derive(Debug, Clone)]
pub struct Operation {
    pub operation_id: String,
    pub method: http::Method,
    pub path: String,
    pub documented_statuses: Vec<u16>,
    pub scopes: Vec<String>,
    pub request_body_required: bool,
    pub location: String,
}
#[derive(Debug, Clone)]
pub struct Violation {
    pub location: String,
}
impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.location)
    }
}
#[derive(Debug, thiserror::Error)]
#[error("spec")]
pub struct SpecError;
#[derive(Debug)]
pub struct SpecDocument {
    ops: Vec<Operation>,
}
impl SpecDocument {
    pub fn load(path: &std::path::Path) -> Result<Self, SpecError> {
        Err(SpecError)
    }
    pub fn origin(&self) -> &str {
        "x"
    }
    pub fn version(&self) -> &str {
        "x"
    }
    pub fn base_path(&self) -> &str {
        "x"
    }
    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.ops.first()
    }
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.ops.iter()
    }
    pub fn validate(&self, id: &str, e: &Exchange) -> Vec<Violation> {
        vec![]
    }
    pub fn validate_against(
        &self,
        r: &str,
        v: &serde_json::Value,
    ) -> Result<Vec<Violation>, SpecError> {
        Ok(vec![])
    }
}
pub fn builtin(v: &str) -> Option<SpecDocument> {
    None
}
pub fn builtin_versions() -> &'static [&'static str] {
    &["2.1.0"]
}
