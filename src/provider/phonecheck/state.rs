//! The PhoneCheck provider's state: its clients, live tokens, checks and operator sessions.
//! Every store is bounded: expired entries are purged when one is full, and a full store refuses
//! new entries (503) rather than growing.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::RngCore as _;

use super::PhoneCheckFault;
use crate::secret::Secret;

/// Entries a store holds at most (tokens, checks, sessions each).
const MAX_ENTRIES: usize = 200_000;
/// How long a check stays readable after its ttl.
const KEEP_AFTER_TTL: Duration = Duration::from_secs(600);

/// A client registered with the provider.
#[derive(Debug, Clone)]
pub struct PhoneCheckClient {
    /// `client_id`.
    pub client_id: String,
    /// Its secret (HTTP Basic).
    pub secret: Secret,
}

/// How the PhoneCheck provider behaves.
#[derive(Debug, Clone)]
pub struct PhoneCheckConfig {
    /// Registered clients.
    pub clients: Vec<PhoneCheckClient>,
    /// The header the simulated network adds with the line's number (header enrichment).
    pub enrichment_header: String,
    /// A check's ttl in seconds (the guide's example says 60; short here so the expiry check
    /// waits little).
    pub check_ttl_secs: u64,
    /// Access-token lifetime in seconds.
    pub token_ttl_secs: u64,
    /// Rules broken on purpose.
    pub faults: BTreeSet<PhoneCheckFault>,
}

/// The TEST-ONLY secrets of the embedded clients (the same files the PhoneCheck profile names).
const DEMO_SECRET: &str =
    include_str!("../../../fixtures/keys/phonecheck-demo-secret.TEST-ONLY.txt");
const OTHER_SECRET: &str =
    include_str!("../../../fixtures/keys/phonecheck-other-secret.TEST-ONLY.txt");

impl PhoneCheckConfig {
    /// The embedded configuration: clients `phonecheck-demo` and `phonecheck-other`, header
    /// `x-nvcert-msisdn`, checks living 3 s, tokens 3600 s, no fault.
    pub fn embedded() -> Self {
        Self {
            clients: vec![
                PhoneCheckClient {
                    client_id: "phonecheck-demo".to_owned(),
                    secret: Secret::new(DEMO_SECRET.trim_end()),
                },
                PhoneCheckClient {
                    client_id: "phonecheck-other".to_owned(),
                    secret: Secret::new(OTHER_SECRET.trim_end()),
                },
            ],
            enrichment_header: "x-nvcert-msisdn".to_owned(),
            check_ttl_secs: 3,
            token_ttl_secs: 3600,
            faults: BTreeSet::new(),
        }
    }

    /// The same with `faults` added.
    #[must_use]
    pub fn with_faults(mut self, faults: impl IntoIterator<Item = PhoneCheckFault>) -> Self {
        self.faults.extend(faults);
        self
    }
}

/// What a bearer token grants.
#[derive(Debug, Clone)]
pub(super) struct Grant {
    pub client_id: String,
    pub scopes: Vec<String>,
    expires: Instant,
}

impl Grant {
    /// The grant of a request without a token (fault `token-not-required` only).
    pub fn anonymous() -> Self {
        Self {
            client_id: String::new(),
            scopes: Vec::new(),
            expires: Instant::now(),
        }
    }
}

/// One check.
#[derive(Debug, Clone)]
pub(super) struct Check {
    pub id: String,
    pub owner: String,
    pub phone_number: String,
    pub created_unix: u64,
    created: Instant,
    used: bool,
    matched: Option<bool>,
}

impl Check {
    fn expired(&self, ttl: u64) -> bool {
        self.created.elapsed() >= Duration::from_secs(ttl)
    }

    /// `status` and `match` as the API reports them now.
    pub fn status(&self, s: &Shared) -> (&'static str, Option<bool>) {
        match self.matched {
            Some(m) => ("COMPLETED", Some(m)),
            None if self.expired(s.config.check_ttl_secs) => ("EXPIRED", None),
            None if s.has(PhoneCheckFault::WrongStatusBeforeDeviceLeg) => {
                ("COMPLETED", Some(false))
            }
            None => ("ACCEPTED", None),
        }
    }
}

/// Why a check URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeviceLegRefusal {
    Unknown,
    Used,
    Expired,
}

/// An operator session opened by a check URL.
#[derive(Debug, Clone)]
struct Session {
    check_id: String,
    opened: Instant,
}

/// The provider's shared state.
#[derive(Debug)]
pub(super) struct Shared {
    pub config: PhoneCheckConfig,
    /// Public URL without trailing slash.
    pub public: String,
    tokens: Mutex<HashMap<String, Grant>>,
    checks: Mutex<HashMap<String, Check>>,
    sessions: Mutex<HashMap<String, Session>>,
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A random UUID (version 4), the shape of the guide's check ids.
fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Inserts into a bounded map, purging what `stale` says first when it is full.
fn insert_bounded<V>(
    map: &mut HashMap<String, V>,
    key: String,
    value: V,
    stale: impl Fn(&V) -> bool,
) -> bool {
    if map.len() >= MAX_ENTRIES {
        map.retain(|_, v| !stale(v));
        if map.len() >= MAX_ENTRIES {
            return false;
        }
    }
    map.insert(key, value);
    true
}

impl Shared {
    pub fn new(config: PhoneCheckConfig, public_url: &url::Url) -> Self {
        Self {
            config,
            public: public_url.as_str().trim_end_matches('/').to_owned(),
            tokens: Mutex::default(),
            checks: Mutex::default(),
            sessions: Mutex::default(),
        }
    }

    pub fn has(&self, fault: PhoneCheckFault) -> bool {
        self.config.faults.contains(&fault)
    }

    pub fn client_secret_matches(&self, client_id: &str, secret: &str) -> bool {
        self.config
            .clients
            .iter()
            .any(|c| c.client_id == client_id && c.secret.expose() == secret)
    }

    /// A new access token for `client_id`, or `None` when the store is full.
    pub fn issue_token(&self, client_id: &str, scopes: &[String]) -> Option<String> {
        let token = random_hex(24);
        let grant = Grant {
            client_id: client_id.to_owned(),
            scopes: scopes.to_vec(),
            expires: Instant::now() + Duration::from_secs(self.config.token_ttl_secs),
        };
        let now = Instant::now();
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        insert_bounded(&mut tokens, token.clone(), grant, |g| g.expires <= now).then_some(token)
    }

    /// The live grant of `token`.
    pub fn grant(&self, token: &str) -> Option<Grant> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(token)
            .filter(|g| g.expires > Instant::now())
            .cloned()
    }

    /// A new check of `phone_number` owned by `owner`, or `None` when the store is full.
    pub fn create_check(&self, owner: &str, phone_number: &str) -> Option<Check> {
        let check = Check {
            id: uuid_v4(),
            owner: owner.to_owned(),
            phone_number: phone_number.to_owned(),
            created_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            created: Instant::now(),
            used: false,
            matched: None,
        };
        let keep = Duration::from_secs(self.config.check_ttl_secs) + KEEP_AFTER_TTL;
        let mut checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        insert_bounded(&mut checks, check.id.clone(), check.clone(), |c| {
            c.created.elapsed() > keep
        })
        .then_some(check)
    }

    pub fn check(&self, check_id: &str) -> Option<Check> {
        let checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        checks.get(check_id).cloned()
    }

    /// Marks the check's URL used and opens an operator session for it.
    pub fn start_device_leg(&self, check_id: &str) -> Result<String, DeviceLegRefusal> {
        {
            let mut checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
            let check = checks.get_mut(check_id).ok_or(DeviceLegRefusal::Unknown)?;
            if check.used && !self.has(PhoneCheckFault::CheckUrlReusable) {
                return Err(DeviceLegRefusal::Used);
            }
            if check.expired(self.config.check_ttl_secs) && !self.has(PhoneCheckFault::TtlIgnored) {
                return Err(DeviceLegRefusal::Expired);
            }
            check.used = true;
        }
        let session = random_hex(16);
        let value = Session {
            check_id: check_id.to_owned(),
            opened: Instant::now(),
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if insert_bounded(&mut sessions, session.clone(), value, |v| {
            v.opened.elapsed() > Duration::from_secs(60)
        }) {
            Ok(session)
        } else {
            Err(DeviceLegRefusal::Expired)
        }
    }

    /// Ends an operator session: the check's result is whether `line` (E.164 digits) is its
    /// number. `false` when there is no such session.
    pub fn complete_device_leg(&self, session: &str, line: Option<&str>) -> bool {
        let Some(opened) = self
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(session)
        else {
            return false;
        };
        let mut checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        let Some(check) = checks.get_mut(&opened.check_id) else {
            return false;
        };
        let matched = self.has(PhoneCheckFault::MatchAlwaysTrue)
            || line.is_some_and(|l| l == check.phone_number);
        check.matched = Some(matched);
        true
    }
}

/// `YYYY-MM-DDTHH:MM:SS+00:00` of a Unix time (the guide's `created_at` form).
pub(super) fn rfc3339(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00+00:00");
        // The guide's example created_at.
        assert_eq!(rfc3339(1_591_029_810), "2020-06-01T16:43:30+00:00");
    }

    #[test]
    fn check_ids_are_uuids() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
