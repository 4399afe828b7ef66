//! Unit tests of the spec engine: each rule fires on a crafted bad exchange and stays silent on a
//! good one; broken documents give errors that say what and where; the OAS dialect translation.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::{Value, json};

use super::dialect::to_json_schema;
use super::*;
use crate::exchange::{RecordedRequest, RecordedResponse};

const OURS: &str = include_str!("../../specs/number-verification/v2.1.0.yaml");

fn doc() -> SpecDocument {
    match SpecDocument::from_yaml(OURS, "v2.1.0.yaml") {
        Ok(doc) => doc,
        Err(e) => panic!("our v2.1.0 must load: {e}"),
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("test header name");
        map.append(
            name,
            HeaderValue::from_str(value).expect("test header value"),
        );
    }
    map
}

/// An exchange of `POST /verify` (or GET for `/device-phone-number`) with the given response.
fn exchange(
    path: &str,
    request_headers: &[(&str, &str)],
    status: u16,
    response_headers: &[(&str, &str)],
    body: &str,
) -> Exchange {
    let method = if path == "/verify" {
        Method::POST
    } else {
        Method::GET
    };
    let url = url::Url::parse(&format!(
        "http://localhost:9091/number-verification/v2{path}"
    ))
    .expect("test url");
    Exchange {
        request: RecordedRequest {
            method,
            url,
            headers: headers(request_headers),
            body: (path == "/verify").then(|| br#"{"phoneNumber":"+123456789"}"#.to_vec()),
        },
        response: RecordedResponse {
            status: StatusCode::from_u16(status).expect("test status"),
            headers: headers(response_headers),
            body: body.as_bytes().to_vec(),
        },
        elapsed: Duration::from_millis(5),
    }
}

const JSON: (&str, &str) = ("content-type", "application/json");
const CORRELATOR: &str = "3f1c9a52-7d4e-4b8a-9e21-6a0c5b7d2e90";

fn rules_of(violations: &[Violation]) -> Vec<Rule> {
    violations.iter().map(|v| v.rule).collect()
}

// ---------------------------------------------------------------------------------------------
// Good exchanges

#[test]
fn conformant_exchanges_have_no_violations() {
    let doc = doc();
    let cases = [
        (
            "phoneNumberVerify",
            "/verify",
            200,
            r#"{"devicePhoneNumberVerified":true}"#,
        ),
        (
            "phoneNumberVerify",
            "/verify",
            200,
            r#"{"devicePhoneNumberVerified":false,"extra":1}"#,
        ),
        (
            "phoneNumberShare",
            "/device-phone-number",
            200,
            r#"{"devicePhoneNumber":"+123456789"}"#,
        ),
        (
            "phoneNumberVerify",
            "/verify",
            400,
            r#"{"status":400,"code":"INVALID_ARGUMENT","message":"bad body"}"#,
        ),
        (
            "phoneNumberShare",
            "/device-phone-number",
            401,
            r#"{"status":401,"code":"UNAUTHENTICATED","message":"no token"}"#,
        ),
        (
            "phoneNumberVerify",
            "/verify",
            403,
            r#"{"status":403,"code":"NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK","message":"m"}"#,
        ),
    ];
    for (op, path, status, body) in cases {
        let ex = exchange(
            path,
            &[("x-correlator", CORRELATOR)],
            status,
            &[JSON, ("x-correlator", CORRELATOR)],
            body,
        );
        assert_eq!(doc.validate(op, &ex), vec![], "{op} {status} {body}");
    }
}

#[test]
fn media_type_parameters_and_case_are_ignored() {
    let doc = doc();
    for ct in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/json;charset=UTF-8",
    ] {
        let ex = exchange(
            "/verify",
            &[],
            200,
            &[("content-type", ct)],
            r#"{"devicePhoneNumberVerified":true}"#,
        );
        assert_eq!(doc.validate("phoneNumberVerify", &ex), vec![], "{ct}");
    }
}

// ---------------------------------------------------------------------------------------------
// status-documented

#[test]
fn undocumented_status_is_a_violation() {
    let doc = doc();
    let ex = exchange(
        "/verify",
        &[],
        418,
        &[JSON],
        r#"{"devicePhoneNumberVerified":true}"#,
    );
    let violations = doc.validate("phoneNumberVerify", &ex);
    assert_eq!(rules_of(&violations), [Rule::StatusDocumented]);
    let v = &violations[0];
    assert_eq!(v.location, "paths./verify.post.responses");
    assert_eq!(v.found, "418");
    assert_eq!(
        v.expected,
        "one of the documented responses [200, 400, 401, 403]"
    );
    assert_eq!(v.pointer, None);
}

#[test]
fn range_and_default_keys_document_statuses() {
    let yaml = r#"
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /x:
    get:
      operationId: x
      responses:
        '200': {description: ok}
        4XX:
          description: client error
          content:
            application/json:
              schema: {type: object, required: [code]}
        default: {description: anything else}
"#;
    let doc = SpecDocument::from_yaml(yaml, "ranges.yaml").expect("loads");
    let op = doc.operation("x").expect("x");
    assert_eq!(op.documented_statuses, [200]);
    assert_eq!(op.response_keys, ["200", "4XX", "default"]);
    // 404 falls under 4XX, whose schema needs `code`.
    let ex = exchange("/x", &[], 404, &[JSON], "{}");
    let violations = doc.validate("x", &ex);
    assert_eq!(rules_of(&violations), [Rule::BodySchema]);
    assert_eq!(violations[0].location, "paths./x.get.responses.4XX");
    // 503 falls under default, which documents no content.
    let ex = exchange("/x", &[], 503, &[("content-type", "text/html")], "<html>");
    assert_eq!(doc.validate("x", &ex), vec![]);
}

// ---------------------------------------------------------------------------------------------
// content-type

#[test]
fn wrong_or_missing_content_type_is_a_violation() {
    let doc = doc();
    let body = r#"{"devicePhoneNumberVerified":true}"#;
    let ex = exchange("/verify", &[], 200, &[("content-type", "text/plain")], body);
    let violations = doc.validate("phoneNumberVerify", &ex);
    assert_eq!(rules_of(&violations), [Rule::ContentType]);
    assert_eq!(
        violations[0].to_string(),
        r#"[content-type] paths./verify.post.responses.200: expected Content-Type one of ["application/json"], found "text/plain""#
    );

    let ex = exchange("/verify", &[], 200, &[], body);
    let violations = doc.validate("phoneNumberVerify", &ex);
    assert_eq!(rules_of(&violations), [Rule::ContentType]);
    assert_eq!(violations[0].found, "no Content-Type header");
}

#[test]
fn body_is_still_judged_when_content_type_is_wrong() {
    let doc = doc();
    let ex = exchange(
        "/verify",
        &[],
        200,
        &[("content-type", "text/plain")],
        r#"{"x":1}"#,
    );
    assert_eq!(
        rules_of(&doc.validate("phoneNumberVerify", &ex)),
        [Rule::ContentType, Rule::BodySchema]
    );
}

// ---------------------------------------------------------------------------------------------
// body-schema

#[test]
fn error_code_outside_the_documented_enum_is_a_violation() {
    let doc = doc();
    let ex = exchange(
        "/verify",
        &[],
        403,
        &[JSON],
        r#"{"status":403,"code":"FOO","message":"m"}"#,
    );
    let violations = doc.validate("phoneNumberVerify", &ex);
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert_eq!(
        violations[0].to_string(),
        r#"[body-schema] paths./verify.post.responses.403 at /code: expected one of ["PERMISSION_DENIED","NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"], found "FOO""#
    );
}

#[test]
fn pattern_type_and_required_failures_are_described() {
    let doc = doc();
    let ex = exchange(
        "/device-phone-number",
        &[],
        200,
        &[JSON],
        r#"{"devicePhoneNumber":"0034666"}"#,
    );
    let violations = doc.validate("phoneNumberShare", &ex);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].pointer.as_deref(), Some("/devicePhoneNumber"));
    assert_eq!(
        violations[0].expected,
        r"a string matching pattern ^\+[1-9][0-9]{4,14}$"
    );
    assert_eq!(violations[0].found, r#""0034666""#);

    let ex = exchange(
        "/verify",
        &[],
        200,
        &[JSON],
        r#"{"devicePhoneNumberVerified":"yes"}"#,
    );
    let violations = doc.validate("phoneNumberVerify", &ex);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].expected, "type boolean");

    let ex = exchange("/verify", &[], 200, &[JSON], r#"{"verified":true}"#);
    let violations = doc.validate("phoneNumberVerify", &ex);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].pointer.as_deref(), Some(""));
    assert_eq!(
        violations[0].expected,
        r#"required property "devicePhoneNumberVerified""#
    );
    assert!(violations[0].to_string().contains(" at (root): "));
}

#[test]
fn every_schema_error_is_its_own_violation() {
    let doc = doc();
    let ex = exchange("/verify", &[], 401, &[JSON], r#"{"status":401,"code":7}"#);
    let violations = doc.validate("phoneNumberVerify", &ex);
    let pointers: Vec<_> = violations.iter().map(|v| v.pointer.as_deref()).collect();
    assert!(
        pointers.contains(&Some("")),
        "missing message: {violations:#?}"
    );
    assert!(
        pointers.contains(&Some("/code")),
        "code type/enum: {violations:#?}"
    );
    assert!(violations.iter().all(|v| v.rule == Rule::BodySchema));
}

#[test]
fn non_json_and_empty_bodies_are_violations() {
    let doc = doc();
    let ex = exchange("/verify", &[], 200, &[JSON], "<html>oops</html>");
    let violations = doc.validate("phoneNumberVerify", &ex);
    assert_eq!(rules_of(&violations), [Rule::BodySchema]);
    assert_eq!(violations[0].expected, "a JSON body (application/json)");
    assert_eq!(violations[0].found, r#""<html>oops</html>""#);

    let ex = exchange("/verify", &[], 200, &[JSON], "");
    let violations = doc.validate("phoneNumberVerify", &ex);
    assert_eq!(violations[0].found, "an empty body");
}

#[test]
fn long_found_values_are_cut() {
    let doc = doc();
    let long = "9".repeat(500);
    let body = format!(r#"{{"devicePhoneNumber":"+{long}"}}"#);
    let ex = exchange("/device-phone-number", &[], 200, &[JSON], &body);
    let violations = doc.validate("phoneNumberShare", &ex);
    assert_eq!(violations.len(), 1);
    assert!(
        violations[0].found.chars().count() <= 121,
        "{}",
        violations[0].found
    );
    assert!(violations[0].found.ends_with('…'));
}

// ---------------------------------------------------------------------------------------------
// error-status-matches-http

#[test]
fn error_body_status_must_equal_http_status() {
    let doc = doc();
    let ex = exchange(
        "/verify",
        &[],
        403,
        &[JSON],
        r#"{"status":401,"code":"PERMISSION_DENIED","message":"m"}"#,
    );
    let violations = doc.validate("phoneNumberVerify", &ex);
    let status_rule: Vec<_> = violations
        .iter()
        .filter(|v| v.rule == Rule::ErrorStatusMatchesHttp)
        .collect();
    assert_eq!(status_rule.len(), 1, "{violations:#?}");
    assert_eq!(status_rule[0].pointer.as_deref(), Some("/status"));
    assert_eq!(status_rule[0].location, "paths./verify.post.responses.403");
    assert_eq!(status_rule[0].found, "401");
    // The documented enum says the same thing in its own words.
    assert!(
        violations
            .iter()
            .any(|v| v.rule == Rule::BodySchema && v.pointer.as_deref() == Some("/status"))
    );
}

#[test]
fn error_status_rule_applies_to_undocumented_statuses() {
    let doc = doc();
    let ex = exchange(
        "/verify",
        &[],
        429,
        &[JSON],
        r#"{"status":"429","code":"TOO_MANY_REQUESTS","message":"m"}"#,
    );
    let violations = doc.validate("phoneNumberVerify", &ex);
    assert_eq!(
        rules_of(&violations),
        [Rule::StatusDocumented, Rule::ErrorStatusMatchesHttp]
    );
    assert_eq!(violations[1].location, "paths./verify.post.responses.429");
    assert_eq!(violations[1].found, r#""429""#);

    let ok = exchange(
        "/verify",
        &[],
        429,
        &[JSON],
        r#"{"status":429,"code":"TOO_MANY_REQUESTS","message":"m"}"#,
    );
    assert_eq!(
        rules_of(&doc.validate("phoneNumberVerify", &ok)),
        [Rule::StatusDocumented]
    );
}

// ---------------------------------------------------------------------------------------------
// x-correlator-echo

#[test]
fn request_correlator_must_be_echoed() {
    let doc = doc();
    let body = r#"{"devicePhoneNumberVerified":true}"#;
    // Header names are case-insensitive on both sides.
    let missing = exchange(
        "/verify",
        &[("X-Correlator", CORRELATOR)],
        200,
        &[JSON],
        body,
    );
    let violations = doc.validate("phoneNumberVerify", &missing);
    assert_eq!(rules_of(&violations), [Rule::CorrelatorEcho]);
    assert_eq!(
        violations[0].location,
        "paths./verify.post.responses.200.headers.x-correlator"
    );
    assert_eq!(violations[0].found, "no x-correlator header");

    let changed = exchange(
        "/verify",
        &[("x-correlator", CORRELATOR)],
        200,
        &[JSON, ("X-CORRELATOR", "other-1")],
        body,
    );
    let violations = doc.validate("phoneNumberVerify", &changed);
    assert_eq!(rules_of(&violations), [Rule::CorrelatorEcho]);
    assert_eq!(violations[0].found, r#""other-1""#);
    assert!(violations[0].expected.contains(CORRELATOR));

    // No (or an empty) request correlator: nothing to echo.
    let none = exchange("/verify", &[("x-correlator", "")], 200, &[JSON], body);
    assert_eq!(doc.validate("phoneNumberVerify", &none), vec![]);

    // A request correlator off the spec's pattern cannot be echoed (the answer is a 400).
    let invalid = exchange(
        "/verify",
        &[("x-correlator", "not allowed=value?")],
        400,
        &[JSON, ("x-correlator", CORRELATOR)],
        r#"{"status":400,"code":"INVALID_ARGUMENT","message":"m"}"#,
    );
    assert_eq!(doc.validate("phoneNumberVerify", &invalid), vec![]);
}

// ---------------------------------------------------------------------------------------------
// x-correlator-pattern

#[test]
fn response_correlator_must_match_the_documented_schema() {
    let doc = doc();
    let body = r#"{"devicePhoneNumberVerified":true}"#;
    let bad = exchange(
        "/verify",
        &[],
        200,
        &[JSON, ("x-correlator", "a b=c")],
        body,
    );
    let violations = doc.validate("phoneNumberVerify", &bad);
    assert_eq!(rules_of(&violations), [Rule::CorrelatorPattern]);
    assert_eq!(
        violations[0].to_string(),
        r#"[x-correlator-pattern] paths./verify.post.responses.200.headers.x-correlator: expected a string matching pattern ^[a-zA-Z0-9-_:;.\/<>{}]{0,256}$, found "a b=c""#
    );

    // The pattern's own edge cases, as the document states them.
    for good in ["a-b", "a_b:c;d.e/f<g>{h}", &"x".repeat(256)] {
        let ex = exchange("/verify", &[], 200, &[JSON, ("x-correlator", good)], body);
        assert_eq!(doc.validate("phoneNumberVerify", &ex), vec![], "{good}");
    }
    let too_long = "x".repeat(257);
    let ex = exchange(
        "/verify",
        &[],
        200,
        &[JSON, ("x-correlator", &too_long)],
        body,
    );
    assert_eq!(
        rules_of(&doc.validate("phoneNumberVerify", &ex)),
        [Rule::CorrelatorPattern]
    );
}

#[test]
fn undocumented_status_uses_the_component_correlator_header() {
    let doc = doc();
    let ex = exchange(
        "/verify",
        &[],
        503,
        &[JSON, ("x-correlator", "a@b")],
        r#"{"status":503,"code":"UNAVAILABLE","message":"m"}"#,
    );
    let violations = doc.validate("phoneNumberVerify", &ex);
    assert_eq!(
        rules_of(&violations),
        [Rule::StatusDocumented, Rule::CorrelatorPattern]
    );
    assert_eq!(violations[1].location, "components.headers.x-correlator");
}

#[test]
fn correlator_header_names_are_matched_case_insensitively_in_the_document() {
    // v1.0.0-rc.1 spells the header `X-Correlator`.
    let yaml = r#"
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /x:
    get:
      operationId: x
      responses:
        '200':
          description: ok
          headers:
            X-Correlator:
              schema: {type: string, pattern: '^[a-z]+$'}
"#;
    let doc = SpecDocument::from_yaml(yaml, "upper.yaml").expect("loads");
    let ex = exchange("/x", &[], 200, &[("x-correlator", "ABC")], "");
    let violations = doc.validate("x", &ex);
    assert_eq!(rules_of(&violations), [Rule::CorrelatorPattern]);
    assert_eq!(
        violations[0].location,
        "paths./x.get.responses.200.headers.X-Correlator"
    );
}

// ---------------------------------------------------------------------------------------------
// Rule, Violation, unknown operations

#[test]
fn rules_have_stable_ids_and_serialize_as_them() {
    let ids: Vec<&str> = Rule::ALL.iter().map(Rule::id).collect();
    assert_eq!(
        ids,
        [
            "status-documented",
            "content-type",
            "body-schema",
            "error-status-matches-http",
            "x-correlator-echo",
            "x-correlator-pattern"
        ]
    );
    let v = Violation {
        rule: Rule::BodySchema,
        location: "paths./verify.post.responses.200".to_owned(),
        pointer: Some("/a".to_owned()),
        expected: "type boolean".to_owned(),
        found: "1".to_owned(),
    };
    assert_eq!(
        serde_json::to_value(&v).expect("serializes"),
        json!({"rule": "body-schema", "location": "paths./verify.post.responses.200", "pointer": "/a", "expected": "type boolean", "found": "1"})
    );
}

#[test]
fn unknown_operation_is_reported_not_panicked() {
    let doc = doc();
    let ex = exchange("/verify", &[], 200, &[JSON], "{}");
    let violations = doc.validate("nope", &ex);
    assert_eq!(violations.len(), 1);
    assert!(
        violations[0]
            .found
            .contains("phoneNumberVerify, phoneNumberShare"),
        "{}",
        violations[0].found
    );
    let err = doc
        .try_validate("nope", &ex)
        .expect_err("unknown operation");
    assert!(matches!(err, SpecError::UnknownOperation { .. }));
}

// ---------------------------------------------------------------------------------------------
// Document facts

#[test]
fn operations_and_paths() {
    let doc = doc();
    assert_eq!(doc.version(), "2.1.0");
    assert_eq!(doc.base_path(), "/number-verification/v2");
    assert_eq!(doc.origin(), "v2.1.0.yaml");
    let verify = doc.operation("phoneNumberVerify").expect("verify");
    assert_eq!(verify.scopes, ["number-verification:verify"]);
    assert_eq!(verify.response_keys, ["200", "400", "401", "403"]);
    assert_eq!(
        doc.find_operation(&Method::POST, "/verify?x=1")
            .map(|o| o.operation_id.as_str()),
        Some("phoneNumberVerify")
    );
    assert_eq!(
        doc.find_operation(&Method::POST, "/number-verification/v2/verify")
            .map(|o| o.operation_id.as_str()),
        Some("phoneNumberVerify")
    );
    assert!(doc.find_operation(&Method::POST, "/verify/extra").is_none());
    assert!(doc.find_operation(&Method::DELETE, "/verify").is_none());
}

#[test]
fn path_templates_match_one_segment() {
    assert!(path_matches("/users/{id}", "/users/7"));
    assert!(!path_matches("/users/{id}", "/users/"));
    assert!(!path_matches("/users/{id}", "/users/7/x"));
    assert!(path_matches("/a", "/a"));
}

#[test]
fn base_path_drops_api_root_scheme_and_host() {
    let with = |servers: &str| {
        let yaml =
            format!("openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\n{servers}\npaths: {{}}\n");
        SpecDocument::from_yaml(&yaml, "servers.yaml")
            .map(|d| d.base_path().to_owned())
            .map_err(|e| e.to_string())
    };
    assert_eq!(with(""), Ok(String::new()));
    assert_eq!(
        with(
            "servers: [{url: '{apiRoot}/nv/v1/', variables: {apiRoot: {default: 'http://h:1/p'}}}]"
        ),
        Ok("/nv/v1".to_owned())
    );
    assert_eq!(
        with(
            "servers: [{url: 'https://{host}{basePath}', variables: {host: {default: a.example}, basePath: {default: /nv/v0}}}]"
        ),
        Ok("/nv/v0".to_owned())
    );
    assert_eq!(
        with("servers: [{url: 'api.example.com/x/y'}]"),
        Ok("/x/y".to_owned())
    );
}

#[test]
fn schema_references_in_every_accepted_form() {
    let doc = doc();
    let good = json!({"devicePhoneNumber": "+123456789"});
    for reference in [
        "#/components/schemas/NumberVerificationShareResponse",
        "/components/schemas/NumberVerificationShareResponse",
        "NumberVerificationShareResponse",
        "#/paths/~1device-phone-number/get/responses/200",
    ] {
        assert_eq!(
            doc.validate_against(reference, &good).map(|v| v.len()).ok(),
            Some(0),
            "{reference}"
        );
    }
    let error = json!({"status": 401, "code": "UNAUTHENTICATED", "message": "m"});
    assert_eq!(
        doc.validate_against("#/components/responses/Generic401", &error)
            .map(|v| v.len())
            .ok(),
        Some(0)
    );
    let wrong = json!({"status": 401, "code": "AUTHENTICATION_REQUIRED", "message": "m"});
    let violations = doc
        .validate_against("#/components/responses/Generic401", &wrong)
        .expect("known reference");
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].pointer.as_deref(), Some("/code"));
    assert_eq!(
        violations[0].location,
        "components.responses.Generic401.content.application/json.schema"
    );

    let correlator = doc.validate_against("#/components/headers/x-correlator", &json!("a b"));
    assert_eq!(correlator.map(|v| v.len()).ok(), Some(1));
    let body = doc
        .validate_against("#/paths/~1verify/post/requestBody", &json!({}))
        .expect("known");
    assert_eq!(body.len(), 1);
    assert_eq!(body[0].expected, "at least 1 property");
    let both = json!({"phoneNumber": "+123456789", "hashedPhoneNumber": "ab"});
    let body = doc
        .validate_against("#/paths/~1verify/post/requestBody", &both)
        .expect("known");
    let expected: Vec<&str> = body.iter().map(|v| v.expected.as_str()).collect();
    assert_eq!(
        expected,
        [
            "at most 1 property",
            "a string matching pattern ^[a-fA-F0-9]{64}$"
        ]
    );
    let deep = doc.validate_against(
        "#/components/schemas/NumberVerificationRequestBody/properties/hashedPhoneNumber",
        &json!("XYZ"),
    );
    assert_eq!(deep.map(|v| v.len()).ok(), Some(1));

    for bad in [
        "#/components/schemas/Nope",
        "#/info",
        "",
        "a/b",
        "#/components/schemas",
    ] {
        let err = doc.validate_against(bad, &good).expect_err(bad);
        assert!(
            matches!(err, SpecError::UnknownSchema { .. }),
            "{bad}: {err}"
        );
        assert!(err.to_string().contains("v2.1.0.yaml"), "{err}");
    }
}

#[test]
fn resolved_schemas_are_plain_json_schema() {
    let doc = doc();
    let schema = doc
        .resolved_schema("#/components/responses/PhoneNumberVerificationPermissionDenied403")
        .expect("resolves");
    let text = schema.to_string();
    assert!(!text.contains("$ref"), "{text}");
    assert_eq!(
        schema.pointer("/allOf/0/required"),
        Some(&json!(["status", "code", "message"]))
    );
    assert_eq!(
        schema.pointer("/allOf/1/properties/status/enum"),
        Some(&json!([403]))
    );
    let body = doc
        .resolved_schema("NumberVerificationRequestBody")
        .expect("resolves");
    assert!(
        body.pointer("/properties/phoneNumber/example").is_none(),
        "{body}"
    );
    assert_eq!(body.pointer("/maxProperties"), Some(&json!(1)));
}

#[test]
fn documents_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SpecDocument>();
}

// ---------------------------------------------------------------------------------------------
// Broken documents

fn load_err(yaml: &str) -> SpecError {
    match SpecDocument::from_yaml(yaml, "broken.yaml") {
        Ok(doc) => panic!("should not load: {doc:?}"),
        Err(e) => e,
    }
}

fn error_text(yaml: &str) -> String {
    load_err(yaml).to_string()
}

/// A minimal document whose `/x` GET answers 200 with `schema` and has `components`.
fn with_schema(schema: &str, components: &str) -> String {
    format!(
        "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  /x:\n    get:\n      operationId: x\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {schema}\ncomponents:\n{components}\n"
    )
}

#[test]
fn bad_yaml_names_file_line_and_column() {
    let err = load_err("openapi: 3.0.3\ninfo:\n  title: [unclosed\n");
    assert!(
        matches!(err, SpecError::Yaml { line: Some(_), .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("broken.yaml: invalid YAML at line "),
        "{text}"
    );
}

#[test]
fn non_openapi_documents_say_why() {
    let cases = [
        (
            "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n",
            "swagger",
        ),
        (
            "openapi: 2.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
            "found 2.0",
        ),
        (
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
            "\"3.1.0\"",
        ),
        (
            "info: {title: t, version: '1'}\npaths: {}\n",
            "`openapi` is missing",
        ),
        (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n",
            "`paths` is missing",
        ),
        ("- a\n- b\n", "a sequence"),
        ("", "empty"),
    ];
    for (yaml, says) in cases {
        let err = load_err(yaml);
        assert!(
            matches!(err, SpecError::NotOpenApi { .. }),
            "{yaml}: {err:?}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with("broken.yaml: not an OpenAPI 3.0 document: "),
            "{text}"
        );
        assert!(text.contains(says), "{text} should contain {says}");
    }
}

#[test]
fn structural_errors_come_from_openapiv3_with_a_position() {
    let err = load_err("openapi: 3.0.3\npaths: {}\n");
    assert!(matches!(err, SpecError::Structure { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("broken.yaml") && text.contains("info"),
        "{text}"
    );

    let err = load_err(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n        '200': {description: ok}\n      parameters: 7\n",
    );
    assert!(err.to_string().contains("line "), "{err}");
}

#[test]
fn dangling_ref_names_the_ref_and_where_it_is_used() {
    let text = error_text(&with_schema(
        "{$ref: '#/components/schemas/Nope'}",
        "  schemas: {}",
    ));
    assert_eq!(
        text,
        "broken.yaml: $ref \"#/components/schemas/Nope\" used at /paths/~1x/get/responses/200/content/application~1json/schema does not resolve: no such node in the document"
    );
    let text = error_text(&with_schema(
        "{$ref: 'common.yaml#/components/schemas/A'}",
        "  schemas: {}",
    ));
    assert!(
        text.contains("only references inside the same document"),
        "{text}"
    );
}

#[test]
fn cyclic_refs_are_errors_with_their_chain() {
    let schemas = "  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}";
    let err = load_err(&with_schema("{$ref: '#/components/schemas/A'}", schemas));
    assert!(matches!(err, SpecError::CyclicRef { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("#/components/schemas/B -> #/components/schemas/A -> #/components/schemas/B")
            || text.contains(
                "#/components/schemas/A -> #/components/schemas/B -> #/components/schemas/A"
            ),
        "{text}"
    );

    // A schema that contains itself cannot be inlined either.
    let schemas = "  schemas:\n    Node:\n      type: object\n      properties:\n        next: {$ref: '#/components/schemas/Node'}";
    let text = error_text(&with_schema("{type: object}", schemas));
    assert!(text.contains("cyclic $ref \"#/components/schemas/Node\" used at /components/schemas/Node/properties/next"), "{text}");

    // Response objects that refer to each other.
    let yaml = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n        '200': {$ref: '#/components/responses/R1'}\ncomponents:\n  responses:\n    R1: {$ref: '#/components/responses/R2'}\n    R2: {$ref: '#/components/responses/R1'}\n";
    let err = load_err(yaml);
    assert!(matches!(err, SpecError::CyclicRef { .. }), "{err:?}");
}

#[test]
fn exponential_ref_expansion_is_bounded() {
    let mut schemas = String::from("  schemas:\n    S0: {type: string}\n");
    for i in 1..40 {
        schemas.push_str(&format!(
            "    S{i}: {{allOf: [{{$ref: '#/components/schemas/S{p}'}}, {{$ref: '#/components/schemas/S{p}'}}]}}\n",
            p = i - 1
        ));
    }
    let text = error_text(&with_schema("{type: object}", &schemas));
    assert!(text.contains("expand to more than"), "{text}");
}

#[test]
fn uncompilable_schema_names_its_location() {
    let text = error_text(&with_schema(
        "{type: string, pattern: '(unclosed'}",
        "  schemas: {}",
    ));
    assert!(
        text.starts_with("broken.yaml: schema at paths./x.get.responses.200.content.application/json.schema does not compile: "),
        "{text}"
    );
}

#[test]
fn bad_status_keys_and_duplicate_operation_ids_are_errors() {
    let yaml = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      operationId: same\n      responses: {'200': {description: ok}}\n  /y:\n    get:\n      operationId: same\n      responses: {'200': {description: ok}}\n";
    let text = error_text(yaml);
    assert!(
        text.contains("operationId \"same\" is used twice"),
        "{text}"
    );

    let yaml = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses: {'abc': {description: ok}}\n";
    assert_eq!(
        error_text(yaml),
        "broken.yaml: invalid OpenAPI structure at /paths/~1x/get/responses/abc: \"abc\" is not a status code, range (4XX) or `default`"
    );
}

#[test]
fn missing_file_names_the_path() {
    let err = SpecDocument::load(std::path::Path::new("no/such/spec.yaml")).expect_err("missing");
    assert!(
        err.to_string()
            .starts_with("cannot read spec file no/such/spec.yaml: "),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Dialect

#[test]
fn nullable_adds_null_to_type_and_enum() {
    assert_eq!(
        to_json_schema(&json!({"type": "string", "nullable": true, "enum": ["a", "b"]})),
        json!({"type": ["string", "null"], "enum": ["a", "b", null]})
    );
    assert_eq!(
        to_json_schema(&json!({"type": ["integer", "null"], "nullable": true})),
        json!({"type": ["integer", "null"]})
    );
    // OAS 3.0.3: without `type`, nullable changes nothing.
    assert_eq!(
        to_json_schema(&json!({"nullable": true, "allOf": [{"type": "string"}]})),
        json!({"allOf": [{"type": "string"}]})
    );
    assert_eq!(
        to_json_schema(&json!({"type": "string", "nullable": false})),
        json!({"type": "string"})
    );
}

#[test]
fn oas_only_keywords_are_dropped_but_property_names_kept() {
    let oas = json!({
        "type": "object",
        "example": {"a": 1},
        "xml": {"name": "x"},
        "discriminator": {"propertyName": "kind"},
        "externalDocs": {"url": "https://example.com"},
        "deprecated": true,
        "x-vendor": 1,
        "required": ["example"],
        "additionalProperties": false,
        "properties": {
            "example": {"type": "string", "readOnly": true, "writeOnly": false},
            "kind": {"oneOf": [{"type": "string", "nullable": true}, {"not": {"type": "integer", "example": 1}}]}
        }
    });
    assert_eq!(
        to_json_schema(&oas),
        json!({
            "type": "object",
            "required": ["example"],
            "additionalProperties": false,
            "properties": {
                "example": {"type": "string"},
                "kind": {"oneOf": [{"type": ["string", "null"]}, {"not": {"type": "integer"}}]}
            }
        })
    );
}

#[test]
fn nullable_schemas_accept_null_through_a_document() {
    let doc = SpecDocument::from_yaml(
        &with_schema(
            "{$ref: '#/components/schemas/N'}",
            "  schemas:\n    N:\n      type: object\n      properties:\n        v: {type: string, nullable: true, enum: [a]}\n        w: {type: integer, minimum: 1, exclusiveMinimum: true}",
        ),
        "nullable.yaml",
    )
    .expect("loads");
    let count = |value: Value| doc.validate_against("N", &value).map(|v| v.len()).ok();
    assert_eq!(count(json!({"v": null})), Some(0));
    assert_eq!(count(json!({"v": "a"})), Some(0));
    assert_eq!(count(json!({"v": "b"})), Some(1));
    // Draft 4 boolean exclusiveMinimum, as in OAS 3.0.
    assert_eq!(count(json!({"w": 1})), Some(1));
    assert_eq!(count(json!({"w": 2})), Some(0));
}

#[test]
fn builtin_documents_load() {
    for version in builtin_versions() {
        let doc = builtin(version);
        assert_eq!(doc.as_ref().map(SpecDocument::version), Some(*version));
    }
    assert!(builtin("0.0.0").is_none());
}

#[test]
fn oas_formats_compile_and_unknown_ones_are_ignored() {
    let doc = SpecDocument::from_yaml(
        &with_schema(
            "{$ref: '#/components/schemas/F'}",
            "  schemas:\n    F:\n      type: object\n      properties:\n        i: {type: integer, format: int32}\n        p: {type: string, format: password}\n        b: {type: string, format: byte}\n        t: {type: string, format: date-time}",
        ),
        "formats.yaml",
    )
    .expect("OAS formats compile");
    let count = |value: Value| doc.validate_against("F", &value).map(|v| v.len()).ok();
    assert_eq!(
        count(json!({"i": 7, "p": "x", "b": "not base64?"})),
        Some(0)
    );
    assert_eq!(count(json!({"t": "2025-09-12T10:00:00Z"})), Some(0));
}

// ---------------------------------------------------------------------------------------------
// Embedded versions, documented error codes, correlator pattern

#[test]
fn builtin_versions_are_ordered_oldest_first_with_wip_last() {
    assert_eq!(
        builtin_versions(),
        [
            "0.3.1",
            "1.0.0-rc.1",
            "1.0.0",
            "1.1.0-rc.1",
            "1.1.0-rc.2",
            "1.1.0",
            "2.0.0",
            "2.1.0-rc.1",
            "2.1.0",
            "wip",
        ]
    );
    let wip = builtin("wip").expect("wip is embedded");
    assert_eq!(wip.origin(), "specs/number-verification/wip.yaml");
    assert_eq!(wip.base_path(), "/number-verification/vwip");
    let old = builtin("0.3.1").expect("0.3.1 is embedded");
    assert_eq!(old.origin(), "specs/number-verification/v0.3.1.yaml");
    assert_eq!(old.base_path(), "/number-verification/v0");
}

/// `builtin(version)`, which the test suite guarantees to load.
fn embedded(version: &str) -> SpecDocument {
    builtin(version).unwrap_or_else(|| panic!("builtin {version} loads"))
}

#[test]
fn error_codes_come_from_the_code_enum_of_an_all_of() {
    let doc = doc();
    let verify = |status| doc.documented_error_codes("phoneNumberVerify", status);
    assert_eq!(verify(400), ["INVALID_ARGUMENT"]);
    assert_eq!(verify(401), ["UNAUTHENTICATED"]);
    assert_eq!(
        verify(403),
        [
            "PERMISSION_DENIED",
            "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"
        ]
    );
    assert_eq!(
        doc.documented_error_codes("phoneNumberShare", 403),
        verify(403)
    );
    // A success response, an undocumented status and an unknown operation document no code.
    assert!(verify(200).is_empty());
    assert!(verify(500).is_empty());
    assert!(
        doc.documented_error_codes("noSuchOperation", 400)
            .is_empty()
    );

    let older = embedded("1.1.0-rc.1");
    assert_eq!(
        older.documented_error_codes("phoneNumberVerify", 401),
        ["UNAUTHENTICATED", "AUTHENTICATION_REQUIRED"]
    );
}

#[test]
fn error_codes_come_from_examples_in_document_order_when_there_is_no_enum() {
    // v0.3.1's 403 examples are not in alphabetical order, so the order is the document's.
    let old = embedded("0.3.1");
    assert_eq!(
        old.documented_error_codes("phoneNumberShare", 403),
        [
            "PERMISSION_DENIED",
            "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK",
            "NUMBER_VERIFICATION.INVALID_TOKEN_CONTEXT"
        ]
    );
    assert_eq!(
        old.documented_error_codes("phoneNumberVerify", 503),
        ["UNAVAILABLE"]
    );
    let v1 = embedded("1.0.0");
    assert_eq!(
        v1.documented_error_codes("phoneNumberVerify", 401),
        ["UNAUTHENTICATED", "AUTHENTICATION_REQUIRED"]
    );
    assert_eq!(
        v1.documented_error_codes("phoneNumberVerify", 403)[2],
        "INVALID_TOKEN_CONTEXT"
    );
}

/// A document whose only operation `x` has the given `responses` (indented for the mapping)
/// and `components`.
fn with_responses(responses: &str, components: &str) -> String {
    format!(
        "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  /x:\n    get:\n      operationId: x\n      responses:\n{responses}\ncomponents:\n{components}\n"
    )
}

fn load(yaml: &str) -> SpecDocument {
    SpecDocument::from_yaml(yaml, "crafted.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

#[test]
fn example_codes_are_deduplicated_and_example_refs_followed() {
    let doc = load(&with_responses(
        "        '409':
          description: conflict
          content:
            application/json:
              schema: {type: object}
              example: {code: ZULU}
              examples:
                b: {value: {code: YANKEE}}
                a: {$ref: '#/components/examples/Shared'}
                c: {value: {code: ZULU}}
                d: {value: {message: no code here}}
                e: {$ref: '#/components/examples/Missing'}",
        "  examples:\n    Shared:\n      value: {code: XRAY}",
    ));
    assert_eq!(
        doc.documented_error_codes("x", 409),
        ["ZULU", "YANKEE", "XRAY"]
    );
}

#[test]
fn an_enum_wins_over_examples_and_ranges_and_default_apply() {
    let doc = load(&with_responses(
        "        '400':
          description: bad
          content:
            text/plain: {example: {code: NOT_JSON}}
            application/problem+json:
              schema:
                allOf:
                  - {$ref: '#/components/schemas/E'}
                  - {properties: {code: {enum: [B, A, C]}}}
                  - {properties: {code: {enum: [C, B]}}}
              example: {code: IGNORED}
        4XX:
          description: any client error
          content:
            application/json:
              schema:
                oneOf:
                  - {properties: {code: {enum: [ONE]}}}
                  - {properties: {code: {enum: [TWO, ONE]}}}
        default:
          description: anything else
          content:
            application/json:
              schema: {$ref: '#/components/schemas/E'}
              examples:
                only: {value: {code: FALLBACK}}",
        "  schemas:\n    E:\n      type: object\n      properties:\n        code: {type: string}",
    ));
    // allOf narrows (document order of the first enum), the JSON media type is the one read.
    assert_eq!(doc.documented_error_codes("x", 400), ["B", "C"]);
    // oneOf widens; 404 is documented by the 4XX range.
    assert_eq!(doc.documented_error_codes("x", 404), ["ONE", "TWO"]);
    // 500 falls to `default`, which has no enum but an example.
    assert_eq!(doc.documented_error_codes("x", 500), ["FALLBACK"]);
}

#[test]
fn an_enum_that_allows_nothing_is_not_replaced_by_examples() {
    let doc = load(&with_responses(
        "        '400':
          description: bad
          content:
            application/json:
              schema:
                allOf:
                  - {properties: {code: {enum: [A]}}}
                  - {properties: {code: {enum: [B]}}}
              example: {code: A}",
        "  schemas: {}",
    ));
    assert!(doc.documented_error_codes("x", 400).is_empty());
}

#[test]
fn a_one_of_branch_without_enum_leaves_the_code_open() {
    let doc = load(&with_responses(
        "        '400':
          description: bad
          content:
            application/json:
              schema:
                anyOf:
                  - {properties: {code: {enum: [ONE]}}}
                  - {properties: {code: {type: string}}}
              example: {code: FROM_EXAMPLE}",
        "  schemas: {}",
    ));
    assert_eq!(doc.documented_error_codes("x", 400), ["FROM_EXAMPLE"]);
}

#[test]
fn correlator_pattern_comes_from_the_parameter_schema() {
    assert_eq!(
        doc().correlator_pattern().as_deref(),
        Some(r"^[a-zA-Z0-9-_:;.\/<>{}]{0,256}$")
    );
    assert_eq!(
        embedded("2.0.0").correlator_pattern().as_deref(),
        Some("^[a-zA-Z0-9-]{0,55}$")
    );
    // No pattern before v1.1.0-rc.1 (v1.0.0-rc.1 names its parameter `X-Correlator`).
    for version in ["0.3.1", "1.0.0-rc.1", "1.0.0"] {
        assert_eq!(embedded(version).correlator_pattern(), None, "{version}");
    }
}

#[test]
fn correlator_pattern_matches_names_case_insensitively_and_reads_path_parameters() {
    let yaml = "openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /x:
    parameters:
      - {in: query, name: x-correlator, schema: {type: string, pattern: '^query$'}}
      - {$ref: '#/components/parameters/Corr'}
    get:
      operationId: x
      parameters:
        - {in: header, name: x-correlator, schema: {type: string, pattern: '^later$'}}
      responses:
        '200': {description: ok}
components:
  parameters:
    Corr: {in: header, name: X-CORRELATOR, schema: {allOf: [{type: string}, {pattern: '^[0-9]+$'}]}}
";
    assert_eq!(load(yaml).correlator_pattern().as_deref(), Some("^[0-9]+$"));
    let without = load(&with_responses(
        "        '200': {description: ok}",
        "  schemas: {}",
    ));
    assert_eq!(without.correlator_pattern(), None);
}

#[test]
fn key_order_names_keys_like_the_json_conversion() {
    let yaml: serde_norway::Value =
        serde_norway::from_str("b: 1\na:\n  200: x\n  true: y\n  '1': [{z: 1, y: 2}]\n")
            .expect("test yaml");
    let mut order = KeyOrder::new();
    record_key_order(&yaml, "", &mut order);
    assert_eq!(order[""], ["b", "a"]);
    assert_eq!(order["/a"], ["200", "true", "1"]);
    assert_eq!(order["/a/1/0"], ["z", "y"]);
}

#[test]
fn a_string_status_matches_only_where_the_document_allows_a_string() {
    let orange = SpecDocument::from_yaml(
        include_str!("../../specs/dialects/orange-es-v0.yaml"),
        "orange-es-v0.yaml",
    )
    .expect("the dialect document loads");
    assert_eq!(orange.base_path(), "/camara/oes/number-verification/v0");
    assert!(orange.documents_status("phoneNumberVerify", 403));
    assert!(!orange.documents_status("phoneNumberVerify", 400));
    assert!(!orange.documents_correlator("phoneNumberVerify"));
    assert!(doc().documents_correlator("phoneNumberVerify"));
    let denied = |status_text: &str| {
        exchange(
            "/verify",
            &[],
            403,
            &[JSON],
            &format!(r#"{{"status":{status_text},"code":"PERMISSION_DENIED","message":"m"}}"#),
        )
    };
    assert!(
        orange
            .validate("phoneNumberVerify", &denied(r#""403""#))
            .is_empty()
    );
    assert!(
        orange
            .validate("phoneNumberVerify", &denied("403"))
            .is_empty()
    );
    let wrong = orange.validate("phoneNumberVerify", &denied(r#""404""#));
    assert!(
        rules_of(&wrong).contains(&Rule::ErrorStatusMatchesHttp),
        "{wrong:#?}"
    );
    // CAMARA documents an integer: the string breaks its schema and the status rule there.
    let camara = rules_of(&doc().validate("phoneNumberVerify", &denied(r#""403""#)));
    assert!(camara.contains(&Rule::BodySchema) && camara.contains(&Rule::ErrorStatusMatchesHttp));
}
