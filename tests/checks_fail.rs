//! Every check can fail: a wiremock provider that breaks one rule makes the run fail with a
//! message naming that rule; the same provider unbroken passes.

mod common;

use common::DEVICE;
use common::mock_provider::{self as mock, BASE};
use serde_json::json;
use wiremock::{MockServer, Request, ResponseTemplate};

/// Runs the scenarios selected by `tags` against `server`; returns exit code and all failures.
async fn run(server: &MockServer, tags: &str) -> (u8, String, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = common::write_profile(
        dir.path(),
        &common::profile_text(&server.uri(), "client_secret_basic"),
    );
    let (code, results) =
        common::run_suite(dir.path(), &["--provider", &profile, "--tags", tags]).await;
    (code, common::all_failures(&results), results)
}

async fn assert_breaks(server: &MockServer, tags: &str, expected: &str) {
    let (code, failures, results) = run(server, tags).await;
    assert_eq!(code, 1, "expected the run to fail; results: {results:#}");
    assert!(
        failures.contains(expected),
        "expected a failure containing {expected:?}, got:\n{failures}"
    );
}

#[tokio::test]
async fn the_unbroken_mock_passes_every_scenario() {
    let server = mock::start().await;
    // The mock implements the API, discovery, the device leg and the token exchange, not the
    // security-profile rules (those are broken by the reference provider's faults: tests/faults.rs).
    let (code, failures, results) = run(
        &server,
        "@verify or @share or @invalid_argument or @auth or @correlator or @oidc_discovery or @oidc_device_leg or @oidc_long_state or @oidc_token_exchange",
    )
    .await;
    assert_eq!(code, 0, "failures:\n{failures}\n{results:#}");
    assert!(
        results["summary"]["passed"].as_u64().unwrap_or(0) >= 25,
        "{results:#}"
    );
    assert_eq!(results["summary"]["skipped"], 0, "{results:#}");
}

#[tokio::test]
async fn discovery_without_token_endpoint_fails() {
    let server = mock::start().await;
    let mut doc = mock::discovery(&server.uri());
    doc.as_object_mut().map(|o| o.remove("token_endpoint"));
    mock::serve_discovery(&server, doc).await;
    assert_breaks(
        &server,
        "@oidc_discovery",
        "discovery: expected member `token_endpoint`",
    )
    .await;
}

#[tokio::test]
async fn discovery_with_another_issuer_fails() {
    let server = mock::start().await;
    let mut doc = mock::discovery(&server.uri());
    doc["issuer"] = json!("https://issuer.nvcert.invalid");
    mock::serve_discovery(&server, doc).await;
    assert_breaks(&server, "@oidc_discovery", "discovery issuer: expected").await;
}

#[tokio::test]
async fn altered_state_fails() {
    let server = mock::start().await;
    mock::break_with(&server, "GET", "/authorize", |req: &Request| {
        let redirect = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        ResponseTemplate::new(302).insert_header(
            "location",
            format!("{redirect}?code=code.eA&state=truncated").as_str(),
        )
    })
    .await;
    assert_breaks(&server, "@oidc_device_leg", "returned intact").await;
}

#[tokio::test]
async fn authorize_without_redirect_fails() {
    let server = mock::start().await;
    mock::break_with(
        &server,
        "GET",
        "/authorize",
        ResponseTemplate::new(200).set_body_string("<html>log in</html>"),
    )
    .await;
    assert_breaks(
        &server,
        "@oidc_token_exchange",
        "a redirect to the redirect_uri",
    )
    .await;
}

#[tokio::test]
async fn non_bearer_token_type_fails() {
    let server = mock::start().await;
    mock::break_with(
        &server,
        "POST",
        "/token",
        ResponseTemplate::new(200)
            .insert_header("cache-control", "no-store")
            .set_body_json(json!({"access_token": "tok.x", "token_type": "mac"})),
    )
    .await;
    assert_breaks(
        &server,
        "@oidc_token_exchange",
        "expected token_type \"Bearer\", found \"mac\"",
    )
    .await;
}

#[tokio::test]
async fn cacheable_token_response_fails() {
    let server = mock::start().await;
    mock::break_with(&server, "POST", "/token", |req: &Request| {
        let code = url::form_urlencoded::parse(&req.body)
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let tok = format!("tok.{}", code.trim_start_matches("code."));
        ResponseTemplate::new(200)
            .set_body_json(json!({"access_token": tok, "token_type": "Bearer"}))
    })
    .await;
    assert_breaks(
        &server,
        "@oidc_token_exchange",
        "Cache-Control: expected \"no-store\"",
    )
    .await;
}

#[tokio::test]
async fn wrong_verification_result_fails() {
    let server = mock::start().await;
    mock::answer_json(
        &server,
        "POST",
        &format!("{BASE}/verify"),
        200,
        json!({"devicePhoneNumberVerified": false}),
    )
    .await;
    assert_breaks(
        &server,
        "@verify_plain_true",
        &format!(
            "response property $.devicePhoneNumberVerified: expected true, found false \
             (answer to POST {}{BASE}/verify)",
            server.uri()
        ),
    )
    .await;
}

#[tokio::test]
async fn response_body_off_schema_fails() {
    let server = mock::start().await;
    mock::answer_json(
        &server,
        "POST",
        &format!("{BASE}/verify"),
        200,
        json!({"devicePhoneNumberVerified": "yes"}),
    )
    .await;
    assert_breaks(
        &server,
        "@verify_success_schema",
        "[body-schema] paths./verify.post.responses.200",
    )
    .await;
}

#[tokio::test]
async fn undocumented_error_code_fails() {
    let server = mock::start().await;
    mock::break_with(
        &server,
        "POST",
        &format!("{BASE}/verify"),
        |req: &Request| mock::error(req, 401, "UNAUTHORIZED"),
    )
    .await;
    assert_breaks(
        &server,
        "@auth_401_no_token_verify",
        "[body-schema] paths./verify.post.responses.401",
    )
    .await;
}

#[tokio::test]
async fn error_status_different_from_http_status_fails() {
    let server = mock::start().await;
    mock::answer_json(
        &server,
        "POST",
        &format!("{BASE}/verify"),
        401,
        json!({"status": 400, "code": "UNAUTHENTICATED", "message": "no"}),
    )
    .await;
    assert_breaks(
        &server,
        "@auth_401_no_token_verify",
        "[error-status-matches-http]",
    )
    .await;
}

#[tokio::test]
async fn wrong_content_type_fails() {
    let server = mock::start().await;
    mock::break_with(
        &server,
        "GET",
        &format!("{BASE}/device-phone-number"),
        |req: &Request| {
            mock::with_correlator(
                req,
                ResponseTemplate::new(200)
                    .set_body_raw(r#"{"devicePhoneNumber":"+34600000001"}"#, "text/plain"),
            )
        },
    )
    .await;
    assert_breaks(&server, "@share_success", "[content-type]").await;
}

#[tokio::test]
async fn undocumented_status_fails() {
    let server = mock::start().await;
    mock::break_with(
        &server,
        "POST",
        &format!("{BASE}/verify"),
        |req: &Request| mock::error(req, 418, "TEAPOT"),
    )
    .await;
    assert_breaks(&server, "@verify_plain_true", "[status-documented]").await;
}

#[tokio::test]
async fn correlator_not_echoed_fails() {
    let server = mock::start().await;
    mock::break_with(
        &server,
        "GET",
        &format!("{BASE}/device-phone-number"),
        |_: &Request| {
            ResponseTemplate::new(200).set_body_json(json!({"devicePhoneNumber": DEVICE}))
        },
    )
    .await;
    assert_breaks(&server, "@share_success", "[x-correlator-echo]").await;
}

#[tokio::test]
async fn correlator_off_pattern_fails() {
    let server = mock::start().await;
    mock::break_with(
        &server,
        "GET",
        &format!("{BASE}/device-phone-number"),
        |_: &Request| {
            ResponseTemplate::new(200)
                .insert_header("x-correlator", "bad value=1")
                .set_body_json(json!({"devicePhoneNumber": DEVICE}))
        },
    )
    .await;
    assert_breaks(
        &server,
        "@auth_401_no_token_share or @share_success",
        "[x-correlator-pattern]",
    )
    .await;
}

#[tokio::test]
async fn invalid_correlator_accepted_fails() {
    let server = mock::start().await;
    mock::break_with(
        &server,
        "GET",
        &format!("{BASE}/device-phone-number"),
        |_: &Request| {
            ResponseTemplate::new(200).set_body_json(json!({"devicePhoneNumber": DEVICE}))
        },
    )
    .await;
    assert_breaks(
        &server,
        "@correlator_invalid",
        "response status: expected 400, found 200",
    )
    .await;
}

#[tokio::test]
async fn scope_not_enforced_fails() {
    let server = mock::start().await;
    mock::answer_json(
        &server,
        "POST",
        &format!("{BASE}/verify"),
        200,
        json!({"devicePhoneNumberVerified": true}),
    )
    .await;
    assert_breaks(
        &server,
        "@auth_403_scope_verify",
        "response status: expected 403, found 200",
    )
    .await;
}

#[tokio::test]
async fn network_authentication_not_enforced_fails() {
    let server = mock::start().await;
    mock::answer_json(
        &server,
        "GET",
        &format!("{BASE}/device-phone-number"),
        403,
        json!({"status": 403, "code": "PERMISSION_DENIED", "message": "no"}),
    )
    .await;
    mock::answer_json(
        &server,
        "POST",
        &format!("{BASE}/verify"),
        403,
        json!({"status": 403, "code": "PERMISSION_DENIED", "message": "no"}),
    )
    .await;
    assert_breaks(
        &server,
        "@auth_403_not_network_verify",
        "response property $.code: expected \"NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK\", found \"PERMISSION_DENIED\"",
    )
    .await;
}

#[tokio::test]
async fn shared_number_of_another_line_fails() {
    let server = mock::start().await;
    mock::answer_json(
        &server,
        "GET",
        &format!("{BASE}/device-phone-number"),
        200,
        json!({"devicePhoneNumber": "+34600000009"}),
    )
    .await;
    assert_breaks(
        &server,
        "@share_success",
        "expected \"+34600000001\", found \"+34600000009\"",
    )
    .await;
}

#[tokio::test]
async fn empty_error_message_fails() {
    let server = mock::start().await;
    mock::answer_json(
        &server,
        "POST",
        &format!("{BASE}/verify"),
        400,
        json!({"status": 400, "code": "INVALID_ARGUMENT", "message": " "}),
    )
    .await;
    assert_breaks(
        &server,
        "@invalid_argument_no_body",
        "response property $.message: expected a non-empty text",
    )
    .await;
}

#[tokio::test]
async fn lenient_body_validation_fails() {
    let server = mock::start().await;
    mock::answer_json(
        &server,
        "POST",
        &format!("{BASE}/verify"),
        200,
        json!({"devicePhoneNumberVerified": false}),
    )
    .await;
    assert_breaks(
        &server,
        "@invalid_argument_both_fields",
        "response status: expected 400, found 200",
    )
    .await;
}

#[tokio::test]
async fn unreachable_provider_is_an_error_not_a_failure() {
    // A port nothing listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    // Discovery and the API answer (so the preflight passes); the endpoints the flows need do
    // not: they are on the closed port.
    let server = mock::start().await;
    let mut doc = mock::discovery(&server.uri());
    for endpoint in ["authorization_endpoint", "token_endpoint"] {
        doc[endpoint] = json!(format!("http://127.0.0.1:{port}/{endpoint}"));
    }
    mock::serve_discovery(&server, doc).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = common::write_profile(
        dir.path(),
        &common::profile_text(&server.uri(), "private_key_jwt"),
    );
    // MUST scenarios that could not run fail the run; a SHOULD one alone does not (like a
    // SHOULD failure), but it is never counted as passed.
    for (tags, level, exit_code) in [
        ("@verify_plain_true", "MUST", 1),
        ("@pkce_plain", "SHOULD", 0),
    ] {
        let (code, results) =
            common::run_suite(dir.path(), &["--provider", &profile, "--tags", tags]).await;
        assert_eq!(code, exit_code, "{tags}: {results:#}");
        let scenario = &results["scenarios"][0];
        assert_eq!(scenario["status"], "error", "{tags}: {results:#}");
        assert_eq!(scenario["level"], level, "{tags}");
        let error = scenario["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("request to http://127.0.0.1"),
            "{tags}: {error}"
        );
        assert_eq!(scenario["failures"], serde_json::json!([]), "{tags}");
        let summary = &results["summary"];
        assert_eq!(
            (&summary["passed"], &summary["failed"], &summary["errored"]),
            (&0.into(), &0.into(), &1.into()),
            "{tags}: {summary}"
        );
    }
}

#[tokio::test]
async fn empty_jwks_fails() {
    let server = mock::start().await;
    mock::break_with(
        &server,
        "GET",
        "/jwks",
        ResponseTemplate::new(200).set_body_json(json!({"keys": []})),
    )
    .await;
    assert_breaks(&server, "@oidc_jwks", "jwks_uri: expected at least one key").await;
}
