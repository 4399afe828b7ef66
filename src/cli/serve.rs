//! `nvcert serve`.

use anyhow::Context as _;
use axum::Router;
use axum::http::header;
use axum::routing::get;

use super::{ServeArgs, exit};
use crate::provider::{self, Fault, ProviderConfig};

pub(super) async fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    if args.list_faults {
        print!("{}", fault_list());
        return Ok(exit::OK);
    }
    let mut config = match &args.config {
        Some(path) => ProviderConfig::load(path)?,
        None => ProviderConfig::embedded(),
    };
    if let Some(v) = args.spec_version {
        config.set_spec_version(v);
    }
    if let Some(dialect) = args.dialect {
        config.set_dialect(dialect);
    }
    if args.single_use_tokens {
        config.single_use_tokens = true;
    }
    let config = config.with_faults(args.faults.iter().copied());
    let version = config.spec_version;
    let faults: Vec<&str> = config.faults.iter().map(|f| f.name()).collect();
    let public_url = args.public_url.clone();
    let handle = if args.bench_endpoints {
        provider::spawn_with_routes(config, args.addr, public_url, bench_routes()).await?
    } else {
        provider::spawn(config, args.addr, public_url).await?
    };
    let version = match args.dialect {
        Some(d) => format!("dialect {d}"),
        None => format!("NV {version}"),
    };
    println!(
        "nvcert reference provider ({version}, API {}) on {} (listening on {}); Ctrl-C stops it",
        handle.api_endpoint(""),
        handle.url,
        handle.local_addr
    );
    if !faults.is_empty() {
        println!(
            "WARNING: deliberately non-conformant, faults: {}",
            faults.join(", ")
        );
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    handle
        .shutdown()
        .await
        .context("the reference provider failed")?;
    Ok(exit::OK)
}

/// `name<TAB>description` lines, one per fault, in documentation order.
fn fault_list() -> String {
    Fault::ALL
        .iter()
        .map(|f| format!("{}\t{}\n", f.name(), f.description()))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_list_has_one_tab_separated_line_per_fault() {
        let text = fault_list();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), Fault::ALL.len());
        for (line, f) in lines.iter().zip(Fault::ALL) {
            assert_eq!(line.split_once('\t'), Some((f.name(), f.description())));
        }
    }
}
