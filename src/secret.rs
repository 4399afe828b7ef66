//! Secrets (client keys and secrets, codes, tokens) and the redactor every writer uses.
//!
//! A [`Secret`] never shows its value through `Debug` or `Display`; cucumber prints the World on
//! failure and logs print whatever they are given, so the type is the first line of defence. The
//! [`Redactor`] is the second: every report writer passes its output through it, with every secret
//! value seen during the run.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

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
    seen: Arc<Mutex<Known>>,
    /// Set by [`Redactor::seal`]: new secrets are no longer remembered.
    sealed: Arc<AtomicBool>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.len())
    }
}

/// The secrets known, and every [`WINDOW`]-byte window of the longer ones.
#[derive(Default)]
struct Known {
    values: BTreeSet<String>,
    windows: Windows,
}

/// Windows as 128-bit numbers, hashed by one multiplication: every report byte is looked up, so
/// SipHash's cost (the default, made for untrusted keys) would dominate redaction.
type Windows = HashSet<u128, std::hash::BuildHasherDefault<WindowHasher>>;

#[derive(Default)]
struct WindowHasher(u64);

impl std::hash::Hasher for WindowHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u128(&mut self, value: u128) {
        let folded = (value as u64) ^ ((value >> 64) as u64).rotate_left(32);
        self.0 = folded.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }
}

fn window_key(bytes: &[u8]) -> u128 {
    let mut key = [0u8; WINDOW];
    key.copy_from_slice(bytes);
    u128::from_le_bytes(key)
}

/// Length of the secret fragments the redactor recognises on their own: a value cut short (a
/// message quoting the first 120 characters of a provider's answer, an echo of part of a
/// token) still shows no 16 characters in a row of any secret.
pub const WINDOW: usize = 16;

/// Query parameters whose values are secrets wherever they appear (`name=value` in a URL or a
/// form body): their values are replaced by [`REDACTED`] even when the redactor never saw them.
pub const SENSITIVE_PARAMETERS: &[&str] = &[
    "request",
    "code",
    "code_verifier",
    "client_assertion",
    "client_secret",
    "login_hint",
    "auth_req_id",
    "access_token",
    "id_token",
    "refresh_token",
    "assertion",
    "operator_token",
];

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
        if value.len() < MIN_SECRET_LEN {
            return;
        }
        let mut known = self.lock();
        // The forms a value takes in the reports too: JSON and XML escaping, form encoding.
        let json = serde_json::Value::String(value.to_owned()).to_string();
        let json = json[1..json.len() - 1].to_owned();
        let xml = value
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&apos;");
        let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        for form in [value.to_owned(), json, xml, form] {
            if known.values.contains(&form) {
                continue;
            }
            for window in form.as_bytes().windows(WINDOW) {
                known.windows.insert(window_key(window));
            }
            known.values.insert(form);
        }
    }

    /// Stops remembering new secrets; those already known stay redacted. For runs whose outputs
    /// quote no exchange (a load test reports counts and timings only): remembering each of
    /// millions of codes and tokens would grow without bound and put every user behind one lock.
    /// Shared with every clone.
    pub fn seal(&self) {
        self.sealed.store(true, Ordering::Relaxed);
    }

    /// Number of distinct secret values known (each escaped form counts once).
    pub fn len(&self) -> usize {
        self.lock().values.len()
    }

    /// True when no secret is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `text` with every known secret, every [`WINDOW`]-character fragment of one, and the
    /// values of the [`SENSITIVE_PARAMETERS`] replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let known = self.lock();
        // Longest first, so a secret containing another is replaced whole.
        let mut secrets: Vec<&String> = known.values.iter().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut out = text.to_owned();
        for secret in secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        let out = redact_fragments(&out, &known.windows);
        drop(known);
        redact_query_values(&out)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Known> {
        // A poisoned set is still a valid set of strings.
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The secrets a [`Redactor`] knew at one moment, compiled into one matcher: for redacting many
/// texts at once (every field of a step's exchanges, every piece of a page) without locking and
/// sorting the set for each.
pub struct RedactionSnapshot {
    matcher: Option<aho_corasick::AhoCorasick>,
    /// The 16-byte windows of the secrets, as [`Redactor::redact`] uses them.
    windows: Windows,
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
        let known = self.lock();
        let seen = &known.values;
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
        RedactionSnapshot {
            matcher,
            windows: known.windows.clone(),
        }
    }
}

impl RedactionSnapshot {
    /// `text` with every secret of the snapshot replaced by [`REDACTED`].
    /// The same three passes as [`Redactor::redact`]: whole secrets, 16-byte fragments of them,
    /// values of sensitive parameters.
    pub fn redact(&self, text: &str) -> String {
        let whole = match &self.matcher {
            Some(m) => {
                let mut out = String::with_capacity(text.len());
                m.replace_all_with(text, &mut out, |_, _, out| {
                    out.push_str(REDACTED);
                    true
                });
                out
            }
            None => text.to_owned(),
        };
        redact_query_values(&redact_fragments(&whole, &self.windows))
    }
}

/// `text` with every run of bytes covered by a known window replaced by [`REDACTED`].
fn redact_fragments(text: &str, windows: &Windows) -> String {
    let bytes = text.as_bytes();
    if windows.is_empty() || bytes.len() < WINDOW {
        return text.to_owned();
    }
    // Covered ranges, merged as they are found (windows are scanned left to right).
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for start in 0..=bytes.len() - WINDOW {
        if !windows.contains(&window_key(&bytes[start..start + WINDOW])) {
            continue;
        }
        let end = start + WINDOW;
        match ranges.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => ranges.push((start, end)),
        }
    }
    if ranges.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        // Whole characters only: widen to the enclosing character boundaries.
        let mut start = start.max(at);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = end;
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if start < at {
            start = at;
        }
        out.push_str(&text[at..start]);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

static SENSITIVE_QUERY: LazyLock<regex::Regex> = LazyLock::new(|| {
    let names = SENSITIVE_PARAMETERS.join("|");
    // A parameter starts a query, follows a separator, or stands at the start of a form body
    // or a quoted value; `error_code=` or `xcode=` are other parameters.
    regex::Regex::new(&format!(
        r#"(?i)(^|[?&;\s"'(\[])({names})=(\[redacted\]|[^&\s"'<>#)\]]+)"#
    ))
    .expect("the sensitive-parameter pattern compiles")
});

/// `text` with the value of every `name=value` pair whose name is one of
/// [`SENSITIVE_PARAMETERS`] replaced by [`REDACTED`] (in URLs, form bodies and messages quoting
/// them), whether or not the value was ever registered.
pub fn redact_query_values(text: &str) -> String {
    SENSITIVE_QUERY
        .replace_all(text, |c: &regex::Captures<'_>| {
            if &c[3] == REDACTED {
                c[0].to_owned()
            } else {
                format!("{}{}={REDACTED}", &c[1], &c[2])
            }
        })
        .into_owned()
}

/// `url` as messages show it: no user info, the values of [`SENSITIVE_PARAMETERS`] and the
/// fragment replaced by [`REDACTED`], other query values kept (they help reproduce a request).
pub fn shown_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    if shown.fragment().is_some() {
        shown.set_fragment(Some(REDACTED));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let secret = SENSITIVE_PARAMETERS
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(&name));
                let value = if secret {
                    REDACTED.to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // `[redacted]` is percent-encoded in a query; show it as written.
    shown.to_string().replace("%5Bredacted%5D", REDACTED)
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

    #[test]
    fn fragments_of_a_secret_are_redacted_wherever_the_text_was_cut() {
        let r = Redactor::default();
        let token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIrMzQ2MDAwMDAwMDEifQ.c2lnbmF0dXJlLWJ5dGVz";
        r.register_str(token);
        // A message quoting the first characters of an echo, cut with an ellipsis.
        let cut = format!("found \"{}…\"", &token[..40]);
        let shown = r.redact(&cut);
        assert_eq!(shown, "found \"[redacted]…\"");
        // A window from the middle, in UTF-8 text around it.
        let middle = format!("é→{}←é", &token[20..52]);
        assert_eq!(r.redact(&middle), "é→[redacted]←é");
        // Fewer than 16 characters in a row of a secret stay (they would match unrelated text).
        let short = &token[..15];
        assert_eq!(r.redact(short), short);
    }

    #[test]
    fn escaped_forms_of_a_secret_are_redacted() {
        let r = Redactor::default();
        let pem = "-----BEGIN KEY-----\nMHcCAQEEIIr\"quoted&<x>\n-----END KEY-----";
        r.register_str(pem);
        let json = serde_json::Value::String(pem.to_owned()).to_string();
        assert_eq!(r.redact(&json), "\"[redacted]\"");
        let form: String = url::form_urlencoded::byte_serialize(pem.as_bytes()).collect();
        assert_eq!(
            r.redact(&format!("client_secret2={form}")),
            "client_secret2=[redacted]"
        );
    }

    #[test]
    fn sensitive_query_values_are_redacted_even_unregistered() {
        let text = "GET http://op/authorize?response_type=code&client_id=demo&request=eyJ.x.y&login_hint=tel%3A%2B34&state=abc \
                    body grant_type=authorization_code&code=c0de&code_verifier=v3r and error_code=E1 xcode=k";
        assert_eq!(
            redact_query_values(text),
            "GET http://op/authorize?response_type=code&client_id=demo&request=[redacted]&login_hint=[redacted]&state=abc \
                    body grant_type=authorization_code&code=[redacted]&code_verifier=[redacted] and error_code=E1 xcode=k"
        );
        assert_eq!(redact_query_values("code=[redacted]"), "code=[redacted]");
    }

    #[test]
    fn shown_urls_keep_names_and_harmless_values() {
        let url = url::Url::parse(
            "https://user:pw@op.example/authorize?client_id=demo&request=eyJ.a.b&CODE=x&state=s1#frag",
        )
        .unwrap();
        assert_eq!(
            shown_url(&url),
            "https://op.example/authorize?client_id=demo&request=[redacted]&CODE=[redacted]&state=s1#[redacted]"
        );
        let plain = url::Url::parse("https://op.example/token").unwrap();
        assert_eq!(shown_url(&plain), "https://op.example/token");
    }
}
