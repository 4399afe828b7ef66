//! Provider profile: a TOML file describing one provider under test, turned into a typed,
//! validated [`Profile`].
//!
//! Secrets are never inline: a client key or secret is a reference (`env:NAME` or `file:PATH`,
//! PATH relative to the profile) resolved at load time into a [`Secret`].
//! Token sources (`[token_source]`, `[operator_token]`) are read when a flow needs them, through
//! [`ValueSources`]. This module reads files and the environment; it does no network I/O.

pub mod aggregator;
pub mod dialect;
mod error;
pub mod family;
mod raw;
mod sources;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub use aggregator::{Aggregator, AggregatorLine, AggregatorOperator};
pub use dialect::Dialect;
pub use error::ProfileError;
pub use family::Family;
pub use sources::{CommandRunner, SourceError, ValueSources};

use crate::secret::Secret;

/// How the backend authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// `private_key_jwt` (CAMARA ICM: the profile's method), ES256 client assertion.
    PrivateKeyJwt,
    /// `client_secret_basic` (HTTP Basic), as some operators' sample code does.
    ClientSecretBasic,
    /// `client_secret_post` (secret in the form body).
    ClientSecretPost,
}

impl ClientAuthMethod {
    /// The OAuth name of the method.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

/// The client credentials the backend uses.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client_id` registered with the provider.
    pub client_id: String,
    /// Token-endpoint authentication method.
    pub auth_method: ClientAuthMethod,
    /// PEM of the ES256 private key (private_key_jwt).
    pub private_key_pem: Option<Secret>,
    /// Key id to put in assertion headers, when the provider wants one.
    pub key_id: Option<String>,
    /// Client secret (client_secret_basic / client_secret_post).
    pub client_secret: Option<Secret>,
    /// Redirect URI registered for the client; never contacted, only matched.
    pub redirect_uri: url::Url,
}

/// How the authorization request carries the purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurposeStyle {
    /// CAMARA ICM: one `dpv:<Purpose>` value inside `scope`.
    Scope,
    /// Operator sample-code style: a separate `purpose` parameter.
    Parameter,
    /// A dialect's scope names carry the purpose themselves (`dpv:Purpose#scope`): only they are
    /// sent, without `openid` unless the dialect is OpenID Connect.
    InScopeNames,
}

/// Endpoints the profile (or its dialect) gives instead of a discovery document.
#[derive(Debug, Clone)]
pub struct ExplicitEndpoints {
    /// `authorization_endpoint`.
    pub authorization_endpoint: url::Url,
    /// `token_endpoint`.
    pub token_endpoint: url::Url,
    /// `jwks_uri`, when given.
    pub jwks_uri: Option<url::Url>,
    /// `backchannel_authentication_endpoint` (CIBA), when given.
    pub backchannel_authentication_endpoint: Option<url::Url>,
}

/// Simulated or real mobile-data leg of the device.
#[derive(Debug, Clone, Default)]
pub struct DeviceLeg {
    /// Headers the network adds on the way (header enrichment), sent with every authorize hop.
    pub headers: BTreeMap<String, String>,
    /// Local address to bind (e.g. a 127.0.0.x address the provider maps to a line, or the
    /// mobile-data interface's address).
    pub local_address: Option<IpAddr>,
    /// Network interface to bind (Linux), for real mobile-data tests.
    pub interface: Option<String>,
}

/// A login that is deliberately *not* network-based, used to obtain a token the API must refuse
/// with `NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK`.
#[derive(Debug, Clone)]
pub struct NonNetworkLogin {
    /// Extra authorize parameters (values may be secrets resolved from env/file).
    pub authorize_params: BTreeMap<String, Secret>,
}

/// Where a token comes from when no flow obtains it: read through [`ValueSources`] each time one
/// is needed.
#[derive(Debug, Clone)]
pub enum TokenSource {
    /// Read an access token from this environment variable.
    Env(String),
    /// Run this command (through `sh -c`) and read the access token from its stdout.
    Command(String),
}

/// The phone numbers of the test lines.
#[derive(Debug, Clone)]
pub struct Lines {
    /// The number of the SIM in the device (what the network identifies).
    pub device: String,
    /// Another valid number that is not the device's.
    pub other: String,
}

/// A validated provider profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Where the profile came from (file name, or "embedded").
    pub origin: String,
    /// Display name of the provider.
    pub name: String,
    /// Issuer URL; discovery is at `{issuer}/.well-known/openid-configuration` unless `discovery_url` says otherwise.
    pub issuer: url::Url,
    /// Discovery document URL.
    pub discovery_url: url::Url,
    /// API root (scheme://host[/prefix]) to which the spec's base path is appended.
    pub api_root: url::Url,
    /// NV spec version (e.g. "2.1.0"); `None` = detect from `api_root`'s path or use the newest.
    pub spec_version: Option<String>,
    /// Client credentials.
    pub client: Client,
    /// Purpose value (`dpv:…`).
    pub purpose: String,
    /// How the purpose travels.
    pub purpose_style: PurposeStyle,
    /// Whether to send PKCE (S256).
    pub pkce: bool,
    /// Whether the code exchange names the `redirect_uri` (RFC 6749 §4.1.3; `false`: the
    /// Telefónica Open Gateway sample's `/token`, grant_type and code only).
    pub redirect_uri_at_token: bool,
    /// The device leg, when it can run here.
    pub device_leg: Option<DeviceLeg>,
    /// Token source, when the device leg cannot run.
    pub token_source: Option<TokenSource>,
    /// A non-network login, when the provider offers one for testing.
    pub non_network_login: Option<NonNetworkLogin>,
    /// Test lines.
    pub lines: Lines,
    /// Per-request timeout in seconds.
    pub timeout_secs: u64,
    /// A second registered client (private_key_jwt only), for code-binding and secret-refusal checks.
    pub other_client: Option<Client>,
    /// A client whose codes and tokens expire within seconds, for expiry checks.
    pub short_lived_client: Option<ShortLivedClient>,
    /// Which grant flows the provider offers.
    pub flows: Flows,
    /// Where TS.43 operator tokens come from (CIBA / JWT bearer flows).
    pub operator_token: Option<OperatorTokenSource>,
    /// Hosts the provider uses besides those of its URLs above (`allowed_hosts`): nvcert
    /// contacts, and the device leg follows redirects to, these too (see `flow::trust`).
    pub allowed_hosts: Vec<String>,
    /// The family of verification the provider offers (`dialect = "idlayr-phonecheck-v0.1"`
    /// selects PhoneCheck; CAMARA NV otherwise).
    pub family: Family,
    /// The operator's dialect of NV (`dialect = "orange-es-v0"`); `None`: CAMARA.
    pub dialect: Option<std::sync::Arc<Dialect>>,
    /// Endpoints given explicitly: discovery is then not used.
    pub endpoints: Option<ExplicitEndpoints>,
    /// The operators and lines behind an aggregator (`[aggregator]`); `None`: the target is
    /// not an aggregator and the aggregator checks are skipped.
    pub aggregator: Option<Aggregator>,
}

/// A client registered with short code and token lifetimes.
#[derive(Debug, Clone)]
pub struct ShortLivedClient {
    /// The client.
    pub client: Client,
    /// Authorization-code lifetime the provider gives it, in seconds.
    pub code_lifetime_secs: u64,
    /// Access-token lifetime the provider gives it, in seconds.
    pub token_lifetime_secs: u64,
    /// How long past the end of a code's or token's life the suite waits before presenting it
    /// (`expiry_margin_ms`; [`ShortLivedClient::SAFE_EXPIRY_MARGIN_MS`] when not given).
    pub expiry_margin_ms: u64,
    /// Where a token's life is taken to end (`token_expiry`).
    pub token_expiry: TokenExpiry,
    /// `token_client_id`: another client_id, with the same credentials, whose access tokens
    /// live `token_lifetime_secs` but whose codes live long, for the expired-token checks (a
    /// code that expires within a second can be lost on a slow run before it is exchanged).
    /// `None`: this client for both.
    pub token_client_id: Option<String>,
}

impl ShortLivedClient {
    /// The margin when the profile gives none: a provider that stamps `exp` in whole seconds
    /// (rounded either way) and compares it with the time in whole seconds may honour a token up
    /// to a second past its lifetime, counted from when it was issued (which is before nvcert
    /// received it); 100 ms more absorbs timer slack. Safe for every provider; slow.
    pub const SAFE_EXPIRY_MARGIN_MS: u64 = 1100;
}

/// Where the life of a short-lived client's access token is taken to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenExpiry {
    /// `token_lifetime_secs` after nvcert received the token (any provider, any clock).
    #[default]
    Lifetime,
    /// At the `exp` claim of a JWT access token, read on nvcert's clock: only for a provider
    /// whose clock is nvcert's (the same machine). A token that is not a JWT with `exp` falls
    /// back to `Lifetime`.
    ExpClaim,
}

/// Grant flows the provider offers (scenarios of a flow it lacks are skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flows {
    /// OIDC authorization code flow with network-based authentication.
    pub authorization_code: bool,
    /// CIBA with `login_hint=operatortoken:…` (NV 2.0.0+).
    pub ciba: bool,
    /// JWT bearer grant with `sub=operatortoken:…` (NV 2.1.0+).
    pub jwt_bearer: bool,
}

/// Where a TS.43 operator token comes from.
#[derive(Debug, Clone)]
pub enum OperatorTokenSource {
    /// GET this URL over the device leg (the reference provider's TEST-ONLY entitlement simulation),
    /// reading `operator_token` from the JSON answer.
    Device(url::Url),
    /// An environment variable or a command's stdout (see [`ValueSources`]).
    Read(TokenSource),
}

impl Profile {
    /// Loads and validates the profile at `path`.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError::read(path, e))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_toml(&text, &path.display().to_string(), &base)
    }

    /// Parses profile text; `origin` names it in errors, `base_dir` anchors `file:` references.
    pub fn from_toml(text: &str, origin: &str, base_dir: &Path) -> Result<Self, ProfileError> {
        Self::from_toml_in(text, origin, &Files::Dir(base_dir))
    }

    /// The profile of the embedded reference provider serving at `url` (needs no files on disk).
    pub fn embedded_reference(url: &url::Url) -> Result<Self, ProfileError> {
        let root = url.as_str().trim_end_matches('/');
        let text = REFERENCE_PROFILE.replace(REFERENCE_DEFAULT_URL, root);
        Self::from_toml_in(
            &text,
            "embedded reference profile",
            &Files::Embedded(EMBEDDED_FILES),
        )
    }

    /// The profile of the embedded reference provider playing dialect `name` at `url`
    /// (`fixtures/providers/<name>.toml`), or `None` when no such profile is shipped.
    pub fn embedded_dialect(name: &str, url: &url::Url) -> Option<Result<Self, ProfileError>> {
        let (_, text) = DIALECT_PROFILES.iter().find(|(n, _)| *n == name)?;
        let root = url.as_str().trim_end_matches('/');
        let text = text.replace(REFERENCE_DEFAULT_URL, root);
        Some(Self::from_toml_in(
            &text,
            &format!("embedded {name} profile"),
            &Files::Embedded(EMBEDDED_FILES),
        ))
    }

    /// The profile of the embedded PhoneCheck provider serving at `url`
    /// (`fixtures/providers/idlayr-phonecheck.toml`, compiled in).
    pub fn embedded_phonecheck(url: &url::Url) -> Result<Self, ProfileError> {
        let root = url.as_str().trim_end_matches('/');
        let text = PHONECHECK_PROFILE.replace(PHONECHECK_DEFAULT_URL, root);
        Self::from_toml_in(
            &text,
            "embedded PhoneCheck profile",
            &Files::Embedded(EMBEDDED_FILES),
        )
    }

    /// The profile of the embedded aggregator serving at `url` with its operators at
    /// `operators` (in order): `fixtures/providers/aggregator.toml` (or `aggregator-v0.toml`
    /// with `v0`, the operator sample's mode), its URLs rewritten.
    pub fn embedded_aggregator(
        url: &url::Url,
        operators: &[&str],
        v0: bool,
    ) -> Result<Self, ProfileError> {
        let (origin, text) = if v0 {
            ("embedded aggregator v0 profile", AGGREGATOR_V0_PROFILE)
        } else {
            ("embedded aggregator profile", AGGREGATOR_PROFILE)
        };
        let mut text = text.replace(AGGREGATOR_DEFAULT_URL, url.as_str().trim_end_matches('/'));
        for (default, actual) in AGGREGATOR_OPERATOR_URLS.iter().zip(operators) {
            text = text.replace(default, actual.trim_end_matches('/'));
        }
        Self::from_toml_in(&text, origin, &Files::Embedded(EMBEDDED_FILES))
    }

    fn from_toml_in(text: &str, origin: &str, files: &Files<'_>) -> Result<Self, ProfileError> {
        let raw: raw::RawProfile =
            toml::from_str(text).map_err(|e| ProfileError::syntax(origin, &e, text))?;
        raw.validate(origin, files)
    }

    /// All secret values of this profile (for the run's redactor).
    pub fn secrets(&self) -> Vec<Secret> {
        let mut out = Vec::new();
        for client in std::iter::once(&self.client)
            .chain(&self.other_client)
            .chain(self.short_lived_client.as_ref().map(|s| &s.client))
        {
            out.extend(client.private_key_pem.clone());
            out.extend(client.client_secret.clone());
        }
        if let Some(login) = &self.non_network_login {
            out.extend(login.authorize_params.values().cloned());
        }
        if let Some(aggregator) = &self.aggregator {
            out.extend(aggregator.secrets().cloned());
        }
        out
    }
}

/// The reference provider's profile, as shipped in `fixtures/providers/reference.toml`.
const REFERENCE_PROFILE: &str = include_str!("../../fixtures/providers/reference.toml");
/// The profiles of the reference provider playing each built-in dialect.
const DIALECT_PROFILES: &[(&str, &str)] = &[(
    "orange-es-v0",
    include_str!("../../fixtures/providers/orange-es-v0.toml"),
)];
/// The embedded aggregator's profiles, as shipped in `fixtures/providers/aggregator.toml` and
/// `aggregator-v0.toml`.
const AGGREGATOR_PROFILE: &str = include_str!("../../fixtures/providers/aggregator.toml");
const AGGREGATOR_V0_PROFILE: &str = include_str!("../../fixtures/providers/aggregator-v0.toml");
/// The aggregator's and its operators' URLs written in those profiles.
const AGGREGATOR_DEFAULT_URL: &str = "http://127.0.0.1:9093";
const AGGREGATOR_OPERATOR_URLS: &[&str] = &["http://127.0.0.11:9093", "http://127.0.0.12:9093"];
/// The PhoneCheck provider's profile, as shipped in `fixtures/providers/idlayr-phonecheck.toml`.
const PHONECHECK_PROFILE: &str = include_str!("../../fixtures/providers/idlayr-phonecheck.toml");
/// The URL written in that profile, replaced by the embedded provider's actual URL.
const PHONECHECK_DEFAULT_URL: &str = "http://127.0.0.1:9092";
/// The URL written in that profile, replaced by the embedded provider's actual URL.
const REFERENCE_DEFAULT_URL: &str = "http://127.0.0.1:9091";
/// Files the reference profile refers to, compiled in.
const EMBEDDED_FILES: &[(&str, &str)] = &[
    (
        "../keys/phonecheck-demo-secret.TEST-ONLY.txt",
        include_str!("../../fixtures/keys/phonecheck-demo-secret.TEST-ONLY.txt"),
    ),
    (
        "../keys/phonecheck-other-secret.TEST-ONLY.txt",
        include_str!("../../fixtures/keys/phonecheck-other-secret.TEST-ONLY.txt"),
    ),
    (
        "../keys/demo-client-es256.TEST-ONLY.pem",
        include_str!("../../fixtures/keys/demo-client-es256.TEST-ONLY.pem"),
    ),
    (
        "../keys/other-client-es256.TEST-ONLY.pem",
        include_str!("../../fixtures/keys/other-client-es256.TEST-ONLY.pem"),
    ),
    (
        "../keys/demo-client-secret.TEST-ONLY.txt",
        include_str!("../../fixtures/keys/demo-client-secret.TEST-ONLY.txt"),
    ),
];

/// Where `file:` references are read from.
pub(crate) enum Files<'a> {
    /// Relative to this directory.
    Dir(&'a Path),
    /// From this compiled-in table.
    Embedded(&'a [(&'a str, &'a str)]),
}

/// The host of `url` as the trust set compares hosts (lower case, IPv6 in brackets).
pub fn url_host(url: &url::Url) -> Option<String> {
    url.host().map(|h| h.to_string().to_ascii_lowercase())
}

/// An `allowed_hosts` entry as the trust set compares hosts (lower case, IPv6 in brackets, as
/// `url::Host` displays them), or `None` when it is not a bare host (a scheme, port or path).
pub fn normalize_host(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.contains(['/', '@', '?', '#', ' ']) {
        return None;
    }
    let bracketed = if text.contains(':') && !text.starts_with('[') {
        format!("[{text}]")
    } else {
        text.to_owned()
    };
    url::Host::parse(&bracketed)
        .ok()
        .map(|h| h.to_string().to_ascii_lowercase())
}

/// Resolves a secret reference: `env:NAME` or `file:PATH` (relative to the profile).
pub(crate) fn resolve_secret(
    reference: &str,
    origin: &str,
    field: &str,
    files: &Files<'_>,
) -> Result<Secret, ProfileError> {
    if let Some(name) = reference.strip_prefix("env:") {
        return std::env::var(name).map(Secret::new).map_err(|_| {
            ProfileError::field(
                origin,
                field,
                format!("environment variable {name} to be set"),
                "it is not set",
            )
        });
    }
    if let Some(file) = reference.strip_prefix("file:") {
        let base_dir = match files {
            Files::Dir(dir) => dir,
            Files::Embedded(table) => {
                return table
                    .iter()
                    .find(|(name, _)| *name == file)
                    .map(|(_, text)| Secret::new(text.trim_end()))
                    .ok_or_else(|| {
                        ProfileError::field(
                            origin,
                            field,
                            "a file compiled into nvcert",
                            format!("{file:?}"),
                        )
                    });
            }
        };
        let path: PathBuf = base_dir.join(file);
        return std::fs::read_to_string(&path)
            .map(|s| Secret::new(s.trim_end_matches(['\n', '\r'])))
            .map_err(|e| {
                ProfileError::field(
                    origin,
                    field,
                    format!("a readable file {}", path.display()),
                    e.to_string(),
                )
            });
    }
    Err(ProfileError::field(
        origin,
        field,
        "a reference `env:NAME` or `file:PATH` (secrets are never written inline)",
        "an inline value",
    ))
}
