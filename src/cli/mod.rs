//! The command line: the only place where process arguments, stdout/stderr, `anyhow` and exit
//! codes live. Everything else is library code returning typed values.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the command line is the one module that writes to stdout and stderr"
)]

mod baseline;
mod command;
mod evidence;
pub mod exit;
mod list;
mod live;
mod load;
mod multi;
mod run;
mod serve;
mod target;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Conformance harness and load tester for CAMARA Number Verification providers.
///
/// Without --provider, `nvcert run` starts its embedded reference provider (authorization
/// server + NV API with simulated network authentication) and certifies it.
#[derive(Debug, Parser)]
#[command(name = "nvcert", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// nvcert's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the conformance suite against a provider (the embedded reference provider by default).
    ///
    /// Before any scenario, a preflight tries the profile's token sources, discovery and the API
    /// root. The last line gives the run's verdict: passed, failed or incomplete (a MUST scenario
    /// skipped or unable to run).
    ///
    /// Exit code 0 when no MUST check failed (skipped ones do not fail the run, unless
    /// --require-complete), 1 when a MUST check failed or a MUST scenario could not run (transport
    /// failure, timeout), 2 for usage or configuration errors, a failed preflight included. With
    /// several providers, 2 when any profile is invalid (nothing runs), else the worst
    /// provider's. With --baseline, a regression is a failure (exit 1) unless --baseline-mode
    /// report.
    Run(RunArgs),
    /// Serve the reference provider (authorization server + NV API) until interrupted.
    Serve(ServeArgs),
    /// Check an evidence bundle written by `nvcert run --evidence`.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// List the check catalogue: tag, feature, scenario, level, citation, versions, rule set.
    List(ListArgs),
    /// Load-test a provider (the embedded reference provider by default) with goose.
    ///
    /// Writes load-summary.json, load-report.html (self-contained: it loads nothing from
    /// elsewhere) and load-histograms.json (what `nvcert load merge` adds up) to --report-dir and
    /// prints a summary. Exit code 0 when every --threshold held, 1 when one did not, 2 for usage
    /// or configuration errors (including an unparsable threshold or one naming a transaction
    /// the scenario does not have), 130 when interrupted (Ctrl-C: the partial figures are
    /// written, marked interrupted, and no threshold is judged).
    ///
    /// Distributed: run N workers with --worker-index 0..N-1 --workers N (and one --start-at),
    /// then `nvcert load merge DIR...`.
    Load(LoadArgs),
    /// Baselines for `run --baseline`: reviewed snapshots of earlier results.
    #[command(subcommand)]
    Baseline(BaselineCommand),
}

/// `nvcert baseline …`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Make a run the new baseline: write the status and level of every check of every provider
    /// of REPORT_DIR (a report folder of `nvcert run`, or a results.json) to PATH, with nothing
    /// volatile (no durations, timestamps, URLs, messages or tokens), sorted, one check per line.
    /// Review it and commit it; give it to `run --baseline`.
    Accept(BaselineAcceptArgs),
}

/// Options of `nvcert baseline accept`.
#[derive(Debug, clap::Args)]
pub struct BaselineAcceptArgs {
    /// Report folder of an earlier `nvcert run` (or its results.json).
    #[arg(value_name = "REPORT_DIR")]
    pub report_dir: PathBuf,
    /// Where to write the baseline (replaced if it exists).
    #[arg(long, value_name = "PATH")]
    pub to: PathBuf,
}

/// Options of `nvcert run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Provider profile (TOML) describing the provider under test. Without it, the embedded
    /// reference provider is started in process on an ephemeral 127.0.0.1 port. Repeatable:
    /// several providers run at once, each into REPORT_DIR/<provider-slug>/, with matrix.json
    /// (providers × checks) in REPORT_DIR.
    #[arg(long, value_name = "FILE")]
    pub provider: Vec<PathBuf>,
    /// Run every provider profile (*.toml) of this folder, as repeated --provider would. Every
    /// profile is checked before any provider runs.
    #[arg(long, value_name = "DIR")]
    pub providers: Option<PathBuf>,
    /// With several providers: how many run at once [default: the number of providers, at most 8].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel_providers: Option<u16>,
    /// Compare with an earlier run: a baseline written by `nvcert baseline accept`, a
    /// results.json, or the report folder of an earlier run. Regressions (passed → failed,
    /// warning or error) fail the run, whatever the check's level; see --baseline-mode.
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<PathBuf>,
    /// `fail`: regressions against --baseline fail the run (exit 1). `report`: they are only
    /// reported.
    #[arg(long, value_name = "MODE", default_value = "fail", value_parser = ["fail", "report"], requires = "baseline")]
    pub baseline_mode: String,
    /// Directory receiving junit.xml and results.json (created if missing); with several
    /// providers, one folder per provider and matrix.json.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report_dir: PathBuf,
    /// Run only scenarios matching this cucumber tag expression, e.g.
    /// "@verify and not @verify_hashed_false".
    #[arg(long, value_name = "EXPR")]
    pub tags: Option<String>,
    /// Feature file or folder to run instead of nvcert's built-in features (repeatable).
    #[arg(long, value_name = "PATH")]
    pub features: Vec<PathBuf>,
    /// Judge against this NV spec version (e.g. 2.1.0, 1.0.0, wip) instead of the profile's; the
    /// embedded reference provider is started at that version too.
    #[arg(long, value_name = "VERSION")]
    pub spec_version: Option<String>,
    /// Enable a rule set beyond the released spec (repeatable). `wip`: CAMARA main's unreleased
    /// rules — single-use access tokens, no refresh tokens, expires_in ≤ 300.
    #[arg(long = "rule-set", value_name = "NAME", value_parser = ["wip"])]
    pub rule_sets: Vec<String>,
    /// SHOULD-level failures (warnings), SHOULD scenarios that could not run, undefined steps and
    /// --expect-failures entries that match no scenario fail the run too.
    #[arg(long)]
    pub strict: bool,
    /// An incomplete run (a MUST scenario skipped or unable to run: verdict `incomplete`) exits 1.
    #[arg(long)]
    pub require_complete: bool,
    /// Known deviations: one `@tag` or `Feature › Scenario` per line. Listed failures do not fail
    /// the run; listed checks that pass are reported.
    #[arg(long, value_name = "FILE")]
    pub expect_failures: Option<PathBuf>,
    /// Scenarios run at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Certify the embedded reference provider playing this operator dialect (e.g.
    /// orange-es-v0) with the dialect's profile; with --provider, the profile's `dialect` decides.
    #[arg(long, value_name = "NAME", conflicts_with = "provider")]
    pub dialect: Option<String>,
    /// Certify the embedded aggregator (`serve --aggregator`, two operators behind it) on
    /// ephemeral ports with fixtures/providers/aggregator.toml; `--spec-version 0.3.1` runs the
    /// operator sample's v0 mode with fixtures/providers/aggregator-v0.toml.
    #[arg(long, conflicts_with_all = ["provider", "dialect"])]
    pub aggregator: bool,
    /// Also judge every exchange against this CAMARA document (camara:VERSION, e.g.
    /// camara:0.3.1) and list each difference once as a REVIEW finding that never fails the run.
    /// Under a dialect the default is the CAMARA version it descends from; `none` turns it off.
    #[arg(long, value_name = "camara:VERSION")]
    pub compare_with: Option<String>,
    /// Print each HTTP exchange as it happens: method, URL (query values and secrets
    /// redacted), status, milliseconds.
    #[arg(long, short, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Also write an evidence bundle: a zip of manifest.json (what ran, SHA-256 of every file),
    /// results.json, junit.xml, ctrf.json, report.html and the console text.
    #[arg(long, value_name = "FILE.zip")]
    pub evidence: Option<PathBuf>,
    /// Sign the bundle's manifest (ES256, PKCS#8 PEM): `env:NAME` or `file:PATH`. Adds
    /// manifest.jws.
    #[arg(long, value_name = "env:NAME|file:PATH", requires = "evidence")]
    pub sign_key: Option<String>,
}

/// `nvcert evidence` commands.
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Recompute every hash of a bundle (and its signature, with --public-key).
    ///
    /// Exit code 0 when intact, 1 naming the first file that differs (or a signature that does
    /// not verify), 2 when the bundle cannot be read.
    Verify(VerifyArgs),
}

/// Options of `nvcert evidence verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The bundle.
    #[arg(value_name = "FILE.zip")]
    pub bundle: PathBuf,
    /// ES256 public key (PEM) that must have signed the manifest.
    #[arg(long, value_name = "PEM")]
    pub public_key: Option<PathBuf>,
}

/// Options of `nvcert list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only the checks that apply at this NV spec version.
    #[arg(long, value_name = "VERSION")]
    pub spec_version: Option<String>,
    /// Include the checks of a rule set beyond the released spec (repeatable): `wip`.
    #[arg(long = "rule-set", value_name = "NAME", value_parser = ["wip"])]
    pub rule_sets: Vec<String>,
    /// Feature file or folder to list instead of nvcert's built-in features (repeatable).
    #[arg(long, value_name = "PATH")]
    pub features: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "table", value_parser = ["table", "json", "markdown"])]
    pub format: String,
}

/// Options of `nvcert serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (HOST:PORT). Default 127.0.0.1:9091, with --aggregator
    /// 127.0.0.1:9093.
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<SocketAddr>,
    /// URL the provider advertises in discovery, redirects and token `iss` (when it runs behind a
    /// reverse proxy). Defaults to http://<addr>.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<url::Url>,
    /// Provider configuration (TOML, format of fixtures/reference-provider.toml). Defaults to the
    /// compiled-in reference configuration.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// NV spec version to serve, overriding the config. Sets the default API base path, scope
    /// names, patterns and the operator-token flows offered.
    #[arg(long, value_name = "VERSION", value_parser = SpecVersionParser)]
    pub spec_version: Option<crate::provider::SpecVersion>,
    /// Break one rule on purpose (repeatable; added to the config's faults). See --list-faults.
    #[arg(long = "fault", value_name = "NAME", value_parser = fault_names())]
    pub faults: Vec<String>,
    /// Make access tokens single-use with any spec version (always on with wip).
    #[arg(long)]
    pub single_use_tokens: bool,
    /// Play an operator dialect instead of plain CAMARA (orange-es-v0: Orange Spain's NV v0,
    /// its paths, HTTP Basic, dpv: scopes and answer shapes; no discovery document).
    /// idlayr-phonecheck-v0.1 plays IDlayr PhoneCheck v0.1 (another family, with its own faults).
    #[arg(long, value_name = "NAME", value_parser = provider_dialect_names())]
    pub dialect: Option<String>,
    /// Print every fault as `name<TAB>description` and exit.
    #[arg(long)]
    pub list_faults: bool,
    /// Serve an aggregator (channel partner) in front of two reference operators: operator A on
    /// 127.0.0.11 and B on 127.0.0.12, at the aggregator's port; the telco finder sends device
    /// address 127.0.0.2 to A and 127.0.0.3 to B. `--spec-version 0.3.1` selects the operator
    /// sample's v0 mode; `--fault aggregator-…` its faults (see --aggregator --list-faults).
    #[arg(long, conflicts_with_all = ["config", "dialect", "single_use_tokens", "bench_endpoints"])]
    pub aggregator: bool,
    /// Also serve `GET /bench/noop` (200 `{}`), the baseline `scripts/bench-load.sh` compares the
    /// NV endpoints with. Benchmarks only.
    #[arg(long, hide = true)]
    pub bench_endpoints: bool,
}

/// The names `serve --fault` takes: the NV provider's faults, the PhoneCheck provider's and the
/// aggregator's (the dialect served, or --aggregator, decides which apply).
fn fault_names() -> clap::builder::PossibleValuesParser {
    let nv = crate::provider::Fault::ALL.iter().map(|f| f.name());
    let phonecheck = crate::provider::phonecheck::PhoneCheckFault::ALL
        .iter()
        .map(|f| f.name());
    let aggregator = crate::provider::aggregator::AggregatorFault::ALL
        .iter()
        .map(|f| f.name());
    clap::builder::PossibleValuesParser::new(nv.chain(phonecheck).chain(aggregator))
}

/// The names `serve --dialect` takes: the NV dialects and the PhoneCheck family.
fn provider_dialect_names() -> clap::builder::PossibleValuesParser {
    let nv = crate::provider::ProviderDialect::ALL
        .iter()
        .map(|d| d.as_str());
    clap::builder::PossibleValuesParser::new(
        nv.chain(std::iter::once(crate::provider::phonecheck::DIALECT)),
    )
}

/// Parses `--spec-version` exactly as [`crate::provider::SpecVersion`]'s `FromStr` does (so `v2.1.0`
/// and `WIP` keep working), and lists the provider's version table as the possible values, so
/// `--help` never lags behind the versions the provider can serve.
#[derive(Clone)]
struct SpecVersionParser;

impl clap::builder::TypedValueParser for SpecVersionParser {
    type Value = crate::provider::SpecVersion;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        // The parser clap derives for a `FromStr` type: same errors as before.
        let from_str: fn(&str) -> Result<Self::Value, crate::provider::UnknownSpecVersion> =
            str::parse;
        from_str.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let names = crate::provider::SpecVersion::ALL.map(|v| v.as_str());
        Some(Box::new(
            names.into_iter().map(clap::builder::PossibleValue::new),
        ))
    }
}

/// Options of `nvcert load`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LoadArgs {
    /// `merge`: add up the workers of a distributed run.
    #[command(subcommand)]
    pub command: Option<LoadCommand>,
    /// What each user does, over and over: token-exchange (device leg + token exchange), verify
    /// (POST /verify), share (GET /device-phone-number) or journey (authorize → token → verify →
    /// share).
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present = "print_token",
        value_parser = load::scenario_parser()
    )]
    pub scenario: Option<crate::load::ScenarioKind>,
    /// Provider profile (TOML). Without it, the embedded reference provider is started in
    /// process on an ephemeral 127.0.0.1 port.
    #[arg(long, value_name = "FILE")]
    pub provider: Option<PathBuf>,
    /// Load the embedded aggregator (`serve --aggregator`) on ephemeral ports with
    /// fixtures/providers/aggregator.toml; the summary adds the aggregator's latency over the
    /// operators' own.
    #[arg(long, conflicts_with = "provider")]
    pub aggregator: bool,
    /// Call the API of this NV spec version (e.g. 2.1.0, 1.0.0, wip) instead of the profile's;
    /// the embedded reference provider is started at that version too.
    #[arg(long, value_name = "VERSION")]
    pub spec_version: Option<String>,
    /// Concurrent users (1 to 1024).
    #[arg(
        long,
        value_name = "N",
        required_unless_present = "print_token",
        value_parser = clap::value_parser!(u16).range(1..=1024)
    )]
    pub users: Option<u16>,
    /// How long all users run once started: whole seconds, e.g. 10s, 2m, 1h30m (at most 24h).
    #[arg(
        long,
        value_name = "DURATION",
        required_unless_present = "print_token",
        value_parser = load::parse_run_time
    )]
    pub run_time: Option<u64>,
    /// Users started per second [default: all users within about a second].
    #[arg(long, value_name = "R", value_parser = load::parse_rate)]
    pub increase_rate: Option<f64>,
    /// Directory receiving load-summary.json, load-report.html and load-histograms.json (created
    /// if missing).
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report_dir: PathBuf,
    /// A rule the run must meet (repeatable): [TRANSACTION.]METRIC OP VALUE, e.g.
    /// verify.p95<50ms, token.rps>500, errors<0.1%. Metrics: p50, p95, p99 (per transaction),
    /// rps, errors (%), failures, requests.
    #[arg(long, value_name = "EXPR", value_parser = load::parse_threshold)]
    pub threshold: Vec<crate::load::Threshold>,
    /// The provider accepts each access token once: obtain a fresh one (authorize → token) for
    /// every API call. For the verify and share scenarios.
    #[arg(long)]
    pub single_use_tokens: bool,
    /// Print nothing but errors (the reports are still written).
    #[arg(long, short)]
    pub quiet: bool,
    /// Print a fresh access token for both NV scopes on stdout and exit, for tools that replay
    /// one token (scripts/bench-load.sh gives it to wrk). This prints a SECRET: the one place
    /// nvcert does so on purpose.
    /// Needs --provider (the embedded provider, and its tokens, end with the process).
    #[arg(
        long,
        requires = "provider",
        conflicts_with_all = ["scenario", "users", "run_time", "increase_rate", "threshold", "single_use_tokens", "worker_index", "start_at"]
    )]
    pub print_token: bool,
    /// Run one slice of a distributed run: this worker's index, 0 to --workers - 1 (in a
    /// Kubernetes Indexed Job: $(JOB_COMPLETION_INDEX)). The worker runs its share of --users
    /// (the whole run's) and judges no threshold; `nvcert load merge` does.
    #[arg(long, value_name = "I", requires = "workers")]
    pub worker_index: Option<usize>,
    /// How many workers share the run (1 to 1024).
    #[arg(
        long,
        value_name = "N",
        requires = "worker_index",
        value_parser = clap::value_parser!(u16).range(1..=1024)
    )]
    pub workers: Option<u16>,
    /// Start the users at this time, RFC 3339 (e.g. 2026-11-26T10:00:00Z), so that every
    /// worker measures the same window. A time more than 1 s past is an error.
    #[arg(long, value_name = "RFC3339", value_parser = load::parse_start_at)]
    pub start_at: Option<std::time::SystemTime>,
}

/// Subcommands of `nvcert load`.
#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Merge the report directories of a distributed run's workers into one load-summary.json
    /// (percentiles from the added HDR histograms: exact), load-report.html, with the workers
    /// and their windows. Every worker 0..N-1 must be given exactly once. Exit code 0 when every
    /// --threshold held, 1 when one did not or a worker was interrupted, 2 for unreadable,
    /// missing, duplicate or mismatched workers.
    Merge(LoadMergeArgs),
}

/// Options of `nvcert load merge`.
#[derive(Debug, clap::Args)]
pub struct LoadMergeArgs {
    /// The workers' report directories (each holding load-histograms.json).
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Directory receiving the merged load-summary.json and load-report.html.
    #[arg(long, value_name = "DIR")]
    pub report_dir: PathBuf,
    /// A rule the merged run must meet (repeatable), as for `nvcert load`.
    #[arg(long, value_name = "EXPR", value_parser = load::parse_threshold)]
    pub threshold: Vec<crate::load::Threshold>,
    /// Print nothing but errors (the reports are still written).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs a parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> u8 {
    // The commands' futures are large (a whole suite run lives in one); boxed, they live on
    // the heap rather than on the caller's stack, whatever thread polls them.
    let outcome = match cli.command {
        Command::Run(args) => Box::pin(run::run(args)).await,
        Command::Serve(args) => Box::pin(serve::serve(args)).await,
        Command::Evidence(EvidenceCommand::Verify(args)) => Ok(evidence::verify(&args)),
        Command::List(args) => list::list(&args),
        Command::Load(args) => Box::pin(load::load(args)).await,
        Command::Baseline(BaselineCommand::Accept(args)) => baseline::accept(&args),
    };
    match outcome {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<run::InterruptedEarly>().is_some() => {
            eprintln!("nvcert: {e}");
            exit::INTERRUPTED
        }
        Err(e) => {
            // No error names a secret, but one may quote a URL: no sensitive query value.
            eprintln!(
                "nvcert: {}",
                crate::secret::redact_query_values(&error_text(&e))
            );
            exit::USAGE_OR_CONFIG
        }
    }
}

/// The error and its causes, each cause once (library errors often already quote their source).
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
