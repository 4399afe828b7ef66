//! Error types of the reference provider and their wire forms.
//!
//! Owns three things: [`ProviderError`] (start-up and configuration failures, never sent on the
//! wire), [`ApiError`] (the CAMARA `ErrorInfo` body of the NV API) and [`OAuthError`] (RFC 6749
//! JSON errors of the token endpoint, error redirects and the no-redirect error page of the
//! authorization endpoint). It decides how an error looks on the wire, never *whether* a request
//! is an error: that belongs to the endpoint modules.

use std::borrow::Cow;
use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::version::SpecVersion;

/// Start-up and configuration errors. Config errors name the file and the field.
#[derive(thiserror::Error, Debug)]
pub enum ProviderError {
    /// A file (the config itself or a key/secret file it names) could not be read.
    #[error("{file}: cannot read {what}: {source}")]
    Read {
        /// The file that could not be read.
        file: PathBuf,
        /// What the file was supposed to contain (e.g. `config`, `clients[0].public_key_file`).
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The config is not valid TOML or does not match the expected shape.
    #[error("{file}: {message}")]
    Parse {
        /// The config file (or `<embedded>`).
        file: String,
        /// The TOML error, which names the offending key and its line.
        message: String,
    },
    /// A field has a value the provider refuses.
    #[error("{file}: field `{field}`: {reason}")]
    Invalid {
        /// The config file (or `<embedded>`).
        file: String,
        /// Path of the field, e.g. `clients[1].access_token_ttl_seconds`.
        field: String,
        /// Why the value is refused.
        reason: String,
    },
    /// The public URL cannot serve as an OIDC issuer.
    #[error("public URL `{url}`: {reason}")]
    PublicUrl {
        /// The URL as given.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// Binding or serving the listener failed.
    #[error("cannot serve on {addr}: {source}")]
    Serve {
        /// The address that was asked for (the bound one once serving).
        addr: std::net::SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A CAMARA `ErrorInfo` response of the NV API: `{"status", "code", "message"}`, with the
/// `x-correlator` the response must carry (CAMARA design guide: echo a valid request value,
/// otherwise any valid value).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    correlator: Option<HeaderValue>,
    bearer_challenge: Option<&'static str>,
    /// `ErrorInfo.status` when it must differ from the HTTP status (fault injection only).
    body_status: Option<u16>,
    /// The operator dialect whose error shape the answer takes, if any.
    dialect: Option<super::dialect::ProviderDialect>,
}

impl ApiError {
    /// An error with the given status, CAMARA code and message.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            correlator: None,
            bearer_challenge: None,
            body_status: None,
            dialect: None,
        }
    }

    /// 400 `INVALID_ARGUMENT` with the CAMARA_common message plus a detail.
    pub fn invalid_argument(detail: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            format!("Client specified an invalid argument, request body or query param. {detail}"),
        )
    }

    /// 401 `UNAUTHENTICATED` (NV v2.1.0 message). `token_error` is the RFC 6750 `error` of the
    /// `WWW-Authenticate: Bearer` challenge: `None` when no token was sent (RFC 6750 §3.1).
    pub fn unauthenticated(token_error: Option<&'static str>) -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request not authenticated due to missing, invalid, or expired credentials. \
             A new authentication is required.",
        );
        e.bearer_challenge = Some(match token_error {
            Some(_) => "Bearer realm=\"nvcert-reference\", error=\"invalid_token\"",
            None => "Bearer realm=\"nvcert-reference\"",
        });
        e
    }

    /// 401 `UNAUTHENTICATED` with `version`'s example message.
    pub fn unauthenticated_for(version: SpecVersion, token_error: Option<&'static str>) -> Self {
        let mut e = Self::unauthenticated(token_error);
        e.message = Cow::Borrowed(version.unauthenticated_message());
        e
    }

    /// 403 `PERMISSION_DENIED` with `version`'s example message.
    pub fn permission_denied_for(version: SpecVersion) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            version.permission_denied_message(),
        )
    }

    /// 500 `INTERNAL` (CAMARA_common).
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "Unknown server error. Typically a server bug.",
        )
    }

    /// 503 `UNAVAILABLE` (CAMARA_common), e.g. a bounded store is full.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "Service Unavailable.",
        )
    }

    /// 403 `PERMISSION_DENIED`.
    pub fn permission_denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Client does not have sufficient permissions to perform this action.",
        )
    }

    /// 403 `NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK`.
    pub fn not_network_authenticated() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK",
            "Client must authenticate via the mobile network to use this service",
        )
    }

    /// 404 `NOT_FOUND` (CAMARA_common) for an unknown path under the API base.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The specified resource is not found.",
        )
    }

    /// 405 `METHOD_NOT_ALLOWED` (CAMARA_common).
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "The requested method is not allowed/supported on the target resource.",
        )
    }

    /// Sets the `x-correlator` response header.
    pub fn with_correlator(mut self, value: HeaderValue) -> Self {
        self.correlator = Some(value);
        self
    }

    /// Replaces the CAMARA code (fault injection).
    pub(crate) fn set_code(&mut self, code: &'static str) {
        self.code = code;
    }

    /// Answers in `dialect`'s error shape.
    pub(crate) fn set_dialect(&mut self, dialect: Option<super::dialect::ProviderDialect>) {
        self.dialect = dialect;
    }

    /// Makes `ErrorInfo.status` differ from the HTTP status (fault injection).
    pub(crate) fn set_body_status(&mut self, status: u16) {
        self.body_status = Some(status);
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The CAMARA error code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.body_status.unwrap_or(self.status.as_u16());
        let mut body = serde_json::json!({
            "status": status,
            "code": self.code,
            "message": self.message,
        });
        if self.dialect == Some(super::dialect::ProviderDialect::OrangeEsV0) {
            // Orange's page: 401 is {"code": "UNAUTHORIZED", "message"} without a status;
            // its PERMISSION_DENIED example writes the status as the string "403".
            match (self.status, self.code) {
                (StatusCode::UNAUTHORIZED, _) if self.body_status.is_none() => {
                    if let Some(o) = body.as_object_mut() {
                        o.remove("status");
                    }
                }
                (StatusCode::FORBIDDEN, "PERMISSION_DENIED") => {
                    body["status"] = serde_json::Value::String(status.to_string());
                }
                _ => {}
            }
        }
        let mut resp = (self.status, body.to_string()).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(c) = self.correlator {
            h.insert("x-correlator", c);
        }
        if let Some(ch) = self.bearer_challenge {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(ch));
        }
        resp
    }
}

/// An OAuth 2.0 / OIDC error, in the form the endpoint must use.
#[derive(Debug)]
pub enum OAuthError {
    /// Token endpoint error: RFC 6749 §5.2 JSON body with `Cache-Control: no-store`.
    Json {
        /// 400, 401 or 503.
        status: StatusCode,
        /// RFC 6749 error code.
        error: &'static str,
        /// Human-readable detail.
        description: Cow<'static, str>,
        /// Add `WWW-Authenticate: Basic` (RFC 6749 §5.2: client tried HTTP Basic).
        basic_challenge: bool,
    },
    /// Authorization endpoint error sent back to the client: 302 to the redirect URI with
    /// `error`, `error_description`, `state` (if given) and `iss` (RFC 9207).
    Redirect {
        /// The validated, registered redirect URI.
        redirect_uri: String,
        /// RFC 6749 §4.1.2.1 / OIDC Core §3.1.2.6 error code.
        error: &'static str,
        /// Human-readable detail.
        description: Cow<'static, str>,
        /// `state` exactly as received.
        state: Option<String>,
        /// The issuer identifier.
        iss: String,
    },
    /// Authorization endpoint error that must NOT redirect (RFC 6749 §4.1.2.1, ICM Appendix A:
    /// missing/unknown client or bad redirect URI): a 400 plain-text page.
    Page {
        /// RFC 6749 error code shown on the page.
        error: &'static str,
        /// Human-readable detail.
        description: Cow<'static, str>,
    },
}

impl OAuthError {
    /// 400 JSON error.
    pub fn bad_request(error: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        Self::Json {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            basic_challenge: false,
        }
    }

    /// 401 `invalid_client`; `basic` adds the `WWW-Authenticate: Basic` challenge.
    pub fn invalid_client(description: impl Into<Cow<'static, str>>, basic: bool) -> Self {
        Self::Json {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
            basic_challenge: basic,
        }
    }

    /// 400 `invalid_grant`.
    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::bad_request("invalid_grant", description)
    }

    /// 503 `temporarily_unavailable` (a bounded store is full).
    pub fn unavailable(description: impl Into<Cow<'static, str>>) -> Self {
        Self::Json {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: "temporarily_unavailable",
            description: description.into(),
            basic_challenge: false,
        }
    }

    /// 400 error page (no redirect).
    pub fn page(error: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        Self::Page {
            error,
            description: description.into(),
        }
    }

    /// The RFC 6749 error code.
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::Json { error, .. } | Self::Redirect { error, .. } | Self::Page { error, .. } => {
                error
            }
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        match self {
            Self::Json {
                status,
                error,
                description,
                basic_challenge,
            } => {
                let body = serde_json::json!({
                    "error": error,
                    "error_description": sanitize(&description),
                });
                let mut resp = (status, body.to_string()).into_response();
                let h = resp.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                // RFC 6749 §5.1/§5.2: token responses must not be cached.
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
                if basic_challenge {
                    h.insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"nvcert-reference\""),
                    );
                }
                resp
            }
            Self::Redirect {
                redirect_uri,
                error,
                description,
                state,
                iss,
            } => {
                let description = sanitize(&description);
                let mut pairs: Vec<(&str, &str)> =
                    vec![("error", error), ("error_description", &description)];
                if let Some(s) = state.as_deref() {
                    pairs.push(("state", s));
                }
                pairs.push(("iss", &iss));
                redirect_with(&redirect_uri, &pairs)
            }
            Self::Page { error, description } => {
                let text = format!(
                    "nvcert reference provider: authorization request refused.\n\n\
                     error: {error}\nerror_description: {description}\n\n\
                     The client or its redirect_uri could not be validated, so the user agent is \
                     not redirected (RFC 6749 section 4.1.2.1).\n"
                );
                let mut resp = (StatusCode::BAD_REQUEST, text).into_response();
                let h = resp.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                resp
            }
        }
    }
}

/// RFC 6749 §5.2/§4.1.2.1: `error_description` is limited to %x20-21 / %x23-5B / %x5D-7E.
/// Descriptions may quote request values, so anything else becomes `?`.
fn sanitize(description: &str) -> String {
    description
        .chars()
        .map(|c| match c {
            ' ' | '!' | '#'..='[' | ']'..='~' => c,
            _ => '?',
        })
        .collect()
}

/// 302 to `redirect_uri` with `pairs` appended to its query (an existing query is kept,
/// RFC 6749 §3.1.2). `redirect_uri` was validated against the registered URIs, so it parses; if it
/// somehow does not, the answer is a 500 page rather than a redirect to an unchecked place.
pub(crate) fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "bad registered redirect_uri",
        )
            .into_response();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    let Ok(location) = HeaderValue::from_str(url.as_str()) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "unencodable redirect").into_response();
    };
    let mut resp = StatusCode::FOUND.into_response();
    let h = resp.headers_mut();
    h.insert(header::LOCATION, location);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_to_the_rfc6749_character_set() {
        assert_eq!(sanitize("scope \"x\\y\" é\n"), "scope ?x?y? ??");
        assert_eq!(sanitize("a-b_c (S256): ok!"), "a-b_c (S256): ok!");
    }
}
