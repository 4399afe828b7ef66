//! The aggregator's added latency: after the load window, a few sequential samples of the
//! device leg (authorize → code) and of `POST /verify`, through the aggregator and at the line's
//! operator directly (with the client the profile registers there), interleaved so that both
//! paths see the same machine. Sequential and after the window: the comparison is of one request
//! at a time, not disturbed by the load, and the load's own figures are not disturbed by it.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::flow::{Device, Flow, FlowError, Login, StopAt};
use crate::secret::Secret;

/// Samples per path and step.
pub const SAMPLES: usize = 10;

/// The aggregator's added latency, per step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregatorLatency {
    /// Samples taken per path and step (sequential, after the load window).
    pub samples: usize,
    /// `authorize` and `verify`.
    pub steps: Vec<AddedLatency>,
    /// Why a figure is missing (no direct client, failed samples), when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One step through the aggregator and directly at the operator (medians and p95, in ms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddedLatency {
    /// `authorize` (the device leg up to the redirect with the code) or `verify`.
    pub step: String,
    /// Through the aggregator: median.
    pub via_aggregator_p50_ms: Option<f64>,
    /// Through the aggregator: 95th percentile (nearest rank).
    pub via_aggregator_p95_ms: Option<f64>,
    /// At the operator directly: median.
    pub direct_p50_ms: Option<f64>,
    /// At the operator directly: 95th percentile (nearest rank).
    pub direct_p95_ms: Option<f64>,
    /// What the aggregator adds: the difference of the medians.
    pub added_p50_ms: Option<f64>,
}

/// Times of one path: authorize and verify samples.
#[derive(Default)]
struct Path {
    authorize: Vec<Duration>,
    verify: Vec<Duration>,
    failures: Vec<String>,
}

/// Measures the added latency for an aggregator profile (`None` for any other), `samples` per
/// path and step, lines taken in turn.
pub async fn measure(flow: &Flow, samples: usize) -> Option<AggregatorLatency> {
    let lines = flow.aggregator_lines();
    if lines == 0 {
        return None;
    }
    let mut via = Path::default();
    let mut direct = Path::default();
    let mut no_direct = None;
    for i in 0..samples {
        let line = i % lines;
        sample(flow, &mut via, || {
            flow.device_request(
                flow.api().all_scopes(),
                Device::AggregatorLine(line),
                StopAt::RedirectUri,
            )
        })
        .await;
        match flow.operator_direct(line) {
            Ok(operator) => {
                sample(operator, &mut direct, || {
                    operator.authorize_request(operator.api().all_scopes(), Login::Network)
                })
                .await;
            }
            Err(e) => no_direct = Some(e.to_string()),
        }
    }
    let steps = [
        ("authorize", &via.authorize, &direct.authorize),
        ("verify", &via.verify, &direct.verify),
    ]
    .into_iter()
    .map(|(step, through, at_operator)| {
        let (v50, v95) = (percentile(through, 50), percentile(through, 95));
        let (d50, d95) = (percentile(at_operator, 50), percentile(at_operator, 95));
        AddedLatency {
            step: step.to_owned(),
            via_aggregator_p50_ms: v50,
            via_aggregator_p95_ms: v95,
            direct_p50_ms: d50,
            direct_p95_ms: d95,
            added_p50_ms: v50.zip(d50).map(|(v, d)| round(v - d)),
        }
    })
    .collect();
    let mut notes: Vec<String> = Vec::new();
    if let Some(why) = no_direct {
        notes.push(format!("no figures at the operators directly: {why}"));
    }
    for (path, failures) in [
        ("through the aggregator", &via.failures),
        ("directly", &direct.failures),
    ] {
        if let Some(first) = failures.first() {
            notes.push(format!(
                "{} of {samples} samples {path} failed (first: {first})",
                failures.len()
            ));
        }
    }
    Some(AggregatorLatency {
        samples,
        steps,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

/// One sample on `flow`: the device leg of `request()` timed, the code exchanged (not timed),
/// then `POST /verify` of the profile's device number timed.
async fn sample(
    flow: &Flow,
    path: &mut Path,
    request: impl FnOnce() -> crate::flow::AuthorizeRequest,
) {
    let request = request();
    let started = Instant::now();
    let authorized = flow.authorize(&request).await;
    let elapsed = started.elapsed();
    let outcome: Result<Duration, FlowError> = async {
        let code = authorized?.code_to_continue(&request)?;
        path.authorize.push(elapsed);
        let (token, _) = flow.exchange_code(&code, &request).await?;
        verify(flow, &token.access_token).await
    }
    .await;
    match outcome {
        Ok(d) => path.verify.push(d),
        Err(e) => path.failures.push(e.to_string()),
    }
}

/// `POST /verify` of the profile's device number with `token`; its time when answered 200.
async fn verify(flow: &Flow, token: &Secret) -> Result<Duration, FlowError> {
    const STEP: &str = "NV API";
    let operation = flow
        .api()
        .operation("phoneNumberVerify")
        .ok_or_else(|| FlowError::Unavailable("the spec has no phoneNumberVerify".into()))?;
    let request = flow
        .backend()
        .request(operation.method.clone(), operation.url.clone())
        .header("authorization", format!("Bearer {}", token.expose()))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "phoneNumber": flow.profile().lines.device }).to_string())
        .build()
        .map_err(|e| FlowError::Config(format!("verify request: {e}")))?;
    // Recorded and checked against the trust set like every flow request; the recording costs
    // both paths the same.
    let exchange = flow.send(request, STEP).await?;
    if exchange.response.status.as_u16() != 200 {
        return Err(FlowError::provider(
            STEP,
            "HTTP 200",
            format!("HTTP {}", exchange.response.status),
        ));
    }
    Ok(exchange.elapsed)
}

/// The `p`th percentile (nearest rank) in ms, rounded to µs; `None` without samples.
fn percentile(samples: &[Duration], p: usize) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    Some(round(sorted[rank - 1].as_secs_f64() * 1000.0))
}

fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|m| Duration::from_millis(*m))
                .collect::<Vec<_>>()
        };
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&ms(&[7]), 95), Some(7.0));
        let ten = ms(&[10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);
        assert_eq!(percentile(&ten, 50), Some(5.0));
        assert_eq!(percentile(&ten, 95), Some(10.0));
    }
}
