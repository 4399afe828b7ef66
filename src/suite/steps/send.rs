//! Sending an NV request: every exchange goes through the spec engine, and any violation fails
//! the step with the rule and spec location.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cucumber::when;

use crate::checks;
use crate::flow::{Login, random_token};
use crate::secret::Secret;
use crate::suite::camara_vocabulary::{legacy_operation, resolve_legacy, takes_body};
use crate::suite::lint::StepLint;
use crate::suite::world::{AuthPlan, BodyPlan, NvWorld, StepFailure, StepResult, fail};

step! {
/// `the request "phoneNumberVerify" is sent` (operationId from the spec).
#[when(regex = r#"^the request "([^"]+)" is sent$"#)]
async fn send(world: &mut NvWorld, operation_id: String) -> StepResult {
    send_as(world, operation_id, None).await
}
}

/// The operationId of `the request "phoneNumberVerify" is sent…` (any ending), as the lint
/// reads it.
pub(in crate::suite) fn sent_operation(text: &str) -> Option<&str> {
    text.strip_prefix("the request \"")
        .and_then(|r| r.split_once('"'))
        .filter(|(_, tail)| tail.starts_with(" is sent"))
        .map(|(id, _)| id)
}

step! {
/// `the request "phoneNumberVerify" is sent with the method "GET"`: the operation's path with
/// another method. Not an operation of the spec, so only the ErrorInfo shape is judged.
#[when(regex = r#"^the request "([^"]+)" is sent with the method "([A-Z]+)"$"#)]
async fn send_with_method(world: &mut NvWorld, operation_id: String, method: String) -> StepResult {
    let method = http::Method::from_bytes(method.as_bytes())
        .map_err(|e| fail(format!("method {method:?}: {e}")))?;
    send_as(world, operation_id, Some(method)).await
}
}

step! {
/// `the same request is sent again` (same token, same body)
#[when(regex = r"^the same request is sent again$")]
async fn send_again(world: &mut NvWorld) -> StepResult {
    let (operation_id, _) = world
        .api
        .last
        .clone()
        .ok_or_else(|| fail("no request has been sent in this scenario"))?;
    let token = world
        .api
        .sent_token
        .clone()
        .ok_or_else(|| fail("the previous request carried no token"))?;
    world.api.request.auth = AuthPlan::Literal(Secret::new(format!("Bearer {}", token.expose())));
    send_as(world, operation_id, None).await
}
}

step! {
/// `When the HTTPS "POST" request is sent` (also `HTTP`): legacy definitions go on setting the
/// request up after this, so it is sent by the first response check. The operation comes from
/// `the resource is "…"` (else the Feature line, else the method).
#[when(regex = r#"^the HTTPS? "([A-Z]+)" request is sent$"#)]
fn legacy_send(world: &mut NvWorld, method: String) -> StepResult {
    let method = http::Method::from_bytes(method.as_bytes())
        .map_err(|e| fail(format!("method {method:?}: {e}")))?;
    world.implied.pending_method = Some(method);
    Ok(())
}
}

/// The method of a legacy `the HTTPS "POST" request is sent`, as the lint reads it.
pub(in crate::suite) fn legacy_send_method(text: &str) -> Option<http::Method> {
    let rest = text
        .strip_prefix("the HTTPS \"")
        .or_else(|| text.strip_prefix("the HTTP \""))?;
    let (method, tail) = rest.split_once('"')?;
    (tail == " request is sent")
        .then(|| http::Method::from_bytes(method.as_bytes()).ok())
        .flatten()
}

/// `wrong-method`: a legacy send whose method is not the operation's on the resource.
pub(in crate::suite) fn lint_legacy_send(l: &mut StepLint<'_>) {
    let resource = l.seen.resource.clone();
    if let Some(method) = legacy_send_method(l.text)
        && let Ok((found, false)) = resolve_legacy(l.spec, &method, resource.as_deref(), None)
    {
        let message = format!(
            "{method} {} is not an operation of {}; nvcert sends {} ({} {})",
            resource.as_deref().unwrap_or(&found.path),
            l.origin(),
            found.operation_id,
            found.method,
            found.path
        );
        l.report("wrong-method", message);
    }
}

/// Legacy request setup may follow `When … request is sent`; after the request actually went
/// out it could no longer change it, which must not pass unnoticed.
pub(super) fn still_setting_up(world: &NvWorld, what: &str) -> StepResult {
    if world.api.last.is_some() && world.implied.pending_method.is_none() {
        return Err(StepFailure::Skip(format!(
            "{what} comes after the request was sent, so it cannot change it"
        )));
    }
    Ok(())
}

/// Sends what the scenario described but has not sent yet, before a response check reads the
/// response: a legacy `When the HTTPS "POST" request is sent` whose setup went on after it, or,
/// when the scenario has no `When` at all (CAMARA v2.1.0 400.3), the operation its Feature line
/// names. Nothing to do when a request was sent and none is pending.
pub(super) async fn ensure_sent(world: &mut NvWorld) -> StepResult {
    if let Some(method) = world.implied.pending_method.take() {
        let ctx = world.ctx()?;
        let op = legacy_operation(&ctx.spec, &method, &world.implied).map_err(StepFailure::Skip)?;
        if !takes_body(&ctx.spec, &op) {
            // Legacy share definitions set a body on the GET; the operation takes none.
            world.api.request.body = BodyPlan::Absent;
        }
        return send_as(world, op.operation_id, None).await;
    }
    if world.api.last.is_some() {
        return Ok(());
    }
    match world.implied.feature_operation.clone() {
        Some(op) => send_as(world, op, None).await,
        None => Err(StepFailure::Skip(
            "the scenario sends no request (it has no `When`) and its Feature line names no \
             operation (`… - Operation <operationId>`) to send"
                .into(),
        )),
    }
}

/// Sends `operation_id` (with `method` instead of the operation's own, when given) as the
/// scenario set it up, and judges the exchange against the spec.
pub(super) async fn send_as(
    world: &mut NvWorld,
    operation_id: String,
    method: Option<http::Method>,
) -> StepResult {
    let ctx = world.ctx()?;
    let flow = &ctx.flow;
    // Always the spec's base path: the provider serves the version it is judged by, and CAMARA's
    // `the resource "…" as base url` is sometimes wrong (legacy share files); the lint reports
    // a difference.
    let operation = flow.api().operation(&operation_id).ok_or_else(|| {
        fail(format!(
            "operation {operation_id:?} is not in {}",
            ctx.spec.origin()
        ))
    })?;

    dialect_premise(world, &ctx, &operation_id)?;

    let token = match &world.api.request.auth {
        AuthPlan::Removed => None,
        AuthPlan::Literal(value) => Some(value.clone()),
        AuthPlan::Invalid => Some(forged_token()),
        AuthPlan::Valid => Some(
            flow.obtain_token(flow.api().all_scopes(), Login::Network)
                .await?
                .access_token,
        ),
        AuthPlan::WithoutRequiredScope => {
            let others: Vec<String> = flow
                .api()
                .all_scopes()
                .iter()
                .filter(|s| !operation.scopes.contains(s))
                .cloned()
                .collect();
            if others.is_empty() {
                return Err(StepFailure::Skip(format!(
                    "the spec names no scope other than {:?} to request",
                    operation.scopes
                )));
            }
            // `purpose=dpv:…#number-verification-verify-read` (the operator sample) grants the
            // scope it names whatever `scope` says: no token lacking it can be requested.
            let purpose = &flow.profile().purpose;
            if flow.profile().purpose_style == crate::profile::PurposeStyle::Parameter
                && let Some(named) = operation.scopes.iter().find(|s| {
                    purpose
                        .split_once('#')
                        .is_some_and(|(_, n)| n == s.as_str())
                })
            {
                return Err(StepFailure::Skip(format!(
                    "the profile's purpose parameter {purpose:?} names the scope {named:?}, so \
                     every token carries it"
                )));
            }
            Some(
                flow.obtain_token(&others, Login::Network)
                    .await?
                    .access_token,
            )
        }
        AuthPlan::Expired => Some(expired_token(&ctx).await?),
        AuthPlan::NonNetwork => Some(
            flow.obtain_token(&operation.scopes, Login::NonNetwork)
                .await?
                .access_token,
        ),
    };

    let mut builder = flow.backend().request(
        method.clone().unwrap_or_else(|| operation.method.clone()),
        operation.url.clone(),
    );
    let mut has_content_type = false;
    for (name, value) in &world.api.request.headers {
        has_content_type |= name.eq_ignore_ascii_case("content-type");
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(token) = &token {
        let value = if matches!(world.api.request.auth, AuthPlan::Literal(_)) {
            token.expose().to_owned()
        } else {
            format!("Bearer {}", token.expose())
        };
        builder = builder.header("authorization", value);
    }
    let body: Option<bytes::Bytes> = match &world.api.request.body {
        BodyPlan::Default if method.is_none() => operation.default_body.clone(),
        BodyPlan::Default | BodyPlan::Absent => None,
        BodyPlan::Json(v) => Some(match &flow.profile().dialect {
            // The dialect's form of the same body (e.g. phoneNumberType + phoneNumber).
            Some(d) => d.map_request_body(&operation_id, v).to_string().into(),
            None => v.to_string().into(),
        }),
        BodyPlan::Raw(t) => Some(t.clone().into()),
    };
    let sent_json: Option<serde_json::Value> =
        body.as_ref().and_then(|b| serde_json::from_slice(b).ok());
    if let Some(body) = body {
        if !has_content_type {
            builder = builder.header("content-type", "application/json");
        }
        builder = builder.body(body);
    }
    let request = builder
        .build()
        .map_err(|e| fail(format!("cannot build the {operation_id} request: {e}")))?;
    let exchange = flow.send(request, "NV API").await?;
    // The bare token (without "Bearer ") is what a replay sends again.
    world.api.sent_token = token.map(|t| {
        Secret::new(
            t.expose()
                .strip_prefix("Bearer ")
                .unwrap_or(t.expose())
                .to_owned(),
        )
    });
    let verdict =
        checks::contract::api_response(&ctx.spec, &operation_id, &exchange, method.is_some());
    if method.is_none() {
        ctx.observe(&operation_id, exchange.response.status.as_u16());
        ctx.compare(&operation_id, sent_json.as_ref(), &exchange);
    }
    world.api.last = Some((operation_id, exchange));
    Ok(verdict?)
}

/// Under a dialect, a scenario expecting only statuses the dialect's document does not describe
/// for the operation is skipped: its premise is not part of that dialect.
fn dialect_premise(
    world: &NvWorld,
    ctx: &crate::suite::RunContext,
    operation_id: &str,
) -> StepResult {
    let Some(dialect) = &ctx.flow.profile().dialect else {
        return Ok(());
    };
    let expected = &world.implied.expected_statuses;
    if expected.is_empty()
        || expected
            .iter()
            .any(|s| ctx.spec.documents_status(operation_id, *s))
    {
        return Ok(());
    }
    let listed: Vec<String> = expected.iter().map(u16::to_string).collect();
    Err(StepFailure::Skip(format!(
        "dialect {} documents no {} answer for {operation_id} ({})",
        dialect.name,
        listed.join(" or "),
        dialect.origin
    )))
}

/// A well-formed JWT that no provider issued (random key, random claims).
fn forged_token() -> Secret {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"sub":"{}","exp":4102444800}}"#,
        random_token(8)
    ));
    Secret::new(format!("{header}.{claims}.{}", random_token(32)))
}

/// A real token of the short-lived client, once its lifetime has passed.
async fn expired_token(ctx: &crate::suite::RunContext) -> Result<Secret, StepFailure> {
    let flow = &ctx.flow;
    let short = flow.profile().short_lived_client.clone().ok_or_else(|| {
        StepFailure::Skip(
            "the profile declares no [short_lived_client] to obtain a token that expires".into(),
        )
    })?;
    // The short-lived client's code lives about a second: on a slow run it can expire between
    // the device leg and the exchange. That is this run's slowness, not the provider's fault (the
    // scenario is about the API and an expired token): the profile's `token_client_id` (codes
    // that live long) avoids it; without one, a refused exchange is tried again, a bounded number
    // of times.
    let mut attempts = 0;
    let token = loop {
        attempts += 1;
        match flow
            .obtain_token_for(
                ctx.flow.api().all_scopes(),
                Login::Network,
                crate::flow::ClientRole::ShortLivedToken,
            )
            .await
        {
            Ok(token) => break token,
            Err(crate::flow::FlowError::Provider { .. }) if attempts < 5 => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let received = std::time::Instant::now();
    tokio::time::sleep(token_wait(&short, token.access_token.expose(), received)).await;
    Ok(token.access_token)
}

/// How long to wait, from `received`, until the short-lived client's token `token` has expired
/// for the provider: its life (see [`TokenExpiry`]) plus the profile's margin, bounded by the
/// lifetime plus the safe margin (a token's `exp` never makes the suite wait longer than that).
fn token_wait(
    short: &crate::profile::ShortLivedClient,
    token: &str,
    received: std::time::Instant,
) -> std::time::Duration {
    use crate::profile::{ShortLivedClient, TokenExpiry};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let margin = Duration::from_millis(short.expiry_margin_ms);
    let lifetime = Duration::from_secs(short.token_lifetime_secs);
    let by_lifetime = lifetime + margin;
    let by_claim = (short.token_expiry == TokenExpiry::ExpClaim)
        .then(|| jwt_exp(token))
        .flatten()
        .map(|exp| {
            // Seconds from now (our clock, which this setting says is the provider's) to `exp`.
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64();
            Duration::from_secs_f64((exp - now).max(0.0)) + margin + received.elapsed()
        });
    let longest = lifetime + Duration::from_millis(ShortLivedClient::SAFE_EXPIRY_MARGIN_MS);
    by_claim
        .unwrap_or(by_lifetime)
        .min(longest.max(by_lifetime))
}

/// The `exp` claim of a JWT (not verified: only when it ends is read), if `token` is one.
fn jwt_exp(token: &str) -> Option<f64> {
    jwt_claims(token)?.get("exp")?.as_f64()
}

/// The claims of a JWT, not verified (for what a check reads, never what it trusts), if `token`
/// is one.
pub(super) fn jwt_claims(token: &str) -> Option<serde_json::Value> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use super::*;
    use crate::profile::{ClientAuthMethod, ShortLivedClient, TokenExpiry};

    fn short(token_expiry: TokenExpiry, margin_ms: u64) -> ShortLivedClient {
        ShortLivedClient {
            client: crate::profile::Client {
                client_id: "short".into(),
                auth_method: ClientAuthMethod::PrivateKeyJwt,
                private_key_pem: None,
                key_id: None,
                client_secret: None,
                redirect_uri: "https://client.test/cb".parse().expect("url"),
            },
            token_client_id: None,
            code_lifetime_secs: 1,
            token_lifetime_secs: 1,
            expiry_margin_ms: margin_ms,
            token_expiry,
        }
    }

    fn jwt_expiring_in(secs: f64) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs_f64();
        let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{}}}"#, now + secs));
        format!("e30.{claims}.sig")
    }

    fn near(found: Duration, expected_ms: u64) -> bool {
        found.abs_diff(Duration::from_millis(expected_ms)) < Duration::from_millis(50)
    }

    #[test]
    fn the_token_wait_is_the_lifetime_and_margin_unless_the_profile_trusts_exp_on_our_clock() {
        let soon = jwt_expiring_in(0.3);
        let now = Instant::now();
        // Default: lifetime and the safe margin after receipt, whatever the token says.
        let safe = short(
            TokenExpiry::Lifetime,
            ShortLivedClient::SAFE_EXPIRY_MARGIN_MS,
        );
        assert_eq!(token_wait(&safe, &soon, now), Duration::from_millis(2100));
        // exp_claim: until exp, plus the margin.
        let claim = short(TokenExpiry::ExpClaim, 100);
        assert!(near(token_wait(&claim, &soon, now), 400));
        // Never longer than the lifetime plus the safe margin (every wait bounded)...
        assert!(near(token_wait(&claim, &jwt_expiring_in(60.0), now), 2100));
        // ...and a token that is not a JWT with exp is waited out by its lifetime.
        assert!(near(token_wait(&claim, "opaque-token", now), 1100));
        assert!(near(token_wait(&claim, "a.bm90LWpzb24.c", now), 1100));
    }
}
