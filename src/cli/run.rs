//! `nvcert run`: profile → provider (embedded or not) → suite → reports → exit code.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};

use super::{RunArgs, exit};
use crate::flow::Flow;
use crate::profile::Profile;
use crate::provider::{self, ProviderConfig};
use crate::results::RunResults;
use crate::secret::Redactor;
use crate::spec::{self, SpecDocument};
use crate::suite::{self, FeatureSource, RunContext, RunPlan};

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
            let handle =
                provider::spawn(ProviderConfig::embedded(), ([127, 0, 0, 1], 0).into(), None)
                    .await
                    .context("cannot start the embedded reference provider")?;
            let profile = Profile::embedded_reference(&handle.url)?;
            embedded = Some(handle);
            profile
        }
    };
    let spec = select_spec(&profile)?;
    let redactor = Redactor::default();
    let flow =
        Flow::new(Arc::new(profile), redactor.clone()).context("cannot prepare the flows")?;
    let ctx = Arc::new(RunContext {
        flow: Arc::new(flow),
        spec: Arc::new(spec),
    });

    let plan = RunPlan {
        features: if args.features.is_empty() {
            FeatureSource::Builtin
        } else {
            FeatureSource::Paths(args.features.clone())
        },
        tags,
        concurrency: usize::from(args.concurrency),
    };
    let (scenarios, errors) = suite::run(ctx.clone(), &plan).await;
    if let Some(handle) = embedded {
        handle.shutdown().await;
    }
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let results = RunResults::new(suite::target(&ctx), scenarios, errors, duration_ms);

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

/// The spec the provider is judged by: the profile's version, else the version path of its
/// API root (`…/number-verification/v2`), else the newest built in.
pub(super) fn select_spec(profile: &Profile) -> anyhow::Result<SpecDocument> {
    let versions = spec::builtin_versions();
    let wanted = match &profile.spec_version {
        Some(v) => v.clone(),
        None => detect_version(profile.api_root.path(), versions)
            .or_else(|| versions.last().map(|v| (*v).to_owned()))
            .context("no built-in spec")?,
    };
    spec::builtin(&wanted).with_context(|| {
        format!(
            "profile {}: field `spec_version`: expected one of {}, found {wanted:?}",
            profile.origin,
            versions.join(", ")
        )
    })
}

/// The newest built-in version whose major matches `…/number-verification/v<major>` in `path`.
fn detect_version(path: &str, versions: &[&str]) -> Option<String> {
    let tail = path.split("/number-verification/v").nth(1)?;
    let major: String = tail.chars().take_while(char::is_ascii_digit).collect();
    versions
        .iter()
        .rev()
        .find(|v| v.split('.').next() == Some(major.as_str()))
        .map(|v| (*v).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_detected_from_base_path() {
        let versions = ["1.0.0", "2.0.0", "2.1.0"];
        assert_eq!(
            detect_version("/number-verification/v2", &versions).as_deref(),
            Some("2.1.0")
        );
        assert_eq!(
            detect_version("/x/number-verification/v1/", &versions).as_deref(),
            Some("1.0.0")
        );
        assert_eq!(detect_version("/", &versions), None);
    }
}
