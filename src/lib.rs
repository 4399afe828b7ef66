//! nvcert — conformance harness and load tester for CAMARA Number Verification providers.
//!
//! Data flows one way: [`profile`] → [`flow`] (device leg, token) → [`exchange`] → judged by
//! [`spec`] and the [`suite`]'s steps → [`results`] → [`report`]. The embedded reference
//! provider ([`provider`]) is an independent peer: it shares no validation code with the
//! checking side, so one bug cannot hide on both sides. [`cli`] is the only module that touches
//! the process (arguments, stdout, exit codes). The load tester ([`load`]) drives the same
//! [`flow`] with goose and reports counts and timings, never exchanges. Besides [`cli`], only
//! [`profile`] reads the environment (its value sources). `tests/architecture.rs` checks these
//! rules on the source.

pub mod checks;
pub mod cli;
pub mod exchange;
pub mod flow;
pub mod load;
pub mod profile;
pub mod provider;
pub mod report;
pub mod results;
pub mod secret;
pub mod spec;
pub mod suite;
