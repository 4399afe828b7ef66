//! `nvcert run`: profile → provider (embedded or not) → suite → reports → exit code. Several
//! providers (`--provider` twice or more, `--providers DIR`) are `multi`'s; each of them is run
//! by [`run_provider`].

use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;

use super::target::{Target, TargetArgs};
use super::{RunArgs, exit};
use crate::flow::FlowError;
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
    let started_at = chrono::Utc::now();
    let interrupt = Interrupt::listen();
    let tags = args
        .tags
        .as_deref()
        .map(suite::parse_tags)
        .transpose()
        .map_err(anyhow::Error::msg)?;

    let wip = args.rule_sets.iter().any(|r| r == "wip");
    let redactor = Redactor::default();
    // Boxed: large futures, selected against Ctrl-C (see `suite::run_until`).
    let resolving = Box::pin(Target::resolve(
        TargetArgs {
            provider: args.provider.first().map(|p| p.as_path()),
            spec_version: args.spec_version.as_deref(),
            single_use_tokens: wip,
            dialect: args.dialect.as_deref(),
            aggregator: args.aggregator,
        },
        &redactor,
    ));
    let target = tokio::select! {
        target = resolving => target?,
        () = interrupt.wait() => return Err(interrupted_before_any_scenario(&args)),
    };
    // Nothing runs on a profile that cannot work: one message, exit 2 (see flow::preflight).
    let preflight = tokio::select! {
        preflight = target.flow.preflight() => preflight,
        () = interrupt.wait() => {
            target.shutdown().await;
            return Err(interrupted_before_any_scenario(&args));
        }
    };
    if let Err(e) = preflight {
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
    let live = super::live::Live::new(args.verbose, args.quiet, redactor.clone());
    let mut ctx = RunContext::new(Arc::clone(&target.flow), Arc::clone(&target.spec));
    if let Some((label, camara)) = comparison(args.compare_with.as_deref(), dialect.as_deref())? {
        let facts = dialect
            .as_deref()
            .map(crate::checks::compat::flow_differences)
            .unwrap_or_default();
        ctx = ctx.compared_with(label, Arc::new(camara), facts);
    }
    let ctx = Arc::new(ctx);

    // Before any scenario: a discovery document naming an endpoint outside the provider's hosts
    // stops the run (exit 2), by the rule that stops `nvcert load` (flow::TrustSet).
    let discovery = tokio::select! {
        discovery = target.flow.discovery() => discovery.map(|_| ()),
        () = interrupt.wait() => {
            target.shutdown().await;
            return Err(interrupted_before_any_scenario(&args));
        }
    };
    // Any other failure is kept by the flow and met by every scenario that needs discovery (each
    // says so in the reports); it is also said once, here, when the provider could not be reached.
    match discovery {
        Err(e @ FlowError::Untrusted { .. }) => {
            target.shutdown().await;
            bail!("{e}");
        }
        Err(e @ (FlowError::Transport { .. } | FlowError::BodyTooLarge { .. })) => {
            eprintln!(
                "nvcert: {} (every scenario that needs discovery could not run)",
                crate::secret::redact_query_values(&e.to_string())
            );
        }
        _ => {}
    }

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
            aggregator: ctx.flow.profile().aggregator.is_some(),
        },
        expected,
        concurrency: usize::from(args.concurrency),
        observer: suite::Observer(live.clone().map(|l| l as Arc<dyn suite::RunObserver>)),
    };
    let ticker = live.as_ref().and_then(|l| l.tick());
    let outcome = Box::pin(suite::run_until(ctx.clone(), &plan, interrupt.wait())).await;
    if let Some(l) = &live {
        l.finish(ticker);
    }
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
    results.unmatched_expectations = plan.expected.unmatched(&results.scenarios);
    results.judge();
    results.compatibility = ctx.compatibility();
    if let Some(baseline) = baseline {
        results.baseline = Some(baseline.compare(&results));
    }

    // Reports first: whatever happens next, the results are on disk.
    let rendered = crate::report::render_all(&results, &redactor)?;
    let written = crate::report::write_rendered(&rendered, &args.report_dir)?;
    let console = crate::report::render_console(&results, &redactor);
    // What the console prints after the summary: the baseline comparison, then, last, the
    // verdict (none for an interrupted run or one that matched no scenario).
    let mut baseline_text = Vec::new();
    if let Some(comparison) = &results.baseline {
        crate::report::write_baseline_console(comparison, &mut baseline_text)?;
    }
    let mut verdict = Vec::new();
    let nothing_ran = results.scenarios.is_empty() && results.errors.is_empty();
    if !results.interrupted && !nothing_ran {
        crate::report::write_verdict(&results, &redactor, &mut verdict)?;
    }
    if let Some(bundle) = &args.evidence {
        let mut files: Vec<(&str, &[u8])> = rendered
            .iter()
            .map(|(name, text)| (*name, text.as_bytes()))
            .collect();
        // The console's text, verdict included (the report and evidence paths left out).
        let console_txt = [console.as_bytes(), &baseline_text, &verdict].concat();
        files.push(("console.txt", &console_txt));
        let facts = super::evidence::RunFacts {
            args: &args,
            started_at,
            spec_origin: ctx.spec.origin(),
            spec_sha256: ctx.spec.text_sha256(),
            features: &plan.features,
        };
        super::evidence::write_bundle(bundle, &facts, &results, &files, &redactor)?;
    }
    if !args.quiet {
        print!("{console}");
        let mut out = std::io::stdout().lock();
        out.write_all(&baseline_text)?;
        for path in &written {
            println!("report: {}", path.display());
        }
        if let Some(bundle) = &args.evidence {
            println!("evidence: {}", bundle.display());
        }
    }
    if results.interrupted {
        eprintln!(
            "nvcert: interrupted: the reports hold the {} scenarios that finished",
            results.scenarios.len()
        );
        return Ok(ProviderRun {
            results,
            exit_code: exit::INTERRUPTED,
        });
    }
    if results.scenarios.is_empty() && results.errors.is_empty() {
        bail!("no scenario matched (check --tags and --features)");
    }
    if !args.quiet {
        // The verdict is the last line, whatever came before.
        std::io::stdout().lock().write_all(&verdict)?;
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

/// The run was interrupted before any scenario ran: exit code 130 (`cli::run` maps it).
#[derive(Debug, thiserror::Error)]
#[error("interrupted before any scenario ran; no report written{removed}")]
pub(super) struct InterruptedEarly {
    removed: String,
}

/// Interrupted before any scenario ran: no new reports, and the previous run's are removed so
/// they do not pass for this run's.
fn interrupted_before_any_scenario(args: &RunArgs) -> anyhow::Error {
    let removed = match crate::report::remove_run_reports(&args.report_dir) {
        Ok(removed) => removed,
        Err(e) => return e.into(),
    };
    let removed = if removed.is_empty() {
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
    };
    InterruptedEarly { removed }.into()
}
