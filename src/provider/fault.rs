//! Fault switches: deliberate, named deviations from one rule each, so that nvcert's checks can be
//! shown to catch them (a check that never fails proves nothing).
//!
//! Owns the list of faults (their names are a contract with the harness: never rename one), their
//! descriptions, parsing, and [`FaultSet`], the bitset the endpoints test. It must not implement a
//! fault: each endpoint module asks `faults.has(Fault::X)` where its rule lives. With no fault set,
//! the provider is the conformant reference.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! faults {
    ($( $variant:ident => $name:literal, $desc:literal; )*) => {
        /// A named deviation from exactly one rule (see [`Fault::description`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Fault {
            $(
                #[doc = $desc]
                $variant,
            )*
        }

        impl Fault {
            /// Every fault, in documentation order.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant,)*];

            /// The fault's name (`--fault NAME`, TOML `faults = ["NAME"]`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Fault::$variant => $name,)*
                }
            }

            /// The one rule the fault breaks, in a sentence.
            pub fn description(self) -> &'static str {
                match self {
                    $(Fault::$variant => $desc,)*
                }
            }
        }
    };
}

faults! {
    // Authorization endpoint.
    StateNotReturned => "state-not-returned",
        "authorize: the success redirect omits the state parameter";
    StateTruncated => "state-truncated",
        "authorize: a state longer than 64 characters comes back cut to 64 in the success redirect";
    RedirectUriNotChecked => "redirect-uri-not-checked",
        "authorize: an unregistered (absolute) redirect_uri is redirected to with a code";
    UnknownParameterRejected => "unknown-parameter-rejected",
        "authorize: an unrecognised parameter gets an error redirect with invalid_request";
    AcrValuesRejected => "acr-values-rejected",
        "authorize: acr_values gets an error redirect with invalid_request (ICM: must be ignored)";
    LoginHintRejected => "login-hint-rejected",
        "authorize: login_hint (without test_otp) gets an error redirect with invalid_request";
    RequestObjectRejected => "request-object-rejected",
        "authorize: any request= object gets invalid_request_object, even a valid one";
    RequestObjectAudienceNotChecked => "request-object-audience-not-checked",
        "authorize: the aud of a signed request object is not checked";
    RequestObjectExpiryNotChecked => "request-object-expiry-not-checked",
        "authorize: an expired signed request object is accepted";
    RequestObjectLifetimeNotChecked => "request-object-lifetime-not-checked",
        "authorize: a signed request object living longer than 300 s (exp - iat, or exp - now) is accepted";
    RequestObjectIatNotChecked => "request-object-iat-not-checked",
        "authorize: a signed request object issued in the future (iat after its receipt) is accepted";
    RequestObjectIssuerAudienceRefused => "request-object-issuer-audience-refused",
        "authorize: a signed request object addressed to the issuer is refused (only the authorization endpoint is taken as aud)";
    RequestObjectEndpointAudienceRefused => "request-object-endpoint-audience-refused",
        "authorize: a signed request object addressed to the authorization endpoint is refused (only the issuer is taken as aud)";
    PkcePlainAccepted => "pkce-plain-accepted",
        "authorize: code_challenge_method=plain is accepted (and verified as plain at /token)";
    // Token endpoint.
    PkceNotChecked => "pkce-not-checked",
        "token: any (or no) code_verifier is accepted for a code with a code_challenge";
    CodeReusable => "code-reusable",
        "token: an authorization code can be redeemed more than once";
    CodeExpiryNotChecked => "code-expiry-not-checked",
        "token: an expired authorization code is accepted";
    CodeNotBoundToClient => "code-not-bound-to-client",
        "token: a code issued to one client is redeemed by another";
    RedirectUriMismatchAccepted => "redirect-uri-mismatch-accepted",
        "token: a redirect_uri differing from the authorization request's is accepted";
    AssertionExpiryNotChecked => "assertion-expiry-not-checked",
        "token: an expired client assertion (exp in the past) is accepted";
    AssertionLifetimeNotChecked => "assertion-lifetime-not-checked",
        "token: a client assertion living longer than 300 s (exp - iat, or exp - now) is accepted";
    AssertionAudienceNotChecked => "assertion-audience-not-checked",
        "token: the aud of a client assertion is not checked";
    AssertionJtiReplayAccepted => "assertion-jti-replay-accepted",
        "token: a client assertion jti can be replayed";
    ClientSecretAccepted => "client-secret-accepted",
        "token: client_secret_basic is accepted for a client registered for private_key_jwt only";
    TokenTypeNotBearer => "token-type-not-bearer",
        "token: token_type is \"mac\" instead of \"Bearer\"";
    TokenCacheable => "token-cacheable",
        "token: successful token responses carry no Cache-Control / Pragma headers";
    RefreshTokenIssued => "refresh-token-issued",
        "token: authorization-code and CIBA token responses carry a refresh_token";
    LongTokenLifetime => "long-token-lifetime",
        "token: access tokens have expires_in 3600 and live that long";
    IdTokenWrongAudience => "id-token-wrong-audience",
        "token: the ID token aud is not the client_id";
    IdTokenNonceMissing => "id-token-nonce-missing",
        "token: the ID token omits the nonce of the authorization request";
    IdTokenBadSignature => "id-token-bad-signature",
        "token: the ID token is signed with a key that is not in the JWKS (same kid)";
    TokenContentTypeHtml => "token-content-type-html",
        "token: successful token responses have Content-Type text/html (the body is still JSON)";
    DpopRejected => "dpop-rejected",
        "token: a request with a DPoP header is refused with 400 invalid_dpop_proof";
    // Operator-token flows.
    CibaUnknownLoginHintAccepted => "ciba-unknown-login-hint-accepted",
        "ciba: an unknown, expired or used operator token gets an auth_req_id and tokens";
    CibaPendingIgnored => "ciba-pending-ignored",
        "ciba: never authorization_pending nor slow_down; tokens on the first poll";
    JwtBearerAudienceNotChecked => "jwt-bearer-audience-not-checked",
        "jwt-bearer: the aud of the assertion is not checked";
    JwtBearerRefreshTokenIssued => "jwt-bearer-refresh-token-issued",
        "jwt-bearer: the token response carries a refresh_token";
    // Discovery.
    DiscoveryNoPrivateKeyJwt => "discovery-no-private-key-jwt",
        "discovery: token_endpoint_auth_methods_supported lacks private_key_jwt";
    DiscoveryIssuerMismatch => "discovery-issuer-mismatch",
        "discovery: issuer differs from the URL the document is served from";
    DiscoveryContentTypeHtml => "discovery-content-type-html",
        "discovery: the document is served with Content-Type text/html (the body is still JSON)";
    // NV API.
    ApiExpiredTokenAccepted => "api-expired-token-accepted",
        "api: an expired access token is accepted";
    ApiSignatureNotChecked => "api-signature-not-checked",
        "api: any JWT-shaped bearer token is accepted, as the first configured line with all scopes";
    ApiScopeNotChecked => "api-scope-not-checked",
        "api: a token without the operation's scope is accepted";
    ApiNetworkAuthNotChecked => "api-network-auth-not-checked",
        "api: a token not from network/SIM-based authentication is accepted";
    ApiTokenReusable => "api-token-reusable",
        "api: single-use tokens (wip, single_use_tokens) can be used again";
    ApiCorrelatorNotEchoed => "api-correlator-not-echoed",
        "api: responses carry a fresh x-correlator instead of the request's";
    ApiCorrelatorNotValidated => "api-correlator-not-validated",
        "api: an x-correlator not matching the version's pattern is accepted and echoed";
    ApiErrorStatusMismatch => "api-error-status-mismatch",
        "api: every ErrorInfo.status is 400 whatever the HTTP status";
    ApiWrongErrorCode => "api-wrong-error-code",
        "api: 401 answers carry code UNAUTHORIZED instead of UNAUTHENTICATED";
    ApiContentTypeText => "api-content-type-text",
        "api: 200 answers have Content-Type text/plain";
    ApiVerifyAlwaysTrue => "api-verify-always-true",
        "api: verify answers devicePhoneNumberVerified true for any valid request";
    ApiHashCaseSensitive => "api-hash-case-sensitive",
        "api: an upper-case hex hashedPhoneNumber never matches";
    ApiBothFieldsAccepted => "api-both-fields-accepted",
        "api: a body with both phoneNumber and hashedPhoneNumber is answered 200 using phoneNumber";
    ApiBodyNotValidated => "api-body-not-validated",
        "api: missing or invalid verify bodies ({}, unknown property, bad patterns) answer 200 false";
    ApiShareWrongNumber => "api-share-wrong-number",
        "api: device-phone-number returns a number other than the token's";
    ApiUndocumentedStatus => "api-undocumented-status",
        "api: verify with hashedPhoneNumber answers 500 INTERNAL";
    ApiMethodNotAllowedWithoutAllow => "api-405-without-allow",
        "api: 405 answers carry no Allow header";
    ApiProblemJsonErrors => "api-404-405-problem-json",
        "api: 404 and 405 answers are application/problem+json (RFC 9457) instead of CAMARA ErrorInfo";
    ApiNoBearerChallenge => "api-401-without-www-authenticate",
        "api: 401 answers carry no WWW-Authenticate challenge";
    ApiDelay100ms => "api-delay-100ms",
        "api: verify and share wait 100 ms before answering (load thresholds; not a conformance fault)";
}

/// Defines a family's fault enum (`$Enum`: `ALL`, `name`, `description`, `Display`, `FromStr`)
/// and its parse error (`$Unknown`, "unknown <what> fault \"x\" (known: …)"): the other
/// providers' fault lists (PhoneCheck, aggregator) are declared with it.
macro_rules! named_faults {
    (
        $(#[$doc:meta])*
        enum $Enum:ident, error $Unknown:ident, family $what:literal;
        $( $variant:ident => $name:literal, $desc:literal; )*
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $Enum {
            $(
                #[doc = $desc]
                $variant,
            )*
        }

        impl $Enum {
            /// Every fault, in documentation order.
            pub const ALL: &'static [$Enum] = &[$($Enum::$variant,)*];

            /// The fault's name (`--fault NAME`).
            pub fn name(self) -> &'static str {
                match self {
                    $($Enum::$variant => $name,)*
                }
            }

            /// The one rule the fault breaks, in a sentence.
            pub fn description(self) -> &'static str {
                match self {
                    $($Enum::$variant => $desc,)*
                }
            }
        }

        #[doc = concat!("A name that is no ", $what, " fault.")]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $Unknown {
            name: String,
            known: String,
        }

        impl ::std::fmt::Display for $Unknown {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(
                    f,
                    "unknown {} fault {:?} (known: {})",
                    $what, self.name, self.known
                )
            }
        }

        impl ::std::error::Error for $Unknown {}

        impl ::std::str::FromStr for $Enum {
            type Err = $Unknown;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|f| f.name() == s)
                    .ok_or_else(|| $Unknown {
                        name: s.to_owned(),
                        known: Self::ALL
                            .iter()
                            .map(|f| f.name())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            }
        }

        impl ::std::fmt::Display for $Enum {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}
pub(crate) use named_faults;

// FaultSet is a u64 bitset.
const _: () = assert!(Fault::ALL.len() <= 64);

impl Fault {
    fn bit(self) -> u64 {
        1u64 << (self as u32)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown fault name; the message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{given}`; known faults: {known}")]
pub struct UnknownFault {
    given: String,
    known: String,
}

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s.trim())
            .ok_or_else(|| UnknownFault {
                given: s.to_owned(),
                known: Self::ALL
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl Serialize for Fault {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A set of faults as a bitset: testing one is a single AND (the API hot path tests several).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultSet(u64);

impl FaultSet {
    /// True when `f` is set.
    #[inline]
    pub fn has(self, f: Fault) -> bool {
        self.0 & f.bit() != 0
    }

    /// True when no fault is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Adds `f`.
    pub fn insert(&mut self, f: Fault) {
        self.0 |= f.bit();
    }

    /// The faults in the set, in documentation order.
    pub fn iter(self) -> impl Iterator<Item = Fault> {
        Fault::ALL.iter().copied().filter(move |f| self.has(*f))
    }
}

impl FromIterator<Fault> for FaultSet {
    fn from_iter<I: IntoIterator<Item = Fault>>(iter: I) -> Self {
        let mut s = Self::default();
        for f in iter {
            s.insert(f);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for f in Fault::ALL {
            assert!(seen.insert(f.name()), "duplicate {}", f.name());
            assert!(
                f.name()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                f.name()
            );
            assert_eq!(f.name().parse::<Fault>(), Ok(*f));
            assert!(!f.description().is_empty());
        }
        assert_eq!(Fault::ALL.len(), 60);
        let e = "nope".parse::<Fault>().expect_err("unknown");
        assert!(e.to_string().contains("state-not-returned"), "{e}");
        assert!(e.to_string().contains("api-delay-100ms"), "{e}");
    }

    #[test]
    fn bitset() {
        let s: FaultSet = [Fault::CodeReusable, Fault::ApiDelay100ms]
            .into_iter()
            .collect();
        assert!(s.has(Fault::CodeReusable) && s.has(Fault::ApiDelay100ms));
        assert!(!s.has(Fault::StateNotReturned));
        assert_eq!(s.iter().count(), 2);
        assert!(FaultSet::default().is_empty());
    }
}
