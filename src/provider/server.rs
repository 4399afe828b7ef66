//! The HTTP/1.1 server loop, with the limits a server on an open network needs
//! ([`ServerLimits`]): a header-read timeout that also ends idle keep-alive connections (hyper's,
//! armed whenever a connection waits for a request head), a per-request timeout covering the
//! body, and a cap on concurrent connections beyond which a client gets `503` and is closed at
//! once (no task, no buffer kept for it). Slowloris, half-sent bodies, idle keep-alives and
//! connection floods therefore cost a bounded number of file descriptors for a bounded time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

use super::ProviderError;
use super::config::ServerLimits;

/// What a refused connection reads before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\nretry-after: 1\r\ncontent-type: text/plain\r\ncontent-length: 34\r\n\r\ntoo many connections; retry later\n";

/// Serves `app` on `listener` until `stop` completes, then lets open connections finish their
/// request in progress and waits for them.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let request_timeout = Duration::from_secs(limits.request_timeout_secs);
    let app = app.layer(middleware::from_fn_with_state(
        request_timeout,
        answer_within,
    ));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs));
    let http = Arc::new(http);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing_tx, closing) = watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of file descriptors, or a connection reset before it was accepted: wait a
                // little (connections close meanwhile) rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            // A fresh socket's send buffer is empty: this write does not block, or is skipped.
            let _ = stream.try_write(BUSY);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let http = Arc::clone(&http);
        let service = TowerToHyperService::new(app.clone().map_request(
            move |mut request: Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        ));
        let mut closing = closing.clone();
        tokio::spawn(async move {
            let connection = http.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = async { drop(closing.wait_for(|c| *c).await) } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(slot);
        });
    }
    let _ = closing_tx.send(true);
    // Every connection returns its slot when it ends (the caller bounds this wait).
    let _ = slots
        .acquire_many(u32::try_from(limits.max_connections).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

/// Answers 408 (and closes the connection) when reading the request and answering it takes
/// longer than `limit`: a body sent byte by byte, or never finished, holds nothing for long.
async fn answer_within(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_elapsed) => (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, "close")],
            format!(
                "request not received and answered within {} s\n",
                limit.as_secs()
            ),
        )
            .into_response(),
    }
}

/// A server started by [`start`]: its stop signal and its task. Dropping it also stops the
/// server (without waiting).
#[derive(Debug)]
pub(super) struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Binds `addr` (port 0 = ephemeral): the listener, the address it got, and the URL the server
/// is reached at (`public_url`, or `http://<bound addr>` without one).
pub(super) async fn bind(
    addr: SocketAddr,
    public_url: Option<url::Url>,
) -> Result<(TcpListener, SocketAddr, url::Url), ProviderError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ProviderError::Serve { addr, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| ProviderError::Serve { addr, source })?;
    let url = match public_url {
        Some(u) => u,
        None => url::Url::parse(&format!("http://{local_addr}")).map_err(|e| {
            ProviderError::PublicUrl {
                url: local_addr.to_string(),
                reason: e.to_string(),
            }
        })?,
    };
    Ok((listener, local_addr, url))
}

/// Serves `app` on `listener` with `limits` in a tokio task.
pub(super) fn start(listener: TcpListener, app: Router, limits: ServerLimits) -> Running {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // The server's error, if any, is the task's output: `Running::stop` returns it.
    let task = tokio::spawn(serve(listener, app, limits, async move {
        // A dropped sender (Err) also means "stop".
        let _ = rx.await;
    }));
    Running {
        stop: Some(tx),
        task: Some(task),
    }
}

impl Running {
    /// Stops accepting connections, lets in-flight requests finish (at most 5 s), and waits.
    ///
    /// # Errors
    ///
    /// [`ProviderError::Serve`] (naming `addr`) when the server had stopped with an error (or
    /// its task panicked) before it was asked to stop: this is the only place that error is
    /// reported.
    pub(super) async fn stop(&mut self, addr: std::net::SocketAddr) -> Result<(), ProviderError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        let abort = task.abort_handle();
        let outcome = match tokio::time::timeout(Duration::from_secs(5), task).await {
            Ok(Ok(served)) => served,
            Ok(Err(join)) => Err(std::io::Error::other(format!(
                "the server task failed: {join}"
            ))),
            Err(_elapsed) => {
                // Keep-alive connections that never close must not hang the caller.
                abort.abort();
                Ok(())
            }
        };
        outcome.map_err(|source| ProviderError::Serve { addr, source })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
