//! Operator-token flows (NV 2.0.0+): CIBA with `login_hint=operatortoken:…` and the JWT bearer
//! grant with `sub=operatortoken:…`. Tokens they yield go to the token-response steps.

use std::time::{Duration, Instant};

use cucumber::{given, then, when};

use crate::checks;
use crate::suite::world::{CibaSent, NvWorld, StepFailure, StepResult, fail};

fn nv_scopes(world: &NvWorld, operation_id: &str) -> Result<Vec<String>, StepFailure> {
    let ctx = world.ctx()?;
    ctx.spec
        .operation(operation_id)
        .map(|o| o.scopes.clone())
        .ok_or_else(|| {
            fail(format!(
                "operation {operation_id:?} is not in {}",
                ctx.spec.origin()
            ))
        })
}

fn require(world: &NvWorld, ciba: bool) -> StepResult {
    let flows = world.ctx()?.flow.profile().flows;
    match (ciba, flows.ciba, flows.jwt_bearer) {
        (true, false, _) => Err(StepFailure::Skip(
            "the profile says the provider offers no CIBA flow".into(),
        )),
        (false, _, false) => Err(StepFailure::Skip(
            "the profile says the provider offers no JWT bearer grant".into(),
        )),
        _ => Ok(()),
    }
}

/// The login hint or subject for `who`: `the device's operator token` or a literal in quotes.
async fn subject(world: &NvWorld, who: &str) -> Result<String, StepFailure> {
    match who.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(literal) => Ok(literal.to_owned()),
        None => {
            let token = world.ctx()?.flow.operator_token().await?;
            Ok(format!("operatortoken:{}", token.expose()))
        }
    }
}

step! {
/// `the backend sends a CIBA authentication request for the operation "phoneNumberVerify" with
/// the device's operator token` (or `with the login_hint "tel:+34…"`)
#[when(
    regex = r#"^the backend sends a CIBA authentication request for the operation "([^"]+)" with (?:the login_hint )?(the device's operator token|"[^"]*")$"#
)]
async fn ciba_request(world: &mut NvWorld, operation_id: String, who: String) -> StepResult {
    require(world, true)?;
    send_ciba_request(world, operation_id, who).await
}
}

/// Sends a CIBA authentication request for `operation_id` with the login hint `who` and keeps it
/// as the scenario's.
async fn send_ciba_request(world: &mut NvWorld, operation_id: String, who: String) -> StepResult {
    let ctx = world.ctx()?;
    let scopes = nv_scopes(world, &operation_id)?;
    let hint = subject(world, &who).await?;
    let sent_at = Instant::now();
    let exchange = ctx.flow.ciba_request(&hint, &scopes).await?;
    let start = ctx.flow.ciba_start(&exchange).ok();
    world.operator.ciba = Some(CibaSent {
        exchange,
        start,
        sent_at,
        operation_id,
        who,
    });
    Ok(())
}

fn ciba_sent(world: &NvWorld) -> Result<&CibaSent, StepFailure> {
    world
        .operator
        .ciba
        .as_ref()
        .ok_or_else(|| fail("no CIBA request was made in this scenario"))
}

step! {
/// `the CIBA request is accepted with an auth_req_id`
#[then(regex = r"^the CIBA request is accepted with an auth_req_id$")]
fn ciba_accepted(world: &mut NvWorld) -> StepResult {
    let sent = ciba_sent(world)?;
    world
        .ctx()?
        .flow
        .ciba_start(&sent.exchange)
        .map(|_| ())
        .map_err(|e| fail(e.to_string()))
}
}

step! {
/// `the CIBA request is refused with the error "unknown_user_id"` (CAMARA ICM Appendix A)
#[then(regex = r#"^the CIBA request is refused with the error "([^"]+)"$"#)]
fn ciba_refused(world: &mut NvWorld, expected: String) -> StepResult {
    Ok(checks::ciba::refused_with(&ciba_sent(world)?.exchange, &expected)?)
}
}

fn ciba_start(world: &NvWorld) -> Result<crate::flow::CibaStart, StepFailure> {
    let sent = ciba_sent(world)?;
    sent.start.clone().ok_or_else(|| {
        fail(format!(
            "backchannel authentication endpoint: expected an auth_req_id, found HTTP {}",
            sent.exchange.response.status
        ))
    })
}

step! {
/// `the backend polls the token endpoint as instructed until tokens are issued` (CIBA Core §7.3:
/// wait `interval` between polls; `slow_down` adds 5 s)
#[when(regex = r"^the backend polls the token endpoint as instructed until tokens are issued$")]
async fn ciba_poll(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let start = ciba_start(world)?;
    let exchange = ctx.flow.ciba_poll_until_done(&start).await?;
    record_token_answer(world, &ctx, exchange);
    Ok(())
}
}

step! {
/// `the backend polls the token endpoint at once`
#[when(regex = r"^the backend polls the token endpoint at once$")]
async fn ciba_poll_now(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let mut attempt = 1;
    loop {
        let start = ciba_start(world)?;
        let exchange = ctx.flow.ciba_poll(&start).await?;
        let sent = ciba_sent(world)?;
        let took = sent.sent_at.elapsed();
        let tokens = exchange.response.status == 200;
        let (operation_id, who) = (sent.operation_id.clone(), sent.who.clone());
        record_token_answer(world, &ctx, exchange);
        match early_poll_next(took, start.interval, tokens, attempt) {
            EarlyPoll::Judge => return Ok(()),
            // Too late to tell: a fresh request, polled at once again.
            EarlyPoll::Retry => {}
            EarlyPoll::GiveUp => return Err(StepFailure::CouldNotRun(format!(
                "token endpoint (CIBA poll at once): expected an answer sooner than the \
                 interval ({} s) after the CIBA request, found HTTP 200 {:.1} s after it, on each \
                 of {attempt} requests: too late to tell whether the provider defers early polls",
                start.interval,
                took.as_secs_f64()
            ))),
        }
        send_ciba_request(world, operation_id, who).await?;
        attempt += 1;
    }
}
}

/// How many CIBA requests the early-poll check sends before it gives up on polling one sooner
/// than its interval.
const EARLY_POLL_ATTEMPTS: u32 = 3;

/// What the early-poll check does with a poll sent at once.
#[derive(Debug, PartialEq)]
enum EarlyPoll {
    /// The answer can be judged: the poll was early, or the answer was no tokens (a deferral
    /// passes however late, any other error fails).
    Judge,
    /// Tokens, but answered `interval` or more after the request was sent: the poll may not
    /// have been early for the provider, so the tokens prove nothing. Try a fresh request.
    Retry,
    /// As `Retry`, on the last attempt: the check could not run (a busy machine or a slow link).
    GiveUp,
}

/// `took`: from sending the CIBA request to the poll's answer, `tokens` in it or not; the
/// provider saw less time pass.
fn early_poll_next(took: Duration, interval_secs: u64, tokens: bool, attempt: u32) -> EarlyPoll {
    if !tokens || took < Duration::from_secs(interval_secs) {
        EarlyPoll::Judge
    } else if attempt < EARLY_POLL_ATTEMPTS {
        EarlyPoll::Retry
    } else {
        EarlyPoll::GiveUp
    }
}

/// Keeps a token-endpoint answer (and what it parses to) for the token-response steps.
fn record_token_answer(
    world: &mut NvWorld,
    ctx: &crate::suite::RunContext,
    exchange: crate::exchange::Exchange,
) {
    let parsed = ctx
        .flow
        .parse_token_response(&exchange)
        .map_err(|e| e.to_string());
    world.oidc.token = Some((parsed, exchange));
}

step! {
/// `the early poll is answered "slow_down" or "authorization_pending"` (CIBA Core §11)
#[then(regex = r#"^the early poll is answered "slow_down" or "authorization_pending"$"#)]
fn early_poll(world: &mut NvWorld) -> StepResult {
    let (_, exchange) = world
        .oidc
        .token
        .as_ref()
        .ok_or_else(|| fail("no token poll was made in this scenario"))?;
    Ok(checks::ciba::early_poll_deferred(exchange)?)
}
}

/// `the JWT bearer assertion is addressed to "https://…"`
#[given(regex = r#"^the JWT bearer assertion is addressed to "([^"]+)"$"#)]
fn jwt_bearer_audience(world: &mut NvWorld, aud: String) {
    world.operator.jwt_bearer_audience = Some(aud);
}

step! {
/// `the backend requests a token with a JWT bearer assertion for the operation "phoneNumberVerify"
/// with the device's operator token` (or `with the subject "tel:+34…"`)
#[when(
    regex = r#"^the backend requests a token with a JWT bearer assertion for the operation "([^"]+)" with (?:the subject )?(the device's operator token|"[^"]*")$"#
)]
async fn jwt_bearer(world: &mut NvWorld, operation_id: String, who: String) -> StepResult {
    require(world, false)?;
    let ctx = world.ctx()?;
    let scopes = nv_scopes(world, &operation_id)?;
    let sub = subject(world, &who).await?;
    let audience = world.operator.jwt_bearer_audience.take();
    let exchange = ctx
        .flow
        .jwt_bearer_request(&sub, &scopes, audience.as_deref())
        .await?;
    record_token_answer(world, &ctx, exchange);
    Ok(())
}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_early_poll_is_judged_only_when_it_was_early_or_deferred() {
        let ms = Duration::from_millis;
        for (took, tokens, attempt, expected) in [
            // Early: tokens fail the check, a deferral passes it.
            (ms(5), true, 1, EarlyPoll::Judge),
            (ms(999), false, 1, EarlyPoll::Judge),
            // No tokens however late: a deferral passes, another error fails.
            (ms(1500), false, 1, EarlyPoll::Judge),
            // Tokens a full interval after the request: maybe not early; again, then give up.
            (ms(1000), true, 1, EarlyPoll::Retry),
            (ms(1200), true, EARLY_POLL_ATTEMPTS - 1, EarlyPoll::Retry),
            (ms(1200), true, EARLY_POLL_ATTEMPTS, EarlyPoll::GiveUp),
        ] {
            assert_eq!(
                early_poll_next(took, 1, tokens, attempt),
                expected,
                "{took:?} tokens={tokens} attempt={attempt}"
            );
        }
    }
}
