//! `nvcert run`: profile → provider (embedded or not) → suite → reports → exit code. Several
//! providers (`--provider` twice or more, `--providers DIR`) are `multi`'s; each of them is run
//! by [`run_provider`].

use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;

use super::target::{Target, TargetArgs};
use super::{RunArgs, exit};
use crate::results::baseline::Baseline;
use crate::results::{ExpectedFailures, RunResults};
use crate::secret::Redactor;
use crate::suite::{self, Applicability, FeatureSource, RunContext, RunPlan};

pub(super) async fn run(args: RunArgs) -> anyhow::Result<u8> {
    if super::multi::wanted(&args) {
        return Box::pin(super::multi::run(args)).await;
    }
    let baseline = super::multi::load_baseline(&args, true)?;
    Ok(Box::pin(run_provider(args, baseline.as_ref()))
        .await?
        .exit_code)
}

/// What running the suite against one provider gave.
pub(super) struct ProviderRun {
    /// The results, as written to the report folder.
    pub results: RunResults,
    /// The exit code of a run of this provider alone.
    pub exit_code: u8,
}

/// Runs the suite against the provider of `args` (`args.provider`: at most one profile; none:
/// the embedded reference provider), writes its reports into `args.report_dir`, prints its
/// console summary unless `args.quiet`, and compares it with `baseline` when given.
pub(super) async fn run_provider(
    args: RunArgs,
    baseline: Option<&Baseline>,
) -> anyhow::Result<ProviderRun> {
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
            provider: args.provider.first().map(|p| p.as_path()),
            spec_version: args.spec_version.as_deref(),
            single_use_tokens: wip,
            dialect: args.dialect.as_deref(),
        },
        &redactor,
    )
    .await?;
    // Nothing runs on a profile that cannot work: one message, exit 2 (see flow::preflight).
    if let Err(e) = target.flow.preflight().await {
        target.shutdown().await;
        bail!("preflight: {e}");
    }
    let expected = match &args.expect_failures {
        Some(path) => ExpectedFailures::load(path)?,
        None => ExpectedFailures::default(),
    };
    let mut rule_sets = args.rule_sets.clone();
    if target.spec.version() == "wip" && !wip {
        // CAMARA main states the unreleased rules in the spec itself.
        rule_sets.push("wip".to_owned());
    }
    let dialect = target.flow.profile().dialect.clone();
    let mut ctx = RunContext::new(Arc::clone(&target.flow), Arc::clone(&target.spec));
    if let Some((label, camara)) = comparison(args.compare_with.as_deref(), dialect.as_deref())? {
        let facts = dialect
            .as_deref()
            .map(crate::checks::compat::flow_differences)
            .unwrap_or_default();
        ctx = ctx.compared_with(label, Arc::new(camara), facts);
    }
    let ctx = Arc::new(ctx);

    let plan = RunPlan {
        features: if args.features.is_empty() {
            FeatureSource::Builtin
        } else {
            FeatureSource::Paths(args.features.clone())
        },
        tags,
        applicability: Applicability {
            // A dialect's scenarios are gated by the CAMARA version it descends from.
            version: Some(match &dialect {
                Some(d) => d.descends_from.clone(),
                None => ctx.spec.version().to_owned(),
            }),
            rule_sets: rule_sets.clone(),
            family: ctx.flow.profile().family,
        },
        expected,
        concurrency: usize::from(args.concurrency),
    };
    let (scenarios, errors) = Box::pin(suite::run(ctx.clone(), &plan)).await;
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
    results.unmatched_expectations = plan.expected.unmatched(&results.scenarios);
    results.judge();
    results.compatibility = ctx.compatibility();
    if let Some(baseline) = baseline {
        results.baseline = Some(baseline.compare(&results));
    }

    // Reports first: whatever happens next, the results are on disk.
    let written = crate::report::write_all(&results, &args.report_dir, &redactor)?;
    if !args.quiet {
        let mut out = std::io::stdout().lock();
        crate::report::write_console(&results, &redactor, &mut out)?;
        if let Some(comparison) = &results.baseline {
            crate::report::write_baseline_console(comparison, &mut out)?;
        }
        for path in &written {
            println!("report: {}", path.display());
        }
    }
    if results.scenarios.is_empty() && results.errors.is_empty() {
        bail!("no scenario matched (check --tags and --features)");
    }
    if !args.quiet {
        // The verdict is the last line, whatever came before.
        let mut out = std::io::stdout().lock();
        crate::report::write_verdict(&results, &redactor, &mut out)?;
    }
    let incomplete = results.verdict == crate::results::Verdict::Incomplete;
    let exit_code =
        if results.succeeded() && results.held_baseline() && !(args.require_complete && incomplete)
        {
            exit::OK
        } else {
            exit::CHECK_FAILED
        };
    Ok(ProviderRun { results, exit_code })
}

/// The CAMARA document `--compare-with camara:V` names; under a dialect without the flag, the
/// version it descends from (`none` turns the comparison off).
fn comparison(
    asked: Option<&str>,
    dialect: Option<&crate::profile::Dialect>,
) -> anyhow::Result<Option<(String, crate::spec::SpecDocument)>> {
    let version = match (asked, dialect) {
        (Some("none"), _) | (None, None) => return Ok(None),
        (Some(text), _) => text
            .strip_prefix("camara:")
            .ok_or_else(|| {
                anyhow::anyhow!("--compare-with: expected camara:VERSION (e.g. camara:0.3.1) or none, found {text:?}")
            })?
            .to_owned(),
        (None, Some(d)) => d.descends_from.clone(),
    };
    let camara = crate::spec::select(Some(&version), "--compare-with", "")?;
    Ok(Some((format!("camara:{}", camara.version()), camara)))
}
