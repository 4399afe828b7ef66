//! Helpers shared by integration tests (every test file includes them with `mod common;`):
//! run the CLI in process, write profiles, read results; the test lines and fixtures.
//!
//! - [`provider`]: the reference provider in process (router + `oneshot`), its clients and flows.
//! - [`mock_provider`]: a wiremock NV provider, correct by default, for breaking one rule at a time.
//! - [`fault_table`]: each fault switch of a provider fails exactly the scenarios its row names.
//!
//! All keys, secrets and numbers used here are the TEST-ONLY fixtures.

// Each test file is its own crate and uses only some of these helpers; the rest would be
// reported as dead code in that crate.
#![allow(dead_code)]

pub mod fault_table;
pub mod hostile;
pub mod mock_provider;
pub mod provider;

use std::path::{Path, PathBuf};

use clap::Parser as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The device's line: the profile's `lines.device` and the number the enrichment header carries.
pub const DEVICE: &str = "+34600000001";
/// Another line known to the reference provider (`lines.other` of the profile).
pub const ANOTHER: &str = "+34600000009";
/// The header-enrichment header naming the device's line.
pub const ENRICH: &str = "x-nvcert-msisdn";

/// The repository's fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Lower-case hex SHA-256 of `s` (what `hashedPhoneNumber` carries).
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Runs `nvcert ARGS…` in process and returns its exit code.
pub async fn nvcert(args: &[&str]) -> u8 {
    let mut argv = vec!["nvcert"];
    argv.extend_from_slice(args);
    let cli = nvcert::cli::Cli::try_parse_from(argv).expect("arguments parse");
    nvcert::cli::run(cli).await
}

/// Runs `nvcert run --quiet --report-dir DIR ARGS…`; returns the exit code and results.json.
pub async fn run_suite(dir: &Path, args: &[&str]) -> (u8, Value) {
    let report = dir.to_str().expect("utf-8 temp path");
    let mut all = vec!["run", "--quiet", "--report-dir", report];
    all.extend_from_slice(args);
    let code = nvcert(&all).await;
    let text = std::fs::read_to_string(dir.join("results.json")).unwrap_or_else(|_| "null".into());
    (
        code,
        serde_json::from_str(&text).expect("results.json is JSON"),
    )
}

/// A profile for a provider at `url`, authenticating the device with header enrichment.
/// `auth` is `private_key_jwt` or `client_secret_basic`.
pub fn profile_text(url: &str, auth: &str) -> String {
    let keys = fixtures().join("keys");
    let keys = keys.display();
    format!(
        r#"
name = "test provider"
issuer = "{url}"
api_root = "{url}"
spec_version = "2.1.0"
timeout_secs = 5

[client]
client_id = "nvcert-demo"
auth_method = "{auth}"
private_key = "file:{keys}/demo-client-es256.TEST-ONLY.pem"
client_secret = "file:{keys}/demo-client-secret.TEST-ONLY.txt"
redirect_uri = "https://client.nvcert.invalid/callback"

[device_leg]
headers = {{ "{ENRICH}" = "{DEVICE}" }}

[non_network_login]
authorize_params = {{ login_hint = "tel:{DEVICE}", test_otp = "246810" }}

[lines]
device = "{DEVICE}"
other = "{ANOTHER}"
"#
    )
}

/// The shipped profile `fixtures/providers/FILE`, written for a provider at `shipped_url`,
/// pointed at `url` instead, with its key files referenced by absolute path so it works from any
/// directory.
pub fn shipped_profile_for(file: &str, shipped_url: &str, url: &str) -> String {
    let text = std::fs::read_to_string(fixtures().join("providers").join(file))
        .unwrap_or_else(|e| panic!("fixtures/providers/{file}: {e}"));
    let keys = fixtures().join("keys");
    text.replace(shipped_url, url.trim_end_matches('/'))
        .replace("file:../keys/", &format!("file:{}/", keys.display()))
}

/// The shipped reference profile (`fixtures/providers/reference.toml`) pointed at `url`.
pub fn reference_profile_for(url: &str) -> String {
    shipped_profile_for("reference.toml", "http://127.0.0.1:9091", url)
}

/// Starts the reference provider with `config` on an ephemeral loopback port: its handle and its
/// URL without the trailing `/`.
pub async fn spawn_provider(
    config: nvcert::provider::ProviderConfig,
) -> (nvcert::provider::ProviderHandle, String) {
    let handle = nvcert::provider::spawn(config, ([127, 0, 0, 1], 0).into(), None)
        .await
        .expect("the reference provider starts");
    let url = handle.url.as_str().trim_end_matches('/').to_owned();
    (handle, url)
}

/// A reference provider in process with `faults`, and a profile for it named `name` (the
/// provider's column in a matrix), written as `<file>.toml` in `dir`: its handle and the
/// profile's path.
pub async fn named_provider(
    dir: &Path,
    file: &str,
    name: &str,
    faults: &[nvcert::provider::Fault],
) -> (nvcert::provider::ProviderHandle, String) {
    let config = nvcert::provider::ProviderConfig::embedded().with_faults(faults.iter().copied());
    let (handle, url) = spawn_provider(config).await;
    let text = reference_profile_for(&url).replace(
        "name = \"nvcert reference provider\"",
        &format!("name = \"{name}\""),
    );
    let path = dir.join(format!("{file}.toml"));
    std::fs::write(&path, text).expect("write profile");
    (handle, path.to_str().expect("utf-8").to_owned())
}

/// Writes `text` as `profile.toml` in `dir` and returns its path as a string.
pub fn write_profile(dir: &Path, text: &str) -> String {
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).expect("write profile");
    path.to_str().expect("utf-8 path").to_owned()
}

/// Scenarios of results.json with the given status.
pub fn scenarios_with_status<'a>(results: &'a Value, status: &str) -> Vec<&'a Value> {
    results["scenarios"]
        .as_array()
        .map(|a| a.iter().filter(|s| s["status"] == status).collect())
        .unwrap_or_default()
}

/// All failure messages of results.json, one string.
pub fn all_failures(results: &Value) -> String {
    scenarios_with_status(results, "failed")
        .iter()
        .flat_map(|s| s["failures"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m.as_str().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The violations of `value` against the JSON schema file `spec` (relative to the crate), each
/// with where it is.
pub fn schema_errors(spec: &str, value: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(spec))
            .unwrap_or_else(|e| panic!("{spec}: {e}")),
    )
    .unwrap_or_else(|e| panic!("{spec} is not JSON: {e}"));
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{spec} does not compile: {e}"));
    validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Asserts that `value` holds to the JSON schema file `spec`, naming every violation and where.
pub fn assert_matches_schema(spec: &str, value: &Value) {
    let errors = schema_errors(spec, value);
    assert!(errors.is_empty(), "breaks {spec}: {errors:#?}");
}

/// Asserts that `results` (a results.json) holds to its contract, specs/results.schema.json.
pub fn assert_matches_results_schema(results: &Value) {
    assert_matches_schema("specs/results.schema.json", results);
}

/// Runs `nvcert run --quiet --provider <profile> ARGS…` against a reference provider started in
/// process with `config`; `profile` turns the provider's URL into the profile text. Returns the
/// exit code and results.json.
pub async fn run_with_profile(
    config: nvcert::provider::ProviderConfig,
    profile: impl Fn(&str) -> String,
    args: &[&str],
) -> (u8, Value) {
    let (handle, url) = spawn_provider(config).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_profile(dir.path(), &profile(&url));
    let mut all = vec!["--provider", path.as_str()];
    all.extend_from_slice(args);
    let out = run_suite(dir.path(), &all).await;
    handle.shutdown().await.expect("provider stopped cleanly");
    out
}

/// [`run_with_profile`] with the shipped reference profile.
pub async fn run_against(config: nvcert::provider::ProviderConfig, args: &[&str]) -> (u8, Value) {
    run_with_profile(config, reference_profile_for, args).await
}
