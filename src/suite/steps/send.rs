//! Sending an NV request: every exchange goes through the spec engine, and any violation fails
//! the step with the rule and spec location.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cucumber::when;
use serde_json::json;

use crate::flow::{Login, random_token};
use crate::secret::Secret;
use crate::suite::world::{AuthPlan, BodyPlan, NvWorld, StepFailure, StepResult, fail};

/// `the request "phoneNumberVerify" is sent` (operationId from the spec).
#[when(regex = r#"^the request "([^"]+)" is sent$"#)]
async fn send(world: &mut NvWorld, operation_id: String) -> StepResult {
    let ctx = world.ctx()?;
    let op = ctx
        .spec
        .operation(&operation_id)
        .ok_or_else(|| {
            fail(format!(
                "operation {operation_id:?} is not in {}",
                ctx.spec.origin()
            ))
        })?
        .clone();
    let base = world
        .request
        .base_path
        .clone()
        .unwrap_or_else(|| ctx.spec.base_path().to_owned());
    let url = ctx.api_url(&base, &op.path).map_err(fail)?;
    let flow = &ctx.flow;

    let token = match &world.request.auth {
        AuthPlan::Removed => None,
        AuthPlan::Literal(value) => Some(value.clone()),
        AuthPlan::Invalid => Some(forged_token()),
        AuthPlan::Valid => Some(
            flow.obtain_token(&ctx.all_nv_scopes(), Login::Network)
                .await?
                .access_token,
        ),
        AuthPlan::WithoutRequiredScope => {
            let others: Vec<String> = ctx
                .all_nv_scopes()
                .into_iter()
                .filter(|s| !op.scopes.contains(s))
                .collect();
            if others.is_empty() {
                return Err(StepFailure::Skip(format!(
                    "the spec names no scope other than {:?} to request",
                    op.scopes
                )));
            }
            Some(
                flow.obtain_token(&others, Login::Network)
                    .await?
                    .access_token,
            )
        }
        AuthPlan::NonNetwork => Some(
            flow.obtain_token(&op.scopes, Login::NonNetwork)
                .await?
                .access_token,
        ),
    };

    let mut builder = flow.backend().request(op.method.clone(), url);
    let mut has_content_type = false;
    for (name, value) in &world.request.headers {
        has_content_type |= name.eq_ignore_ascii_case("content-type");
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(token) = &token {
        let value = if matches!(world.request.auth, AuthPlan::Literal(_)) {
            token.expose().to_owned()
        } else {
            format!("Bearer {}", token.expose())
        };
        builder = builder.header("authorization", value);
    }
    let body = match &world.request.body {
        BodyPlan::Default if op.request_body_required => {
            Some(json!({ "phoneNumber": flow.profile().lines.device }).to_string())
        }
        BodyPlan::Default | BodyPlan::Absent => None,
        BodyPlan::Json(v) => Some(v.to_string()),
        BodyPlan::Raw(t) => Some(t.clone()),
    };
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
    world.sent_token = token;
    ctx.observe(&operation_id, exchange.response.status.as_u16());
    let violations = ctx.spec.validate(&operation_id, &exchange);
    world.last = Some((operation_id.clone(), exchange));
    if violations.is_empty() {
        Ok(())
    } else {
        let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
        Err(fail(format!(
            "{operation_id}: the response breaks the spec:\n{}",
            lines.join("\n")
        )))
    }
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
