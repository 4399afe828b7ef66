//! Runtime state of one provider instance: keys, registered clients, and the bounded stores
//! (authorization codes, client-assertion `jti`s, pairwise subject → line, TS.43 operator tokens,
//! CIBA requests, used single-use access tokens).
//!
//! Owns key material (no statics: two instances in one process never share a key, which is what
//! makes a token from another instance "foreign-signed") and the memory bounds that keep a load
//! test from growing the process without limit. It must not parse requests or decide protocol
//! errors; endpoint modules do that and call the small methods here.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::HeaderName;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::config::{AuthMethod, ProviderConfig};
use super::error::ProviderError;
use super::fault::{Fault, FaultSet};
use super::version::{CorrelatorRule, SpecVersion};
use crate::secret::Secret;

/// Most authorization codes held at once (issued, not yet expired).
pub const MAX_CODES: usize = 100_000;
/// Most client-assertion `jti`s remembered at once (each until its `exp`, at most ~300 s).
pub const MAX_JTIS: usize = 100_000;
/// Most pairwise subjects remembered at once (each until its last access token expires).
pub const MAX_SUBJECTS: usize = 200_000;
/// Most TS.43 operator tokens held at once (issued, not yet used or expired).
pub const MAX_OPERATOR_TOKENS: usize = 100_000;
/// Most CIBA requests held at once (each until its `expires_in`).
pub const MAX_CIBA_REQUESTS: usize = 100_000;
/// Most used single-use access tokens remembered at once (each until its `exp`).
pub const MAX_USED_TOKENS: usize = 200_000;

/// How long expired codes and subjects are kept when a fault lets them be used after expiry.
const EXPIRED_GRACE: Duration = Duration::from_secs(3600);

/// Key of the `id-token-bad-signature` fault: a TEST-ONLY fixture key that is never in the JWKS.
const FOREIGN_ID_TOKEN_KEY: &str =
    include_str!("../../fixtures/keys/other-client-es256.TEST-ONLY.pem");

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

/// Everything an authorization code stands for.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: GrantedScope,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// The challenge is `plain` (only under the `pkce-plain-accepted` fault), else S256.
    pub pkce_plain: bool,
    pub msisdn: String,
    pub authn: AuthnMethod,
    /// Unix seconds of the (simulated) authentication.
    pub auth_time: u64,
}

/// Result of presenting a code at the token endpoint.
pub(crate) enum CodeLookup {
    Unknown,
    Expired,
    AlreadyUsed,
    Found(Box<CodeGrant>),
}

struct CodeEntry {
    expires_at: Instant,
    /// `None` once the code was presented (RFC 6749 §4.1.2: single use). Kept until expiry so a
    /// replay is reported as such.
    grant: Option<CodeGrant>,
}

/// Codes with their expiry; `order` is insertion order. Codes of one client share a lifetime,
/// but lifetimes differ per client, so a long-lived code at the front can delay purging shorter
/// ones behind it by at most the longest code lifetime (600 s); `MAX_CODES` still bounds memory.
#[derive(Default)]
struct CodeStore {
    map: HashMap<String, CodeEntry>,
    order: VecDeque<(Instant, String)>,
}

impl CodeStore {
    /// Drops expired codes; `keep_expired` keeps them for [`EXPIRED_GRACE`] more (fault
    /// `code-expiry-not-checked`).
    fn purge(&mut self, now: Instant, keep_expired: bool) {
        let grace = if keep_expired {
            EXPIRED_GRACE
        } else {
            Duration::ZERO
        };
        while let Some((exp, _)) = self.order.front() {
            if *exp + grace > now {
                break;
            }
            if let Some((_, code)) = self.order.pop_front() {
                self.map.remove(&code);
            }
        }
    }
}

/// A set of keys with expiry, purged in bulk when it grows; refuses beyond `cap`.
struct ExpiringSet<K> {
    map: HashMap<K, u64>,
    next_purge: usize,
    cap: usize,
}

impl<K: std::hash::Hash + Eq> ExpiringSet<K> {
    fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            next_purge: 1024,
            cap,
        }
    }

    fn purge_if_due(&mut self, now: u64) {
        if self.map.len() >= self.next_purge {
            self.map.retain(|_, exp| *exp > now);
            // Amortised: purge again only after the live set has doubled.
            self.next_purge = (self.map.len() * 2).max(1024);
        }
    }

    /// Inserts `key` until `exp`; refuses a key still live, or a full set.
    fn insert_new(&mut self, key: K, exp: u64, now: u64) -> Result<(), JtiError> {
        self.purge_if_due(now);
        if let Some(old_exp) = self.map.get(&key)
            && *old_exp > now
        {
            return Err(JtiError::Replayed);
        }
        if self.map.len() >= self.cap {
            self.map.retain(|_, e| *e > now);
            if self.map.len() >= self.cap {
                return Err(JtiError::Full);
            }
        }
        self.map.insert(key, exp);
        Ok(())
    }
}

/// A phone line the provider has authenticated, with its SHA-256 precomputed for hashed verify.
#[derive(Debug)]
pub(crate) struct Line {
    pub msisdn: Box<str>,
    /// Lowercase hex SHA-256 of the UTF-8 string `+<digits>` (NV `hashedPhoneNumber`).
    pub sha256_hex: Box<str>,
}

impl Line {
    pub(crate) fn new(msisdn: &str) -> Self {
        Self {
            msisdn: msisdn.into(),
            sha256_hex: hex::encode(Sha256::digest(msisdn.as_bytes())).into(),
        }
    }
}

/// A TS.43 operator token: the line it stands for, until when.
struct OperatorToken {
    msisdn: String,
    expires_at: Instant,
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

struct CibaEntry {
    req: CibaRequest,
    expires_at: Instant,
    /// Polls still to be answered `authorization_pending`.
    pending_left: u32,
    last_poll: Option<Instant>,
    /// Tokens were issued: the `auth_req_id` is spent.
    done: bool,
}

/// Result of a CIBA token poll (CIBA Core §11).
pub(crate) enum CibaPoll {
    Unknown,
    OtherClient,
    Expired,
    Used,
    SlowDown,
    Pending,
    Ready(Box<CibaRequest>),
}

/// Expiring maps purged in bulk when they grow past `next_purge`.
struct Purging<V> {
    map: HashMap<String, V>,
    next_purge: usize,
}

impl<V> Default for Purging<V> {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            next_purge: 1024,
        }
    }
}

impl<V> Purging<V> {
    /// Makes room for one more entry: purges with `live` when due; false when still at `cap`.
    fn make_room(&mut self, cap: usize, live: impl Fn(&V) -> bool) -> bool {
        if self.map.len() >= self.next_purge.min(cap) {
            self.map.retain(|_, v| live(v));
            self.next_purge = (self.map.len() * 2).max(1024);
        }
        self.map.len() < cap
    }
}

struct Subject {
    line: Arc<Line>,
    /// Unix seconds until which some access token for this subject may still be valid.
    live_until: u64,
}

#[derive(Default)]
struct SubjectMap {
    map: HashMap<String, Subject>,
    next_purge: usize,
}

/// A registered client with its parsed key.
pub(crate) struct Client {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub auth_methods: Vec<AuthMethod>,
    pub key: Option<DecodingKey>,
    pub secret: Option<Secret>,
    pub access_token_ttl: u64,
    /// Authorization-code lifetime (the client's, else the global one).
    pub code_ttl: Duration,
    pub require_pkce: bool,
}

/// Shared state of one provider instance. Cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("issuer", &self.0.issuer)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub config: ProviderConfig,
    /// The spec version served (copied from the config for the hot path).
    pub version: SpecVersion,
    /// Active fault switches.
    pub faults: FaultSet,
    /// Access tokens are single-use (wip or `single_use_tokens`, and not `api-token-reusable`).
    pub single_use: bool,
    /// The version's x-correlator rule.
    pub correlator_rule: CorrelatorRule,
    /// Public URL without trailing slash: the OIDC issuer.
    pub issuer: String,
    /// Path of the public URL without trailing slash (`""` at the root); routes are nested here.
    pub public_path: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// CIBA backchannel authentication endpoint `{issuer}/bc-authorize`.
    pub backchannel_endpoint: String,
    pub signing_key: EncodingKey,
    /// Signs ID tokens under the `id-token-bad-signature` fault (not in the JWKS).
    pub foreign_signing_key: EncodingKey,
    pub kid: String,
    /// The public JWK set served at `/jwks`.
    pub jwks: serde_json::Value,
    /// HS256 key for access tokens: random per instance, never leaves the process.
    pub at_encoding: EncodingKey,
    pub at_decoding: DecodingKey,
    pub at_validation: Validation,
    pairwise_secret: [u8; 32],
    pub clients: HashMap<String, Client>,
    pub ip_table: HashMap<IpAddr, String>,
    pub enrichment_header: HeaderName,
    /// The first configured line: what a forged token stands for under `api-signature-not-checked`
    /// and an unknown operator token under `ciba-unknown-login-hint-accepted`.
    pub fallback_line: Arc<Line>,
    codes: Mutex<CodeStore>,
    jtis: Mutex<ExpiringSet<String>>,
    subjects: RwLock<SubjectMap>,
    operator_tokens: Mutex<Purging<OperatorToken>>,
    ciba: Mutex<Purging<CibaEntry>>,
    /// SHA-256 prefixes of used single-use access tokens.
    used_tokens: Mutex<ExpiringSet<[u8; 16]>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned store only means a panic happened while it was held; its data is still
    // structurally valid maps.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AppState {
    /// Builds the state: parses keys, generates the per-instance access-token key and pairwise
    /// secret. `public_url` (http or https, no query or fragment) becomes the issuer.
    pub fn new(mut config: ProviderConfig, public_url: url::Url) -> Result<Self, ProviderError> {
        // A base path derived from the spec version follows a version set after loading.
        config.resolve_api_base_path();
        config.validate()?;
        let bad_url = |reason: &str| ProviderError::PublicUrl {
            url: public_url.to_string(),
            reason: reason.to_owned(),
        };
        if !matches!(public_url.scheme(), "http" | "https") || !public_url.has_host() {
            return Err(bad_url("must be an absolute http(s) URL"));
        }
        // OIDC Discovery §3: the issuer has no query or fragment.
        if public_url.query().is_some() || public_url.fragment().is_some() {
            return Err(bad_url("must not have a query or fragment"));
        }
        if !public_url.username().is_empty() || public_url.password().is_some() {
            return Err(bad_url("must not carry user info"));
        }
        let issuer = public_url.as_str().trim_end_matches('/').to_owned();
        let public_path = public_url.path().trim_end_matches('/').to_owned();

        let invalid = |field: &str, reason: String| ProviderError::Invalid {
            file: config.origin.clone(),
            field: field.to_owned(),
            reason,
        };
        let pem = config
            .signing_key_pem
            .as_ref()
            .ok_or_else(|| invalid("signing_key_file", "key not loaded".into()))?;
        let signing_key = EncodingKey::from_ec_pem(pem.expose().as_bytes())
            .map_err(|e| invalid("signing_key_file", format!("not a P-256 PKCS#8 key: {e}")))?;
        let mut jwk = Jwk::from_encoding_key(&signing_key, Algorithm::ES256)
            .map_err(|e| invalid("signing_key_file", format!("cannot derive JWK: {e}")))?;
        jwk.common.key_id = Some(config.signing_key_id.clone());
        let foreign_signing_key = EncodingKey::from_ec_pem(FOREIGN_ID_TOKEN_KEY.as_bytes())
            .map_err(|e| invalid("signing_key_file", format!("built-in foreign key: {e}")))?;
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let jwks = serde_json::json!({ "keys": [jwk] });

        let mut clients = HashMap::new();
        for (i, c) in config.clients.iter().enumerate() {
            let key = match &c.public_key_pem {
                Some(p) => Some(DecodingKey::from_ec_pem(p.as_bytes()).map_err(|e| {
                    invalid(
                        &format!("clients[{i}].public_key_file"),
                        format!("not an EC public key: {e}"),
                    )
                })?),
                None => None,
            };
            clients.insert(
                c.client_id.clone(),
                Client {
                    client_id: c.client_id.clone(),
                    redirect_uris: c.redirect_uris.clone(),
                    auth_methods: c.token_endpoint_auth_methods.clone(),
                    key,
                    secret: c.client_secret.clone(),
                    access_token_ttl: c.access_token_ttl_seconds,
                    code_ttl: Duration::from_secs(
                        c.code_ttl_seconds.unwrap_or(config.code_ttl_seconds),
                    ),
                    require_pkce: c.require_pkce,
                },
            );
        }
        let ip_table = config
            .ip_lines
            .iter()
            .map(|l| (canonical_ip(l.source_ip), l.msisdn.clone()))
            .collect();
        let enrichment_header = HeaderName::from_bytes(config.enrichment_header.as_bytes())
            .map_err(|e| invalid("enrichment_header", e.to_string()))?;

        let mut rng = rand::rng();
        let mut at_secret = [0u8; 32];
        rng.fill_bytes(&mut at_secret);
        let mut pairwise_secret = [0u8; 32];
        rng.fill_bytes(&mut pairwise_secret);

        let mut at_validation = Validation::new(Algorithm::HS256);
        // Expiry is checked by the API with sub-second precision (a 1-second token must fail after
        // 1 second, not after 2 or 62); `exp` must still be present.
        at_validation.validate_exp = false;
        at_validation.leeway = 0;
        at_validation.set_issuer(&[&issuer]);
        at_validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        at_validation.validate_aud = false;

        let faults: FaultSet = config.faults.iter().copied().collect();
        let fallback_msisdn = config
            .lines
            .first()
            .map(|l| l.msisdn.as_str())
            .or_else(|| config.ip_lines.first().map(|l| l.msisdn.as_str()))
            .unwrap_or("+10000000000");
        let inner = Inner {
            version: config.spec_version,
            faults,
            single_use: config.single_use() && !faults.has(Fault::ApiTokenReusable),
            correlator_rule: config.spec_version.correlator_rule(),
            authorization_endpoint: format!("{issuer}/authorize"),
            token_endpoint: format!("{issuer}/token"),
            jwks_uri: format!("{issuer}/jwks"),
            backchannel_endpoint: format!("{issuer}/bc-authorize"),
            issuer,
            public_path,
            signing_key,
            foreign_signing_key,
            fallback_line: Arc::new(Line::new(fallback_msisdn)),
            kid: config.signing_key_id.clone(),
            jwks,
            at_encoding: EncodingKey::from_secret(&at_secret),
            at_decoding: DecodingKey::from_secret(&at_secret),
            at_validation,
            pairwise_secret,
            clients,
            ip_table,
            enrichment_header,
            codes: Mutex::new(CodeStore::default()),
            jtis: Mutex::new(ExpiringSet::new(MAX_JTIS)),
            subjects: RwLock::new(SubjectMap {
                map: HashMap::new(),
                next_purge: 1024,
            }),
            operator_tokens: Mutex::new(Purging::default()),
            ciba: Mutex::new(Purging::default()),
            used_tokens: Mutex::new(ExpiringSet::new(MAX_USED_TOKENS)),
            config,
        };
        Ok(Self(Arc::new(inner)))
    }

    /// The issuer (public URL without trailing slash).
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The config this state was built from (with the effective `api_base_path`).
    pub fn config(&self) -> &ProviderConfig {
        &self.0.config
    }

    /// The spec version served.
    pub fn spec_version(&self) -> SpecVersion {
        self.0.version
    }

    /// The active fault switches.
    pub fn faults(&self) -> FaultSet {
        self.0.faults
    }
}

/// IPv4-mapped IPv6 source addresses (dual-stack sockets) compare as IPv4.
pub(crate) fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Store full: the caller answers `temporarily_unavailable`.
#[derive(Debug)]
pub(crate) struct StoreFull;

/// Why a client-assertion `jti` was refused.
#[derive(Debug)]
pub(crate) enum JtiError {
    Replayed,
    Full,
}

impl Inner {
    /// Stores a new code for `ttl`, returning it (256 random bits, base64url).
    pub(crate) fn issue_code(&self, grant: CodeGrant, ttl: Duration) -> Result<String, StoreFull> {
        let code = super::extract::random_b64url(32);
        let now = Instant::now();
        let mut store = lock(&self.codes);
        store.purge(now, self.faults.has(Fault::CodeExpiryNotChecked));
        if store.map.len() >= MAX_CODES {
            return Err(StoreFull);
        }
        let expires_at = now + ttl;
        store.map.insert(
            code.clone(),
            CodeEntry {
                expires_at,
                grant: Some(grant),
            },
        );
        store.order.push_back((expires_at, code.clone()));
        Ok(code)
    }

    /// Presents a code: the first presentation consumes it, whatever happens next (unless the
    /// `code-reusable` fault is set; `code-expiry-not-checked` skips the expiry test).
    pub(crate) fn take_code(&self, code: &str) -> CodeLookup {
        let now = Instant::now();
        let mut store = lock(&self.codes);
        let Some(entry) = store.map.get_mut(code) else {
            return CodeLookup::Unknown;
        };
        if entry.expires_at <= now && !self.faults.has(Fault::CodeExpiryNotChecked) {
            return CodeLookup::Expired;
        }
        let grant = if self.faults.has(Fault::CodeReusable) {
            entry.grant.clone()
        } else {
            entry.grant.take()
        };
        match grant {
            Some(g) => CodeLookup::Found(Box::new(g)),
            None => CodeLookup::AlreadyUsed,
        }
    }

    /// Remembers a client assertion's `jti` until `exp` (RFC 7523 §3 item 7: replay protection).
    pub(crate) fn record_jti(&self, client_id: &str, jti: &str, exp: u64) -> Result<(), JtiError> {
        let now = super::extract::now_unix();
        let key = format!("{client_id}\u{0}{jti}");
        lock(&self.jtis).insert_new(key, exp, now)
    }

    /// Marks a single-use access token as used (keyed by a SHA-256 prefix of the token, until its
    /// `exp`); `Replayed` when it was used before.
    pub(crate) fn consume_access_token(&self, token: &str, exp: u64) -> Result<(), JtiError> {
        let now = super::extract::now_unix();
        let digest = Sha256::digest(token.as_bytes());
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        // Kept one second past exp: exp is compared with sub-second precision by the API.
        lock(&self.used_tokens).insert_new(key, exp.saturating_add(1), now)
    }

    /// Stores a single-use TS.43 operator token for `msisdn`, valid `ttl`.
    pub(crate) fn issue_operator_token(
        &self,
        msisdn: &str,
        ttl: Duration,
    ) -> Result<String, StoreFull> {
        let token = super::extract::random_b64url(32);
        let now = Instant::now();
        let mut store = lock(&self.operator_tokens);
        if !store.make_room(MAX_OPERATOR_TOKENS, |t| t.expires_at > now) {
            return Err(StoreFull);
        }
        store.map.insert(
            token.clone(),
            OperatorToken {
                msisdn: msisdn.to_owned(),
                expires_at: now + ttl,
            },
        );
        Ok(token)
    }

    /// Redeems an operator token: its MSISDN, or `None` when unknown, used or expired. Any
    /// presentation consumes it.
    pub(crate) fn take_operator_token(&self, token: &str) -> Option<String> {
        let now = Instant::now();
        let t = lock(&self.operator_tokens).map.remove(token)?;
        (t.expires_at > now).then_some(t.msisdn)
    }

    /// Stores a CIBA request, returning its `auth_req_id` (256 random bits, base64url).
    pub(crate) fn issue_ciba(
        &self,
        req: CibaRequest,
        ttl: Duration,
        pending_polls: u32,
    ) -> Result<String, StoreFull> {
        let id = super::extract::random_b64url(32);
        let now = Instant::now();
        let mut store = lock(&self.ciba);
        if !store.make_room(MAX_CIBA_REQUESTS, |e| e.expires_at > now) {
            return Err(StoreFull);
        }
        store.map.insert(
            id.clone(),
            CibaEntry {
                req,
                expires_at: now + ttl,
                pending_left: pending_polls,
                last_poll: None,
                done: false,
            },
        );
        Ok(id)
    }

    /// One token poll for `auth_req_id` by `client_id` (CIBA Core §10–11). A poll sooner than
    /// `interval` after the previous one is `SlowDown`; the first `pending_polls` others are
    /// `Pending`; then `Ready`, once. `ignore_pending` (fault `ciba-pending-ignored`) answers
    /// `Ready` at once.
    pub(crate) fn poll_ciba(
        &self,
        auth_req_id: &str,
        client_id: &str,
        interval: Duration,
        ignore_pending: bool,
    ) -> CibaPoll {
        let now = Instant::now();
        let mut store = lock(&self.ciba);
        let Some(e) = store.map.get_mut(auth_req_id) else {
            return CibaPoll::Unknown;
        };
        if e.req.client_id != client_id {
            return CibaPoll::OtherClient;
        }
        if e.done {
            return CibaPoll::Used;
        }
        if e.expires_at <= now {
            return CibaPoll::Expired;
        }
        if !ignore_pending {
            let previous = e.last_poll.replace(now);
            if previous.is_some_and(|p| now.duration_since(p) < interval) {
                return CibaPoll::SlowDown;
            }
            if e.pending_left > 0 {
                e.pending_left -= 1;
                return CibaPoll::Pending;
            }
        }
        e.done = true;
        CibaPoll::Ready(Box::new(e.req.clone()))
    }

    /// The pairwise subject of `msisdn` for `client_id` (OIDC Core §8.1): 32 hex chars of
    /// HMAC-SHA256(instance secret, client_id | msisdn). ICM: `sub` must not be the MSISDN nor a
    /// global identifier.
    pub(crate) fn pairwise_sub(&self, client_id: &str, msisdn: &str) -> String {
        // HMAC accepts keys of any length; 32 bytes cannot fail.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.pairwise_secret) else {
            return String::new();
        };
        mac.update(client_id.as_bytes());
        mac.update(b"|");
        mac.update(msisdn.as_bytes());
        let out = mac.finalize().into_bytes();
        hex::encode(&out[..16])
    }

    /// Records `sub → msisdn` until `live_until` (the expiry of the newest token for it).
    pub(crate) fn register_subject(
        &self,
        sub: &str,
        msisdn: &str,
        live_until: u64,
    ) -> Result<(), StoreFull> {
        let now = super::extract::now_unix();
        let mut s = self.subjects.write().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = s.map.get_mut(sub) {
            existing.live_until = existing.live_until.max(live_until);
            return Ok(());
        }
        // Purge when the amortised threshold or the hard cap is reached, whichever is first.
        // Under `api-expired-token-accepted`, subjects of expired tokens are kept a while longer.
        let keep = if self.faults.has(Fault::ApiExpiredTokenAccepted) {
            EXPIRED_GRACE.as_secs()
        } else {
            0
        };
        if s.map.len() >= s.next_purge.clamp(1024, MAX_SUBJECTS) {
            s.map.retain(|_, v| v.live_until.saturating_add(keep) > now);
            s.next_purge = (s.map.len() * 2).max(1024);
            if s.map.len() >= MAX_SUBJECTS {
                return Err(StoreFull);
            }
        }
        let line = Arc::new(Line::new(msisdn));
        s.map.insert(sub.to_owned(), Subject { line, live_until });
        Ok(())
    }

    /// The line behind `sub` (read lock only: this is the NV hot path).
    pub(crate) fn lookup_subject(&self, sub: &str) -> Option<Arc<Line>> {
        let s = self.subjects.read().unwrap_or_else(|e| e.into_inner());
        s.map.get(sub).map(|v| Arc::clone(&v.line))
    }

    /// Number of codes currently held.
    #[cfg(test)]
    pub(crate) fn code_count(&self) -> usize {
        lock(&self.codes).map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> AppState {
        AppState::new(
            ProviderConfig::embedded(),
            url::Url::parse("http://127.0.0.1:1/").expect("url"),
        )
        .expect("state")
    }

    fn grant() -> CodeGrant {
        CodeGrant {
            client_id: "nvcert-demo".into(),
            redirect_uri: "https://client.nvcert.invalid/callback".into(),
            scope: GrantedScope {
                openid: true,
                purpose: "FraudPreventionAndDetection".into(),
                verify: true,
                share: false,
            },
            nonce: None,
            code_challenge: None,
            pkce_plain: false,
            msisdn: "+34600000001".into(),
            authn: AuthnMethod::Network,
            auth_time: 0,
        }
    }

    #[test]
    fn issuer_has_no_trailing_slash_and_jwks_has_kid() {
        let s = state();
        assert_eq!(s.issuer(), "http://127.0.0.1:1");
        let k = &s.0.jwks["keys"][0];
        assert_eq!(k["kty"], "EC");
        assert_eq!(k["crv"], "P-256");
        assert_eq!(k["alg"], "ES256");
        assert_eq!(k["use"], "sig");
        assert_eq!(k["kid"], "nvcert-reference-es256-1");
        assert!(k.get("d").is_none(), "private part must not leak");
    }

    #[test]
    fn public_url_rules() {
        let cfg = ProviderConfig::embedded();
        for bad in ["ftp://x/", "http://x/?a=1", "http://u:p@x/"] {
            let u = url::Url::parse(bad).expect("url");
            assert!(AppState::new(cfg.clone(), u).is_err(), "{bad}");
        }
        let s = AppState::new(
            cfg,
            url::Url::parse("https://op.example/base/").expect("url"),
        )
        .expect("ok");
        assert_eq!(s.issuer(), "https://op.example/base");
        assert_eq!(s.0.public_path, "/base");
    }

    #[test]
    fn codes_are_single_use_and_expire() {
        let s = state();
        let expired = s.0.issue_code(grant(), Duration::ZERO).expect("issued");
        assert!(matches!(s.0.take_code(&expired), CodeLookup::Expired));
        // Issuing purges expired codes, so only the new one is held.
        let code =
            s.0.issue_code(grant(), Duration::from_secs(60))
                .expect("issued");
        assert_eq!(s.0.code_count(), 1);
        assert!(code.len() >= 43);
        assert!(matches!(s.0.take_code(&code), CodeLookup::Found(_)));
        assert!(matches!(s.0.take_code(&code), CodeLookup::AlreadyUsed));
        assert!(matches!(s.0.take_code("nope"), CodeLookup::Unknown));
    }

    #[test]
    fn jti_replay_is_refused_until_exp() {
        let s = state();
        let exp = super::super::extract::now_unix() + 60;
        assert!(s.0.record_jti("c", "j1", exp).is_ok());
        assert!(matches!(
            s.0.record_jti("c", "j1", exp),
            Err(JtiError::Replayed)
        ));
        assert!(s.0.record_jti("other", "j1", exp).is_ok());
    }

    #[test]
    fn pairwise_sub_is_opaque_and_per_client() {
        let s = state();
        let a = s.0.pairwise_sub("nvcert-demo", "+34600000001");
        let b = s.0.pairwise_sub("nvcert-other", "+34600000001");
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(!a.contains("34600000001"));
        assert_eq!(a, s.0.pairwise_sub("nvcert-demo", "+34600000001"));
        s.0.register_subject(&a, "+34600000001", u64::MAX)
            .expect("room");
        let line = s.0.lookup_subject(&a).expect("known");
        assert_eq!(&*line.msisdn, "+34600000001");
        assert_eq!(line.sha256_hex.len(), 64);
    }

    #[test]
    fn operator_tokens_are_single_use() {
        let s = state();
        let t =
            s.0.issue_operator_token("+34600000001", Duration::from_secs(60))
                .expect("room");
        assert_eq!(s.0.take_operator_token(&t).as_deref(), Some("+34600000001"));
        assert_eq!(s.0.take_operator_token(&t), None);
        let t =
            s.0.issue_operator_token("+34600000001", Duration::ZERO)
                .expect("room");
        assert_eq!(s.0.take_operator_token(&t), None, "expired");
    }

    #[test]
    fn ciba_poll_sequence() {
        let s = state();
        let req = CibaRequest {
            client_id: "nvcert-demo".into(),
            scope: grant().scope,
            msisdn: "+34600000001".into(),
            authn: AuthnMethod::Sim,
            auth_time: 0,
        };
        let id =
            s.0.issue_ciba(req.clone(), Duration::from_secs(60), 1)
                .expect("room");
        let zero = Duration::ZERO;
        assert!(matches!(
            s.0.poll_ciba(&id, "nvcert-other", zero, false),
            CibaPoll::OtherClient
        ));
        assert!(matches!(
            s.0.poll_ciba(&id, "nvcert-demo", zero, false),
            CibaPoll::Pending
        ));
        assert!(matches!(
            s.0.poll_ciba(&id, "nvcert-demo", Duration::from_secs(60), false),
            CibaPoll::SlowDown
        ));
        assert!(matches!(
            s.0.poll_ciba(&id, "nvcert-demo", zero, false),
            CibaPoll::Ready(_)
        ));
        assert!(matches!(
            s.0.poll_ciba(&id, "nvcert-demo", zero, false),
            CibaPoll::Used
        ));
        assert!(matches!(
            s.0.poll_ciba("nope", "nvcert-demo", zero, false),
            CibaPoll::Unknown
        ));
        let id = s.0.issue_ciba(req, Duration::ZERO, 0).expect("room");
        assert!(matches!(
            s.0.poll_ciba(&id, "nvcert-demo", zero, false),
            CibaPoll::Expired
        ));
    }

    #[test]
    fn single_use_tokens_are_remembered() {
        let s = state();
        let exp = super::super::extract::now_unix() + 60;
        assert!(s.0.consume_access_token("tok-a", exp).is_ok());
        assert!(matches!(
            s.0.consume_access_token("tok-a", exp),
            Err(JtiError::Replayed)
        ));
        assert!(s.0.consume_access_token("tok-b", exp).is_ok());
    }

    #[test]
    fn ipv4_mapped_is_canonicalised() {
        let ip: IpAddr = "::ffff:127.0.0.2".parse().expect("ip");
        assert_eq!(canonical_ip(ip), "127.0.0.2".parse::<IpAddr>().expect("ip"));
    }
}
