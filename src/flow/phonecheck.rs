//! The PhoneCheck family's flows (IDlayr PhoneCheck v0.1): a client-credentials token, a check
//! created for a phone number, the device's GET of the check URL through every redirect (the
//! same device leg as NV's authorization request: same client, headers, bound address and
//! redirect rules), and the check read back. Like the NV flows, these record and return what the
//! provider said; the checks judge it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::device::DeviceHops;
use super::{ClientRole, Flow, FlowError, TokenResponse};
use crate::exchange::Exchange;
use crate::profile::{Family, Profile};
use crate::secret::Secret;
use crate::spec::SpecDocument;

/// The operations nvcert drives, by their `operationId` in the PhoneCheck document.
pub const OP_TOKEN: &str = "createAccessToken";
/// Creates a check.
pub const OP_CREATE: &str = "createPhoneCheck";
/// Reads a check.
pub const OP_READ: &str = "getPhoneCheck";
/// The check URL (device leg).
pub const OP_CHECK_URL: &str = "phoneCheckRedirect";

/// The scope PhoneCheck resources need (the guide's token request).
pub const SCOPE_PHONE_CHECK: &str = "phone_check";

const STEP_TOKEN: &str = "PhoneCheck token endpoint";
const STEP_CREATE: &str = "PhoneCheck create check";
const STEP_READ: &str = "PhoneCheck read check";
const STEP_DEVICE: &str = "PhoneCheck check_url (device leg)";

/// Where the PhoneCheck operations are, built from the profile's API root and the document.
#[derive(Debug, Clone)]
pub struct PhoneCheckEndpoints {
    /// `POST /oauth2/v1/token`, on the API root itself (the operation declares its own server).
    pub token: url::Url,
    /// `POST {base}/checks`.
    pub checks: url::Url,
    /// `GET {base}/checks/{check_id}`, with `{check_id}` in it.
    read_template: String,
}

impl PhoneCheckEndpoints {
    /// The endpoints of `spec` at `profile`'s API root.
    pub fn new(profile: &Profile, spec: &SpecDocument) -> Result<Self, FlowError> {
        let root = profile.api_root.as_str().trim_end_matches('/');
        let base = format!("{root}{}", spec.base_path().trim_end_matches('/'));
        let path_of = |operation_id: &str| {
            spec.operation(operation_id)
                .map(|o| o.path.clone())
                .ok_or_else(|| {
                    FlowError::Config(format!(
                        "{}: expected an operation {operation_id:?} (the PhoneCheck flows need it)",
                        spec.origin()
                    ))
                })
        };
        let parse = |text: String| {
            url::Url::parse(&text).map_err(|e| {
                FlowError::Config(format!(
                    "profile {}: field `api_root`: cannot build the PhoneCheck URL {text:?}: {e}",
                    profile.origin
                ))
            })
        };
        Ok(Self {
            token: parse(format!("{root}{}", path_of(OP_TOKEN)?))?,
            checks: parse(format!("{base}{}", path_of(OP_CREATE)?))?,
            read_template: format!("{base}{}", path_of(OP_READ)?),
        })
    }

    /// The URL reading check `check_id`.
    pub fn check(&self, check_id: &str) -> Result<url::Url, FlowError> {
        let id: String = url::form_urlencoded::byte_serialize(check_id.as_bytes()).collect();
        let text = self.read_template.replace("{check_id}", &id);
        url::Url::parse(&text)
            .map_err(|e| FlowError::Config(format!("PhoneCheck read URL {text:?}: {e}")))
    }
}

/// A token request and what came of it.
#[derive(Debug, Clone)]
pub struct PhoneCheckToken {
    /// The exchange with the token endpoint.
    pub exchange: Exchange,
    /// The token, when the endpoint issued one.
    pub response: Result<TokenResponse, String>,
}

/// What the device leg of a check ended with.
#[derive(Debug, Clone)]
pub struct CheckUrlOutcome {
    /// Every hop, in order; the last one is the answer that ended the leg.
    pub exchanges: Vec<Exchange>,
}

impl CheckUrlOutcome {
    /// The final answer's status.
    pub fn final_status(&self) -> Option<u16> {
        self.exchanges.last().map(|e| e.response.status.as_u16())
    }
}

/// The E.164 digits the PhoneCheck API takes: the profile's `+447900123456` without its `+`.
pub fn e164_digits(number: &str) -> String {
    number.trim_start_matches('+').to_owned()
}

impl Flow {
    /// The PhoneCheck endpoints, or `Unavailable` when the profile is not of that family.
    pub fn phonecheck(&self) -> Result<&PhoneCheckEndpoints, FlowError> {
        self.phonecheck.as_ref().ok_or_else(|| {
            FlowError::Unavailable(format!(
                "the profile's provider is {}, not {} (select it with dialect = \"{}\")",
                self.profile.family.title(),
                Family::PhoneCheck.title(),
                crate::profile::family::PHONECHECK_DIALECT
            ))
        })
    }

    /// Asks the token endpoint for a client-credentials token with `scope`, authenticating the
    /// client playing `role` with HTTP Basic (the guide's request; RFC 6749 §4.4, §2.3.1).
    pub async fn phonecheck_token(
        &self,
        role: ClientRole,
        scope: &str,
    ) -> Result<PhoneCheckToken, FlowError> {
        let endpoints = self.phonecheck()?;
        let client = &self.client(role)?.client;
        let secret = client.client_secret.as_ref().ok_or_else(|| {
            FlowError::Unavailable(format!(
                "the profile gives no client_secret for {} (PhoneCheck authenticates with HTTP Basic)",
                client.client_id
            ))
        })?;
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = Secret::new(STANDARD.encode(format!(
            "{}:{}",
            encode(&client.client_id),
            encode(secret.expose())
        )));
        self.redactor.register(&basic);
        let form = format!("grant_type=client_credentials&scope={}", encode(scope));
        let request = self
            .backend
            .post(endpoints.token.clone())
            .header("authorization", format!("Basic {}", basic.expose()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .build()
            .map_err(|e| FlowError::Config(format!("PhoneCheck token request: {e}")))?;
        let exchange = self.send(request, STEP_TOKEN).await?;
        let response = self
            .parse_token_response(&exchange)
            .map_err(|e| e.to_string());
        Ok(PhoneCheckToken { exchange, response })
    }

    /// A `phone_check` token for the main client, or the failure that prevented it.
    pub async fn phonecheck_access_token(&self, role: ClientRole) -> Result<Secret, FlowError> {
        let token = self.phonecheck_token(role, SCOPE_PHONE_CHECK).await?;
        token.response.map(|r| r.access_token).map_err(|found| {
            FlowError::provider(STEP_TOKEN, "HTTP 200 with an access_token", found)
        })
    }

    /// `POST /checks` with `body` (`{"phone_number": …}` normally), with `token` as Bearer when
    /// given.
    pub async fn create_check(
        &self,
        token: Option<&Secret>,
        body: &Value,
    ) -> Result<Exchange, FlowError> {
        let endpoints = self.phonecheck()?;
        let mut builder = self
            .backend
            .post(endpoints.checks.clone())
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {}", t.expose()));
        }
        let request = builder
            .build()
            .map_err(|e| FlowError::Config(format!("PhoneCheck create request: {e}")))?;
        self.send(request, STEP_CREATE).await
    }

    /// The body creating a check of `number` (`+E.164` in the profile).
    pub fn check_body(number: &str) -> Value {
        json!({ "phone_number": e164_digits(number) })
    }

    /// `GET /checks/{check_id}` with `token` as Bearer when given.
    pub async fn read_check(
        &self,
        token: Option<&Secret>,
        check_id: &str,
    ) -> Result<Exchange, FlowError> {
        let url = self.phonecheck()?.check(check_id)?;
        let mut builder = self.backend.get(url);
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {}", t.expose()));
        }
        let request = builder
            .build()
            .map_err(|e| FlowError::Config(format!("PhoneCheck read request: {e}")))?;
        self.send(request, STEP_READ).await
    }

    /// The device GETs `check_url` over its leg (the profile's `[device_leg]`: bound address,
    /// interface, enrichment headers) and follows every redirect, as the guide requires.
    pub async fn request_check_url(
        &self,
        check_url: &url::Url,
    ) -> Result<CheckUrlOutcome, FlowError> {
        self.phonecheck()?;
        let api = &self.profile.api_root;
        if check_url.host_str() != api.host_str()
            || check_url.port_or_known_default() != api.port_or_known_default()
        {
            // The device's network identity goes to the provider's own host first, nowhere else.
            return Err(FlowError::provider(
                STEP_DEVICE,
                format!(
                    "a check_url on the API host {}",
                    api.origin().ascii_serialization()
                ),
                super::http::without_query(check_url),
            ));
        }
        let (Some(client), Some(leg)) = (&self.device, &self.profile.device_leg) else {
            return Err(FlowError::Unavailable(
                "the profile has no [device_leg] to request the check URL over".into(),
            ));
        };
        let DeviceHops { exchanges, .. } = self
            .device_hops(
                check_url.clone(),
                client,
                Some(&leg.headers),
                STEP_DEVICE,
                |_| false,
            )
            .await?;
        Ok(CheckUrlOutcome { exchanges })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_the_document_and_the_api_root() {
        let spec = SpecDocument::from_yaml(
            crate::profile::family::PHONECHECK_DOCUMENT,
            crate::profile::family::PHONECHECK_DOCUMENT_ORIGIN,
        )
        .expect("the PhoneCheck document loads");
        let mut profile =
            Profile::embedded_reference(&"http://127.0.0.1:9".parse().unwrap()).unwrap();
        profile.api_root = "https://eu.api.idlayr.example/".parse().unwrap();
        let e = PhoneCheckEndpoints::new(&profile, &spec).unwrap();
        assert_eq!(
            e.token.as_str(),
            "https://eu.api.idlayr.example/oauth2/v1/token"
        );
        assert_eq!(
            e.checks.as_str(),
            "https://eu.api.idlayr.example/phone_check/v0.1/checks"
        );
        assert_eq!(
            e.check("c69bc0e6-a429").unwrap().as_str(),
            "https://eu.api.idlayr.example/phone_check/v0.1/checks/c69bc0e6-a429"
        );
        assert_eq!(e164_digits("+447900123456"), "447900123456");
        assert_eq!(
            Flow::check_body("+447900123456"),
            json!({"phone_number": "447900123456"})
        );
    }
}
