//! The transactions: thin wrappers over [`crate::flow`], one per protocol step. Each records
//! exactly one request under its step in the run's [`Recorder`] (timed around the step's HTTP
//! work only), so the summary counts what the provider was asked; a step that cannot run after
//! an earlier failure of its iteration is counted as skipped, never as a failure. Obtaining a
//! reusable token (verify and share scenarios) records its device leg and code exchange under
//! `authorize` and `token`.
//!
//! The API calls (`verify`, `share`) are the hot path: their URL, body and `Authorization` header
//! are built once, a request is assembled from them per call (no URL parsing, no JSON encoding),
//! sent on the flow's one shared client, and not recorded as an [`crate::exchange::Exchange`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use goose::goose::{GooseUser, TransactionResult};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, StatusCode};
use http_body_util::Full;

use super::record::Recorder;
use super::scenarios::{ScenarioKind, Step};
use super::sender::ApiSender;
use crate::flow::{AuthorizeRequest, Device, Flow, FlowError, Login, TokenResponse};
use crate::secret::Secret;

/// Where the API steps get their tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tokens {
    /// No API step: the token step's token is dropped (token-exchange).
    Discarded,
    /// One token per user, reused until shortly before it expires or the provider refuses it.
    Reused,
    /// The iteration's own token step supplies it; `single_use`: the API step consumes it.
    PerIteration {
        /// The provider accepts a token once: take it, do not keep it.
        single_use: bool,
    },
}

/// An API call prepared once: only the `Authorization` header changes between calls.
#[derive(Debug)]
pub(crate) struct ApiCall {
    pub method: Method,
    /// Where it goes (for messages: without query).
    pub url: url::Url,
    /// The same, parsed once for hyper.
    pub uri: http::Uri,
    /// JSON body, sent with `Content-Type: application/json`.
    pub body: Option<bytes::Bytes>,
}

/// `User-Agent` of the API calls (the flow's clients send the same).
const USER_AGENT_VALUE: &str = concat!("nvcert/", env!("CARGO_PKG_VERSION"));

impl ApiCall {
    fn request(&self, authorization: HeaderValue) -> http::Request<Full<bytes::Bytes>> {
        // `Bytes` clones share the buffer: no copy per call.
        let body = self.body.clone().unwrap_or_default();
        let mut request = http::Request::new(Full::new(body));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, authorization);
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        if self.body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        request
    }
}

/// What every user of a run shares (read-only, but for the recorder).
#[derive(Debug)]
pub(crate) struct LoadContext {
    pub kind: ScenarioKind,
    /// The steps one iteration runs.
    pub steps: &'static [Step],
    pub flow: Arc<Flow>,
    /// Scopes of every token this run obtains.
    pub scopes: Vec<String>,
    pub tokens: Tokens,
    pub verify: Option<ApiCall>,
    /// Through an aggregator: each line's verify call (its own number), users taking the lines
    /// in turn; empty otherwise.
    pub verify_per_line: Vec<ApiCall>,
    pub share: Option<ApiCall>,
    pub recorder: Recorder,
    /// The API calls' client.
    pub sender: ApiSender,
}

/// A token ready for the wire.
#[derive(Clone)]
struct HeldToken {
    /// `Bearer …`, marked sensitive (hyper keeps it out of its debug output and HPACK tables).
    authorization: HeaderValue,
    /// When to obtain a new one (reused tokens only; `None`: until the provider refuses it).
    renew_at: Option<Instant>,
}

impl HeldToken {
    fn new(token: &Secret, renew_at: Option<Instant>) -> Result<Self, Failure> {
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", token.expose()))
            .map_err(|_| Failure::message("the access token is not a valid HTTP header value"))?;
        authorization.set_sensitive(true);
        Ok(Self {
            authorization,
            renew_at,
        })
    }
}

/// Per-user state (goose session data).
#[derive(Clone, Default)]
struct UserState {
    /// The user's recorder slot, from its first transaction on.
    slot: Option<usize>,
    /// The device leg's request and code, waiting for the token step.
    pending: Option<(AuthorizeRequest, Secret)>,
    /// The token the API steps use.
    token: Option<HeldToken>,
    /// A PhoneCheck user's state (goose keeps one session value per user).
    phonecheck: super::phonecheck::PhoneCheckUser,
}

/// The PhoneCheck part of `user`'s state.
pub(super) fn phonecheck_state(user: &mut GooseUser) -> &mut super::phonecheck::PhoneCheckUser {
    &mut state(user).phonecheck
}

fn state(user: &mut GooseUser) -> &mut UserState {
    if user.get_session_data::<UserState>().is_none() {
        user.set_session_data(UserState::default());
    }
    user.get_session_data_unchecked_mut::<UserState>()
}

/// Why a step failed, as recorded.
struct Failure {
    /// The provider's HTTP status, when it answered.
    status: Option<u16>,
    message: String,
}

impl Failure {
    fn message(message: impl Into<String>) -> Self {
        Self {
            status: None,
            message: message.into(),
        }
    }

    fn with_status(self, status: Option<u16>) -> Self {
        Self {
            status: self.status.or(status),
            ..self
        }
    }
}

impl From<FlowError> for Failure {
    fn from(e: FlowError) -> Self {
        // FlowError messages carry no secret (no query strings, no tokens): safe for reports.
        Self::message(e.to_string())
    }
}

/// Runs `step` for `user`. Always `Ok` for goose: nvcert records outcomes itself (goose's
/// metrics are off), so a step not run after an earlier failure is counted once, as skipped.
pub(crate) async fn run(ctx: &LoadContext, step: Step, user: &mut GooseUser) -> TransactionResult {
    let (slot, first) = match state(user).slot {
        Some(slot) => (slot, false),
        None => {
            let slot = ctx.recorder.user_started();
            state(user).slot = Some(slot);
            (slot, true)
        }
    };
    match step {
        Step::Authorize => authorize(ctx, user, slot).await,
        Step::Token => token(ctx, user, slot).await,
        Step::Verify => {
            let per_line = match ctx.verify_per_line.len() {
                0 => None,
                lines => ctx.verify_per_line.get(slot % lines),
            };
            call(ctx, user, slot, step, per_line.or(ctx.verify.as_ref())).await;
        }
        Step::Share => call(ctx, user, slot, step, ctx.share.as_ref()).await,
        Step::CreateCheck | Step::CheckUrl | Step::ReadCheck => {
            super::phonecheck::run(ctx, step, user, slot).await;
        }
    }
    if first {
        ctx.recorder.user_running();
    }
    Ok(())
}

/// Records one request of `step`; returns the success value, `None` after a failure.
fn record<T>(
    ctx: &LoadContext,
    slot: usize,
    step: Step,
    elapsed: Duration,
    outcome: Result<(T, Option<u16>), Failure>,
) -> Option<T> {
    match outcome {
        Ok((value, status)) => {
            ctx.recorder.request(slot, step, elapsed, None, status);
            Some(value)
        }
        Err(failure) => {
            ctx.recorder
                .request(slot, step, elapsed, Some(&failure.message), failure.status);
            None
        }
    }
}

/// The device leg: authorize → redirect with the code. The status recorded is the provider's
/// last answer (the redirect carrying the code, or the one it stopped at).
async fn device_leg(ctx: &LoadContext, slot: usize) -> Option<(AuthorizeRequest, Secret)> {
    let mut request = ctx.flow.authorize_request(&ctx.scopes, Login::Network);
    // Through an aggregator, users take the lines in turn: each line's device, its operator.
    if !ctx.verify_per_line.is_empty() {
        request.device = Device::AggregatorLine(slot % ctx.verify_per_line.len());
    }
    let started = Instant::now();
    let authorized = ctx.flow.authorize(&request).await;
    let elapsed = started.elapsed();
    let outcome = match authorized {
        Ok(outcome) => {
            let status = outcome.exchanges.last().map(|e| e.response.status.as_u16());
            match outcome.code_to_continue(&request) {
                Ok(code) => Ok(((request, code), status)),
                Err(e) => Err(Failure::from(e).with_status(status)),
            }
        }
        Err(e) => Err(Failure::from(e)),
    };
    record(ctx, slot, Step::Authorize, elapsed, outcome)
}

/// The code exchange with the profile's client authentication (private_key_jwt: one ES256
/// signature per call).
async fn code_exchange(
    ctx: &LoadContext,
    slot: usize,
    request: &AuthorizeRequest,
    code: &Secret,
) -> Option<TokenResponse> {
    let started = Instant::now();
    let sent = ctx.flow.request_token(code, request).await;
    let elapsed = started.elapsed();
    let outcome = match sent {
        Ok(exchange) => {
            let status = Some(exchange.response.status.as_u16());
            ctx.flow
                .parse_token_response(&exchange)
                .map(|response| (response, status))
                .map_err(|e| Failure::from(e).with_status(status))
        }
        Err(e) => Err(Failure::from(e)),
    };
    record(ctx, slot, Step::Token, elapsed, outcome)
}

/// The authorize step of an iteration (a new iteration starts here: nothing from the previous
/// one may leak into it; journey: one fresh token per journey).
async fn authorize(ctx: &LoadContext, user: &mut GooseUser, slot: usize) {
    let st = state(user);
    st.pending = None;
    st.token = None;
    if let Some(pending) = device_leg(ctx, slot).await {
        state(user).pending = Some(pending);
    }
}

/// The token step of an iteration.
async fn token(ctx: &LoadContext, user: &mut GooseUser, slot: usize) {
    let Some((request, code)) = state(user).pending.take() else {
        ctx.recorder.skipped(slot, Step::Token);
        return;
    };
    let Some(response) = code_exchange(ctx, slot, &request, &code).await else {
        return;
    };
    if let Tokens::PerIteration { .. } = ctx.tokens {
        match HeldToken::new(&response.access_token, None) {
            Ok(held) => state(user).token = Some(held),
            // Recorded as the token step's failure: the answer carried an unusable token.
            Err(failure) => {
                ctx.recorder.request(
                    slot,
                    Step::Token,
                    Duration::ZERO,
                    Some(&failure.message),
                    None,
                );
            }
        }
    }
}

/// An NV API call with the user's token.
async fn call(
    ctx: &LoadContext,
    user: &mut GooseUser,
    slot: usize,
    step: Step,
    api: Option<&ApiCall>,
) {
    // `prepare` builds the call of every API step a scenario has.
    let Some(api) = api else {
        ctx.recorder.skipped(slot, step);
        return;
    };
    let authorization = match ctx.tokens {
        Tokens::Reused => match reused_token(ctx, user, slot).await {
            Some(value) => value,
            // The failure is counted under the step that failed to give a token.
            None => {
                ctx.recorder.skipped(slot, step);
                return;
            }
        },
        Tokens::PerIteration { single_use } => {
            let st = state(user);
            let token = if single_use {
                st.token.take()
            } else {
                st.token.clone()
            };
            match token {
                Some(t) => t.authorization,
                None => {
                    ctx.recorder.skipped(slot, step);
                    return;
                }
            }
        }
        Tokens::Discarded => {
            ctx.recorder.skipped(slot, step);
            return;
        }
    };
    let request = api.request(authorization);
    let started = Instant::now();
    let sent = ctx.sender.send(request).await;
    let elapsed = started.elapsed();
    let outcome = match sent {
        Ok(StatusCode::OK) => Ok(((), Some(200))),
        Ok(status) => {
            if status == StatusCode::UNAUTHORIZED && ctx.tokens == Tokens::Reused {
                // Expired early, revoked, or single-use after all: the next call obtains another.
                state(user).token = None;
            }
            Err(Failure {
                status: Some(status.as_u16()),
                message: format!("{}: expected HTTP 200, found HTTP {status}", step.name()),
            })
        }
        Err(message) => Err(Failure::from(FlowError::Transport {
            step: step.name(),
            url: crate::flow::http::without_query(&api.url),
            message,
        })),
    };
    record(ctx, slot, step, elapsed, outcome);
}

/// The user's reusable token, obtained when there is none or it is about to expire: through the
/// device leg and the code exchange (each recorded as its own transaction, failures included),
/// or from the profile's token source (a failed read is recorded as a failed `token` request
/// without status). `None`: no token, the failure recorded.
async fn reused_token(ctx: &LoadContext, user: &mut GooseUser, slot: usize) -> Option<HeaderValue> {
    let now = Instant::now();
    if let Some(held) = &state(user).token
        && held.renew_at.is_none_or(|at| now < at)
    {
        return Some(held.authorization.clone());
    }
    let (token, expires_in) = if ctx.flow.profile().device_leg.is_some() {
        let (request, code) = device_leg(ctx, slot).await?;
        let response = code_exchange(ctx, slot, &request, &code).await?;
        (response.access_token, response.expires_in)
    } else {
        let started = Instant::now();
        let obtained = ctx.flow.obtain_token(&ctx.scopes, Login::Network).await;
        let elapsed = started.elapsed();
        let outcome = obtained
            .map(|o| {
                let expires_in = o.response.as_ref().and_then(|r| r.expires_in);
                ((o.access_token, expires_in), None)
            })
            .map_err(|e| Failure::message(format!("token source: {e}")));
        record(ctx, slot, Step::Token, elapsed, outcome)?
    };
    let renew_at = expires_in.map(|secs| now + renew_after(secs));
    match HeldToken::new(&token, renew_at) {
        Ok(held) => {
            let value = held.authorization.clone();
            state(user).token = Some(held);
            Some(value)
        }
        Err(failure) => {
            ctx.recorder.request(
                slot,
                Step::Token,
                Duration::ZERO,
                Some(&failure.message),
                None,
            );
            None
        }
    }
}

/// When to replace a token that lives `expires_in` seconds: a tenth early (at least a second),
/// so no call carries a token that expires on its way to the provider.
fn renew_after(expires_in: i64) -> Duration {
    let secs = u64::try_from(expires_in).unwrap_or(0);
    Duration::from_secs(secs.saturating_sub((secs / 10).max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_a_tenth_early() {
        assert_eq!(renew_after(300), Duration::from_secs(270));
        assert_eq!(renew_after(5), Duration::from_secs(4));
        assert_eq!(renew_after(1), Duration::ZERO);
        assert_eq!(renew_after(-3), Duration::ZERO);
    }

    #[test]
    fn prepared_calls_carry_the_token_and_body_without_reencoding() {
        let url = url::Url::parse("http://127.0.0.1:1/number-verification/v2/verify").unwrap();
        let call = ApiCall {
            method: Method::POST,
            uri: url.as_str().parse().unwrap(),
            url,
            body: Some(bytes::Bytes::from_static(
                br#"{"phoneNumber":"+34600000001"}"#,
            )),
        };
        let held = HeldToken::new(&Secret::new("abc.def.ghi"), None)
            .ok()
            .unwrap();
        let req = call.request(held.authorization);
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri().path(), "/number-verification/v2/verify");
        assert_eq!(req.headers()[AUTHORIZATION], "Bearer abc.def.ghi");
        assert!(req.headers()[AUTHORIZATION].is_sensitive());
        assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
        assert!(
            req.headers()[USER_AGENT]
                .to_str()
                .unwrap()
                .starts_with("nvcert/")
        );
        let body = futures::executor::block_on(http_body_util::BodyExt::collect(req.into_body()))
            .unwrap()
            .to_bytes();
        assert_eq!(&body[..], br#"{"phoneNumber":"+34600000001"}"#);
    }
}
