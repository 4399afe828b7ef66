//! The token endpoint's answers (RFC 6749 §5.1, §5.2; CAMARA ICM; CAMARA main's unreleased
//! rules for refresh tokens and lifetimes).

use serde_json::Value;

use super::{Finding, Verdict};
use crate::exchange::Exchange;
use crate::flow::TokenResponse;

/// The token endpoint refused the request with HTTP 400 or 401 and the OAuth `error` `expected`
/// (RFC 6749 §5.2).
pub fn refused_with(exchange: &Exchange, expected: &str) -> Verdict {
    let status = exchange.response.status.as_u16();
    let error = exchange
        .response
        .json()
        .and_then(|b| b.get("error").and_then(Value::as_str).map(str::to_owned));
    match (status, error.as_deref()) {
        (400 | 401, Some(found)) if found == expected => Ok(()),
        _ => Err(Finding::new(
            "token endpoint",
            format!("HTTP 400/401 with error {expected:?}"),
            format!(
                "HTTP {status}{}",
                error.map_or_else(String::new, |e| format!(" with error {e:?}"))
            ),
        )),
    }
}

/// The token endpoint issued tokens: HTTP 200 with a non-empty `access_token` (RFC 6749 §5.1).
pub fn issued(exchange: &Exchange) -> Verdict {
    let body = exchange.response.json().unwrap_or(Value::Null);
    let has_token = body
        .get("access_token")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    if exchange.response.status.is_success() && has_token {
        Ok(())
    } else {
        let error = body.get("error").and_then(Value::as_str).unwrap_or("");
        Err(Finding::new(
            "token endpoint",
            "HTTP 200 with an access_token",
            format!("HTTP {} {error}", exchange.response.status),
        ))
    }
}

/// The token response is served as `application/json` (RFC 6749 §5.1: the parameters are in the
/// entity-body "using the application/json media type"; MUST).
pub fn served_as_json(exchange: &Exchange) -> Verdict {
    super::served_as_json(exchange, "token response")
}

/// The answer forbids caching: `Cache-Control: no-store` (RFC 6749 §5.1).
pub fn no_store(exchange: &Exchange) -> Verdict {
    let found = exchange.response.header("cache-control");
    if found.is_some_and(|v| {
        v.split(',')
            .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
    }) {
        Ok(())
    } else {
        Err(Finding::new(
            "token response header Cache-Control",
            "\"no-store\"",
            found.map_or("no such header".into(), |v| format!("{v:?}")),
        ))
    }
}

/// No refresh token was issued (CAMARA main, unreleased).
pub fn no_refresh_token(token: &TokenResponse) -> Verdict {
    if token.has_refresh_token {
        Err(Finding::new("token response", "no refresh_token", "one"))
    } else {
        Ok(())
    }
}

/// `expires_in` is given and within 1..=`max` seconds (CAMARA main, unreleased: at most 300).
pub fn expires_at_most(token: &TokenResponse, max: i64) -> Verdict {
    match token.expires_in {
        Some(e) if (1..=max).contains(&e) => Ok(()),
        found => Err(Finding::new(
            "token response expires_in",
            format!("1..={max}"),
            found.map_or("no expires_in".into(), |e| e.to_string()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::testing;
    use crate::secret::Secret;

    fn answer(status: u16, cache_control: Option<&str>, body: &str) -> Exchange {
        let headers: Vec<(&str, &str)> = cache_control
            .map(|v| ("cache-control", v))
            .into_iter()
            .collect();
        testing::answer("http://h/token", status, &headers, body)
    }

    fn token(expires_in: Option<i64>, refresh: bool) -> TokenResponse {
        TokenResponse {
            access_token: Secret::new("t".to_owned()),
            token_type: "Bearer".into(),
            expires_in,
            scope: None,
            id_token: None,
            has_refresh_token: refresh,
        }
    }

    #[test]
    fn token_responses_must_be_served_as_json() {
        let body = r#"{"access_token":"a","token_type":"Bearer"}"#;
        let json = testing::answer(
            "http://h/token",
            200,
            &[("content-type", "application/json;charset=UTF-8")],
            body,
        );
        assert_eq!(served_as_json(&json), Ok(()));
        let html = testing::answer(
            "http://h/token",
            200,
            &[("content-type", "text/html")],
            body,
        );
        let finding = served_as_json(&html).unwrap_err();
        assert_eq!(finding.subject, "token response header Content-Type");
        assert_eq!(finding.found, "\"text/html\"");
    }

    #[test]
    fn refusals_name_status_and_error() {
        let refused = answer(400, None, r#"{"error":"invalid_grant"}"#);
        assert_eq!(refused_with(&refused, "invalid_grant"), Ok(()));
        assert!(refused_with(&refused, "invalid_client").is_err());
        let issued_answer = answer(200, Some("no-store"), r#"{"access_token":"a"}"#);
        let finding = refused_with(&issued_answer, "invalid_grant").unwrap_err();
        assert_eq!(finding.found, "HTTP 200");
        assert_eq!(issued(&issued_answer), Ok(()));
        assert!(issued(&refused).is_err());
        assert!(issued(&answer(200, None, r#"{"access_token":""}"#)).is_err());
    }

    #[test]
    fn caching_refresh_and_lifetime() {
        for (header, ok) in [
            (Some("no-store"), true),
            (Some("private, No-Store"), true),
            (Some("no-cache"), false),
            (None, false),
        ] {
            assert_eq!(
                no_store(&answer(200, header, "{}")).is_ok(),
                ok,
                "{header:?}"
            );
        }
        assert_eq!(no_refresh_token(&token(Some(300), false)), Ok(()));
        assert!(no_refresh_token(&token(Some(300), true)).is_err());
        for (expires_in, ok) in [
            (Some(300), true),
            (Some(301), false),
            (Some(0), false),
            (None, false),
        ] {
            assert_eq!(
                expires_at_most(&token(expires_in, false), 300).is_ok(),
                ok,
                "{expires_in:?}"
            );
        }
    }
}
