//! The check catalogue (`nvcert list`): one entry per scenario of the feature files, with what
//! an operator maps to requirements (tag, level, citation, versions, rule set). Read from the
//! features themselves, so it cannot drift from what `run` checks.

use serde::Serialize;

use super::features::{self, Applicability, FeatureSource};
use crate::results::Level;

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogueEntry {
    /// The scenario's own tag (e.g. `verify_plain_false`), without `@`; `None` when it has none.
    pub tag: Option<String>,
    /// Feature name.
    pub feature: String,
    /// Scenario name.
    pub scenario: String,
    /// The family of verification it checks (`camara-nv`, `phonecheck`).
    pub family: &'static str,
    /// The profile dialect that selects its family, when one must (`idlayr-phonecheck-v0.1`).
    pub dialect: Option<&'static str>,
    /// MUST, SHOULD or REVIEW.
    pub level: Level,
    /// The scenario's `Source:` lines.
    pub citation: Option<String>,
    /// First spec version it applies to (`@since:X`), if gated.
    pub since: Option<String>,
    /// Last spec version it applies to (`@until:X`), if gated.
    pub until: Option<String>,
    /// The rule set it belongs to (`@rules_NAME`), if any: it runs only with that set.
    pub rule_set: Option<String>,
    /// Feature file and line of the scenario.
    pub file: String,
    /// 1-based line of the scenario.
    pub line: usize,
}

impl CatalogueEntry {
    /// The versions it applies to, in words: `all`, `≥ 2.0.0`, `≤ 1.1.0`, `2.0.0 – 2.1.0`.
    pub fn versions(&self) -> String {
        match (&self.since, &self.until) {
            (None, None) => "all".to_owned(),
            (Some(s), None) => format!("≥ {s}"),
            (None, Some(u)) => format!("≤ {u}"),
            (Some(s), Some(u)) => format!("{s} – {u}"),
        }
    }
}

/// Tags that say how a scenario is run, not which check it is.
fn is_meta(tag: &str) -> bool {
    matches!(tag, "MUST" | "SHOULD" | "REVIEW")
        || tag.starts_with("since:")
        || tag.starts_with("until:")
        || tag.starts_with("rules_")
}

/// The catalogue of `source` for `applicability`: the checks of its family (the scenarios of
/// other families a run would report skipped are not its checks), and the problems met loading it.
pub fn catalogue(
    source: &FeatureSource,
    applicability: &Applicability,
) -> (Vec<CatalogueEntry>, Vec<String>) {
    let (features, errors) = features::load(source, None, applicability);
    let family = applicability.family;
    let mut out = Vec::new();
    for f in features
        .iter()
        .filter(|f| features::feature_family(f) == family)
    {
        let file = f
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let scenarios = f.scenarios.iter().map(|s| (s, Vec::new())).chain(
            f.rules
                .iter()
                .flat_map(|r| r.scenarios.iter().map(|s| (s, r.tags.clone()))),
        );
        for (sc, rule_tags) in scenarios {
            let tags: Vec<String> = f
                .tags
                .iter()
                .chain(&rule_tags)
                .chain(&sc.tags)
                .cloned()
                .collect();
            let find = |prefix: &str| {
                tags.iter()
                    .rev()
                    .find_map(|t| t.strip_prefix(prefix).map(str::to_owned))
            };
            out.push(CatalogueEntry {
                tag: sc.tags.iter().rev().find(|t| !is_meta(t)).cloned(),
                feature: f.name.clone(),
                scenario: sc.name.clone(),
                family: family.name(),
                dialect: family.dialect(),
                level: Level::from_tags(&tags),
                citation: super::collect::described(sc, "Source:"),
                since: find("since:"),
                until: find("until:"),
                rule_set: find("rules_"),
                file: file.clone(),
                line: sc.position.line,
            });
        }
    }
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_check_has_a_level_and_a_citation() {
        let all = Applicability {
            version: None,
            rule_sets: vec!["wip".into()],
            family: crate::profile::Family::CamaraNv,
            aggregator: true,
        };
        let (entries, errors) = catalogue(&FeatureSource::Builtin, &all);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(entries.len() >= 60, "{}", entries.len());
        for e in &entries {
            assert!(e.citation.is_some(), "{} has no Source: line", e.scenario);
            assert!(e.tag.is_some(), "{} has no tag", e.scenario);
        }
        assert!(entries.iter().any(|e| e.rule_set.as_deref() == Some("wip")));
        assert!(entries.iter().any(|e| e.level == Level::Should));
        // Without the wip rule set its checks are not in the catalogue, as they are not run.
        let released = Applicability {
            version: Some("2.1.0".into()),
            rule_sets: vec![],
            family: crate::profile::Family::CamaraNv,
            aggregator: false,
        };
        let (entries, _) = catalogue(&FeatureSource::Builtin, &released);
        assert!(entries.iter().all(|e| e.rule_set.is_none()));
        assert!(entries.iter().all(|e| e.family == "camara-nv"));
        // PhoneCheck's catalogue holds its own checks, not the NV ones its runs report skipped.
        let phonecheck = Applicability {
            family: crate::profile::Family::PhoneCheck,
            ..released
        };
        let (entries, errors) = catalogue(&FeatureSource::Builtin, &phonecheck);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(entries.len() >= 15, "{}", entries.len());
        for e in &entries {
            assert_eq!(
                (e.family, e.dialect),
                ("phonecheck", Some("idlayr-phonecheck-v0.1")),
                "{e:?}"
            );
            assert!(e.citation.is_some(), "{} has no Source: line", e.scenario);
            assert!(e.tag.is_some(), "{} has no tag", e.scenario);
        }
    }
}
