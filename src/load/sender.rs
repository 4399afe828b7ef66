//! The API steps' HTTP client: hyper's pooled client over rustls, without reqwest's layers.
//!
//! Profiling `nvcert load --scenario verify` (callgrind, steady state) showed about a third of the
//! generator's instructions in reqwest's per-request layers: its redirect policy turns every
//! request's URI back into a string and parses it as a URL (a fifth of the total, even with
//! redirects off), then the retry, decompression and proxy-matching layers. The API calls need
//! none of them: one prepared request, no redirects (a redirect answer is a failed call), no
//! compression asked for, and the hosts were checked before the run. The TLS setup is reqwest's:
//! rustls with aws-lc-rs and the platform's verifier.
//!
//! Everything else (discovery, the device leg, the token endpoint) stays on the flow's reqwest
//! clients and their recording.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_platform_verifier::BuilderVerifierExt as _;

use crate::flow::http::MAX_BODY_BYTES;

/// Sends the API steps' requests; one per run, shared by every user (one connection pool).
#[derive(Debug, Clone)]
pub(crate) struct ApiSender {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl ApiSender {
    /// A client whose every request (connection, answer and body) ends within `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS configuration: {e}"))?
            .with_platform_verifier()
            .map_err(|e| format!("TLS certificate verifier: {e}"))?
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        // https URLs go to the TLS layer, which needs the connector to take them.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout,
        })
    }

    /// Sends `request`, reads its answer's body (at most [`MAX_BODY_BYTES`], then drops it: the
    /// connection goes back to the pool) and gives the status; `Err` carries why the exchange
    /// did not complete (transport, timeout, oversized body).
    pub async fn send(&self, request: Request<Full<Bytes>>) -> Result<StatusCode, String> {
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| error_chain(&e))?;
            let status = response.status();
            Limited::new(response.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| format!("reading the answer: {e}"))?;
            Ok(status)
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("no complete answer within {} s", self.timeout.as_secs()))?
    }
}

/// An error and its sources, joined (hyper's top-level messages alone say little).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        next = cause.source();
    }
    text
}
