//! The `phonecheck` load scenario (IDlayr PhoneCheck v0.1): each user gets a client-credentials
//! token once (set-up, not load: not recorded), then every iteration creates a check for the
//! device's number, requests its check URL over the device leg (through every redirect) and reads
//! the result, which must be COMPLETED with a match. Each step is a goose transaction named as
//! the step, recorded once, so the summary and the thresholds see `create-check`, `check-url` and
//! `read-check` like any other step.
//!
//! Kept apart from the NV transactions: a PhoneCheck user carries its own session data and never
//! runs an NV step.

use std::sync::Arc;
use std::time::{Duration, Instant};

use goose::goose::{GooseUser, TransactionError, TransactionResult};
use goose::prelude::{Scenario, Transaction, TransactionFunction};
use serde_json::Value;

use super::scenarios::Step;
use super::transactions::LoadContext;
use crate::flow::{ClientRole, Flow};
use crate::secret::Secret;

/// Per-user state of a PhoneCheck user.
#[derive(Clone, Default)]
struct PhoneCheckUser {
    /// The user's `phone_check` token, obtained once.
    token: Option<Secret>,
    /// The iteration's check: its id and URL.
    check: Option<(String, url::Url)>,
    /// Whether the iteration's device leg completed.
    device_leg_done: bool,
}

fn state(user: &mut GooseUser) -> &mut PhoneCheckUser {
    if user.get_session_data::<PhoneCheckUser>().is_none() {
        user.set_session_data(PhoneCheckUser::default());
    }
    user.get_session_data_unchecked_mut::<PhoneCheckUser>()
}

/// The goose scenario: create-check → check-url → read-check, in sequence.
pub(crate) fn build(ctx: &Arc<LoadContext>) -> Scenario {
    let mut scenario = Scenario::new(ctx.kind.name());
    for (i, &step) in ctx.steps.iter().enumerate() {
        let ctx = Arc::clone(ctx);
        let function: TransactionFunction = Arc::new(move |user| {
            let ctx = Arc::clone(&ctx);
            Box::pin(async move { run(&ctx.flow, step, user).await })
        });
        scenario = scenario.register_transaction(
            Transaction::new(function)
                .set_name(step.name())
                .set_sequence(i + 1),
        );
    }
    scenario
}

async fn run(flow: &Flow, step: Step, user: &mut GooseUser) -> TransactionResult {
    match step {
        Step::CreateCheck => create(flow, user).await,
        Step::CheckUrl => device_leg(flow, user).await,
        Step::ReadCheck => read(flow, user).await,
        other => Err(Box::new(TransactionError::Custom(format!(
            "{} is not a PhoneCheck step",
            other.name()
        )))),
    }
}

/// Records one request of `step`: success with its status, or failure with its reason.
async fn record(
    user: &mut GooseUser,
    step: Step,
    elapsed: Duration,
    outcome: Result<u16, (Option<u16>, String)>,
) -> TransactionResult {
    match outcome {
        Ok(status) => {
            user.record_custom_request_duration(
                step.method(),
                step.name(),
                elapsed,
                true,
                Some(status),
                None,
            )
            .await
        }
        Err((status, message)) => {
            user.record_custom_request_duration(
                step.method(),
                step.name(),
                elapsed,
                false,
                status,
                Some(&message),
            )
            .await?;
            Err(Box::new(TransactionError::Custom(message)))
        }
    }
}

fn not_run(step: Step, because: Step) -> TransactionResult {
    Err(Box::new(TransactionError::Custom(format!(
        "{} not run: the {} step of this iteration failed",
        step.name(),
        because.name()
    ))))
}

async fn create(flow: &Flow, user: &mut GooseUser) -> TransactionResult {
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
                    user,
                    Step::CreateCheck,
                    started.elapsed(),
                    Err((None, message)),
                )
                .await;
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
    record(user, Step::CreateCheck, elapsed, outcome).await
}

async fn device_leg(flow: &Flow, user: &mut GooseUser) -> TransactionResult {
    let Some((_, url)) = state(user).check.clone() else {
        return not_run(Step::CheckUrl, Step::CreateCheck);
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
    record(user, Step::CheckUrl, elapsed, outcome).await
}

async fn read(flow: &Flow, user: &mut GooseUser) -> TransactionResult {
    let st = state(user);
    let (Some((check_id, _)), true) = (st.check.take(), st.device_leg_done) else {
        return not_run(Step::ReadCheck, Step::CheckUrl);
    };
    let Some(token) = state(user).token.clone() else {
        return not_run(Step::ReadCheck, Step::CreateCheck);
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
    record(user, Step::ReadCheck, elapsed, outcome).await
}
