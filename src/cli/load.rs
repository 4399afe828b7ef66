//! `nvcert load`: args → profile (embedded provider when no --provider) → [`LoadPlan`] → goose
//! run → load-summary.json and console → exit code (0 thresholds held, 1 one did not).

use std::io::Write as _;
use std::sync::Arc;

use clap::builder::{PossibleValuesParser, TypedValueParser};

use super::target::{Target, TargetArgs};
use super::{LoadArgs, exit};
use crate::flow::Flow;
use crate::load::{self, LoadPlan, MAX_RUN_TIME_SECS, ScenarioKind, Threshold, ThresholdError};
use crate::secret::Redactor;

pub(super) async fn load(args: LoadArgs) -> anyhow::Result<u8> {
    let target = Target::resolve(
        TargetArgs {
            provider: args.provider.as_deref(),
            spec_version: args.spec_version.as_deref(),
            single_use_tokens: false,
            dialect: None,
        },
        &Redactor::default(),
    )
    .await?;
    let outcome = if args.print_token {
        print_token(&target.flow).await
    } else {
        run_load(&args, Arc::clone(&target.flow)).await
    };
    target.shutdown().await;
    outcome
}

/// `--print-token`: the one place nvcert prints a secret on purpose (for the bench script).
async fn print_token(flow: &Flow) -> anyhow::Result<u8> {
    let token = load::reusable_token(flow).await?;
    println!("{}", token.expose());
    Ok(exit::OK)
}

async fn run_load(args: &LoadArgs, flow: Arc<Flow>) -> anyhow::Result<u8> {
    // clap makes these required without --print-token.
    let (Some(scenario), Some(users), Some(run_time_secs)) =
        (args.scenario, args.users, args.run_time)
    else {
        anyhow::bail!("--scenario, --users and --run-time are required");
    };
    let plan = LoadPlan {
        scenario,
        users: usize::from(users),
        run_time_secs,
        increase_rate: args.increase_rate,
        report_dir: args.report_dir.clone(),
        thresholds: args.threshold.clone(),
        single_use_tokens: args.single_use_tokens,
    };
    if !args.quiet {
        println!(
            "nvcert load: {scenario} scenario, {users} users for {run_time_secs} s against {} …",
            flow.profile().name
        );
    }
    let summary = load::run(flow, &plan).await?;

    // Reports first: whatever happens next, the figures are on disk.
    let json_path = crate::report::write_load_summary(&summary, &args.report_dir)?;
    if args.quiet {
        for t in summary.thresholds.iter().filter(|t| !t.passed) {
            eprintln!("nvcert: threshold {} not met", t.expression);
        }
    } else {
        let mut out = std::io::stdout().lock();
        crate::report::write_load_console(&summary, &mut out)?;
        writeln!(
            out,
            "report: {}",
            args.report_dir.join(load::HTML_REPORT).display()
        )?;
        writeln!(out, "report: {}", json_path.display())?;
    }
    Ok(if summary.passed() {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}

/// `--scenario`: the names of [`ScenarioKind::ALL`] (listed by `--help`).
pub(super) fn scenario_parser() -> impl TypedValueParser<Value = ScenarioKind> {
    PossibleValuesParser::new(ScenarioKind::ALL.map(ScenarioKind::name)).map(|name| {
        name.parse::<ScenarioKind>()
            .expect("PossibleValuesParser admits only scenario names")
    })
}

/// `--threshold`: parsed when the command line is, so a bad one is a usage error (exit 2).
pub(super) fn parse_threshold(text: &str) -> Result<Threshold, ThresholdError> {
    text.parse()
}

/// `--increase-rate`: a positive number of users per second (decimals allowed).
pub(super) fn parse_rate(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && *r > 0.0)
        .ok_or_else(|| {
            format!(
                "expected a positive number of users per second, e.g. 10 or 0.5; found {text:?}"
            )
        })
}

/// `--run-time`: whole seconds as `90`, `10s`, `2m`, `1h30m`, `1m30s`; 1 s to 24 h. Goose counts
/// run time in whole seconds, so sub-second units are refused rather than rounded.
pub(super) fn parse_run_time(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let shape = || format!("expected a duration such as 10s, 2m or 1h30m, found {text:?}");
    let seconds = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u64>().map_err(|_| shape())?
    } else {
        if text.ends_with("ms") {
            return Err(format!(
                "the run time is counted in whole seconds, found {text:?}"
            ));
        }
        let mut total: u64 = 0;
        let mut rest = text;
        // Units in decreasing order, each at most once.
        let mut units = [('h', 3600_u64), ('m', 60), ('s', 1)].into_iter();
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let unit = rest[digits..].chars().next().ok_or_else(shape)?;
            let number: u64 = rest[..digits].parse().map_err(|_| shape())?;
            let (_, factor) = units.find(|(u, _)| *u == unit).ok_or_else(shape)?;
            total = number
                .checked_mul(factor)
                .and_then(|s| total.checked_add(s))
                .ok_or_else(shape)?;
            rest = &rest[digits + unit.len_utf8()..];
        }
        total
    };
    if (1..=MAX_RUN_TIME_SECS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(format!(
            "expected 1s to 24h, found {text:?} ({seconds} s): every load run ends by itself"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_times() {
        assert_eq!(parse_run_time("10s"), Ok(10));
        assert_eq!(parse_run_time("90"), Ok(90));
        assert_eq!(parse_run_time("2m"), Ok(120));
        assert_eq!(parse_run_time("1h30m"), Ok(5400));
        assert_eq!(parse_run_time("1m30s"), Ok(90));
        assert_eq!(parse_run_time("24h"), Ok(86_400));
        for bad in [
            "", "0s", "25h", "500ms", "10x", "s", "30s1m", "1.5s", "10 s",
        ] {
            assert!(parse_run_time(bad).is_err(), "{bad:?} accepted");
        }
        assert!(
            parse_run_time("500ms")
                .unwrap_err()
                .contains("whole seconds")
        );
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("10"), Ok(10.0));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        for bad in ["0", "-1", "fast", "inf", "NaN"] {
            assert!(parse_rate(bad).is_err(), "{bad:?} accepted");
        }
    }
}
