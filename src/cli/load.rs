//! `nvcert load`: args → profile (embedded provider when no --provider) → [`LoadPlan`] → goose
//! run → load-summary.json, load-report.html, load-histograms.json and console → exit code (0
//! thresholds held, 1 one did not, 130 interrupted). `nvcert load merge`: workers' directories
//! → one summary → the same reports.
//!
//! SIGINT is caught here (the one place that touches signals): the first one asks the run to
//! stop and write what it measured, marked interrupted; a second one exits at once.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use clap::builder::{PossibleValuesParser, TypedValueParser};

use super::target::{Target, TargetArgs};
use super::{LoadArgs, LoadCommand, LoadMergeArgs, exit};
use crate::flow::Flow;
use crate::load::{
    self, Live, LoadPlan, LoadSummary, MAX_RUN_TIME_SECS, ScenarioKind, Threshold, ThresholdError,
    WorkerSlice,
};
use crate::secret::Redactor;

pub(super) async fn load(args: LoadArgs) -> anyhow::Result<u8> {
    if let Some(LoadCommand::Merge(merge_args)) = &args.command {
        return merge(merge_args);
    }
    // Before anything else: an interruption while the provider is prepared counts too.
    let live = Arc::new(Live::new());
    watch_interrupts(Arc::clone(&live), args.quiet)?;
    let target = Target::resolve(
        TargetArgs {
            provider: args.provider.as_deref(),
            spec_version: args.spec_version.as_deref(),
            single_use_tokens: false,
            dialect: None,
            aggregator: args.aggregator,
        },
        &Redactor::default(),
    )
    .await?;
    let outcome = if args.print_token {
        print_token(&target.flow).await
    } else {
        run_load(&args, Arc::clone(&target.flow), Arc::clone(&live)).await
    };
    target.shutdown().await;
    outcome
}

/// The run SIGINT stops: the process's handler is installed once, and each `nvcert load` in
/// the process (tests run several) points it at its own [`Live`].
static CURRENT_RUN: Mutex<Option<(Arc<Live>, bool)>> = Mutex::new(None);

/// Catches SIGINT for `live`: the first asks it to stop, a second exits at once (130).
///
/// The handler is `ctrlc`'s, installed before goose starts: goose installs its own Ctrl-C
/// handler through the same crate, which then finds one in place and stands aside (its own
/// would stop the run without nvcert knowing it was interrupted).
fn watch_interrupts(live: Arc<Live>, quiet: bool) -> anyhow::Result<()> {
    *CURRENT_RUN.lock().unwrap_or_else(|e| e.into_inner()) = Some((live, quiet));
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            ctrlc::set_handler(move || {
                let current = CURRENT_RUN.lock().unwrap_or_else(|e| e.into_inner()).clone();
                match current {
                    Some((live, quiet)) if !live.is_interrupted() => {
                        live.interrupt();
                        if !quiet {
                            eprintln!(
                                "\nnvcert: interrupted; writing what was measured (Ctrl-C again quits at once)"
                            );
                        }
                    }
                    _ => {
                        eprintln!("nvcert: interrupted again; quitting without reports");
                        std::process::exit(i32::from(exit::INTERRUPTED));
                    }
                }
            })
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot watch for Ctrl-C: {e}"))
}

/// `--print-token`: the one place nvcert prints a secret on purpose (for the bench script).
async fn print_token(flow: &Flow) -> anyhow::Result<u8> {
    let token = load::reusable_token(flow).await?;
    println!("{}", token.expose());
    Ok(exit::OK)
}

async fn run_load(args: &LoadArgs, flow: Arc<Flow>, live: Arc<Live>) -> anyhow::Result<u8> {
    // clap makes these required without --print-token.
    let (Some(scenario), Some(users), Some(run_time_secs)) =
        (args.scenario, args.users, args.run_time)
    else {
        anyhow::bail!("--scenario, --users and --run-time are required");
    };
    let slice = match (args.worker_index, args.workers) {
        (Some(index), Some(workers)) => Some(WorkerSlice {
            index,
            workers: usize::from(workers),
        }),
        _ => None,
    };
    let plan = LoadPlan {
        scenario,
        users: usize::from(users),
        run_time_secs,
        increase_rate: args.increase_rate,
        report_dir: args.report_dir.clone(),
        thresholds: args.threshold.clone(),
        single_use_tokens: args.single_use_tokens,
        slice,
        start_at: args.start_at,
    };
    let show_progress = !args.quiet && std::io::stdout().is_terminal();
    if !args.quiet {
        let slice_text = slice.map_or_else(String::new, |s| {
            format!(
                " (worker {} of {}: {} users)",
                s.index,
                s.workers,
                plan.process_users()
            )
        });
        let start_text = args.start_at.map_or_else(String::new, |at| {
            format!(", starting at {}", load::summary::rfc3339(at))
        });
        println!(
            "nvcert load: {scenario} scenario, {users} users{slice_text} for {run_time_secs} s against {}{start_text} …",
            flow.profile().name
        );
    }
    let progress = show_progress.then(|| tokio::spawn(progress_line(Arc::clone(&live))));
    let outcome = load::run(flow, &plan, Arc::clone(&live)).await;
    if let Some(progress) = progress {
        progress.abort();
        let _ = progress.await;
        // Clear the progress line before the summary.
        print!("\r\x1b[2K");
        let _ = std::io::stdout().flush();
    }
    let run = outcome?;

    // Reports first: whatever happens next, the figures are on disk.
    let written =
        crate::report::write_load_reports(&run.summary, Some(&run.worker), &args.report_dir)?;
    finish(&run.summary, &written, args.quiet)
}

/// Prints the summary (or, quiet, what went wrong) and gives the exit code.
fn finish(summary: &LoadSummary, written: &[PathBuf], quiet: bool) -> anyhow::Result<u8> {
    if quiet {
        for t in summary
            .thresholds
            .iter()
            .filter(|t| t.verdict == load::Verdict::Failed)
        {
            eprintln!("nvcert: threshold {} not met", t.expression);
        }
        if summary.interrupted {
            eprintln!(
                "nvcert: interrupted after {:.1} s; partial figures written, thresholds not judged",
                summary.duration_s
            );
        }
    } else {
        let mut out = std::io::stdout().lock();
        crate::report::write_load_console(summary, &mut out)?;
        for path in written {
            writeln!(out, "report: {}", path.display())?;
        }
    }
    Ok(if summary.interrupted && summary.workers.is_none() {
        exit::INTERRUPTED
    } else if summary.interrupted || !summary.passed() {
        exit::CHECK_FAILED
    } else {
        exit::OK
    })
}

/// The live progress line on a terminal: elapsed time, requests and failures so far.
async fn progress_line(live: Arc<Live>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let elapsed = live.elapsed().map_or_else(
            || "starting".to_owned(),
            |e| format!("{:.1} s", e.as_secs_f64()),
        );
        print!(
            "\r\x1b[2K  {elapsed}  {} requests  {} failures",
            live.requests(),
            live.failures()
        );
        let _ = std::io::stdout().flush();
    }
}

/// `nvcert load merge DIR... --report-dir OUT`.
fn merge(args: &LoadMergeArgs) -> anyhow::Result<u8> {
    let workers = args
        .dirs
        .iter()
        .map(|dir| load::merge::read_worker(dir).map(|w| (dir.clone(), w)))
        .collect::<Result<Vec<_>, _>>()?;
    let summary = load::merge::merge(&workers, &args.threshold)?;
    let written = crate::report::write_load_reports(&summary, None, &args.report_dir)?;
    if summary.interrupted {
        eprintln!("nvcert: a worker was interrupted: the merged figures are partial");
    }
    finish(&summary, &written, args.quiet)
}

/// `--start-at`: an RFC 3339 time.
pub(super) fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| SystemTime::from(t.with_timezone(&chrono::Utc)))
        .map_err(|e| {
            format!("expected an RFC 3339 time such as 2026-11-26T10:00:00Z, found {text:?} ({e})")
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
    fn start_times() {
        let t = parse_start_at("2026-11-26T10:00:00Z").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            1_795_687_200
        );
        assert_eq!(parse_start_at("2026-11-26T11:00:00+01:00"), Ok(t));
        assert!(parse_start_at("tomorrow").unwrap_err().contains("RFC 3339"));
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
