//! `nvcert run` over several providers (`--provider` twice or more, `--providers DIR`): every
//! profile is checked first (any invalid one: exit 2, nothing runs), then the providers run at
//! once, each on its own thread and runtime so that one provider's hang or CPU work never holds
//! up another, each into `REPORT_DIR/<provider-slug>/` exactly as a single run writes its
//! reports. `matrix.json` (providers × checks) goes to the top of REPORT_DIR.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use futures::StreamExt as _;

use super::run::{ProviderRun, run_provider};
use super::target::{Target, TargetArgs};
use super::{RunArgs, exit};
use crate::results::ExpectedFailures;
use crate::results::baseline::{Baseline, BaselineMode};
use crate::results::matrix::{Matrix, ProviderEntry, ProviderVerdict, provider_slug};
use crate::secret::Redactor;

/// Providers run at once by default, at most.
const DEFAULT_PARALLEL_PROVIDERS: usize = 8;

/// Whether `args` asks for a multi-provider run. A single `--provider` (or none) keeps the
/// single-provider behaviour and report layout.
pub(super) fn wanted(args: &RunArgs) -> bool {
    args.provider.len() > 1 || args.providers.is_some()
}

/// The `--baseline` of `args`, read and checked (another results version: an error, nothing
/// compared).
pub(super) fn load_baseline(args: &RunArgs, single_run: bool) -> anyhow::Result<Option<Baseline>> {
    let Some(path) = &args.baseline else {
        return Ok(None);
    };
    let mode = match args.baseline_mode.as_str() {
        "report" => BaselineMode::Report,
        _ => BaselineMode::Fail,
    };
    Ok(Some(Baseline::load(path, mode, single_run)?))
}

/// One provider to run: its profile and its folder.
struct Planned {
    profile: PathBuf,
    slug: String,
    name: String,
}

/// How one provider's run ended.
struct Finished {
    planned: Planned,
    report_dir: PathBuf,
    outcome: Result<ProviderRun, String>,
    exit_code: u8,
    duration_ms: u64,
}

pub(super) async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let profiles = profile_files(&args)?;
    // Options every provider shares: checked once, before anything runs.
    if let Some(tags) = &args.tags {
        crate::suite::parse_tags(tags).map_err(anyhow::Error::msg)?;
    }
    if let Some(path) = &args.expect_failures {
        ExpectedFailures::load(path)?;
    }
    let baseline = load_baseline(&args, false)?.map(Arc::new);
    let planned = check_profiles(&args, profiles).await?;

    let parallel = args.parallel_providers.map_or_else(
        || planned.len().min(DEFAULT_PARALLEL_PROVIDERS),
        usize::from,
    );
    if !args.quiet {
        println!(
            "nvcert {} — {} providers, {parallel} at once",
            env!("CARGO_PKG_VERSION"),
            planned.len()
        );
    }
    std::fs::create_dir_all(&args.report_dir)
        .with_context(|| format!("cannot create {}", args.report_dir.display()))?;

    let order: Vec<String> = planned.iter().map(|p| p.slug.clone()).collect();
    let mut finished: Vec<Finished> = futures::stream::iter(planned)
        .map(|p| run_one(&args, p, baseline.clone()))
        .buffer_unordered(parallel.max(1))
        .inspect(|f| {
            if !args.quiet {
                print!("{}", finished_line(f));
            }
        })
        .collect()
        .await;
    finished.sort_by_key(|f| order.iter().position(|s| *s == f.planned.slug));

    let entries: Vec<ProviderEntry<'_>> = finished
        .iter()
        .map(|f| ProviderEntry {
            slug: &f.planned.slug,
            profile: f.planned.profile.to_str().unwrap_or_default(),
            provider: &f.planned.name,
            outcome: f
                .outcome
                .as_ref()
                .map(|r| &r.results)
                .map_err(String::as_str),
            exit_code: f.exit_code,
            duration_ms: f.duration_ms,
        })
        .collect();
    let matrix = Matrix::build(
        &entries,
        baseline.as_ref().map(|b| {
            (
                b.path.to_str().unwrap_or_default(),
                b.mode,
                b.snapshot.providers.keys().cloned().collect(),
            )
        }),
    );
    let path = crate::report::write_matrix(&matrix, &args.report_dir)?;
    let html = crate::report::write_matrix_html(&matrix, &args.report_dir, &Redactor::default())?;
    if !args.quiet {
        let mut out = std::io::stdout().lock();
        crate::report::write_matrix_console(&matrix, &mut out)?;
        println!("report: {}", path.display());
        println!("report: {}", html.display());
    }
    let codes = finished.iter().map(|f| f.exit_code);
    Ok(worst(codes))
}

/// The exit code of the whole run: an interrupted provider's (130) first, else the highest.
fn worst(codes: impl Iterator<Item = u8>) -> u8 {
    codes.fold(exit::OK, |worst, code| match (worst, code) {
        (130, _) | (_, 130) => 130,
        (a, b) => a.max(b),
    })
}

/// `--provider` files, then the `*.toml` files of `--providers` sorted by name.
fn profile_files(args: &RunArgs) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = args.provider.clone();
    if let Some(dir) = &args.providers {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("--providers {}: cannot read the folder", dir.display()))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
            .collect();
        if found.is_empty() {
            bail!(
                "--providers {}: expected provider profiles (*.toml), found none",
                dir.display()
            );
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Loads every profile as its run would (profile, spec selection, flows; nothing contacted) and
/// gives each its folder. Every invalid profile is named, and two profiles whose names give the
/// same folder are refused, before any provider runs.
async fn check_profiles(args: &RunArgs, files: Vec<PathBuf>) -> anyhow::Result<Vec<Planned>> {
    let mut problems = Vec::new();
    let mut planned: Vec<Planned> = Vec::new();
    let mut by_slug: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in files {
        let target = Target::resolve(
            TargetArgs {
                provider: Some(&file),
                spec_version: args.spec_version.as_deref(),
                single_use_tokens: args.rule_sets.iter().any(|r| r == "wip"),
                dialect: args.dialect.as_deref(),
                aggregator: false,
            },
            &Redactor::default(),
        )
        .await;
        let target = match target {
            Ok(t) => t,
            Err(e) => {
                problems.push(super::error_text(&e));
                continue;
            }
        };
        let name = target.flow.profile().name.clone();
        target.shutdown().await;
        let slug = provider_slug(&name);
        if slug.is_empty() {
            problems.push(format!(
                "profile {}: field `name`: expected a name with a letter or digit (it names the \
                 provider's report folder), found {name:?}",
                file.display()
            ));
            continue;
        }
        if let Some(first) = by_slug.get(&slug) {
            problems.push(format!(
                "profiles {} and {}: both are named so that their reports would share the folder \
                 {slug}/ (field `name`); give each provider its own name",
                first.display(),
                file.display()
            ));
            continue;
        }
        by_slug.insert(slug.clone(), file.clone());
        planned.push(Planned {
            profile: file,
            slug,
            name,
        });
    }
    if !problems.is_empty() {
        bail!(
            "{}\nno provider was run ({} of the profiles are not usable)",
            problems.join("\n"),
            problems.len()
        );
    }
    Ok(planned)
}

/// Runs one provider on a thread of its own, with its own runtime: its CPU work and its waits
/// never delay another provider's.
async fn run_one(args: &RunArgs, planned: Planned, baseline: Option<Arc<Baseline>>) -> Finished {
    let mut one = args.clone();
    one.provider = vec![planned.profile.clone()];
    one.providers = None;
    one.report_dir = args.report_dir.join(&planned.slug);
    one.quiet = true;
    let report_dir = one.report_dir.clone();
    let started = Instant::now();
    let joined = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start a runtime for the provider")?;
        runtime.block_on(Box::pin(run_provider(one, baseline.as_deref())))
    })
    .await;
    let outcome = match joined {
        Ok(Ok(run)) => Ok(run),
        // As the single run prints it: no error names a secret, but one may quote a URL.
        Ok(Err(e)) => Err(crate::secret::redact_query_values(&super::error_text(&e))),
        Err(e) => Err(format!("the provider's run stopped: {e}")),
    };
    let exit_code = match &outcome {
        Ok(run) => run.exit_code,
        Err(_) => exit::USAGE_OR_CONFIG,
    };
    Finished {
        planned,
        report_dir,
        outcome,
        exit_code,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// The console line (and baseline diff) of a provider that finished.
fn finished_line(f: &Finished) -> String {
    let seconds = f.duration_ms as f64 / 1000.0;
    match &f.outcome {
        Ok(run) => {
            let label = crate::report::verdict_label(ProviderVerdict::of(&run.results), false);
            let mut line = format!(
                "  {label:<11}{}  {} ({seconds:.1} s) → {}\n",
                f.planned.slug,
                crate::report::summary_line(&run.results.summary),
                f.report_dir.display()
            );
            if let Some(c) = &run.results.baseline {
                line.push_str(&crate::report::baseline_diff(c, "         "));
            }
            line
        }
        Err(e) => format!(
            "  {:<11}{}  could not run ({seconds:.1} s): {e}\n",
            crate::report::verdict_label(ProviderVerdict::Incomplete, true),
            f.planned.slug
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_exit_code_prefers_an_interruption_then_the_highest() {
        assert_eq!(worst([0, 0].into_iter()), 0);
        assert_eq!(worst([0, 1, 0].into_iter()), 1);
        assert_eq!(worst([1, 2, 0].into_iter()), 2);
        assert_eq!(worst([2, 130, 1].into_iter()), 130);
        assert_eq!(worst(std::iter::empty()), 0);
    }
}
