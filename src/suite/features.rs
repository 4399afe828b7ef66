//! Feature sources: nvcert's own features (compiled in, so the binary needs no files) or files
//! given on the command line. Parsing happens here, before cucumber, so that a broken file is
//! reported by name and position while the other files still run.

use std::path::{Path, PathBuf};

use cucumber::feature::Ext as _;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::gherkin::{self, Feature, GherkinEnv};
use cucumber::tag::Ext as _;

use crate::profile::Family;
use crate::spec::version_cmp;

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
    (
        "features/security_profile.feature",
        include_str!("../../features/security_profile.feature"),
    ),
    (
        "features/token_lifetime.feature",
        include_str!("../../features/token_lifetime.feature"),
    ),
    (
        "features/operator_token.feature",
        include_str!("../../features/operator_token.feature"),
    ),
    (
        "features/negative_inputs.feature",
        include_str!("../../features/negative_inputs.feature"),
    ),
    (
        "features/wip_rules.feature",
        include_str!("../../features/wip_rules.feature"),
    ),
    (
        "features/aggregator/aggregator.feature",
        include_str!("../../features/aggregator/aggregator.feature"),
    ),
    (
        "features/phonecheck/token.feature",
        include_str!("../../features/phonecheck/token.feature"),
    ),
    (
        "features/phonecheck/checks.feature",
        include_str!("../../features/phonecheck/checks.feature"),
    ),
    (
        "features/phonecheck/errors.feature",
        include_str!("../../features/phonecheck/errors.feature"),
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

/// Which gated scenarios apply to a run. Scenarios tagged `@since:X` / `@until:X` apply from /
/// up to spec version X; `@rules_NAME` ones only when rule set NAME is enabled. Scenarios that do
/// not apply are left out of the run (not skipped: they are not part of that version's contract).
#[derive(Debug, Clone, Default)]
pub struct Applicability {
    /// Spec version of the run (`None`: every version-gated scenario applies).
    pub version: Option<String>,
    /// Enabled rule sets (e.g. "wip").
    pub rule_sets: Vec<String>,
    /// The family of the provider. Features tagged `@phonecheck` are PhoneCheck's, the others
    /// CAMARA NV's. A PhoneCheck run reports NV scenarios skipped, with the reason; an NV run
    /// leaves PhoneCheck scenarios out (they are not part of NV's contract).
    pub family: Family,
    /// The target is an aggregator (its profile has an `[aggregator]` section). Scenarios tagged
    /// `@aggregator` apply only then; other runs leave them out, as they are not part of a
    /// single provider's contract (and would otherwise leave every such run incomplete).
    pub aggregator: bool,
}

/// The tag marking an aggregator feature.
pub const AGGREGATOR_TAG: &str = "aggregator";

/// The tag marking a PhoneCheck feature.
pub const PHONECHECK_TAG: &str = "phonecheck";

/// The family a feature belongs to, by its tags.
pub(super) fn feature_family(feature: &Feature) -> Family {
    if feature.tags.iter().any(|t| t == PHONECHECK_TAG) {
        Family::PhoneCheck
    } else {
        Family::CamaraNv
    }
}

/// Turns every scenario of `feature` into one step, `reason`, that skips it (background
/// steps dropped), so the scenario is reported skipped, not passed and not silently left out.
fn skip_all(feature: &mut Feature, reason: &str) {
    let skip = |steps: &mut Vec<gherkin::Step>| {
        let Some(first) = steps.first().cloned() else {
            return;
        };
        let mut step = first;
        step.keyword = "Given ".to_owned();
        step.ty = gherkin::StepType::Given;
        step.value = reason.to_owned();
        step.docstring = None;
        step.table = None;
        *steps = vec![step];
    };
    feature.background = None;
    for s in &mut feature.scenarios {
        skip(&mut s.steps);
    }
    for rule in &mut feature.rules {
        rule.background = None;
        for s in &mut rule.scenarios {
            skip(&mut s.steps);
        }
    }
}

impl Applicability {
    fn allows(&self, tags: &[&String]) -> bool {
        tags.iter().all(|t| {
            if let Some(v) = t.strip_prefix("since:") {
                self.version
                    .as_deref()
                    .is_none_or(|run| version_cmp(run, v).is_ge())
            } else if let Some(v) = t.strip_prefix("until:") {
                self.version
                    .as_deref()
                    .is_none_or(|run| version_cmp(run, v).is_le())
            } else if let Some(set) = t.strip_prefix("rules_") {
                self.rule_sets.iter().any(|r| r == set)
            } else {
                true
            }
        })
    }
}

/// Each feature file of `source` (path as given, or the built-in name) with the lower-case hex
/// SHA-256 of its bytes and its size, in load order; a file that cannot be read is left out (the
/// run reports it as an error).
pub fn digests(source: &FeatureSource) -> Vec<(String, String, u64)> {
    use sha2::Digest as _;
    let digest = |name: String, bytes: &[u8]| {
        (
            name,
            hex::encode(sha2::Sha256::digest(bytes)),
            bytes.len() as u64,
        )
    };
    match source {
        FeatureSource::Builtin => BUILTIN
            .iter()
            .map(|(name, text)| digest((*name).to_owned(), text.as_bytes()))
            .collect(),
        FeatureSource::Paths(paths) => paths
            .iter()
            .flat_map(|p| feature_files(p).unwrap_or_default())
            .filter_map(|f| {
                let bytes = std::fs::read(&f).ok()?;
                Some(digest(f.display().to_string(), &bytes))
            })
            .collect(),
    }
}

/// How many scenarios `features` hold (rules included): what a run will report on.
pub fn scenario_count(features: &[Feature]) -> usize {
    features
        .iter()
        .map(|f| f.scenarios.len() + f.rules.iter().map(|r| r.scenarios.len()).sum::<usize>())
        .sum()
}

/// Parsed, example-expanded, tag-filtered features, and the problems met on the way.
pub fn load(
    source: &FeatureSource,
    tags: Option<&TagOperation>,
    applicability: &Applicability,
) -> (Vec<Feature>, Vec<String>) {
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
    features.retain(|f| {
        applicability.family == Family::PhoneCheck || feature_family(f) == applicability.family
    });
    if !applicability.aggregator {
        features.retain(|f| !f.tags.iter().any(|t| t == AGGREGATOR_TAG));
    }
    for f in &mut features {
        if feature_family(f) != applicability.family {
            let reason = format!(
                "this {} scenario does not apply to {}",
                feature_family(f).title(),
                applicability.family.title()
            );
            skip_all(f, &reason);
        }
    }
    for f in &mut features {
        let feature_tags = f.tags.clone();
        let keep = |scenario_tags: &[String], rule_tags: &[String]| {
            let all: Vec<&String> = feature_tags
                .iter()
                .chain(rule_tags)
                .chain(scenario_tags)
                .collect();
            applicability.allows(&all) && tags.is_none_or(|expr| expr.eval(all.iter().copied()))
        };
        f.scenarios.retain(|s| keep(&s.tags, &[]));
        for rule in &mut f.rules {
            let rule_tags = rule.tags.clone();
            rule.scenarios.retain(|s| keep(&s.tags, &rule_tags));
        }
    }
    (features, errors)
}

fn parse_text(name: &str, text: &str) -> Result<Feature, String> {
    let mut f = Feature::parse(text, GherkinEnv::default())
        .map_err(|e| unparsable(name, text, &e.to_string()))?;
    f.path = Some(PathBuf::from(name));
    Ok(f)
}

fn parse_file(path: &Path) -> Result<Feature, String> {
    Feature::parse_path(path, GherkinEnv::default()).map_err(|e| match e {
        gherkin::ParseFileError::Reading { path, source } => {
            format!("{}: cannot read: {source}", path.display())
        }
        gherkin::ParseFileError::Parsing { path, source, .. } => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            unparsable(&path.display().to_string(), &text, &source.to_string())
        }
    })
}

/// What the Gherkin parser refused, said as file, line, what was expected and what was found.
/// The parser's own error lists grammar tokens and often points past the end of the file, so the
/// text is scanned for the first line that cannot be Gherkin; `parser` is the fallback.
fn unparsable(file: &str, text: &str, parser: &str) -> String {
    match first_non_gherkin_line(text) {
        Some(Problem::NoFeature) => {
            let found = if text.trim().is_empty() {
                "an empty file".to_owned()
            } else {
                "only comments, tags and blank lines".to_owned()
            };
            format!("{file}: expected a `Feature:` line, found {found}")
        }
        Some(Problem::Line {
            number,
            found,
            expected,
        }) => {
            format!("{file}, line {number}: expected {expected}, found {found:?}")
        }
        None => format!("{file}: not valid Gherkin ({parser})"),
    }
}

/// Where a feature file stops being Gherkin.
#[derive(Debug, PartialEq, Eq)]
enum Problem {
    /// No `Feature:` line at all.
    NoFeature,
    /// This line (1-based) cannot be where it is.
    Line {
        number: usize,
        found: String,
        expected: &'static str,
    },
}

const HEADERS: &[&str] = &[
    "Feature:",
    "Rule:",
    "Background:",
    "Scenario Outline:",
    "Scenario Template:",
    "Scenario:",
    "Example:",
    "Examples:",
    "Scenarios:",
];
const STEP_KEYWORDS: &[&str] = &["Given ", "When ", "Then ", "And ", "But ", "* "];
const A_GHERKIN_LINE: &str = "a Gherkin line (`Scenario:`, `Background:`, `Rule:`, `Examples:`, a step \
     starting with Given/When/Then/And/But/*, a table row `|…|`, a tag `@…` or a comment `#…`)";

/// The first line of `text` that is not Gherkin (English keywords; a file declaring another
/// `# language:` is left to the parser). Free text is allowed only as a description, right after
/// a `Feature:`, `Rule:`, `Scenario:`… line and before its first step or table.
fn first_non_gherkin_line(text: &str) -> Option<Problem> {
    let mut seen_feature = false;
    let mut in_description = false;
    let mut docstring: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(delimiter) = docstring {
            if line.starts_with(delimiter) {
                docstring = None;
            }
            continue;
        }
        if let Some(language) = line.strip_prefix('#').map(str::trim)
            && let Some(code) = language.strip_prefix("language:")
            && code.trim() != "en"
        {
            return None;
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
            continue;
        }
        let problem = |expected| {
            Some(Problem::Line {
                number: i + 1,
                found: line.to_owned(),
                expected,
            })
        };
        if HEADERS.iter().any(|h| line.starts_with(h)) {
            if !seen_feature && !line.starts_with("Feature:") {
                return problem("a `Feature:` line first");
            }
            seen_feature = true;
            in_description = true;
            continue;
        }
        if !seen_feature {
            return problem("a `Feature:` line");
        }
        if line.starts_with("\"\"\"") || line.starts_with("```") {
            docstring = Some(&line[..3]);
            continue;
        }
        if STEP_KEYWORDS.iter().any(|k| line.starts_with(k)) || line.starts_with('|') {
            in_description = false;
            continue;
        }
        if !in_description {
            return problem(A_GHERKIN_LINE);
        }
    }
    (!seen_feature).then_some(Problem::NoFeature)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(features: &[Feature]) -> Vec<(String, Vec<String>)> {
        features
            .iter()
            .flat_map(|f| f.scenarios.iter())
            .map(|s| {
                (
                    s.name.clone(),
                    s.steps.iter().map(|st| st.value.clone()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn families_keep_their_own_scenarios_and_skip_or_drop_the_others() {
        let nv = Applicability::default();
        let (features, errors) = load(&FeatureSource::Builtin, None, &nv);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(
            !features
                .iter()
                .any(|f| feature_family(f) == Family::PhoneCheck)
        );

        let pc = Applicability {
            family: Family::PhoneCheck,
            ..Applicability::default()
        };
        let (features, errors) = load(&FeatureSource::Builtin, None, &pc);
        assert!(errors.is_empty(), "{errors:?}");
        let all = titles(&features);
        let (own, other): (Vec<_>, Vec<_>) = features
            .iter()
            .partition(|f| feature_family(f) == Family::PhoneCheck);
        assert!(own.len() >= 3 && !other.is_empty());
        for f in other {
            assert!(f.background.is_none());
            for s in &f.scenarios {
                assert_eq!(s.steps.len(), 1, "{}", s.name);
                assert_eq!(
                    s.steps[0].value,
                    "this CAMARA Number Verification scenario does not apply to IDlayr PhoneCheck v0.1"
                );
            }
        }
        assert!(
            all.iter().any(|(name, steps)| {
                name == "The device's own number matches" && steps.len() > 1
            })
        );
    }

    #[test]
    fn gating_tags_select_by_version_and_rule_set() {
        let t = |s: &str| s.to_owned();
        let a = Applicability {
            version: Some("2.0.0".into()),
            rule_sets: vec![],
            ..Applicability::default()
        };
        assert!(a.allows(&[&t("since:1.1.0-rc.1")]));
        assert!(!a.allows(&[&t("since:2.1.0-rc.1")]));
        assert!(!a.allows(&[&t("until:1.0.0")]));
        assert!(!a.allows(&[&t("rules_wip")]));
        let wip = Applicability {
            version: Some("wip".into()),
            rule_sets: vec!["wip".into()],
            ..Applicability::default()
        };
        assert!(wip.allows(&[&t("rules_wip"), &t("since:2.1.0")]));
    }

    #[test]
    fn a_file_that_is_not_gherkin_is_named_with_line_and_expectation() {
        assert_eq!(
            first_non_gherkin_line(
                "Feature: x\n  Some description\n  Scenario: y\n    Given a\n  Scenari: broken\n"
            ),
            Some(Problem::Line {
                number: 5,
                found: "Scenari: broken".into(),
                expected: A_GHERKIN_LINE
            })
        );
        assert_eq!(first_non_gherkin_line(""), Some(Problem::NoFeature));
        assert_eq!(
            first_non_gherkin_line("# only\n@tag\n"),
            Some(Problem::NoFeature)
        );
        assert!(matches!(
            first_non_gherkin_line("Scenario: first\n"),
            Some(Problem::Line { number: 1, .. })
        ));
        let fine = "@t\nFeature: x\n  text\n  Background:\n    Given a\n  Scenario Outline: y\n    When b \"<v>\"\n    \"\"\"\n    free text: here\n    \"\"\"\n    Examples:\n      | v |\n      | 1 |\n";
        assert_eq!(first_non_gherkin_line(fine), None);
        assert_eq!(
            first_non_gherkin_line("# language: es\nCaracterística: x\n"),
            None
        );
        assert_eq!(
            unparsable("e.feature", "", "peg"),
            "e.feature: expected a `Feature:` line, found an empty file"
        );
    }
}
