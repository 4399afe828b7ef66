//! What CAMARA's own test definitions name, and what it stands for in the spec of the run and
//! the profile: the operation of a Feature line, the testing ASSETs of legacy definitions
//! (v1.0.0 … v2.0.0, e.g. `NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1`), the operation a legacy
//! `When the HTTPS "POST" request is sent` means, and which operation takes a request body.
//!
//! The steps read definitions through this at run time and the lint (`suite::lint`) reads them
//! through it beforehand, so both resolve a definition the same way.

use cucumber::gherkin::Feature;

use super::world::ImpliedSend;
use crate::spec::{Operation, SpecDocument};

// ---------------------------------------------------------------------------------------------
// Feature line
// ---------------------------------------------------------------------------------------------

/// The operation a Feature line names (`CAMARA Number Verification API, v2.1.0 - Operation
/// phoneNumberVerify` → `phoneNumberVerify`), as the API-Testing-Guidelines write it.
pub fn feature_operation(feature: &Feature) -> Option<String> {
    let (_, rest) = feature.name.rsplit_once("- Operation ")?;
    let id = rest.trim();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| id.to_owned())
}

/// The statuses a scenario's response checks expect (`the response status code is 400`, `… is
/// one of 404, 405`), in step order: a dialect that documents none of them lacks the
/// scenario's premise.
pub fn expected_statuses(scenario: &cucumber::gherkin::Scenario) -> Vec<u16> {
    let mut out = Vec::new();
    for step in &scenario.steps {
        let text = step.value.as_str();
        let list = text
            .strip_prefix("the response status code is one of ")
            .or_else(|| text.strip_prefix("the response status code is "));
        if let Some(list) = list {
            out.extend(
                list.split(',')
                    .filter_map(|n| n.trim().trim_matches('"').parse::<u16>().ok()),
            );
        }
    }
    out
}

/// The API version a Feature line names (`…, v2.1.0 - Operation …` → `2.1.0`, `vwip` → `wip`).
pub fn feature_version(feature: &Feature) -> Option<&str> {
    let head = feature
        .name
        .split_once(" - Operation")
        .map_or(feature.name.as_str(), |(h, _)| h);
    let (_, version) = head.rsplit_once(", v")?;
    let version = version.trim();
    (!version.is_empty() && !version.contains(' ')).then_some(version)
}

// ---------------------------------------------------------------------------------------------
// Testing assets (legacy definitions)
// ---------------------------------------------------------------------------------------------

/// Which profile line a testing asset stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// `lines.device`: the SIM in the device, which the network identifies.
    Device,
    /// `lines.other`: another valid number.
    Other,
}

/// The testing assets legacy CAMARA definitions declare, the line each stands for, and whether
/// it is the SHA-256 hash of that line's number.
pub const ASSETS: &[(&str, Line, bool)] = &[
    (
        "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1",
        Line::Device,
        false,
    ),
    ("NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER2", Line::Other, false),
    (
        "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER_HASHED1",
        Line::Device,
        true,
    ),
    (
        "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER_HASHED2",
        Line::Other,
        true,
    ),
    ("NUMBERVERIFY_SHARE_PHONENUMBER1", Line::Device, false),
    ("NUMBERVERIFY_SHARE_PHONENUMBER2", Line::Other, false),
];

/// An asset CAMARA uses without declaring it (v1.0.0 … v2.0.0 verify202, the expired-token
/// scenario, where the number does not matter): read as the device line; the lint reports it.
pub const UNDECLARED_DEVICE_ASSET: &str = "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER";

/// Whether the definitions declare testing asset `name`.
pub fn is_declared_asset(name: &str) -> bool {
    ASSETS.iter().any(|(n, _, _)| *n == name)
}

/// The line and hashing an asset name stands for; else why nvcert cannot tell.
pub fn asset(name: &str) -> Result<(Line, bool), String> {
    if name == UNDECLARED_DEVICE_ASSET {
        return Ok((Line::Device, false));
    }
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, line, hashed)| (*line, *hashed))
        .ok_or_else(|| {
            format!(
                "unknown testing asset {name}: nvcert maps {} to the profile's [lines]",
                ASSETS
                    .iter()
                    .map(|(n, _, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

// ---------------------------------------------------------------------------------------------
// Operations and their request bodies
// ---------------------------------------------------------------------------------------------

/// `~` and `/` escaped for a JSON pointer segment (RFC 6901).
pub fn pointer_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// The reference of `op`'s request body, e.g. `#/paths/~1verify/post/requestBody`.
pub fn request_body_ref(op: &Operation) -> String {
    format!(
        "#/paths/{}/{}/requestBody",
        pointer_segment(&op.path),
        op.method.as_str().to_ascii_lowercase()
    )
}

/// Whether `op` takes a JSON request body.
pub fn takes_body(spec: &SpecDocument, op: &Operation) -> bool {
    spec.resolved_schema(&request_body_ref(op)).is_ok()
}

/// The operation a legacy send means: `method` on the resource the scenario named (when the
/// resource is a path of the spec but not for `method`, the path's operation: legacy 204/205
/// send `"GET"` to `/verify`); without a resource, the Feature line's operation, else the only
/// operation with that method. The flag says whether `method` is the operation's.
pub fn resolve_legacy(
    spec: &SpecDocument,
    method: &http::Method,
    resource: Option<&str>,
    feature_operation: Option<&str>,
) -> Result<(Operation, bool), String> {
    if let Some(resource) = resource {
        if let Some(op) = spec.find_operation(method, resource) {
            return Ok((op.clone(), true));
        }
        return spec
            .operations()
            .find(|o| {
                spec.find_operation(&o.method, resource)
                    .is_some_and(|f| f.operation_id == o.operation_id)
            })
            .map(|op| (op.clone(), false))
            .ok_or_else(|| {
                format!(
                    "the resource {resource:?} is not a path of {}",
                    spec.origin()
                )
            });
    }
    if let Some(op) = feature_operation.and_then(|id| spec.operation(id)) {
        return Ok((op.clone(), op.method == *method));
    }
    let mut same = spec.operations().filter(|o| o.method == *method);
    match (same.next(), same.next()) {
        (Some(op), None) => Ok((op.clone(), true)),
        _ => Err(format!(
            "the scenario names no resource (`the resource is \"…\"`) and {} has no single {method} operation",
            spec.origin()
        )),
    }
}

/// [`resolve_legacy`] for the scenario's state.
pub fn legacy_operation(
    spec: &SpecDocument,
    method: &http::Method,
    implied: &ImpliedSend,
) -> Result<Operation, String> {
    resolve_legacy(
        spec,
        method,
        implied.resource.as_deref(),
        implied.feature_operation.as_deref(),
    )
    .map(|(op, _)| op)
}

/// The operation whose request body a body step describes: the Feature line's (or the legacy
/// resource's) when it takes a body, else the first operation that does.
pub fn body_operation(implied: &ImpliedSend, spec: &SpecDocument) -> Option<Operation> {
    let named = implied
        .feature_operation
        .as_deref()
        .and_then(|id| spec.operation(id))
        .or_else(|| {
            implied
                .resource
                .as_deref()
                .and_then(|r| spec.operations().find(|o| o.path == r))
        });
    named
        .filter(|op| takes_body(spec, op))
        .or_else(|| spec.operations().find(|op| takes_body(spec, op)))
        .cloned()
}

#[cfg(test)]
mod tests {
    use cucumber::gherkin::GherkinEnv;

    use super::*;

    fn spec(version: &str) -> SpecDocument {
        crate::spec::builtin(version).expect("built-in spec")
    }

    fn parse(text: &str) -> Feature {
        Feature::parse(text, GherkinEnv::default()).expect("parses")
    }

    #[test]
    fn feature_line_operation_and_version() {
        let f = parse(
            "Feature: CAMARA Number Verification API, v2.1.0 - Operation phoneNumberVerify\n  Scenario: x\n    Given y\n",
        );
        assert_eq!(feature_operation(&f).as_deref(), Some("phoneNumberVerify"));
        assert_eq!(feature_version(&f), Some("2.1.0"));
        let legacy =
            parse("Feature: Camara Number Verification API verify\n  Scenario: x\n    Given y\n");
        assert_eq!(feature_operation(&legacy), None);
        assert_eq!(feature_version(&legacy), None);
    }

    #[test]
    fn assets_map_to_profile_lines() {
        assert_eq!(
            asset("NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER2").ok(),
            Some((Line::Other, false))
        );
        assert_eq!(
            asset("NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER_HASHED1").ok(),
            Some((Line::Device, true))
        );
        assert_eq!(
            asset("NUMBERVERIFY_SHARE_PHONENUMBER1").ok(),
            Some((Line::Device, false))
        );
        assert_eq!(
            asset(UNDECLARED_DEVICE_ASSET).ok(),
            Some((Line::Device, false))
        );
        assert!(!is_declared_asset(UNDECLARED_DEVICE_ASSET));
        assert!(asset("NUMBERVERIFY_SOMETHING").is_err());
    }

    #[test]
    fn legacy_sends_resolve_to_spec_operations() {
        let s = spec("2.0.0");
        let post = http::Method::POST;
        let get = http::Method::GET;
        let id = |r: Result<(Operation, bool), String>| r.map(|(o, m)| (o.operation_id, m));
        assert_eq!(
            id(resolve_legacy(&s, &post, Some("/verify"), None)),
            Ok(("phoneNumberVerify".into(), true))
        );
        // Legacy 204/205 send GET to /verify: the path's operation, method flagged.
        assert_eq!(
            id(resolve_legacy(&s, &get, Some("/verify"), None)),
            Ok(("phoneNumberVerify".into(), false))
        );
        assert_eq!(
            id(resolve_legacy(&s, &get, Some("/device-phone-number"), None)),
            Ok(("phoneNumberShare".into(), true))
        );
        // verify0 names no resource: the only POST operation.
        assert_eq!(
            id(resolve_legacy(&s, &post, None, None)),
            Ok(("phoneNumberVerify".into(), true))
        );
        assert!(resolve_legacy(&s, &post, Some("/nowhere"), None).is_err());
    }

    #[test]
    fn request_body_refs() {
        let s = spec("2.1.0");
        let verify = s.operation("phoneNumberVerify").expect("verify");
        let share = s.operation("phoneNumberShare").expect("share");
        assert_eq!(
            request_body_ref(verify),
            "#/paths/~1verify/post/requestBody"
        );
        assert!(takes_body(&s, verify));
        assert!(!takes_body(&s, share));
    }
}
