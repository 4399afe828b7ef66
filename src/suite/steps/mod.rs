//! Step definitions, one file per domain. Each step's doc quotes the phrasing it implements;
//! the phrasing follows CAMARA's test definitions so a CAMARA test author can read nvcert's
//! features, and nvcert can read theirs. A lint rule that reads one phrasing (`lint_…`) sits
//! beside its step; `suite::lint` walks the features and calls them.
//!
//! CAMARA's own vocabulary (testing ASSETs, legacy sends, Feature lines) is resolved by
//! `suite::camara_vocabulary`, shared with the lint.

pub(super) mod auth;
pub(super) mod body;
pub(super) mod lines;
mod oidc;
mod operator;
pub(crate) mod request;
pub(super) mod response;
pub(super) mod send;
