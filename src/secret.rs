//! Secrets (client keys and secrets, codes, tokens) and the redactor every writer uses.
//!
//! A [`Secret`] never shows its value through `Debug` or `Display`; cucumber prints the World on
//! failure and logs print whatever they are given, so the type is the first line of defence. The
//! [`Redactor`] is the second: every report writer passes its output through it, with every secret
//! value seen during the run.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Text that must never appear in reports, logs or snapshots.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself. Only pass it to the wire, never to a message or a report.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// What replaces a secret in redacted text.
pub const REDACTED: &str = "[redacted]";

/// The set of secret values seen during a run. Cloning shares the set.
///
/// Shared because scenarios run concurrently and each may mint tokens and codes; the set only grows.
#[derive(Clone, Default)]
pub struct Redactor {
    seen: Arc<Mutex<BTreeSet<String>>>,
    /// Set by [`Redactor::seal`]: new secrets are no longer remembered.
    sealed: Arc<AtomicBool>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.len())
    }
}

/// Values shorter than this are not redacted: they would mangle unrelated text, and no secret
/// nvcert handles (keys, tokens, codes) is this short.
const MIN_SECRET_LEN: usize = 6;

impl Redactor {
    /// Remembers `secret` so that every later `redact` hides it.
    pub fn register(&self, secret: &Secret) {
        self.register_str(secret.expose());
    }

    /// Remembers a raw secret value (unless the redactor is sealed).
    pub fn register_str(&self, value: &str) {
        if self.sealed.load(Ordering::Relaxed) {
            return;
        }
        if value.len() >= MIN_SECRET_LEN {
            self.lock().insert(value.to_owned());
        }
    }

    /// Stops remembering new secrets; those already known stay redacted. For runs whose outputs
    /// quote no exchange (a load test reports counts and timings only): remembering each of
    /// millions of codes and tokens would grow without bound and put every user behind one lock.
    /// Shared with every clone.
    pub fn seal(&self) {
        self.sealed.store(true, Ordering::Relaxed);
    }

    /// Number of distinct secrets known.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no secret is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `text` with every known secret replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let seen = self.lock();
        // Longest first, so a secret containing another is replaced whole.
        let mut secrets: Vec<&String> = seen.iter().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut out = text.to_owned();
        for secret in secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        // A poisoned set is still a valid set of strings.
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The secrets a [`Redactor`] knew at one moment, compiled into one matcher: for redacting many
/// texts at once (every field of a step's exchanges, every piece of a page) without locking and
/// sorting the set for each.
pub struct RedactionSnapshot {
    matcher: Option<aho_corasick::AhoCorasick>,
}

impl fmt::Debug for RedactionSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RedactionSnapshot")
    }
}

impl Redactor {
    /// The secrets known now, compiled for [`RedactionSnapshot::redact`]. Secrets learnt later
    /// are not in it.
    pub fn snapshot(&self) -> RedactionSnapshot {
        let seen = self.lock();
        let matcher = if seen.is_empty() {
            None
        } else {
            // Leftmost-longest: a secret containing another is replaced whole, as in `redact`.
            // A contiguous NFA: cheap to build for the hundreds of tokens a run sees (a DFA
            // would cost more to build than the few texts it scans).
            aho_corasick::AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(seen.iter())
                .ok()
        };
        RedactionSnapshot { matcher }
    }
}

impl RedactionSnapshot {
    /// `text` with every secret of the snapshot replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        match &self.matcher {
            Some(m) => {
                let mut out = String::with_capacity(text.len());
                m.replace_all_with(text, &mut out, |_, _, out| {
                    out.push_str(REDACTED);
                    true
                });
                out
            }
            None => text.to_owned(),
        }
    }
}

/// A TOML error as "line L, column C: message", without the parser's excerpt of the input:
/// when a key file is given where a config was expected, that excerpt would print the key.
pub fn toml_error_without_excerpt(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_do_not_quote_the_input() {
        let text = "a = 1\nsecret-key-material-123\n";
        let e = toml::from_str::<toml::Table>(text).unwrap_err();
        let shown = toml_error_without_excerpt(&e, text);
        assert!(shown.starts_with("line 2, column "), "{shown}");
        assert!(!shown.contains("secret-key-material-123"), "{shown}");
    }

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("top-secret-value");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(s.expose(), "top-secret-value");
    }

    #[test]
    fn redactor_replaces_longest_first_and_skips_short_values() {
        let r = Redactor::default();
        r.register_str("abcdef");
        r.register_str("abcdefghij");
        r.register_str("abc");
        assert_eq!(
            r.redact("x abcdefghij y abcdef z abc"),
            "x [redacted] y [redacted] z abc"
        );
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn a_snapshot_redacts_as_the_redactor_does() {
        let r = Redactor::default();
        assert_eq!(r.snapshot().redact("abcdefghij"), "abcdefghij");
        r.register_str("abcdef");
        r.register_str("abcdefghij");
        let snapshot = r.snapshot();
        r.register_str("later-secret");
        let text = "x abcdefghij y abcdef z abc later-secret";
        assert_eq!(
            snapshot.redact(text),
            "x [redacted] y [redacted] z abc later-secret"
        );
        assert_eq!(r.redact(text), "x [redacted] y [redacted] z abc [redacted]");
    }

    #[test]
    fn a_sealed_redactor_keeps_what_it_knows_and_learns_nothing_new() {
        let r = Redactor::default();
        r.register_str("known-secret");
        r.clone().seal();
        r.register_str("later-secret");
        assert_eq!(r.len(), 1);
        assert_eq!(
            r.redact("known-secret later-secret"),
            "[redacted] later-secret"
        );
    }
}
