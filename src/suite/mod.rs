//! The conformance suite: cucumber features whose steps drive `flow`, call a verdict of
//! `checks` and map it to a step outcome (check failed / could not run / skipped), collected
//! into [`RunResults`](crate::results::RunResults).
//!
//! Cucumber is embedded: it never parses process arguments and never prints; nvcert's report
//! writers do the printing.

mod camara_vocabulary;
mod catalogue;
mod collect;
mod context;
mod features;
mod jsonpath;
mod lint;
mod live;
mod panic_hook;
mod record;
mod schedule;
pub(crate) mod steps;
mod world;

use std::sync::Arc;

use cucumber::World as _;
use cucumber::gherkin::tagexpr::TagOperation;
use futures::FutureExt as _;

pub use catalogue::{CatalogueEntry, catalogue};
pub use context::RunContext;
pub use features::{Applicability, FeatureSource, digests as feature_digests};
pub use lint::lint;
pub use live::{LiveExchange, RunObserver};
pub use steps::request::{sha256_hex, uuid_v4};
pub use world::{NvWorld, StepFailure};

use crate::results::{ExpectedFailures, ScenarioResult, Target};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunPlan {
    /// Feature files.
    pub features: FeatureSource,
    /// Tag expression selecting scenarios.
    pub tags: Option<TagOperation>,
    /// Which version-gated and rule-set scenarios apply.
    pub applicability: Applicability,
    /// Known deviations.
    pub expected: ExpectedFailures,
    /// Scenarios run at once.
    pub concurrency: usize,
    /// Told of each exchange and each finished scenario as they happen (`run -v`, progress).
    pub observer: Observer,
}

/// An optional [`RunObserver`] (a newtype so that [`RunPlan`] stays `Debug`).
#[derive(Clone, Default)]
pub struct Observer(pub Option<Arc<dyn RunObserver>>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Observer(set)"
        } else {
            "Observer(none)"
        })
    }
}

/// Parses a cucumber tag expression such as `@verify and not @slow`.
pub fn parse_tags(expr: &str) -> Result<TagOperation, String> {
    expr.parse::<TagOperation>()
        .map_err(|e| format!("invalid tag expression {expr:?}: {e}"))
}

/// Runs the plan against the context's provider; scenarios and run-level errors in file order.
/// The lint findings of the feature files go to the context ([`RunContext::lint`]).
pub async fn run(ctx: Arc<RunContext>, plan: &RunPlan) -> (Vec<ScenarioResult>, Vec<String>) {
    let outcome = run_until(ctx, plan, std::future::pending()).await;
    (outcome.scenarios, outcome.errors)
}

/// What [`run_until`] ended with.
#[derive(Debug)]
pub struct SuiteOutcome {
    /// Finished scenarios, in file order.
    pub scenarios: Vec<ScenarioResult>,
    /// Run-level errors.
    pub errors: Vec<String>,
    /// `stop` came first: `scenarios` holds those that had finished, the others were dropped.
    pub interrupted: bool,
}

/// [`run`], ended early when `stop` completes (the CLI passes Ctrl-C).
pub async fn run_until(
    ctx: Arc<RunContext>,
    plan: &RunPlan,
    stop: impl std::future::Future<Output = ()>,
) -> SuiteOutcome {
    let (mut features, mut errors) =
        features::load(&plan.features, plan.tags.as_ref(), &plan.applicability);
    // Only files given on the command line: the built-in features are nvcert's own.
    if matches!(plan.features, FeatureSource::Paths(_)) {
        ctx.record_lint(lint::lint(&features, &ctx.spec));
    }
    schedule::waiting_first(&mut features);
    let observer = plan.observer.0.clone();
    if let Some(o) = &observer {
        o.run_started(features::scenario_count(&features));
    }
    let hook_ctx = ctx.clone();
    let warnings = world::WarningStore::default();
    let hook_warnings = warnings.clone();
    let exchanges = record::ExchangeStore::default();
    let hook_exchanges = exchanges.clone();
    let hook_observer = observer.clone();
    let collector = collect::Collector::new(plan.expected.clone(), warnings, exchanges, observer);
    let finished = collector.finished();
    let cucumber = NvWorld::cucumber::<&str>()
        .with_parser(features::Preloaded)
        .with_writer(collector)
        .max_concurrent_scenarios(Some(plan.concurrency.max(1)))
        .before(move |feature, _, scenario, world| {
            panic_hook::reinstall();
            world.ctx = Some(hook_ctx.clone());
            world.implied.feature_operation = camara_vocabulary::feature_operation(feature);
            world.implied.expected_statuses = camara_vocabulary::expected_statuses(scenario);
            let key = (
                feature.path.clone(),
                scenario.name.clone(),
                scenario.position.line,
            );
            world.recorder = Some(Arc::new(record::ScenarioRecorder::new(
                hook_exchanges.clone(),
                key.clone(),
                hook_ctx.flow.redactor().clone(),
                hook_observer.clone(),
            )));
            world.warnings = Some(world::ScenarioWarnings::new(hook_warnings.clone(), key));
            async {}.boxed_local()
        })
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .run(features);
    // On the heap: the run is a large future, and `select!` would otherwise keep it on the stack
    // of whoever polls this one (a test thread's 2 MiB overflowed). When `stop` wins, the run is
    // dropped and the process is about to end (Ctrl-C), panic hook included.
    let cucumber = Box::pin(panic_hook::guarded(cucumber));
    tokio::select! {
        collector = cucumber => {
            let (scenarios, run_errors) = collector.finish();
            errors.extend(run_errors);
            SuiteOutcome { scenarios, errors, interrupted: false }
        }
        () = stop => SuiteOutcome {
            scenarios: finished.sorted(),
            errors,
            interrupted: true,
        },
    }
}

/// The target description for results.
pub fn target(ctx: &RunContext) -> Target {
    let p = ctx.flow.profile();
    let api_base = ctx.flow.api().base_url().to_string();
    Target {
        provider: p.name.clone(),
        issuer: p.issuer.to_string(),
        api_base,
        spec_version: match &p.dialect {
            Some(d) => format!("{} {}", d.name, ctx.spec.version()),
            None if p.family == crate::profile::Family::PhoneCheck => format!(
                "{} {}",
                crate::profile::family::PHONECHECK_DIALECT,
                ctx.spec.version()
            ),
            None => ctx.spec.version().to_owned(),
        },
    }
}
