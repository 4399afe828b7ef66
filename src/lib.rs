//! nvcert — conformance harness and load tester for CAMARA Number Verification providers.
//!
//! Data flows one way: [`profile`] → [`flow`] (discovery, device leg, token, the NV API built
//! from the profile and the [`spec`] selected for it) → [`exchange`] → judged by [`checks`] (the
//! spec engine's rules among them) as the [`suite`]'s steps drive the flows → [`results`] →
//! [`report`]. A step that could not run (transport, timeout) is an error, not a failed check.
//! The embedded reference
//! provider ([`provider`]) is an independent peer: it shares no validation code with the
//! checking side, so one bug cannot hide on both sides. [`cli`] is the only module that touches
//! the process (arguments, stdout, exit codes). The load tester ([`load`]) drives the same
//! [`flow`] with goose and reports counts and timings, never exchanges. Besides [`cli`], only
//! [`profile`] reads the environment (its value sources). `tests/architecture.rs` checks these
//! rules on the source.

pub mod checks;
pub mod cli;
pub mod evidence;
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
