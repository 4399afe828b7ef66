//! The profile as written in TOML, and its validation into [`Profile`].

use serde::Deserialize;
use std::collections::BTreeMap;

use super::{
    Client, ClientAuthMethod, DeviceLeg, Files, Lines, NonNetworkLogin, Profile, ProfileError,
    PurposeStyle, TokenSource, resolve_secret,
};
use crate::secret::Secret;

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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    client_id: String,
    auth_method: String,
    private_key: Option<String>,
    key_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAuthorization {
    purpose: Option<String>,
    purpose_style: Option<String>,
    pkce: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeviceLeg {
    #[serde(default)]
    headers: BTreeMap<String, String>,
    local_address: Option<String>,
    interface: Option<String>,
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

fn url(origin: &str, field: &str, value: &str) -> Result<url::Url, ProfileError> {
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

fn e164(origin: &str, field: &str, value: &str) -> Result<String, ProfileError> {
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

        let auth_method = match self.client.auth_method.as_str() {
            "private_key_jwt" => ClientAuthMethod::PrivateKeyJwt,
            "client_secret_basic" => ClientAuthMethod::ClientSecretBasic,
            "client_secret_post" => ClientAuthMethod::ClientSecretPost,
            other => {
                return Err(ProfileError::field(
                    origin,
                    "client.auth_method",
                    "one of private_key_jwt, client_secret_basic, client_secret_post",
                    format!("{other:?}"),
                ));
            }
        };
        let private_key_pem = self
            .client
            .private_key
            .as_deref()
            .map(|r| resolve_secret(r, origin, "client.private_key", files))
            .transpose()?;
        let client_secret = self
            .client
            .client_secret
            .as_deref()
            .map(|r| resolve_secret(r, origin, "client.client_secret", files))
            .transpose()?;
        match auth_method {
            ClientAuthMethod::PrivateKeyJwt if private_key_pem.is_none() => {
                return Err(ProfileError::field(
                    origin,
                    "client.private_key",
                    "a key reference (env:NAME or file:PATH) for private_key_jwt",
                    "nothing",
                ));
            }
            ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost
                if client_secret.is_none() =>
            {
                return Err(ProfileError::field(
                    origin,
                    "client.client_secret",
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
                    "client.private_key",
                    "a PEM PKCS#8 P-256 (ES256) private key",
                    e.to_string(),
                )
            })?;
        }
        let client = Client {
            client_id: self.client.client_id,
            auth_method,
            private_key_pem,
            key_id: self.client.key_id,
            client_secret,
            redirect_uri: url(origin, "client.redirect_uri", &self.client.redirect_uri)?,
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
        let purpose_style = match self.authorization.purpose_style.as_deref() {
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
            pkce: self.authorization.pkce.unwrap_or(true),
            device_leg,
            token_source,
            non_network_login,
            lines,
            timeout_secs,
        })
    }
}

impl RawDeviceLeg {
    fn validate(self, origin: &str) -> Result<DeviceLeg, ProfileError> {
        let local_address = self
            .local_address
            .map(|a| {
                a.parse().map_err(|_| {
                    ProfileError::field(
                        origin,
                        "device_leg.local_address",
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
                    &format!("device_leg.headers.{name}"),
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
    fn unknown_fields_are_refused() {
        let bad = GOOD.replace("[lines]", "[lines]\ndevise = \"+34600000001\"");
        let e = load(&bad).unwrap_err().to_string();
        assert!(e.contains("devise"), "{e}");
    }
}
