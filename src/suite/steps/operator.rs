//! Operator-token flows (NV 2.0.0+): CIBA with `login_hint=operatortoken:…` and the JWT bearer
//! grant with `sub=operatortoken:…`. Tokens they yield go to the token-response steps.

use cucumber::{given, then, when};

use crate::checks;
use crate::suite::world::{NvWorld, StepFailure, StepResult, fail};

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
    let ctx = world.ctx()?;
    let scopes = nv_scopes(world, &operation_id)?;
    let hint = subject(world, &who).await?;
    let exchange = ctx.flow.ciba_request(&hint, &scopes).await?;
    let start = ctx.flow.ciba_start(&exchange).ok();
    world.operator.ciba = Some((exchange, start));
    Ok(())
}
}

step! {
/// `the CIBA request is accepted with an auth_req_id`
#[then(regex = r"^the CIBA request is accepted with an auth_req_id$")]
fn ciba_accepted(world: &mut NvWorld) -> StepResult {
    let (exchange, _) = world
        .operator
        .ciba
        .as_ref()
        .ok_or_else(|| fail("no CIBA request was made in this scenario"))?;
    world
        .ctx()?
        .flow
        .ciba_start(exchange)
        .map(|_| ())
        .map_err(|e| fail(e.to_string()))
}
}

step! {
/// `the CIBA request is refused with the error "unknown_user_id"` (CAMARA ICM Appendix A)
#[then(regex = r#"^the CIBA request is refused with the error "([^"]+)"$"#)]
fn ciba_refused(world: &mut NvWorld, expected: String) -> StepResult {
    let (exchange, _) = world
        .operator
        .ciba
        .as_ref()
        .ok_or_else(|| fail("no CIBA request was made in this scenario"))?;
    Ok(checks::ciba::refused_with(exchange, &expected)?)
}
}

fn ciba_start(world: &NvWorld) -> Result<crate::flow::CibaStart, StepFailure> {
    match &world.operator.ciba {
        Some((_, Some(start))) => Ok(start.clone()),
        Some((exchange, None)) => Err(fail(format!(
            "backchannel authentication endpoint: expected an auth_req_id, found HTTP {}",
            exchange.response.status
        ))),
        None => Err(fail("no CIBA request was made in this scenario")),
    }
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
    let start = ciba_start(world)?;
    let exchange = ctx.flow.ciba_poll(&start).await?;
    record_token_answer(world, &ctx, exchange);
    Ok(())
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
