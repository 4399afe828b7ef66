//! `nvcert serve`.

use anyhow::Context as _;
use axum::Router;
use axum::http::header;
use axum::routing::get;

use super::{ServeArgs, exit};
use crate::provider::{self, ProviderConfig};

pub(super) async fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let config = match &args.config {
        Some(path) => ProviderConfig::load(path)?,
        None => ProviderConfig::embedded(),
    };
    let public_url = args.public_url.clone();
    let handle = if args.bench_endpoints {
        provider::spawn_with_routes(config, args.addr, public_url, bench_routes()).await?
    } else {
        provider::spawn(config, args.addr, public_url).await?
    };
    println!(
        "nvcert reference provider on {} (listening on {}); Ctrl-C stops it",
        handle.url, handle.local_addr
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    handle.shutdown().await;
    Ok(exit::OK)
}

/// `GET /bench/noop` → 200 `{}`: the cheapest answer this server can give (same listener, same
/// axum stack, no token check). `scripts/bench-load.sh` divides the NV endpoints' throughput by
/// it, which isolates what the NV work itself costs.
fn bench_routes() -> Router {
    Router::new().route(
        "/bench/noop",
        get(|| async { ([(header::CONTENT_TYPE, "application/json")], "{}") }),
    )
}
