//! The NV API as nvcert calls it, built once per run from the profile's `api_root` and the spec
//! the provider is judged by: per operation its method, URL, scopes and default body. The suite
//! and the load tester both send from here, so a request is built one way only.

use bytes::Bytes;
use http::Method;
use serde_json::json;

use super::FlowError;
use crate::profile::Profile;
use crate::spec::SpecDocument;

/// One NV operation, ready to send.
#[derive(Debug, Clone)]
pub struct ApiOperation {
    /// `operationId` in the spec.
    pub operation_id: String,
    /// The operation's HTTP method.
    pub method: Method,
    /// Absolute URL: API root, base path, operation path.
    pub url: url::Url,
    /// The scopes a token needs for it, in document order.
    pub scopes: Vec<String>,
    /// A valid body for the device's own line when the operation requires a body
    /// (`{"phoneNumber": "+…"}` for `POST /verify`). `Bytes`, so the load tester's hot path
    /// shares it without copying.
    pub default_body: Option<Bytes>,
}

/// The NV operations of one provider.
#[derive(Debug, Clone)]
pub struct Api {
    base_url: url::Url,
    operations: Vec<ApiOperation>,
    all_scopes: Vec<String>,
}

impl Api {
    /// The operations of `spec` at `profile`'s API root. The spec's base path is appended to the
    /// root unless the root already ends with it (`https://api.example/number-verification/v2`).
    pub fn new(profile: &Profile, spec: &SpecDocument) -> Result<Self, FlowError> {
        let root = profile.api_root.as_str().trim_end_matches('/');
        let base_path = spec.base_path().trim_end_matches('/');
        let base_text = if profile
            .api_root
            .path()
            .trim_end_matches('/')
            .ends_with(base_path)
        {
            root.to_owned()
        } else {
            format!("{root}{base_path}")
        };
        let parse = |text: &str| {
            url::Url::parse(text).map_err(|e| {
                FlowError::Config(format!(
                    "profile {}: field `api_root`: cannot build the API URL {text:?}: {e}",
                    profile.origin
                ))
            })
        };
        let base_url = parse(&base_text)?;
        let device_body = json!({ "phoneNumber": profile.lines.device });
        let operations = spec
            .operations()
            .map(|op| {
                Ok(ApiOperation {
                    operation_id: op.operation_id.clone(),
                    method: op.method.clone(),
                    url: parse(&format!("{base_text}{}", op.path))?,
                    scopes: op.scopes.clone(),
                    default_body: op.request_body_required.then(|| {
                        // A dialect expects its own body where CAMARA sends this one.
                        let body = match &profile.dialect {
                            Some(d) => d.map_request_body(&op.operation_id, &device_body),
                            None => device_body.clone(),
                        };
                        Bytes::from(body.to_string())
                    }),
                })
            })
            .collect::<Result<Vec<_>, FlowError>>()?;
        let mut all_scopes: Vec<String> = operations
            .iter()
            .flat_map(|o| o.scopes.iter().cloned())
            .collect();
        all_scopes.sort();
        all_scopes.dedup();
        Ok(Self {
            base_url,
            operations,
            all_scopes,
        })
    }

    /// API root and base path, e.g. `https://api.example/number-verification/v2`.
    pub fn base_url(&self) -> &url::Url {
        &self.base_url
    }

    /// The operation `operation_id`, if the spec has it.
    pub fn operation(&self, operation_id: &str) -> Option<&ApiOperation> {
        self.operations
            .iter()
            .find(|o| o.operation_id == operation_id)
    }

    /// Every NV scope of the spec, sorted (what "a valid access token" is asked for).
    pub fn all_scopes(&self) -> &[String] {
        &self.all_scopes
    }

    /// The scopes `operation_ids` need, in the order given, without duplicates; the first
    /// unknown operation is the error.
    pub fn scopes_for<'a>(&self, operation_ids: &[&'a str]) -> Result<Vec<String>, &'a str> {
        let mut scopes: Vec<String> = Vec::new();
        for &id in operation_ids {
            for s in &self.operation(id).ok_or(id)?.scopes {
                if !scopes.contains(s) {
                    scopes.push(s.clone());
                }
            }
        }
        Ok(scopes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(api_root: &str) -> Profile {
        let mut p = Profile::embedded_reference(&"http://127.0.0.1:9".parse().unwrap()).unwrap();
        p.api_root = api_root.parse().unwrap();
        p
    }

    #[test]
    fn the_base_path_is_appended_once() {
        let spec = crate::spec::builtin("2.1.0").unwrap();
        for (root, verify) in [
            ("http://h:1", "http://h:1/number-verification/v2/verify"),
            (
                "http://h:1/gw/",
                "http://h:1/gw/number-verification/v2/verify",
            ),
            (
                "http://h:1/gw/number-verification/v2",
                "http://h:1/gw/number-verification/v2/verify",
            ),
            (
                "http://h:1/number-verification/v2/",
                "http://h:1/number-verification/v2/verify",
            ),
        ] {
            let api = Api::new(&profile(root), &spec).unwrap();
            let op = api.operation("phoneNumberVerify").unwrap();
            assert_eq!(op.url.as_str(), verify, "{root}");
            assert_eq!(op.method, Method::POST);
        }
    }

    #[test]
    fn operations_carry_scopes_and_default_bodies() {
        let spec = crate::spec::builtin("2.1.0").unwrap();
        let api = Api::new(&profile("http://h:1"), &spec).unwrap();
        let verify = api.operation("phoneNumberVerify").unwrap();
        assert_eq!(verify.scopes, ["number-verification:verify"]);
        assert_eq!(
            verify.default_body.as_deref(),
            Some(&br#"{"phoneNumber":"+34600000001"}"#[..])
        );
        let share = api.operation("phoneNumberShare").unwrap();
        assert!(share.default_body.is_none());
        assert_eq!(
            api.all_scopes(),
            [
                "number-verification:device-phone-number:read",
                "number-verification:verify"
            ]
        );
        assert_eq!(
            api.scopes_for(&["phoneNumberShare", "phoneNumberVerify"]),
            Ok(vec![
                "number-verification:device-phone-number:read".to_owned(),
                "number-verification:verify".to_owned()
            ])
        );
        assert_eq!(api.scopes_for(&["nope"]), Err("nope"));
        assert_eq!(api.base_url().as_str(), "http://h:1/number-verification/v2");
    }
}
