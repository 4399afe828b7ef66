//! nvcert — conformance harness and load tester for CAMARA Number Verification providers.
//!
//! Data flows one way: `profile` → `flow` (device leg, token) → `exchange` → `checks` (via `spec`)
//! → `results` → `report`. The embedded reference provider (`provider`) is an independent peer:
//! it shares no validation code with the checking side, so one bug cannot hide on both sides.

pub mod exchange;
pub mod provider;
pub mod secret;
pub mod spec;
