//! `--expect-failures FILE`: known deviations of a provider. One entry per line — a scenario tag
//! (`@oidc_pkce_plain`) or `Feature name › Scenario name` — `#` starts a comment. A listed check
//! that fails does not fail the run; a listed check that passes is reported, so the list can be
//! kept current (the OpenID conformance suite's CI does the same).

use std::path::Path;

/// The known deviations.
#[derive(Debug, Clone, Default)]
pub struct ExpectedFailures {
    tags: Vec<String>,
    names: Vec<(String, String)>,
    /// Every entry as written, with its 1-based line, for [`ExpectedFailures::unmatched`].
    written: Vec<(usize, String)>,
}

/// The list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ExpectationsError {
    /// I/O error.
    #[error("expected-failures file {file}: cannot read: {reason}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A line is neither a tag nor `Feature › Scenario`.
    #[error(
        "expected-failures file {file}, line {line}: expected `@tag` or `Feature › Scenario`, found {found:?}"
    )]
    Line {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The text.
        found: String,
    },
}

impl ExpectedFailures {
    /// Reads the list at `path`.
    pub fn load(path: &Path) -> Result<Self, ExpectationsError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ExpectationsError::Read {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &file)
    }

    /// Parses list text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, ExpectationsError> {
        let mut out = Self::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            out.written.push((i + 1, line.to_owned()));
            if let Some(tag) = line.strip_prefix('@') {
                out.tags.push(tag.to_owned());
            } else if let Some((f, s)) = line.split_once('›') {
                out.names.push((f.trim().to_owned(), s.trim().to_owned()));
            } else {
                return Err(ExpectationsError::Line {
                    file: file.to_owned(),
                    line: i + 1,
                    found: line.to_owned(),
                });
            }
        }
        Ok(out)
    }

    /// Whether the scenario is listed.
    pub fn lists(&self, feature: &str, scenario: &str, tags: &[String]) -> bool {
        tags.iter().any(|t| self.tags.contains(t))
            || self
                .names
                .iter()
                .any(|(f, s)| f == feature && s == scenario)
    }
}

impl ExpectedFailures {
    /// The entries that match none of `scenarios`, as `line N: ENTRY`.
    pub fn unmatched(&self, scenarios: &[super::ScenarioResult]) -> Vec<String> {
        self.written
            .iter()
            .filter(|(_, entry)| {
                let one = match entry.strip_prefix('@') {
                    Some(tag) => Self {
                        tags: vec![tag.to_owned()],
                        ..Self::default()
                    },
                    None => {
                        let (f, s) = entry.split_once('›').unwrap_or((entry, ""));
                        Self {
                            names: vec![(f.trim().to_owned(), s.trim().to_owned())],
                            ..Self::default()
                        }
                    }
                };
                !scenarios
                    .iter()
                    .any(|sc| one.lists(&sc.feature, &sc.name, &sc.tags))
            })
            .map(|(line, entry)| format!("line {line}: {entry}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_names_are_listed_and_bad_lines_named() {
        let list =
            ExpectedFailures::parse("# known\n@oidc_pkce_plain\nVerify › A case # why\n", "x")
                .unwrap();
        assert!(list.lists("F", "S", &["oidc_pkce_plain".into()]));
        assert!(list.lists("Verify", "A case", &[]));
        assert!(!list.lists("Verify", "Another", &[]));
        let e = ExpectedFailures::parse("\njust words\n", "x.txt")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.txt, line 2") && e.contains("just words"),
            "{e}"
        );
    }

    #[test]
    fn entries_matching_no_scenario_are_named_with_their_line() {
        let list = ExpectedFailures::parse(
            "@oidc_pkce_plain\n@oidc_pkce_plian # typo\nVerify › A case\nVerify › No case\n",
            "x",
        )
        .unwrap();
        let scenario = |feature: &str, name: &str, tag: &str| crate::results::ScenarioResult {
            tags: vec![tag.into()],
            ..crate::results::testing::scenario(feature, name, crate::results::Status::Passed)
        };
        let scenarios = [
            scenario("Security", "Plain PKCE", "oidc_pkce_plain"),
            scenario("Verify", "A case", "verify_a"),
        ];
        assert_eq!(
            list.unmatched(&scenarios),
            ["line 2: @oidc_pkce_plian", "line 4: Verify › No case"]
        );
    }
}
