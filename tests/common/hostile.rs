//! Hostile servers for the field-hardening tests, all on loopback:
//!
//! - [`Recorder`]: answers `200 {}` to anything and records what it received (a host the
//!   provider should never make nvcert contact: another loopback address, say);
//! - [`Hanging`]: accepts connections and never answers;
//! - [`EchoProxy`]: the reference provider behind a proxy that echoes every secret it sees back
//!   (in response headers, in a member of every JSON body, in redirect URLs) and drops the
//!   connection of any authorization request carrying a signed request object (a transport
//!   failure whose error would quote the URL). It remembers every secret it saw.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// A request as a [`Recorder`] saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: HeaderMap,
}

/// Records every request and answers `200 {}`.
pub struct Recorder {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Recorder {
    /// Listens on `ip` (e.g. `[127, 0, 0, 2]`), ephemeral port.
    pub async fn start(ip: [u8; 4]) -> Self {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let app = Router::new()
            .fallback(
                |State(seen): State<Arc<Mutex<Vec<Seen>>>>, req: Request| async move {
                    seen.lock().expect("lock").push(Seen {
                        method: req.method().to_string(),
                        uri: req.uri().to_string(),
                        headers: req.headers().clone(),
                    });
                    ([("content-type", "application/json")], "{}")
                },
            )
            .with_state(Arc::clone(&seen));
        let addr = serve(ip, app).await;
        Self {
            url: format!("http://{addr}"),
            seen,
        }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

/// A listener on `ip` (loopback), ephemeral port, and its address.
async fn bind(ip: [u8; 4]) -> (tokio::net::TcpListener, SocketAddr) {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((ip, 0)))
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

async fn serve(ip: [u8; 4], app: Router) -> SocketAddr {
    let (listener, addr) = bind(ip).await;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// Accepts connections and holds them open without a byte of answer.
pub struct Hanging {
    pub url: String,
}

impl Hanging {
    pub async fn start() -> Self {
        let (listener, addr) = bind([127, 0, 0, 1]).await;
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        Self {
            url: format!("http://{addr}"),
        }
    }
}

/// Parameters whose values the echo proxy treats as secrets when it receives them.
const SECRET_PARAMETERS: &[&str] = &[
    "request",
    "code",
    "code_verifier",
    "client_assertion",
    "client_secret",
    "login_hint",
    "auth_req_id",
    "assertion",
    "access_token",
    "id_token",
    "refresh_token",
    "test_otp",
];

/// Members of the provider's JSON answers that are secrets.
const SECRET_MEMBERS: &[&str] = &[
    "access_token",
    "id_token",
    "refresh_token",
    "auth_req_id",
    "operator_token",
];

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    secrets: Mutex<Vec<String>>,
}

/// The reference provider behind an echoing proxy (see the module doc).
pub struct EchoProxy {
    pub url: String,
    proxy: Arc<Proxy>,
    provider: Option<nvcert::provider::ProviderHandle>,
}

impl EchoProxy {
    pub async fn start() -> Self {
        let (listener, addr) = bind([127, 0, 0, 1]).await;
        let url = format!("http://{addr}");
        // The provider advertises the proxy's URL in discovery, redirects and `iss`.
        let provider = nvcert::provider::spawn(
            nvcert::provider::ProviderConfig::embedded(),
            ([127, 0, 0, 1], 0).into(),
            Some(url.parse().expect("url")),
        )
        .await
        .expect("provider");
        let proxy = Arc::new(Proxy {
            upstream: format!("http://{}", provider.local_addr),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            secrets: Mutex::default(),
        });
        let app = Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&proxy));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            proxy,
            provider: Some(provider),
        }
    }

    /// Every secret the proxy saw, either way.
    pub fn secrets(&self) -> Vec<String> {
        let mut all = self.proxy.secrets.lock().expect("lock").clone();
        all.sort();
        all.dedup();
        all
    }

    pub async fn stop(mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown().await;
        }
    }
}

impl Proxy {
    fn learn(&self, value: &str) {
        let value = value.trim();
        if value.len() >= 8 {
            self.secrets.lock().expect("lock").push(value.to_owned());
        }
    }

    fn learn_pairs(&self, pairs: &str) {
        for (name, value) in url::form_urlencoded::parse(pairs.as_bytes()) {
            if SECRET_PARAMETERS.contains(&name.as_ref()) {
                self.learn(&value);
            }
        }
    }
}

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let body_text = String::from_utf8_lossy(&body).into_owned();
    proxy.learn_pairs(&query);
    proxy.learn_pairs(&body_text);
    let authorization = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !authorization.is_empty() {
        proxy.learn(&authorization);
        if let Some((_, credential)) = authorization.split_once(' ') {
            proxy.learn(credential);
        }
    }
    if url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "request") {
        // Drop the connection without an answer: the client's transport error is what must
        // not quote the request object. (axum ends the connection when its handler panics.)
        panic!("hostile proxy: dropping an authorization request with a request object");
    }

    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut upstream = proxy
        .client
        .request(parts.method.clone(), format!("{}{path}", proxy.upstream))
        .body(body.to_vec());
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    let Ok(answer) = upstream.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = answer.status();
    let mut headers = answer.headers().clone();
    let answer_body = answer.bytes().await.unwrap_or_default();

    // Learn what the provider handed out.
    let mut json: Option<Value> = serde_json::from_slice(&answer_body).ok();
    if let Some(Value::Object(members)) = &json {
        for name in SECRET_MEMBERS {
            if let Some(Value::String(v)) = members.get(*name) {
                proxy.learn(v);
            }
        }
    }
    let echo = format!("{authorization} | {query} | {body_text}");
    if let Some(location) = headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    {
        if let Some((_, q)) = location.split_once('?') {
            proxy.learn_pairs(q);
        }
        let separator = if location.contains('?') { '&' } else { '?' };
        let echoed: String = url::form_urlencoded::byte_serialize(echo.as_bytes()).collect();
        if let Ok(v) = HeaderValue::from_str(&format!("{location}{separator}echo={echoed}")) {
            headers.insert("location", v);
        }
    }
    // Echo in headers (visible characters only) and in a member of every JSON object answer.
    let visible: String = echo
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&visible) {
        headers.insert("x-echo", v.clone());
        headers.insert("www-authenticate", v);
    }
    let out_body = match &mut json {
        Some(Value::Object(members)) => {
            members.insert("echo".into(), Value::String(echo.clone()));
            members.insert(
                "error_description".into(),
                Value::String(format!("you sent {echo}")),
            );
            headers.remove("content-length");
            Body::from(Value::Object(members.clone()).to_string())
        }
        _ => Body::from(answer_body),
    };
    let mut response = Response::new(out_body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
