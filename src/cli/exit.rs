//! Exit codes: the contract CI pipelines rely on.

/// Everything passed.
pub const OK: u8 = 0;
/// A check failed (or a feature could not be run).
pub const CHECK_FAILED: u8 = 1;
/// Usage or configuration error (bad flag, missing or invalid profile, unknown spec version).
pub const USAGE_OR_CONFIG: u8 = 2;
/// Interrupted (SIGINT): 128 + 2, the shells' convention. Whatever was measured is written and
/// marked interrupted.
pub const INTERRUPTED: u8 = 130;
