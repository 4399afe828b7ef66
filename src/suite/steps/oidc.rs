//! The auth-code flow itself, step by step: discovery, the device leg, the token exchange.

use cucumber::{then, when};

use crate::flow::{Login, code_of};
use crate::suite::world::{NvWorld, StepResult, fail};

/// `the discovery document is fetched`
#[when(regex = r"^the discovery document is fetched$")]
async fn fetch_discovery(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let (parsed, exchange) = ctx.flow.fetch_discovery().await?;
    world.discovery = Some((parsed.map_err(|e| e.to_string()), exchange));
    Ok(())
}

/// `the discovery document names an issuer, an authorization endpoint and a token endpoint`
#[then(
    regex = r"^the discovery document names an issuer, an authorization endpoint and a token endpoint$"
)]
fn discovery_complete(world: &mut NvWorld) -> StepResult {
    match &world.discovery {
        Some((Ok(_), _)) => Ok(()),
        Some((Err(e), _)) => Err(fail(e.clone())),
        None => Err(fail(
            "the discovery document was not fetched in this scenario",
        )),
    }
}

/// `the discovery issuer is identical to the profile's issuer` (OpenID Connect Discovery §4.3:
/// the issuer returned MUST be identical to the one the configuration was retrieved for).
#[then(regex = r"^the discovery issuer is identical to the profile's issuer$")]
fn discovery_issuer(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let expected = ctx
        .flow
        .profile()
        .issuer
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    match &world.discovery {
        Some((Ok(d), _)) if d.issuer.trim_end_matches('/') == expected => Ok(()),
        Some((Ok(d), _)) => Err(fail(format!(
            "discovery issuer: expected {expected:?}, found {:?}",
            d.issuer
        ))),
        Some((Err(e), _)) => Err(fail(e.clone())),
        None => Err(fail(
            "the discovery document was not fetched in this scenario",
        )),
    }
}

/// `the device requests authorization for the operation "phoneNumberVerify"`, over the
/// network leg of the profile.
#[when(regex = r#"^the device requests authorization for the operation "([^"]+)"$"#)]
async fn authorize(world: &mut NvWorld, operation_id: String) -> StepResult {
    authorize_with(world, operation_id, None).await
}

/// `the device requests authorization for the operation "phoneNumberShare" with a state of 128 characters`
#[when(
    regex = r#"^the device requests authorization for the operation "([^"]+)" with a state of (\d+) characters$"#
)]
async fn authorize_long_state(
    world: &mut NvWorld,
    operation_id: String,
    state_len: usize,
) -> StepResult {
    authorize_with(world, operation_id, Some(state_len)).await
}

async fn authorize_with(
    world: &mut NvWorld,
    operation_id: String,
    state_len: Option<usize>,
) -> StepResult {
    let ctx = world.ctx()?;
    let op = ctx.spec.operation(&operation_id).ok_or_else(|| {
        fail(format!(
            "operation {operation_id:?} is not in {}",
            ctx.spec.origin()
        ))
    })?;
    let mut request = ctx.flow.authorize_request(&op.scopes, Login::Network);
    if let Some(n) = state_len {
        request.state = random_state(n);
    }
    let outcome = ctx.flow.authorize(&request).await?;
    world.authorization = Some((request, outcome));
    Ok(())
}

fn random_state(n: usize) -> String {
    // Unreserved characters only, so the value survives any correct URL encoding unchanged.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    (0..n)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// `the provider redirects to the redirect_uri with a code and the state intact`
#[then(regex = r"^the provider redirects to the redirect_uri with a code and the state intact$")]
fn redirected_with_code(world: &mut NvWorld) -> StepResult {
    let (request, outcome) = world
        .authorization
        .as_ref()
        .ok_or_else(|| fail("no authorization request was made in this scenario"))?;
    code_of(outcome, request)
        .map(|_| ())
        .map_err(|e| fail(e.to_string()))
}

/// `the backend exchanges the code at the token endpoint`
#[when(regex = r"^the backend exchanges the code at the token endpoint$")]
async fn exchange_code(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let (request, outcome) = world
        .authorization
        .as_ref()
        .ok_or_else(|| fail("no authorization request was made in this scenario"))?;
    let code = code_of(outcome, request).map_err(|e| fail(e.to_string()))?;
    let exchange = ctx.flow.request_token(&code, request).await?;
    let parsed = ctx
        .flow
        .parse_token_response(&exchange)
        .map_err(|e| e.to_string());
    world.token = Some((parsed, exchange));
    Ok(())
}

/// `the token response carries a Bearer access token` (RFC 6749 §5.1: access_token and
/// token_type are REQUIRED; nvcert speaks Bearer, RFC 6750)
#[then(regex = r"^the token response carries a Bearer access token$")]
fn bearer_token(world: &mut NvWorld) -> StepResult {
    match &world.token {
        Some((Ok(_), _)) => Ok(()),
        Some((Err(e), _)) => Err(fail(e.clone())),
        None => Err(fail("no token exchange was made in this scenario")),
    }
}

/// `the token response forbids caching` (RFC 6749 §5.1: `Cache-Control: no-store`)
#[then(regex = r"^the token response forbids caching$")]
fn no_store(world: &mut NvWorld) -> StepResult {
    let (_, exchange) = world
        .token
        .as_ref()
        .ok_or_else(|| fail("no token exchange was made in this scenario"))?;
    let found = exchange.response.header("cache-control");
    if found.is_some_and(|v| {
        v.split(',')
            .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
    }) {
        Ok(())
    } else {
        Err(fail(format!(
            "token response header Cache-Control: expected \"no-store\", found {}",
            found.map_or("no such header".into(), |v| format!("{v:?}"))
        )))
    }
}
