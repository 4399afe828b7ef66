//! Which access token the request carries. Tokens come from real flows when the request is sent.

use cucumber::{given, when};

use super::send::still_setting_up;
use crate::suite::lint::StepLint;
use crate::suite::world::{AuthPlan, NvWorld, StepFailure, StepResult};

/// `the header "Authorization" is set to a valid access token`
#[given(regex = r#"^the header "Authorization" is set to a valid access token$"#)]
fn valid(world: &mut NvWorld) {
    world.api.request.auth = AuthPlan::Valid;
}

/// `the header "Authorization" is set to an invalid access token`
#[given(regex = r#"^the header "Authorization" is set to an invalid access token$"#)]
fn invalid(world: &mut NvWorld) {
    world.api.request.auth = AuthPlan::Invalid;
}

/// `the header "Authorization" is set to an access token without the required scope`
#[given(
    regex = r#"^the header "Authorization" is set to an access token without the required scope$"#
)]
fn without_scope(world: &mut NvWorld) {
    world.api.request.auth = AuthPlan::WithoutRequiredScope;
}

/// `the header "Authorization" is set to a token for which neither Network-based nor SIM-based authentication was used`
#[given(
    regex = r#"^the header "Authorization" is set to a token for which neither Network-based nor SIM-based authentication was used$"#
)]
fn non_network(world: &mut NvWorld) {
    world.api.request.auth = AuthPlan::NonNetwork;
}

/// `the header "Authorization" is removed`
#[given(regex = r#"^the header "Authorization" is removed$"#)]
fn removed(world: &mut NvWorld) {
    world.api.request.auth = AuthPlan::Removed;
}

/// `the header "Authorization" is set to an expired access token` (a real token of the
/// profile's short-lived client, once its lifetime has passed)
#[given(regex = r#"^the header "Authorization" is set to an expired access token$"#)]
fn expired(world: &mut NvWorld) {
    world.api.request.auth = AuthPlan::Expired;
}

step! {
/// `the token has been obtained by a supported authentication method`: true of the valid
/// token, which comes from network-based authentication (or the profile's token source, which
/// the profile vouches for).
#[given(regex = r"^the token has been obtained by a supported authentication method$")]
fn token_from_supported_method(world: &mut NvWorld) -> StepResult {
    match world.api.request.auth {
        AuthPlan::Valid => Ok(()),
        _ => Err(StepFailure::Skip(
            "an earlier step set the Authorization header to something other than a valid \
             access token, which contradicts this step"
                .into(),
        )),
    }
}
}

/// `the header "Authorization" is set to a valid access token which does not identify a single
/// phone number`: unsatisfiable for NV (a 3-legged NV token always identifies one line; CAMARA
/// PR #255 drops the line from C02.01). Read as a valid access token; the lint reports it.
#[given(
    regex = r#"^the header "Authorization" is set to a valid access token which does not identify a single phone number$"#
)]
fn valid_token_no_single_number(world: &mut NvWorld) {
    world.api.request.auth = AuthPlan::Valid;
}

/// `unsatisfiable-token`: [`valid_token_no_single_number`] (any phrasing ending alike).
pub(in crate::suite) fn lint_token_no_single_number(l: &mut StepLint<'_>) {
    if l.text
        .ends_with("which does not identify a single phone number")
    {
        l.report(
            "unsatisfiable-token",
            "an NV access token always identifies one line, so a valid one that does not \
             identify a single phone number cannot exist (CAMARA PR #255 removes this step); \
             read as a valid access token"
                .to_owned(),
        );
    }
}

fn known_scope(world: &NvWorld, scope: &str) -> StepResult {
    let ctx = world.ctx()?;
    if ctx.flow.api().all_scopes().iter().any(|s| s == scope) {
        Ok(())
    } else {
        Err(StepFailure::Skip(format!(
            "scope {scope} is not a scope of {}",
            ctx.spec.origin()
        )))
    }
}

step! {
/// `one of the scopes associated with the access token is number-verification:verify`: the
/// valid token carries every NV scope of the spec.
#[given(regex = r"^one of the scopes associated with the access token is (\S+)$")]
fn scope_included(world: &mut NvWorld, scope: String) -> StepResult {
    known_scope(world, &scope)
}
}

step! {
/// `none of the scopes associated with the access token is number-verification:verify`: a real
/// token without the operation's scope.
#[given(regex = r"^none of the scopes associated with the access token is (\S+)$")]
fn scope_excluded(world: &mut NvWorld, scope: String) -> StepResult {
    known_scope(world, &scope)?;
    world.api.request.auth = AuthPlan::WithoutRequiredScope;
    Ok(())
}
}

/// `scope-operation`: [`scope_included`] or [`scope_excluded`] naming a scope that is not the
/// operation's.
pub(in crate::suite) fn lint_scope_operation(l: &mut StepLint<'_>) {
    let Some(op) = l.operation else { return };
    let id = &op.operation_id;
    for (prefix, excluded) in [
        (
            "one of the scopes associated with the access token is ",
            false,
        ),
        (
            "none of the scopes associated with the access token is ",
            true,
        ),
    ] {
        let Some(scope) = l.text.strip_prefix(prefix).map(str::trim) else {
            continue;
        };
        if op.scopes.iter().any(|s| s == scope) {
            continue;
        }
        let how = if excluded {
            format!(
                "a token without it tests nothing; nvcert uses a token without {id}'s own scope \
                 ({})",
                op.scopes.join(" ")
            )
        } else {
            "the valid token carries every NV scope anyway".to_owned()
        };
        let message = format!("scope {scope} is not a scope of {id}; {how}");
        l.report("scope-operation", message);
    }
}

step! {
/// `the access token has expired`: a real token of the profile's short-lived client, once its
/// lifetime has passed.
#[given(regex = r"^the access token has expired$")]
#[when(regex = r"^the access token has expired$")]
fn token_expired(world: &mut NvWorld) -> StepResult {
    still_setting_up(world, "the access token")?;
    world.api.request.auth = AuthPlan::Expired;
    Ok(())
}
}

step! {
/// `the access token is not associated with a phone number` (v1.0.0 INVALID_TOKEN_CONTEXT
/// scenarios): a 3-legged NV token always identifies a line, so no flow yields one.
#[given(regex = r"^the access token is not associated with a phone number$")]
#[when(regex = r"^the access token is not associated with a phone number$")]
fn token_without_number(_world: &mut NvWorld) -> StepResult {
    Err(StepFailure::Skip(
        "an NV access token always identifies a line (3-legged, network-authenticated), so \
         none of the provider's flows yields one that is not associated with a phone number \
         (CAMARA removed this scenario with INVALID_TOKEN_CONTEXT in v1.1.0-rc.1)"
            .into(),
    ))
}
}

/// `unsatisfiable-token`: [`token_without_number`].
pub(in crate::suite) fn lint_token_without_number(l: &mut StepLint<'_>) {
    if l.text == "the access token is not associated with a phone number" {
        l.report(
            "unsatisfiable-token",
            "an NV access token always identifies a line, so no flow yields one that is not \
             associated with a phone number; the scenario is skipped"
                .to_owned(),
        );
    }
}

step! {
/// `the information, e.g. authentication method reference, associated with the access token
/// indicates that network authentication was NOT used` (v2.0.0: `… that neither Network-based
/// nor SIM-based authentication was used`): a real token from the provider's non-network login.
#[given(
    regex = r"^the information, e\.g\. authentication method reference, associated with the access token indicates that (?:network authentication was NOT used|neither Network-based nor SIM-based authentication was used)$"
)]
#[when(
    regex = r"^the information, e\.g\. authentication method reference, associated with the access token indicates that (?:network authentication was NOT used|neither Network-based nor SIM-based authentication was used)$"
)]
fn token_not_network(world: &mut NvWorld) -> StepResult {
    still_setting_up(world, "the access token")?;
    world.api.request.auth = AuthPlan::NonNetwork;
    Ok(())
}
}
