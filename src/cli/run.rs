//! `nvcert run`: profile → provider (embedded or not) → suite → reports → exit code.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};

use super::{RunArgs, exit};
use crate::flow::Flow;
use crate::profile::Profile;
use crate::provider::{self, ProviderConfig, SpecVersion};
use crate::results::{ExpectedFailures, RunResults};
use crate::secret::Redactor;
use crate::spec::{self, SpecDocument};
use crate::suite::{self, Applicability, FeatureSource, RunContext, RunPlan};

pub(super) async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let tags = args
        .tags
        .as_deref()
        .map(suite::parse_tags)
        .transpose()
        .map_err(anyhow::Error::msg)?;

    // The embedded provider lives until the end of this function.
    let mut embedded = None;
    let profile = match &args.provider {
        Some(path) => Profile::load(path)?,
        None => {
            let mut config = ProviderConfig::embedded();
            if let Some(v) = &args.spec_version {
                let version = v
                    .parse::<SpecVersion>()
                    .map_err(|e| anyhow::anyhow!("--spec-version: {e}"))?;
                config.set_spec_version(version);
            }
            if args.rule_sets.iter().any(|r| r == "wip") {
                // The reference provider follows the rule set it is judged by.
                config.single_use_tokens = true;
            }
            let handle = provider::spawn(config, ([127, 0, 0, 1], 0).into(), None)
                .await
                .context("cannot start the embedded reference provider")?;
            let profile = Profile::embedded_reference(&handle.url)?;
            embedded = Some(handle);
            profile
        }
    };
    let mut profile = profile;
    if let Some(v) = &args.spec_version {
        profile.spec_version = Some(v.clone());
    }
    let spec = select_spec(&mut profile)?;
    let expected = match &args.expect_failures {
        Some(path) => ExpectedFailures::load(path)?,
        None => ExpectedFailures::default(),
    };
    let mut rule_sets = args.rule_sets.clone();
    if spec.version() == "wip" && !rule_sets.iter().any(|r| r == "wip") {
        // CAMARA main states the unreleased rules in the spec itself.
        rule_sets.push("wip".to_owned());
    }
    let redactor = Redactor::default();
    let flow =
        Flow::new(Arc::new(profile), redactor.clone()).context("cannot prepare the flows")?;
    let ctx = Arc::new(RunContext::new(Arc::new(flow), Arc::new(spec)));

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
    if let Some(handle) = embedded {
        handle.shutdown().await;
    }
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

/// The spec the provider is judged by: the profile's version; else the built-in spec whose base
/// path ends the API root (`…/number-verification/v1rc2` → 1.1.0-rc.2; a path several versions
/// share, like `/v1`, → the newest release among them); else the newest release. When the API
/// root ends with the spec's base path, that part is removed from it (the suite appends it).
pub(super) fn select_spec(profile: &mut Profile) -> anyhow::Result<SpecDocument> {
    let versions = spec::builtin_versions();
    let wanted = match &profile.spec_version {
        Some(v) => v.clone(),
        None => detect_version(profile.api_root.path(), versions)
            .or_else(|| newest_release(versions.iter().copied()))
            .context("no built-in spec")?,
    };
    let spec = spec::builtin(&wanted).with_context(|| {
        format!(
            "profile {}: field `spec_version`: expected one of {}, found {wanted:?}",
            profile.origin,
            versions.join(", ")
        )
    })?;
    let path = profile.api_root.path().trim_end_matches('/').to_owned();
    if let Some(prefix) = path.strip_suffix(spec.base_path()) {
        profile.api_root.set_path(prefix);
    }
    Ok(spec)
}

/// The newest of `versions` that is a release (not a release candidate, not `wip`).
fn newest_release<'a>(versions: impl Iterator<Item = &'a str>) -> Option<String> {
    versions
        .filter(|v| !v.contains('-') && *v != "wip")
        .max_by(|a, b| suite::version_cmp(a, b))
        .map(str::to_owned)
}

/// The built-in version whose base path ends `path` (the newest release among several).
fn detect_version(path: &str, versions: &[&str]) -> Option<String> {
    let path = path.trim_end_matches('/');
    let matching: Vec<&str> = versions
        .iter()
        .copied()
        .filter(|v| spec::builtin(v).is_some_and(|s| path.ends_with(s.base_path())))
        .collect();
    newest_release(matching.iter().copied()).or_else(|| matching.last().map(|v| (*v).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_detected_from_base_path() {
        let versions = spec::builtin_versions();
        let detect = |p: &str| detect_version(p, versions);
        assert_eq!(detect("/number-verification/v2").as_deref(), Some("2.1.0"));
        assert_eq!(
            detect("/x/number-verification/v1/").as_deref(),
            Some("1.1.0")
        );
        assert_eq!(
            detect("/number-verification/v1rc2").as_deref(),
            Some("1.1.0-rc.2")
        );
        assert_eq!(detect("/number-verification/v0").as_deref(), Some("0.3.1"));
        assert_eq!(detect("/number-verification/vwip").as_deref(), Some("wip"));
        assert_eq!(detect("/"), None);
        assert_eq!(
            newest_release(versions.iter().copied()).as_deref(),
            Some("2.1.0")
        );
    }
}
