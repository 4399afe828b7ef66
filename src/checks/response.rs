//! An API answer against what a scenario expects of it: status, headers, properties (the
//! assertions of CAMARA's test definitions, and of nvcert's features written in their phrasing).

use serde_json::Value;

use super::{Finding, Verdict};
use crate::exchange::{Exchange, quote_json as shown, quote_text};

/// The answer's status is `expected`; the finding quotes the body, which usually says why not.
pub fn status(exchange: &Exchange, expected: u16) -> Verdict {
    let found = exchange.response.status.as_u16();
    if found == expected {
        return Ok(());
    }
    let body = quote_text(&String::from_utf8_lossy(&exchange.response.body));
    Err(Finding::new(
        "response status",
        expected.to_string(),
        format!("{found} (body: {body})"),
    ))
}

/// The answer's status is one of `allowed`.
pub fn status_one_of(exchange: &Exchange, allowed: &[u16]) -> Verdict {
    let found = exchange.response.status.as_u16();
    if allowed.contains(&found) {
        Ok(())
    } else {
        Err(Finding::new(
            "response status",
            format!("one of {allowed:?}"),
            found.to_string(),
        ))
    }
}

/// Response header `name` is `expected`. Media types compare without parameters and
/// case-insensitively (RFC 9110 §8.3.1), other headers exactly.
pub fn header_is(exchange: &Exchange, name: &str, expected: &str) -> Verdict {
    let found = exchange.response.header(name);
    let holds = match found {
        Some(v) if name.eq_ignore_ascii_case("content-type") => {
            media_type(v) == media_type(expected)
        }
        Some(v) => v == expected,
        None => false,
    };
    if holds {
        Ok(())
    } else {
        Err(Finding::new(
            format!("response header {name}"),
            format!("{expected:?}"),
            found.map_or("no such header".into(), |v| format!("{v:?}")),
        ))
    }
}

fn media_type(v: &str) -> String {
    v.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Response header `response_name` echoes request header `request_name` (the x-correlator
/// rule: Commonalities design guide §5.8.5).
pub fn header_echoed(exchange: &Exchange, response_name: &str, request_name: &str) -> Verdict {
    let sent = exchange.request.header(request_name);
    let got = exchange.response.header(response_name);
    match (sent, got) {
        (Some(s), Some(g)) if s == g => Ok(()),
        (None, _) => Err(Finding::new(
            format!("the request's {request_name} header"),
            "a value to compare with",
            "no such header",
        )),
        (Some(s), g) => Err(Finding::new(
            format!("response header {response_name}"),
            format!("{s:?} (the request's {request_name})"),
            g.map_or("no such header".into(), |v| format!("{v:?}")),
        )),
    }
}

/// Response property `path` is `expected`.
pub fn property_equals(path: &str, expected: &Value, found: &Value) -> Verdict {
    if expected == found {
        Ok(())
    } else {
        Err(Finding::new(
            format!("response property {path}"),
            shown(expected),
            shown(found),
        ))
    }
}

/// Response property `path` is a non-blank text (CAMARA: `message` is free, but present).
pub fn property_is_text(path: &str, found: &Value) -> Verdict {
    match found {
        Value::String(s) if !s.trim().is_empty() => Ok(()),
        other => Err(Finding::new(
            format!("response property {path}"),
            "a non-empty text",
            shown(other),
        )),
    }
}

/// "METHOD URL" of the exchange's request (without the query, which may carry secrets).
fn request_line(exchange: &Exchange) -> String {
    let mut url = exchange.request.url.clone();
    url.set_query(None);
    url.set_fragment(None);
    format!("{} {url}", exchange.request.method)
}

/// A 405 answer carries a non-empty `Allow` header (RFC 9110 §15.5.6: "The origin server MUST
/// generate an Allow header field in a 405 response"). Other statuses are not concerned.
pub fn allow_on_405(exchange: &Exchange) -> Verdict {
    if exchange.response.status.as_u16() != 405 {
        return Ok(());
    }
    match exchange.response.header("allow") {
        Some(v) if !v.trim().is_empty() => Ok(()),
        found => Err(Finding::new(
            format!("405 answer to {}", request_line(exchange)),
            "an Allow header listing the methods the resource offers (RFC 9110 §15.5.6)",
            found.map_or("no Allow header".to_owned(), |v| format!("Allow: {v:?}")),
        )),
    }
}

/// A 404 or 405 answer is a CAMARA error: `application/json` with an ErrorInfo object whose
/// `status` is the HTTP status, `code` the Commonalities catalogue's (`NOT_FOUND`,
/// `METHOD_NOT_ALLOWED`) and `message` a text. Other statuses are not concerned.
pub fn camara_error_for_404_405(exchange: &Exchange) -> Verdict {
    let status = exchange.response.status.as_u16();
    let code = match status {
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        _ => return Ok(()),
    };
    let subject = format!("{status} answer to {}", request_line(exchange));
    let expected = format!(
        "application/json ErrorInfo {{\"status\": {status}, \"code\": \"{code}\", \"message\": …}} (CAMARA_common Generic{status})"
    );
    let content_type = exchange.response.header("content-type").unwrap_or("");
    if media_type(content_type) != "application/json" {
        return Err(Finding::new(
            subject,
            expected,
            format!("Content-Type {content_type:?}"),
        ));
    }
    let body: Value = match serde_json::from_slice(&exchange.response.body) {
        Ok(v) => v,
        Err(_) => {
            let text = quote_text(&String::from_utf8_lossy(&exchange.response.body));
            return Err(Finding::new(subject, expected, format!("body {text}")));
        }
    };
    let holds = body.get("status").and_then(Value::as_u64) == Some(u64::from(status))
        && body.get("code").and_then(Value::as_str) == Some(code)
        && body.get("message").is_some_and(Value::is_string);
    if holds {
        Ok(())
    } else {
        Err(Finding::new(subject, expected, shown(&body)))
    }
}

/// A 401 answer carries a `WWW-Authenticate` challenge with the `Bearer` scheme (RFC 6750 §3).
/// Other statuses are not concerned.
pub fn bearer_challenge_on_401(exchange: &Exchange) -> Verdict {
    if exchange.response.status.as_u16() != 401 {
        return Ok(());
    }
    let found = exchange.response.header("www-authenticate");
    let scheme = found
        .and_then(|v| v.split_whitespace().next())
        .unwrap_or("");
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(());
    }
    Err(Finding::new(
        format!("401 answer to {}", request_line(exchange)),
        "a WWW-Authenticate header with the Bearer scheme (RFC 6750 §3)",
        found.map_or("no WWW-Authenticate header".to_owned(), |v| {
            format!("WWW-Authenticate: {v:?}")
        }),
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::exchange::testing;

    fn answer(status: u16, headers: &[(&str, &str)]) -> Exchange {
        testing::answer("http://h/verify", status, headers, r#"{"code":"X"}"#)
    }

    #[test]
    fn statuses() {
        let e = answer(403, &[]);
        assert_eq!(status(&e, 403), Ok(()));
        assert_eq!(
            status(&e, 200).unwrap_err().to_string(),
            r#"response status: expected 200, found 403 (body: {"code":"X"})"#
        );
        assert_eq!(status_one_of(&e, &[401, 403]), Ok(()));
        assert!(status_one_of(&e, &[400, 415]).is_err());
    }

    #[test]
    fn headers_compare_media_types_loosely_and_others_exactly() {
        let e = answer(
            200,
            &[
                ("content-type", "Application/JSON; charset=utf-8"),
                ("x-a", "b"),
            ],
        );
        for (name, expected, holds) in [
            ("content-type", "application/json", true),
            ("content-type", "text/html", false),
            ("x-a", "b", true),
            ("x-a", "B", false),
            ("x-missing", "b", false),
        ] {
            assert_eq!(
                header_is(&e, name, expected).is_ok(),
                holds,
                "{name}: {expected}"
            );
        }
    }

    #[test]
    fn echoes_need_the_request_header_and_the_same_value() {
        let mut e = answer(200, &[("x-correlator", "c-1")]);
        assert!(header_echoed(&e, "x-correlator", "x-correlator").is_err());
        e.request
            .headers
            .insert("x-correlator", "c-1".parse().unwrap());
        assert_eq!(header_echoed(&e, "x-correlator", "x-correlator"), Ok(()));
        e.request
            .headers
            .insert("x-correlator", "c-2".parse().unwrap());
        let finding = header_echoed(&e, "x-correlator", "x-correlator").unwrap_err();
        assert_eq!(finding.found, "\"c-1\"");
    }

    #[test]
    fn properties() {
        assert_eq!(property_equals("$.a", &json!(true), &json!(true)), Ok(()));
        assert!(property_equals("$.a", &json!(true), &json!("true")).is_err());
        assert_eq!(property_is_text("$.message", &json!("Bad")), Ok(()));
        for blank in [json!(" "), json!(null), json!(3)] {
            assert!(property_is_text("$.message", &blank).is_err(), "{blank}");
        }
    }

    #[test]
    fn a_405_needs_allow_and_other_statuses_do_not() {
        let url = "http://h/number-verification/v2/device-phone-number";
        let with = testing::answer(url, 405, &[("allow", "GET")], "{}");
        let without = testing::answer(url, 405, &[], "{}");
        assert_eq!(allow_on_405(&with), Ok(()));
        assert_eq!(
            allow_on_405(&without).unwrap_err().to_string(),
            format!(
                "405 answer to POST {url}: expected an Allow header listing the methods the \
                 resource offers (RFC 9110 §15.5.6), found no Allow header"
            )
        );
        assert_eq!(allow_on_405(&testing::answer(url, 404, &[], "{}")), Ok(()));
    }

    #[test]
    fn a_404_or_405_is_a_camara_error_info() {
        let json = [("content-type", "application/json")];
        let problem = [("content-type", "application/problem+json")];
        let body_405 = r#"{"status":405,"code":"METHOD_NOT_ALLOWED","message":"no"}"#;
        let body_404 = r#"{"status":404,"code":"NOT_FOUND","message":"no"}"#;
        for (status, headers, body, holds) in [
            (405, &json[..], body_405, true),
            (404, &json[..], body_404, true),
            (
                405,
                &problem[..],
                r#"{"title":"Method Not Allowed","status":405}"#,
                false,
            ),
            (405, &json[..], body_404, false),
            (
                404,
                &json[..],
                r#"{"status":404,"code":"NOT_FOUND"}"#,
                false,
            ),
            (404, &json[..], "not json", false),
            (400, &problem[..], "x", true),
        ] {
            let e = testing::answer("http://h/x", status, headers, body);
            assert_eq!(
                camara_error_for_404_405(&e).is_ok(),
                holds,
                "{status} {headers:?} {body}"
            );
        }
    }

    #[test]
    fn a_401_needs_a_bearer_challenge() {
        for (headers, holds) in [
            (&[("www-authenticate", "Bearer realm=\"nv\"")][..], true),
            (&[("www-authenticate", "bearer")][..], true),
            (&[("www-authenticate", "Basic realm=\"x\"")][..], false),
            (&[][..], false),
        ] {
            let e = testing::answer("http://h/verify", 401, headers, "{}");
            assert_eq!(bearer_challenge_on_401(&e).is_ok(), holds, "{headers:?}");
        }
        let other = testing::answer("http://h/verify", 403, &[], "{}");
        assert_eq!(bearer_challenge_on_401(&other), Ok(()));
    }
}
