//! `nvcert run`: profile → provider (embedded or not) → suite → reports → exit code.

use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;

use super::target::{Target, TargetArgs};
use super::{RunArgs, exit};
use crate::flow::FlowError;
use crate::results::{ExpectedFailures, RunResults};
use crate::secret::Redactor;
use crate::suite::{self, Applicability, FeatureSource, RunContext, RunPlan};

pub(super) async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let interrupt = Interrupt::listen();
    let tags = args
        .tags
        .as_deref()
        .map(suite::parse_tags)
        .transpose()
        .map_err(anyhow::Error::msg)?;

    let wip = args.rule_sets.iter().any(|r| r == "wip");
    let redactor = Redactor::default();
    let resolving = Target::resolve(
        TargetArgs {
            provider: args.provider.as_deref(),
            spec_version: args.spec_version.as_deref(),
            single_use_tokens: wip,
        },
        &redactor,
    );
    let target = tokio::select! {
        target = resolving => target?,
        () = interrupt.wait() => return interrupted_before_any_scenario(&args),
    };
    let expected = match &args.expect_failures {
        Some(path) => ExpectedFailures::load(path)?,
        None => ExpectedFailures::default(),
    };
    let mut rule_sets = args.rule_sets.clone();
    if target.spec.version() == "wip" && !wip {
        // CAMARA main states the unreleased rules in the spec itself.
        rule_sets.push("wip".to_owned());
    }
    let ctx = Arc::new(RunContext::new(
        Arc::clone(&target.flow),
        Arc::clone(&target.spec),
    ));

    // Before any scenario: a discovery document naming an endpoint outside the provider's hosts
    // stops the run (exit 2), by the rule that stops `nvcert load` (flow::TrustSet).
    let discovery = tokio::select! {
        discovery = target.flow.discovery() => discovery.map(|_| ()),
        () = interrupt.wait() => {
            target.shutdown().await;
            return interrupted_before_any_scenario(&args);
        }
    };
    if let Err(e @ FlowError::Untrusted { .. }) = discovery {
        target.shutdown().await;
        bail!("{e}");
    }

    let plan = RunPlan {
        features: if args.features.is_empty() {
            FeatureSource::Builtin
        } else {
            FeatureSource::Paths(args.features.clone())
        },
        tags,
        applicability: Applicability {
            version: Some(ctx.spec.version().to_owned()),
            rule_sets: rule_sets.clone(),
        },
        expected,
        concurrency: usize::from(args.concurrency),
    };
    let outcome = suite::run_until(ctx.clone(), &plan, interrupt.wait()).await;
    let (scenarios, errors) = (outcome.scenarios, outcome.errors);
    target.shutdown().await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut results = RunResults::new(
        suite::target(&ctx),
        scenarios,
        ctx.coverage(),
        errors,
        duration_ms,
    );
    results.rule_sets = rule_sets;
    results.strict = args.strict;
    results.lint = ctx.lint();
    results.interrupted = outcome.interrupted;

    // Reports first: whatever happens next, the results are on disk.
    let written = crate::report::write_all(&results, &args.report_dir, &redactor)?;
    if !args.quiet {
        let mut out = std::io::stdout().lock();
        crate::report::write_console(&results, &redactor, &mut out)?;
        for path in &written {
            println!("report: {}", path.display());
        }
    }
    if results.interrupted {
        eprintln!(
            "nvcert: interrupted: the reports hold the {} scenarios that finished",
            results.scenarios.len()
        );
        return Ok(exit::INTERRUPTED);
    }
    if results.scenarios.is_empty() && results.errors.is_empty() {
        bail!("no scenario matched (check --tags and --features)");
    }
    Ok(if results.succeeded() {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}

/// Ctrl-C (SIGINT), listened to from the start of a run: any number of waits see it once it came.
struct Interrupt(tokio::sync::watch::Receiver<bool>);

impl Interrupt {
    fn listen() -> Self {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(true);
            }
        });
        Self(rx)
    }

    /// Completes when Ctrl-C was pressed (never, if the handler could not be installed).
    fn wait(&self) -> impl std::future::Future<Output = ()> + use<> {
        let mut rx = self.0.clone();
        async move {
            if rx.wait_for(|pressed| *pressed).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Interrupted before any scenario ran: no new reports, and the previous run's are removed so
/// they do not pass for this run's.
fn interrupted_before_any_scenario(args: &RunArgs) -> anyhow::Result<u8> {
    let removed = crate::report::remove_run_reports(&args.report_dir)?;
    eprintln!(
        "nvcert: interrupted before any scenario ran; no report written{}",
        if removed.is_empty() {
            String::new()
        } else {
            format!(
                ", previous reports removed: {}",
                removed
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    Ok(exit::INTERRUPTED)
}
