//! `nvcert serve`.

use anyhow::Context as _;
use axum::Router;
use axum::http::header;
use axum::routing::get;

use super::{ServeArgs, exit};
use crate::provider::aggregator::{self, AggregatorConfig, AggregatorFault};
use crate::provider::phonecheck::{self, PhoneCheckConfig, PhoneCheckFault};
use crate::provider::{self, Fault, ProviderConfig, ProviderDialect};

/// `--addr` when not given: the reference provider's port.
const DEFAULT_ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 9091);
/// `--addr` of `--aggregator` when not given (the operators take the same port on 127.0.0.11
/// and 127.0.0.12).
const DEFAULT_AGGREGATOR_ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 9093);

pub(super) async fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    if args.aggregator {
        return serve_aggregator(args).await;
    }
    if args.dialect.as_deref() == Some(phonecheck::DIALECT) {
        return serve_phonecheck(args).await;
    }
    if args.list_faults {
        print!("{}", fault_list());
        return Ok(exit::OK);
    }
    let dialect = args
        .dialect
        .as_deref()
        .map(str::parse::<ProviderDialect>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--dialect: {e}"))?;
    let nv_faults: Vec<Fault> = parse_faults(&args.faults, |name| {
        format!(
            "--fault {name}: a fault of the PhoneCheck provider (serve it with --dialect {}) or \
             of the aggregator (serve it with --aggregator); the NV provider's are listed by \
             --list-faults",
            phonecheck::DIALECT
        )
    })?;
    let mut config = match &args.config {
        Some(path) => ProviderConfig::load(path)?,
        None => ProviderConfig::embedded(),
    };
    if let Some(v) = args.spec_version {
        config.set_spec_version(v);
    }
    if let Some(dialect) = dialect {
        config.set_dialect(dialect);
    }
    if args.single_use_tokens {
        config.single_use_tokens = true;
    }
    let config = config.with_faults(nv_faults);
    let version = config.spec_version;
    let faults: Vec<&str> = config.faults.iter().map(|f| f.name()).collect();
    let public_url = args.public_url.clone();
    let addr = args.addr.unwrap_or_else(|| DEFAULT_ADDR.into());
    let handle = if args.bench_endpoints {
        provider::spawn_with_routes(config, addr, public_url, bench_routes()).await?
    } else {
        provider::spawn(config, addr, public_url).await?
    };
    let version = match dialect {
        Some(d) => format!("dialect {d}"),
        None => format!("NV {version}"),
    };
    // Printed once the socket accepts connections: scripts wait for this line (see README).
    println!(
        "ready: nvcert reference provider on {} ({version}, API {}, listening on {}); Ctrl-C stops it",
        handle.url,
        handle.api_endpoint(""),
        handle.local_addr
    );
    until_ctrl_c(&faults).await?;
    handle
        .shutdown()
        .await
        .context("the reference provider failed")?;
    Ok(exit::OK)
}

/// `nvcert serve --dialect idlayr-phonecheck-v0.1`: the PhoneCheck reference provider.
async fn serve_phonecheck(args: ServeArgs) -> anyhow::Result<u8> {
    if args.list_faults {
        print!("{}", phonecheck_fault_list());
        return Ok(exit::OK);
    }
    if args.config.is_some() || args.spec_version.is_some() || args.single_use_tokens {
        anyhow::bail!(
            "--dialect {}: --config, --spec-version and --single-use-tokens are NV options",
            phonecheck::DIALECT
        );
    }
    let faults: Vec<PhoneCheckFault> = parse_faults(&args.faults, |name| {
        format!(
            "--fault {name}: an NV fault; the PhoneCheck provider's are listed by --dialect {} \
             --list-faults",
            phonecheck::DIALECT
        )
    })?;
    let config = PhoneCheckConfig::embedded().with_faults(faults.iter().copied());
    let addr = args.addr.unwrap_or_else(|| DEFAULT_ADDR.into());
    let handle = phonecheck::spawn(config, addr, args.public_url.clone()).await?;
    println!(
        "nvcert reference provider (dialect {}, API {}) on {} (listening on {}); Ctrl-C stops it",
        phonecheck::DIALECT,
        handle.endpoint(phonecheck::BASE_PATH),
        handle.url,
        handle.local_addr
    );
    let names: Vec<&str> = faults.iter().map(|f| f.name()).collect();
    until_ctrl_c(&names).await?;
    handle
        .shutdown()
        .await
        .context("the PhoneCheck reference provider failed")?;
    Ok(exit::OK)
}

/// `nvcert serve --aggregator`: the aggregator and its two operators.
async fn serve_aggregator(args: ServeArgs) -> anyhow::Result<u8> {
    if args.list_faults {
        print!("{}", aggregator_fault_list());
        return Ok(exit::OK);
    }
    let faults: Vec<AggregatorFault> = parse_faults(&args.faults, |name| {
        format!(
            "--fault {name}: not an aggregator fault; --aggregator takes the ones listed by \
             --aggregator --list-faults (the operators stay conformant)"
        )
    })?;
    let mut config = AggregatorConfig::embedded().with_faults(faults.iter().copied());
    if let Some(v) = args.spec_version {
        config.set_spec_version(v);
    }
    let version = config.spec_version();
    let addr = args.addr.unwrap_or_else(|| DEFAULT_AGGREGATOR_ADDR.into());
    let handle = aggregator::spawn(config, addr, args.public_url.clone())
        .await
        .context("starting the aggregator and its operators")?;
    let operators: Vec<String> = handle
        .operators
        .iter()
        .map(|o| {
            format!(
                "{}={} (device {} = {})",
                o.name, o.url, o.device_address, o.msisdn
            )
        })
        .collect();
    // One line, printed once every socket accepts connections: scripts wait for it.
    println!(
        "ready: nvcert aggregator on {} (NV {version}, API {}, listening on {}); operators {}; \
         Ctrl-C stops it",
        handle.issuer(),
        handle.api_endpoint(""),
        handle.local_addr,
        operators.join(", ")
    );
    let names: Vec<&str> = faults.iter().map(|f| f.name()).collect();
    until_ctrl_c(&names).await?;
    handle
        .shutdown()
        .await
        .context("the aggregator or an operator failed")?;
    Ok(exit::OK)
}

/// Parses `--fault` names as one family's faults; `wrong` says what a name of another family is.
fn parse_faults<F: std::str::FromStr>(
    names: &[String],
    wrong: impl Fn(&str) -> String,
) -> anyhow::Result<Vec<F>> {
    names
        .iter()
        .map(|name| name.parse::<F>().map_err(|_| anyhow::anyhow!(wrong(name))))
        .collect()
}

/// Warns about the faults being served (if any), then waits for Ctrl-C.
async fn until_ctrl_c(faults: &[&str]) -> anyhow::Result<()> {
    if !faults.is_empty() {
        println!(
            "WARNING: deliberately non-conformant, faults: {}",
            faults.join(", ")
        );
    }
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
}

/// `name<TAB>description` lines, one per fault, in documentation order.
fn lines_of<F: Copy>(
    all: &[F],
    name: fn(F) -> &'static str,
    description: fn(F) -> &'static str,
) -> String {
    all.iter()
        .map(|f| format!("{}\t{}\n", name(*f), description(*f)))
        .collect()
}

/// The aggregator's faults as `name<TAB>description` lines.
fn aggregator_fault_list() -> String {
    lines_of(
        AggregatorFault::ALL,
        AggregatorFault::name,
        AggregatorFault::description,
    )
}

/// The PhoneCheck provider's faults as `name<TAB>description` lines.
fn phonecheck_fault_list() -> String {
    lines_of(
        PhoneCheckFault::ALL,
        PhoneCheckFault::name,
        PhoneCheckFault::description,
    )
}

/// The NV provider's faults as `name<TAB>description` lines.
fn fault_list() -> String {
    lines_of(Fault::ALL, Fault::name, Fault::description)
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
    fn aggregator_fault_list_has_one_tab_separated_line_per_fault() {
        let text = aggregator_fault_list();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), AggregatorFault::ALL.len());
        for (line, f) in lines.iter().zip(AggregatorFault::ALL) {
            assert_eq!(line.split_once('\t'), Some((f.name(), f.description())));
        }
    }

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
