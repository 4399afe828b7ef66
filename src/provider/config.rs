//! Provider configuration: the TOML format, loading key/secret files, and validation.
//!
//! Owns the shape of `fixtures/reference-provider.toml` and the checks that refuse a config the
//! provider could not serve conformantly (e.g. an access-token lifetime above 300 s). It reads files
//! only at load time and holds their contents afterwards, so a loaded config needs no disk. It must
//! not build runtime state (keys, maps): that is `state.rs`.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::ProviderError;
use super::fault::Fault;
use super::version::SpecVersion;
use crate::secret::Secret;

/// Name used in errors for the compiled-in config.
const EMBEDDED_ORIGIN: &str = "<embedded>/reference-provider.toml";

/// The compiled-in fixture and every file it names (relative to the fixture's directory).
const EMBEDDED_TOML: &str = include_str!("../../fixtures/reference-provider.toml");
const EMBEDDED_FILES: &[(&str, &str)] = &[
    (
        "keys/reference-provider-es256.TEST-ONLY.pem",
        include_str!("../../fixtures/keys/reference-provider-es256.TEST-ONLY.pem"),
    ),
    (
        "keys/demo-client-es256.pub.pem",
        include_str!("../../fixtures/keys/demo-client-es256.pub.pem"),
    ),
    (
        "keys/other-client-es256.pub.pem",
        include_str!("../../fixtures/keys/other-client-es256.pub.pem"),
    ),
    (
        "keys/demo-client-secret.TEST-ONLY.txt",
        include_str!("../../fixtures/keys/demo-client-secret.TEST-ONLY.txt"),
    ),
];

/// NV wip (PR #226) and ICM: access tokens for NV scopes live at most 5 minutes.
pub const MAX_ACCESS_TOKEN_TTL: u64 = 300;

/// The E.164 pattern of NV v2.1.0 (`phoneNumber`, `DevicePhoneNumber`), checked by hand so the
/// provider shares no validation code with the checker.
pub(crate) fn is_e164(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 6
        && b.len() <= 16
        && b[0] == b'+'
        && (b'1'..=b'9').contains(&b[1])
        && b[2..].iter().all(u8::is_ascii_digit)
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// RFC 7523 client assertion signed with the client's ES256 key (the CAMARA ICM method).
    PrivateKeyJwt,
    /// HTTP Basic with a shared secret (RFC 6749 §2.3.1; outside the ICM profile, offered for
    /// harnesses that cannot sign assertions).
    ClientSecretBasic,
}

impl AuthMethod {
    /// The OAuth registry name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::ClientSecretBasic => "client_secret_basic",
        }
    }
}

/// One registered OAuth client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The client identifier.
    pub client_id: String,
    /// Registered redirect URIs; a request's `redirect_uri` must equal one exactly.
    pub redirect_uris: Vec<String>,
    /// Token-endpoint authentication methods the client may use.
    pub token_endpoint_auth_methods: Vec<AuthMethod>,
    /// ES256 public key (PEM) file for `private_key_jwt`, relative to the config file.
    #[serde(default)]
    pub public_key_file: Option<String>,
    /// Client secret file for `client_secret_basic`, relative to the config file.
    #[serde(default)]
    pub client_secret_file: Option<String>,
    /// `expires_in` of access tokens (1..=300).
    #[serde(default = "default_access_ttl")]
    pub access_token_ttl_seconds: u64,
    /// Authorization-code lifetime for this client (1..=600); overrides the global
    /// `code_ttl_seconds`.
    #[serde(default)]
    pub code_ttl_seconds: Option<u64>,
    /// Refuse authorization requests without a PKCE `code_challenge`.
    #[serde(default)]
    pub require_pkce: bool,
    /// Contents of `public_key_file`, filled in at load.
    #[serde(skip)]
    pub public_key_pem: Option<String>,
    /// Contents of `client_secret_file`, filled in at load.
    #[serde(skip)]
    pub client_secret: Option<Secret>,
}

/// A source-IP → line entry (simulated network-based authentication).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpLine {
    /// TCP source address of the device.
    pub source_ip: IpAddr,
    /// The line's phone number (E.164).
    pub msisdn: String,
}

/// The TEST-ONLY non-network login path.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtpLogin {
    /// Whether `login_hint=tel:+…` plus `test_otp=<code>` authenticates at all.
    #[serde(default)]
    pub enabled: bool,
    /// The one accepted code.
    #[serde(default, deserialize_with = "opt_secret")]
    pub code: Option<Secret>,
}

/// A documented demo test line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestLine {
    /// The phone number (E.164).
    pub msisdn: String,
    /// What the line is for.
    #[serde(default)]
    pub description: String,
}

/// The provider's configuration (see `fixtures/reference-provider.toml` for every field).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The NV spec version served (default 2.1.0). It decides the default base path, the scope
    /// names, the x-correlator and body patterns, the error messages, which operator-token flows
    /// exist, and (wip) single-use tokens. Change it with [`ProviderConfig::set_spec_version`] so
    /// that a derived base path follows.
    #[serde(default)]
    pub spec_version: SpecVersion,
    /// Base path of the NV API, starting with `/`, no trailing `/`. Absent from the TOML (or empty):
    /// the spec version's base path, e.g. `/number-verification/v2` for 2.1.0.
    #[serde(default)]
    pub api_base_path: String,
    /// Make access tokens single-use with any spec version (always on with `wip`).
    #[serde(default)]
    pub single_use_tokens: bool,
    /// An operator dialect to play instead of plain CAMARA (set it with
    /// [`ProviderConfig::set_dialect`], which also sets its base path and CAMARA version).
    #[serde(default)]
    pub dialect: Option<super::dialect::ProviderDialect>,
    /// Deliberate deviations (fault names, see `nvcert serve --list-faults`). Empty = conformant.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Lifetime of TS.43 operator tokens from `GET /ts43/operator-token` (1..=3600).
    #[serde(default = "default_operator_token_ttl")]
    pub operator_token_ttl_seconds: u64,
    /// CIBA: how many polls are answered `authorization_pending` before the tokens (0..=100).
    #[serde(default = "default_ciba_pending_polls")]
    pub ciba_pending_polls: u32,
    /// CIBA: the `interval` returned by `/bc-authorize`; a poll sooner than this after the request
    /// or the previous poll gets `slow_down` (1..=60).
    #[serde(default = "default_ciba_interval")]
    pub ciba_interval_seconds: u64,
    /// CIBA: the `expires_in` of an `auth_req_id` (1..=3600).
    #[serde(default = "default_ciba_ttl")]
    pub ciba_request_ttl_seconds: u64,
    /// Authorization-code lifetime in seconds.
    #[serde(default = "default_code_ttl")]
    pub code_ttl_seconds: u64,
    /// ID-token lifetime in seconds.
    #[serde(default = "default_id_token_ttl")]
    pub id_token_ttl_seconds: u64,
    /// Name of the trusted header-enrichment header.
    #[serde(default = "default_enrichment_header")]
    pub enrichment_header: String,
    /// ES256 private key (PKCS#8 PEM) file, relative to the config file.
    pub signing_key_file: String,
    /// `kid` of the signing key.
    #[serde(default = "default_kid")]
    pub signing_key_id: String,
    /// Registered clients.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// Source-IP table.
    #[serde(default)]
    pub ip_lines: Vec<IpLine>,
    /// TEST-ONLY OTP login.
    #[serde(default)]
    pub otp_login: OtpLogin,
    /// Documented demo lines.
    #[serde(default)]
    pub lines: Vec<TestLine>,
    /// Limits of the HTTP server (`[server]`): how long a client may take, how many may connect.
    #[serde(default)]
    pub server: ServerLimits,
    /// Contents of `signing_key_file`, filled in at load.
    #[serde(skip)]
    pub signing_key_pem: Option<Secret>,
    /// Where the config came from (file path or `<embedded>`), for error messages.
    #[serde(skip)]
    pub origin: String,
    /// The base path filled in from `spec_version` (None when `api_base_path` was given): while
    /// `api_base_path` still equals it, it follows the spec version.
    #[serde(skip)]
    derived_api_base_path: Option<String>,
}

/// Limits of the HTTP server: a slow or idle client is dropped, and a flood of connections is
/// refused rather than exhausting the process's file descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerLimits {
    /// A connection must deliver a request's headers within this many seconds of waiting for
    /// them; this also closes a keep-alive connection idle that long (1..=300).
    pub header_read_timeout_secs: u64,
    /// A request (its body included) must be read and answered within this many seconds, or it
    /// gets 408 and the connection is closed (1..=300).
    pub request_timeout_secs: u64,
    /// Connections served at once; more are answered 503 and closed (1..=100000).
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: 10,
            request_timeout_secs: 10,
            max_connections: 4096,
        }
    }
}

fn default_operator_token_ttl() -> u64 {
    300
}
fn default_ciba_pending_polls() -> u32 {
    0
}
fn default_ciba_interval() -> u64 {
    1
}
fn default_ciba_ttl() -> u64 {
    120
}
fn default_code_ttl() -> u64 {
    60
}
fn default_id_token_ttl() -> u64 {
    300
}
fn default_access_ttl() -> u64 {
    MAX_ACCESS_TOKEN_TTL
}
fn default_enrichment_header() -> String {
    "x-nvcert-msisdn".to_owned()
}
fn default_kid() -> String {
    "nvcert-reference-es256-1".to_owned()
}

impl ProviderConfig {
    /// Loads and validates a config file. Key and secret file paths in it are relative to the
    /// file's directory.
    pub fn load(path: &Path) -> Result<Self, ProviderError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProviderError::Read {
            file: path.to_path_buf(),
            what: "config".to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Self::from_toml(&text, &path.display().to_string(), &base)
    }

    /// Parses and validates config text; `origin` names it in errors, `base_dir` anchors the
    /// relative key/secret paths.
    pub fn from_toml(text: &str, origin: &str, base_dir: &Path) -> Result<Self, ProviderError> {
        Self::parse_with(text, origin, |rel, what| {
            let p: PathBuf = base_dir.join(rel);
            std::fs::read_to_string(&p).map_err(|source| ProviderError::Read {
                file: p,
                what: what.to_owned(),
                source,
            })
        })
    }

    /// The compiled-in `fixtures/reference-provider.toml` with its keys; needs no files on disk.
    pub fn embedded() -> Self {
        Self::from_embedded(EMBEDDED_TOML, EMBEDDED_ORIGIN, EMBEDDED_FILES)
            // The fixture is compiled in and covered by tests; failing here is a build defect.
            .expect("embedded reference-provider.toml is valid")
    }

    /// A compiled-in config (`text`, named `origin` in errors) whose key and secret files are
    /// looked up in `files` by the relative path the config names (e.g. the aggregator's
    /// operators, whose fixtures name `../keys/…`).
    pub(crate) fn from_embedded(
        text: &str,
        origin: &str,
        files: &[(&str, &str)],
    ) -> Result<Self, ProviderError> {
        Self::parse_with(text, origin, |rel, what| {
            files
                .iter()
                .find(|(name, _)| *name == rel)
                .map(|(_, content)| (*content).to_owned())
                .ok_or_else(|| ProviderError::Invalid {
                    file: origin.to_owned(),
                    field: what.to_owned(),
                    reason: format!("`{rel}` is not among the embedded files"),
                })
        })
    }

    /// Looks up a client by id.
    pub fn client(&self, client_id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// Sets the spec version; a base path that was derived from the old version follows it, an
    /// explicit `api_base_path` stays.
    pub fn set_spec_version(&mut self, version: SpecVersion) {
        self.spec_version = version;
        self.resolve_api_base_path();
    }

    /// Plays `dialect`: its CAMARA ancestor's version and its own base path.
    pub fn set_dialect(&mut self, dialect: super::dialect::ProviderDialect) {
        self.dialect = Some(dialect);
        self.set_spec_version(dialect.spec_version());
        self.api_base_path = dialect.api_base_path().to_owned();
    }

    /// Builder form of [`ProviderConfig::set_spec_version`].
    pub fn with_spec_version(mut self, version: SpecVersion) -> Self {
        self.set_spec_version(version);
        self
    }

    /// Adds fault switches (duplicates are ignored).
    pub fn with_faults(mut self, faults: impl IntoIterator<Item = Fault>) -> Self {
        for f in faults {
            if !self.faults.contains(&f) {
                self.faults.push(f);
            }
        }
        self
    }

    /// True when access tokens are single-use (`wip` or `single_use_tokens`).
    pub fn single_use(&self) -> bool {
        self.single_use_tokens || self.spec_version.single_use_tokens()
    }

    /// Fills an empty base path, or one still equal to the derived one, from the spec version.
    pub(crate) fn resolve_api_base_path(&mut self) {
        let derived = self.derived_api_base_path.as_deref();
        if self.api_base_path.is_empty() || derived == Some(self.api_base_path.as_str()) {
            let p = self.spec_version.default_api_base_path().to_owned();
            self.api_base_path.clone_from(&p);
            self.derived_api_base_path = Some(p);
        }
    }

    fn parse_with(
        text: &str,
        origin: &str,
        mut read: impl FnMut(&str, &str) -> Result<String, ProviderError>,
    ) -> Result<Self, ProviderError> {
        let mut cfg: ProviderConfig = toml::from_str(text).map_err(|e| ProviderError::Parse {
            file: origin.to_owned(),
            message: crate::secret::toml_error_without_excerpt(&e, text),
        })?;
        cfg.origin = origin.to_owned();
        cfg.resolve_api_base_path();
        cfg.signing_key_pem = Some(Secret::new(read(
            &cfg.signing_key_file,
            "signing_key_file",
        )?));
        for (i, c) in cfg.clients.iter_mut().enumerate() {
            if let Some(f) = &c.public_key_file {
                c.public_key_pem = Some(read(f, &format!("clients[{i}].public_key_file"))?);
            }
            if let Some(f) = &c.client_secret_file {
                let raw = read(f, &format!("clients[{i}].client_secret_file"))?;
                // Editors add a final newline; it is never part of the secret.
                let trimmed = raw.strip_suffix('\n').unwrap_or(&raw);
                let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
                c.client_secret = Some(Secret::new(trimmed));
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every rule the provider relies on. Called by the loaders; call it again after
    /// editing a config in code.
    pub fn validate(&self) -> Result<(), ProviderError> {
        let bad = |field: String, reason: &str| ProviderError::Invalid {
            file: self.origin.clone(),
            field,
            reason: reason.to_owned(),
        };
        let p = &self.api_base_path;
        if !p.starts_with('/') || p.ends_with('/') || p.len() < 2 || p.contains(['?', '#', ' ']) {
            return Err(bad(
                "api_base_path".into(),
                "must start with `/`, not end with `/`, and be a plain path",
            ));
        }
        // The API is nested beside the OAuth endpoints; overlapping them would make the router
        // ambiguous, and `{`/`}`/`*` would turn the base path into a route pattern.
        let reserved = [
            "/authorize",
            "/token",
            "/jwks",
            "/.well-known",
            "/bc-authorize",
            "/ts43",
        ];
        if p.contains(['{', '}', '*'])
            || reserved
                .iter()
                .any(|r| p == r || p.starts_with(&format!("{r}/")))
        {
            return Err(bad(
                "api_base_path".into(),
                "must not contain `{`, `}`, `*` nor overlap /authorize, /token, /jwks, /.well-known, \
                 /bc-authorize, /ts43",
            ));
        }
        if self.code_ttl_seconds == 0 || self.code_ttl_seconds > 600 {
            // RFC 6749 §4.1.2: a maximum code lifetime of 10 minutes is RECOMMENDED.
            return Err(bad("code_ttl_seconds".into(), "must be 1..=600"));
        }
        let ranges: [(&str, u64, u64, u64); 4] = [
            (
                "operator_token_ttl_seconds",
                self.operator_token_ttl_seconds,
                1,
                3600,
            ),
            (
                "ciba_pending_polls",
                u64::from(self.ciba_pending_polls),
                0,
                100,
            ),
            ("ciba_interval_seconds", self.ciba_interval_seconds, 1, 60),
            (
                "ciba_request_ttl_seconds",
                self.ciba_request_ttl_seconds,
                1,
                3600,
            ),
        ];
        let server = [
            (
                "server.header_read_timeout_secs",
                self.server.header_read_timeout_secs,
                1,
                300,
            ),
            (
                "server.request_timeout_secs",
                self.server.request_timeout_secs,
                1,
                300,
            ),
            (
                "server.max_connections",
                self.server.max_connections as u64,
                1,
                100_000,
            ),
        ];
        for (field, value, min, max) in ranges.into_iter().chain(server) {
            if value < min || value > max {
                return Err(bad(field.into(), &format!("must be {min}..={max}")));
            }
        }
        if self.id_token_ttl_seconds == 0 || self.id_token_ttl_seconds > 3600 {
            return Err(bad("id_token_ttl_seconds".into(), "must be 1..=3600"));
        }
        if axum::http::HeaderName::from_bytes(self.enrichment_header.as_bytes()).is_err() {
            return Err(bad(
                "enrichment_header".into(),
                "not a valid HTTP header name",
            ));
        }
        if self.signing_key_id.is_empty() {
            return Err(bad("signing_key_id".into(), "must not be empty"));
        }
        if self.clients.is_empty() {
            return Err(bad("clients".into(), "at least one client is required"));
        }
        let mut ids = HashSet::new();
        for (i, c) in self.clients.iter().enumerate() {
            let f = |name: &str| format!("clients[{i}].{name}");
            if c.client_id.is_empty() || !ids.insert(c.client_id.as_str()) {
                return Err(bad(f("client_id"), "must be non-empty and unique"));
            }
            if c.redirect_uris.is_empty() {
                return Err(bad(
                    f("redirect_uris"),
                    "at least one redirect URI is required",
                ));
            }
            for (j, r) in c.redirect_uris.iter().enumerate() {
                // RFC 6749 §3.1.2: absolute URI, no fragment.
                match url::Url::parse(r) {
                    Ok(u) if u.fragment().is_none() && u.has_host() => {}
                    _ => {
                        return Err(bad(
                            format!("clients[{i}].redirect_uris[{j}]"),
                            "must be an absolute http(s) URI without fragment",
                        ));
                    }
                }
            }
            if c.token_endpoint_auth_methods.is_empty() {
                return Err(bad(f("token_endpoint_auth_methods"), "must not be empty"));
            }
            if c.token_endpoint_auth_methods
                .contains(&AuthMethod::PrivateKeyJwt)
                && c.public_key_pem.is_none()
            {
                return Err(bad(f("public_key_file"), "required for private_key_jwt"));
            }
            if c.token_endpoint_auth_methods
                .contains(&AuthMethod::ClientSecretBasic)
                && c.client_secret
                    .as_ref()
                    .is_none_or(|s| s.expose().is_empty())
            {
                return Err(bad(
                    f("client_secret_file"),
                    "required (non-empty) for client_secret_basic",
                ));
            }
            if c.code_ttl_seconds.is_some_and(|t| t == 0 || t > 600) {
                return Err(bad(f("code_ttl_seconds"), "must be 1..=600"));
            }
            // NV wip / ICM: access tokens for NV scopes must not exceed 300 s.
            if c.access_token_ttl_seconds == 0 || c.access_token_ttl_seconds > MAX_ACCESS_TOKEN_TTL
            {
                return Err(bad(f("access_token_ttl_seconds"), "must be 1..=300"));
            }
        }
        for (i, l) in self.ip_lines.iter().enumerate() {
            if !is_e164(&l.msisdn) {
                return Err(bad(
                    format!("ip_lines[{i}].msisdn"),
                    "must be E.164 (+ and 5..15 digits)",
                ));
            }
        }
        for (i, l) in self.lines.iter().enumerate() {
            if !is_e164(&l.msisdn) {
                return Err(bad(
                    format!("lines[{i}].msisdn"),
                    "must be E.164 (+ and 5..15 digits)",
                ));
            }
        }
        if self.otp_login.enabled
            && self
                .otp_login
                .code
                .as_ref()
                .is_none_or(|c| c.expose().is_empty())
        {
            return Err(bad(
                "otp_login.code".into(),
                "required when otp_login.enabled",
            ));
        }
        Ok(())
    }
}

/// Reads an optional TOML string into a [`Secret`] (kept local: `secret.rs` is not ours to extend).
fn opt_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Option::<String>::deserialize(d).map(|o| o.map(Secret::new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_config_loads_with_all_files() {
        let c = ProviderConfig::embedded();
        assert_eq!(c.api_base_path, "/number-verification/v2");
        assert_eq!(c.clients.len(), 4);
        let demo = c.client("nvcert-demo").expect("demo client");
        assert!(
            demo.public_key_pem
                .as_deref()
                .is_some_and(|p| p.contains("PUBLIC KEY"))
        );
        assert!(
            !demo
                .client_secret
                .as_ref()
                .expect("secret")
                .expose()
                .ends_with('\n')
        );
        assert_eq!(
            c.client("nvcert-short-lived")
                .map(|c| (c.access_token_ttl_seconds, c.code_ttl_seconds)),
            Some((1, Some(1)))
        );
        assert_eq!(c.spec_version, SpecVersion::V2_1_0);
        assert!(c.faults.is_empty() && !c.single_use());
        let other = c.client("nvcert-other").expect("other");
        assert_eq!(
            other.token_endpoint_auth_methods,
            [AuthMethod::PrivateKeyJwt]
        );
        assert!(other.client_secret.is_some());
        assert_eq!(c.ip_lines.len(), 2);
        assert!(c.otp_login.enabled);
    }

    #[test]
    fn file_config_matches_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reference-provider.toml");
        let c = ProviderConfig::load(&dir).expect("loads from disk");
        let e = ProviderConfig::embedded();
        assert_eq!(c.signing_key_pem, e.signing_key_pem);
        assert_eq!(c.clients[0].client_secret, e.clients[0].client_secret);
    }

    fn with_embedded_text(edit: impl Fn(&str) -> String) -> Result<ProviderConfig, ProviderError> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        ProviderConfig::from_toml(&edit(EMBEDDED_TOML), "test.toml", &dir)
    }

    #[test]
    fn rejects_access_token_ttl_above_300_naming_field() {
        let err = with_embedded_text(|t| {
            t.replacen(
                "access_token_ttl_seconds = 300",
                "access_token_ttl_seconds = 301",
                1,
            )
        })
        .expect_err("must refuse");
        let msg = err.to_string();
        assert!(msg.contains("test.toml"), "{msg}");
        assert!(msg.contains("clients[0].access_token_ttl_seconds"), "{msg}");
    }

    #[test]
    fn rejects_unknown_field_and_missing_file() {
        let err = with_embedded_text(|t| format!("bogus_field = 1\n{t}")).expect_err("unknown");
        assert!(err.to_string().contains("bogus_field"), "{err}");
        let err =
            with_embedded_text(|t| t.replace("keys/other-client-es256.pub.pem", "keys/nope.pem"))
                .expect_err("missing file");
        assert!(
            err.to_string().contains("clients[2].public_key_file"),
            "{err}"
        );
    }

    #[test]
    fn rejects_bad_msisdn_and_base_path() {
        let err = with_embedded_text(|t| t.replace("\"+34600000002\"", "\"34600000002\""))
            .expect_err("msisdn");
        assert!(err.to_string().contains("ip_lines[0].msisdn"), "{err}");
        let err =
            with_embedded_text(|t| format!("api_base_path = \"/nv/\"\n{t}")).expect_err("path");
        assert!(err.to_string().contains("api_base_path"), "{err}");
        for bad in [
            "/token",
            "/.well-known/x",
            "/nv/{id}",
            "/bc-authorize",
            "/ts43/x",
        ] {
            let err = with_embedded_text(|t| format!("api_base_path = \"{bad}\"\n{t}"))
                .expect_err("reserved");
            assert!(err.to_string().contains("api_base_path"), "{bad}: {err}");
        }
    }

    #[test]
    fn base_path_follows_the_spec_version_unless_explicit() {
        let mut c = ProviderConfig::embedded();
        c.set_spec_version(SpecVersion::V0_3_1);
        assert_eq!(c.api_base_path, "/number-verification/v0");
        c.set_spec_version(SpecVersion::Wip);
        assert_eq!(c.api_base_path, "/number-verification/vwip");
        assert!(c.single_use());
        c.api_base_path = "/custom".into();
        c.set_spec_version(SpecVersion::V1_0_0);
        assert_eq!(c.api_base_path, "/custom");
        let c = with_embedded_text(|t| format!("api_base_path = \"/mine\"\n{t}"))
            .expect("explicit")
            .with_spec_version(SpecVersion::V1_1_0Rc1);
        assert_eq!(c.api_base_path, "/mine");
        let c = with_embedded_text(|t| {
            t.replace("spec_version = \"2.1.0\"", "spec_version = \"1.1.0-rc.1\"")
                .replace("faults = []", "faults = [\"code-reusable\"]")
        })
        .expect("version from TOML");
        assert_eq!(c.api_base_path, "/number-verification/v1.1.0-rc.1");
        assert_eq!(c.faults, [Fault::CodeReusable]);
        let err = with_embedded_text(|t| t.replace("faults = []", "faults = [\"no-such-fault\"]"))
            .expect_err("unknown fault");
        assert!(err.to_string().contains("state-not-returned"), "{err}");
        let err =
            with_embedded_text(|t| t.replace("spec_version = \"2.1.0\"", "spec_version = \"9\""))
                .expect_err("unknown version");
        assert!(err.to_string().contains("2.1.0-rc.1"), "{err}");
    }

    #[test]
    fn rejects_bad_ranges() {
        for (from, to) in [
            ("ciba_interval_seconds = 1\n", "ciba_interval_seconds = 0\n"),
            (
                "ciba_request_ttl_seconds = 120",
                "ciba_request_ttl_seconds = 0",
            ),
            ("ciba_pending_polls = 0\n", "ciba_pending_polls = 101\n"),
            (
                "operator_token_ttl_seconds = 300",
                "operator_token_ttl_seconds = 0",
            ),
        ] {
            let err = with_embedded_text(|t| t.replacen(from, to, 1)).expect_err(to);
            let field = to.split(' ').next().unwrap_or_default();
            assert!(err.to_string().contains(field), "{err}");
        }
        let err = with_embedded_text(|t| {
            t.replacen("code_ttl_seconds = 1\n", "code_ttl_seconds = 601\n", 1)
        })
        .expect_err("client code ttl");
        assert!(
            err.to_string().contains("clients[1].code_ttl_seconds"),
            "{err}"
        );
    }

    #[test]
    fn e164() {
        assert!(is_e164("+12345"));
        assert!(is_e164("+123456789012345"));
        assert!(!is_e164("+1234"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+0123456"));
        assert!(!is_e164("123456"));
        assert!(!is_e164("+12a456"));
    }
}
