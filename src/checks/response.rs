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

/// The media type of a Content-Type value: lower case, without parameters.
pub(crate) fn media_type(v: &str) -> String {
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
}
