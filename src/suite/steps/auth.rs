//! Which access token the request carries. Tokens come from real flows when the request is sent.

use cucumber::given;

use crate::suite::world::{AuthPlan, NvWorld};

/// `the header "Authorization" is set to a valid access token`
#[given(regex = r#"^the header "Authorization" is set to a valid access token$"#)]
fn valid(world: &mut NvWorld) {
    world.request.auth = AuthPlan::Valid;
}

/// `the header "Authorization" is set to an invalid access token`
#[given(regex = r#"^the header "Authorization" is set to an invalid access token$"#)]
fn invalid(world: &mut NvWorld) {
    world.request.auth = AuthPlan::Invalid;
}

/// `the header "Authorization" is set to an access token without the required scope`
#[given(
    regex = r#"^the header "Authorization" is set to an access token without the required scope$"#
)]
fn without_scope(world: &mut NvWorld) {
    world.request.auth = AuthPlan::WithoutRequiredScope;
}

/// `the header "Authorization" is set to a token for which neither Network-based nor SIM-based authentication was used`
#[given(
    regex = r#"^the header "Authorization" is set to a token for which neither Network-based nor SIM-based authentication was used$"#
)]
fn non_network(world: &mut NvWorld) {
    world.request.auth = AuthPlan::NonNetwork;
}

/// `the header "Authorization" is removed`
#[given(regex = r#"^the header "Authorization" is removed$"#)]
fn removed(world: &mut NvWorld) {
    world.request.auth = AuthPlan::Removed;
}

/// `the header "Authorization" is set to an expired access token` (a real token of the
/// profile's short-lived client, once its lifetime has passed)
#[given(regex = r#"^the header "Authorization" is set to an expired access token$"#)]
fn expired(world: &mut NvWorld) {
    world.request.auth = AuthPlan::Expired;
}
