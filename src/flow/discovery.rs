//! OIDC discovery: the provider's endpoints, as its `/.well-known/openid-configuration` says.

use serde_json::Value;

use super::FlowError;
use crate::exchange::{Exchange, quote_json as short};

/// The parts of a discovery document the flows use.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// `issuer`.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: url::Url,
    /// `token_endpoint`.
    pub token_endpoint: url::Url,
    /// `jwks_uri`, when present.
    pub jwks_uri: Option<url::Url>,
    /// The whole document, for checks of other members.
    pub document: Value,
}

const STEP: &str = "discovery";

impl Discovery {
    /// Parses a discovery response; a provider error when the document lacks what a flow needs.
    pub fn from_exchange(exchange: &Exchange) -> Result<Self, FlowError> {
        let status = exchange.response.status;
        if !status.is_success() {
            return Err(FlowError::provider(
                STEP,
                "HTTP 200 with the discovery document",
                format!("HTTP {status}"),
            ));
        }
        let document: Value = serde_json::from_slice(&exchange.response.body).map_err(|e| {
            FlowError::provider(
                STEP,
                "a JSON discovery document",
                format!("invalid JSON ({e})"),
            )
        })?;
        if !document.is_object() {
            return Err(FlowError::provider(STEP, "a JSON object", short(&document)));
        }
        let text = |name: &str| -> Result<String, FlowError> {
            match document.get(name) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(other) => Err(FlowError::provider(
                    STEP,
                    format!("`{name}` to be a non-empty string"),
                    short(other),
                )),
                None => Err(FlowError::provider(
                    STEP,
                    format!("member `{name}`"),
                    "no such member",
                )),
            }
        };
        let endpoint = |name: &str| -> Result<url::Url, FlowError> {
            let value = text(name)?;
            url::Url::parse(&value).map_err(|e| {
                FlowError::provider(
                    STEP,
                    format!("`{name}` to be an absolute URL"),
                    format!("{value:?} ({e})"),
                )
            })
        };
        Ok(Self {
            issuer: text("issuer")?,
            authorization_endpoint: endpoint("authorization_endpoint")?,
            token_endpoint: endpoint("token_endpoint")?,
            jwks_uri: document
                .get("jwks_uri")
                .and_then(Value::as_str)
                .and_then(|s| url::Url::parse(s).ok()),
            document,
        })
    }

    /// The endpoints a profile gives explicitly, standing in for a discovery document (whose
    /// `document` then holds just them).
    pub fn explicit(issuer: &str, endpoints: &crate::profile::ExplicitEndpoints) -> Self {
        let mut document = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": endpoints.authorization_endpoint.as_str(),
            "token_endpoint": endpoints.token_endpoint.as_str(),
        });
        if let Some(jwks) = &endpoints.jwks_uri {
            document["jwks_uri"] = Value::String(jwks.to_string());
        }
        if let Some(ciba) = &endpoints.backchannel_authentication_endpoint {
            document["backchannel_authentication_endpoint"] = Value::String(ciba.to_string());
        }
        Self {
            issuer: issuer.to_owned(),
            authorization_endpoint: endpoints.authorization_endpoint.clone(),
            token_endpoint: endpoints.token_endpoint.clone(),
            jwks_uri: endpoints.jwks_uri.clone(),
            document,
        }
    }

    /// The string values of array member `name` (empty when absent).
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.document
            .get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}
