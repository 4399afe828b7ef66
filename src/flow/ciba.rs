//! Operator-token flows (NV 2.0.0+): CIBA in poll mode with `login_hint=operatortoken:…`, and
//! the JWT bearer grant with `sub=operatortoken:…` (NV 2.1.0+). CAMARA ICM §CIBA, §JWT bearer.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::assertion::{AssertionTweak, now_secs};
use super::device::{ClientRole, random_token};
use super::{Flow, FlowError, ObtainedToken, http};
use crate::exchange::Exchange;
use crate::secret::Secret;

/// `grant_type` of a CIBA token poll.
pub const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";
/// `grant_type` of the JWT bearer grant (RFC 7523 §2.1).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Polls after which the client gives up, whatever `expires_in` says.
const MAX_POLLS: usize = 30;

/// An accepted CIBA authentication request.
#[derive(Debug, Clone)]
pub struct CibaStart {
    /// `auth_req_id`.
    pub auth_req_id: Secret,
    /// `interval` (seconds; 5 when absent, CIBA Core §7.3).
    pub interval: u64,
    /// `expires_in` (seconds).
    pub expires_in: u64,
}

impl Flow {
    /// `POST` to the backchannel authentication endpoint with `login_hint` for `nv_scopes`.
    pub async fn ciba_request(
        &self,
        login_hint: &str,
        nv_scopes: &[String],
    ) -> Result<Exchange, FlowError> {
        let discovery = self.discovery().await?;
        let endpoint = discovery
            .document
            .get("backchannel_authentication_endpoint")
            .and_then(Value::as_str)
            .and_then(|u| url::Url::parse(u).ok())
            .ok_or_else(|| match &self.explicit {
                // Endpoints given without discovery: CIBA needs its own named too.
                Some(_) => FlowError::Unavailable(
                    "the profile gives its endpoints explicitly but no \
                     backchannel_authentication_endpoint (CIBA)"
                        .into(),
                ),
                None => FlowError::provider(
                    "discovery",
                    "a `backchannel_authentication_endpoint` URL",
                    "no such member",
                ),
            })?;
        let mut form: Vec<(&'static str, String)> = vec![
            ("scope", self.scope_values(nv_scopes).join(" ")),
            ("login_hint", login_hint.to_owned()),
        ];
        // CIBA Core §7.1: the audience of the client assertion is the OP's issuer.
        let (builder, _) = self.authenticate(
            self.backend.post(endpoint),
            &mut form,
            ClientRole::Main,
            None,
            &discovery.issuer,
            &AssertionTweak::None,
        )?;
        let req = builder
            .form(&form)
            .build()
            .map_err(|e| FlowError::Config(format!("CIBA request: {e}")))?;
        http::send(&self.backend, req, "backchannel authentication endpoint").await
    }

    /// Reads an accepted CIBA answer.
    pub fn ciba_start(&self, exchange: &Exchange) -> Result<CibaStart, FlowError> {
        const STEP: &str = "backchannel authentication endpoint";
        let body = exchange.response.json().unwrap_or(Value::Null);
        if !exchange.response.status.is_success() {
            let error = body.get("error").and_then(Value::as_str).unwrap_or("");
            return Err(FlowError::provider(
                STEP,
                "HTTP 200 with an auth_req_id",
                format!("HTTP {} error={error:?}", exchange.response.status),
            ));
        }
        let id = body
            .get("auth_req_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| FlowError::provider(STEP, "a non-empty `auth_req_id`", "none"))?;
        let auth_req_id = Secret::new(id.to_owned());
        self.redactor.register(&auth_req_id);
        Ok(CibaStart {
            auth_req_id,
            interval: body.get("interval").and_then(Value::as_u64).unwrap_or(5),
            expires_in: body
                .get("expires_in")
                .and_then(Value::as_u64)
                .unwrap_or(120),
        })
    }

    /// One token poll for `start`.
    pub async fn ciba_poll(&self, start: &CibaStart) -> Result<Exchange, FlowError> {
        let discovery = self.discovery().await?;
        let mut form: Vec<(&'static str, String)> = vec![
            ("grant_type", CIBA_GRANT.into()),
            ("auth_req_id", start.auth_req_id.expose().to_owned()),
        ];
        let (builder, _) = self.authenticate(
            self.backend.post(discovery.token_endpoint.clone()),
            &mut form,
            ClientRole::Main,
            None,
            discovery.token_endpoint.as_str(),
            &AssertionTweak::None,
        )?;
        let req = builder
            .form(&form)
            .build()
            .map_err(|e| FlowError::Config(format!("CIBA poll: {e}")))?;
        http::send(&self.backend, req, "token endpoint (CIBA poll)").await
    }

    /// Polls as CIBA Core §7.3/§11 asks (wait `interval`; `slow_down` adds 5 s) until tokens or
    /// an error; the last exchange is returned either way.
    pub async fn ciba_poll_until_done(&self, start: &CibaStart) -> Result<Exchange, FlowError> {
        let deadline = Instant::now() + Duration::from_secs(start.expires_in.min(300));
        let mut interval = start.interval;
        for _ in 0..MAX_POLLS {
            tokio::time::sleep(Duration::from_secs(interval)).await;
            let exchange = self.ciba_poll(start).await?;
            let error = exchange
                .response
                .json()
                .and_then(|b| b.get("error").and_then(Value::as_str).map(str::to_owned));
            match error.as_deref() {
                Some("authorization_pending") if Instant::now() < deadline => {}
                Some("slow_down") if Instant::now() < deadline => interval += 5,
                _ => return Ok(exchange),
            }
        }
        Err(FlowError::provider(
            "token endpoint (CIBA poll)",
            format!("tokens within {MAX_POLLS} polls"),
            "still pending",
        ))
    }

    /// The whole CIBA flow with the device's operator token.
    pub async fn obtain_token_ciba(
        &self,
        nv_scopes: &[String],
    ) -> Result<ObtainedToken, FlowError> {
        if !self.profile.flows.ciba {
            return Err(FlowError::Unavailable(
                "the profile says the provider offers no CIBA flow".into(),
            ));
        }
        let operator_token = self.operator_token().await?;
        let hint = format!("operatortoken:{}", operator_token.expose());
        let start = self.ciba_start(&self.ciba_request(&hint, nv_scopes).await?)?;
        let exchange = self.ciba_poll_until_done(&start).await?;
        let response = self.parse_token_response(&exchange)?;
        Ok(ObtainedToken {
            access_token: response.access_token.clone(),
            response: Some(response),
        })
    }

    /// A JWT bearer token request with `subject`; `audience` overrides the token endpoint.
    pub async fn jwt_bearer_request(
        &self,
        subject: &str,
        nv_scopes: &[String],
        audience: Option<&str>,
    ) -> Result<Exchange, FlowError> {
        let discovery = self.discovery().await?;
        let client = self.client(ClientRole::Main)?;
        let now = now_secs();
        // CAMARA ICM JWT bearer: the scope travels in the assertion, never as a form parameter.
        let claims = json!({
            "iss": client.client.client_id,
            "sub": subject,
            "aud": audience.unwrap_or(discovery.token_endpoint.as_str()),
            "iat": now,
            "exp": now + 60,
            "jti": random_token(16),
            "scope": self.scope_values(nv_scopes).join(" "),
        });
        let assertion = client.key("the JWT bearer grant")?.sign(&claims, None)?;
        self.redactor.register(&assertion);
        let form = [
            ("grant_type", JWT_BEARER_GRANT),
            ("assertion", assertion.expose()),
        ];
        let req = self
            .backend
            .post(discovery.token_endpoint.clone())
            .form(&form)
            .build()
            .map_err(|e| FlowError::Config(format!("JWT bearer request: {e}")))?;
        http::send(&self.backend, req, "token endpoint (JWT bearer)").await
    }

    /// The whole JWT bearer flow with the device's operator token.
    pub async fn obtain_token_jwt_bearer(
        &self,
        nv_scopes: &[String],
    ) -> Result<ObtainedToken, FlowError> {
        if !self.profile.flows.jwt_bearer {
            return Err(FlowError::Unavailable(
                "the profile says the provider offers no JWT bearer grant".into(),
            ));
        }
        let operator_token = self.operator_token().await?;
        let subject = format!("operatortoken:{}", operator_token.expose());
        let exchange = self.jwt_bearer_request(&subject, nv_scopes, None).await?;
        let response = self.parse_token_response(&exchange)?;
        Ok(ObtainedToken {
            access_token: response.access_token.clone(),
            response: Some(response),
        })
    }
}
