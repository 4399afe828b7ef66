//! Step definitions, one file per domain. Each step's doc quotes the phrasing it implements;
//! the phrasing follows CAMARA's test definitions so a CAMARA test author can read nvcert's
//! features, and nvcert can read theirs.

mod auth;
pub(crate) mod camara;
mod oidc;
mod operator;
pub(crate) mod request;
mod response;
mod send;
