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
    let tags = args
        .tags
        .as_deref()
        .map(suite::parse_tags)
        .transpose()
        .map_err(anyhow::Error::msg)?;

    let wip = args.rule_sets.iter().any(|r| r == "wip");
    let redactor = Redactor::default();
    let target = Target::resolve(
        TargetArgs {
            provider: args.provider.as_deref(),
            spec_version: args.spec_version.as_deref(),
            single_use_tokens: wip,
        },
        &redactor,
    )
    .await?;
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
    if let Err(e @ FlowError::Untrusted { .. }) = target.flow.discovery().await {
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
    let (scenarios, errors) = suite::run(ctx.clone(), &plan).await;
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

    // Reports first: whatever happens next, the results are on disk.
    let written = crate::report::write_all(&results, &args.report_dir, &redactor)?;
    if !args.quiet {
        let mut out = std::io::stdout().lock();
        crate::report::write_console(&results, &redactor, &mut out)?;
        for path in &written {
            println!("report: {}", path.display());
        }
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
