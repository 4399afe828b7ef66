//! Dialects: how an operator's own published variant of CAMARA NV differs from CAMARA, as far as
//! driving it is concerned. A dialect is one OpenAPI document under `specs/dialects/` written from
//! the operator's page (the spec engine judges every answer against it, as it does CAMARA's) whose
//! `x-nvcert-dialect` member states the flow facts: endpoints without discovery, client
//! authentication, scope style, the bodies nvcert sends, the properties and values its answers
//! use where CAMARA's features expect CAMARA's.
//!
//! This module only reads those facts; the flows apply them (`flow`), the suite maps its steps
//! through them (`suite`). The reference provider reads the same document on its own side.

use serde::Deserialize;
use serde_json::Value;

use super::ClientAuthMethod;

/// One built-in dialect: its name and its document.
struct Builtin {
    name: &'static str,
    origin: &'static str,
    text: &'static str,
}

/// The dialects nvcert knows; adding one is a document under `specs/dialects/` and a line here.
const BUILTIN: &[Builtin] = &[Builtin {
    name: "orange-es-v0",
    origin: "specs/dialects/orange-es-v0.yaml",
    text: include_str!("../../specs/dialects/orange-es-v0.yaml"),
}];

/// The names of the built-in dialects.
pub fn dialect_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|b| b.name).collect()
}

/// How the purpose travels in a dialect's authorization request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DialectPurpose {
    /// As CAMARA ICM (the profile's `purpose_style`).
    Profile,
    /// The scope names themselves carry it (`dpv:Purpose#scope`): only those are sent.
    InScopeNames,
}

/// A CAMARA request-body property and the object the dialect expects instead.
#[derive(Debug, Clone, Deserialize)]
pub struct BodyMapping {
    /// The CAMARA property (`phoneNumber`, `hashedPhoneNumber`).
    pub camara: String,
    /// The body sent instead; the string `{value}` stands for the property's value.
    pub send: serde_json::Map<String, Value>,
}

/// Where the dialect answers what CAMARA puts at `camara`.
#[derive(Debug, Clone, Deserialize)]
pub struct PropertyMapping {
    /// JSONPath of the CAMARA property (`$.devicePhoneNumber`).
    pub camara: String,
    /// JSONPath of the dialect's (`$.devicePhoneNumber.phoneNumber`).
    pub dialect: String,
}

/// A value the dialect documents where CAMARA documents another.
#[derive(Debug, Clone, Deserialize)]
pub struct EquivalentValue {
    /// JSONPath of the property (`$.code`).
    pub property: String,
    /// CAMARA's value, as the features write it.
    pub camara: Value,
    /// The dialect's value; the string `absent` means the dialect's answer has no such property.
    pub dialect: Value,
}

impl EquivalentValue {
    /// Whether the dialect's answer leaves the property out.
    pub fn dialect_absent(&self) -> bool {
        self.dialect == Value::String("absent".to_owned())
    }
}

/// The flow facts of a dialect (`x-nvcert-dialect` of its document).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawFacts {
    name: String,
    descends_from: String,
    discovery: bool,
    authorization_path: Option<String>,
    token_path: Option<String>,
    client_auth: Option<String>,
    openid: bool,
    pkce: bool,
    purpose: DialectPurpose,
    #[serde(default)]
    request_bodies: std::collections::BTreeMap<String, Vec<BodyMapping>>,
    #[serde(default)]
    response_properties: Vec<PropertyMapping>,
    #[serde(default)]
    equivalent_values: Vec<EquivalentValue>,
}

/// A dialect: its document and its flow facts.
#[derive(Debug, Clone)]
pub struct Dialect {
    /// Its name (`orange-es-v0`).
    pub name: String,
    /// Where its document lives, as messages name it.
    pub origin: String,
    /// The OpenAPI document (YAML).
    pub document: String,
    /// The CAMARA NV version it descends from (`0.3.1`): the default of `--compare-with` and the
    /// version `@since`/`@until` tags are read against.
    pub descends_from: String,
    /// Whether the provider publishes an OIDC discovery document.
    pub discovery: bool,
    /// Authorization endpoint path under the API root, when there is no discovery.
    pub authorization_path: Option<String>,
    /// Token endpoint path under the API root, when there is no discovery.
    pub token_path: Option<String>,
    /// The client authentication the provider documents, when it names one.
    pub client_auth: Option<ClientAuthMethod>,
    /// Whether the flow is OpenID Connect (`openid` scope, id_token).
    pub openid: bool,
    /// Whether the provider documents PKCE.
    pub pkce: bool,
    /// How the purpose travels.
    pub purpose: DialectPurpose,
    /// Per operationId, the CAMARA body properties and what is sent instead.
    pub request_bodies: std::collections::BTreeMap<String, Vec<BodyMapping>>,
    /// Answer properties at other places.
    pub response_properties: Vec<PropertyMapping>,
    /// Values documented differently.
    pub equivalent_values: Vec<EquivalentValue>,
}

/// A dialect's facts could not be read.
#[derive(Debug, thiserror::Error)]
#[error("dialect document {origin}: `x-nvcert-dialect`: {reason}")]
pub struct DialectError {
    origin: String,
    reason: String,
}

impl Dialect {
    /// The built-in dialect `name`, or `None` when nvcert has no such dialect.
    pub fn builtin(name: &str) -> Option<Result<Self, DialectError>> {
        BUILTIN
            .iter()
            .find(|b| b.name == name)
            .map(|b| Self::from_yaml(b.text, b.origin))
    }

    /// Reads the facts of a dialect document (YAML text; `origin` names it in errors).
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, DialectError> {
        let error = |reason: String| DialectError {
            origin: origin.to_owned(),
            reason,
        };
        let document: Value =
            serde_norway::from_str(text).map_err(|e| error(format!("not YAML: {e}")))?;
        let facts = document
            .get("x-nvcert-dialect")
            .cloned()
            .ok_or_else(|| error("member missing".to_owned()))?;
        let raw: RawFacts = serde_json::from_value(facts).map_err(|e| error(e.to_string()))?;
        let client_auth = match raw.client_auth.as_deref() {
            None => None,
            Some("private_key_jwt") => Some(ClientAuthMethod::PrivateKeyJwt),
            Some("client_secret_basic") => Some(ClientAuthMethod::ClientSecretBasic),
            Some("client_secret_post") => Some(ClientAuthMethod::ClientSecretPost),
            Some(other) => {
                return Err(error(format!(
                    "client-auth: expected private_key_jwt, client_secret_basic or \
                     client_secret_post, found {other:?}"
                )));
            }
        };
        if !raw.discovery && (raw.authorization_path.is_none() || raw.token_path.is_none()) {
            return Err(error(
                "without discovery, expected authorization-path and token-path".to_owned(),
            ));
        }
        Ok(Self {
            name: raw.name,
            origin: origin.to_owned(),
            document: text.to_owned(),
            descends_from: raw.descends_from,
            discovery: raw.discovery,
            authorization_path: raw.authorization_path,
            token_path: raw.token_path,
            client_auth,
            openid: raw.openid,
            pkce: raw.pkce,
            purpose: raw.purpose,
            request_bodies: raw.request_bodies,
            response_properties: raw.response_properties,
            equivalent_values: raw.equivalent_values,
        })
    }

    /// The body the dialect expects for a CAMARA body of `operation_id`: a JSON object with
    /// exactly one mapped property becomes the mapped object; anything else (the negative
    /// inputs) goes as it is.
    pub fn map_request_body(&self, operation_id: &str, body: &Value) -> Value {
        let Some(mappings) = self.request_bodies.get(operation_id) else {
            return body.clone();
        };
        let Some(object) = body.as_object().filter(|o| o.len() == 1) else {
            return body.clone();
        };
        let Some((key, value)) = object.iter().next() else {
            return body.clone();
        };
        let Some(mapping) = mappings.iter().find(|m| &m.camara == key) else {
            return body.clone();
        };
        let sent = mapping
            .send
            .iter()
            .map(|(k, v)| {
                let v = if v == "{value}" {
                    value.clone()
                } else {
                    v.clone()
                };
                (k.clone(), v)
            })
            .collect();
        Value::Object(sent)
    }

    /// The dialect's JSONPath for the CAMARA property `path` (the same when not mapped).
    pub fn response_path<'a>(&'a self, path: &'a str) -> &'a str {
        self.response_properties
            .iter()
            .find(|m| m.camara == path)
            .map_or(path, |m| m.dialect.as_str())
    }

    /// The values the dialect documents for `property` where CAMARA documents `camara`.
    pub fn equivalents<'a>(
        &'a self,
        property: &'a str,
        camara: &'a Value,
    ) -> impl Iterator<Item = &'a EquivalentValue> + 'a {
        self.equivalent_values
            .iter()
            .filter(move |e| e.property == property && &e.camara == camara)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn orange() -> Dialect {
        Dialect::builtin("orange-es-v0")
            .expect("built in")
            .expect("facts read")
    }

    #[test]
    fn orange_facts_are_read_from_its_document() {
        let d = orange();
        assert_eq!(d.name, "orange-es-v0");
        assert_eq!(d.descends_from, "0.3.1");
        assert!(!d.discovery && !d.openid && !d.pkce);
        assert_eq!(d.token_path.as_deref(), Some("/es/openapi/oauth/v2/token"));
        assert_eq!(d.client_auth, Some(ClientAuthMethod::ClientSecretBasic));
        assert_eq!(d.purpose, DialectPurpose::InScopeNames);
        assert!(Dialect::builtin("acme").is_none());
        assert_eq!(dialect_names(), ["orange-es-v0"]);
    }

    #[test]
    fn bodies_map_one_known_property_and_leave_the_rest() {
        let d = orange();
        assert_eq!(
            d.map_request_body("phoneNumberVerify", &json!({"phoneNumber": "+34600000001"})),
            json!({"phoneNumberType": "RegularPhoneNumber", "phoneNumber": "+34600000001"})
        );
        assert_eq!(
            d.map_request_body("phoneNumberVerify", &json!({"hashedPhoneNumber": "ab"})),
            json!({"phoneNumberType": "HashedPhoneNumber", "phoneNumber": "ab"})
        );
        for unchanged in [
            json!({}),
            json!({"phoneNumber": "+1", "hashedPhoneNumber": "ab"}),
            json!({"other": 1}),
            json!("text"),
        ] {
            assert_eq!(
                d.map_request_body("phoneNumberVerify", &unchanged),
                unchanged
            );
        }
        assert_eq!(
            d.response_path("$.devicePhoneNumber"),
            "$.devicePhoneNumber.phoneNumber"
        );
        assert_eq!(d.response_path("$.code"), "$.code");
        let camara = json!("UNAUTHENTICATED");
        let found: Vec<_> = d.equivalents("$.code", &camara).collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].dialect, json!("UNAUTHORIZED"));
        let status = json!(401);
        assert!(
            d.equivalents("$.status", &status)
                .all(EquivalentValue::dialect_absent)
        );
    }

    #[test]
    fn broken_facts_name_the_document() {
        let e = Dialect::from_yaml("openapi: 3.0.3\n", "x.yaml").unwrap_err();
        assert!(e.to_string().contains("x.yaml") && e.to_string().contains("missing"));
        let text = "x-nvcert-dialect:\n  name: a\n  descends-from: 0.3.1\n  discovery: false\n  openid: false\n  pkce: false\n  purpose: profile\n";
        let e = Dialect::from_yaml(text, "y.yaml").unwrap_err().to_string();
        assert!(e.contains("token-path"), "{e}");
    }
}
