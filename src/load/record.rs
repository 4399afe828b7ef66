//! What a load run measures, recorded by nvcert itself (goose schedules the users; its own
//! metrics are off): per transaction an HDR histogram of latencies in nanoseconds, request,
//! failure and skip counts and the HTTP statuses answered, all over one measurement window.
//!
//! The window opens when every user of this process is running (has finished its first
//! transaction, set-up included) and closes `run_time` later (or when the run is interrupted). A request counts when it completes inside
//! the window; live totals for the progress line count everything.
//!
//! Histograms are exact to 3 significant digits at any magnitude and add up without loss: the
//! histograms of N workers, added, are the histogram all their samples would have made (see
//! `merge`). They travel between processes in the hdrhistogram crate's V2 format.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use tokio::sync::Notify;

use super::scenarios::Step;

/// Significant digits every histogram keeps (relative error below 0.1%).
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// Shards of the recorder: users record into `slot % SHARDS`, so two worker threads seldom
/// wait on the same lock.
const SHARDS: usize = 8;

/// What the process running a load shares with it while it runs: live totals for a progress
/// line, and the interruption (only `src/cli` sees signals; it calls [`Live::interrupt`]).
#[derive(Debug, Default)]
pub struct Live {
    requests: AtomicU64,
    failures: AtomicU64,
    interrupted: AtomicBool,
    notify: Notify,
    started: OnceLock<Instant>,
}

impl Live {
    /// A fresh handle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop now: its figures cover the time until then and it says it was
    /// interrupted. Safe to call any number of times, from any thread, before or during a run.
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        // `notify_one` keeps a permit when nobody waits yet: an interrupt before the run's
        // watcher starts is not lost.
        self.notify.notify_one();
        self.notify.notify_waiters();
    }

    /// Whether [`Live::interrupt`] was called.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// Requests recorded so far (also outside the measurement window).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Failed requests recorded so far.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Time since the first user started (`None` before).
    pub fn elapsed(&self) -> Option<Duration> {
        self.started.get().map(Instant::elapsed)
    }

    pub(crate) async fn interrupted(&self) {
        while !self.is_interrupted() {
            self.notify.notified().await;
        }
    }
}

/// One transaction's figures over the window.
#[derive(Debug, Clone)]
pub struct TransactionRecord {
    /// Latencies of every request, in nanoseconds.
    pub histogram: Histogram<u64>,
    /// Requests made (successful or not).
    pub requests: u64,
    /// Requests that failed.
    pub failures: u64,
    /// Times the step was not run because an earlier step of its iteration failed.
    pub skipped: u64,
    /// HTTP statuses answered, `(status, count)`, ascending (requests without an answer absent).
    pub statuses: Vec<(u16, u64)>,
    /// Why requests failed, `(message, count)`: the first [`MAX_ERROR_KINDS`] distinct
    /// messages; later ones are counted under [`OTHER_ERRORS`].
    pub errors: Vec<(String, u64)>,
}

/// Distinct failure messages kept per transaction.
pub const MAX_ERROR_KINDS: usize = 10;
/// What failures beyond [`MAX_ERROR_KINDS`] distinct messages are counted as.
pub const OTHER_ERRORS: &str = "(other failure messages)";

impl Default for TransactionRecord {
    fn default() -> Self {
        Self {
            histogram: new_histogram(),
            requests: 0,
            failures: 0,
            skipped: 0,
            statuses: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// An empty histogram of nanoseconds that grows as needed.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is a valid precision")
}

impl TransactionRecord {
    fn add_sample(&mut self, nanos: u64, error: Option<&str>, status: Option<u16>) {
        // An auto-resizing histogram refuses only values beyond u64 range: none.
        let _ = self.histogram.record(nanos.max(1));
        self.requests += 1;
        if let Some(message) = error {
            self.failures += 1;
            self.add_error(message, 1);
        }
        if let Some(status) = status {
            match self.statuses.binary_search_by_key(&status, |&(s, _)| s) {
                Ok(i) => self.statuses[i].1 += 1,
                Err(i) => self.statuses.insert(i, (status, 1)),
            }
        }
    }

    fn add_error(&mut self, message: &str, n: u64) {
        if let Some(entry) = self.errors.iter_mut().find(|(m, _)| m == message) {
            entry.1 += n;
        } else if self.errors.len() < MAX_ERROR_KINDS {
            self.errors.push((message.to_owned(), n));
        } else if let Some(entry) = self.errors.iter_mut().find(|(m, _)| m == OTHER_ERRORS) {
            entry.1 += n;
        } else {
            self.errors.push((OTHER_ERRORS.to_owned(), n));
        }
    }

    /// Adds `other` to this record (the exact merge of two workers' figures).
    pub fn add(&mut self, other: &TransactionRecord) -> Result<(), String> {
        self.histogram
            .add(&other.histogram)
            .map_err(|e| format!("adding histograms: {e:?}"))?;
        self.requests += other.requests;
        self.failures += other.failures;
        self.skipped += other.skipped;
        for &(status, n) in &other.statuses {
            match self.statuses.binary_search_by_key(&status, |&(s, _)| s) {
                Ok(i) => self.statuses[i].1 += n,
                Err(i) => self.statuses.insert(i, (status, n)),
            }
        }
        for (message, n) in &other.errors {
            self.add_error(message, *n);
        }
        Ok(())
    }

    /// The latency at `quantile` (0..=1) in milliseconds, to the nanosecond; `None` without
    /// requests.
    pub fn percentile_ms(&self, quantile: f64) -> Option<f64> {
        (!self.histogram.is_empty())
            .then(|| self.histogram.value_at_quantile(quantile) as f64 / 1e6)
    }
}

/// The histogram in the hdrhistogram V2 format.
pub fn serialize_histogram(h: &Histogram<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// A histogram from the hdrhistogram V2 format.
pub fn deserialize_histogram(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("not an HDR histogram in V2 format ({e:?})"))?;
    // Deserialized histograms have a fixed range; a growing copy can take any later addition.
    let mut grown = new_histogram();
    grown
        .add(&h)
        .map_err(|e| format!("histogram out of range: {e:?}"))?;
    Ok(grown)
}

/// The measurement window, in wall-clock time (what workers on different machines compare) and
/// as an [`Instant`] (what this process measures with).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// When it opened.
    pub start: SystemTime,
    /// When it closed.
    pub end: SystemTime,
}

impl Window {
    /// Its length in seconds (never below a millisecond).
    pub fn seconds(&self) -> f64 {
        self.end
            .duration_since(self.start)
            .unwrap_or_default()
            .as_secs_f64()
            .max(0.001)
    }
}

#[derive(Debug, Clone, Copy)]
struct Opened {
    at: Instant,
    wall: SystemTime,
}

/// Records every step of a run (shared by all users).
#[derive(Debug)]
pub(crate) struct Recorder {
    shards: Vec<Mutex<[TransactionRecord; STEPS]>>,
    users: usize,
    run_time: Duration,
    next_slot: AtomicUsize,
    running_users: AtomicUsize,
    opened: OnceLock<Opened>,
    closed: OnceLock<Opened>,
    /// Notified when the window opens.
    opened_notify: Notify,
    pub live: std::sync::Arc<Live>,
}

/// Number of steps a recorder keeps figures for.
const STEPS: usize = Step::ALL.len();

fn index(step: Step) -> usize {
    match step {
        Step::Authorize => 0,
        Step::Token => 1,
        Step::Verify => 2,
        Step::Share => 3,
        Step::CreateCheck => 4,
        Step::CheckUrl => 5,
        Step::ReadCheck => 6,
    }
}

impl Recorder {
    pub fn new(users: usize, run_time: Duration, live: std::sync::Arc<Live>) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Default::default()))
                .collect(),
            users,
            run_time,
            next_slot: AtomicUsize::new(0),
            running_users: AtomicUsize::new(0),
            opened: OnceLock::new(),
            closed: OnceLock::new(),
            opened_notify: Notify::new(),
            live,
        }
    }

    /// A user starts its first transaction: returns its slot.
    pub fn user_started(&self) -> usize {
        let _ = self.live.started.set(Instant::now());
        self.next_slot.fetch_add(1, Ordering::SeqCst)
    }

    /// A user finished its first transaction (and with it any set-up, such as obtaining its
    /// reusable token): it is running. The window opens when the last one is.
    pub fn user_running(&self) {
        if self.running_users.fetch_add(1, Ordering::SeqCst) + 1 == self.users {
            let _ = self.opened.set(Opened {
                at: Instant::now(),
                wall: SystemTime::now(),
            });
            self.opened_notify.notify_one();
        }
    }

    /// Waits until the window opens.
    pub async fn window_opened(&self) {
        if self.opened.get().is_none() {
            self.opened_notify.notified().await;
        }
    }

    /// When the window closes by itself (`None` while it has not opened).
    pub fn planned_end(&self) -> Option<Instant> {
        self.opened.get().map(|o| o.at + self.run_time)
    }

    /// Closes the window now (the end of the run time, or an interruption); later calls change
    /// nothing.
    pub fn close(&self) {
        let now = Opened {
            at: Instant::now(),
            wall: SystemTime::now(),
        };
        let end = match (self.opened.get(), self.planned_end()) {
            (Some(o), Some(planned)) if now.at > planned => Opened {
                at: planned,
                wall: o.wall + self.run_time,
            },
            _ => now,
        };
        let _ = self.closed.set(end);
    }

    fn in_window(&self, at: Instant) -> bool {
        let Some(opened) = self.opened.get() else {
            return false;
        };
        let end = self
            .closed
            .get()
            .map_or(opened.at + self.run_time, |c| c.at);
        at >= opened.at && at < end
    }

    /// One request of `step` for the user in `slot`, ended now after `elapsed`.
    pub fn request(
        &self,
        slot: usize,
        step: Step,
        elapsed: Duration,
        error: Option<&str>,
        status: Option<u16>,
    ) {
        self.live.requests.fetch_add(1, Ordering::Relaxed);
        if error.is_some() {
            self.live.failures.fetch_add(1, Ordering::Relaxed);
        }
        if !self.in_window(Instant::now()) {
            return;
        }
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let mut shard = self.shards[slot % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        shard[index(step)].add_sample(nanos, error, status);
    }

    /// `step` was not run for the user in `slot` (an earlier step of its iteration failed).
    pub fn skipped(&self, slot: usize, step: Step) {
        if !self.in_window(Instant::now()) {
            return;
        }
        let mut shard = self.shards[slot % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        shard[index(step)].skipped += 1;
    }

    /// The figures of `steps` and the window (`None` when it never opened: the run ended before
    /// every user had started).
    pub fn finish(&self, steps: &[Step]) -> (Vec<TransactionRecord>, Option<Window>) {
        self.close();
        let mut out: Vec<TransactionRecord> = steps.iter().map(|_| Default::default()).collect();
        for shard in &self.shards {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            for (record, &step) in out.iter_mut().zip(steps) {
                record
                    .add(&shard[index(step)])
                    .expect("growing histograms take any addition");
            }
        }
        let window = match (self.opened.get(), self.closed.get()) {
            (Some(o), Some(c)) => Some(Window {
                start: o.wall,
                end: o.wall + c.at.saturating_duration_since(o.at),
            }),
            _ => None,
        };
        (out, window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic latencies spread over four orders of magnitude (ns), like a real run's.
    fn samples(n: usize) -> Vec<u64> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                50_000 + x % 80_000_000 / (1 + x % 97)
            })
            .collect()
    }

    #[test]
    fn merged_slices_give_exactly_the_percentiles_of_all_samples() {
        let all = samples(30_000);
        let mut whole = TransactionRecord::default();
        let mut slices: Vec<TransactionRecord> = (0..3).map(|_| Default::default()).collect();
        for (i, &ns) in all.iter().enumerate() {
            whole.add_sample(ns, None, Some(200));
            slices[i % 3].add_sample(ns, (i % 10 == 0).then_some("boom"), Some(200));
        }
        // Each slice travels as V2 bytes, as between worker processes.
        let mut merged = TransactionRecord::default();
        for slice in &slices {
            let mut back = slice.clone();
            back.histogram = deserialize_histogram(&serialize_histogram(&slice.histogram)).unwrap();
            merged.add(&back).unwrap();
        }
        assert_eq!(merged.requests, 30_000);
        assert_eq!(merged.statuses, vec![(200, 30_000)]);
        assert_eq!(merged.failures, 3_000);
        assert_eq!(merged.errors, vec![("boom".to_owned(), 3_000)]);
        for q in [0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            assert_eq!(merged.percentile_ms(q), whole.percentile_ms(q), "q={q}");
        }
        // And those are the samples' own percentiles, to the histogram's 3 significant digits.
        let mut sorted = all.clone();
        sorted.sort_unstable();
        for q in [0.5, 0.95, 0.99] {
            let exact = sorted[((q * sorted.len() as f64).ceil() as usize).max(1) - 1] as f64;
            let hdr = merged.histogram.value_at_quantile(q) as f64;
            assert!(
                (hdr - exact).abs() / exact < 0.001,
                "q={q}: {hdr} vs {exact}"
            );
        }
    }

    #[test]
    fn failure_messages_are_bounded() {
        let mut r = TransactionRecord::default();
        for i in 0..25 {
            r.add_sample(1000, Some(&format!("message {i}")), None);
        }
        assert_eq!(r.errors.len(), MAX_ERROR_KINDS + 1);
        assert_eq!(r.errors.last().unwrap(), &(OTHER_ERRORS.to_owned(), 15));
        assert_eq!(r.failures, 25);
    }

    #[test]
    fn garbage_is_not_a_histogram() {
        assert!(deserialize_histogram(b"not a histogram").is_err());
    }

    #[test]
    fn the_window_opens_with_the_last_user_and_counts_only_inside() {
        let live = std::sync::Arc::new(Live::new());
        let rec = Recorder::new(2, Duration::from_secs(60), live.clone());
        let a = rec.user_started();
        rec.request(a, Step::Verify, Duration::from_millis(1), None, Some(200));
        rec.user_running();
        let b = rec.user_started();
        rec.user_running();
        rec.request(
            b,
            Step::Verify,
            Duration::from_millis(2),
            Some("401"),
            Some(401),
        );
        rec.skipped(b, Step::Share);
        let (records, window) = rec.finish(&[Step::Verify, Step::Share]);
        assert_eq!((records[0].requests, records[0].failures), (1, 1));
        assert_eq!(records[0].statuses, vec![(401, 1)]);
        assert_eq!(records[1].skipped, 1);
        assert_eq!((live.requests(), live.failures()), (2, 1));
        assert!(window.is_some());
        // After closing, nothing more counts.
        rec.request(a, Step::Verify, Duration::from_millis(1), None, Some(200));
        assert_eq!(rec.finish(&[Step::Verify]).0[0].requests, 1);
    }
}
