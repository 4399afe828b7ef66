//! Through an aggregator (`features/aggregator/`): one device leg per line, the operator's code a
//! leg can stop at, tokens from the aggregator and from the operators directly, and API calls
//! sent to either. API answers go to `world.api.last`, so the generic response steps read them.

use cucumber::{given, then, when};

use crate::checks::{self, aggregator as verdict};
use crate::flow::{ClientRole, Device, Login, StopAt, TokenOptions};
use crate::profile::{Aggregator, ClientAuthMethod};
use crate::secret::Secret;
use crate::suite::world::{NvWorld, StepFailure, StepResult, fail};

const VERIFY: &str = "phoneNumberVerify";

/// The profile's `[aggregator]`, or a skip: the target is not an aggregator.
fn aggregator(world: &NvWorld) -> Result<Aggregator, StepFailure> {
    world
        .ctx()?
        .flow
        .profile()
        .aggregator
        .clone()
        .ok_or_else(|| {
            StepFailure::Skip(
                "the profile has no [aggregator] section: the target is not an aggregator".into(),
            )
        })
}

step! {
/// `the provider is an aggregator`: skips the scenario for a profile without `[aggregator]`.
#[given(regex = r"^the provider is an aggregator$")]
fn is_aggregator(world: &mut NvWorld) -> StepResult {
    aggregator(world).map(|_| ())
}
}

step! {
/// `the device of each line runs the authorization through the aggregator`: each line's device
/// leg, up to the redirect to the app.
#[when(regex = r"^the device of each line runs the authorization through the aggregator$")]
async fn each_line_authorizes(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let flow = &ctx.flow;
    world.aggregator.legs.clear();
    for line in 0..aggregator(world)?.lines.len() {
        let request = flow.device_request(
            flow.api().all_scopes(),
            Device::AggregatorLine(line),
            StopAt::RedirectUri,
        );
        let outcome = flow.authorize(&request).await?;
        world.aggregator.legs.push((request, outcome));
    }
    Ok(())
}
}

step! {
/// `each device leg crosses the aggregator, an operator, the aggregator and the app within the
/// allowed hosts` (every hop already passed the trust set, or the leg stopped with a failure)
#[then(
    regex = r"^each device leg crosses the aggregator, an operator, the aggregator and the app within the allowed hosts$"
)]
fn each_leg_crosses(world: &mut NvWorld) -> StepResult {
    let agg = aggregator(world)?;
    let operator_hosts: Vec<String> = agg.operators.iter().flat_map(|o| o.hosts.clone()).collect();
    for (i, (request, outcome)) in legs(world)?.iter().enumerate() {
        verdict::chain_crosses(&outcome.hops(), &operator_hosts, &request.redirect_uri)
            .map_err(|f| on_line(i, f))?;
    }
    Ok(())
}
}

fn legs(
    world: &NvWorld,
) -> Result<&[(crate::flow::AuthorizeRequest, crate::flow::AuthorizeOutcome)], StepFailure> {
    if world.aggregator.legs.is_empty() {
        return Err(fail(
            "no device leg ran through the aggregator in this scenario",
        ));
    }
    Ok(&world.aggregator.legs)
}

step! {
/// `the state of each device leg survives the chain`
#[then(regex = r"^the state of each device leg survives the chain$")]
fn each_state_survives(world: &mut NvWorld) -> StepResult {
    for (i, (request, outcome)) in legs(world)?.iter().enumerate() {
        verdict::state_survives(&request.state, outcome.state.as_deref())
            .map_err(|f| on_line(i, f))?;
    }
    Ok(())
}
}

step! {
/// `the device of each line obtains an access token from the aggregator`
#[when(regex = r"^the device of each line obtains an access token from the aggregator$")]
async fn each_line_token(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let flow = &ctx.flow;
    world.aggregator.legs.clear();
    world.aggregator.tokens.clear();
    for line in 0..aggregator(world)?.lines.len() {
        let (request, outcome, token) = flow
            .line_token(line, flow.api().all_scopes())
            .await
            .map_err(|e| on_line(line, e))?;
        world.aggregator.legs.push((request, outcome));
        world.aggregator.tokens.push(token);
    }
    Ok(())
}
}

/// `e` (a flow error or a finding), met on line `line`, with the line named.
fn on_line(line: usize, e: impl Into<StepFailure>) -> StepFailure {
    match e.into() {
        StepFailure::Check(m) => StepFailure::Check(format!("line {line}: {m}")),
        StepFailure::CouldNotRun(m) => StepFailure::CouldNotRun(format!("line {line}: {m}")),
        StepFailure::Skip(m) => StepFailure::Skip(m),
    }
}

step! {
/// `each device leg went to its line's operator`
#[then(regex = r"^each device leg went to its line's operator$")]
fn each_leg_routed(world: &mut NvWorld) -> StepResult {
    let agg = aggregator(world)?;
    for (i, (_, outcome)) in legs(world)?.iter().enumerate() {
        let own = agg.operator_of(i);
        let others: Vec<String> = agg
            .operators
            .iter()
            .filter(|o| o.name != own.name)
            .flat_map(|o| o.hosts.clone())
            .collect();
        verdict::routed_to(&outcome.hops(), &own.name, &own.hosts, &others)
            .map_err(|f| on_line(i, f))?;
    }
    Ok(())
}
}

fn line_token(world: &NvWorld, line: usize) -> Result<Secret, StepFailure> {
    world
        .aggregator
        .tokens
        .get(line)
        .map(|t| t.access_token.clone())
        .ok_or_else(|| fail(format!("no aggregator token was obtained for line {line}")))
}

/// Sends phoneNumberVerify with `body` and `token` to the aggregator, or to line `operator`'s
/// operator directly, with the scenario's headers; the answer is judged against the document and
/// kept in `world.api.last`.
async fn send_verify(
    world: &mut NvWorld,
    token: &Secret,
    body: serde_json::Value,
    operator: Option<usize>,
) -> StepResult {
    let ctx = world.ctx()?;
    let flow = &ctx.flow;
    let api = match operator {
        Some(line) => flow.operator_api(line)?,
        None => flow.api(),
    };
    let operation = api
        .operation(VERIFY)
        .ok_or_else(|| StepFailure::Skip(format!("the document has no {VERIFY}")))?;
    let mut builder = flow
        .backend()
        .request(operation.method.clone(), operation.url.clone())
        .header("authorization", format!("Bearer {}", token.expose()))
        .header("content-type", "application/json");
    for (name, value) in &world.api.request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let request = builder
        .body(body.to_string())
        .build()
        .map_err(|e| fail(format!("cannot build the {VERIFY} request: {e}")))?;
    let exchange = flow.send(request, "NV API").await?;
    let contract = checks::contract::api_response(&ctx.spec, VERIFY, &exchange, false);
    if operator.is_none() {
        ctx.observe(VERIFY, exchange.response.status.as_u16());
    }
    world.api.sent_token = Some(token.clone());
    world.api.last = Some((VERIFY.to_owned(), exchange));
    Ok(contract?)
}

step! {
/// `each line's number verifies true with the line's aggregator token`
#[then(regex = r"^each line's number verifies true with the line's aggregator token$")]
async fn each_line_verifies_true(world: &mut NvWorld) -> StepResult {
    let agg = aggregator(world)?;
    for (i, line) in agg.lines.iter().enumerate() {
        let token = line_token(world, i)?;
        let body = serde_json::json!({ "phoneNumber": line.number });
        send_verify(world, &token, body, None).await?;
        verdict::verified_as(
            world.last_exchange()?,
            true,
            &format!("line {i}: {VERIFY} of its own number through the aggregator"),
        )?;
    }
    Ok(())
}
}

step! {
/// `another line's number verifies false with each line's aggregator token`
#[then(regex = r"^another line's number verifies false with each line's aggregator token$")]
async fn other_line_verifies_false(world: &mut NvWorld) -> StepResult {
    let agg = aggregator(world)?;
    for i in 0..agg.lines.len() {
        let token = line_token(world, i)?;
        let body = serde_json::json!({ "phoneNumber": agg.other_number(i) });
        send_verify(world, &token, body, None).await?;
        verdict::verified_as(
            world.last_exchange()?,
            false,
            &format!("line {i}: {VERIFY} of another line's number through the aggregator"),
        )?;
    }
    Ok(())
}
}

step! {
/// `no line's aggregator token is readable or carries the line's number`
#[then(regex = r"^no line's aggregator token is readable or carries the line's number$")]
fn tokens_unreadable(world: &mut NvWorld) -> StepResult {
    let agg = aggregator(world)?;
    for (i, line) in agg.lines.iter().enumerate() {
        let secrets: Vec<(String, String)> = verdict::msisdn_forms(&line.number)
            .into_iter()
            .map(|form| (format!("the line's number ({form})"), form))
            .collect();
        verdict::token_reveals_nothing(line_token(world, i)?.expose(), &secrets)
            .map_err(|f| on_line(i, f))?;
    }
    Ok(())
}
}

step! {
/// `an access token obtained from each line's operator directly` (with the client the profile
/// registers there; skipped without one)
#[given(regex = r"^an access token obtained from each line's operator directly$")]
async fn each_operator_token(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    world.aggregator.operator_tokens.clear();
    for line in 0..aggregator(world)?.lines.len() {
        let operator = ctx.flow.operator_direct(line)?;
        let token = operator
            .obtain_token(operator.api().all_scopes(), Login::Network)
            .await
            .map_err(|e| on_line(line, e))?;
        world.aggregator.operator_tokens.push(token.access_token);
    }
    Ok(())
}
}

step! {
/// `no line's aggregator token carries anything of its operator's tokens`: the operator's tokens
/// are known by the one obtained directly. A JWT's header segment and issuer recur in every
/// token the operator issues, so they betray one inside the aggregator's token; an opaque
/// operator token has nothing that recurs, and the check says it cannot be made.
#[then(regex = r"^no line's aggregator token carries anything of its operator's tokens$")]
fn tokens_hide_operator_tokens(world: &mut NvWorld) -> StepResult {
    let agg = aggregator(world)?;
    for i in 0..agg.lines.len() {
        let operator_token = world
            .aggregator
            .operator_tokens
            .get(i)
            .ok_or_else(|| fail(format!("no operator token was obtained for line {i}")))?;
        let marks = operator_token_marks(operator_token.expose(), agg.operator_of(i));
        if marks.is_empty() {
            return Err(StepFailure::Skip(format!(
                "operator {}'s tokens are opaque: nothing in them recurs, so an aggregator token \
                 carrying one cannot be recognised (readability and the line's number are \
                 checked by @aggregator_token_unreadable)",
                agg.operator_of(i).name
            )));
        }
        verdict::token_reveals_nothing(line_token(world, i)?.expose(), &marks)
            .map_err(|f| on_line(i, f))?;
    }
    Ok(())
}
}

/// What recurs in every token of `operator` like `sample`: a JWT's header segment and `iss`.
fn operator_token_marks(
    sample: &str,
    operator: &crate::profile::AggregatorOperator,
) -> Vec<(String, String)> {
    let parts: Vec<&str> = sample.split('.').collect();
    if parts.len() != 3 {
        return Vec::new();
    }
    let mut marks = vec![(
        format!("the header of operator {}'s tokens", operator.name),
        parts[0].to_owned(),
    )];
    let issuer = super::send::jwt_claims(sample)
        .and_then(|c| c.get("iss").and_then(|v| v.as_str()).map(str::to_owned));
    if let Some(iss) = issuer.filter(|i| !i.is_empty()) {
        marks.push((format!("operator {}'s issuer", operator.name), iss));
    }
    marks
}

step! {
/// `the device of the first line runs the authorization through the aggregator and stops at the
/// operator's code`: the leg stops at the operator's redirect back to the aggregator (the code
/// issued to the aggregator), which is not contacted.
#[when(
    regex = r"^the device of the first line runs the authorization through the aggregator and stops at the operator's code$"
)]
async fn first_line_stops_at_operator_code(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let flow = &ctx.flow;
    aggregator(world)?;
    let request = flow.device_request(
        flow.api().all_scopes(),
        Device::AggregatorLine(0),
        StopAt::FirstCode,
    );
    let outcome = flow.authorize(&request).await?;
    let at_app = outcome.stopped_at.as_ref().is_some_and(|u| {
        u.origin() == request.redirect_uri.origin() && u.path() == request.redirect_uri.path()
    });
    if at_app || outcome.code.is_none() {
        return Err(fail(format!(
            "device leg through the aggregator: expected a redirect from the operator to the \
             aggregator carrying the operator's code, found {}",
            if at_app {
                "a redirect straight to the app".to_owned()
            } else {
                format!("no code ({} hops)", outcome.exchanges.len())
            }
        )));
    }
    world.aggregator.legs = vec![(request, outcome)];
    Ok(())
}
}

step! {
/// `the device of the first line obtains a code from its operator directly` (the client the
/// profile registers at the operator; the leg goes from the line's device to the operator)
#[when(regex = r"^the device of the first line obtains a code from its operator directly$")]
async fn first_line_direct_code(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    aggregator(world)?;
    let operator = ctx.flow.operator_direct(0)?;
    let request = operator.authorize_request(operator.api().all_scopes(), Login::Network);
    let outcome = operator.authorize(&request).await?;
    outcome.code_to_continue(&request)?;
    world.aggregator.legs = vec![(request, outcome)];
    Ok(())
}
}

step! {
/// `the app presents the operator's code at the aggregator's token endpoint`: as the app's
/// client, with the redirect_uri and PKCE verifier of the request the code answered. A client
/// with a secret authenticates with client_secret_basic: the credentials an aggregator that
/// passes the request on to an operator would hand over with it (an assertion is addressed to the
/// aggregator and would be refused there, hiding the fault).
#[when(regex = r"^the app presents the operator's code at the aggregator's token endpoint$")]
async fn present_operator_code(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let (request, outcome) = legs(world)?
        .first()
        .cloned()
        .ok_or_else(|| fail("no device leg"))?;
    let code = outcome
        .code
        .ok_or_else(|| fail("the device leg captured no operator code"))?;
    let main = ctx.flow.client(ClientRole::Main)?;
    let options = TokenOptions {
        client: Some(ClientRole::Main),
        auth_method: main
            .client
            .client_secret
            .is_some()
            .then_some(ClientAuthMethod::ClientSecretBasic),
        ..TokenOptions::default()
    };
    let attempt = ctx.flow.request_token_with(&code, &request, &options).await?;
    world.aggregator.token_answer = Some(attempt.exchange);
    Ok(())
}
}

step! {
/// `the aggregator's token endpoint refuses it`
#[then(regex = r"^the aggregator's token endpoint refuses it$")]
fn token_refused(world: &mut NvWorld) -> StepResult {
    let exchange = world
        .aggregator
        .token_answer
        .as_ref()
        .ok_or_else(|| fail("no token request was sent in this scenario"))?;
    Ok(verdict::foreign_code_refused(exchange)?)
}
}

step! {
/// `an access token obtained from the first line's operator directly` ("that token")
#[given(regex = r"^an access token obtained from the first line's operator directly$")]
async fn first_operator_token(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    aggregator(world)?;
    let operator = ctx.flow.operator_direct(0)?;
    let token = operator
        .obtain_token(operator.api().all_scopes(), Login::Network)
        .await?;
    world.aggregator.bearer = Some(token.access_token);
    Ok(())
}
}

step! {
/// `an access token obtained from the aggregator for the first line` ("that token")
#[given(regex = r"^an access token obtained from the aggregator for the first line$")]
async fn first_aggregator_token(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    aggregator(world)?;
    let (_, _, token) = ctx.flow.line_token(0, ctx.flow.api().all_scopes()).await?;
    world.aggregator.bearer = Some(token.access_token);
    Ok(())
}
}

step! {
/// `the request "phoneNumberVerify" for the first line's number is sent to the aggregator with
/// that token` (also `with an empty object`, and `to its operator directly`)
#[when(
    regex = r#"^the request "phoneNumberVerify" (for the first line's number|with an empty object) is sent to (the aggregator|its operator directly) with that token$"#
)]
async fn send_with_that_token(world: &mut NvWorld, what: String, target: String) -> StepResult {
    let agg = aggregator(world)?;
    let payload = if what == "with an empty object" {
        serde_json::json!({})
    } else {
        serde_json::json!({ "phoneNumber": agg.lines[0].number })
    };
    let token = world
        .aggregator
        .bearer
        .clone()
        .ok_or_else(|| fail("no token was obtained in this scenario (\"that token\")"))?;
    let operator = (target == "its operator directly").then_some(0);
    send_verify(world, &token, payload, operator).await
}
}

step! {
/// `a device no operator serves runs the authorization through the aggregator`
#[when(regex = r"^a device no operator serves runs the authorization through the aggregator$")]
async fn unknown_device_authorizes(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let flow = &ctx.flow;
    aggregator(world)?;
    let request = flow.device_request(flow.api().all_scopes(), Device::Unknown, StopAt::RedirectUri);
    let outcome = flow.authorize(&request).await?;
    world.aggregator.legs = vec![(request, outcome)];
    Ok(())
}
}

step! {
/// `the aggregator answers with a documented error, not a 5xx`
#[then(regex = r"^the aggregator answers with a documented error, not a 5xx$")]
fn unknown_device_refused(world: &mut NvWorld) -> StepResult {
    let (request, outcome) = legs(world)?
        .first()
        .ok_or_else(|| fail("no device leg"))?;
    Ok(verdict::unknown_device_refused(
        &outcome.hops(),
        outcome.error.as_deref(),
        outcome.code.is_some(),
        &request.redirect_uri,
    )?)
}
}
