//! The backend leg: exchanging the authorization code at the token endpoint.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::assertion::AssertionTweak;
use super::device::{AuthorizeRequest, ClientRole};
use super::{Flow, FlowError};
use crate::exchange::{Exchange, quote_json as short};
use crate::profile::ClientAuthMethod;
use crate::secret::Secret;

/// `client_assertion_type` for private_key_jwt (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A successful token response, as parsed.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: Secret,
    /// `token_type` as sent.
    pub token_type: String,
    /// `expires_in`, when sent.
    pub expires_in: Option<i64>,
    /// `scope`, when sent.
    pub scope: Option<String>,
    /// `id_token`, when sent.
    pub id_token: Option<Secret>,
    /// Whether a `refresh_token` was sent (its value is not kept).
    pub has_refresh_token: bool,
}

const STEP: &str = "token endpoint";

/// Which `code_verifier` a token request sends.
#[derive(Debug, Clone, Default)]
pub enum VerifierChoice {
    /// The one matching the authorization request's challenge.
    #[default]
    AsIssued,
    /// A fresh random one that matches nothing.
    Wrong,
}

/// How a code-exchange request deviates from the correct one (for negative checks).
#[derive(Debug, Clone, Default)]
pub struct TokenOptions {
    /// Authenticate as this client instead of the one the code was issued to.
    pub client: Option<ClientRole>,
    /// Use this authentication method instead of the client's own.
    pub auth_method: Option<ClientAuthMethod>,
    /// Send this redirect_uri instead of the authorization request's.
    pub redirect_uri: Option<String>,
    /// Which code_verifier to send.
    pub verifier: VerifierChoice,
    /// How the client assertion deviates.
    pub assertion: AssertionTweak,
    /// Add a DPoP proof header (RFC 9449).
    pub dpop: bool,
}

/// A token request as sent, with the client assertion it carried (to replay it).
#[derive(Debug, Clone)]
pub struct TokenAttempt {
    /// The exchange.
    pub exchange: Exchange,
    /// The client assertion sent, if any.
    pub assertion: Option<Secret>,
}

impl Flow {
    /// Adds client authentication for `role` (with `method` and `tweak`) to a token-endpoint
    /// request; returns the builder and the assertion sent.
    pub(crate) fn authenticate(
        &self,
        mut builder: reqwest::RequestBuilder,
        form: &mut Vec<(&'static str, String)>,
        role: ClientRole,
        method: Option<ClientAuthMethod>,
        audience: &str,
        tweak: &AssertionTweak,
    ) -> Result<(reqwest::RequestBuilder, Option<Secret>), FlowError> {
        let entry = self.client(role)?;
        let client = &entry.client;
        let mut sent = None;
        match method.unwrap_or(client.auth_method) {
            ClientAuthMethod::PrivateKeyJwt => {
                let assertion =
                    entry
                        .key("private_key_jwt")?
                        .assertion(&client.client_id, audience, tweak)?;
                self.redactor.register(&assertion);
                form.push(("client_id", client.client_id.clone()));
                form.push(("client_assertion_type", JWT_BEARER_ASSERTION.into()));
                form.push(("client_assertion", assertion.expose().to_owned()));
                sent = Some(assertion);
            }
            ClientAuthMethod::ClientSecretBasic => {
                let secret = client.client_secret.as_ref().ok_or_else(|| {
                    FlowError::Unavailable(format!(
                        "the profile gives no client_secret for {}",
                        client.client_id
                    ))
                })?;
                // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
                let pair = format!(
                    "{}:{}",
                    form_encode(&client.client_id),
                    form_encode(secret.expose())
                );
                let basic = Secret::new(STANDARD.encode(pair));
                self.redactor.register(&basic);
                builder = builder.header("authorization", format!("Basic {}", basic.expose()));
            }
            ClientAuthMethod::ClientSecretPost => {
                let secret = client.client_secret.as_ref().ok_or_else(|| {
                    FlowError::Unavailable(format!(
                        "the profile gives no client_secret for {}",
                        client.client_id
                    ))
                })?;
                form.push(("client_id", client.client_id.clone()));
                form.push(("client_secret", secret.expose().to_owned()));
            }
        }
        Ok((builder, sent))
    }

    /// Sends the code-exchange request and returns the raw exchange (for checks of error answers).
    pub async fn request_token(
        &self,
        code: &Secret,
        request: &AuthorizeRequest,
    ) -> Result<Exchange, FlowError> {
        Ok(self
            .request_token_with(code, request, &TokenOptions::default())
            .await?
            .exchange)
    }

    /// Sends a code-exchange request deviating as `options` say.
    pub async fn request_token_with(
        &self,
        code: &Secret,
        request: &AuthorizeRequest,
        options: &TokenOptions,
    ) -> Result<TokenAttempt, FlowError> {
        let discovery = self.discovery().await?;
        let mut form: Vec<(&'static str, String)> = vec![
            ("grant_type", "authorization_code".into()),
            ("code", code.expose().to_owned()),
        ];
        // A check that sends another redirect_uri sends it whatever the profile says.
        match &options.redirect_uri {
            Some(other) => form.push(("redirect_uri", other.clone())),
            None if self.profile.redirect_uri_at_token => {
                form.push(("redirect_uri", request.redirect_uri.to_string()));
            }
            None => {}
        }
        if let Some(pkce) = &request.pkce {
            let verifier = match options.verifier {
                VerifierChoice::AsIssued => pkce.verifier.expose().to_owned(),
                VerifierChoice::Wrong => super::random_token(32),
            };
            form.push(("code_verifier", verifier));
        }
        let token_endpoint = discovery.token_endpoint.as_str();
        let mut builder = self.backend.post(discovery.token_endpoint.clone());
        let role = options.client.unwrap_or(request.client);
        let (b, assertion) = self.authenticate(
            builder,
            &mut form,
            role,
            options.auth_method,
            token_endpoint,
            &options.assertion,
        )?;
        builder = b;
        if options.dpop {
            let proof = self
                .client(role)?
                .key("a DPoP proof")?
                .dpop_proof("POST", token_endpoint)?;
            builder = builder.header("dpop", proof.expose());
        }
        let req = builder
            .form(&form)
            .build()
            .map_err(|e| FlowError::Config(format!("token request: {e}")))?;
        let exchange = self.transmit(&self.backend, req, STEP).await?;
        Ok(TokenAttempt {
            exchange,
            assertion,
        })
    }

    /// Exchanges `code` for tokens; a provider error unless the answer is a usable Bearer token.
    pub async fn exchange_code(
        &self,
        code: &Secret,
        request: &AuthorizeRequest,
    ) -> Result<(TokenResponse, Exchange), FlowError> {
        let exchange = self.request_token(code, request).await?;
        let token = self.parse_token_response(&exchange)?;
        Ok((token, exchange))
    }

    /// Parses a token endpoint answer, registering every token it carries as a secret.
    pub fn parse_token_response(&self, exchange: &Exchange) -> Result<TokenResponse, FlowError> {
        let body: Option<Value> = exchange.response.json();
        // Register secrets before anything can fail, so even a rejected answer is redacted.
        if let Some(obj) = body.as_ref().and_then(Value::as_object) {
            for name in ["access_token", "id_token", "refresh_token"] {
                if let Some(v) = obj.get(name).and_then(Value::as_str) {
                    self.redactor.register_str(v);
                }
            }
        }
        let status = exchange.response.status;
        if !status.is_success() {
            let error = body
                .as_ref()
                .and_then(|b| b.get("error"))
                .and_then(Value::as_str)
                .map_or_else(String::new, |e| format!(" error={e:?}"));
            return Err(FlowError::provider(
                STEP,
                "HTTP 200 with tokens",
                format!("HTTP {status}{error}"),
            ));
        }
        let Some(Value::Object(obj)) = body else {
            return Err(FlowError::provider(
                STEP,
                "a JSON object",
                "a body that is not a JSON object",
            ));
        };
        let access_token = match obj.get("access_token") {
            Some(Value::String(s)) if !s.is_empty() => Secret::new(s.clone()),
            Some(other) => {
                return Err(FlowError::provider(
                    STEP,
                    "`access_token` as a non-empty string",
                    short(other),
                ));
            }
            None => {
                return Err(FlowError::provider(
                    STEP,
                    "member `access_token`",
                    "no such member",
                ));
            }
        };
        let token_type = match obj.get("token_type") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(FlowError::provider(
                    STEP,
                    "`token_type` as a string",
                    short(other),
                ));
            }
            None => {
                return Err(FlowError::provider(
                    STEP,
                    "member `token_type` (RFC 6749 §5.1)",
                    "no such member",
                ));
            }
        };
        // RFC 6749 §5.1 / RFC 6750: the type is case-insensitive, and nvcert only speaks Bearer.
        if !token_type.eq_ignore_ascii_case("bearer") {
            return Err(FlowError::provider(
                STEP,
                "token_type \"Bearer\"",
                format!("{token_type:?}"),
            ));
        }
        Ok(TokenResponse {
            access_token,
            token_type,
            expires_in: obj.get("expires_in").and_then(Value::as_i64),
            scope: obj.get("scope").and_then(Value::as_str).map(str::to_owned),
            id_token: obj
                .get("id_token")
                .and_then(Value::as_str)
                .map(|s| Secret::new(s.to_owned())),
            has_refresh_token: obj.contains_key("refresh_token"),
        })
    }
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
