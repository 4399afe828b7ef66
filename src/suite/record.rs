//! Each scenario's HTTP exchanges, recorded as its steps send them: redacted (then cut) at the
//! end of every step, kept per scenario until the collector reads them, and told to the run's
//! observer as they happen (`nvcert run -v`).
//!
//! The flows know nothing of scenarios: a step runs inside [`exchange::observed`] with its
//! scenario's [`ScenarioRecorder`], and the flows' HTTP layer tells whatever observer is in scope.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use http::HeaderMap;

use super::live::{LiveExchange, RunObserver};
use super::world::ScenarioKey;
use crate::exchange::{self, Exchange, ExchangeObserver, RecordedRequest};
use crate::results::{BodyRecord, ExchangeRecord, HeaderRecord};
use crate::secret::{REDACTED, RedactionSnapshot, Redactor};

/// Exchanges of every scenario of a run, by scenario, in the order sent, each naming the step
/// that sent it. Filled by the recorders, drained by the collector.
pub type ExchangeStore = Arc<Mutex<HashMap<ScenarioKey, Vec<ExchangeRecord>>>>;

/// What one step sent, before it is redacted.
enum Raw {
    Answered(&'static str, Exchange),
    Failed(&'static str, RecordedRequest, Duration, String),
}

/// One scenario's recorder: knows its running step, holds the exchanges of that step, and
/// moves them, redacted, to the run's [`ExchangeStore`] when the step ends.
pub struct ScenarioRecorder {
    store: ExchangeStore,
    key: ScenarioKey,
    redactor: Redactor,
    observer: Option<Arc<dyn RunObserver>>,
    step: Mutex<String>,
    pending: Mutex<Vec<Raw>>,
}

impl std::fmt::Debug for ScenarioRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScenarioRecorder")
            .field("scenario", &self.key.1)
            .field("step", &*lock(&self.step))
            .finish_non_exhaustive()
    }
}

impl ScenarioRecorder {
    /// The recorder of scenario `key`, redacting with `redactor`, telling `observer` of each
    /// exchange.
    pub fn new(
        store: ExchangeStore,
        key: ScenarioKey,
        redactor: Redactor,
        observer: Option<Arc<dyn RunObserver>>,
    ) -> Self {
        Self {
            store,
            key,
            redactor,
            observer,
            step: Mutex::default(),
            pending: Mutex::default(),
        }
    }

    /// `step` starts: what it sends is recorded under its text.
    pub fn begin_step(&self, step: &cucumber::gherkin::Step) {
        *lock(&self.step) = format!("{}{}", step.keyword, step.value);
    }

    /// The running step ends: its exchanges are redacted now (the secrets it met, such as the
    /// token an answer carried, are known by then), cut, and stored.
    pub fn end_step(&self) {
        let raw = std::mem::take(&mut *lock(&self.pending));
        if raw.is_empty() {
            return;
        }
        let step = lock(&self.step).clone();
        let secrets = self.redactor.snapshot();
        let records: Vec<ExchangeRecord> = raw
            .into_iter()
            .map(|r| ExchangeRecord {
                step: step.clone(),
                ..record(&r, &secrets)
            })
            .collect();
        lock(&self.store)
            .entry(self.key.clone())
            .or_default()
            .extend(records);
    }

    fn tell(&self, method: &http::Method, url: &url::Url, status: Option<u16>, elapsed: Duration) {
        if let Some(observer) = &self.observer {
            observer.exchange(&LiveExchange {
                scenario: &self.key.1,
                method: method.as_str(),
                url: self.redactor.redact(&exchange::shown_url(url)),
                status,
                elapsed,
            });
        }
    }
}

impl ExchangeObserver for ScenarioRecorder {
    fn exchanged(&self, step: &'static str, exchange: &Exchange) {
        self.tell(
            &exchange.request.method,
            &exchange.request.url,
            Some(exchange.response.status.as_u16()),
            exchange.elapsed,
        );
        lock(&self.pending).push(Raw::Answered(step, exchange.clone()));
    }

    fn failed(
        &self,
        step: &'static str,
        request: &RecordedRequest,
        elapsed: Duration,
        error: &str,
    ) {
        self.tell(&request.method, &request.url, None, elapsed);
        lock(&self.pending).push(Raw::Failed(
            step,
            request.clone(),
            elapsed,
            error.to_owned(),
        ));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned list is still a valid list.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Headers whose value is a credential: whatever the redactor knows, only the scheme is kept.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "dpop",
];

/// JWTs (compact JWS): assertions, request objects, ID and access tokens. Evidence never needs
/// their value, and a forged or foreign one is not in the redactor's set.
static JWT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*").expect("JWT pattern")
});

/// Parameters and JSON properties whose value is a secret whether or not the redactor knows it
/// (a PKCE verifier, a code the flow never read, a provider echoing a client secret).
const SECRET_NAMES: &[&str] = &[
    "code",
    "code_verifier",
    "client_secret",
    "client_assertion",
    "assertion",
    "access_token",
    "refresh_token",
    "id_token",
    "auth_req_id",
    "login_hint_token",
    "test_otp",
    "password",
];

static SECRET_JSON: LazyLock<regex::Regex> = LazyLock::new(|| {
    let names = SECRET_NAMES.join("|");
    regex::Regex::new(&format!(r#""({names})"(\s*:\s*)"[^"]*""#)).expect("JSON secret pattern")
});

/// `name=value&…` pairs with the value of every [`SECRET_NAMES`] parameter redacted.
fn redact_pairs(pairs: &str) -> String {
    pairs
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() && SECRET_NAMES.contains(&name) => {
                format!("{name}={REDACTED}")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A URL (or any text with a `?query`) with secret parameters redacted.
fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) => {
            let (query, fragment) = match query.split_once('#') {
                Some((q, f)) => (q, Some(f)),
                None => (query, None),
            };
            let mut out = format!("{base}?{}", redact_pairs(query));
            if let Some(f) = fragment {
                out.push('#');
                out.push_str(&redact_pairs(f));
            }
            out
        }
        None => url.to_owned(),
    }
}

/// `text` with every known secret, every JWT and every secret-named JSON property replaced by
/// `[redacted]`.
fn redact(text: &str, redactor: &RedactionSnapshot) -> String {
    // JWTs first, whole: the known-secret pass replaces 16-byte fragments, which would leave
    // pieces of a token the JWT pattern no longer recognizes.
    let jwts = JWT.replace_all(text, REDACTED);
    let known = redactor.redact(&jwts);
    SECRET_JSON
        .replace_all(&known, |c: &regex::Captures<'_>| {
            format!("\"{}\"{}\"{REDACTED}\"", &c[1], &c[2])
        })
        .into_owned()
}

fn headers(map: &HeaderMap, redactor: &RedactionSnapshot) -> Vec<HeaderRecord> {
    map.iter()
        .map(|(name, value)| {
            let text = String::from_utf8_lossy(value.as_bytes());
            let value = if CREDENTIAL_HEADERS.contains(&name.as_str()) {
                // Keep the scheme ("Bearer", "Basic", "DPoP"): it says what was sent.
                match text.split_once(' ') {
                    Some((scheme, _)) if !scheme.contains('=') => format!("{scheme} {REDACTED}"),
                    _ => REDACTED.to_owned(),
                }
            } else if name == http::header::LOCATION {
                redact_query(&redact(&text, redactor))
            } else {
                redact(&text, redactor)
            };
            HeaderRecord {
                name: name.as_str().to_owned(),
                value,
            }
        })
        .collect()
}

/// Redacted first, then cut: a secret straddling the cut would otherwise survive in part.
fn body(bytes: &[u8], form: bool, redactor: &RedactionSnapshot) -> BodyRecord {
    let mut text = redact(&String::from_utf8_lossy(bytes), redactor);
    if form {
        text = redact_pairs(&text);
    }
    BodyRecord::cut(text, bytes.len())
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn request_parts(
    request: &RecordedRequest,
    redactor: &RedactionSnapshot,
) -> (String, Vec<HeaderRecord>, Option<BodyRecord>) {
    let url = redact_query(&redact(request.url.as_str(), redactor));
    let form = is_form(&request.headers);
    (
        url,
        headers(&request.headers, redactor),
        request.body.as_deref().map(|b| body(b, form, redactor)),
    )
}

fn record(raw: &Raw, redactor: &RedactionSnapshot) -> ExchangeRecord {
    let millis = |d: Duration| (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    match raw {
        Raw::Answered(purpose, e) => {
            let (url, request_headers, request_body) = request_parts(&e.request, redactor);
            ExchangeRecord {
                step: String::new(),
                purpose: (*purpose).to_owned(),
                method: e.request.method.as_str().to_owned(),
                url,
                request_headers,
                request_body,
                status: Some(e.response.status.as_u16()),
                response_headers: headers(&e.response.headers, redactor),
                response_body: Some(body(
                    &e.response.body,
                    is_form(&e.response.headers),
                    redactor,
                )),
                duration_ms: millis(e.elapsed),
                error: None,
            }
        }
        Raw::Failed(purpose, request, elapsed, error) => {
            let (url, request_headers, request_body) = request_parts(request, redactor);
            ExchangeRecord {
                step: String::new(),
                purpose: (*purpose).to_owned(),
                method: request.method.as_str().to_owned(),
                url,
                request_headers,
                request_body,
                status: None,
                response_headers: Vec::new(),
                response_body: None,
                duration_ms: millis(*elapsed),
                error: Some(redact(error, redactor)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderValue, Method};

    use super::*;
    use crate::exchange::testing::answer;

    fn step(text: &str) -> cucumber::gherkin::Step {
        cucumber::gherkin::Step {
            keyword: "When ".into(),
            ty: cucumber::gherkin::StepType::When,
            value: text.into(),
            docstring: None,
            table: None,
            span: Default::default(),
            position: Default::default(),
        }
    }

    fn recorder() -> (ExchangeStore, ScenarioRecorder, Redactor) {
        let store = ExchangeStore::default();
        let redactor = Redactor::default();
        let key: ScenarioKey = (None, "s".into(), 1);
        let rec = ScenarioRecorder::new(store.clone(), key, redactor.clone(), None);
        (store, rec, redactor)
    }

    #[test]
    fn a_secret_learnt_during_the_step_is_redacted_and_bodies_are_cut_after_redaction() {
        let (store, rec, redactor) = recorder();
        rec.begin_step(&step("the token is asked for"));
        // A body of 64 KiB minus 5 bytes, then a secret straddling the limit: cut first, its
        // first half would survive; redacted first, none of it does.
        let secret = "straddling-secret-value-0123456789";
        let body = format!("{}{secret}", "a".repeat(64 * 1024 - 5));
        let mut e = answer("https://op.example/token", 200, &[], &body);
        e.request.method = Method::POST;
        e.request.headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("Bearer some-unregistered-token"),
        );
        rec.exchanged("token endpoint", &e);
        redactor.register_str(secret);
        rec.end_step();
        let stored = store
            .lock()
            .unwrap()
            .remove(&(None, "s".into(), 1))
            .unwrap();
        let record = &stored[0];
        assert_eq!(record.step, "When the token is asked for");
        let body = record.response_body.as_ref().unwrap();
        assert!(
            !body.text.contains("strad"),
            "a prefix of the secret was kept"
        );
        assert!(body.truncated && body.text.ends_with("[reda"));
        assert_eq!(body.size, 64 * 1024 - 5 + secret.len());
        assert_eq!(
            record.request_header("authorization"),
            Some("Bearer [redacted]")
        );
    }

    #[test]
    fn secret_parameters_are_redacted_by_name() {
        assert_eq!(
            redact_pairs("grant_type=authorization_code&code=abc&code_verifier=xyz&client_id=c"),
            "grant_type=authorization_code&code=[redacted]&code_verifier=[redacted]&client_id=c"
        );
        assert_eq!(
            redact_query("https://cb.example/cb?code=abc&state=s#access_token=t"),
            "https://cb.example/cb?code=[redacted]&state=s#access_token=[redacted]"
        );
        let r = Redactor::default().snapshot();
        assert_eq!(
            redact(r#"{"refresh_token": "r1", "scope":"openid"}"#, &r),
            r#"{"refresh_token": "[redacted]", "scope":"openid"}"#
        );
    }

    #[test]
    fn jwts_and_transport_failures_are_recorded_redacted() {
        let (store, rec, _) = recorder();
        rec.begin_step(&step("one"));
        rec.begin_step(&step("two"));
        let e = answer(
            "https://op.example/x",
            200,
            &[],
            r#"{"id_token":"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}"#,
        );
        rec.exchanged("token endpoint", &e);
        rec.failed("NV API", &e.request, Duration::from_millis(5), "timed out");
        rec.end_step();
        let stored = store
            .lock()
            .unwrap()
            .remove(&(None, "s".into(), 1))
            .unwrap();
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[0].step, "When two");
        let text = &stored[0].response_body.as_ref().unwrap().text;
        assert_eq!(text, r#"{"id_token":"[redacted]"}"#);
        assert_eq!(stored[1].status, None);
        assert_eq!(stored[1].error.as_deref(), Some("timed out"));
    }
}
