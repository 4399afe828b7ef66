//! The cucumber World: the request being prepared, the last exchange, and the run's context.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::context::RunContext;
use crate::exchange::Exchange;
use crate::flow::{
    AuthorizeOutcome, AuthorizeRequest, CibaStart, ClientRole, Discovery, FlowError, RequestObject,
    TokenOptions, TokenResponse,
};
use crate::secret::Secret;

/// Marks a step error that means "cannot run here" rather than "failed"; the collector turns a
/// scenario whose step ends with it into SKIPPED, never PASSED.
pub const SKIP_MARKER: &str = "nvcert-skip: ";

/// Why a step did not pass.
#[derive(Debug)]
pub enum StepFailure {
    /// A check failed: the provider broke a rule.
    Check(String),
    /// The step cannot run with this profile.
    Skip(String),
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Check(m) => f.write_str(m),
            Self::Skip(m) => write!(f, "{SKIP_MARKER}{m}"),
        }
    }
}

impl From<FlowError> for StepFailure {
    fn from(e: FlowError) -> Self {
        match e {
            FlowError::Unavailable(reason) => Self::Skip(reason),
            other => Self::Check(other.to_string()),
        }
    }
}

/// Result of a step.
pub type StepResult = Result<(), StepFailure>;

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
    /// Base path set by "the resource … as base url" (else the spec's).
    pub base_path: Option<String>,
    /// Headers other than Authorization, in order.
    pub headers: Vec<(String, String)>,
    /// Authorization plan.
    pub auth: AuthPlan,
    /// Body plan.
    pub body: BodyPlan,
}

/// Per-scenario state. `Debug` prints no secret (cucumber may print the World).
#[derive(Default, cucumber::World)]
pub struct NvWorld {
    /// Set by the run's before-hook.
    pub ctx: Option<Arc<RunContext>>,
    /// The request being prepared.
    pub request: PendingRequest,
    /// The token actually sent in the last request, if any.
    pub sent_token: Option<Secret>,
    /// The last API exchange and its operationId.
    pub last: Option<(String, Exchange)>,
    /// The last discovery fetch.
    pub discovery: Option<(Result<Discovery, String>, Exchange)>,
    /// The last device leg.
    pub authorization: Option<(AuthorizeRequest, AuthorizeOutcome)>,
    /// The last token exchange.
    pub token: Option<(Result<TokenResponse, String>, Exchange)>,
    /// How the next authorization request deviates from the default.
    pub authz_mods: AuthzMods,
    /// How the next token request deviates from the default.
    pub token_mods: TokenOptions,
    /// The client assertion of the last token request (to replay it).
    pub last_assertion: Option<Secret>,
    /// The last CIBA authentication request and, when accepted, its start.
    pub ciba: Option<(Exchange, Option<CibaStart>)>,
    /// `aud` of the next JWT bearer assertion, when a check changes it.
    pub jwt_bearer_audience: Option<String>,
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
    /// Use PKCE `plain`.
    pub pkce_plain: bool,
    /// Make it for this client.
    pub client: Option<ClientRole>,
}

impl fmt::Debug for NvWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NvWorld")
            .field("auth", &self.request.auth)
            .field(
                "headers",
                &self
                    .request
                    .headers
                    .iter()
                    .map(|(k, _)| k)
                    .collect::<Vec<_>>(),
            )
            .field("last_operation", &self.last.as_ref().map(|(op, _)| op))
            .field(
                "last_status",
                &self.last.as_ref().map(|(_, e)| e.response.status.as_u16()),
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
        self.last.as_ref().map(|(_, e)| e).ok_or_else(|| {
            fail("no request has been sent in this scenario (missing `When the request … is sent`)")
        })
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
