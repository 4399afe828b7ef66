//! The PhoneCheck family's verdicts (IDlayr PhoneCheck v0.1 integration guide; RFC 6749 §4.4,
//! §5.1; RFC 6750 §3.1). Shape against the document is the spec engine's ([`super::contract`]);
//! these judge what the document cannot say: the values a check goes through, where its URL
//! points, and what the device leg achieved.

use serde_json::Value;

use super::{Finding, Verdict};
use crate::exchange::Exchange;
use crate::flow::{CheckUrlOutcome, TokenResponse};

/// A check as created: its id, its URL and its ttl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCheck {
    /// `check_id`.
    pub check_id: String,
    /// `_links.check_url.href`.
    pub check_url: url::Url,
    /// `ttl` in seconds.
    pub ttl: u64,
}

fn json_of(exchange: &Exchange, subject: &str) -> Result<Value, Finding> {
    exchange.response.json().ok_or_else(|| {
        Finding::new(
            subject,
            "a JSON body",
            format!(
                "HTTP {} with {} bytes that are not JSON",
                exchange.response.status,
                exchange.response.body.len()
            ),
        )
    })
}

/// The token answer's `token_type` is `bearer`, compared case-insensitively (guide: "bearer";
/// RFC 6749 §5.1, §7.1).
pub fn token_is_bearer(token: &TokenResponse) -> Verdict {
    if token.token_type.eq_ignore_ascii_case("bearer") {
        Ok(())
    } else {
        Err(Finding::new(
            "PhoneCheck token_type",
            "\"bearer\"",
            format!("{:?}", token.token_type),
        ))
    }
}

/// The token answer names the scope granted and it includes `wanted` (guide: `"scope":
/// "phone_check"`; RFC 6749 §5.1 requires `scope` when it differs from the request).
pub fn token_scope_includes(token: &TokenResponse, wanted: &str) -> Verdict {
    match &token.scope {
        Some(s) if s.split(' ').any(|v| v == wanted) => Ok(()),
        Some(s) => Err(Finding::new(
            "PhoneCheck token scope",
            format!("a scope including {wanted:?}"),
            format!("{s:?}"),
        )),
        None => Err(Finding::new(
            "PhoneCheck token scope",
            format!("`scope` naming {wanted:?} (as the guide's answer does)"),
            "no scope",
        )),
    }
}

/// The token answer says when it expires: a positive `expires_in` (guide: `"expires_in": 3600`;
/// RFC 6749 §5.1 RECOMMENDED).
pub fn token_expires(token: &TokenResponse) -> Verdict {
    match token.expires_in {
        Some(n) if n > 0 => Ok(()),
        Some(n) => Err(Finding::new(
            "PhoneCheck token expires_in",
            "a positive number of seconds",
            n.to_string(),
        )),
        None => Err(Finding::new(
            "PhoneCheck token expires_in",
            "a positive number of seconds",
            "no expires_in",
        )),
    }
}

/// A create-check answer: HTTP 200/201 with `check_id`, `status` `ACCEPTED`, a positive `ttl`
/// and `_links.check_url.href` (guide, step 3).
pub fn created(exchange: &Exchange) -> Result<CreatedCheck, Finding> {
    const SUBJECT: &str = "PhoneCheck create check";
    let status = exchange.response.status.as_u16();
    if !matches!(status, 200 | 201) {
        return Err(Finding::new(
            SUBJECT,
            "HTTP 201 (or 200) with the created check",
            format!("HTTP {status}"),
        ));
    }
    let body = json_of(exchange, SUBJECT)?;
    let check_id = body
        .get("check_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Finding::new(SUBJECT, "a non-empty `check_id`", shown(&body, "check_id")))?;
    match body.get("status").and_then(Value::as_str) {
        Some("ACCEPTED") => {}
        _ => {
            return Err(Finding::new(
                SUBJECT,
                "`status` \"ACCEPTED\"",
                shown(&body, "status"),
            ));
        }
    }
    let ttl = body
        .get("ttl")
        .and_then(Value::as_u64)
        .filter(|t| *t > 0)
        .ok_or_else(|| Finding::new(SUBJECT, "a positive `ttl` in seconds", shown(&body, "ttl")))?;
    let href = body
        .pointer("/_links/check_url/href")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Finding::new(
                SUBJECT,
                "`_links.check_url.href`",
                "no such member".to_owned(),
            )
        })?;
    let check_url = url::Url::parse(href).map_err(|e| {
        Finding::new(
            SUBJECT,
            "`_links.check_url.href` an absolute URL",
            format!("{href:?} ({e})"),
        )
    })?;
    Ok(CreatedCheck {
        check_id: check_id.to_owned(),
        check_url,
        ttl,
    })
}

fn shown(body: &Value, member: &str) -> String {
    body.get(member)
        .map_or_else(|| format!("no `{member}`"), |v| format!("`{member}` {v}"))
}

/// The check URL is on the API's own origin (scheme, host, port) and is the check's `/redirect`
/// sub-resource (guide: "a sub-resource /redirect of the PhoneCheck resource"). The device must
/// not be sent anywhere else with its network identity.
pub fn check_url_under_api(check: &CreatedCheck, api_root: &url::Url) -> Verdict {
    let url = &check.check_url;
    let same_origin = url.scheme() == api_root.scheme()
        && url.host_str() == api_root.host_str()
        && url.port_or_known_default() == api_root.port_or_known_default();
    let suffix = format!("/checks/{}/redirect", check.check_id);
    if same_origin && url.path().ends_with(&suffix) {
        Ok(())
    } else {
        Err(Finding::new(
            "PhoneCheck _links.check_url",
            format!(
                "a URL on the API host {} ending {suffix}",
                api_root.origin().ascii_serialization()
            ),
            crate::flow::http::without_query(url),
        ))
    }
}

/// The device leg completed: it ended with a 2xx answer after following the redirects (guide,
/// step 5: the request must follow all redirects and complete).
pub fn device_leg_completed(outcome: &CheckUrlOutcome) -> Verdict {
    match outcome.final_status() {
        Some(s) if (200..300).contains(&s) => Ok(()),
        found => Err(Finding::new(
            "PhoneCheck check_url (device leg)",
            "the redirects to end in a 2xx answer",
            found.map_or_else(|| "no answer".to_owned(), |s| format!("HTTP {s}")),
        )),
    }
}

/// The device leg did not complete (a used or expired check URL): its final answer is not 2xx.
pub fn device_leg_refused(outcome: &CheckUrlOutcome, why: &str) -> Verdict {
    match outcome.final_status() {
        Some(s) if (200..300).contains(&s) => Err(Finding::new(
            "PhoneCheck check_url (device leg)",
            format!("a refusal ({why})"),
            format!(
                "the redirects ended in HTTP {s} after {} hop(s)",
                outcome.exchanges.len()
            ),
        )),
        _ => Ok(()),
    }
}

/// Subject of the findings about a read check.
const RESULT: &str = "PhoneCheck result";

/// The JSON body of a check read with HTTP 200 (guide, step 7).
fn read_check(exchange: &Exchange) -> Result<Value, Finding> {
    let status = exchange.response.status.as_u16();
    if status != 200 {
        return Err(Finding::new(
            RESULT,
            "HTTP 200 with the check",
            format!("HTTP {status}"),
        ));
    }
    json_of(exchange, RESULT)
}

/// A read check is `COMPLETED` with `match` equal to `expected` (guide, step 7).
pub fn completed_with_match(exchange: &Exchange, expected: bool) -> Verdict {
    let body = read_check(exchange)?;
    if body.get("status").and_then(Value::as_str) != Some("COMPLETED") {
        return Err(Finding::new(
            RESULT,
            "`status` \"COMPLETED\" once the device leg has run",
            shown(&body, "status"),
        ));
    }
    match body.get("match").and_then(Value::as_bool) {
        Some(m) if m == expected => Ok(()),
        _ => Err(Finding::new(
            RESULT,
            format!("`match` {expected}"),
            shown(&body, "match"),
        )),
    }
}

/// A read check is not `COMPLETED` (before its device leg, or past its ttl): HTTP 200 with
/// another status and no `match` (guide: COMPLETED comes after the device's request).
pub fn not_completed(exchange: &Exchange, when: &str) -> Verdict {
    let body = read_check(exchange)?;
    let completed = body.get("status").and_then(Value::as_str) == Some("COMPLETED");
    if completed || body.get("match").is_some() {
        return Err(Finding::new(
            RESULT,
            format!("a check that is not COMPLETED and has no `match` {when}"),
            format!("{}, {}", shown(&body, "status"), shown(&body, "match")),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::testing;
    use crate::secret::Secret;

    const API: &str = "http://127.0.0.1:9092";

    fn answer(status: u16, body: &str) -> Exchange {
        testing::answer(
            &format!("{API}/phone_check/v0.1/checks"),
            status,
            &[("content-type", "application/json")],
            body,
        )
    }

    fn token(token_type: &str, scope: Option<&str>, expires_in: Option<i64>) -> TokenResponse {
        TokenResponse {
            access_token: Secret::new("t"),
            token_type: token_type.to_owned(),
            expires_in,
            scope: scope.map(str::to_owned),
            id_token: None,
            has_refresh_token: false,
        }
    }

    #[test]
    fn token_verdicts() {
        let good = token("bearer", Some("phone_check"), Some(3600));
        assert_eq!(token_is_bearer(&good), Ok(()));
        assert_eq!(token_is_bearer(&token("Bearer", None, None)), Ok(()));
        assert!(token_is_bearer(&token("mac", None, None)).is_err());
        assert_eq!(token_scope_includes(&good, "phone_check"), Ok(()));
        assert!(
            token_scope_includes(&token("bearer", Some("coverage"), None), "phone_check").is_err()
        );
        assert!(token_scope_includes(&token("bearer", None, None), "phone_check").is_err());
        assert_eq!(token_expires(&good), Ok(()));
        assert!(token_expires(&token("bearer", None, None)).is_err());
        assert!(token_expires(&token("bearer", None, Some(0))).is_err());
    }

    const CREATED: &str = r#"{"check_id":"c1","status":"ACCEPTED","ttl":60,
        "_links":{"self":{"href":"http://127.0.0.1:9092/phone_check/v0.1/checks/c1"},
        "check_url":{"href":"http://127.0.0.1:9092/phone_check/v0.1/checks/c1/redirect"}}}"#;

    #[test]
    fn created_checks_are_read_and_judged() {
        let check = created(&answer(201, CREATED)).unwrap();
        assert_eq!(check.check_id, "c1");
        assert_eq!(check.ttl, 60);
        assert_eq!(check_url_under_api(&check, &API.parse().unwrap()), Ok(()));
        assert!(check_url_under_api(&check, &"http://127.0.0.1:9093".parse().unwrap()).is_err());
        let pending = CREATED.replace("ACCEPTED", "PENDING");
        assert!(
            created(&answer(201, &pending))
                .unwrap_err()
                .to_string()
                .contains("ACCEPTED")
        );
        assert!(created(&answer(400, "{}")).is_err());
        assert!(created(&answer(201, r#"{"check_id":"c1","status":"ACCEPTED"}"#)).is_err());
        let elsewhere = CREATED.replace(
            "http://127.0.0.1:9092/phone_check/v0.1/checks/c1/redirect",
            "http://evil.example/phone_check/v0.1/checks/c1/redirect",
        );
        let check = created(&answer(201, &elsewhere)).unwrap();
        assert!(check_url_under_api(&check, &API.parse().unwrap()).is_err());
    }

    #[test]
    fn results_and_device_legs() {
        let done = answer(
            200,
            r#"{"check_id":"c1","status":"COMPLETED","match":true}"#,
        );
        assert_eq!(completed_with_match(&done, true), Ok(()));
        assert!(completed_with_match(&done, false).is_err());
        assert!(not_completed(&done, "before the device leg").is_err());
        let accepted = answer(200, r#"{"check_id":"c1","status":"ACCEPTED"}"#);
        assert_eq!(not_completed(&accepted, "before the device leg"), Ok(()));
        assert!(completed_with_match(&accepted, true).is_err());
        let leg = |statuses: &[u16]| CheckUrlOutcome {
            exchanges: statuses.iter().map(|s| answer(*s, "")).collect(),
        };
        assert_eq!(device_leg_completed(&leg(&[302, 200])), Ok(()));
        assert!(device_leg_completed(&leg(&[410])).is_err());
        assert!(device_leg_completed(&leg(&[])).is_err());
        assert_eq!(device_leg_refused(&leg(&[410]), "used"), Ok(()));
        assert!(device_leg_refused(&leg(&[302, 200]), "used").is_err());
    }
}
