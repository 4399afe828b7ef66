//! The `phonecheck` load scenario (IDlayr PhoneCheck v0.1): each user gets a client-credentials
//! token once (set-up, not load: not recorded), then every iteration creates a check for the
//! device's number, requests its check URL over the device leg (through every redirect) and reads
//! the result, which must be COMPLETED with a match. Each step is a goose transaction named as
//! the step, recorded once in the run's recorder, so the summary and the thresholds see
//! `create-check`, `check-url` and `read-check` like any other step; a step not run after an
//! earlier failure is counted as skipped.
//!
//! Kept apart from the NV transactions: a PhoneCheck user carries its own session data and never
//! runs an NV step.

use std::time::{Duration, Instant};

use goose::goose::GooseUser;
use serde_json::Value;

use super::scenarios::Step;
use super::transactions::LoadContext;
use crate::flow::{ClientRole, Flow};
use crate::secret::Secret;

/// Per-user state of a PhoneCheck user (kept in the user's session data by `transactions`).
#[derive(Clone, Default)]
pub(crate) struct PhoneCheckUser {
    /// The user's `phone_check` token, obtained once.
    token: Option<Secret>,
    /// The iteration's check: its id and URL.
    check: Option<(String, url::Url)>,
    /// Whether the iteration's device leg completed.
    device_leg_done: bool,
}

fn state(user: &mut GooseUser) -> &mut PhoneCheckUser {
    super::transactions::phonecheck_state(user)
}

/// Runs PhoneCheck `step` for `user` (in recorder slot `slot`).
pub(crate) async fn run(ctx: &LoadContext, step: Step, user: &mut GooseUser, slot: usize) {
    match step {
        Step::CreateCheck => create(ctx, user, slot).await,
        Step::CheckUrl => device_leg(ctx, user, slot).await,
        Step::ReadCheck => read(ctx, user, slot).await,
        // `scenarios` gives this module only its own steps.
        other => ctx.recorder.skipped(slot, other),
    }
}

/// Records one request of `step`: success with its status, or failure with its reason.
fn record(
    ctx: &LoadContext,
    slot: usize,
    step: Step,
    elapsed: Duration,
    outcome: Result<u16, (Option<u16>, String)>,
) {
    match outcome {
        Ok(status) => ctx
            .recorder
            .request(slot, step, elapsed, None, Some(status)),
        Err((status, message)) => ctx
            .recorder
            .request(slot, step, elapsed, Some(&message), status),
    }
}

async fn create(ctx: &LoadContext, user: &mut GooseUser, slot: usize) {
    let flow = &ctx.flow;
    let st = state(user);
    st.check = None;
    st.device_leg_done = false;
    let started = Instant::now();
    let token = match state(user).token.clone() {
        Some(t) => t,
        None => match flow.phonecheck_access_token(ClientRole::Main).await {
            Ok(t) => {
                state(user).token = Some(t.clone());
                t
            }
            Err(e) => {
                let message = format!("obtaining a PhoneCheck token: {e}");
                return record(
                    ctx,
                    slot,
                    Step::CreateCheck,
                    started.elapsed(),
                    Err((None, message)),
                );
            }
        },
    };
    let body = Flow::check_body(&flow.profile().lines.device);
    let started = Instant::now();
    let sent = flow.create_check(Some(&token), &body).await;
    let elapsed = started.elapsed();
    let outcome = match sent {
        Ok(exchange) => {
            let status = exchange.response.status.as_u16();
            let json = exchange.response.json().unwrap_or(Value::Null);
            let id = json.get("check_id").and_then(Value::as_str);
            let href = json
                .pointer("/_links/check_url/href")
                .and_then(Value::as_str)
                .and_then(|h| url::Url::parse(h).ok());
            match (matches!(status, 200 | 201), id, href) {
                (true, Some(id), Some(url)) => {
                    state(user).check = Some((id.to_owned(), url));
                    Ok(status)
                }
                _ => {
                    if status == 401 {
                        // Expired or revoked: the next iteration obtains another.
                        state(user).token = None;
                    }
                    Err((
                        Some(status),
                        format!(
                            "create-check: expected HTTP 201 with check_id and check_url, found HTTP {status}"
                        ),
                    ))
                }
            }
        }
        Err(e) => Err((None, e.to_string())),
    };
    record(ctx, slot, Step::CreateCheck, elapsed, outcome);
}

async fn device_leg(ctx: &LoadContext, user: &mut GooseUser, slot: usize) {
    let flow = &ctx.flow;
    let Some((_, url)) = state(user).check.clone() else {
        ctx.recorder.skipped(slot, Step::CheckUrl);
        return;
    };
    let started = Instant::now();
    let outcome = flow.request_check_url(&url).await;
    let elapsed = started.elapsed();
    let outcome = match outcome {
        Ok(leg) => match leg.final_status() {
            Some(s) if (200..300).contains(&s) => {
                state(user).device_leg_done = true;
                Ok(s)
            }
            found => Err((
                found,
                format!(
                    "check-url: expected the redirects to end in a 2xx answer, found {}",
                    found.map_or_else(|| "nothing".to_owned(), |s| format!("HTTP {s}"))
                ),
            )),
        },
        Err(e) => Err((None, e.to_string())),
    };
    record(ctx, slot, Step::CheckUrl, elapsed, outcome);
}

async fn read(ctx: &LoadContext, user: &mut GooseUser, slot: usize) {
    let flow = &ctx.flow;
    let st = state(user);
    let (Some((check_id, _)), true) = (st.check.take(), st.device_leg_done) else {
        ctx.recorder.skipped(slot, Step::ReadCheck);
        return;
    };
    let Some(token) = state(user).token.clone() else {
        ctx.recorder.skipped(slot, Step::ReadCheck);
        return;
    };
    let started = Instant::now();
    let sent = flow.read_check(Some(&token), &check_id).await;
    let elapsed = started.elapsed();
    let outcome = match sent {
        Ok(exchange) => {
            let status = exchange.response.status.as_u16();
            let json = exchange.response.json().unwrap_or(Value::Null);
            let completed = json.get("status").and_then(Value::as_str) == Some("COMPLETED");
            let matched = json.get("match").and_then(Value::as_bool) == Some(true);
            if status == 200 && completed && matched {
                Ok(status)
            } else {
                Err((
                    Some(status),
                    format!(
                        "read-check: expected HTTP 200, COMPLETED with match true, found HTTP {status} status {} match {}",
                        json.get("status").unwrap_or(&Value::Null),
                        json.get("match").unwrap_or(&Value::Null)
                    ),
                ))
            }
        }
        Err(e) => Err((None, e.to_string())),
    };
    record(ctx, slot, Step::ReadCheck, elapsed, outcome);
}
