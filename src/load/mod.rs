//! The load tester: goose drives a provider through the same [`crate::flow`] the conformance suite
//! uses (one OAuth client, one device leg, one client-assertion signer), step by step, and the
//! run ends in a [`LoadSummary`] judged by `--threshold` rules.
//!
//! Goose is embedded, never in charge of the process: it is configured from a [`LoadPlan`]
//! through `GooseConfiguration::default()` + `set_default` (it never reads the process
//! arguments), its console report is off (nvcert prints its own), and its telnet and WebSocket
//! controllers are off (a load run opens no port). It writes its HTML report itself.
//!
//! Modules: [`scenarios`] (which steps a scenario runs), `transactions` (the steps, thin wrappers
//! over `flow`), [`threshold`] (rules), [`summary`] (figures and their writers). This module
//! must not judge conformance (that is the suite's job) and reports no exchange contents, so no
//! secret can reach a load report.

pub mod aggregator;
pub mod merge;
mod phonecheck;
pub mod record;
pub mod scenarios;
mod sender;
pub mod summary;
pub mod threshold;
mod transactions;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use goose::client::GooseClientBuilder;
use goose::config::GooseConfiguration;
use goose::prelude::{GooseAttack, GooseDefault, GooseDefaultType};

pub use merge::{MergeError, WorkerRecord};
pub use record::Live;
pub use scenarios::{ScenarioKind, Step};
pub use summary::{LoadSummary, TransactionSummary, WorkerSlice};
pub use threshold::{Threshold, ThresholdError, ThresholdOutcome, Verdict};

use crate::flow::{Flow, FlowError, Login};
use crate::secret::Secret;
use transactions::{ApiCall, LoadContext, Tokens};

/// Most concurrent users a run may have: a bound on what one run can throw at a provider.
pub const MAX_USERS: usize = 1024;
/// Longest run time, in seconds (24 h): every run ends by itself.
pub const MAX_RUN_TIME_SECS: u64 = 24 * 3600;
/// The HTML report, in the report directory (rendered by `report::load` from the summary).
pub const HTML_REPORT: &str = "load-report.html";
/// Held while goose runs (see [`run`]).
static GOOSE_RUN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Most workers a distributed run may have.
pub const MAX_WORKERS: usize = MAX_USERS;
/// How far in the past `--start-at` may be when a worker starts: later, the workers would not
/// measure the same window.
pub const START_AT_TOLERANCE: Duration = Duration::from_secs(1);
/// How far in the future `--start-at` may be (a typo in the date must not park a worker).
pub const MAX_START_DELAY: Duration = Duration::from_secs(24 * 3600);

/// `operationId`s of the NV operations the API steps call.
const VERIFY_OPERATION: &str = "phoneNumberVerify";
const SHARE_OPERATION: &str = "phoneNumberShare";

/// One load run, as asked for.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// What each user does.
    pub scenario: ScenarioKind,
    /// Concurrent users (1..=[`MAX_USERS`]).
    pub users: usize,
    /// How long all users run once started, in seconds (1..=[`MAX_RUN_TIME_SECS`]).
    pub run_time_secs: u64,
    /// Users started per second; `None`: all users within about a second.
    pub increase_rate: Option<f64>,
    /// Where the reports go.
    pub report_dir: PathBuf,
    /// Rules judged on the summary.
    pub thresholds: Vec<Threshold>,
    /// The provider accepts each token once: obtain one per API call (verify and share only).
    pub single_use_tokens: bool,
    /// This process runs one slice of a distributed run (`users` is then the whole run's).
    pub slice: Option<WorkerSlice>,
    /// When the users start (workers of one run share it, so they measure the same window).
    pub start_at: Option<SystemTime>,
}

/// A finished run: its summary and what a merge needs from it.
#[derive(Debug)]
pub struct LoadRun {
    /// The summary, thresholds judged (or not, when interrupted).
    pub summary: LoadSummary,
    /// The figures a merge adds up (`load-histograms.json`).
    pub worker: WorkerRecord,
}

/// Why a load run could not run. Every variant is a usage or configuration problem, or a
/// provider that cannot even be set up for load (discovery fails): exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The plan is not runnable as given (bounds, flags that do not fit the scenario).
    #[error("{0}")]
    Plan(String),
    /// A threshold names a transaction the scenario does not have.
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
    /// The run would send load to a host that is not the provider's (see `flow::TrustSet`).
    #[error("{what} is {url}: {reason}")]
    Target {
        /// What points there (e.g. "the phoneNumberVerify URL").
        what: String,
        /// The URL, without query.
        url: String,
        /// Why the host is refused, and the fix.
        reason: String,
    },
    /// The provider could not be prepared for load (e.g. discovery failed).
    #[error("preparing the load run: {0}")]
    Flow(#[from] FlowError),
    /// The API of the spec judging the provider lacks an operation a step calls.
    #[error("the NV API at {api} has no operation {operation_id} in this spec version")]
    Operation {
        /// The API's base URL.
        api: String,
        /// The missing operation.
        operation_id: &'static str,
    },
    /// goose refused the configuration or failed.
    #[error("goose: {0}")]
    Goose(String),
    /// The report directory could not be created.
    #[error("report directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl From<goose::GooseError> for LoadError {
    fn from(e: goose::GooseError) -> Self {
        Self::Goose(e.to_string())
    }
}

impl LoadPlan {
    /// The steps of this plan's scenario, in order.
    pub fn steps(&self) -> &'static [Step] {
        self.scenario.steps(self.single_use_tokens)
    }

    /// The transactions the run reports (see [`ScenarioKind::reported_steps`]).
    pub fn reported_steps(&self, flow: &Flow) -> &'static [Step] {
        self.scenario
            .reported_steps(self.single_use_tokens, flow.profile().device_leg.is_some())
    }

    /// The users this process runs: all of them, or its slice's share (the first
    /// `users % workers` workers take one more).
    pub fn process_users(&self) -> usize {
        match self.slice {
            None => self.users,
            Some(WorkerSlice { index, workers }) => {
                self.users / workers + usize::from(index < self.users % workers)
            }
        }
    }

    /// Checks bounds, flags and threshold names against the scenario and `flow`'s profile.
    pub fn validate(&self, flow: &Flow) -> Result<(), LoadError> {
        if !(1..=MAX_USERS).contains(&self.users) {
            return Err(LoadError::Plan(format!(
                "users: expected 1 to {MAX_USERS}, found {}",
                self.users
            )));
        }
        if !(1..=MAX_RUN_TIME_SECS).contains(&self.run_time_secs) {
            return Err(LoadError::Plan(format!(
                "run time: expected 1 s to {MAX_RUN_TIME_SECS} s, found {} s",
                self.run_time_secs
            )));
        }
        if let Some(rate) = self.increase_rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(LoadError::Plan(format!(
                "increase rate: expected a positive number of users per second, found {rate}"
            )));
        }
        if self.single_use_tokens && !self.scenario.takes_single_use_tokens() {
            return Err(LoadError::Plan(format!(
                "--single-use-tokens applies to the verify and share scenarios; {} already obtains a fresh token per iteration",
                self.scenario
            )));
        }
        let steps = self.steps();
        let phonecheck_profile = flow.profile().family == crate::profile::Family::PhoneCheck;
        if phonecheck_profile != (self.scenario == ScenarioKind::PhoneCheck) {
            return Err(LoadError::Plan(format!(
                "profile {} is a {} provider: scenario {} {}",
                flow.profile().origin,
                flow.profile().family.title(),
                self.scenario,
                if phonecheck_profile {
                    "is an NV scenario (use --scenario phonecheck)"
                } else {
                    "needs a PhoneCheck profile (dialect = \"idlayr-phonecheck-v0.1\")"
                }
            )));
        }
        if steps.contains(&Step::CheckUrl) && flow.profile().device_leg.is_none() {
            return Err(LoadError::Plan(format!(
                "profile {}: scenario {} requests the check URL over the device leg, which needs \
                 a [device_leg] section",
                flow.profile().origin,
                self.scenario
            )));
        }
        if steps.contains(&Step::Authorize) && flow.profile().device_leg.is_none() {
            return Err(LoadError::Plan(format!(
                "profile {}: scenario {}{} runs the device leg, which needs a [device_leg] section",
                flow.profile().origin,
                self.scenario,
                if self.single_use_tokens {
                    " with single-use tokens"
                } else {
                    ""
                }
            )));
        }
        if let Some(WorkerSlice { index, workers }) = self.slice {
            if !(1..=MAX_WORKERS).contains(&workers) || index >= workers {
                return Err(LoadError::Plan(format!(
                    "worker slice: expected --worker-index 0 to {} of --workers 1 to {MAX_WORKERS}, found index {index} of {workers}",
                    workers.saturating_sub(1)
                )));
            }
            if self.users < workers {
                return Err(LoadError::Plan(format!(
                    "--users {} cannot be shared by {workers} workers: each needs at least one user",
                    self.users
                )));
            }
            if !self.thresholds.is_empty() {
                return Err(LoadError::Plan(
                    "a worker judges no threshold (its slice is not the run): give --threshold to `nvcert load merge`"
                        .into(),
                ));
            }
        }
        let names: Vec<&str> = self.reported_steps(flow).iter().map(|s| s.name()).collect();
        Threshold::check_names(&self.thresholds, self.scenario.name(), &names)?;
        Ok(())
    }
}

/// Runs `plan` against `flow`'s provider, calling its [`Api`](crate::flow::Api), and returns
/// the summary (thresholds judged, or not judged when `live` was interrupted) with the figures
/// a merge needs. Writes nothing: the report writers are in `report::load`.
///
/// Seals `flow`'s redactor: a load run quotes no exchange, and keeping every token of a
/// million-iteration run would grow without bound (see [`crate::secret::Redactor::seal`]).
pub async fn run(flow: Arc<Flow>, plan: &LoadPlan, live: Arc<Live>) -> Result<LoadRun, LoadError> {
    plan.validate(&flow)?;
    flow.redactor().seal();
    let users = plan.process_users();
    let run_time = Duration::from_secs(plan.run_time_secs);
    let recorder = record::Recorder::new(users, run_time, Arc::clone(&live));
    let ctx = Arc::new(prepare(Arc::clone(&flow), plan, recorder).await?);
    // goose's default, one user per second, would take minutes to start 1024 users.
    let rate = plan.increase_rate.unwrap_or(users as f64);
    let host = flow.api().base_url().as_str().to_owned();

    if let Some(at) = plan.start_at {
        wait_until(at, &live).await?;
    }
    if !live.is_interrupted() {
        // goose's killswitch, through which nvcert ends a run, is one per process: one goose run
        // at a time (tests run several load runs in one process).
        let _one_goose_run = GOOSE_RUN.lock().await;
        // nvcert ends the run itself when the window closes (or on an interruption), through
        // goose's killswitch; goose's own run time is only a bound: the ramp, plus a margin.
        let ramp = (users as f64 / rate).ceil() as u64;
        let bound = plan.run_time_secs + ramp + 5;
        let watcher = {
            let ctx = Arc::clone(&ctx);
            let live = Arc::clone(&live);
            tokio::spawn(async move {
                let window_end = async {
                    ctx.recorder.window_opened().await;
                    if let Some(end) = ctx.recorder.planned_end() {
                        tokio::time::sleep_until(end.into()).await;
                    }
                };
                tokio::select! {
                    () = live.interrupted() => {}
                    () = window_end => {}
                }
                ctx.recorder.close();
                // goose clears its killswitch when a run starts: repeat until the run is over
                // (this task is aborted then), so a stop that comes early is not lost.
                loop {
                    goose::trigger_killswitch("nvcert: measurement window closed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        let attack =
            GooseAttack::initialize_with_config(GooseConfiguration::default()).and_then(|a| {
                // One client for all users, built once. The transactions send on the flow's
                // client, so this one only keeps goose from building a client (and a TLS
                // context) per user.
                a.set_client_builder_without_cookies(GooseClientBuilder::new().without_cookies())?
                    .register_scenario(scenarios::build(&ctx))
                    .set_default(GooseDefault::Host, host.as_str())?
                    .set_default(GooseDefault::Users, users)?
                    .set_default(GooseDefault::IncreaseRate, rate.to_string().as_str())?
                    .set_default(GooseDefault::RunTime, bound as usize)?
                    // nvcert records every step itself (exact histograms, its own window):
                    // goose's metrics would only cost CPU per request.
                    .set_default(GooseDefault::NoMetrics, true)?
                    // Warnings only; nvcert prints its own summary.
                    .set_default(GooseDefault::Quiet, 1)?
                    .set_default(GooseDefault::NoPrintMetrics, true)?
                    // A load run opens no port of its own (the WebSocket controller is off by
                    // default).
                    .set_default(GooseDefault::NoTelnet, true)
            });
        let outcome = match attack {
            Ok(attack) => attack.execute().await.map(|_| ()),
            Err(e) => Err(e),
        };
        watcher.abort();
        let _ = watcher.await;
        goose::reset_killswitch();
        outcome?;
    }

    let reported = plan.reported_steps(&flow);
    let (records, window) = ctx.recorder.finish(reported);
    let interrupted = live.is_interrupted();
    let seconds = window.map_or(0.001, |w| w.seconds());
    let transactions = reported
        .iter()
        .zip(&records)
        .map(|(&step, record)| TransactionSummary::of(step, record, seconds))
        .collect();
    let window_text = window.as_ref().map(summary::WindowText::of);
    let mut summary = LoadSummary {
        scenario: plan.scenario.name().to_owned(),
        provider: flow.profile().name.clone(),
        users,
        run_time_s: plan.run_time_secs,
        duration_s: (seconds * 1000.0).round() / 1000.0,
        interrupted,
        window: window_text.clone(),
        worker: plan.slice,
        workers: None,
        transactions,
        thresholds: Vec::new(),
        aggregator_latency: None,
    };
    summary.thresholds = judge(&plan.thresholds, &summary);
    if !interrupted {
        summary.aggregator_latency = aggregator::measure(&flow, aggregator::SAMPLES).await;
    }
    let worker = WorkerRecord::new(&summary, plan.slice, seconds, reported, &records);
    Ok(LoadRun { summary, worker })
}

/// The thresholds' outcomes on `summary`: judged, or not judged when it was interrupted.
pub fn judge(thresholds: &[Threshold], summary: &LoadSummary) -> Vec<ThresholdOutcome> {
    thresholds
        .iter()
        .map(|t| {
            let outcome = t.evaluate(summary);
            if summary.interrupted {
                outcome.not_judged()
            } else {
                outcome
            }
        })
        .collect()
}

/// Sleeps until `at` (bounded; an interruption ends the wait). A start time already past by
/// more than [`START_AT_TOLERANCE`] is an error: this worker would not measure the window the
/// others measure.
async fn wait_until(at: SystemTime, live: &Live) -> Result<(), LoadError> {
    let now = SystemTime::now();
    match at.duration_since(now) {
        Ok(wait) if wait > MAX_START_DELAY => Err(LoadError::Plan(format!(
            "--start-at {}: expected a time within 24 h, found one {} s away",
            summary::rfc3339(at),
            wait.as_secs()
        ))),
        Ok(wait) => {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = live.interrupted() => {}
            }
            Ok(())
        }
        Err(past) if past.duration() <= START_AT_TOLERANCE => Ok(()),
        Err(past) => Err(LoadError::Plan(format!(
            "--start-at {}: that time passed {:.1} s ago; this worker would not measure the same window as the others (start the workers earlier, or give a later time)",
            summary::rfc3339(at),
            past.duration().as_secs_f64()
        ))),
    }
}

/// A token for both NV scopes from one run of the flow, for tools that replay a single token
/// (the benchmark script gives it to wrk). The caller decides whether to reveal it.
pub async fn reusable_token(flow: &Flow) -> Result<Secret, LoadError> {
    let scopes = api_scopes(flow, &[VERIFY_OPERATION, SHARE_OPERATION])?;
    Ok(flow
        .obtain_token(&scopes, Login::Network)
        .await?
        .access_token)
}

/// The scopes `operations` need, in the order given, without duplicates.
fn api_scopes(flow: &Flow, operations: &[&'static str]) -> Result<Vec<String>, LoadError> {
    flow.api()
        .scopes_for(operations)
        .map_err(|operation_id| LoadError::Operation {
            api: flow.api().base_url().to_string(),
            operation_id,
        })
}

/// Everything the transactions share, built once: discovery done and checked, API calls taken
/// from the flow's [`Api`](crate::flow::Api).
async fn prepare(
    flow: Arc<Flow>,
    plan: &LoadPlan,
    recorder: record::Recorder,
) -> Result<LoadContext, LoadError> {
    let steps = plan.steps();
    let profile = flow.profile();
    // One rule for `run` and `load`: the provider's hosts (crate::flow::TrustSet).
    let trust = flow.trust();
    let check = |what: &str, url: &url::Url| -> Result<(), LoadError> {
        trust.check(url).map_err(|refusal| LoadError::Target {
            what: what.to_owned(),
            url: crate::flow::http::without_query(url),
            reason: trust.explain("its host", url, refusal),
        })
    };
    if plan.scenario == ScenarioKind::PhoneCheck {
        // No discovery, no NV operation: the PhoneCheck endpoints, on the provider's host.
        let endpoints = flow.phonecheck()?;
        check("the PhoneCheck token endpoint", &endpoints.token)?;
        check("the PhoneCheck checks endpoint", &endpoints.checks)?;
        return Ok(LoadContext {
            kind: plan.scenario,
            steps,
            flow: Arc::clone(&flow),
            scopes: Vec::new(),
            tokens: Tokens::Reused,
            verify: None,
            verify_per_line: Vec::new(),
            share: None,
            recorder,
            sender: sender::ApiSender::new(Duration::from_secs(profile.timeout_secs))
                .map_err(LoadError::Plan)?,
        });
    }
    // Every token this run obtains goes through the device leg when the profile has one (else
    // through its token source, which sends nothing to the provider). Discovery refuses a
    // document naming an endpoint outside the provider's hosts (FlowError::Untrusted).
    if profile.device_leg.is_some() {
        flow.discovery().await?;
    }

    let api_call = |id: &'static str| -> Result<ApiCall, LoadError> {
        let op = flow
            .api()
            .operation(id)
            .ok_or_else(|| LoadError::Operation {
                api: flow.api().base_url().to_string(),
                operation_id: id,
            })?;
        check(&format!("the {id} URL"), &op.url)?;
        let uri = op.url.as_str().parse().map_err(|e| {
            LoadError::Plan(format!("the {id} URL {} is not a valid URI: {e}", op.url))
        })?;
        Ok(ApiCall {
            method: op.method.clone(),
            url: op.url.clone(),
            uri,
            body: op.default_body.clone(),
        })
    };
    let verify = steps
        .contains(&Step::Verify)
        .then(|| api_call(VERIFY_OPERATION))
        .transpose()?;
    let share = steps
        .contains(&Step::Share)
        .then(|| api_call(SHARE_OPERATION))
        .transpose()?;
    // Through an aggregator: one verify call per line, with the line's own number.
    let verify_per_line = match (&verify, &profile.aggregator) {
        (Some(call), Some(aggregator)) => aggregator
            .lines
            .iter()
            .map(|line| ApiCall {
                method: call.method.clone(),
                url: call.url.clone(),
                uri: call.uri.clone(),
                body: Some(
                    serde_json::json!({ "phoneNumber": line.number })
                        .to_string()
                        .into(),
                ),
            })
            .collect(),
        _ => Vec::new(),
    };

    // A token carries the scopes of the calls it is used for (and only those: least privilege,
    // and what a real client would ask for).
    let mut operations = Vec::new();
    if steps.contains(&Step::Verify) || plan.scenario == ScenarioKind::TokenExchange {
        operations.push(VERIFY_OPERATION);
    }
    if steps.contains(&Step::Share) {
        operations.push(SHARE_OPERATION);
    }
    let scopes = api_scopes(&flow, &operations)?;
    let tokens = match (plan.scenario, plan.single_use_tokens) {
        (ScenarioKind::TokenExchange, _) => Tokens::Discarded,
        (ScenarioKind::Journey, _) => Tokens::PerIteration { single_use: false },
        (_, true) => Tokens::PerIteration { single_use: true },
        (_, false) => Tokens::Reused,
    };
    let sender = sender::ApiSender::new(Duration::from_secs(profile.timeout_secs))
        .map_err(LoadError::Plan)?;
    Ok(LoadContext {
        kind: plan.scenario,
        steps,
        flow,
        scopes,
        tokens,
        verify,
        verify_per_line,
        share,
        recorder,
        sender,
    })
}
