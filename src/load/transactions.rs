//! The transactions: thin wrappers over [`crate::flow`], one per protocol step. Each records
//! exactly one goose request named as its step (timed around the step's HTTP work only), so the
//! summary counts what the provider was asked, and returns an error goose counts as a failed
//! transaction.
//!
//! The API calls (`verify`, `share`) are the hot path: their URL, body and `Authorization` header
//! are built once, a request is assembled from them per call (no URL parsing, no JSON encoding),
//! sent on the flow's one shared client, and not recorded as an [`crate::exchange::Exchange`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use goose::goose::{GooseUser, TransactionError, TransactionResult};
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};

use super::scenarios::{ScenarioKind, Step};
use crate::flow::{AuthorizeRequest, Flow, FlowError, Login};
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
    pub url: url::Url,
    /// JSON body, sent with `Content-Type: application/json`.
    pub body: Option<bytes::Bytes>,
}

impl ApiCall {
    fn request(&self, authorization: HeaderValue) -> reqwest::Request {
        let mut request = reqwest::Request::new(self.method.clone(), self.url.clone());
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, authorization);
        if let Some(body) = &self.body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            // `Bytes` clones share the buffer: no copy per call.
            *request.body_mut() = Some(reqwest::Body::from(body.clone()));
        }
        request
    }
}

/// What every user of a run shares (read-only).
#[derive(Debug)]
pub(crate) struct LoadContext {
    pub kind: ScenarioKind,
    pub steps: &'static [Step],
    pub flow: Arc<Flow>,
    /// Scopes of every token this run obtains.
    pub scopes: Vec<String>,
    pub tokens: Tokens,
    pub verify: Option<ApiCall>,
    pub share: Option<ApiCall>,
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
    /// The device leg's request and code, waiting for the token step.
    pending: Option<(AuthorizeRequest, Secret)>,
    /// The token the API steps use.
    token: Option<HeldToken>,
}

fn state(user: &mut GooseUser) -> &mut UserState {
    if user.get_session_data::<UserState>().is_none() {
        user.set_session_data(UserState::default());
    }
    user.get_session_data_unchecked_mut::<UserState>()
}

/// Why a step failed, as goose records it.
struct Failure {
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
}

impl From<FlowError> for Failure {
    fn from(e: FlowError) -> Self {
        // FlowError messages carry no secret (no query strings, no tokens): safe for reports.
        Self::message(e.to_string())
    }
}

/// Runs `step` for `user`.
pub(crate) async fn run(ctx: &LoadContext, step: Step, user: &mut GooseUser) -> TransactionResult {
    match step {
        Step::Authorize => authorize(ctx, user).await,
        Step::Token => token(ctx, user).await,
        Step::Verify => call(ctx, user, step, ctx.verify.as_ref()).await,
        Step::Share => call(ctx, user, step, ctx.share.as_ref()).await,
        // PhoneCheck steps run in their own scenario (`load::phonecheck`).
        Step::CreateCheck | Step::CheckUrl | Step::ReadCheck => Err(Box::new(
            TransactionError::Custom(format!("{} is not an NV step", step.name())),
        )),
    }
}

/// Records one request for `step` and turns a failure into the transaction's error.
async fn record(
    user: &mut GooseUser,
    step: Step,
    elapsed: Duration,
    outcome: Result<u16, Failure>,
) -> TransactionResult {
    match outcome {
        Ok(status) => {
            user.record_custom_request_duration(
                step.method(),
                step.name(),
                elapsed,
                true,
                Some(status),
                None,
            )
            .await
        }
        Err(failure) => {
            user.record_custom_request_duration(
                step.method(),
                step.name(),
                elapsed,
                false,
                failure.status,
                Some(&failure.message),
            )
            .await?;
            Err(Box::new(TransactionError::Custom(failure.message)))
        }
    }
}

/// A step that cannot run because an earlier step of the iteration failed. It sends nothing and
/// records no request (the earlier step's failure is already counted); goose counts the
/// transaction as failed with this reason.
fn not_run(step: Step, because: Step) -> TransactionResult {
    Err(Box::new(TransactionError::Custom(format!(
        "{} not run: the {} step of this iteration failed",
        step.name(),
        because.name()
    ))))
}

/// The device leg: authorize → redirect with the code (the code waits for the token step).
async fn authorize(ctx: &LoadContext, user: &mut GooseUser) -> TransactionResult {
    // A new iteration starts here: nothing from the previous one may leak into it (journey: one
    // fresh token per journey).
    let st = state(user);
    st.pending = None;
    st.token = None;
    let request = ctx.flow.authorize_request(&ctx.scopes, Login::Network);
    let started = Instant::now();
    let outcome = match ctx.flow.authorize(&request).await {
        Ok(outcome) => outcome.code_to_continue(&request).map(|code| {
            let status = outcome.exchanges.last().map(|e| e.response.status);
            (code, status)
        }),
        Err(e) => Err(e),
    };
    let elapsed = started.elapsed();
    let outcome = match outcome {
        Ok((code, status)) => {
            state(user).pending = Some((request, code));
            Ok(status.map_or(0, |s| s.as_u16()))
        }
        Err(e) => Err(Failure::from(e)),
    };
    record(user, Step::Authorize, elapsed, outcome).await
}

/// The code exchange with the profile's client authentication (private_key_jwt: one ES256
/// signature per call).
async fn token(ctx: &LoadContext, user: &mut GooseUser) -> TransactionResult {
    let Some((request, code)) = state(user).pending.take() else {
        return not_run(Step::Token, Step::Authorize);
    };
    let started = Instant::now();
    let exchanged = ctx.flow.exchange_code(&code, &request).await;
    let elapsed = started.elapsed();
    let outcome = match exchanged {
        Ok((response, exchange)) => {
            let kept = match ctx.tokens {
                Tokens::PerIteration { .. } => {
                    HeldToken::new(&response.access_token, None).map(Some)
                }
                Tokens::Discarded | Tokens::Reused => Ok(None),
            };
            kept.map(|held| {
                state(user).token = held;
                exchange.response.status.as_u16()
            })
        }
        Err(e) => Err(Failure::from(e)),
    };
    record(user, Step::Token, elapsed, outcome).await
}

/// An NV API call with the user's token.
async fn call(
    ctx: &LoadContext,
    user: &mut GooseUser,
    step: Step,
    api: Option<&ApiCall>,
) -> TransactionResult {
    let Some(api) = api else {
        // `prepare` builds the call of every API step a scenario has; this is a bug, not load.
        return Err(Box::new(TransactionError::Custom(format!(
            "{} is not prepared for this scenario",
            step.name()
        ))));
    };
    let authorization = match ctx.tokens {
        Tokens::Reused => match reused_token(ctx, user).await {
            Ok(value) => value,
            Err((elapsed, failure)) => return record(user, step, elapsed, Err(failure)).await,
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
                None => return not_run(step, Step::Token),
            }
        }
        Tokens::Discarded => return not_run(step, Step::Token),
    };
    let request = api.request(authorization);
    let started = Instant::now();
    let sent = ctx.flow.send_unrecorded(request, step.name()).await;
    let elapsed = started.elapsed();
    let outcome = match sent {
        Ok(answer) if answer.status == StatusCode::OK => Ok(200),
        Ok(answer) => {
            if answer.status == StatusCode::UNAUTHORIZED && ctx.tokens == Tokens::Reused {
                // Expired early, revoked, or single-use after all: the next call obtains another.
                state(user).token = None;
            }
            Err(Failure {
                status: Some(answer.status.as_u16()),
                message: format!(
                    "{}: expected HTTP 200, found HTTP {}",
                    step.name(),
                    answer.status
                ),
            })
        }
        Err(e) => Err(Failure::from(e)),
    };
    record(user, step, elapsed, outcome).await
}

/// The user's reusable token, obtained (device leg + token exchange, or the profile's token
/// source) when there is none or it is about to expire. Obtaining it is set-up, not load: it is
/// not recorded as requests. A failure is reported with the time spent trying.
async fn reused_token(
    ctx: &LoadContext,
    user: &mut GooseUser,
) -> Result<HeaderValue, (Duration, Failure)> {
    let now = Instant::now();
    if let Some(held) = &state(user).token
        && held.renew_at.is_none_or(|at| now < at)
    {
        return Ok(held.authorization.clone());
    }
    let obtained = ctx
        .flow
        .obtain_token(&ctx.scopes, Login::Network)
        .await
        .map_err(|e| {
            (
                now.elapsed(),
                Failure::message(format!("obtaining a token: {e}")),
            )
        })?;
    let renew_at = obtained
        .response
        .as_ref()
        .and_then(|r| r.expires_in)
        .map(|secs| now + renew_after(secs));
    let held = HeldToken::new(&obtained.access_token, renew_at).map_err(|f| (now.elapsed(), f))?;
    let value = held.authorization.clone();
    state(user).token = Some(held);
    Ok(value)
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
        let call = ApiCall {
            method: Method::POST,
            url: url::Url::parse("http://127.0.0.1:1/number-verification/v2/verify").unwrap(),
            body: Some(bytes::Bytes::from_static(
                br#"{"phoneNumber":"+34600000001"}"#,
            )),
        };
        let held = HeldToken::new(&Secret::new("abc.def.ghi"), None)
            .ok()
            .unwrap();
        let req = call.request(held.authorization);
        assert_eq!(req.url().path(), "/number-verification/v2/verify");
        assert_eq!(req.headers()[AUTHORIZATION], "Bearer abc.def.ghi");
        assert!(req.headers()[AUTHORIZATION].is_sensitive());
        assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(
            req.body().and_then(|b| b.as_bytes()),
            Some(&br#"{"phoneNumber":"+34600000001"}"#[..])
        );
    }
}
