//! HTTP plumbing: clients that never follow redirects on their own, and recording of exchanges
//! with a cap on what a (possibly hostile) provider may send back.

use std::time::{Duration, Instant};

use super::FlowError;
use crate::exchange::{self, Exchange, RecordedRequest, RecordedResponse};
use crate::profile::DeviceLeg;

/// The most nvcert reads of one response body; NV answers are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A client for the backend leg (token endpoint, API calls).
pub fn backend_client(timeout: Duration) -> Result<reqwest::Client, FlowError> {
    builder(timeout)
        .build()
        .map_err(|e| FlowError::Config(format!("HTTP client: {e}")))
}

/// A client for the device leg, bound to the device's address or interface when the profile says so.
pub fn device_client(timeout: Duration, leg: &DeviceLeg) -> Result<reqwest::Client, FlowError> {
    let mut b = builder(timeout);
    if let Some(addr) = leg.local_address {
        b = b.local_address(addr);
    }
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
    if let Some(name) = &leg.interface {
        b = b.interface(name);
    }
    b.build()
        .map_err(|e| FlowError::Config(format!("device HTTP client: {e}")))
}

fn builder(timeout: Duration) -> reqwest::ClientBuilder {
    // Redirects are followed by hand: the device leg must stop at the redirect_uri, which is
    // never contacted, and every hop is recorded.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("nvcert/", env!("CARGO_PKG_VERSION")))
}

/// Sends `request` and records the exchange; `limit` is the client's timeout, named in the
/// message when it fires.
pub async fn send(
    client: &reqwest::Client,
    request: reqwest::Request,
    step: &'static str,
    limit: Duration,
) -> Result<Exchange, FlowError> {
    let recorded = RecordedRequest {
        method: request.method().clone(),
        url: request.url().clone(),
        headers: request.headers().clone(),
        body: request
            .body()
            .and_then(|b| b.as_bytes())
            .map(<[u8]>::to_vec),
    };
    let shown_url = crate::secret::shown_url(request.url());
    let started = Instant::now();
    let transport = |e: reqwest::Error| FlowError::Transport {
        step,
        url: shown_url.clone(),
        message: if e.is_timeout() {
            timed_out(limit)
        } else {
            error_chain(e)
        },
    };
    let answer = async {
        let mut response = client.execute(request).await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(FlowError::BodyTooLarge {
                    step,
                    url: shown_url.clone(),
                    limit: MAX_BODY_BYTES,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RecordedResponse {
            status,
            headers,
            body,
        })
    }
    .await;
    match answer {
        Ok(response) => {
            let exchange = Exchange {
                request: recorded,
                response,
                elapsed: started.elapsed(),
            };
            exchange::notify_exchanged(step, &exchange);
            Ok(exchange)
        }
        Err(e) => {
            exchange::notify_failed(step, &recorded, started.elapsed(), &e.to_string());
            Err(e)
        }
    }
}

/// A response read without recording the exchange.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: http::StatusCode,
    /// Body bytes (at most [`MAX_BODY_BYTES`]).
    pub body: bytes::Bytes,
}

/// Sends `request` and reads the status and body, recording nothing: the load tester's hot path,
/// where copying every request, header map and body into an [`Exchange`] would cost about as much
/// as the call itself. The body cap is the same as [`send`]'s.
pub async fn send_unrecorded(
    client: &reqwest::Client,
    request: reqwest::Request,
    step: &'static str,
) -> Result<Answer, FlowError> {
    let transport = |e: reqwest::Error| FlowError::Transport {
        step,
        url: e.url().map(without_query).unwrap_or_default(),
        message: error_chain(e),
    };
    let mut response = client.execute(request).await.map_err(transport)?;
    let status = response.status();
    // NV answers come in one chunk: keep it as is (no copy); join only when there are more.
    let mut first: Option<bytes::Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        let held = first.as_ref().map_or(0, bytes::Bytes::len) + joined.len();
        if held + chunk.len() > MAX_BODY_BYTES {
            return Err(FlowError::BodyTooLarge {
                step,
                url: without_query(response.url()),
                limit: MAX_BODY_BYTES,
            });
        }
        match first.take() {
            None if joined.is_empty() => first = Some(chunk),
            None => joined.extend_from_slice(&chunk),
            Some(head) => {
                joined.extend_from_slice(&head);
                joined.extend_from_slice(&chunk);
            }
        }
    }
    let body = first.unwrap_or_else(|| bytes::Bytes::from(joined));
    Ok(Answer { status, body })
}

/// `url` without its query and fragment (they may carry codes and tokens).
pub fn without_query(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// What a transport failure says when the wait ran out.
pub fn timed_out(limit: Duration) -> String {
    format!(
        "no complete answer within {} s (timeout_secs in the profile)",
        limit.as_secs()
    )
}

/// `e` and its causes. reqwest's own text would repeat the URL with its query (codes, request
/// objects): it is dropped, the caller names the URL redacted.
fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let e: &(dyn std::error::Error + 'static) = &e;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
