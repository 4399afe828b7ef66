//! Distributed load: what each worker keeps for the merge (`load-histograms.json`, beside its
//! `load-summary.json`) and `nvcert load merge`, which adds the workers' figures up and judges
//! the thresholds once.
//!
//! Each transaction's latencies travel as an HDR histogram in the hdrhistogram crate's V2 format
//! (base64 in JSON), so the merge is exact: the percentiles of the added histograms are those of
//! one histogram of every worker's samples. Counts add up; the merged window runs from the
//! earliest worker's start to the latest worker's end, and rates divide by it. A missing or
//! duplicate worker is an error, never a silent undercount.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::record::{TransactionRecord, deserialize_histogram, new_histogram, serialize_histogram};
use super::scenarios::Step;
use super::summary::{
    ErrorCount, LoadSummary, TransactionSummary, WindowText, WorkerSlice, WorkerWindow,
};
use super::threshold::Threshold;

/// File name of a worker's figures inside its report directory.
pub const WORKER_FILE: &str = "load-histograms.json";
/// The `format` of [`WORKER_FILE`]; a merge refuses any other.
pub const WORKER_FORMAT: &str = "nvcert-load-histograms/1";

/// A worker's figures (`load-histograms.json`). An unsliced run writes one too: index 0 of 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerRecord {
    /// [`WORKER_FORMAT`].
    pub format: String,
    /// Scenario name.
    pub scenario: String,
    /// Provider display name.
    pub provider: String,
    /// This worker's users.
    pub users: usize,
    /// Run time asked for, in seconds.
    pub run_time_s: u64,
    /// This worker's slice.
    pub worker: WorkerSlice,
    /// Its window (`None`: it never had all its users running).
    pub window: Option<WindowText>,
    /// Its window's length in seconds.
    pub duration_s: f64,
    /// It was interrupted.
    pub interrupted: bool,
    /// Per transaction, in step order.
    pub transactions: Vec<WorkerTransaction>,
}

/// One transaction of a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerTransaction {
    /// Step name.
    pub name: String,
    /// Requests.
    pub requests: u64,
    /// Failed requests.
    pub failures: u64,
    /// Steps skipped after an earlier failure.
    pub skipped: u64,
    /// Statuses answered, with counts.
    pub statuses: BTreeMap<String, u64>,
    /// Failure messages, with counts.
    pub errors: Vec<ErrorCount>,
    /// Latencies in nanoseconds: hdrhistogram V2, base64.
    pub histogram_v2: String,
}

impl WorkerRecord {
    /// The record of a finished run.
    pub(crate) fn new(
        summary: &LoadSummary,
        slice: Option<WorkerSlice>,
        seconds: f64,
        steps: &[Step],
        records: &[TransactionRecord],
    ) -> Self {
        Self {
            format: WORKER_FORMAT.to_owned(),
            scenario: summary.scenario.clone(),
            provider: summary.provider.clone(),
            users: summary.users,
            run_time_s: summary.run_time_s,
            worker: slice.unwrap_or(WorkerSlice {
                index: 0,
                workers: 1,
            }),
            window: summary.window.clone(),
            duration_s: seconds,
            interrupted: summary.interrupted,
            transactions: steps
                .iter()
                .zip(records)
                .map(|(step, r)| WorkerTransaction {
                    name: step.name().to_owned(),
                    requests: r.requests,
                    failures: r.failures,
                    skipped: r.skipped,
                    statuses: r
                        .statuses
                        .iter()
                        .map(|&(s, n)| (s.to_string(), n))
                        .collect(),
                    errors: r
                        .errors
                        .iter()
                        .map(|(message, count)| ErrorCount {
                            message: message.clone(),
                            count: *count,
                        })
                        .collect(),
                    histogram_v2: STANDARD.encode(serialize_histogram(&r.histogram)),
                })
                .collect(),
        }
    }
}

/// Why workers' figures cannot be merged (a usage or input error: exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A worker's file could not be read or parsed.
    #[error("{path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The workers do not belong to one run, or some are missing or repeated.
    #[error("{0}")]
    Inconsistent(String),
}

/// Reads `DIR/load-histograms.json`.
pub fn read_worker(dir: &Path) -> Result<WorkerRecord, MergeError> {
    let path = dir.join(WORKER_FILE);
    let unreadable = |reason: String| MergeError::Unreadable {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        unreadable(format!(
            "{e} (expected the report directory of an `nvcert load --worker-index I --workers N` run)"
        ))
    })?;
    let record: WorkerRecord = serde_json::from_str(&text)
        .map_err(|e| unreadable(format!("not an nvcert load histograms file: {e}")))?;
    if record.format != WORKER_FORMAT {
        return Err(unreadable(format!(
            "format {:?}: expected {WORKER_FORMAT:?}",
            record.format
        )));
    }
    Ok(record)
}

/// Adds up the workers (each with where it was read from, for messages) into one summary and
/// judges `thresholds` on it. Every worker 0..N-1 of one run must be there exactly once.
pub fn merge(
    workers: &[(PathBuf, WorkerRecord)],
    thresholds: &[Threshold],
) -> Result<LoadSummary, MergeError> {
    let Some((_, first)) = workers.first() else {
        return Err(MergeError::Inconsistent(
            "no worker directory to merge".into(),
        ));
    };
    let n = first.worker.workers;
    let mut seen: BTreeMap<usize, &Path> = BTreeMap::new();
    for (path, w) in workers {
        let same_run = [
            ("scenario", w.scenario == first.scenario),
            ("provider", w.provider == first.provider),
            ("run time", w.run_time_s == first.run_time_s),
            ("worker count", w.worker.workers == n),
            (
                "transactions",
                w.transactions
                    .iter()
                    .map(|t| &t.name)
                    .eq(first.transactions.iter().map(|t| &t.name)),
            ),
        ];
        if let Some((what, _)) = same_run.iter().find(|(_, same)| !same) {
            return Err(MergeError::Inconsistent(format!(
                "{} and {} are not workers of one run: their {what} differs (scenario {}/{}, run time {} s/{} s, {} / {} workers)",
                workers[0].0.display(),
                path.display(),
                first.scenario,
                w.scenario,
                first.run_time_s,
                w.run_time_s,
                n,
                w.worker.workers
            )));
        }
        if w.worker.index >= n {
            return Err(MergeError::Inconsistent(format!(
                "{}: worker index {} is outside 0..{n}",
                path.display(),
                w.worker.index
            )));
        }
        if let Some(other) = seen.insert(w.worker.index, path) {
            return Err(MergeError::Inconsistent(format!(
                "worker {} appears twice ({} and {}): merging it twice would double its figures",
                w.worker.index,
                other.display(),
                path.display()
            )));
        }
    }
    let missing: Vec<String> = (0..n)
        .filter(|i| !seen.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Inconsistent(format!(
            "{} of {n} workers given; missing worker {}: the merged figures would undercount",
            seen.len(),
            missing.join(", ")
        )));
    }

    let mut sorted: Vec<&(PathBuf, WorkerRecord)> = workers.iter().collect();
    sorted.sort_by_key(|(_, w)| w.worker.index);
    let mut totals: Vec<TransactionRecord> = first
        .transactions
        .iter()
        .map(|_| TransactionRecord {
            histogram: new_histogram(),
            ..Default::default()
        })
        .collect();
    for (path, w) in &sorted {
        for (total, t) in totals.iter_mut().zip(&w.transactions) {
            let bytes = STANDARD
                .decode(&t.histogram_v2)
                .map_err(|e| MergeError::Unreadable {
                    path: path.join(WORKER_FILE),
                    reason: format!("{}: histogram is not base64: {e}", t.name),
                })?;
            let histogram =
                deserialize_histogram(&bytes).map_err(|reason| MergeError::Unreadable {
                    path: path.join(WORKER_FILE),
                    reason: format!("{}: {reason}", t.name),
                })?;
            if histogram.len() != t.requests {
                return Err(MergeError::Unreadable {
                    path: path.join(WORKER_FILE),
                    reason: format!(
                        "{}: {} requests but {} latencies in the histogram",
                        t.name,
                        t.requests,
                        histogram.len()
                    ),
                });
            }
            let part = TransactionRecord {
                histogram,
                requests: t.requests,
                failures: t.failures,
                skipped: t.skipped,
                statuses: t
                    .statuses
                    .iter()
                    .filter_map(|(s, n)| s.parse().ok().map(|s| (s, *n)))
                    .collect(),
                errors: t
                    .errors
                    .iter()
                    .map(|e| (e.message.clone(), e.count))
                    .collect(),
            };
            total.add(&part).map_err(MergeError::Inconsistent)?;
        }
    }

    let windows: Vec<(SystemTime, SystemTime)> = sorted
        .iter()
        .filter_map(|(_, w)| w.window.as_ref().and_then(parse_window))
        .collect();
    let (start, end) = (
        windows.iter().map(|w| w.0).min(),
        windows.iter().map(|w| w.1).max(),
    );
    let seconds = match (start, end) {
        (Some(s), Some(e)) => e.duration_since(s).unwrap_or_default().as_secs_f64(),
        _ => 0.0,
    }
    .max(0.001);
    let transactions = first
        .transactions
        .iter()
        .zip(&totals)
        .map(|(t, record)| {
            let step = Step::ALL
                .into_iter()
                .find(|s| s.name() == t.name)
                .ok_or_else(|| {
                    MergeError::Inconsistent(format!("unknown transaction {:?}", t.name))
                })?;
            Ok(TransactionSummary::of(step, record, seconds))
        })
        .collect::<Result<Vec<_>, MergeError>>()?;
    let names: Vec<&str> = first.transactions.iter().map(|t| t.name.as_str()).collect();
    Threshold::check_names(thresholds, &first.scenario, &names)
        .map_err(|e| MergeError::Inconsistent(e.to_string()))?;
    let mut summary = LoadSummary {
        scenario: first.scenario.clone(),
        provider: first.provider.clone(),
        users: sorted.iter().map(|(_, w)| w.users).sum(),
        run_time_s: first.run_time_s,
        duration_s: (seconds * 1000.0).round() / 1000.0,
        interrupted: sorted.iter().any(|(_, w)| w.interrupted),
        window: match (start, end) {
            (Some(start), Some(end)) => Some(WindowText::of(&super::record::Window { start, end })),
            _ => None,
        },
        worker: None,
        workers: Some(
            sorted
                .iter()
                .map(|(_, w)| WorkerWindow {
                    index: w.worker.index,
                    users: w.users,
                    window: w.window.clone(),
                    interrupted: w.interrupted,
                })
                .collect(),
        ),
        transactions,
        thresholds: Vec::new(),
        // Sampled one request at a time by each worker, not a load figure: not merged.
        aggregator_latency: None,
    };
    summary.thresholds = super::judge(thresholds, &summary);
    Ok(summary)
}

fn parse_window(w: &WindowText) -> Option<(SystemTime, SystemTime)> {
    let parse = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|d| SystemTime::from(d.with_timezone(&chrono::Utc)))
    };
    Some((parse(&w.start)?, parse(&w.end)?))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn worker(index: usize, workers: usize, latencies_ns: &[u64]) -> (PathBuf, WorkerRecord) {
        let mut histogram = new_histogram();
        for &ns in latencies_ns {
            histogram.record(ns).unwrap();
        }
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let window = super::super::record::Window {
            start: start + Duration::from_millis(index as u64 * 10),
            end: start + Duration::from_millis(2000 + index as u64 * 10),
        };
        (
            PathBuf::from(format!("w{index}")),
            WorkerRecord {
                format: WORKER_FORMAT.into(),
                scenario: "verify".into(),
                provider: "p".into(),
                users: 2,
                run_time_s: 2,
                worker: WorkerSlice { index, workers },
                window: Some(WindowText::of(&window)),
                duration_s: 2.0,
                interrupted: false,
                transactions: vec![WorkerTransaction {
                    name: "verify".into(),
                    requests: latencies_ns.len() as u64,
                    failures: 1,
                    skipped: 0,
                    statuses: [("200".to_owned(), latencies_ns.len() as u64 - 1)].into(),
                    errors: vec![ErrorCount {
                        message: "boom".into(),
                        count: 1,
                    }],
                    histogram_v2: STANDARD.encode(serialize_histogram(&histogram)),
                }],
            },
        )
    }

    #[test]
    fn workers_add_up_into_one_summary() {
        let all: Vec<u64> = (1..=3000).map(|i| i * 997 % 5_000_000 + 20_000).collect();
        let workers: Vec<_> = (0..3)
            .map(|i| {
                let mine: Vec<u64> = all.iter().skip(i).step_by(3).copied().collect();
                worker(i, 3, &mine)
            })
            .rev()
            .collect();
        let t: Threshold = "verify.requests>=3000".parse().unwrap();
        let s = merge(&workers, &[t]).unwrap();
        let v = &s.transactions[0];
        assert_eq!((v.requests, v.failures), (3000, 3));
        assert_eq!(v.statuses["200"], 2997);
        assert_eq!(v.errors[0].count, 3);
        assert_eq!(s.users, 6);
        assert_eq!(s.duration_s, 2.02);
        assert_eq!(s.workers.as_ref().unwrap().len(), 3);
        assert!(s.thresholds[0].passed);
        let mut one = TransactionRecord::default();
        for &ns in &all {
            one.histogram.record(ns).unwrap();
        }
        assert_eq!(
            v.p50_ms,
            one.percentile_ms(0.5)
                .map(|m| (m * 1000.0).round() / 1000.0)
        );
        assert_eq!(
            v.p99_ms,
            one.percentile_ms(0.99)
                .map(|m| (m * 1000.0).round() / 1000.0)
        );
    }

    #[test]
    fn a_missing_or_repeated_worker_is_an_error() {
        let two = [worker(0, 3, &[1000]), worker(2, 3, &[1000])];
        let err = merge(&two, &[]).unwrap_err().to_string();
        assert!(err.contains("missing worker 1"), "{err}");
        let dup = [
            worker(0, 2, &[1000]),
            worker(1, 2, &[1000]),
            worker(1, 2, &[5]),
        ];
        let err = merge(&dup, &[]).unwrap_err().to_string();
        assert!(err.contains("worker 1 appears twice"), "{err}");
        let mut other = worker(1, 2, &[1000]);
        other.1.scenario = "share".into();
        let err = merge(&[worker(0, 2, &[1000]), other], &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("scenario differs"), "{err}");
        let mut lying = worker(0, 1, &[1000, 2000]);
        lying.1.transactions[0].requests = 5;
        let err = merge(&[lying], &[]).unwrap_err().to_string();
        assert!(err.contains("5 requests but 2 latencies"), "{err}");
    }
}
