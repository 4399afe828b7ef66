//! The bounded stores of one provider instance: authorization codes, client-assertion `jti`s,
//! pairwise subject → line, TS.43 operator tokens, CIBA requests, and used single-use access
//! tokens.
//!
//! Owns the memory bounds (`MAX_*`) that keep a load test from growing the process without limit,
//! and the single-use and expiry bookkeeping of each store. It must not parse requests or decide
//! protocol errors; endpoint modules do that and call the small methods here. The subject lookup
//! is on the NV hot path: a read lock and one map lookup.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::super::extract::{now_unix, random_b64url};
use super::super::fault::{Fault, FaultSet};
use super::bounded::{ExpiringSet, JtiError, Purging, StoreFull, lock};
use super::clients::Line;
use super::grant::{CibaRequest, CodeGrant};

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

/// A TS.43 operator token: the line it stands for, until when.
struct OperatorToken {
    msisdn: String,
    expires_at: Instant,
}

struct CibaEntry {
    req: CibaRequest,
    expires_at: Instant,
    /// Polls still to be answered `authorization_pending`.
    pending_left: u32,
    /// The request or the latest poll, whichever is later.
    last_contact: Instant,
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

struct Subject {
    line: Arc<Line>,
    /// Unix seconds until which some access token for this subject may still be valid.
    live_until: u64,
}

struct SubjectMap {
    map: HashMap<String, Subject>,
    next_purge: usize,
}

/// Every store of one instance, each behind its own lock so flows do not contend.
pub(crate) struct Stores {
    codes: Mutex<CodeStore>,
    jtis: Mutex<ExpiringSet<String>>,
    subjects: RwLock<SubjectMap>,
    operator_tokens: Mutex<Purging<OperatorToken>>,
    ciba: Mutex<Purging<CibaEntry>>,
    /// SHA-256 prefixes of used single-use access tokens.
    used_tokens: Mutex<ExpiringSet<[u8; 16]>>,
    /// Fault `code-expiry-not-checked`: expired codes are still redeemable (and kept a while).
    code_expiry_not_checked: bool,
    /// Fault `code-reusable`: presenting a code does not consume it.
    code_reusable: bool,
    /// Seconds a subject outlives its last access token: [`EXPIRED_GRACE`] under
    /// `api-expired-token-accepted` (so expired tokens still resolve), else 0.
    subject_grace_secs: u64,
}

impl Stores {
    /// Empty stores; `faults` decide which single-use and expiry rules the stores break.
    pub(crate) fn new(faults: FaultSet) -> Self {
        Self {
            codes: Mutex::new(CodeStore::default()),
            jtis: Mutex::new(ExpiringSet::new(MAX_JTIS)),
            subjects: RwLock::new(SubjectMap {
                map: HashMap::new(),
                next_purge: 1024,
            }),
            operator_tokens: Mutex::new(Purging::default()),
            ciba: Mutex::new(Purging::default()),
            used_tokens: Mutex::new(ExpiringSet::new(MAX_USED_TOKENS)),
            code_expiry_not_checked: faults.has(Fault::CodeExpiryNotChecked),
            code_reusable: faults.has(Fault::CodeReusable),
            subject_grace_secs: if faults.has(Fault::ApiExpiredTokenAccepted) {
                EXPIRED_GRACE.as_secs()
            } else {
                0
            },
        }
    }

    /// Stores a new code for `ttl`, returning it (256 random bits, base64url).
    pub(crate) fn issue_code(&self, grant: CodeGrant, ttl: Duration) -> Result<String, StoreFull> {
        let code = random_b64url(32);
        let now = Instant::now();
        let mut codes = lock(&self.codes);
        codes.purge(now, self.code_expiry_not_checked);
        if codes.map.len() >= MAX_CODES {
            return Err(StoreFull);
        }
        let expires_at = now + ttl;
        codes.map.insert(
            code.clone(),
            CodeEntry {
                expires_at,
                grant: Some(grant),
            },
        );
        codes.order.push_back((expires_at, code.clone()));
        Ok(code)
    }

    /// Whether `code` was issued here and is still held (used or not): lets the aggregator tell
    /// its own codes from foreign ones without consuming anything.
    pub(crate) fn knows_code(&self, code: &str) -> bool {
        lock(&self.codes).map.contains_key(code)
    }

    /// Presents a code: the first presentation consumes it, whatever happens next (unless the
    /// `code-reusable` fault is set; `code-expiry-not-checked` skips the expiry test).
    pub(crate) fn take_code(&self, code: &str) -> CodeLookup {
        let now = Instant::now();
        let mut codes = lock(&self.codes);
        let Some(entry) = codes.map.get_mut(code) else {
            return CodeLookup::Unknown;
        };
        if entry.expires_at <= now && !self.code_expiry_not_checked {
            return CodeLookup::Expired;
        }
        let grant = if self.code_reusable {
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
        let now = now_unix();
        let key = format!("{client_id}\u{0}{jti}");
        lock(&self.jtis).insert_new(key, exp, now)
    }

    /// Marks a single-use access token as used (keyed by a SHA-256 prefix of the token, until its
    /// `exp`); `Replayed` when it was used before.
    pub(crate) fn consume_access_token(&self, token: &str, exp: u64) -> Result<(), JtiError> {
        let now = now_unix();
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
        let token = random_b64url(32);
        let now = Instant::now();
        let mut tokens = lock(&self.operator_tokens);
        if !tokens.make_room(MAX_OPERATOR_TOKENS, |t| t.expires_at > now) {
            return Err(StoreFull);
        }
        tokens.map.insert(
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
        let taken = lock(&self.operator_tokens).map.remove(token)?;
        (taken.expires_at > now).then_some(taken.msisdn)
    }

    /// Stores a CIBA request, returning its `auth_req_id` (256 random bits, base64url).
    pub(crate) fn issue_ciba(
        &self,
        req: CibaRequest,
        ttl: Duration,
        pending_polls: u32,
    ) -> Result<String, StoreFull> {
        let id = random_b64url(32);
        let now = Instant::now();
        let mut requests = lock(&self.ciba);
        if !requests.make_room(MAX_CIBA_REQUESTS, |e| e.expires_at > now) {
            return Err(StoreFull);
        }
        requests.map.insert(
            id.clone(),
            CibaEntry {
                req,
                expires_at: now + ttl,
                pending_left: pending_polls,
                // The interval runs from the request, as from a poll (CIBA Core §7.3: the client
                // waits `interval` before polling), so a poll at once is told to slow down.
                last_contact: now,
                done: false,
            },
        );
        Ok(id)
    }

    /// One token poll for `auth_req_id` by `client_id` (CIBA Core §10–11). A poll sooner than
    /// `interval` after the request or the previous poll is `SlowDown`; the first `pending_polls`
    /// others are `Pending`; then `Ready`, once. `ignore_pending` (fault `ciba-pending-ignored`)
    /// answers `Ready` at once.
    pub(crate) fn poll_ciba(
        &self,
        auth_req_id: &str,
        client_id: &str,
        interval: Duration,
        ignore_pending: bool,
    ) -> CibaPoll {
        let now = Instant::now();
        let mut requests = lock(&self.ciba);
        let Some(entry) = requests.map.get_mut(auth_req_id) else {
            return CibaPoll::Unknown;
        };
        if entry.req.client_id != client_id {
            return CibaPoll::OtherClient;
        }
        if entry.done {
            return CibaPoll::Used;
        }
        if entry.expires_at <= now {
            return CibaPoll::Expired;
        }
        if !ignore_pending {
            let previous = std::mem::replace(&mut entry.last_contact, now);
            if now.duration_since(previous) < interval {
                return CibaPoll::SlowDown;
            }
            if entry.pending_left > 0 {
                entry.pending_left -= 1;
                return CibaPoll::Pending;
            }
        }
        entry.done = true;
        CibaPoll::Ready(Box::new(entry.req.clone()))
    }

    /// Records `sub → msisdn` until `live_until` (the expiry of the newest token for it).
    pub(crate) fn register_subject(
        &self,
        sub: &str,
        msisdn: &str,
        live_until: u64,
    ) -> Result<(), StoreFull> {
        let now = now_unix();
        let mut subjects = self.subjects.write().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = subjects.map.get_mut(sub) {
            existing.live_until = existing.live_until.max(live_until);
            return Ok(());
        }
        // Purge when the amortised threshold or the hard cap is reached, whichever is first.
        // Under `api-expired-token-accepted`, subjects of expired tokens are kept a while longer.
        let keep = self.subject_grace_secs;
        if subjects.map.len() >= subjects.next_purge.clamp(1024, MAX_SUBJECTS) {
            subjects
                .map
                .retain(|_, v| v.live_until.saturating_add(keep) > now);
            subjects.next_purge = (subjects.map.len() * 2).max(1024);
            if subjects.map.len() >= MAX_SUBJECTS {
                return Err(StoreFull);
            }
        }
        let line = Arc::new(Line::new(msisdn));
        subjects
            .map
            .insert(sub.to_owned(), Subject { line, live_until });
        Ok(())
    }

    /// The line behind `sub` (read lock only: this is the NV hot path).
    pub(crate) fn lookup_subject(&self, sub: &str) -> Option<Arc<Line>> {
        let subjects = self.subjects.read().unwrap_or_else(|e| e.into_inner());
        subjects.map.get(sub).map(|v| Arc::clone(&v.line))
    }

    /// Number of codes currently held.
    #[cfg(test)]
    pub(crate) fn code_count(&self) -> usize {
        lock(&self.codes).map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::grant::{AuthnMethod, CodeRequest, GrantedScope};
    use super::*;

    fn stores() -> Stores {
        Stores::new(FaultSet::default())
    }

    fn grant() -> CodeGrant {
        CodeGrant {
            request: CodeRequest {
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
            },
            msisdn: "+34600000001".into(),
            authn: AuthnMethod::Network,
            upstream: None,
            auth_time: 0,
        }
    }

    #[test]
    fn codes_are_single_use_and_expire() {
        let stores = stores();
        let expired = stores.issue_code(grant(), Duration::ZERO).expect("issued");
        assert!(matches!(stores.take_code(&expired), CodeLookup::Expired));
        // Issuing purges expired codes, so only the new one is held.
        let code = stores
            .issue_code(grant(), Duration::from_secs(60))
            .expect("issued");
        assert_eq!(stores.code_count(), 1);
        assert!(code.len() >= 43);
        assert!(matches!(stores.take_code(&code), CodeLookup::Found(_)));
        assert!(matches!(stores.take_code(&code), CodeLookup::AlreadyUsed));
        assert!(matches!(stores.take_code("nope"), CodeLookup::Unknown));
    }

    #[test]
    fn code_faults_keep_expired_and_used_codes() {
        let faults: FaultSet = [Fault::CodeExpiryNotChecked, Fault::CodeReusable]
            .into_iter()
            .collect();
        let stores = Stores::new(faults);
        let code = stores.issue_code(grant(), Duration::ZERO).expect("issued");
        assert!(matches!(stores.take_code(&code), CodeLookup::Found(_)));
        assert!(matches!(stores.take_code(&code), CodeLookup::Found(_)));
    }

    #[test]
    fn jti_replay_is_refused_until_exp() {
        let stores = stores();
        let exp = now_unix() + 60;
        assert!(stores.record_jti("c", "j1", exp).is_ok());
        assert!(matches!(
            stores.record_jti("c", "j1", exp),
            Err(JtiError::Replayed)
        ));
        assert!(stores.record_jti("other", "j1", exp).is_ok());
    }

    #[test]
    fn subjects_resolve_to_their_line() {
        let stores = stores();
        stores
            .register_subject("sub-a", "+34600000001", u64::MAX)
            .expect("room");
        let line = stores.lookup_subject("sub-a").expect("known");
        assert_eq!(&*line.msisdn, "+34600000001");
        assert_eq!(line.sha256_hex.len(), 64);
        assert!(stores.lookup_subject("sub-b").is_none());
    }

    #[test]
    fn operator_tokens_are_single_use() {
        let stores = stores();
        let t = stores
            .issue_operator_token("+34600000001", Duration::from_secs(60))
            .expect("room");
        assert_eq!(
            stores.take_operator_token(&t).as_deref(),
            Some("+34600000001")
        );
        assert_eq!(stores.take_operator_token(&t), None);
        let t = stores
            .issue_operator_token("+34600000001", Duration::ZERO)
            .expect("room");
        assert_eq!(stores.take_operator_token(&t), None, "expired");
    }

    #[test]
    fn ciba_poll_sequence() {
        let stores = stores();
        let req = CibaRequest {
            client_id: "nvcert-demo".into(),
            scope: grant().request.scope,
            msisdn: "+34600000001".into(),
            authn: AuthnMethod::Sim,
            auth_time: 0,
        };
        let id = stores
            .issue_ciba(req.clone(), Duration::from_secs(60), 1)
            .expect("room");
        let zero = Duration::ZERO;
        // The interval runs from the request: a poll at once is too early.
        assert!(matches!(
            stores.poll_ciba(&id, "nvcert-demo", Duration::from_secs(60), false),
            CibaPoll::SlowDown
        ));
        assert!(matches!(
            stores.poll_ciba(&id, "nvcert-other", zero, false),
            CibaPoll::OtherClient
        ));
        assert!(matches!(
            stores.poll_ciba(&id, "nvcert-demo", zero, false),
            CibaPoll::Pending
        ));
        assert!(matches!(
            stores.poll_ciba(&id, "nvcert-demo", Duration::from_secs(60), false),
            CibaPoll::SlowDown
        ));
        assert!(matches!(
            stores.poll_ciba(&id, "nvcert-demo", zero, false),
            CibaPoll::Ready(_)
        ));
        assert!(matches!(
            stores.poll_ciba(&id, "nvcert-demo", zero, false),
            CibaPoll::Used
        ));
        assert!(matches!(
            stores.poll_ciba("nope", "nvcert-demo", zero, false),
            CibaPoll::Unknown
        ));
        let id = stores.issue_ciba(req, Duration::ZERO, 0).expect("room");
        assert!(matches!(
            stores.poll_ciba(&id, "nvcert-demo", zero, false),
            CibaPoll::Expired
        ));
    }

    #[test]
    fn single_use_tokens_are_remembered() {
        let stores = stores();
        let exp = now_unix() + 60;
        assert!(stores.consume_access_token("tok-a", exp).is_ok());
        assert!(matches!(
            stores.consume_access_token("tok-a", exp),
            Err(JtiError::Replayed)
        ));
        assert!(stores.consume_access_token("tok-b", exp).is_ok());
    }
}
