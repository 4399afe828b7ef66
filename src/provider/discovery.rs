//! OpenID Provider metadata (`/.well-known/openid-configuration`) and the JWK set (`/jwks`).
//!
//! Owns what the provider advertises. Everything advertised here must be what the other modules
//! actually enforce (e.g. only `S256` PKCE, only `ES256` assertions); it must not hold any
//! behaviour of its own.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::fault::Fault;
use super::state::AppState;
use super::token::supported_grant_types;

/// Routes: `GET /.well-known/openid-configuration`, `GET /jwks`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/jwks", get(jwks))
}

fn json(value: &serde_json::Value) -> Response {
    let mut resp = value.to_string().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The OIDC Discovery §3 metadata document (plus CIBA Core §4 metadata for NV 2.0.0+).
pub(crate) fn metadata(state: &AppState) -> serde_json::Value {
    let provider = &state.0;
    let endpoints = &provider.endpoints;
    let version = provider.version;
    let faults = provider.faults;
    let issuer = if faults.has(Fault::DiscoveryIssuerMismatch) {
        format!("{}/issuer-mismatch", endpoints.issuer)
    } else {
        endpoints.issuer.clone()
    };
    // ICM mandates private_key_jwt; client_secret_basic is offered for simple harnesses.
    let auth_methods: &[&str] = if faults.has(Fault::DiscoveryNoPrivateKeyJwt) {
        &["client_secret_basic"]
    } else {
        &["private_key_jwt", "client_secret_basic"]
    };
    let mut m = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": endpoints.authorization_endpoint,
        "token_endpoint": endpoints.token_endpoint,
        "jwks_uri": endpoints.jwks_uri,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": supported_grant_types(state),
        // ICM: `sub` must not be a global identifier; pairwise identifiers (OIDC Core §8).
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", version.scope_verify(), version.scope_share()],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr"],
        // ICM: signed authentication requests MUST be supported (by value; not by reference).
        "request_parameter_supported": true,
        "request_uri_parameter_supported": false,
        "request_object_signing_alg_values_supported": ["ES256"],
        // NV v2.1.0: the provider implies prompt=none; no other prompt can be honoured.
        "prompt_values_supported": ["none"],
        // RFC 9207: authorization responses carry `iss`.
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
    });
    if provider.offers_ciba() {
        m["backchannel_authentication_endpoint"] = endpoints.backchannel_endpoint.clone().into();
        m["backchannel_token_delivery_modes_supported"] = serde_json::json!(["poll"]);
        m["backchannel_authentication_request_signing_alg_values_supported"] =
            serde_json::json!(["ES256"]);
        m["backchannel_user_code_parameter_supported"] = false.into();
    }
    m
}

async fn openid_configuration(State(state): State<AppState>) -> Response {
    let mut resp = json(&metadata(&state));
    if state.0.faults.has(Fault::DiscoveryContentTypeHtml) {
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    }
    resp
}

async fn jwks(State(state): State<AppState>) -> Response {
    // `application/json` rather than `application/jwk-set+json`: what most clients expect.
    json(&state.0.keys.jwks)
}
