//! A small NV provider made of wiremock mocks, correct by default. A test breaks one rule by
//! mounting a mock of higher priority (lower number) for the same request.
//!
//! Codes and tokens encode what the mock needs to remember (scopes, network login), so the mock
//! keeps no state: `code = "code." + base64(scope "|" login)`, `token = "tok." + same`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::{DEVICE, ENRICH, sha256_hex};

/// Priority of the correct mocks; overrides use 1.
pub const BASE_PRIORITY: u8 = 10;
pub const BASE: &str = "/number-verification/v2";
const CORRELATOR: &str = r"^[a-zA-Z0-9-_:;./<>{}]{0,256}$";

fn query(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn form(req: &Request, name: &str) -> Option<String> {
    url::form_urlencoded::parse(&req.body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `{"status", "code", "message"}` with the request's valid correlator echoed.
pub fn error(req: &Request, status: u16, code: &str) -> ResponseTemplate {
    with_correlator(
        req,
        ResponseTemplate::new(status).set_body_json(
            json!({"status": status, "code": code, "message": format!("mock says {code}")}),
        ),
    )
}

pub fn with_correlator(req: &Request, t: ResponseTemplate) -> ResponseTemplate {
    match req
        .headers
        .get("x-correlator")
        .and_then(|v| v.to_str().ok())
    {
        Some(c) if regex::Regex::new(CORRELATOR).expect("regex").is_match(c) => {
            t.insert_header("x-correlator", c)
        }
        _ => t,
    }
}

fn authorize(req: &Request) -> ResponseTemplate {
    let redirect = query(req, "redirect_uri").unwrap_or_default();
    let state = query(req, "state").unwrap_or_default();
    let scope = query(req, "scope").unwrap_or_default();
    let network = req.headers.get(ENRICH).is_some();
    let otp = query(req, "test_otp").as_deref() == Some("246810");
    if !network && !otp {
        let loc = format!(
            "{redirect}?error=login_required&state={}",
            urlencode(&state)
        );
        return ResponseTemplate::new(302).insert_header("location", loc.as_str());
    }
    let login = if network { "nba" } else { "otp" };
    let code = format!(
        "code.{}",
        URL_SAFE_NO_PAD.encode(format!("{scope}|{login}"))
    );
    let loc = format!("{redirect}?code={code}&state={}", urlencode(&state));
    ResponseTemplate::new(302).insert_header("location", loc.as_str())
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn token(req: &Request) -> ResponseTemplate {
    let Some(code) = form(req, "code").and_then(|c| c.strip_prefix("code.").map(str::to_owned))
    else {
        return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"}));
    };
    ResponseTemplate::new(200)
        .insert_header("cache-control", "no-store")
        .set_body_json(json!({"access_token": format!("tok.{code}"), "token_type": "Bearer", "expires_in": 300}))
}

/// (scopes, network) of the request's bearer token, if it is one of the mock's.
fn bearer(req: &Request) -> Option<(String, bool)> {
    let value = req.headers.get("authorization")?.to_str().ok()?;
    let tok = value.strip_prefix("Bearer tok.")?;
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(tok).ok()?).ok()?;
    let (scope, login) = decoded.split_once('|')?;
    Some((scope.to_owned(), login == "nba"))
}

/// The API's checks in spec order (401, x-correlator, 403 scope, 403 network): the error
/// answer, or `None` when the request may proceed.
fn guard(req: &Request, scope: &str) -> Option<ResponseTemplate> {
    let Some((scopes, network)) = bearer(req) else {
        return Some(error(req, 401, "UNAUTHENTICATED"));
    };
    let correlator = req
        .headers
        .get("x-correlator")
        .and_then(|v| v.to_str().ok());
    if correlator.is_some_and(|c| !regex::Regex::new(CORRELATOR).expect("regex").is_match(c)) {
        return Some(error(req, 400, "INVALID_ARGUMENT"));
    }
    if !scopes.split(' ').any(|s| s == scope) {
        return Some(error(req, 403, "PERMISSION_DENIED"));
    }
    if !network {
        return Some(error(
            req,
            403,
            "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK",
        ));
    }
    None
}

/// The verify logic of a correct provider; overrides reuse it and then break its answer.
pub fn verify(req: &Request) -> ResponseTemplate {
    if let Some(t) = guard(req, "number-verification:verify") {
        return t;
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&req.body) else {
        return error(req, 400, "INVALID_ARGUMENT");
    };
    let phone = regex::Regex::new(r"^\+[1-9][0-9]{4,14}$").expect("regex");
    let hash = regex::Regex::new(r"^[a-fA-F0-9]{64}$").expect("regex");
    let verified = match (
        body.len(),
        body.get("phoneNumber"),
        body.get("hashedPhoneNumber"),
    ) {
        (1, Some(Value::String(p)), None) if phone.is_match(p) => p == DEVICE,
        (1, None, Some(Value::String(h))) if hash.is_match(h) => {
            h.eq_ignore_ascii_case(&sha256_hex(DEVICE))
        }
        _ => return error(req, 400, "INVALID_ARGUMENT"),
    };
    with_correlator(
        req,
        ResponseTemplate::new(200).set_body_json(json!({"devicePhoneNumberVerified": verified})),
    )
}

/// The share logic of a correct provider.
pub fn share(req: &Request) -> ResponseTemplate {
    if let Some(t) = guard(req, "number-verification:device-phone-number:read") {
        return t;
    }
    with_correlator(
        req,
        ResponseTemplate::new(200).set_body_json(json!({"devicePhoneNumber": DEVICE})),
    )
}

/// The path of the discovery document.
pub const DISCOVERY: &str = "/.well-known/openid-configuration";

/// Starts the mock provider with every correct mock mounted.
pub async fn start() -> MockServer {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("GET"))
        .and(path(DISCOVERY))
        .respond_with(ResponseTemplate::new(200).set_body_json(discovery(&uri)))
        .with_priority(BASE_PRIORITY)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(authorize)
        .with_priority(BASE_PRIORITY)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(token)
        .with_priority(BASE_PRIORITY)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/verify")))
        .respond_with(verify)
        .with_priority(BASE_PRIORITY)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/device-phone-number")))
        .respond_with(share)
        .with_priority(BASE_PRIORITY)
        .mount(&server)
        .await;
    server
}

/// The correct discovery document of the mock at `uri`.
pub fn discovery(uri: &str) -> Value {
    json!({
        "issuer": uri,
        "authorization_endpoint": format!("{uri}/authorize"),
        "token_endpoint": format!("{uri}/token"),
        "jwks_uri": format!("{uri}/jwks"),
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"]
    })
}

/// Mounts `respond` for `METHOD path` above the correct mocks.
pub async fn break_with<R: wiremock::Respond + 'static>(
    server: &MockServer,
    m: &str,
    p: &str,
    respond: R,
) {
    Mock::given(method(m))
        .and(path(p))
        .respond_with(respond)
        .with_priority(1)
        .mount(server)
        .await;
}

/// Mounts `doc` as the discovery document, above the correct one.
pub async fn serve_discovery(server: &MockServer, doc: Value) {
    break_with(
        server,
        "GET",
        DISCOVERY,
        ResponseTemplate::new(200).set_body_json(doc),
    )
    .await;
}

/// Mounts, above the correct authorization endpoint, a `302` to `location` (any URL: another
/// host, a metadata address).
pub async fn redirect_authorize(server: &MockServer, location: &str) {
    break_with(
        server,
        "GET",
        "/authorize",
        ResponseTemplate::new(302).insert_header("location", location),
    )
    .await;
}

/// The path of every request `server` received, in order.
pub async fn requested_paths(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect()
}

/// Mounts, above the correct mocks, a fixed JSON answer with `status` for `METHOD path` (the
/// request's valid x-correlator still echoed, so only the intended rule breaks).
pub async fn answer_json(server: &MockServer, m: &str, p: &str, status: u16, body: Value) {
    let respond = move |req: &Request| {
        with_correlator(
            req,
            ResponseTemplate::new(status).set_body_json(body.clone()),
        )
    };
    break_with(server, m, p, respond).await;
}
