//! The cucumber World: the request being prepared, the last exchange, and the run's context.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::context::RunContext;
use crate::exchange::Exchange;
use crate::flow::{
    AuthorizeOutcome, AuthorizeRequest, CibaStart, ClientRole, Discovery, FlowError, RequestObject,
    TokenOptions, TokenResponse,
};
use crate::secret::Secret;

/// Why a step did not pass. The three kinds end a scenario differently: a failed check fails it,
/// a step that could not run makes it an error ("could not run" is neither passed nor failed),
/// and a premise the profile cannot meet skips it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepFailure {
    /// A check failed: the provider broke a rule.
    Check(String),
    /// The step could not run to a verdict: transport failure, timeout, an answer too large, or
    /// nvcert's own configuration.
    CouldNotRun(String),
    /// The step cannot run with this profile (a capability it does not declare).
    Skip(String),
}

impl StepFailure {
    /// The message, whatever the kind.
    pub fn message(&self) -> &str {
        match self {
            Self::Check(m) | Self::CouldNotRun(m) | Self::Skip(m) => m,
        }
    }
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl From<FlowError> for StepFailure {
    fn from(e: FlowError) -> Self {
        match e {
            FlowError::Unavailable(reason) => Self::Skip(reason),
            // Pointing the flow at a host that is not the provider's breaks the provider's
            // contract with its clients: a failed check, naming the host.
            FlowError::Provider { .. } | FlowError::Untrusted { .. } => Self::Check(e.to_string()),
            FlowError::Transport { .. } | FlowError::BodyTooLarge { .. } | FlowError::Config(_) => {
                Self::CouldNotRun(e.to_string())
            }
        }
    }
}

impl From<crate::checks::Finding> for StepFailure {
    fn from(finding: crate::checks::Finding) -> Self {
        Self::Check(finding.to_string())
    }
}

/// Result of a step body.
pub type StepResult = Result<(), StepFailure>;

/// What a step returns to cucumber (see the `step!` macro of `steps`).
///
/// Cucumber ends a failed step with `.unwrap_or_else(|e| panic!("{}", e))` on whatever the step
/// returned, which would reduce the failure to text. This type's own `unwrap_or_else` unwinds
/// with the [`StepFailure`] itself as the payload, so the collector reads its kind, not a
/// marker in a string.
#[derive(Debug)]
pub struct StepOutcome(StepResult);

impl From<StepResult> for StepOutcome {
    fn from(result: StepResult) -> Self {
        Self(result)
    }
}

impl StepOutcome {
    /// Returns when the step passed; otherwise unwinds with the typed failure. The text-panicking
    /// handler cucumber passes is deliberately not called.
    pub fn unwrap_or_else<F: FnOnce(StepFailure)>(self, _as_text: F) {
        if let Err(failure) = self.0 {
            // `resume_unwind` skips the panic hook: a failed check is not a crash to print.
            std::panic::resume_unwind(Box::new(failure));
        }
    }
}

/// Shorthand for a failed check.
pub fn fail(message: impl Into<String>) -> StepFailure {
    StepFailure::Check(message.into())
}

/// What the Authorization header will carry; tokens are obtained when the request is sent, since
/// only then is the operation (and so the required scope) known.
#[derive(Debug, Clone, Default)]
pub enum AuthPlan {
    /// A token from the real flow with every NV scope.
    #[default]
    Valid,
    /// No Authorization header.
    Removed,
    /// A token the provider never issued.
    Invalid,
    /// A real token lacking the operation's scope.
    WithoutRequiredScope,
    /// A real token from the provider's non-network login.
    NonNetwork,
    /// A real token whose lifetime has passed (from the profile's short-lived client).
    Expired,
    /// A literal header value.
    Literal(Secret),
}

/// The request body to send.
#[derive(Debug, Clone, Default)]
pub enum BodyPlan {
    /// Nothing said: the operation's default (a valid body for POST /verify, none for GET).
    #[default]
    Default,
    /// No body at all.
    Absent,
    /// This JSON value.
    Json(Value),
    /// These raw bytes (possibly not JSON).
    Raw(String),
}

/// The request being prepared by Given steps.
#[derive(Debug, Clone, Default)]
pub struct PendingRequest {
    /// Base path as written in "the resource … as base url". Informational: requests always
    /// use the spec's base path (the lint reports a difference).
    pub base_path: Option<String>,
    /// Headers other than Authorization, in order.
    pub headers: Vec<(String, String)>,
    /// Authorization plan.
    pub auth: AuthPlan,
    /// Body plan.
    pub body: BodyPlan,
}

/// Per-scenario state, in parts: the NV API call, what a scenario sends without saying so, the
/// OIDC flow, the operator flows. `Debug` prints no secret (cucumber may print the World).
#[derive(Default, cucumber::World)]
pub struct NvWorld {
    /// Set by the run's before-hook.
    pub ctx: Option<Arc<RunContext>>,
    /// The NV API request: being prepared, sent, answered.
    pub api: ApiCall,
    /// What the scenario sends when it does not say `the request "…" is sent`.
    pub implied: ImpliedSend,
    /// The OIDC authorization code flow, step by step.
    pub oidc: OidcFlow,
    /// The operator-token flows (CIBA, JWT bearer).
    pub operator: OperatorFlow,
    /// Where this scenario's warnings go (set by the before-hook).
    pub warnings: Option<ScenarioWarnings>,
    /// Records this scenario's exchanges (set by the before-hook; every step runs inside it).
    pub recorder: Option<Arc<super::record::ScenarioRecorder>>,
    /// The PhoneCheck flow of a scenario (PhoneCheck family only).
    pub phonecheck: PhoneCheckScenario,
    /// The flows of a scenario through an aggregator (`[aggregator]` profiles only).
    pub aggregator: AggregatorScenario,
}

/// The flows of a scenario through an aggregator: one device leg (and token) per line, the
/// operator's code a leg stopped at, the token the scenario's API requests carry.
#[derive(Default)]
pub struct AggregatorScenario {
    /// Each line's device leg, in line order.
    pub legs: Vec<(AuthorizeRequest, AuthorizeOutcome)>,
    /// Each line's aggregator token, in line order (when the scenario obtained them).
    pub tokens: Vec<TokenResponse>,
    /// Each line's operator token, obtained from the operator directly.
    pub operator_tokens: Vec<Secret>,
    /// The token the next API request carries ("that token").
    pub bearer: Option<Secret>,
    /// The last token-endpoint answer.
    pub token_answer: Option<Exchange>,
}

/// The PhoneCheck flow of a scenario: its token, its check, the device leg. The last answer of
/// the API is in [`ApiCall::last`], where the generic response steps read it.
#[derive(Default)]
pub struct PhoneCheckScenario {
    /// The last token request.
    pub token: Option<crate::flow::PhoneCheckToken>,
    /// The access token the scenario's API requests carry (`None`: none).
    pub bearer: Option<Secret>,
    /// The check created in the scenario.
    pub check: Option<crate::checks::phonecheck::CreatedCheck>,
    /// The last device leg.
    pub device_leg: Option<crate::flow::CheckUrlOutcome>,
}

/// The NV API request of a scenario: what Given steps prepare, what was sent, what came back.
#[derive(Default)]
pub struct ApiCall {
    /// The request being prepared.
    pub request: PendingRequest,
    /// The token actually sent in the last request, if any.
    pub sent_token: Option<Secret>,
    /// The last API exchange and its operationId.
    pub last: Option<(String, Exchange)>,
    /// The body property the last CAMARA step set (what "the same phone number" refers to).
    pub last_property: Option<String>,
}

/// What a scenario sends when it names no operation in a `When` (legacy CAMARA definitions,
/// and CAMARA v2.1.0 400.3, which has no `When` at all).
#[derive(Default)]
pub struct ImpliedSend {
    /// The operation the Feature line names (`… - Operation phoneNumberVerify`), set by the
    /// before-hook: what a scenario without a `When` sends before its first response check.
    pub feature_operation: Option<String>,
    /// The resource named by legacy `the resource is "/verify"` (relative to the base path).
    pub resource: Option<String>,
    /// A request described but not sent yet: legacy CAMARA definitions say `When the HTTPS
    /// "POST" request is sent` and go on setting the request up, so the first response check
    /// sends it. The method as written.
    pub pending_method: Option<http::Method>,
    /// The statuses the scenario's response checks expect (set by the before-hook), so a
    /// dialect documenting none of them skips the scenario before sending.
    pub expected_statuses: Vec<u16>,
}

/// The OIDC authorization code flow of a scenario.
#[derive(Default)]
pub struct OidcFlow {
    /// The last discovery fetch.
    pub discovery: Option<(Result<Discovery, String>, Exchange)>,
    /// The last device leg.
    pub authorization: Option<(AuthorizeRequest, AuthorizeOutcome)>,
    /// The last token exchange (also the last CIBA poll).
    pub token: Option<(Result<TokenResponse, String>, Exchange)>,
    /// How the next authorization request deviates from the default.
    pub authz_mods: AuthzMods,
    /// How the next token request deviates from the default.
    pub token_mods: TokenOptions,
    /// The client assertion of the last token request (to replay it).
    pub last_assertion: Option<Secret>,
}

/// The operator-token flows of a scenario (CIBA, JWT bearer).
#[derive(Default)]
pub struct OperatorFlow {
    /// The last CIBA authentication request.
    pub ciba: Option<CibaSent>,
    /// `aud` of the next JWT bearer assertion, when a check changes it.
    pub jwt_bearer_audience: Option<String>,
}

/// A CIBA authentication request as sent, with what it takes to send it again.
pub struct CibaSent {
    /// The request and its answer.
    pub exchange: Exchange,
    /// The answer's `auth_req_id` and `interval`, when it was accepted.
    pub start: Option<CibaStart>,
    /// Just before the request left: no poll answered sooner than `interval` after this can
    /// have reached the provider `interval` after it saw the request.
    pub sent_at: std::time::Instant,
    /// The operation whose scopes it asked for.
    pub operation_id: String,
    /// The login hint as the step named it (`the device's operator token` or a quoted literal).
    pub who: String,
}

/// Identifies a scenario across the run: feature file, scenario name, line.
pub type ScenarioKey = (Option<PathBuf>, String, usize);

/// Warnings of every scenario of a run, shared by the steps (which add) and the collector
/// (which reads them when a scenario finishes).
pub type WarningStore = Arc<Mutex<HashMap<ScenarioKey, Vec<String>>>>;

/// One scenario's handle on the run's [`WarningStore`].
///
/// A warning is a check that did not hold but weighs SHOULD, not MUST (e.g. an exact `message`
/// text, which CAMARA declares free): the scenario goes on, and ends as a warning unless
/// something failed. A step cannot report that through its result, since any `Err` stops the
/// scenario, hence this side channel.
#[derive(Debug, Clone)]
pub struct ScenarioWarnings {
    store: WarningStore,
    key: ScenarioKey,
}

impl ScenarioWarnings {
    /// The handle of scenario `key` on `store`.
    pub fn new(store: WarningStore, key: ScenarioKey) -> Self {
        Self { store, key }
    }

    /// Records a warning.
    pub fn push(&self, message: String) {
        self.store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(self.key.clone())
            .or_default()
            .push(message);
    }
}

/// Deviations of the next authorization request.
#[derive(Debug, Clone, Default)]
pub struct AuthzMods {
    /// Extra query parameters.
    pub extra: Vec<(String, String)>,
    /// Another redirect_uri.
    pub redirect_uri: Option<String>,
    /// Also send a signed request object.
    pub request_object: Option<RequestObject>,
    /// When the provider refuses the request object addressed to the issuer, send it again
    /// addressed to the authorization endpoint (the two values the ICM and RFC 9101 name).
    pub request_object_audience_fallback: bool,
    /// Use PKCE `plain`.
    pub pkce_plain: bool,
    /// Make it for this client.
    pub client: Option<ClientRole>,
}

impl fmt::Debug for NvWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NvWorld")
            .field("auth", &self.api.request.auth)
            .field(
                "headers",
                &self
                    .api
                    .request
                    .headers
                    .iter()
                    .map(|(k, _)| k)
                    .collect::<Vec<_>>(),
            )
            .field("last_operation", &self.api.last.as_ref().map(|(op, _)| op))
            .field(
                "last_status",
                &self
                    .api
                    .last
                    .as_ref()
                    .map(|(_, e)| e.response.status.as_u16()),
            )
            .finish_non_exhaustive()
    }
}

impl NvWorld {
    /// The run context; steps only run after the before-hook sets it.
    pub fn ctx(&self) -> Result<Arc<RunContext>, StepFailure> {
        self.ctx
            .clone()
            .ok_or_else(|| fail("internal: run context missing"))
    }

    /// The last API exchange, or a failure naming the step that needs it.
    pub fn last_exchange(&self) -> Result<&Exchange, StepFailure> {
        self.api.last.as_ref().map(|(_, e)| e).ok_or_else(|| {
            fail("no request has been sent in this scenario (missing `When the request … is sent`)")
        })
    }

    /// Records a SHOULD-level finding of the current step; the scenario goes on and ends as a
    /// warning unless something fails.
    pub fn warn(&self, message: impl Into<String>) -> StepResult {
        match &self.warnings {
            Some(w) => {
                w.push(message.into());
                Ok(())
            }
            // Without the run's hook there is nowhere to put it: failing keeps it visible.
            None => Err(fail(message)),
        }
    }

    /// The last response body as JSON, or a failure saying what was received instead.
    pub fn last_json(&self) -> Result<Value, StepFailure> {
        let e = self.last_exchange()?;
        serde_json::from_slice(&e.response.body).map_err(|err| {
            fail(format!(
                "expected a JSON response body, found {} bytes that are not JSON ({err})",
                e.response.body.len()
            ))
        })
    }
}
