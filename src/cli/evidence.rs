//! `nvcert run --evidence FILE.zip [--sign-key …]` and `nvcert evidence verify`.

use std::path::Path;

use anyhow::{Context as _, bail};

use super::{RunArgs, VerifyArgs, exit};
use crate::evidence::{
    self, FileDigest, Manifest, ProviderInfo, SignatureState, SpecInfo, Verdict,
};
use crate::results::RunResults;
use crate::secret::Redactor;
use crate::suite::FeatureSource;

/// Reads a `--sign-key` reference: `env:NAME` (the PEM in a variable) or `file:PATH`.
fn read_key(reference: &str) -> anyhow::Result<Vec<u8>> {
    if let Some(name) = reference.strip_prefix("env:") {
        let value = std::env::var(name).with_context(|| {
            format!("--sign-key {reference}: environment variable {name} is not set")
        })?;
        Ok(value.into_bytes())
    } else if let Some(path) = reference.strip_prefix("file:") {
        std::fs::read(path).with_context(|| format!("--sign-key {reference}: cannot read {path}"))
    } else {
        bail!("--sign-key: expected env:NAME or file:PATH, found {reference:?}")
    }
}

/// The command line of the run as parsed (flags carry references, never secret values).
fn command_line(args: &RunArgs) -> Vec<String> {
    let mut line = vec!["nvcert".to_owned(), "run".to_owned()];
    let mut flag = |name: &str, value: Option<String>| {
        line.push(name.to_owned());
        if let Some(v) = value {
            line.push(v);
        }
    };
    for p in &args.provider {
        flag("--provider", Some(p.display().to_string()));
    }
    flag("--report-dir", Some(args.report_dir.display().to_string()));
    if let Some(t) = &args.tags {
        flag("--tags", Some(t.clone()));
    }
    for f in &args.features {
        flag("--features", Some(f.display().to_string()));
    }
    if let Some(v) = &args.spec_version {
        flag("--spec-version", Some(v.clone()));
    }
    for r in &args.rule_sets {
        flag("--rule-set", Some(r.clone()));
    }
    if args.strict {
        flag("--strict", None);
    }
    if let Some(e) = &args.expect_failures {
        flag("--expect-failures", Some(e.display().to_string()));
    }
    flag("--concurrency", Some(args.concurrency.to_string()));
    if args.quiet {
        flag("--quiet", None);
    }
    if args.verbose {
        flag("--verbose", None);
    }
    if let Some(e) = &args.evidence {
        flag("--evidence", Some(e.display().to_string()));
    }
    if let Some(k) = &args.sign_key {
        flag("--sign-key", Some(k.clone()));
    }
    line
}

/// What the run knows that the bundle's manifest states.
pub(super) struct RunFacts<'a> {
    pub args: &'a RunArgs,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub spec_origin: &'a str,
    pub spec_sha256: &'a str,
    pub features: &'a FeatureSource,
}

/// Builds the bundle of `files` (already rendered and redacted) and writes it to `path`
/// atomically.
pub(super) fn write_bundle(
    path: &Path,
    facts: &RunFacts<'_>,
    results: &RunResults,
    files: &[(&str, &[u8])],
    redactor: &Redactor,
) -> anyhow::Result<()> {
    let profile = match facts.args.provider.first() {
        // Profiles hold secret references (env:, file:); anything inline that the run used as a
        // secret is registered with the redactor and leaves as [redacted].
        Some(p) => Some(redactor.redact(
            &std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        )),
        None => None,
    };
    let t = &results.target;
    let manifest = Manifest {
        format: evidence::FORMAT.to_owned(),
        nvcert_version: results.tool_version.clone(),
        started_at: facts
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        provider: ProviderInfo {
            name: t.provider.clone(),
            issuer: t.issuer.clone(),
            api_base: t.api_base.clone(),
        },
        spec: SpecInfo {
            version: t.spec_version.clone(),
            origin: facts.spec_origin.to_owned(),
            sha256: facts.spec_sha256.to_owned(),
        },
        rule_sets: results.rule_sets.clone(),
        features: crate::suite::feature_digests(facts.features)
            .into_iter()
            .map(|(name, sha256, size)| FileDigest { name, sha256, size })
            .collect(),
        command_line: command_line(facts.args)
            .iter()
            .map(|w| redactor.redact(w))
            .collect(),
        profile,
        succeeded: results.succeeded(),
        files: Vec::new(),
    };
    let key = facts.args.sign_key.as_deref().map(read_key).transpose()?;
    let bytes = evidence::build(manifest, files, key.as_deref())?;
    crate::report::write_file(path, &bytes)?;
    Ok(())
}

/// `nvcert evidence verify`: prints the verdict, returns the exit code.
pub(super) fn verify(args: &VerifyArgs) -> u8 {
    let bundle = match std::fs::read(&args.bundle) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("nvcert: cannot read {}: {e}", args.bundle.display());
            return exit::USAGE_OR_CONFIG;
        }
    };
    let key = match &args.public_key {
        Some(p) => match std::fs::read(p) {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("nvcert: cannot read --public-key {}: {e}", p.display());
                return exit::USAGE_OR_CONFIG;
            }
        },
        None => None,
    };
    let shown = args.bundle.display();
    match evidence::verify(&bundle, key.as_deref()) {
        Ok(Verdict::Intact { files, signature }) => {
            let signed = match signature {
                SignatureState::Verified => "signature verified",
                SignatureState::NotChecked => "signed, signature not checked (give --public-key)",
                SignatureState::Absent => "not signed",
            };
            println!("{shown}: intact ({files} files and the manifest match; {signed})");
            exit::OK
        }
        Ok(Verdict::Differs { file, reason }) => {
            println!("{shown}: {file} {reason}");
            exit::CHECK_FAILED
        }
        Err(e) => {
            eprintln!("nvcert: {shown}: {e}");
            exit::USAGE_OR_CONFIG
        }
    }
}
