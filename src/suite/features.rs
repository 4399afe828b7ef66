//! Feature sources: nvcert's own features (compiled in, so the binary needs no files) or files
//! given on the command line. Parsing happens here, before cucumber, so that a broken file is
//! reported by name and position while the other files still run.

use std::path::{Path, PathBuf};

use cucumber::feature::Ext as _;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::gherkin::{self, Feature, GherkinEnv};
use cucumber::tag::Ext as _;

/// nvcert's own features, written from the NV spec.
const BUILTIN: &[(&str, &str)] = &[
    (
        "features/authorization_code.feature",
        include_str!("../../features/authorization_code.feature"),
    ),
    (
        "features/verify.feature",
        include_str!("../../features/verify.feature"),
    ),
    (
        "features/device_phone_number.feature",
        include_str!("../../features/device_phone_number.feature"),
    ),
    (
        "features/invalid_argument.feature",
        include_str!("../../features/invalid_argument.feature"),
    ),
    (
        "features/authentication.feature",
        include_str!("../../features/authentication.feature"),
    ),
    (
        "features/correlator.feature",
        include_str!("../../features/correlator.feature"),
    ),
];

/// Where the features of a run come from.
#[derive(Debug, Clone, Default)]
pub enum FeatureSource {
    /// nvcert's own features.
    #[default]
    Builtin,
    /// These files, or every `*.feature` below these folders.
    Paths(Vec<PathBuf>),
}

/// Parsed, example-expanded, tag-filtered features, and the problems met on the way.
pub fn load(source: &FeatureSource, tags: Option<&TagOperation>) -> (Vec<Feature>, Vec<String>) {
    let mut features = Vec::new();
    let mut errors = Vec::new();
    let mut results: Vec<Result<Feature, String>> = Vec::new();
    match source {
        FeatureSource::Builtin => {
            results.extend(BUILTIN.iter().map(|(name, text)| parse_text(name, text)))
        }
        FeatureSource::Paths(paths) => {
            for path in paths {
                match feature_files(path) {
                    Ok(files) if files.is_empty() => {
                        results.push(Err(format!("{}: no .feature files found", path.display())));
                    }
                    Ok(files) => results.extend(files.iter().map(|f| parse_file(f))),
                    Err(e) => results.push(Err(e)),
                }
            }
        }
    }
    for parsed in results {
        let expanded = parsed.and_then(|f| {
            let name = f
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            f.expand_examples().map_err(|e| format!("{name}: {e}"))
        });
        match expanded {
            Ok(f) => features.push(f),
            Err(e) => errors.push(e),
        }
    }
    if let Some(expr) = tags {
        for f in &mut features {
            let feature_tags = f.tags.clone();
            f.scenarios
                .retain(|s| expr.eval(feature_tags.iter().chain(s.tags.iter())));
            for rule in &mut f.rules {
                let rule_tags = rule.tags.clone();
                rule.scenarios.retain(|s| {
                    expr.eval(
                        feature_tags
                            .iter()
                            .chain(rule_tags.iter())
                            .chain(s.tags.iter()),
                    )
                });
            }
        }
    }
    (features, errors)
}

fn parse_text(name: &str, text: &str) -> Result<Feature, String> {
    let mut f = Feature::parse(text, GherkinEnv::default()).map_err(|e| format!("{name}: {e}"))?;
    f.path = Some(PathBuf::from(name));
    Ok(f)
}

fn parse_file(path: &Path) -> Result<Feature, String> {
    Feature::parse_path(path, GherkinEnv::default()).map_err(|e| match e {
        gherkin::ParseFileError::Reading { path, source } => {
            format!("{}: cannot read: {source}", path.display())
        }
        gherkin::ParseFileError::Parsing { path, source, .. } => {
            format!("{}: {source}", path.display())
        }
    })
}

fn feature_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries =
        std::fs::read_dir(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            files.extend(feature_files(&p)?);
        } else if p
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("feature"))
        {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// A cucumber parser that hands over features already loaded by [`load`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Preloaded;

impl cucumber::Parser<Vec<Feature>> for Preloaded {
    type Cli = cucumber::cli::Empty;
    type Output = futures::stream::Iter<std::vec::IntoIter<cucumber::parser::Result<Feature>>>;

    fn parse(self, input: Vec<Feature>, _: Self::Cli) -> Self::Output {
        futures::stream::iter(input.into_iter().map(Ok).collect::<Vec<_>>())
    }
}
