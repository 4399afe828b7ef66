//! `nvcert serve`.

use anyhow::Context as _;

use super::{ServeArgs, exit};
use crate::provider::{self, ProviderConfig};

pub(super) async fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let config = match &args.config {
        Some(path) => ProviderConfig::load(path)?,
        None => ProviderConfig::embedded(),
    };
    let handle = provider::spawn(config, args.addr, args.public_url.clone()).await?;
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
