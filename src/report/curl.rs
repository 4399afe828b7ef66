//! A `curl` command that replays one recorded exchange, with every secret replaced by a shell
//! variable (`$NVCERT_ACCESS_TOKEN`, `$NVCERT_CLIENT_ASSERTION`, …): the report never holds the
//! value, the person reproducing exports it. The exchange is already redacted, so a secret is
//! where `[redacted]` stands; its name comes from where it stands (the header, the query or form
//! parameter, the JSON property).

use std::sync::LazyLock;

use crate::results::ExchangeRecord;
use crate::secret::REDACTED;

/// The variable that stands for a secret nothing names.
pub const FALLBACK_VARIABLE: &str = "NVCERT_SECRET";

/// Headers curl sets itself, or that would be wrong when replayed.
const SKIPPED_HEADERS: &[&str] = &["content-length", "host", "connection", "transfer-encoding"];

/// Marks a variable inside a piece of text until the text is quoted for the shell.
const OPEN: char = '\u{1}';
const CLOSE: char = '\u{2}';

/// The shell variable standing for a secret found under `name` (a header, a parameter, a JSON
/// property): `NVCERT_` and the name in upper snake case.
pub fn variable_for(name: &str) -> String {
    let mut out = String::from("NVCERT_");
    for c in name.chars() {
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    out
}

fn marked(variable: &str) -> String {
    format!("{OPEN}{variable}{CLOSE}")
}

/// `value` of header `name` with its secret (if any) marked as a variable.
fn header_value(name: &str, value: &str) -> String {
    if !value.contains(REDACTED) {
        return value.to_owned();
    }
    let variable = match (name, value.split_once(' ')) {
        ("authorization", Some((scheme, _))) if scheme.eq_ignore_ascii_case("basic") => {
            "NVCERT_BASIC_CREDENTIALS".to_owned()
        }
        ("authorization", _) => "NVCERT_ACCESS_TOKEN".to_owned(),
        ("dpop", _) => "NVCERT_DPOP_PROOF".to_owned(),
        _ => variable_for(name),
    };
    value.replace(REDACTED, &marked(&variable))
}

/// `name=value&…` pairs (a query or a form body) with each secret value marked by its name.
fn pairs(text: &str) -> String {
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if value.contains(REDACTED) => {
                format!(
                    "{name}={}",
                    value.replace(REDACTED, &marked(&variable_for(name)))
                )
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

static JSON_SECRET: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#""([A-Za-z0-9_]+)"(\s*:\s*)"([^"]*\[redacted\][^"]*)""#)
        .expect("JSON property pattern")
});

fn url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) => format!("{base}?{}", pairs(query)),
        None => url.to_owned(),
    }
}

fn body(text: &str, content_type: Option<&str>) -> String {
    let content_type = content_type.unwrap_or("").to_ascii_lowercase();
    let named = if content_type.starts_with("application/x-www-form-urlencoded") {
        pairs(text)
    } else {
        JSON_SECRET
            .replace_all(text, |c: &regex::Captures<'_>| {
                let value = c[3].replace(REDACTED, &marked(&variable_for(&c[1])));
                format!("\"{}\"{}\"{value}\"", &c[1], &c[2])
            })
            .into_owned()
    };
    named.replace(REDACTED, &marked(FALLBACK_VARIABLE))
}

/// `text` as one shell word: single-quoted pieces, and `"$NAME"` for each marked variable.
fn shell_word(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let literal = |out: &mut String, piece: &str| {
        if !piece.is_empty() {
            out.push('\'');
            out.push_str(&piece.replace('\'', r"'\''"));
            out.push('\'');
        }
    };
    while let Some(open) = rest.find(OPEN) {
        literal(&mut out, &rest[..open]);
        let after = &rest[open + OPEN.len_utf8()..];
        let close = after.find(CLOSE).unwrap_or(after.len());
        out.push_str(&format!("\"${}\"", &after[..close]));
        rest = after.get(close + CLOSE.len_utf8()..).unwrap_or("");
    }
    literal(&mut out, rest);
    if out.is_empty() {
        out.push_str("''");
    }
    out
}

/// The variables a command built by [`curl_command`] for `exchange` needs, in order of use.
pub fn variables(exchange: &ExchangeRecord) -> Vec<String> {
    let command = marked_command(exchange).join(" ");
    let mut found = Vec::new();
    for piece in command.split(OPEN).skip(1) {
        let name = piece.split(CLOSE).next().unwrap_or("").to_owned();
        if !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

fn marked_command(exchange: &ExchangeRecord) -> Vec<String> {
    let mut words = vec!["curl".to_owned(), "-sS".to_owned(), "-i".to_owned()];
    if exchange.method != "GET" || exchange.request_body.is_some() {
        words.push("-X".to_owned());
        words.push(exchange.method.clone());
    }
    words.push(url(&exchange.url));
    for h in &exchange.request_headers {
        if SKIPPED_HEADERS.contains(&h.name.as_str()) {
            continue;
        }
        words.push("-H".to_owned());
        words.push(format!("{}: {}", h.name, header_value(&h.name, &h.value)));
    }
    if let Some(b) = &exchange.request_body {
        words.push("--data-raw".to_owned());
        words.push(body(&b.text, exchange.request_header("content-type")));
    }
    words
}

/// A `curl` command line replaying `exchange` (`-i`: the answer's status and headers are shown).
pub fn curl_command(exchange: &ExchangeRecord) -> String {
    let words = marked_command(exchange);
    words
        .iter()
        .map(|w| {
            // Flags and plain words stay bare; anything else is quoted.
            if w.starts_with('-') || w == "curl" || w.chars().all(|c| c.is_ascii_alphanumeric()) {
                w.clone()
            } else {
                shell_word(w)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{BodyRecord, HeaderRecord};

    fn exchange(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> ExchangeRecord {
        ExchangeRecord {
            step: "When x".into(),
            purpose: "NV API".into(),
            method: method.into(),
            url: url.into(),
            request_headers: headers
                .iter()
                .map(|(n, v)| HeaderRecord {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            request_body: body.map(|b| BodyRecord::cut(b.into(), b.len())),
            status: Some(200),
            response_headers: vec![],
            response_body: None,
            duration_ms: 1.0,
            error: None,
        }
    }

    #[test]
    fn secrets_become_named_variables_and_everything_else_is_quoted() {
        let e = exchange(
            "POST",
            "http://127.0.0.1:1/number-verification/v2/verify",
            &[
                ("content-type", "application/json"),
                ("authorization", "Bearer [redacted]"),
                ("content-length", "30"),
            ],
            Some(r#"{"phoneNumber":"+34600000009","note":"it's"}"#),
        );
        assert_eq!(
            curl_command(&e),
            r#"curl -sS -i -X POST 'http://127.0.0.1:1/number-verification/v2/verify' -H 'content-type: application/json' -H 'authorization: Bearer '"$NVCERT_ACCESS_TOKEN" --data-raw '{"phoneNumber":"+34600000009","note":"it'\''s"}'"#
        );
        assert_eq!(variables(&e), ["NVCERT_ACCESS_TOKEN"]);
    }

    #[test]
    fn form_query_and_json_secrets_are_named_by_where_they_stand() {
        let e = exchange(
            "POST",
            "http://op/token?x=1&code=[redacted]",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", "Basic [redacted]"),
            ],
            Some(
                "grant_type=authorization_code&client_assertion=[redacted]&client_secret=[redacted]",
            ),
        );
        let command = curl_command(&e);
        assert!(
            command.contains(r#"'http://op/token?x=1&code='"$NVCERT_CODE""#),
            "{command}"
        );
        assert!(
            command.contains(r#"'authorization: Basic '"$NVCERT_BASIC_CREDENTIALS""#),
            "{command}"
        );
        assert!(command.contains(r#"'grant_type=authorization_code&client_assertion='"$NVCERT_CLIENT_ASSERTION"'&client_secret='"$NVCERT_CLIENT_SECRET""#), "{command}");
        assert!(!command.contains("[redacted]"), "{command}");
        let json = exchange(
            "POST",
            "http://op/bc",
            &[("content-type", "application/json")],
            Some(r#"{"login_hint":"operatortoken:[redacted]","x":"[redacted] [redacted]"}"#),
        );
        let command = curl_command(&json);
        assert!(
            command.contains(r#""login_hint":"operatortoken:'"$NVCERT_LOGIN_HINT"'""#),
            "{command}"
        );
        assert!(
            command.contains(r#""x":"'"$NVCERT_X"' '"$NVCERT_X"'"}'"#),
            "{command}"
        );
        let odd = exchange("POST", "http://op/bc", &[], Some("[redacted]"));
        assert!(curl_command(&odd).ends_with(r#"--data-raw "$NVCERT_SECRET""#));
    }

    #[test]
    fn a_get_has_no_method_flag() {
        let e = exchange("GET", "http://op/x", &[], None);
        assert_eq!(curl_command(&e), "curl -sS -i 'http://op/x'");
    }
}
