//! Which built-in NV document judges a provider: the version asked for, else the one whose base
//! path ends the API root, else the newest release. Selection only reads the profile's facts; it
//! never rewrites them (the API root reaches the wire unchanged, through `flow::api`).

use std::cmp::Ordering;

use super::{SpecDocument, builtin, builtin_versions};

/// No built-in document fits what was asked for.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The version asked for is not embedded.
    #[error("{asked_by}: expected one of {known}, found {found:?}")]
    UnknownVersion {
        /// Who asked (`--spec-version`, `profile x.toml: field `spec_version``).
        asked_by: String,
        /// The versions nvcert embeds, comma-separated.
        known: String,
        /// What was asked for.
        found: String,
    },
}

/// The document for `wanted` (a leading `v` is accepted: `v2.1.0` = `2.1.0`); without one, the
/// version whose base path ends `api_root_path` (`…/number-verification/v1rc2` → 1.1.0-rc.2; a
/// path several versions share, like `/v1`, → the newest release among them); else the newest
/// release. `asked_by` names the source of `wanted` in the error.
pub fn select(
    wanted: Option<&str>,
    asked_by: &str,
    api_root_path: &str,
) -> Result<SpecDocument, SelectError> {
    let versions = builtin_versions();
    let version = match wanted {
        Some(v) => v.strip_prefix('v').unwrap_or(v).to_owned(),
        None => detect_version(api_root_path)
            .or_else(|| newest_release(versions.iter().copied()))
            .unwrap_or_else(|| versions[versions.len() - 1].to_owned()),
    };
    builtin(&version).ok_or_else(|| SelectError::UnknownVersion {
        asked_by: asked_by.to_owned(),
        known: versions.join(", "),
        found: wanted.unwrap_or(&version).to_owned(),
    })
}

/// Orders NV versions: `1.0.0-rc.1` < `1.0.0` < `1.1.0-rc.1` < … < `2.1.0` < `wip`.
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    fn key(v: &str) -> (u64, u64, u64, u64, u64) {
        if v == "wip" {
            return (u64::MAX, 0, 0, 0, 0);
        }
        let (core, pre) = v.split_once('-').unwrap_or((v, ""));
        let mut nums = core.split('.').map(|n| n.parse().unwrap_or(0));
        let (ma, mi, pa) = (
            nums.next().unwrap_or(0),
            nums.next().unwrap_or(0),
            nums.next().unwrap_or(0),
        );
        // A release sorts after its pre-releases.
        let (is_release, pre_n) = match pre.rsplit_once('.') {
            _ if pre.is_empty() => (1, 0),
            Some((_, n)) => (0, n.parse().unwrap_or(0)),
            None => (0, 0),
        };
        (ma, mi, pa, is_release, pre_n)
    }
    key(a).cmp(&key(b))
}

/// The newest of `versions` that is a release (not a release candidate, not `wip`).
fn newest_release<'a>(versions: impl Iterator<Item = &'a str>) -> Option<String> {
    versions
        .filter(|v| !v.contains('-') && *v != "wip")
        .max_by(|a, b| version_cmp(a, b))
        .map(str::to_owned)
}

/// The built-in version whose base path ends `path` (the newest release among several).
fn detect_version(path: &str) -> Option<String> {
    let path = path.trim_end_matches('/');
    let matching: Vec<&str> = builtin_versions()
        .iter()
        .copied()
        .filter(|v| builtin(v).is_some_and(|s| path.ends_with(s.base_path())))
        .collect();
    newest_release(matching.iter().copied()).or_else(|| matching.last().map(|v| (*v).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_detected_from_base_path() {
        for (path, expected) in [
            ("/number-verification/v2", Some("2.1.0")),
            ("/x/number-verification/v1/", Some("1.1.0")),
            ("/number-verification/v1rc2", Some("1.1.0-rc.2")),
            ("/number-verification/v0", Some("0.3.1")),
            ("/number-verification/vwip", Some("wip")),
            ("/", None),
        ] {
            assert_eq!(detect_version(path).as_deref(), expected, "{path}");
        }
        assert_eq!(
            newest_release(builtin_versions().iter().copied()).as_deref(),
            Some("2.1.0")
        );
    }

    #[test]
    fn selection_order_is_asked_then_detected_then_newest_release() {
        let version = |wanted, path| select(wanted, "test", path).map(|s| s.version().to_owned());
        assert_eq!(
            version(Some("1.0.0"), "/number-verification/v2").unwrap(),
            "1.0.0"
        );
        assert_eq!(version(Some("v2.0.0"), "/").unwrap(), "2.0.0");
        assert_eq!(version(None, "/number-verification/v0").unwrap(), "0.3.1");
        assert_eq!(version(None, "/").unwrap(), "2.1.0");
        let err = version(Some("3.0"), "/").unwrap_err().to_string();
        assert!(err.starts_with("test: expected one of 0.3.1, "), "{err}");
        assert!(err.ends_with("found \"3.0\""), "{err}");
    }

    #[test]
    fn versions_order_pre_releases_before_releases_and_wip_last() {
        use Ordering::*;
        for (a, b, expected) in [
            ("1.0.0-rc.1", "1.0.0", Less),
            ("1.1.0-rc.2", "1.1.0-rc.1", Greater),
            ("2.1.0", "2.0.0", Greater),
            ("wip", "2.1.0", Greater),
            ("0.3.1", "1.0.0-rc.1", Less),
            ("2.1.0", "2.1.0", Equal),
        ] {
            assert_eq!(version_cmp(a, b), expected, "{a} vs {b}");
        }
    }
}
