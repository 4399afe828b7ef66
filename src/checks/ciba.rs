//! The CIBA flow's answers (OpenID CIBA Core 1.0 §11, §13; CAMARA ICM Appendix A).

use serde_json::Value;

use super::{Finding, Verdict};
use crate::exchange::Exchange;

fn oauth_error(exchange: &Exchange) -> Option<String> {
    exchange
        .response
        .json()
        .and_then(|b| b.get("error").and_then(Value::as_str).map(str::to_owned))
}

fn with_error(exchange: &Exchange, error: Option<&str>) -> String {
    format!(
        "HTTP {}{}",
        exchange.response.status.as_u16(),
        error.map_or_else(String::new, |e| format!(" with error {e:?}"))
    )
}

/// The backchannel authentication endpoint refused the request with a 4xx and the OAuth
/// `error` `expected` (CIBA Core §13; ICM Appendix A: `unknown_user_id`).
pub fn refused_with(exchange: &Exchange, expected: &str) -> Verdict {
    let error = oauth_error(exchange);
    if exchange.response.status.is_client_error() && error.as_deref() == Some(expected) {
        Ok(())
    } else {
        Err(Finding::new(
            "backchannel authentication endpoint",
            format!("HTTP 400 with error {expected:?}"),
            with_error(exchange, error.as_deref()),
        ))
    }
}

/// A token poll made before the interval passed was deferred: `slow_down` or
/// `authorization_pending` (CIBA Core §11).
pub fn early_poll_deferred(exchange: &Exchange) -> Verdict {
    let error = oauth_error(exchange);
    match error.as_deref() {
        Some("slow_down" | "authorization_pending") => Ok(()),
        other => Err(Finding::new(
            "token endpoint (CIBA poll before the interval)",
            "error \"slow_down\" or \"authorization_pending\"",
            with_error(exchange, other),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::testing;

    fn answer(status: u16, body: &str) -> Exchange {
        testing::answer("http://h/bc-authorize", status, &[], body)
    }

    #[test]
    fn refusals_need_the_error_named() {
        let unknown = answer(400, r#"{"error":"unknown_user_id"}"#);
        assert_eq!(refused_with(&unknown, "unknown_user_id"), Ok(()));
        assert!(refused_with(&unknown, "invalid_request").is_err());
        let accepted = answer(200, r#"{"auth_req_id":"r"}"#);
        assert_eq!(
            refused_with(&accepted, "unknown_user_id")
                .unwrap_err()
                .found,
            "HTTP 200"
        );
    }

    #[test]
    fn early_polls_are_deferred() {
        for (body, deferred) in [
            (r#"{"error":"slow_down"}"#, true),
            (r#"{"error":"authorization_pending"}"#, true),
            (r#"{"error":"invalid_grant"}"#, false),
            (r#"{"access_token":"t"}"#, false),
        ] {
            let status = if deferred { 400 } else { 200 };
            assert_eq!(
                early_poll_deferred(&answer(status, body)).is_ok(),
                deferred,
                "{body}"
            );
        }
    }
}
