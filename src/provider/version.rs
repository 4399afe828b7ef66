//! The NV spec versions the provider can serve, and the per-version facts it needs.
//!
//! Owns the hard-coded per-version table (base path, scope names, x-correlator pattern, request-body
//! patterns, error messages, which operator-token flows exist) taken from the release notes
//! (`CHANGELOG.md`) and the spec files of each NV release in the public CAMARA repository
//! `camaraproject/NumberVerification` (tags `v0.3.1` to `r3.2`, and `main` for `wip`;
//! `specs/README.md` lists the tag, commit and path each of nvcert's spec copies mirrors). It must
//! not implement any rule itself: the endpoint modules ask it which rule applies.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A released (or the unreleased `wip`) NV API version, in release order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum SpecVersion {
    /// v0.3.1 (pre-ICM, OAuth2 scopes `number-verification-verify-read` / `…-share-read`).
    V0_3_1,
    /// 1.0.0-rc.1 (r1.1).
    V1_0_0Rc1,
    /// 1.0.0 (r1.2, r1.3).
    V1_0_0,
    /// 1.1.0-rc.1 (r2.1; base path `/v1.1.0-rc.1`, sic).
    V1_1_0Rc1,
    /// 1.1.0-rc.2 (r2.2).
    V1_1_0Rc2,
    /// 1.1.0 (r2.3, revoked).
    V1_1_0,
    /// 2.0.0 (r2.4): adds CIBA with a TS.43 operator token.
    V2_0_0,
    /// 2.1.0-rc.1 (r3.1): adds the JWT-bearer flow, Commonalities 0.6 patterns.
    V2_1_0Rc1,
    /// 2.1.0 (r3.2), the latest public release.
    #[default]
    V2_1_0,
    /// `wip` (main, unreleased): single-use, short-lived NV tokens, no refresh tokens.
    Wip,
}

/// Which `x-correlator` rule a version has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CorrelatorRule {
    /// ≤ 1.0.0: no pattern; any value is accepted and echoed.
    Any,
    /// 1.1.0-rc.1 … 2.0.0 (Commonalities 0.5): `^[a-zA-Z0-9-]{0,55}$`.
    Legacy,
    /// 2.1.0-rc.1 and later (Commonalities 0.6): `^[a-zA-Z0-9-_:;.\/<>{}]{0,256}$`.
    Current,
}

impl CorrelatorRule {
    /// The pattern, for error messages.
    pub(crate) fn pattern(self) -> &'static str {
        match self {
            Self::Any => "(any value)",
            Self::Legacy => "^[a-zA-Z0-9-]{0,55}$",
            Self::Current => "^[a-zA-Z0-9-_:;.\\/<>{}]{0,256}$",
        }
    }
}

/// An unknown spec-version name; the message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown NV spec version `{given}`; known versions: {known}")]
pub struct UnknownSpecVersion {
    given: String,
    known: String,
}

impl SpecVersion {
    /// Every supported version, oldest first.
    pub const ALL: [SpecVersion; 10] = [
        Self::V0_3_1,
        Self::V1_0_0Rc1,
        Self::V1_0_0,
        Self::V1_1_0Rc1,
        Self::V1_1_0Rc2,
        Self::V1_1_0,
        Self::V2_0_0,
        Self::V2_1_0Rc1,
        Self::V2_1_0,
        Self::Wip,
    ];

    /// The version string as in the spec's `info.version` (`"2.1.0"`, `"1.1.0-rc.1"`, `"wip"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V0_3_1 => "0.3.1",
            Self::V1_0_0Rc1 => "1.0.0-rc.1",
            Self::V1_0_0 => "1.0.0",
            Self::V1_1_0Rc1 => "1.1.0-rc.1",
            Self::V1_1_0Rc2 => "1.1.0-rc.2",
            Self::V1_1_0 => "1.1.0",
            Self::V2_0_0 => "2.0.0",
            Self::V2_1_0Rc1 => "2.1.0-rc.1",
            Self::V2_1_0 => "2.1.0",
            Self::Wip => "wip",
        }
    }

    /// The API base path of the version's `servers[0].url`.
    pub fn default_api_base_path(self) -> &'static str {
        match self {
            Self::V0_3_1 => "/number-verification/v0",
            Self::V1_0_0Rc1 => "/number-verification/v1rc1",
            Self::V1_0_0 | Self::V1_1_0 => "/number-verification/v1",
            // Non-standard in the release itself (fixed in rc.2).
            Self::V1_1_0Rc1 => "/number-verification/v1.1.0-rc.1",
            Self::V1_1_0Rc2 => "/number-verification/v1rc2",
            Self::V2_0_0 | Self::V2_1_0 => "/number-verification/v2",
            Self::V2_1_0Rc1 => "/number-verification/v2rc1",
            Self::Wip => "/number-verification/vwip",
        }
    }

    /// Scope of `POST /verify`.
    pub fn scope_verify(self) -> &'static str {
        match self {
            Self::V0_3_1 => "number-verification-verify-read",
            _ => "number-verification:verify",
        }
    }

    /// Scope of `GET /device-phone-number`.
    pub fn scope_share(self) -> &'static str {
        match self {
            Self::V0_3_1 => "number-verification-share-read",
            _ => "number-verification:device-phone-number:read",
        }
    }

    /// NV 2.0.0+: CIBA (poll mode) with `login_hint=operatortoken:<TS.43 token>`.
    pub fn supports_ciba(self) -> bool {
        self >= Self::V2_0_0
    }

    /// NV 2.1.0-rc.1+: the JWT-bearer grant with the operator token in `sub`.
    pub fn supports_jwt_bearer(self) -> bool {
        self >= Self::V2_1_0Rc1
    }

    /// NV wip: access tokens with an NV scope are single-use.
    pub fn single_use_tokens(self) -> bool {
        self == Self::Wip
    }

    pub(crate) fn correlator_rule(self) -> CorrelatorRule {
        match self {
            Self::V0_3_1 | Self::V1_0_0Rc1 | Self::V1_0_0 => CorrelatorRule::Any,
            Self::V1_1_0Rc1 | Self::V1_1_0Rc2 | Self::V1_1_0 | Self::V2_0_0 => {
                CorrelatorRule::Legacy
            }
            Self::V2_1_0Rc1 | Self::V2_1_0 | Self::Wip => CorrelatorRule::Current,
        }
    }

    /// `phoneNumber` has the E.164 pattern (1.0.0-rc.1+); v0.3.1 has no pattern and an optional `+`.
    pub(crate) fn phone_number_pattern(self) -> bool {
        self >= Self::V1_0_0Rc1
    }

    /// `hashedPhoneNumber` has the 64-hex pattern (2.1.0-rc.1+).
    pub(crate) fn hashed_phone_number_pattern(self) -> bool {
        self >= Self::V2_1_0Rc1
    }

    /// The 401 `UNAUTHENTICATED` example message of the version.
    pub(crate) fn unauthenticated_message(self) -> &'static str {
        match self {
            Self::V0_3_1 => {
                "Request not authenticated due to missing, invalid, or expired credentials"
            }
            Self::V2_1_0Rc1 | Self::V2_1_0 | Self::Wip => {
                "Request not authenticated due to missing, invalid, or expired credentials. \
                 A new authentication is required."
            }
            _ => "Request not authenticated due to missing, invalid, or expired credentials.",
        }
    }

    /// The 403 `PERMISSION_DENIED` example message of the version.
    pub(crate) fn permission_denied_message(self) -> &'static str {
        match self {
            Self::V0_3_1 => "Client does not have sufficient permissions to perform this action",
            _ => "Client does not have sufficient permissions to perform this action.",
        }
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SpecVersion {
    type Err = UnknownSpecVersion;

    /// Accepts the `info.version` string, optionally prefixed with `v` (`"v2.1.0"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownSpecVersion {
                given: s.to_owned(),
                known: Self::ALL
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl Serialize for SpecVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SpecVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order() {
        for v in SpecVersion::ALL {
            assert_eq!(v.as_str().parse::<SpecVersion>(), Ok(v));
        }
        assert_eq!("v2.1.0".parse::<SpecVersion>(), Ok(SpecVersion::V2_1_0));
        assert_eq!("WIP".parse::<SpecVersion>(), Ok(SpecVersion::Wip));
        let e = "3.0.0".parse::<SpecVersion>().expect_err("unknown");
        assert!(e.to_string().contains("1.1.0-rc.2"), "{e}");
        assert!(SpecVersion::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(SpecVersion::default(), SpecVersion::V2_1_0);
    }

    #[test]
    fn per_version_facts() {
        use SpecVersion::*;
        let paths: Vec<_> = SpecVersion::ALL
            .iter()
            .map(|v| {
                v.default_api_base_path()
                    .trim_start_matches("/number-verification/")
            })
            .collect();
        assert_eq!(
            paths,
            [
                "v0",
                "v1rc1",
                "v1",
                "v1.1.0-rc.1",
                "v1rc2",
                "v1",
                "v2",
                "v2rc1",
                "v2",
                "vwip"
            ]
        );
        assert_eq!(V0_3_1.scope_verify(), "number-verification-verify-read");
        assert_eq!(
            V1_0_0Rc1.scope_share(),
            "number-verification:device-phone-number:read"
        );
        assert!(!V1_1_0.supports_ciba() && V2_0_0.supports_ciba());
        assert!(!V2_0_0.supports_jwt_bearer() && V2_1_0Rc1.supports_jwt_bearer());
        assert_eq!(V1_0_0.correlator_rule(), CorrelatorRule::Any);
        assert_eq!(V2_0_0.correlator_rule(), CorrelatorRule::Legacy);
        assert_eq!(Wip.correlator_rule(), CorrelatorRule::Current);
        assert!(!V0_3_1.phone_number_pattern() && V1_0_0Rc1.phone_number_pattern());
        assert!(!V2_0_0.hashed_phone_number_pattern() && V2_1_0Rc1.hashed_phone_number_pattern());
        assert!(Wip.single_use_tokens() && !V2_1_0.single_use_tokens());
    }
}
