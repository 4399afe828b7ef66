//! What an authentication grants: how the line was authenticated, the granted scope, and what an
//! authorization code or a CIBA request stands for until tokens are minted from it.
//!
//! Plain data shared by the endpoints, the stores and minting; no rules beyond the `amr` values of
//! each authentication method and the scope string form.

use super::super::version::SpecVersion;

/// NV scope of `POST /verify` (2.1.0 name; see [`SpecVersion::scope_verify`]).
pub const SCOPE_VERIFY: &str = "number-verification:verify";
/// NV scope of `GET /device-phone-number` (2.1.0 name; see [`SpecVersion::scope_share`]).
pub const SCOPE_SHARE: &str = "number-verification:device-phone-number:read";

/// How the user (the line) was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthnMethod {
    /// Simulated network-based authentication (header enrichment or source IP).
    Network,
    /// The TEST-ONLY SMS-OTP simulation.
    SmsOtp,
    /// SIM-based authentication: a TS.43 operator token (CIBA `login_hint` or JWT-bearer `sub`).
    Sim,
    /// A bare `tel:` subject (CIBA `login_hint` or JWT-bearer `sub`): no network or SIM proof.
    Tel,
}

/// `amr` values the NV API accepts as network- or SIM-based authentication.
pub(crate) const NETWORK_OR_SIM_AMR: &[&str] = &["nba", "sim"];

impl AuthnMethod {
    /// RFC 8176-style `amr` values. `nba` follows the ICM sequence-diagram note
    /// ("Network Based Authentication (amr=nba/mnba)").
    pub(crate) fn amr(self) -> &'static [&'static str] {
        match self {
            Self::Network => &["nba"],
            Self::SmsOtp => &["sms", "otp"],
            Self::Sim => &["sim"],
            Self::Tel => &["tel"],
        }
    }
}

/// The scope granted by an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GrantedScope {
    /// `openid` was requested: an ID token is issued.
    pub openid: bool,
    /// The DPV purpose, without the `dpv:` prefix.
    pub purpose: String,
    /// `number-verification:verify` granted.
    pub verify: bool,
    /// `number-verification:device-phone-number:read` granted.
    pub share: bool,
}

impl GrantedScope {
    /// The space-separated scope string (RFC 6749 §3.3) with `version`'s scope names, in a fixed
    /// order.
    pub(crate) fn to_scope_string(&self, version: SpecVersion) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(4);
        if self.openid {
            parts.push("openid".into());
        }
        parts.push(format!("dpv:{}", self.purpose));
        if self.verify {
            parts.push(version.scope_verify().into());
        }
        if self.share {
            parts.push(version.scope_share().into());
        }
        parts.join(" ")
    }
}

/// An authorization request as `/authorize` accepted it: what its code will be bound to.
#[derive(Debug, Clone)]
pub(crate) struct CodeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: GrantedScope,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// The challenge is `plain` (only under the `pkce-plain-accepted` fault), else S256.
    pub pkce_plain: bool,
}

/// Everything an authorization code stands for: the request and the line authenticated.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub request: CodeRequest,
    pub msisdn: String,
    pub authn: AuthnMethod,
    /// Unix seconds of the (simulated) authentication.
    pub auth_time: u64,
    /// Aggregator only: the operator grant behind this code (`msisdn` is then the operator's
    /// subject, not a phone number).
    pub upstream: Option<std::sync::Arc<super::super::aggregator::UpstreamGrant>>,
}

/// What a CIBA authentication request stands for once it is granted.
#[derive(Debug, Clone)]
pub(crate) struct CibaRequest {
    pub client_id: String,
    pub scope: GrantedScope,
    pub msisdn: String,
    pub authn: AuthnMethod,
    /// Unix seconds of the (simulated) authentication.
    pub auth_time: u64,
}
