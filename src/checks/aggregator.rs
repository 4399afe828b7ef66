//! Through an aggregator (channel partner): the chain of the device leg, the routing to the line's
//! operator, what the aggregator's token reveals, and the answers it gives to tokens and codes it
//! did not issue. Where no standard applies the rule is the NV white paper's ("Annex – Detailed
//! Flows"); the OAuth rules are RFC 6749's.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::Value;

use super::{Finding, Verdict};
use crate::exchange::Exchange;
use crate::flow::Hop;

/// Error codes RFC 6749 §4.1.2.1 defines for an authorization request refused with a redirect.
pub const AUTHORIZE_ERRORS: &[&str] = &[
    "invalid_request",
    "unauthorized_client",
    "access_denied",
    "unsupported_response_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
];

fn host_of(origin: &str) -> String {
    url::Url::parse(origin)
        .ok()
        .and_then(|u| crate::profile::url_host(&u))
        .unwrap_or_default()
}

fn shown(hops: &[Hop]) -> String {
    hops.iter()
        .map(|h| match h.status {
            Some(s) => format!("{}{} ({s})", h.origin, h.path),
            None => format!("{}{} (stopped)", h.origin, h.path),
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// The device leg crossed aggregator → operator → aggregator → app: it started at the
/// aggregator, was redirected to one of `operator_hosts`, came back to a host that is not an
/// operator's (the aggregator's callback) and ended at the app's `redirect_uri`. Every hop was
/// already within the profile's hosts (the trust set refuses any other). NV white paper, Annex –
/// Detailed Flows, steps 4–12.
pub fn chain_crosses(hops: &[Hop], operator_hosts: &[String], redirect_uri: &url::Url) -> Verdict {
    let subject = "device leg through the aggregator";
    let is_operator = |h: &Hop| operator_hosts.contains(&host_of(&h.origin));
    let expected = "aggregator → operator → aggregator → the app's redirect_uri";
    let fail = |why: &str| {
        Err(Finding::new(
            subject,
            expected,
            format!("{why}: {}", shown(hops)),
        ))
    };
    let Some(first) = hops.first() else {
        return fail("no hop");
    };
    if is_operator(first) {
        return fail("the leg started at an operator");
    }
    let Some(at_operator) = hops.iter().position(is_operator) else {
        return fail("no hop at an operator");
    };
    if !hops[at_operator..]
        .iter()
        .any(|h| !is_operator(h) && h.status.is_some())
    {
        return fail("no hop back to the aggregator after the operator");
    }
    let target = Hop::to(redirect_uri, None);
    match hops.last() {
        Some(last)
            if last.status.is_none()
                && last.origin == target.origin
                && last.path == target.path =>
        {
            Ok(())
        }
        _ => fail("the leg did not end at the app's redirect_uri"),
    }
}

/// The device leg went to the line's own operator (`expected_hosts`), and to no other operator
/// (`other_hosts`): the telco finder routed the device correctly. NV white paper, Annex –
/// Detailed Flows, steps 2–5 (the aggregator identifies the operator serving the device).
pub fn routed_to(
    hops: &[Hop],
    operator: &str,
    expected_hosts: &[String],
    other_hosts: &[String],
) -> Verdict {
    let hosts: Vec<String> = hops.iter().map(|h| host_of(&h.origin)).collect();
    let wrong: Vec<&String> = hosts.iter().filter(|h| other_hosts.contains(h)).collect();
    if hosts.iter().any(|h| expected_hosts.contains(h)) && wrong.is_empty() {
        return Ok(());
    }
    Err(Finding::new(
        "telco finder",
        format!(
            "the device redirected to operator {operator} ({})",
            expected_hosts.join(", ")
        ),
        if wrong.is_empty() {
            format!("no hop there: {}", shown(hops))
        } else {
            format!("a hop at another operator ({}): {}", wrong[0], shown(hops))
        },
    ))
}

/// `state` came back to the app exactly as it sent it, across both authorization flows (RFC 6749
/// §4.1.2: "REQUIRED if the state parameter was present in the client authorization request.
/// The exact value received from the client").
pub fn state_survives(sent: &str, received: Option<&str>) -> Verdict {
    if received == Some(sent) {
        return Ok(());
    }
    Err(Finding::new(
        "state in the final redirect to the app",
        format!("{sent:?}, as the app sent it to the aggregator"),
        received.map_or_else(|| "no state".to_owned(), |s| format!("{s:?}")),
    ))
}

/// The forms of a phone number a token could carry: E.164 with and without `+`, URL-encoded,
/// and the SHA-256 (hex) NV's `hashedPhoneNumber` uses.
pub fn msisdn_forms(e164: &str) -> Vec<String> {
    use sha2::Digest as _;
    let digits = e164.trim_start_matches('+');
    vec![
        e164.to_owned(),
        digits.to_owned(),
        format!("%2B{digits}"),
        hex::encode(sha2::Sha256::digest(e164.as_bytes())),
    ]
}

/// Every readable form of `token`: itself, and each dot-separated part (and the whole) decoded
/// from base64url or base64 when it decodes.
fn readable_forms(token: &str) -> Vec<Vec<u8>> {
    let mut forms = vec![token.as_bytes().to_vec()];
    for part in std::iter::once(token).chain(token.split('.')) {
        for engine in [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD, &STANDARD_NO_PAD] {
            if let Ok(bytes) = engine.decode(part) {
                forms.push(bytes);
                break;
            }
        }
    }
    forms
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The aggregator's access token reveals nothing: it is not a JWS (or base64 JSON) whose payload
/// anyone can read, and no readable form of it contains any of `secrets` (label, value: the
/// operator token, the line's number in each of its forms). NV white paper, Annex – Detailed
/// Flows, steps 13–16 (the aggregator token wraps the operator token and the routing information
/// "encrypted so that nothing is exposed", or is a reference to them).
pub fn token_reveals_nothing(token: &str, secrets: &[(String, String)]) -> Verdict {
    let subject = "the aggregator's access token";
    let parts: Vec<&str> = token.split('.').collect();
    let json_payload = |text: &str| {
        readable_forms(text)
            .into_iter()
            .skip(1)
            .any(|b| serde_json::from_slice::<Value>(&b).is_ok_and(|v| v.is_object()))
    };
    if parts.len() == 3 && json_payload(parts[1]) {
        return Err(Finding::new(
            subject,
            "an encrypted (JWE) or opaque reference token",
            "a JWS whose payload anyone can read",
        ));
    }
    if parts.len() == 1 && json_payload(token) {
        return Err(Finding::new(
            subject,
            "an encrypted (JWE) or opaque reference token",
            "base64-encoded JSON anyone can read",
        ));
    }
    let forms = readable_forms(token);
    for (label, value) in secrets {
        if forms.iter().any(|f| contains(f, value)) {
            return Err(Finding::new(
                subject,
                "a token revealing neither the operator token nor the line's number",
                format!("a token containing {label}"),
            ));
        }
    }
    Ok(())
}

/// An NV API answer says the number verifies as `expected`: HTTP 200 with
/// `devicePhoneNumberVerified` `expected` (NV OAS phoneNumberVerify). `subject` names the call.
pub fn verified_as(exchange: &Exchange, expected: bool, subject: &str) -> Verdict {
    let status = exchange.response.status.as_u16();
    let found = exchange
        .response
        .json()
        .and_then(|b| b.get("devicePhoneNumberVerified").and_then(Value::as_bool));
    match (status, found) {
        (200, Some(v)) if v == expected => Ok(()),
        (200, Some(v)) => Err(Finding::new(
            subject,
            format!("devicePhoneNumberVerified {expected}"),
            format!("{v}"),
        )),
        _ => Err(Finding::new(
            subject,
            format!("HTTP 200 with devicePhoneNumberVerified {expected}"),
            format!(
                "HTTP {status}{}",
                exchange
                    .response
                    .json()
                    .and_then(|b| b.get("code").and_then(Value::as_str).map(str::to_owned))
                    .map_or_else(String::new, |c| format!(" {c}"))
            ),
        )),
    }
}

/// The aggregator's token endpoint refused a code it did not issue: HTTP 400 or 401 with an OAuth
/// `error` (`invalid_grant`, or `invalid_client` / `unauthorized_client` when it refused the
/// client first) and no access token (RFC 6749 §4.1.3, §5.2: the code must have been issued to
/// the authenticated client, by this server).
pub fn foreign_code_refused(exchange: &Exchange) -> Verdict {
    let status = exchange.response.status.as_u16();
    let body = exchange.response.json().unwrap_or(Value::Null);
    let error = body.get("error").and_then(Value::as_str);
    let issued = body.get("access_token").is_some();
    match (status, error) {
        (400 | 401, Some("invalid_grant" | "invalid_client" | "unauthorized_client"))
            if !issued =>
        {
            Ok(())
        }
        _ => Err(Finding::new(
            "the aggregator's token endpoint, given an operator's code",
            "HTTP 400 invalid_grant (a code it did not issue), no access token",
            format!(
                "HTTP {status}{}{}",
                error.map_or_else(String::new, |e| format!(" with error {e:?}")),
                if issued { " with an access_token" } else { "" }
            ),
        )),
    }
}

/// An API call with a bearer token `what` (one the aggregator did not issue, or one the
/// operator did not issue) was refused with HTTP 401 (NV OAS responses.401; RFC 6750 §3.1
/// invalid_token).
pub fn bearer_refused(exchange: &Exchange, what: &str) -> Verdict {
    let status = exchange.response.status.as_u16();
    if status == 401 {
        return Ok(());
    }
    Err(Finding::new(
        format!("an API call carrying {what}"),
        "HTTP 401 (a token this server did not issue)",
        format!("HTTP {status}"),
    ))
}

/// A device no operator serves got a documented answer: no hop answered with a 5xx, and the leg
/// ended in a redirect to the app carrying an RFC 6749 §4.1.2.1 `error` and no code.
pub fn unknown_device_refused(
    hops: &[Hop],
    error: Option<&str>,
    code_issued: bool,
    redirect_uri: &url::Url,
) -> Verdict {
    let subject = "a device no operator serves";
    let expected = format!(
        "a redirect to the app with an RFC 6749 §4.1.2.1 error ({}) and no code, never a 5xx",
        AUTHORIZE_ERRORS.join(", ")
    );
    if let Some(h) = hops.iter().find(|h| h.status.is_some_and(|s| s >= 500)) {
        return Err(Finding::new(
            subject,
            expected,
            format!(
                "HTTP {} at {}{}",
                h.status.unwrap_or_default(),
                h.origin,
                h.path
            ),
        ));
    }
    let target = Hop::to(redirect_uri, None);
    let at_app = hops
        .last()
        .is_some_and(|l| l.status.is_none() && l.origin == target.origin && l.path == target.path);
    match (at_app, error, code_issued) {
        (true, Some(e), false) if AUTHORIZE_ERRORS.contains(&e) => Ok(()),
        (true, _, true) => Err(Finding::new(subject, expected, "a code")),
        (true, Some(e), false) => Err(Finding::new(subject, expected, format!("error {e:?}"))),
        (true, None, false) => Err(Finding::new(subject, expected, "a redirect without error")),
        (false, _, _) => Err(Finding::new(
            subject,
            expected,
            format!("no redirect to the app: {}", shown(hops)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(url: &str, status: Option<u16>) -> Hop {
        Hop::to(&url::Url::parse(url).unwrap(), status)
    }

    fn app() -> url::Url {
        url::Url::parse("https://client.nvcert.invalid/callback").unwrap()
    }

    fn operators() -> Vec<String> {
        vec!["127.0.0.11".into(), "127.0.0.12".into()]
    }

    fn chain() -> Vec<Hop> {
        vec![
            hop("http://127.0.0.1:9093/authorize", Some(302)),
            hop("http://127.0.0.11:9093/authorize", Some(302)),
            hop("http://127.0.0.1:9093/callback", Some(302)),
            hop("https://client.nvcert.invalid/callback", None),
        ]
    }

    #[test]
    fn the_chain_must_cross_operator_and_come_back() {
        assert_eq!(chain_crosses(&chain(), &operators(), &app()), Ok(()));
        let mut skipped_operator = chain();
        skipped_operator.remove(1);
        let e = chain_crosses(&skipped_operator, &operators(), &app()).unwrap_err();
        assert!(e.found.starts_with("no hop at an operator"), "{e}");
        let mut straight_back = chain();
        straight_back.remove(2);
        let e = chain_crosses(&straight_back, &operators(), &app()).unwrap_err();
        assert!(e.found.contains("no hop back"), "{e}");
        let mut no_app = chain();
        no_app.pop();
        let e = chain_crosses(&no_app, &operators(), &app()).unwrap_err();
        assert!(e.found.contains("redirect_uri"), "{e}");
        let e = chain_crosses(&chain()[1..], &operators(), &app()).unwrap_err();
        assert!(e.found.contains("started at an operator"), "{e}");
        assert!(chain_crosses(&[], &operators(), &app()).is_err());
    }

    #[test]
    fn routing_names_the_wrong_operator() {
        let a = vec!["127.0.0.11".to_owned()];
        let b = vec!["127.0.0.12".to_owned()];
        assert_eq!(routed_to(&chain(), "operator-a", &a, &b), Ok(()));
        let e = routed_to(&chain(), "operator-b", &b, &a).unwrap_err();
        assert!(e.found.contains("another operator (127.0.0.11)"), "{e}");
        let e = routed_to(&chain()[..1], "operator-a", &a, &b).unwrap_err();
        assert!(e.found.starts_with("no hop there"), "{e}");
    }

    #[test]
    fn state_must_come_back_exactly() {
        assert_eq!(state_survives("s1", Some("s1")), Ok(()));
        assert!(state_survives("s1", None).is_err());
        assert!(state_survives("s1", Some("agg-own")).is_err());
    }

    #[test]
    fn a_token_reveals_nothing_readable() {
        let secrets: Vec<(String, String)> = msisdn_forms("+34600000002")
            .into_iter()
            .map(|v| ("the line's number".to_owned(), v))
            .chain([("the operator token".to_owned(), "op-tok-123".to_owned())])
            .collect();
        // Opaque and JWE tokens pass.
        assert_eq!(
            token_reveals_nothing("c3VwZXJzZWNyZXRyYW5kb20", &secrets),
            Ok(())
        );
        let jwe = format!(
            "{}.{}.{}.{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"dir","enc":"A256GCM"}"#),
            "",
            "iv",
            "cipher",
            "tag"
        );
        assert_eq!(token_reveals_nothing(&jwe, &secrets), Ok(()));
        // A JWS with a readable payload fails, whatever it carries.
        let jws = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"op":"x"}"#)
        );
        let e = token_reveals_nothing(&jws, &secrets).unwrap_err();
        assert!(e.found.contains("JWS"), "{e}");
        // Base64 JSON fails.
        let b64 = STANDARD.encode(r#"{"sub":"x"}"#);
        assert!(token_reveals_nothing(&b64, &secrets).is_err());
        // The operator token or the number, plain or encoded, fails.
        for leaky in [
            "ref-op-tok-123".to_owned(),
            URL_SAFE_NO_PAD.encode("route:a;msisdn:34600000002"),
            format!(
                "x.{}",
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"+34600000002"))
            ),
        ] {
            let e = token_reveals_nothing(&leaky, &secrets).unwrap_err();
            assert!(e.found.starts_with("a token containing"), "{leaky}: {e}");
        }
    }

    #[test]
    fn verify_answers_are_judged_by_status_and_value() {
        use crate::exchange::testing::answer;
        let ok = answer(
            "http://a/verify",
            200,
            &[],
            r#"{"devicePhoneNumberVerified":true}"#,
        );
        assert_eq!(verified_as(&ok, true, "verify"), Ok(()));
        let e = verified_as(&ok, false, "verify").unwrap_err();
        assert_eq!(e.found, "true");
        let refused = answer(
            "http://a/verify",
            401,
            &[],
            r#"{"status":401,"code":"UNAUTHENTICATED","message":"x"}"#,
        );
        let e = verified_as(&refused, true, "verify").unwrap_err();
        assert_eq!(e.found, "HTTP 401 UNAUTHENTICATED");
        assert_eq!(bearer_refused(&refused, "t"), Ok(()));
        let grant = answer("http://a/token", 400, &[], r#"{"error":"invalid_grant"}"#);
        assert_eq!(foreign_code_refused(&grant), Ok(()));
        let issued = answer(
            "http://a/token",
            200,
            &[],
            r#"{"access_token":"x","token_type":"Bearer"}"#,
        );
        let e = foreign_code_refused(&issued).unwrap_err();
        assert!(e.found.starts_with("HTTP 200") && e.found.contains("access_token"));
        assert!(foreign_code_refused(&answer("http://a/token", 500, &[], "{}")).is_err());
        assert!(bearer_refused(&ok, "t").is_err());
    }

    #[test]
    fn an_unknown_device_gets_a_documented_error() {
        let refused = vec![
            hop("http://127.0.0.1:9093/authorize", Some(302)),
            hop("https://client.nvcert.invalid/callback", None),
        ];
        assert_eq!(
            unknown_device_refused(&refused, Some("access_denied"), false, &app()),
            Ok(())
        );
        assert!(unknown_device_refused(&refused, Some("no_operator"), false, &app()).is_err());
        assert!(unknown_device_refused(&refused, None, true, &app()).is_err());
        assert!(unknown_device_refused(&refused, None, false, &app()).is_err());
        let crashed = vec![hop("http://127.0.0.1:9093/authorize", Some(500))];
        let e = unknown_device_refused(&crashed, None, false, &app()).unwrap_err();
        assert!(e.found.starts_with("HTTP 500"), "{e}");
    }
}
