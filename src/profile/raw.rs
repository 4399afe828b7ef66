//! The profile as written in TOML, and its validation into [`Profile`].

use serde::Deserialize;
use std::collections::BTreeMap;

use super::dialect::{Dialect, DialectPurpose};
use super::family::{Family, PHONECHECK_DIALECT};
use super::{
    Client, ClientAuthMethod, DeviceLeg, ExplicitEndpoints, Files, Flows, Lines, NonNetworkLogin,
    OperatorTokenSource, Profile, ProfileError, PurposeStyle, ShortLivedClient, TokenExpiry,
    TokenSource, resolve_secret,
};
use crate::secret::Secret;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    name: Option<String>,
    issuer: String,
    discovery_url: Option<String>,
    api_root: String,
    spec_version: Option<String>,
    timeout_secs: Option<u64>,
    client: RawClient,
    #[serde(default)]
    authorization: RawAuthorization,
    device_leg: Option<RawDeviceLeg>,
    token_source: Option<RawTokenSource>,
    non_network_login: Option<RawNonNetworkLogin>,
    lines: RawLines,
    other_client: Option<RawClient>,
    short_lived_client: Option<RawShortLivedClient>,
    #[serde(default)]
    flows: RawFlows,
    operator_token: Option<RawOperatorToken>,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    dialect: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    jwks_uri: Option<String>,
    backchannel_authentication_endpoint: Option<String>,
    aggregator: Option<super::aggregator::RawAggregator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShortLivedClient {
    #[serde(flatten)]
    client: RawClient,
    code_lifetime_secs: u64,
    token_lifetime_secs: u64,
    expiry_margin_ms: Option<u64>,
    token_expiry: Option<String>,
    token_client_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFlows {
    authorization_code: Option<bool>,
    ciba: Option<bool>,
    jwt_bearer: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperatorToken {
    device_url: Option<String>,
    env: Option<String>,
    command: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClient {
    client_id: String,
    auth_method: Option<String>,
    private_key: Option<String>,
    key_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAuthorization {
    purpose: Option<String>,
    purpose_style: Option<String>,
    pkce: Option<bool>,
    redirect_uri_at_token: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDeviceLeg {
    #[serde(default)]
    pub(super) headers: BTreeMap<String, String>,
    pub(super) local_address: Option<String>,
    pub(super) interface: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTokenSource {
    env: Option<String>,
    command: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNonNetworkLogin {
    authorize_params: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLines {
    device: String,
    other: String,
}

const DEFAULT_PURPOSE: &str = "dpv:FraudPreventionAndDetection";

pub(super) fn url(origin: &str, field: &str, value: &str) -> Result<url::Url, ProfileError> {
    let parsed = url::Url::parse(value).map_err(|e| {
        ProfileError::field(
            origin,
            field,
            "an absolute http(s) URL",
            format!("{value:?} ({e})"),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ProfileError::field(
            origin,
            field,
            "an http or https URL",
            format!("{value:?}"),
        ));
    }
    Ok(parsed)
}

pub(super) fn e164(origin: &str, field: &str, value: &str) -> Result<String, ProfileError> {
    let digits = value.strip_prefix('+').unwrap_or("");
    let ok = (5..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ProfileError::field(
            origin,
            field,
            "an E.164 number with '+' (e.g. \"+34600000001\")",
            format!("{value:?}"),
        ))
    }
}

impl RawProfile {
    pub(super) fn validate(self, origin: &str, files: &Files<'_>) -> Result<Profile, ProfileError> {
        let issuer = url(origin, "issuer", &self.issuer)?;
        let discovery_url = match &self.discovery_url {
            Some(u) => url(origin, "discovery_url", u)?,
            None => {
                let text = format!(
                    "{}/.well-known/openid-configuration",
                    self.issuer.trim_end_matches('/')
                );
                url(origin, "issuer", &text)?
            }
        };
        let api_root = url(origin, "api_root", &self.api_root)?;
        let family = match self.dialect.as_deref() {
            Some(name) => Family::of_dialect(name).unwrap_or_default(),
            None => Family::CamaraNv,
        };
        let dialect = self
            .dialect
            .as_deref()
            .filter(|_| family == Family::CamaraNv)
            .map(|name| dialect_named(origin, name))
            .transpose()?;
        let endpoints = self.explicit_endpoints(origin, &api_root, dialect.as_ref())?;

        let mut raw_client = self.client;
        if family == Family::PhoneCheck && raw_client.redirect_uri.is_none() {
            // PhoneCheck has no redirect to a client: nothing is matched against it.
            raw_client.redirect_uri = Some(PHONECHECK_NO_REDIRECT.to_owned());
        }
        let client = raw_client.validate(origin, "client", None, files)?;
        let other_client = self
            .other_client
            .map(|c| c.validate(origin, "other_client", Some(&client), files))
            .transpose()?;
        let short_lived_client = self
            .short_lived_client
            .map(|c| {
                let lifetime = |field: &str, secs: u64| {
                    if (1..=30).contains(&secs) {
                        Ok(secs)
                    } else {
                        Err(ProfileError::field(
                            origin,
                            &format!("short_lived_client.{field}"),
                            "1..=30 seconds (the suite waits this long)",
                            secs.to_string(),
                        ))
                    }
                };
                let expiry_margin_ms = match c.expiry_margin_ms {
                    None => ShortLivedClient::SAFE_EXPIRY_MARGIN_MS,
                    Some(ms) if ms <= 5000 => ms,
                    Some(ms) => {
                        return Err(ProfileError::field(
                            origin,
                            "short_lived_client.expiry_margin_ms",
                            "0..=5000 milliseconds (the suite waits this long past a lifetime)",
                            ms.to_string(),
                        ));
                    }
                };
                let token_expiry = match c.token_expiry.as_deref() {
                    None | Some("lifetime") => TokenExpiry::Lifetime,
                    Some("exp_claim") => TokenExpiry::ExpClaim,
                    Some(other) => {
                        return Err(ProfileError::field(
                            origin,
                            "short_lived_client.token_expiry",
                            "\"lifetime\" or \"exp_claim\"",
                            format!("{other:?}"),
                        ));
                    }
                };
                let token_client_id = match c.token_client_id {
                    Some(id) if id.trim().is_empty() => {
                        return Err(ProfileError::field(
                            origin,
                            "short_lived_client.token_client_id",
                            "a client_id (or leave the line out)",
                            format!("{id:?}"),
                        ));
                    }
                    id => id,
                };
                Ok::<_, ProfileError>(ShortLivedClient {
                    token_client_id,
                    code_lifetime_secs: lifetime("code_lifetime_secs", c.code_lifetime_secs)?,
                    token_lifetime_secs: lifetime("token_lifetime_secs", c.token_lifetime_secs)?,
                    expiry_margin_ms,
                    token_expiry,
                    client: c.client.validate(
                        origin,
                        "short_lived_client",
                        Some(&client),
                        files,
                    )?,
                })
            })
            .transpose()?;
        let operator_token = match self.operator_token {
            None => None,
            Some(RawOperatorToken {
                device_url: Some(u),
                env: None,
                command: None,
            }) => Some(OperatorTokenSource::Device(url(
                origin,
                "operator_token.device_url",
                &u,
            )?)),
            Some(RawOperatorToken {
                device_url: None,
                env: Some(e),
                command: None,
            }) => Some(OperatorTokenSource::Read(TokenSource::Env(e))),
            Some(RawOperatorToken {
                device_url: None,
                env: None,
                command: Some(c),
            }) => Some(OperatorTokenSource::Read(TokenSource::Command(c))),
            Some(_) => {
                return Err(ProfileError::field(
                    origin,
                    "operator_token",
                    "exactly one of `device_url`, `env` or `command`",
                    "none or several",
                ));
            }
        };
        let purpose = self
            .authorization
            .purpose
            .unwrap_or_else(|| DEFAULT_PURPOSE.to_owned());
        if !purpose.starts_with("dpv:") {
            return Err(ProfileError::field(
                origin,
                "authorization.purpose",
                "a DPV purpose such as \"dpv:FraudPreventionAndDetection\"",
                format!("{purpose:?}"),
            ));
        }
        if let (Some(d), Some(wanted)) = (&dialect, dialect.as_ref().and_then(|d| d.client_auth))
            && client.auth_method != wanted
        {
            return Err(ProfileError::field(
                origin,
                "client.auth_method",
                format!(
                    "{} (the client authentication dialect {} documents)",
                    wanted.as_str(),
                    d.name
                ),
                format!("{:?}", client.auth_method.as_str()),
            ));
        }
        let purpose_style = match self.authorization.purpose_style.as_deref() {
            _ if dialect
                .as_ref()
                .is_some_and(|d| d.purpose == DialectPurpose::InScopeNames) =>
            {
                PurposeStyle::InScopeNames
            }
            None | Some("scope") => PurposeStyle::Scope,
            Some("parameter") => PurposeStyle::Parameter,
            Some(other) => {
                return Err(ProfileError::field(
                    origin,
                    "authorization.purpose_style",
                    "\"scope\" or \"parameter\"",
                    format!("{other:?}"),
                ));
            }
        };

        let device_leg = self.device_leg.map(|d| d.validate(origin)).transpose()?;
        let token_source = match self.token_source {
            None => None,
            Some(RawTokenSource {
                env: Some(e),
                command: None,
            }) => Some(TokenSource::Env(e)),
            Some(RawTokenSource {
                env: None,
                command: Some(c),
            }) => Some(TokenSource::Command(c)),
            Some(_) => {
                return Err(ProfileError::field(
                    origin,
                    "token_source",
                    "exactly one of `env` or `command`",
                    "none or both",
                ));
            }
        };
        if device_leg.is_none() && token_source.is_none() {
            return Err(ProfileError::field(
                origin,
                "device_leg",
                "a [device_leg] table, or a [token_source] when the device leg cannot run here",
                "neither",
            ));
        }
        let non_network_login = self
            .non_network_login
            .map(|n| {
                let mut params = BTreeMap::new();
                for (k, v) in n.authorize_params {
                    let field = format!("non_network_login.authorize_params.{k}");
                    let value = if v.starts_with("env:") || v.starts_with("file:") {
                        resolve_secret(&v, origin, &field, files)?
                    } else {
                        // A test-only login value (e.g. a sandbox OTP); still treated as secret in reports.
                        Secret::new(v)
                    };
                    params.insert(k, value);
                }
                Ok::<_, ProfileError>(NonNetworkLogin {
                    authorize_params: params,
                })
            })
            .transpose()?;
        let lines = Lines {
            device: e164(origin, "lines.device", &self.lines.device)?,
            other: e164(origin, "lines.other", &self.lines.other)?,
        };
        if lines.device == lines.other {
            return Err(ProfileError::field(
                origin,
                "lines.other",
                "a number different from lines.device",
                format!("{:?}", lines.other),
            ));
        }
        let allowed_hosts = self
            .allowed_hosts
            .iter()
            .map(|h| {
                super::normalize_host(h).ok_or_else(|| {
                    ProfileError::field(
                        origin,
                        "allowed_hosts",
                        "host names or IP addresses only (no scheme, port or path), e.g. \"auth.operator.example\"",
                        format!("{h:?}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let aggregator = self
            .aggregator
            .map(|a| a.validate(origin, &allowed_hosts, files))
            .transpose()?;
        let timeout_secs = self.timeout_secs.unwrap_or(10);
        if !(1..=300).contains(&timeout_secs) {
            return Err(ProfileError::field(
                origin,
                "timeout_secs",
                "1..=300",
                timeout_secs.to_string(),
            ));
        }
        Ok(Profile {
            origin: origin.to_owned(),
            name: self.name.unwrap_or_else(|| issuer.to_string()),
            issuer,
            discovery_url,
            api_root,
            spec_version: self.spec_version,
            client,
            purpose,
            purpose_style,
            pkce: self.authorization.pkce.unwrap_or(true)
                && dialect.as_ref().is_none_or(|d| d.pkce),
            redirect_uri_at_token: self.authorization.redirect_uri_at_token.unwrap_or(true),
            device_leg,
            token_source,
            non_network_login,
            lines,
            timeout_secs,
            other_client,
            short_lived_client,
            flows: Flows {
                authorization_code: self.flows.authorization_code.unwrap_or(true),
                ciba: self.flows.ciba.unwrap_or(false),
                jwt_bearer: self.flows.jwt_bearer.unwrap_or(false),
            },
            operator_token,
            allowed_hosts,
            family,
            dialect: dialect.map(Arc::new),
            endpoints,
            aggregator,
        })
    }

    /// `authorization_endpoint`, `token_endpoint` and `jwks_uri` as the profile gives them; a
    /// dialect without discovery supplies the first two from its paths under the API root.
    fn explicit_endpoints(
        &self,
        origin: &str,
        api_root: &url::Url,
        dialect: Option<&Dialect>,
    ) -> Result<Option<ExplicitEndpoints>, ProfileError> {
        let given = |field: &str, value: &Option<String>| {
            value.as_deref().map(|v| url(origin, field, v)).transpose()
        };
        let authorization = given("authorization_endpoint", &self.authorization_endpoint)?;
        let token = given("token_endpoint", &self.token_endpoint)?;
        let jwks_uri = given("jwks_uri", &self.jwks_uri)?;
        let backchannel = given(
            "backchannel_authentication_endpoint",
            &self.backchannel_authentication_endpoint,
        )?;
        let under_root = |field: &str, path: &Option<String>| {
            path.as_deref()
                .map(|p| {
                    let text = format!("{}{p}", api_root.as_str().trim_end_matches('/'));
                    url(origin, field, &text)
                })
                .transpose()
        };
        let (authorization, token) = match dialect.filter(|d| !d.discovery) {
            Some(d) => (
                authorization.or(under_root("api_root", &d.authorization_path)?),
                token.or(under_root("api_root", &d.token_path)?),
            ),
            None => (authorization, token),
        };
        match (authorization, token) {
            (Some(authorization_endpoint), Some(token_endpoint)) => Ok(Some(ExplicitEndpoints {
                authorization_endpoint,
                token_endpoint,
                jwks_uri,
                backchannel_authentication_endpoint: backchannel,
            })),
            (None, None) if jwks_uri.is_none() && backchannel.is_none() => Ok(None),
            _ => Err(ProfileError::field(
                origin,
                if self.token_endpoint.is_none() {
                    "token_endpoint"
                } else {
                    "authorization_endpoint"
                },
                "authorization_endpoint and token_endpoint together (endpoints given without \
                 discovery)",
                "only some of authorization_endpoint, token_endpoint, jwks_uri, \
                 backchannel_authentication_endpoint",
            )),
        }
    }
}

/// The built-in dialect `name`, or an error listing the known ones.
fn dialect_named(origin: &str, name: &str) -> Result<Dialect, ProfileError> {
    match Dialect::builtin(name) {
        Some(Ok(d)) => Ok(d),
        Some(Err(e)) => Err(ProfileError::field(
            origin,
            "dialect",
            "a dialect whose document reads",
            e.to_string(),
        )),
        None => Err(ProfileError::field(
            origin,
            "dialect",
            format!(
                "one of {}, {PHONECHECK_DIALECT}",
                super::dialect::dialect_names().join(", ")
            ),
            format!("{name:?}"),
        )),
    }
}

/// The `redirect_uri` a PhoneCheck client stands for (never contacted, never sent).
const PHONECHECK_NO_REDIRECT: &str = "https://client.nvcert.invalid/phonecheck-has-no-redirect";

impl RawClient {
    /// A client of `section`; secondary clients (`fallback` = the main client) default to
    /// private_key_jwt with the main client's key and redirect URI.
    pub(super) fn validate(
        self,
        origin: &str,
        section: &str,
        fallback: Option<&Client>,
        files: &Files<'_>,
    ) -> Result<Client, ProfileError> {
        if fallback.is_none() && self.auth_method.is_none() {
            return Err(ProfileError::field(
                origin,
                &format!("{section}.auth_method"),
                "one of private_key_jwt, client_secret_basic, client_secret_post",
                "nothing",
            ));
        }
        let auth_method = match self.auth_method.as_deref().unwrap_or("private_key_jwt") {
            "private_key_jwt" => ClientAuthMethod::PrivateKeyJwt,
            "client_secret_basic" => ClientAuthMethod::ClientSecretBasic,
            "client_secret_post" => ClientAuthMethod::ClientSecretPost,
            other => {
                return Err(ProfileError::field(
                    origin,
                    &format!("{section}.auth_method"),
                    "one of private_key_jwt, client_secret_basic, client_secret_post",
                    format!("{other:?}"),
                ));
            }
        };
        let private_key_pem = self
            .private_key
            .as_deref()
            .map(|r| resolve_secret(r, origin, &format!("{section}.private_key"), files))
            .transpose()?
            .or_else(|| fallback.and_then(|f| f.private_key_pem.clone()));
        let client_secret = self
            .client_secret
            .as_deref()
            .map(|r| resolve_secret(r, origin, &format!("{section}.client_secret"), files))
            .transpose()?;
        match auth_method {
            ClientAuthMethod::PrivateKeyJwt if private_key_pem.is_none() => {
                return Err(ProfileError::field(
                    origin,
                    &format!("{section}.private_key"),
                    "a key reference (env:NAME or file:PATH) for private_key_jwt",
                    "nothing",
                ));
            }
            ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost
                if client_secret.is_none() =>
            {
                return Err(ProfileError::field(
                    origin,
                    &format!("{section}.client_secret"),
                    format!(
                        "a secret reference (env:NAME or file:PATH) for {}",
                        auth_method.as_str()
                    ),
                    "nothing",
                ));
            }
            _ => {}
        }
        if let Some(pem) = &private_key_pem {
            jsonwebtoken::EncodingKey::from_ec_pem(pem.expose().as_bytes()).map_err(|e| {
                ProfileError::field(
                    origin,
                    &format!("{section}.private_key"),
                    "a PEM PKCS#8 P-256 (ES256) private key",
                    e.to_string(),
                )
            })?;
        }
        let redirect_uri = match (&self.redirect_uri, fallback) {
            (Some(u), _) => url(origin, &format!("{section}.redirect_uri"), u)?,
            (None, Some(f)) => f.redirect_uri.clone(),
            (None, None) => {
                return Err(ProfileError::field(
                    origin,
                    &format!("{section}.redirect_uri"),
                    "a redirect URI",
                    "nothing",
                ));
            }
        };
        Ok(Client {
            client_id: self.client_id,
            auth_method,
            private_key_pem,
            key_id: self
                .key_id
                .or_else(|| fallback.and_then(|f| f.key_id.clone())),
            client_secret,
            redirect_uri,
        })
    }
}

impl RawDeviceLeg {
    fn validate(self, origin: &str) -> Result<DeviceLeg, ProfileError> {
        self.validate_in(origin, "device_leg")
    }

    /// The device leg of table `section` (e.g. `aggregator.lines[0]`).
    pub(super) fn validate_in(
        self,
        origin: &str,
        section: &str,
    ) -> Result<DeviceLeg, ProfileError> {
        let local_address = self
            .local_address
            .map(|a| {
                a.parse().map_err(|_| {
                    ProfileError::field(
                        origin,
                        &format!("{section}.local_address"),
                        "an IP address",
                        format!("{a:?}"),
                    )
                })
            })
            .transpose()?;
        for name in self.headers.keys() {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(ProfileError::field(
                    origin,
                    &format!("{section}.headers.{name}"),
                    "a valid HTTP header name",
                    format!("{name:?}"),
                ));
            }
        }
        Ok(DeviceLeg {
            headers: self.headers,
            local_address,
            interface: self.interface,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "../../fixtures/keys";

    fn load(text: &str) -> Result<Profile, ProfileError> {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/providers");
        let _ = KEY;
        Profile::from_toml(text, "test.toml", &base)
    }

    const GOOD: &str = r#"
issuer = "http://127.0.0.1:9091"
api_root = "http://127.0.0.1:9091"
[client]
client_id = "nvcert-demo"
auth_method = "private_key_jwt"
private_key = "file:../keys/demo-client-es256.TEST-ONLY.pem"
redirect_uri = "https://client.nvcert.invalid/callback"
[device_leg]
headers = { "x-nvcert-msisdn" = "+34600000001" }
[lines]
device = "+34600000001"
other = "+34600000009"
"#;

    #[test]
    fn a_good_profile_loads() {
        let p = load(GOOD).expect("loads");
        assert_eq!(p.client.auth_method, ClientAuthMethod::PrivateKeyJwt);
        assert_eq!(
            p.discovery_url.as_str(),
            "http://127.0.0.1:9091/.well-known/openid-configuration"
        );
        assert!(p.pkce);
        assert_eq!(p.purpose, DEFAULT_PURPOSE);
    }

    #[test]
    fn errors_name_the_field_expected_and_found() {
        let bad = GOOD.replace("\"private_key_jwt\"", "\"jwt\"");
        let e = load(&bad).unwrap_err().to_string();
        assert!(
            e.contains("test.toml") && e.contains("client.auth_method") && e.contains("\"jwt\""),
            "{e}"
        );

        let bad = GOOD.replace("device = \"+34600000001\"", "device = \"0034600000001\"");
        let e = load(&bad).unwrap_err().to_string();
        assert!(e.contains("lines.device") && e.contains("E.164"), "{e}");

        let bad = GOOD.replace(
            "file:../keys/demo-client-es256.TEST-ONLY.pem",
            "-----BEGIN PRIVATE KEY-----",
        );
        let e = load(&bad).unwrap_err().to_string();
        assert!(
            e.contains("client.private_key") && e.contains("never written inline"),
            "{e}"
        );

        let bad = GOOD.replace(
            "[device_leg]\nheaders = { \"x-nvcert-msisdn\" = \"+34600000001\" }\n",
            "",
        );
        let e = load(&bad).unwrap_err().to_string();
        assert!(
            e.contains("device_leg") && e.contains("token_source"),
            "{e}"
        );

        let e = load("issuer = 3").unwrap_err().to_string();
        assert!(e.contains("test.toml"), "{e}");
    }

    #[test]
    fn secondary_clients_default_to_the_main_key_and_redirect() {
        let text = format!(
            "{GOOD}\n[other_client]\nclient_id = \"nvcert-other\"\nredirect_uri = \"https://other.nvcert.invalid/cb\"\n\n[short_lived_client]\nclient_id = \"nvcert-short-lived\"\ncode_lifetime_secs = 1\ntoken_lifetime_secs = 1\n\n[flows]\nciba = true\n\n[operator_token]\nenv = \"OPTOKEN\"\n"
        );
        let p = load(&text).expect("loads");
        let other = p.other_client.expect("other");
        assert_eq!(other.auth_method, ClientAuthMethod::PrivateKeyJwt);
        assert!(other.private_key_pem.is_some());
        assert_eq!(
            other.redirect_uri.as_str(),
            "https://other.nvcert.invalid/cb"
        );
        let short = p.short_lived_client.expect("short");
        assert_eq!(short.client.redirect_uri, p.client.redirect_uri);
        assert_eq!(
            (short.code_lifetime_secs, short.token_lifetime_secs),
            (1, 1)
        );
        assert!(p.flows.ciba && p.flows.authorization_code && !p.flows.jwt_bearer);

        let bad = text.replace("code_lifetime_secs = 1", "code_lifetime_secs = 60");
        let e = load(&bad).unwrap_err().to_string();
        assert!(e.contains("short_lived_client.code_lifetime_secs"), "{e}");
        let bad = text.replace(
            "token_lifetime_secs = 1",
            "token_lifetime_secs = 1\ntypo = 2",
        );
        assert!(load(&bad).unwrap_err().to_string().contains("typo"));
    }

    #[test]
    fn the_expiry_margin_is_the_safe_one_unless_the_profile_says_otherwise() {
        let text = format!(
            "{GOOD}\n[short_lived_client]\nclient_id = \"nvcert-short-lived\"\ncode_lifetime_secs = 1\ntoken_lifetime_secs = 1\n"
        );
        let short = load(&text)
            .expect("loads")
            .short_lived_client
            .expect("short");
        assert_eq!(
            (short.expiry_margin_ms, short.token_expiry),
            (
                ShortLivedClient::SAFE_EXPIRY_MARGIN_MS,
                TokenExpiry::Lifetime
            )
        );
        let tuned = format!("{text}expiry_margin_ms = 100\ntoken_expiry = \"exp_claim\"\n");
        let short = load(&tuned)
            .expect("loads")
            .short_lived_client
            .expect("short");
        assert_eq!(
            (short.expiry_margin_ms, short.token_expiry),
            (100, TokenExpiry::ExpClaim)
        );
        for (bad, field) in [
            (
                "expiry_margin_ms = 6000",
                "short_lived_client.expiry_margin_ms",
            ),
            ("token_expiry = \"iat\"", "short_lived_client.token_expiry"),
            (
                "token_client_id = \" \"",
                "short_lived_client.token_client_id",
            ),
        ] {
            let e = load(&format!("{text}{bad}\n")).unwrap_err().to_string();
            assert!(e.contains(field), "{bad}: {e}");
        }
        assert_eq!(short.token_client_id, None);
        let twin = format!("{text}token_client_id = \"nvcert-short-token\"\n");
        let short = load(&twin)
            .expect("loads")
            .short_lived_client
            .expect("short");
        assert_eq!(short.token_client_id.as_deref(), Some("nvcert-short-token"));
    }

    #[test]
    fn explicit_endpoints_stand_in_for_discovery() {
        let text = GOOD.replace(
            "api_root = \"http://127.0.0.1:9091\"",
            "api_root = \"http://127.0.0.1:9091\"\nauthorization_endpoint = \"http://a.test/authz\"\ntoken_endpoint = \"http://a.test/tok\"",
        );
        let p = load(&text).expect("loads");
        let e = p.endpoints.expect("explicit");
        assert_eq!(e.authorization_endpoint.as_str(), "http://a.test/authz");
        assert_eq!(e.token_endpoint.as_str(), "http://a.test/tok");
        assert!(e.jwks_uri.is_none());
        assert!(load(GOOD).expect("loads").endpoints.is_none());

        let half = GOOD.replace(
            "api_root = \"http://127.0.0.1:9091\"",
            "api_root = \"http://127.0.0.1:9091\"\ntoken_endpoint = \"http://a.test/tok\"",
        );
        let err = load(&half).unwrap_err().to_string();
        assert!(
            err.contains("authorization_endpoint") && err.contains("together"),
            "{err}"
        );
        let bad = half.replace("http://a.test/tok", "not a url");
        assert!(
            load(&bad)
                .unwrap_err()
                .to_string()
                .contains("token_endpoint")
        );
    }

    #[test]
    fn a_dialect_supplies_its_flow_facts() {
        let basic = GOOD
            .replace("\"private_key_jwt\"", "\"client_secret_basic\"")
            .replace(
                "private_key = \"file:../keys/demo-client-es256.TEST-ONLY.pem\"",
                "client_secret = \"file:../keys/demo-client-secret.TEST-ONLY.txt\"",
            );
        let text = format!("dialect = \"orange-es-v0\"\n{basic}");
        let p = load(&text).expect("loads");
        let d = p.dialect.as_ref().expect("dialect");
        assert_eq!(d.name, "orange-es-v0");
        // No discovery: the dialect's paths under the API root.
        let e = p.endpoints.expect("endpoints from the dialect");
        assert_eq!(
            e.token_endpoint.as_str(),
            "http://127.0.0.1:9091/es/openapi/oauth/v2/token"
        );
        assert_eq!(
            e.authorization_endpoint.as_str(),
            "http://127.0.0.1:9091/camara/oes/number-verification/v0/authorize"
        );
        assert_eq!(p.purpose_style, PurposeStyle::InScopeNames);
        assert!(!p.pkce);

        // The dialect documents HTTP Basic: another method is a profile error.
        let e = load(&format!("dialect = \"orange-es-v0\"\n{GOOD}"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("client.auth_method") && e.contains("client_secret_basic"),
            "{e}"
        );
        let e = load(&format!("dialect = \"acme\"\n{GOOD}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("dialect") && e.contains("orange-es-v0"), "{e}");
    }

    #[test]
    fn the_shipped_dialect_profile_loads() {
        let p = Profile::embedded_dialect("orange-es-v0", &"http://127.0.0.1:7".parse().unwrap())
            .expect("shipped")
            .expect("loads");
        assert_eq!(
            p.endpoints.expect("explicit").token_endpoint.as_str(),
            "http://127.0.0.1:7/es/openapi/oauth/v2/token"
        );
        assert!(p.short_lived_client.is_some());
        assert!(Profile::embedded_dialect("acme", &"http://h".parse().unwrap()).is_none());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let bad = GOOD.replace("[lines]", "[lines]\ndevise = \"+34600000001\"");
        let e = load(&bad).unwrap_err().to_string();
        assert!(e.contains("devise"), "{e}");
    }
}
