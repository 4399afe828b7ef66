//! The auth-code flow itself, step by step: discovery, the device leg, the token exchange, and
//! the deviations the security-profile checks send. "Given" steps record a deviation; the
//! "When" step applies it, so a scenario reads as the request it makes.

use cucumber::{given, then, when};

use crate::checks;
use crate::flow::{
    AssertionTweak, AuthorizeOutcome, AuthorizeRequest, ClientRole, Flow, Login, Pkce,
    RequestObject, RequestObjectAudience, TokenOptions, VerifierChoice,
};
use crate::profile::ClientAuthMethod;
use crate::suite::world::{NvWorld, StepFailure, StepResult, fail};

// ----- discovery -------------------------------------------------------------------------------

step! {
/// `the discovery document is fetched`
#[when(regex = r"^the discovery document is fetched$")]
async fn fetch_discovery(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let (parsed, exchange) = ctx.flow.fetch_discovery().await?;
    // Fetched once per run (before any scenario): the exchange this scenario judges is that one,
    // so it goes into the scenario's evidence as if sent here.
    if let Some(recorder) = &world.recorder {
        crate::exchange::ExchangeObserver::exchanged(&**recorder, "discovery", &exchange);
    }
    world.oidc.discovery = Some((parsed.map_err(|e| e.to_string()), exchange));
    Ok(())
}
}

fn discovery(world: &NvWorld) -> Result<&crate::flow::Discovery, StepFailure> {
    match &world.oidc.discovery {
        Some((Ok(d), _)) => Ok(d),
        Some((Err(e), _)) => Err(fail(e.clone())),
        None => Err(fail(
            "the discovery document was not fetched in this scenario",
        )),
    }
}

step! {
/// `the discovery document names an issuer, an authorization endpoint and a token endpoint`
#[then(
    regex = r"^the discovery document names an issuer, an authorization endpoint and a token endpoint$"
)]
fn discovery_complete(world: &mut NvWorld) -> StepResult {
    discovery(world).map(|_| ())
}
}

step! {
/// `the discovery document is served as application/json` (OpenID Connect Discovery 1.0 §4.2)
#[then(regex = r"^the discovery document is served as application/json$")]
fn discovery_served_as_json(world: &mut NvWorld) -> StepResult {
    let Some((_, exchange)) = &world.oidc.discovery else {
        return Err(fail(
            "the discovery document was not fetched in this scenario",
        ));
    };
    Ok(checks::discovery::served_as_json(exchange)?)
}
}

step! {
/// `the discovery issuer is identical to the profile's issuer` (OpenID Connect Discovery §4.3)
#[then(regex = r"^the discovery issuer is identical to the profile's issuer$")]
fn discovery_issuer(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    Ok(checks::discovery::issuer_identical(
        discovery(world)?,
        &ctx.flow.profile().issuer,
    )?)
}
}

step! {
/// `the discovery document lists "private_key_jwt" in "token_endpoint_auth_methods_supported"`
#[then(regex = r#"^the discovery document lists "([^"]+)" in "([^"]+)"$"#)]
fn discovery_lists(world: &mut NvWorld, value: String, member: String) -> StepResult {
    Ok(checks::discovery::lists(discovery(world)?, &member, &value)?)
}
}

step! {
/// `the provider's JWKS holds a signing key`
#[then(regex = r"^the provider's JWKS holds a signing key$")]
async fn jwks_has_key(world: &mut NvWorld) -> StepResult {
    let jwks = world.ctx()?.flow.jwks().await?;
    Ok(checks::discovery::jwks_has_key(&jwks)?)
}
}

// ----- authorization request -------------------------------------------------------------------

/// `the authorization request adds the parameter "extra" with the value "foobar"`
#[given(
    regex = r#"^the authorization request adds the parameter "([^"]+)" with the value "([^"]*)"$"#
)]
fn authz_param(world: &mut NvWorld, name: String, value: String) {
    world.oidc.authz_mods.extra.push((name, value));
}

/// `the authorization request uses the redirect_uri "https://…"`
#[given(regex = r#"^the authorization request uses the redirect_uri "([^"]+)"$"#)]
fn authz_redirect(world: &mut NvWorld, uri: String) {
    world.oidc.authz_mods.redirect_uri = Some(uri);
}

/// `the authorization request is also sent as a signed request object`
#[given(regex = r"^the authorization request is also sent as a signed request object$")]
fn authz_request_object(world: &mut NvWorld) {
    world
        .oidc
        .authz_mods
        .request_object
        .get_or_insert_with(RequestObject::default);
}

/// `the authorization request is also sent as a signed request object addressed to the issuer`
/// (or `… to the authorization endpoint`)
#[given(
    regex = r"^the authorization request is also sent as a signed request object addressed to the (issuer|authorization endpoint)$"
)]
fn authz_request_object_to(world: &mut NvWorld, which: String) {
    world
        .oidc
        .authz_mods
        .request_object
        .get_or_insert_with(RequestObject::default)
        .audience = if which == "issuer" {
        RequestObjectAudience::Issuer
    } else {
        RequestObjectAudience::AuthorizationEndpoint
    };
}

/// `the authorization request is also sent as a signed request object addressed to the issuer,
/// or to the authorization endpoint if that is refused`
#[given(
    regex = r"^the authorization request is also sent as a signed request object addressed to the issuer, or to the authorization endpoint if that is refused$"
)]
fn authz_request_object_either(world: &mut NvWorld) {
    let mods = &mut world.oidc.authz_mods;
    mods.request_object = Some(RequestObject::default());
    mods.request_object_audience_fallback = true;
}

step! {
/// `the provider accepts a valid signed request object in this run`: the premise of every
/// refusal check of request objects. A provider that refuses every request object would pass
/// them all, so they are skipped unless a valid one is accepted (the audience it took is kept).
#[given(regex = r"^the provider accepts a valid signed request object in this run$")]
async fn request_object_premise(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let accepted = ctx
        .request_object_accepted
        .get_or_init(|| probe_request_object(&ctx.flow, &ctx.spec))
        .await;
    match accepted {
        Ok(audience) => {
            world.oidc.authz_mods.request_object = Some(RequestObject {
                audience: audience.clone(),
                ..RequestObject::default()
            });
            Ok(())
        }
        Err(why) => Err(StepFailure::Skip(format!(
            "the provider accepted no valid signed request object in this run (see \"A signed \
             request object is accepted\": {why}), so its refusing this one shows nothing"
        ))),
    }
}
}

/// Sends a valid signed request object for `phoneNumberVerify`, addressed to the issuer, then to
/// the authorization endpoint if that is refused: the audience accepted, or why none was.
async fn probe_request_object(
    flow: &Flow,
    spec: &crate::spec::SpecDocument,
) -> Result<RequestObjectAudience, String> {
    let Some(op) = spec.operation("phoneNumberVerify") else {
        return Err(format!("phoneNumberVerify is not in {}", spec.origin()));
    };
    if !flow.profile().flows.authorization_code {
        return Err("the profile says the provider offers no authorization code flow".into());
    }
    let mut request = flow.authorize_request(&op.scopes, Login::Network);
    request.request_object = Some(RequestObject::default());
    let (request, outcome) = authorize_either_audience(flow, request)
        .await
        .map_err(|e| e.to_string())?;
    request_object_verdict(&request, &outcome)
}

/// Sends `request` (which carries a request object addressed to the issuer); when it is refused,
/// sends it again addressed to the authorization endpoint. The last request and its outcome.
async fn authorize_either_audience(
    flow: &Flow,
    mut request: AuthorizeRequest,
) -> Result<(AuthorizeRequest, AuthorizeOutcome), crate::flow::FlowError> {
    let outcome = flow.authorize(&request).await?;
    if checks::authorization::redirected_with_code(&outcome, &request).is_ok() {
        return Ok((request, outcome));
    }
    if let Some(ro) = request.request_object.as_mut() {
        ro.audience = RequestObjectAudience::AuthorizationEndpoint;
    }
    let outcome = flow.authorize(&request).await?;
    Ok((request, outcome))
}

/// The audience the provider accepted with `outcome`, or why it accepted none.
fn request_object_verdict(
    request: &AuthorizeRequest,
    outcome: &AuthorizeOutcome,
) -> Result<RequestObjectAudience, String> {
    let audience = request
        .request_object
        .as_ref()
        .map(|ro| ro.audience.clone())
        .unwrap_or_default();
    match checks::authorization::redirected_with_code(outcome, request) {
        Ok(()) => Ok(audience),
        Err(finding) => Err(format!(
            "refused with aud = the issuer and with aud = the authorization endpoint: {finding}"
        )),
    }
}

/// `the signed request object is addressed to "https://…"`
#[given(regex = r#"^the signed request object is addressed to "([^"]+)"$"#)]
fn authz_request_object_aud(world: &mut NvWorld, aud: String) {
    world
        .oidc
        .authz_mods
        .request_object
        .get_or_insert_with(RequestObject::default)
        .audience = RequestObjectAudience::Other(aud);
}

/// `the signed request object is valid for 600 seconds` (`exp − iat`)
#[given(regex = r"^the signed request object is valid for (\d+) seconds$")]
fn authz_request_object_lifetime(world: &mut NvWorld, secs: u64) {
    world
        .oidc
        .authz_mods
        .request_object
        .get_or_insert_with(RequestObject::default)
        .lifetime_secs = Some(secs);
}

/// `the signed request object is issued 120 seconds in the future` (`iat` after the receipt)
#[given(regex = r"^the signed request object is issued (\d+) seconds in the future$")]
fn authz_request_object_future(world: &mut NvWorld, secs: u64) {
    world
        .oidc
        .authz_mods
        .request_object
        .get_or_insert_with(RequestObject::default)
        .issued_in_future_secs = Some(secs);
}

/// `the signed request object expired a minute ago`
#[given(regex = r"^the signed request object expired a minute ago$")]
fn authz_request_object_expired(world: &mut NvWorld) {
    world
        .oidc
        .authz_mods
        .request_object
        .get_or_insert_with(RequestObject::default)
        .expired = true;
}

step! {
/// `the authorization request uses the PKCE method "plain"`
#[given(regex = r#"^the authorization request uses the PKCE method "plain"$"#)]
fn authz_pkce_plain(world: &mut NvWorld) -> StepResult {
    needs_pkce(world)?;
    world.oidc.authz_mods.pkce_plain = true;
    Ok(())
}
}

/// A PKCE check needs a profile (and dialect) that uses PKCE.
fn needs_pkce(world: &NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let profile = ctx.flow.profile();
    if profile.pkce {
        return Ok(());
    }
    Err(StepFailure::Skip(match &profile.dialect {
        Some(d) if !d.pkce => format!("dialect {} documents no PKCE", d.name),
        _ => "the profile does not use PKCE (authorization.pkce = false)".to_owned(),
    }))
}

/// A client-assertion check needs a main client that authenticates with private_key_jwt.
fn needs_assertion(world: &NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let method = ctx.flow.profile().client.auth_method;
    if method == ClientAuthMethod::PrivateKeyJwt {
        return Ok(());
    }
    Err(StepFailure::Skip(format!(
        "the client authenticates with {}, not with a private_key_jwt client assertion",
        method.as_str()
    )))
}

/// `the authorization request is made for the short-lived client` (or `the other client`)
#[given(regex = r"^the authorization request is made for the (other|short-lived) client$")]
fn authz_client(world: &mut NvWorld, which: String) {
    world.oidc.authz_mods.client = Some(role(&which));
}

fn role(which: &str) -> ClientRole {
    if which == "other" {
        ClientRole::Other
    } else {
        ClientRole::ShortLived
    }
}

step! {
/// `the device requests authorization for the operation "phoneNumberVerify"`, over the
/// network leg of the profile.
#[when(regex = r#"^the device requests authorization for the operation "([^"]+)"$"#)]
async fn authorize(world: &mut NvWorld, operation_id: String) -> StepResult {
    authorize_with(world, operation_id, None).await
}
}

step! {
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
}

async fn authorize_with(
    world: &mut NvWorld,
    operation_id: String,
    state_len: Option<usize>,
) -> StepResult {
    let ctx = world.ctx()?;
    let flow = &ctx.flow;
    if !flow.profile().flows.authorization_code {
        return Err(StepFailure::Skip(
            "the profile says the provider offers no authorization code flow".into(),
        ));
    }
    let op = ctx.spec.operation(&operation_id).ok_or_else(|| {
        fail(format!(
            "operation {operation_id:?} is not in {}",
            ctx.spec.origin()
        ))
    })?;
    let mods = std::mem::take(&mut world.oidc.authz_mods);
    let mut request = flow.authorize_request(&op.scopes, Login::Network);
    if let Some(role) = mods.client {
        request = flow.for_client(request, role)?;
    }
    if let Some(n) = state_len {
        request.state = random_state(n);
    }
    if let Some(uri) = &mods.redirect_uri {
        request.redirect_uri =
            url::Url::parse(uri).map_err(|e| fail(format!("redirect_uri {uri:?}: {e}")))?;
    }
    if mods.pkce_plain {
        request.pkce = Some(Pkce::plain());
    }
    request.extra.extend(mods.extra);
    request.request_object = mods.request_object;
    if mods.request_object_audience_fallback {
        let (request, outcome) = authorize_either_audience(flow, request).await?;
        // This scenario's answer settles the premise of the refusal checks, if none asked yet.
        let _ = ctx
            .request_object_accepted
            .set(request_object_verdict(&request, &outcome));
        world.oidc.authorization = Some((request, outcome));
        return Ok(());
    }
    let outcome = flow.authorize(&request).await?;
    world.oidc.authorization = Some((request, outcome));
    Ok(())
}

fn random_state(n: usize) -> String {
    // Unreserved characters only, so the value survives any correct URL encoding unchanged.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    (0..n)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn authorization(
    world: &NvWorld,
) -> Result<&(crate::flow::AuthorizeRequest, crate::flow::AuthorizeOutcome), StepFailure> {
    world
        .oidc
        .authorization
        .as_ref()
        .ok_or_else(|| fail("no authorization request was made in this scenario"))
}

step! {
/// `the provider redirects to the redirect_uri with a code and the state intact`
#[then(regex = r"^the provider redirects to the redirect_uri with a code and the state intact$")]
fn redirected_with_code(world: &mut NvWorld) -> StepResult {
    let (request, outcome) = authorization(world)?;
    Ok(checks::authorization::redirected_with_code(outcome, request)?)
}
}

step! {
/// `the provider does not redirect to the redirect_uri` (RFC 6749 §4.1.2.1 / CAMARA ICM: an
/// invalid or unregistered redirection URI MUST NOT be redirected to)
#[then(regex = r"^the provider does not redirect to that redirect_uri$")]
fn not_redirected(world: &mut NvWorld) -> StepResult {
    let (request, outcome) = authorization(world)?;
    Ok(checks::authorization::not_redirected(outcome, request)?)
}
}

step! {
/// `the provider refuses the authorization request` (an error redirect or an error page; no code)
#[then(regex = r"^the provider refuses the authorization request$")]
fn refused(world: &mut NvWorld) -> StepResult {
    let (_, outcome) = authorization(world)?;
    Ok(checks::authorization::refused(outcome)?)
}
}

// ----- token request ---------------------------------------------------------------------------

step! {
/// `the token request sends a code_verifier that does not match the challenge`
#[given(regex = r"^the token request sends a code_verifier that does not match the challenge$")]
fn token_wrong_verifier(world: &mut NvWorld) -> StepResult {
    needs_pkce(world)?;
    world.oidc.token_mods.verifier = VerifierChoice::Wrong;
    Ok(())
}
}

/// `the token request uses the redirect_uri "https://…"`
#[given(regex = r#"^the token request uses the redirect_uri "([^"]+)"$"#)]
fn token_redirect(world: &mut NvWorld, uri: String) {
    world.oidc.token_mods.redirect_uri = Some(uri);
}

/// `the token request authenticates as the other client`
#[given(regex = r"^the token request authenticates as the other client$")]
fn token_other_client(world: &mut NvWorld) {
    world.oidc.token_mods.client = Some(ClientRole::Other);
}

/// `the token request authenticates with client_secret_basic as the other client`
#[given(regex = r"^the token request authenticates with client_secret_basic as the other client$")]
fn token_other_client_secret(world: &mut NvWorld) {
    world.oidc.token_mods.client = Some(ClientRole::Other);
    world.oidc.token_mods.auth_method = Some(ClientAuthMethod::ClientSecretBasic);
}

step! {
/// `the client assertion expired 60 seconds ago`
#[given(regex = r"^the client assertion expired (\d+) seconds ago$")]
fn assertion_expired(world: &mut NvWorld, secs: u64) -> StepResult {
    needs_assertion(world)?;
    world.oidc.token_mods.assertion = AssertionTweak::ExpiredSecondsAgo(secs);
    Ok(())
}
}

step! {
/// `the client assertion is valid for 600 seconds`
#[given(regex = r"^the client assertion is valid for (\d+) seconds$")]
fn assertion_lifetime(world: &mut NvWorld, secs: u64) -> StepResult {
    needs_assertion(world)?;
    world.oidc.token_mods.assertion = AssertionTweak::LifetimeSecs(secs);
    Ok(())
}
}

step! {
/// `the client assertion is addressed to "https://…"`
#[given(regex = r#"^the client assertion is addressed to "([^"]+)"$"#)]
fn assertion_audience(world: &mut NvWorld, aud: String) -> StepResult {
    needs_assertion(world)?;
    world.oidc.token_mods.assertion = AssertionTweak::Audience(aud);
    Ok(())
}
}

/// `the token request carries a DPoP proof`
#[given(regex = r"^the token request carries a DPoP proof$")]
fn token_dpop(world: &mut NvWorld) {
    world.oidc.token_mods.dpop = true;
}

step! {
/// `the backend exchanges the code at the token endpoint`
#[when(regex = r"^the backend exchanges the code at the token endpoint$")]
async fn exchange_code(world: &mut NvWorld) -> StepResult {
    let options = std::mem::take(&mut world.oidc.token_mods);
    exchange(world, &options).await
}
}

step! {
/// `the backend exchanges the same code again`
#[when(regex = r"^the backend exchanges the same code again$")]
async fn exchange_again(world: &mut NvWorld) -> StepResult {
    exchange(world, &TokenOptions::default()).await
}
}

step! {
/// `the backend exchanges a new code with the same client assertion`
#[when(regex = r"^the backend exchanges a new code with the same client assertion$")]
async fn exchange_replayed_assertion(world: &mut NvWorld) -> StepResult {
    let assertion = world.oidc.last_assertion.clone().ok_or_else(|| {
        StepFailure::Skip(
            "the client authenticates without an assertion (not private_key_jwt)".into(),
        )
    })?;
    let (request, _) = authorization(world)?.clone();
    let ctx = world.ctx()?;
    let mut fresh = ctx.flow.authorize_request(&[], Login::Network);
    fresh.scope = request.scope.clone();
    let outcome = ctx.flow.authorize(&fresh).await?;
    world.oidc.authorization = Some((fresh, outcome));
    let options = TokenOptions {
        assertion: AssertionTweak::Reuse(assertion),
        ..TokenOptions::default()
    };
    exchange(world, &options).await
}
}

step! {
/// `the code's lifetime has passed` (the short-lived client's code lifetime, plus the profile's
/// `expiry_margin_ms`)
#[when(regex = r"^the code's lifetime has passed$")]
async fn code_lifetime_passed(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let short = ctx
        .flow
        .profile()
        .short_lived_client
        .clone()
        .ok_or_else(|| {
            StepFailure::Skip(
                "the profile declares no [short_lived_client] whose codes expire quickly".into(),
            )
        })?;
    tokio::time::sleep(std::time::Duration::from_millis(
        short.code_lifetime_secs * 1000 + short.expiry_margin_ms,
    ))
    .await;
    Ok(())
}
}

async fn exchange(world: &mut NvWorld, options: &TokenOptions) -> StepResult {
    let ctx = world.ctx()?;
    let (request, outcome) = authorization(world)?;
    let code = outcome
        .code_to_continue(request)
        .map_err(|e| fail(e.to_string()))?;
    let attempt = ctx.flow.request_token_with(&code, request, options).await?;
    let parsed = ctx
        .flow
        .parse_token_response(&attempt.exchange)
        .map_err(|e| e.to_string());
    world.oidc.last_assertion = attempt.assertion;
    world.oidc.token = Some((parsed, attempt.exchange));
    Ok(())
}

fn token_exchange(world: &NvWorld) -> Result<&crate::exchange::Exchange, StepFailure> {
    world
        .oidc
        .token
        .as_ref()
        .map(|(_, e)| e)
        .ok_or_else(|| fail("no token request was made in this scenario"))
}

fn token_response(world: &NvWorld) -> Result<&crate::flow::TokenResponse, StepFailure> {
    match &world.oidc.token {
        Some((Ok(t), _)) => Ok(t),
        Some((Err(e), _)) => Err(fail(e.clone())),
        None => Err(fail("no token request was made in this scenario")),
    }
}

step! {
/// `the token endpoint refuses the request with the error "invalid_grant"` (RFC 6749 §5.2)
#[then(regex = r#"^the token endpoint refuses the request with the error "([^"]+)"$"#)]
fn token_refused(world: &mut NvWorld, expected: String) -> StepResult {
    Ok(checks::token::refused_with(token_exchange(world)?, &expected)?)
}
}

step! {
/// `the token endpoint issues tokens` (DPoP-bound tokens count: an AS supporting DPoP may bind them)
#[then(regex = r"^the token endpoint issues tokens$")]
fn token_issued(world: &mut NvWorld) -> StepResult {
    Ok(checks::token::issued(token_exchange(world)?)?)
}
}

step! {
/// `the token response carries a Bearer access token` (RFC 6749 §5.1; RFC 6750)
#[then(regex = r"^the token response carries a Bearer access token$")]
fn bearer_token(world: &mut NvWorld) -> StepResult {
    token_response(world).map(|_| ())
}
}

step! {
/// `the token response is served as application/json` (RFC 6749 §5.1)
#[then(regex = r"^the token response is served as application/json$")]
fn token_served_as_json(world: &mut NvWorld) -> StepResult {
    Ok(checks::token::served_as_json(token_exchange(world)?)?)
}
}

step! {
/// `the token response forbids caching` (RFC 6749 §5.1: `Cache-Control: no-store`)
#[then(regex = r"^the token response forbids caching$")]
fn no_store(world: &mut NvWorld) -> StepResult {
    Ok(checks::token::no_store(token_exchange(world)?)?)
}
}

step! {
/// `the token response carries no refresh token`
#[then(regex = r"^the token response carries no refresh token$")]
fn no_refresh(world: &mut NvWorld) -> StepResult {
    Ok(checks::token::no_refresh_token(token_response(world)?)?)
}
}

step! {
/// `the token response expires_in is at most 300 seconds`
#[then(regex = r"^the token response expires_in is at most (\d+) seconds$")]
fn expires_at_most(world: &mut NvWorld, max: i64) -> StepResult {
    Ok(checks::token::expires_at_most(token_response(world)?, max)?)
}
}

step! {
/// `the id_token is signed by a key of the JWKS, names the issuer and the client, and carries the nonce`
#[then(
    regex = r"^the id_token is signed by a key of the JWKS, names the issuer and the client, and carries the nonce$"
)]
async fn id_token_valid(world: &mut NvWorld) -> StepResult {
    let ctx = world.ctx()?;
    let token = token_response(world)?.clone();
    let (request, _) = authorization(world)?;
    if let Some(d) = ctx.flow.profile().dialect.as_ref().filter(|d| !d.openid) {
        return Err(StepFailure::Skip(format!(
            "dialect {} is not OpenID Connect: no openid scope is asked, no id_token documented",
            d.name
        )));
    }
    let id_token = token.id_token.ok_or_else(|| {
        fail("token response: expected an id_token (scope has openid), found none")
    })?;
    let client_id = ctx.flow.client(request.client)?.client.client_id.clone();
    let issuer = ctx.flow.discovery().await?.issuer.clone();
    let jwks = ctx.flow.jwks().await?;
    Ok(checks::id_token::valid(
        &id_token,
        &jwks,
        &issuer,
        &client_id,
        &request.nonce,
    )?)
}
}

step! {
/// `the header "Authorization" is set to the access token from the token response`
#[given(
    regex = r#"^the header "Authorization" is set to the access token from the token response$"#
)]
fn auth_from_token_response(world: &mut NvWorld) -> StepResult {
    let token = token_response(world)?.access_token.clone();
    world.api.request.auth = crate::suite::world::AuthPlan::Literal(crate::secret::Secret::new(
        format!("Bearer {}", token.expose()),
    ));
    Ok(())
}
}
