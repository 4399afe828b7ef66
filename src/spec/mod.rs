//! OpenAPI engine: the only judge of "does this exchange match the spec".
//!
//! It owns loading an OpenAPI 3.0 document (YAML or JSON), checking its structure, resolving its
//! local `$ref`s, translating its schema dialect to JSON Schema, compiling every response schema
//! once at load time, and judging recorded [`Exchange`]s against it ([`SpecDocument::validate`]).
//! It also embeds nvcert's own copies of the NV definitions ([`builtin`]).
//!
//! What it must not do: hold CAMARA facts of its own. Status codes, error codes, patterns and
//! enums come from the loaded document only, never from Rust constants, so a spec change is a
//! YAML change. It performs no I/O besides [`SpecDocument::load`] reading one file, no network
//! access (remote `$ref`s are refused), and never panics on a bad document or a bad exchange:
//! a broken document is a [`SpecError`], a non-conformant exchange is a list of [`Violation`]s.

mod dialect;
mod error;
mod resolve;
mod rules;
mod select;
mod violation;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use http::Method;
use serde_json::Value;

use crate::exchange::Exchange;
pub use error::SpecError;
use resolve::{Resolver, join, location_of, tokens};
pub use select::{SelectError, select, version_cmp};
pub use violation::{Rule, Violation};

/// One [`BUILTIN`] entry: `info.version` and the file (relative to the crate root) it lives in.
macro_rules! builtin {
    ($version:literal, $file:literal) => {
        Builtin {
            version: $version,
            origin: concat!("specs/number-verification/", $file),
            text: include_str!(concat!("../../specs/number-verification/", $file)),
        }
    };
}

/// nvcert's own NV definitions, embedded in the binary, oldest first (release candidates before
/// their release, the unreleased `wip` of CAMARA's main branch last). Adding a version is one
/// line here (plus its file under `specs/number-verification/`); [`builtin_versions`] keeps
/// this order.
const BUILTIN: &[Builtin] = &[
    builtin!("0.3.1", "v0.3.1.yaml"),
    builtin!("1.0.0-rc.1", "v1.0.0-rc.1.yaml"),
    builtin!("1.0.0", "v1.0.0.yaml"),
    builtin!("1.1.0-rc.1", "v1.1.0-rc.1.yaml"),
    builtin!("1.1.0-rc.2", "v1.1.0-rc.2.yaml"),
    builtin!("1.1.0", "v1.1.0.yaml"),
    builtin!("2.0.0", "v2.0.0.yaml"),
    builtin!("2.1.0-rc.1", "v2.1.0-rc.1.yaml"),
    builtin!("2.1.0", "v2.1.0.yaml"),
    builtin!("wip", "wip.yaml"),
];

/// One embedded document.
struct Builtin {
    version: &'static str,
    origin: &'static str,
    text: &'static str,
}

/// The versions of [`BUILTIN`], computed at compile time so the table stays the only list.
const BUILTIN_VERSIONS: [&str; BUILTIN.len()] = {
    let mut out = [""; BUILTIN.len()];
    let mut i = 0;
    while i < BUILTIN.len() {
        out[i] = BUILTIN[i].version;
        i += 1;
    }
    out
};

/// nvcert's own embedded NV document for `version` (`info.version`, e.g. `"2.1.0"`), or `None`
/// when no such version is embedded. The embedded documents are checked to load by the test
/// suite, so `None` only ever means "not embedded".
pub fn builtin(version: &str) -> Option<SpecDocument> {
    // Parsing and compiling a document costs milliseconds and version detection asks for every
    // one: each is loaded once per process (clones share the compiled schemas).
    static LOADED: [OnceLock<Option<SpecDocument>>; BUILTIN.len()] =
        [const { OnceLock::new() }; BUILTIN.len()];
    let i = BUILTIN.iter().position(|b| b.version == version)?;
    LOADED[i]
        .get_or_init(|| SpecDocument::from_yaml(BUILTIN[i].text, BUILTIN[i].origin).ok())
        .clone()
}

/// The `info.version`s of the embedded documents, oldest first: `0.3.1` … `2.1.0`, then `wip`.
pub fn builtin_versions() -> &'static [&'static str] {
    &BUILTIN_VERSIONS
}

/// HTTP methods an OpenAPI path item may hold, in the order the spec lists them.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One operation of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// `operationId` (when the document gives none: `"METHOD /path"`).
    pub operation_id: String,
    /// HTTP method.
    pub method: Method,
    /// Path template relative to the base path, e.g. `/verify`.
    pub path: String,
    /// Exact status codes documented under `responses`, ascending (range keys such as `4XX` and
    /// `default` are in [`Operation::response_keys`]).
    pub documented_statuses: Vec<u16>,
    /// Every OAuth scope any of the operation's security requirements names (the operation's
    /// own `security`, else the document's), in document order, without duplicates.
    pub scopes: Vec<String>,
    /// Whether `requestBody.required` is true.
    pub request_body_required: bool,
    /// Where the operation sits in the document, e.g. `paths./verify.post`.
    pub location: String,
    /// The keys of `responses` as written (`"200"`, `"4XX"`, `"default"`): codes ascending,
    /// then ranges, then `default`.
    pub response_keys: Vec<String>,
}

/// A loaded, resolved and compiled OpenAPI 3.0 document.
#[derive(Clone)]
pub struct SpecDocument {
    origin: String,
    version: String,
    base_path: String,
    operations: Vec<Operation>,
    /// Compiled response rules, parallel to `operations`.
    rules: Vec<rules::OperationRules>,
    /// `components.headers.x-correlator`, used for responses whose status is undocumented.
    fallback_correlator: Option<rules::HeaderRule>,
    /// `pattern` of the first `x-correlator` header parameter's schema (see
    /// [`SpecDocument::correlator_pattern`]).
    correlator_pattern: Option<String>,
    /// Every schema compiled at load time, keyed by the JSON pointer where its text lives.
    schemas: HashMap<String, Arc<CompiledSchema>>,
    /// The document as JSON, for schemas asked for by pointer that were not precompiled.
    raw: Arc<Value>,
}

/// A schema in JSON-Schema form and its validator.
pub(crate) struct CompiledSchema {
    /// Refs inlined, dialect translated.
    pub(crate) json: Value,
    /// Draft 4 validator of `json`.
    pub(crate) validator: jsonschema::Validator,
}

impl fmt::Debug for SpecDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpecDocument")
            .field("origin", &self.origin)
            .field("version", &self.version)
            .field("base_path", &self.base_path)
            .field("operations", &self.operations)
            .field("correlator_pattern", &self.correlator_pattern)
            .field("compiled_schemas", &self.schemas.len())
            .finish_non_exhaustive()
    }
}

impl SpecDocument {
    /// Reads and loads the document at `path`; messages name the path as given.
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_yaml(&text, &path.display().to_string())
    }

    /// Loads a document from YAML (or JSON) text; `origin` is the file name used in messages.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, SpecError> {
        let (raw, path_order, key_order) = parse(text, origin)?;
        let raw = Arc::new(raw);
        Loader::new(&raw, origin, &key_order).load(Arc::clone(&raw), &path_order)
    }

    /// The file name this document was loaded from, as used in messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `info.version`, e.g. `"2.1.0"` or `"wip"`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Path of `servers[0].url` with `{apiRoot}` removed, other variables set to their defaults
    /// and any scheme and host dropped, e.g. `/number-verification/v2`. Empty when the server URL
    /// has no path (or there are no servers).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The operation with this `operationId`.
    pub fn operation(&self, operation_id: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.operation_id == operation_id)
    }

    /// Every operation: paths in document order, methods in OpenAPI order (get, put, post...).
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations.iter()
    }

    /// The operation serving `method` on `path`. `path` is relative to [`Self::base_path`]
    /// (`/verify`); a path that still starts with the base path is accepted too. Template
    /// segments such as `{id}` match any one non-empty segment; a query string is ignored.
    pub fn find_operation(&self, method: &Method, path: &str) -> Option<&Operation> {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let matching = |p: &str| {
            self.operations
                .iter()
                .find(|o| o.method == *method && path_matches(&o.path, p))
        };
        matching(path).or_else(|| {
            path.strip_prefix(self.base_path.as_str())
                .filter(|rest| !self.base_path.is_empty() && rest.starts_with('/'))
                .and_then(matching)
        })
    }

    /// The error `code` values the document allows for the response of `operation_id` that
    /// documents `status` (its exact code, else its range such as `4XX`, else `default`), in
    /// document order without duplicates.
    ///
    /// They come from the response's JSON body schema when it restricts `code` with an `enum`
    /// (CAMARA's `allOf: [ErrorInfo, {properties: {code: {enum: [...]}}}]`, NV v1.1.0-rc.1 on);
    /// otherwise from the `code` of the response's `example` and `examples` (NV v0.3.1 to
    /// v1.0.0 only give examples). Empty when the operation or response is unknown or documents
    /// no code.
    pub fn documented_error_codes(&self, operation_id: &str, status: u16) -> Vec<String> {
        self.operations
            .iter()
            .zip(&self.rules)
            .find(|(o, _)| o.operation_id == operation_id)
            .and_then(|(_, r)| r.response_for(status))
            .map(|r| r.error_codes.clone())
            .unwrap_or_default()
    }

    /// Whether the document describes an answer with `status` for `operation_id` (its exact
    /// code, its range or `default`); false for an unknown operation.
    pub fn documents_status(&self, operation_id: &str, status: u16) -> bool {
        self.operations
            .iter()
            .zip(&self.rules)
            .find(|(o, _)| o.operation_id == operation_id)
            .is_some_and(|(_, r)| r.response_for(status).is_some())
    }

    /// Whether any answer of `operation_id` documents an `x-correlator` header.
    pub fn documents_correlator(&self, operation_id: &str) -> bool {
        self.operations
            .iter()
            .zip(&self.rules)
            .find(|(o, _)| o.operation_id == operation_id)
            .is_some_and(|(_, r)| r.responses.iter().any(|resp| resp.correlator.is_some()))
    }

    /// The `pattern` of the `x-correlator` request header's schema (the first header parameter
    /// of that name, compared case-insensitively, in operation order), `$ref`s followed; `None`
    /// when no operation takes such a parameter or its schema has no pattern (NV v0.3.1 to
    /// v1.0.0).
    pub fn correlator_pattern(&self) -> Option<String> {
        self.correlator_pattern.clone()
    }

    /// Judges one exchange of `operation_id`; empty = conformant.
    ///
    /// An `operation_id` the document does not have yields a single `status-documented`
    /// violation (no status can be documented for it); use [`Self::try_validate`] to get an
    /// error instead.
    pub fn validate(&self, operation_id: &str, exchange: &Exchange) -> Vec<Violation> {
        match self.try_validate(operation_id, exchange) {
            Ok(violations) => violations,
            Err(e) => vec![Violation {
                rule: Rule::StatusDocumented,
                location: "paths".to_owned(),
                pointer: None,
                expected: format!(
                    "an operation with operationId \"{operation_id}\" in {}",
                    self.origin
                ),
                found: e.to_string(),
            }],
        }
    }

    /// Like [`Self::validate`], but an unknown `operation_id` is an error.
    pub fn try_validate(
        &self,
        operation_id: &str,
        exchange: &Exchange,
    ) -> Result<Vec<Violation>, SpecError> {
        let found = self
            .operations
            .iter()
            .zip(&self.rules)
            .find(|(o, _)| o.operation_id == operation_id);
        let Some((operation, op_rules)) = found else {
            return Err(SpecError::UnknownOperation {
                origin: self.origin.clone(),
                operation_id: operation_id.to_owned(),
                known: self
                    .operations
                    .iter()
                    .map(|o| o.operation_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        Ok(rules::judge(
            operation,
            op_rules,
            self.fallback_correlator.as_ref(),
            exchange,
        ))
    }

    /// Validates a JSON value against a schema reference.
    ///
    /// Accepted references: `#/components/schemas/X` (also without `#`, or just `X`), any local
    /// pointer to a schema (e.g. `#/components/schemas/X/properties/y`), and a response, request
    /// body, header or parameter (`#/components/responses/R`, `#/paths/~1verify/post/requestBody`,
    /// `#/components/headers/x-correlator`...), which stands for its `application/json` (or first
    /// JSON) schema, or its `schema`. Violations use rule `body-schema`, the schema's location and
    /// the instance path as pointer.
    ///
    /// Note: NV v0.3.1's `NumberVerificationRequestBody` is a degenerate `oneOf` (neither branch
    /// has `required` or `additionalProperties: false`, so every object matches both branches and
    /// a strict validator rejects every body). That is the document's meaning, reported as is;
    /// nvcert validates responses, where no such schema occurs, so it does not matter there.
    pub fn validate_against(
        &self,
        schema_ref: &str,
        value: &Value,
    ) -> Result<Vec<Violation>, SpecError> {
        let pointer = self.schema_pointer(schema_ref)?;
        let location = location_of(&pointer);
        let compiled = self.compiled(&pointer, schema_ref)?;
        Ok(compiled
            .validator
            .iter_errors(value)
            .map(|error| rules::schema_violation(Rule::BodySchema, &location, &error))
            .collect())
    }

    /// The JSON-Schema form (refs inlined, dialect translated) of a schema reference, for
    /// generators. Accepts the same references as [`Self::validate_against`]. The result is
    /// meant for Draft 4 semantics.
    pub fn resolved_schema(&self, schema_ref: &str) -> Result<Value, SpecError> {
        let pointer = self.schema_pointer(schema_ref)?;
        Ok(self.compiled(&pointer, schema_ref)?.json.clone())
    }

    /// The precompiled schema at `pointer`, or a fresh compilation for pointers not compiled at
    /// load time.
    fn compiled(&self, pointer: &str, schema_ref: &str) -> Result<Arc<CompiledSchema>, SpecError> {
        if let Some(found) = self.schemas.get(pointer) {
            return Ok(Arc::clone(found));
        }
        let resolver = Resolver::new(&self.raw, &self.origin);
        let node = resolver
            .at(pointer)
            .ok_or_else(|| SpecError::UnknownSchema {
                origin: self.origin.clone(),
                reference: schema_ref.to_owned(),
                reason: "no such node in the document".to_owned(),
            })?;
        compile_schema(&resolver, node, pointer, &self.origin)
    }

    /// Turns a caller's schema reference into the JSON pointer of a schema in the document.
    fn schema_pointer(&self, schema_ref: &str) -> Result<String, SpecError> {
        let unknown = |reason: String| SpecError::UnknownSchema {
            origin: self.origin.clone(),
            reference: schema_ref.to_owned(),
            reason,
        };
        let trimmed = schema_ref.trim();
        let pointer = if let Some(fragment) = trimmed.strip_prefix('#') {
            fragment.to_owned()
        } else if trimmed.starts_with('/') {
            trimmed.to_owned()
        } else if !trimmed.is_empty() && !trimmed.contains('/') {
            // Older CAMARA test definitions name schemas bare ("NumberVerificationMatchResponse").
            join("/components/schemas", trimmed)
        } else {
            return Err(unknown(
                "expected \"#/components/schemas/Name\" or another local JSON pointer".to_owned(),
            ));
        };
        let resolver = Resolver::new(&self.raw, &self.origin);
        let Some(node) = resolver.at(&pointer) else {
            return Err(unknown("no such node in the document".to_owned()));
        };
        let segments: Vec<String> = tokens(&pointer).collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let wrapper = match segments.as_slice() {
            ["components", "responses" | "requestBodies", _]
            | ["paths", _, _, "responses", _]
            | ["paths", _, _, "requestBody"] => Wrapper::Content,
            ["components", "headers" | "parameters", _]
            | [.., "headers", _]
            | ["paths", _, _, "parameters", _]
            | ["paths", _, "parameters", _] => Wrapper::Schema,
            ["components", "schemas", _, ..] => return Ok(pointer),
            _ if segments.contains(&"schema") => return Ok(pointer),
            _ => {
                return Err(unknown(
                    "not a schema, response, request body, header or parameter".to_owned(),
                ));
            }
        };
        let (object, object_at) = resolver.follow(node, &pointer)?;
        if wrapper == Wrapper::Schema && object.get("schema").is_some() {
            return Ok(join(&object_at, "schema"));
        }
        // The JSON media type with a schema, `application/json` first.
        let media = object
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(media, obj)| {
                is_json_media(&media_essence(media)) && obj.get("schema").is_some()
            })
            .min_by_key(|(media, _)| media_essence(media) != "application/json")
            .map(|(media, _)| media);
        match media {
            Some(media) => Ok(join(&join(&join(&object_at, "content"), media), "schema")),
            None => Err(unknown("it has no JSON content with a schema".to_owned())),
        }
    }
}

/// What a non-schema object stands for when a schema is asked of it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wrapper {
    /// Responses and request bodies: the schema of their JSON content.
    Content,
    /// Headers and parameters: their `schema` (or JSON content).
    Schema,
}

/// The keys of every mapping of a document in document order, by the JSON pointer of the
/// mapping (JSON maps here are sorted).
type KeyOrder = HashMap<String, Vec<String>>;

/// Parses YAML text into JSON, then checks it is an OpenAPI 3.0 document with `openapiv3`.
/// Returns the document as JSON, its path templates in document order (`openapiv3` keeps the
/// order) and the [`KeyOrder`] of its mappings.
fn parse(text: &str, origin: &str) -> Result<(Value, Vec<String>, KeyOrder), SpecError> {
    let yaml: serde_norway::Value =
        serde_norway::from_str(text).map_err(|e| yaml_error(&e, origin, YamlStage::Syntax))?;
    let mut key_order = KeyOrder::new();
    record_key_order(&yaml, "", &mut key_order);
    let json = serde_json::to_value(&yaml).map_err(|e| SpecError::Structure {
        origin: origin.to_owned(),
        pointer: None,
        line: None,
        column: None,
        message: format!("cannot be represented as JSON: {e}"),
    })?;
    let not_openapi = |reason: String| SpecError::NotOpenApi {
        origin: origin.to_owned(),
        reason,
    };
    let Some(root) = json.as_object() else {
        return Err(not_openapi(format!(
            "the top level is {}, not a mapping",
            kind_of(&json)
        )));
    };
    match root.get("openapi") {
        None if root.contains_key("swagger") => {
            return Err(not_openapi(
                "it has `swagger` instead of `openapi` (Swagger/OpenAPI 2.0 is not supported)"
                    .to_owned(),
            ));
        }
        None => {
            return Err(not_openapi(
                "the required field `openapi` is missing".to_owned(),
            ));
        }
        Some(Value::String(v)) if v.starts_with("3.0.") || v == "3.0" => {}
        Some(Value::String(v)) => {
            return Err(not_openapi(format!(
                "`openapi` is \"{v}\"; only OpenAPI 3.0.x is supported"
            )));
        }
        Some(other) => {
            return Err(not_openapi(format!(
                "`openapi` must be a version string such as \"3.0.3\", found {other}"
            )));
        }
    }
    if !root.contains_key("paths") {
        return Err(not_openapi(
            "the required field `paths` is missing".to_owned(),
        ));
    }
    let typed: openapiv3::OpenAPI =
        serde_norway::from_str(text).map_err(|e| yaml_error(&e, origin, YamlStage::Structure))?;
    let path_order = typed.paths.paths.keys().cloned().collect();
    Ok((json, path_order, key_order))
}

/// Records the key order of every mapping in `yaml` (found at pointer `at`). Keys are named as
/// the JSON conversion names them (strings as is, numbers and booleans written out); other keys
/// cannot be addressed by a pointer and are left out.
fn record_key_order(yaml: &serde_norway::Value, at: &str, out: &mut KeyOrder) {
    use serde_norway::Value as Yaml;
    match yaml {
        Yaml::Mapping(map) => {
            let mut keys = Vec::with_capacity(map.len());
            for (key, value) in map {
                let key = match key {
                    Yaml::String(s) => s.clone(),
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    _ => continue,
                };
                record_key_order(value, &join(at, &key), out);
                keys.push(key);
            }
            out.insert(at.to_owned(), keys);
        }
        Yaml::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                record_key_order(item, &join(at, &i.to_string()), out);
            }
        }
        Yaml::Tagged(tagged) => record_key_order(&tagged.value, at, out),
        Yaml::Null | Yaml::Bool(_) | Yaml::Number(_) | Yaml::String(_) => {}
    }
}

/// Which parse failed: the YAML itself or its OpenAPI shape.
#[derive(Clone, Copy)]
enum YamlStage {
    Syntax,
    Structure,
}

fn yaml_error(e: &serde_norway::Error, origin: &str, stage: YamlStage) -> SpecError {
    let location = e.location();
    let line = location.as_ref().map(|l| l.line());
    let column = location.as_ref().map(|l| l.column());
    let full = e.to_string();
    // serde_norway may end with " at line L column C"; the variant carries that position itself.
    let suffix = format!(
        " at line {} column {}",
        line.unwrap_or_default(),
        column.unwrap_or_default()
    );
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    match stage {
        YamlStage::Syntax => SpecError::Yaml {
            origin: origin.to_owned(),
            line,
            column,
            message,
        },
        YamlStage::Structure => SpecError::Structure {
            origin: origin.to_owned(),
            pointer: None,
            line,
            column,
            message,
        },
    }
}

/// "a sequence", "a string"... for messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// Builds a [`SpecDocument`] from a parsed document.
struct Loader<'a> {
    raw: &'a Value,
    origin: &'a str,
    resolver: Resolver<'a>,
    schemas: HashMap<String, Arc<CompiledSchema>>,
    /// Document order of the mappings of `raw`.
    key_order: &'a KeyOrder,
    /// The pattern of the first `x-correlator` header parameter met, once one was met.
    correlator_pattern: Option<Option<String>>,
}

impl<'a> Loader<'a> {
    fn new(raw: &'a Value, origin: &'a str, key_order: &'a KeyOrder) -> Self {
        Self {
            raw,
            origin,
            resolver: Resolver::new(raw, origin),
            schemas: HashMap::new(),
            key_order,
            correlator_pattern: None,
        }
    }

    /// The entries of the mapping `map` found at `pointer`, in document order when known.
    fn ordered<'m>(
        &self,
        map: &'m serde_json::Map<String, Value>,
        pointer: &str,
    ) -> Vec<(&'m String, &'m Value)> {
        let mut entries: Vec<(&String, &Value)> = self
            .key_order
            .get(pointer)
            .into_iter()
            .flatten()
            .filter_map(|k| map.get_key_value(k))
            .collect();
        // Anything the recorded order does not name (none expected) keeps the map's order.
        for entry in map {
            if !entries.iter().any(|(k, _)| *k == entry.0) {
                entries.push(entry);
            }
        }
        entries
    }

    fn structure(&self, pointer: &str, message: impl Into<String>) -> SpecError {
        SpecError::Structure {
            origin: self.origin.to_owned(),
            pointer: Some(pointer.to_owned()),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn load(mut self, raw: Arc<Value>, path_order: &[String]) -> Result<SpecDocument, SpecError> {
        self.resolver.check_all_refs()?;

        let version = match self.raw.pointer("/info/version") {
            Some(Value::String(v)) => v.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(self.structure("/info/version", "`info.version` must be a string")),
        };
        let base_path = self.base_path()?;

        // Compile every component schema, so a broken or cyclic one is reported even if unused.
        if let Some(schemas) = self
            .raw
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        {
            for name in schemas.keys() {
                self.schema_at(&join("/components/schemas", name))?;
            }
        }
        let fallback_correlator = match self
            .raw
            .pointer("/components/headers")
            .and_then(Value::as_object)
        {
            Some(headers) => match headers
                .keys()
                .find(|k| k.eq_ignore_ascii_case(rules::CORRELATOR))
            {
                Some(name) => self.header_rule(&join("/components/headers", name))?,
                None => None,
            },
            None => None,
        };

        let mut operations = Vec::new();
        let mut op_rules = Vec::new();
        let paths = self
            .raw
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| self.structure("/paths", "`paths` must be a mapping"))?;
        // Document order first; any path openapiv3 did not list (none expected) after it.
        let ordered = path_order
            .iter()
            .filter(|p| paths.contains_key(p.as_str()))
            .chain(paths.keys().filter(|p| !path_order.contains(p)));
        for path in ordered {
            let Some(item) = paths.get(path) else {
                continue;
            };
            let item_at = join("/paths", path);
            let (item, item_at) = self.resolver.follow(item, &item_at)?;
            if let Some(params) = item.get("parameters").and_then(Value::as_array) {
                self.check_parameters(params, &join(&item_at, "parameters"))?;
            }
            for method in METHODS {
                let Some(op) = item.get(*method) else {
                    continue;
                };
                let op_at = join(&item_at, method);
                let (operation, rules) = self.operation(path, method, op, &op_at)?;
                if operations
                    .iter()
                    .any(|o: &Operation| o.operation_id == operation.operation_id)
                {
                    return Err(self.structure(
                        &join(&op_at, "operationId"),
                        format!("operationId \"{}\" is used twice", operation.operation_id),
                    ));
                }
                operations.push(operation);
                op_rules.push(rules);
            }
        }

        Ok(SpecDocument {
            origin: self.origin.to_owned(),
            version,
            base_path,
            operations,
            rules: op_rules,
            fallback_correlator,
            correlator_pattern: self.correlator_pattern.flatten(),
            schemas: self.schemas,
            raw,
        })
    }

    /// See [`SpecDocument::base_path`].
    fn base_path(&self) -> Result<String, SpecError> {
        let Some(server) = self.raw.pointer("/servers/0") else {
            return Ok(String::new());
        };
        let Some(url) = server.get("url").and_then(Value::as_str) else {
            return Err(self.structure("/servers/0/url", "a server needs a `url` string"));
        };
        // {apiRoot} stands for scheme, host and any provider prefix: none of it is part of the
        // API's own base path.
        let mut url = url.replace("{apiRoot}", "");
        if let Some(vars) = server.get("variables").and_then(Value::as_object) {
            for (name, var) in vars {
                let default = var
                    .get("default")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                url = url.replace(&format!("{{{name}}}"), default);
            }
        }
        let path = if url.contains("://") {
            url::Url::parse(&url)
                .map_err(|e| {
                    self.structure("/servers/0/url", format!("\"{url}\" is not a URL: {e}"))
                })?
                .path()
                .to_owned()
        } else if url.starts_with('/') {
            url
        } else {
            // "api.example.com/x": a host without scheme.
            url.find('/')
                .map(|i| url[i..].to_owned())
                .unwrap_or_default()
        };
        Ok(path.trim_end_matches('/').to_owned())
    }

    fn check_parameters(&mut self, params: &'a [Value], at: &str) -> Result<(), SpecError> {
        for (i, param) in params.iter().enumerate() {
            let (param, param_at) = self.resolver.follow(param, &join(at, &i.to_string()))?;
            if param.get("schema").is_some() {
                let schema = self.schema_at(&join(&param_at, "schema"))?;
                let is_correlator = param.get("in").and_then(Value::as_str) == Some("header")
                    && param
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(rules::CORRELATOR));
                if is_correlator && self.correlator_pattern.is_none() {
                    self.correlator_pattern = Some(pattern_of(&schema.json));
                }
            }
        }
        Ok(())
    }

    fn operation(
        &mut self,
        path: &str,
        method: &str,
        op: &'a Value,
        op_at: &str,
    ) -> Result<(Operation, rules::OperationRules), SpecError> {
        let location = location_of(op_at);
        let operation_id = match op.get("operationId") {
            Some(Value::String(id)) => id.clone(),
            None => format!("{} {path}", method.to_ascii_uppercase()),
            Some(other) => {
                return Err(self.structure(
                    &join(op_at, "operationId"),
                    format!("must be a string, found {other}"),
                ));
            }
        };
        let http_method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|e| self.structure(op_at, format!("bad method: {e}")))?;

        if let Some(params) = op.get("parameters").and_then(Value::as_array) {
            self.check_parameters(params, &join(op_at, "parameters"))?;
        }

        let mut request_body_required = false;
        if let Some(body) = op.get("requestBody") {
            let (body, body_at) = self.resolver.follow(body, &join(op_at, "requestBody"))?;
            request_body_required = body.get("required") == Some(&Value::Bool(true));
            if let Some(content) = body.get("content").and_then(Value::as_object) {
                for (media, media_obj) in content {
                    if media_obj.get("schema").is_some() {
                        self.schema_at(&join(&join(&join(&body_at, "content"), media), "schema"))?;
                    }
                }
            }
        }

        let security = op.get("security").or_else(|| self.raw.get("security"));
        let mut scopes: Vec<String> = Vec::new();
        for requirement in security.and_then(Value::as_array).into_iter().flatten() {
            for list in requirement.as_object().into_iter().flat_map(|m| m.values()) {
                for scope in list
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !scopes.iter().any(|s| s == scope) {
                        scopes.push(scope.to_owned());
                    }
                }
            }
        }

        let responses_at = join(op_at, "responses");
        let responses = op
            .get("responses")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                self.structure(&responses_at, "an operation needs a `responses` mapping")
            })?;
        let mut response_rules = Vec::new();
        let mut documented_statuses = Vec::new();
        let mut response_keys = Vec::new();
        for (key, response) in responses {
            if key.starts_with("x-") {
                continue;
            }
            let key_at = join(&responses_at, key);
            let status = rules::StatusKey::parse(key).ok_or_else(|| {
                self.structure(
                    &key_at,
                    format!("\"{key}\" is not a status code, range (4XX) or `default`"),
                )
            })?;
            if let rules::StatusKey::Code(code) = status {
                documented_statuses.push(code);
            }
            response_keys.push(key.clone());
            response_rules.push(self.response(status, response, &key_at)?);
        }
        documented_statuses.sort_unstable();
        response_keys.sort_by_key(|k| rules::StatusKey::parse(k));

        let operation = Operation {
            operation_id,
            method: http_method,
            path: path.to_owned(),
            documented_statuses,
            scopes,
            request_body_required,
            location: location.clone(),
            response_keys,
        };
        Ok((
            operation,
            rules::OperationRules {
                location,
                responses: response_rules,
            },
        ))
    }

    fn response(
        &mut self,
        status: rules::StatusKey,
        response: &'a Value,
        key_at: &str,
    ) -> Result<rules::ResponseRules, SpecError> {
        let location = location_of(key_at);
        let (response, response_at) = self.resolver.follow(response, key_at)?;
        let mut content = Vec::new();
        if let Some(media_map) = response.get("content").and_then(Value::as_object) {
            for (media, media_obj) in media_map {
                let essence = media_essence(media);
                let schema = if media_obj.get("schema").is_some() {
                    Some(self.schema_at(&join(
                        &join(&join(&response_at, "content"), media),
                        "schema",
                    ))?)
                } else {
                    None
                };
                content.push(rules::MediaRules {
                    json: is_json_media(&essence),
                    media_type: essence,
                    schema,
                });
            }
        }
        let mut correlator = None;
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            for name in headers.keys() {
                let header_at = join(&join(&response_at, "headers"), name);
                let rule = self.header_rule(&header_at)?;
                if name.eq_ignore_ascii_case(rules::CORRELATOR) {
                    // Violations name the operation's own key, not the shared component.
                    correlator = rule.map(|r| rules::HeaderRule {
                        location: format!("{location}.headers.{name}"),
                        schema: r.schema,
                    });
                }
            }
        }
        let error_codes = self.error_codes(response, &response_at)?;
        Ok(rules::ResponseRules {
            status,
            location,
            content,
            correlator,
            error_codes,
        })
    }

    /// See [`SpecDocument::documented_error_codes`]: the codes of the `response` object found at
    /// `response_at`, read from its `application/json` content (else its first JSON content).
    fn error_codes(
        &mut self,
        response: &'a Value,
        response_at: &str,
    ) -> Result<Vec<String>, SpecError> {
        let content_at = join(response_at, "content");
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return Ok(Vec::new());
        };
        let entries = self.ordered(content, &content_at);
        let chosen = entries
            .iter()
            .find(|(m, _)| media_essence(m) == "application/json")
            .or_else(|| {
                entries
                    .iter()
                    .find(|(m, _)| is_json_media(&media_essence(m)))
            });
        let Some(&(media, media_obj)) = chosen else {
            return Ok(Vec::new());
        };
        let media_at = join(&content_at, media);

        let restricted = match media_obj.get("schema") {
            Some(_) => code_enum(&self.schema_at(&join(&media_at, "schema"))?.json),
            None => None,
        };
        // An enum, even one that allows nothing, is the documented set; examples are only read
        // when the schema leaves `code` open.
        let restricted_to_enum = restricted.is_some();
        let mut codes = restricted.unwrap_or_default();
        if !restricted_to_enum {
            let code_of = |example: &Value| {
                example
                    .get("code")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            codes.extend(media_obj.get("example").and_then(code_of));
            if let Some(examples) = media_obj.get("examples").and_then(Value::as_object) {
                let examples_at = join(&media_at, "examples");
                for (name, example) in self.ordered(examples, &examples_at) {
                    // An example that is a reference the document cannot resolve documents
                    // nothing; examples are samples, so that is not a load error.
                    let followed = self.resolver.follow(example, &join(&examples_at, name));
                    if let Ok((example, _)) = followed {
                        codes.extend(example.get("value").and_then(code_of));
                    }
                }
            }
        }
        let mut unique: Vec<String> = Vec::with_capacity(codes.len());
        for code in codes {
            if !unique.contains(&code) {
                unique.push(code);
            }
        }
        Ok(unique)
    }

    /// The rule for the header object at `header_at` (following refs); `None` without a schema.
    fn header_rule(&mut self, header_at: &str) -> Result<Option<rules::HeaderRule>, SpecError> {
        let node = self
            .resolver
            .at(header_at)
            .ok_or_else(|| self.structure(header_at, "header not found"))?;
        let (header, at) = self.resolver.follow(node, header_at)?;
        if header.get("schema").is_none() {
            return Ok(None);
        }
        Ok(Some(rules::HeaderRule {
            location: location_of(header_at),
            schema: self.schema_at(&join(&at, "schema"))?,
        }))
    }

    /// Compiles the schema at `pointer` once; schemas that are only a `$ref` share the target's
    /// compilation.
    fn schema_at(&mut self, pointer: &str) -> Result<Arc<CompiledSchema>, SpecError> {
        let node = self
            .resolver
            .at(pointer)
            .ok_or_else(|| self.structure(pointer, "schema not found"))?;
        let (_, canonical) = self.resolver.follow(node, pointer)?;
        if let Some(found) = self.schemas.get(&canonical) {
            return Ok(Arc::clone(found));
        }
        let compiled = compile_schema(&self.resolver, node, pointer, self.origin)?;
        self.schemas.insert(canonical, Arc::clone(&compiled));
        Ok(compiled)
    }
}

/// Inlines, translates and compiles the schema `node` found at `pointer`.
fn compile_schema(
    resolver: &Resolver<'_>,
    node: &Value,
    pointer: &str,
    origin: &str,
) -> Result<Arc<CompiledSchema>, SpecError> {
    let inlined = resolver.inline_schema(node, pointer)?;
    let json = dialect::to_json_schema(&inlined);
    let validator = dialect::compile(&json).map_err(|message| SpecError::SchemaCompile {
        origin: origin.to_owned(),
        location: location_of(pointer),
        message,
    })?;
    Ok(Arc::new(CompiledSchema { json, validator }))
}

/// The values a translated schema allows for an object's `code` property, in document order:
/// the schema's own `properties.code.enum`, narrowed by every `allOf` branch that restricts
/// `code`, widened over `anyOf`/`oneOf` branches when every branch restricts it. `None` when
/// `code` is not restricted to an enum. Only string values count.
fn code_enum(schema: &Value) -> Option<Vec<String>> {
    let own = schema
        .pointer("/properties/code/enum")
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        });
    let narrow = |current: Option<Vec<String>>, more: Vec<String>| match current {
        None => Some(more),
        Some(current) => Some(current.into_iter().filter(|c| more.contains(c)).collect()),
    };
    let mut allowed = own;
    for branch in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(more) = code_enum(branch) {
            allowed = narrow(allowed, more);
        }
    }
    for keyword in ["anyOf", "oneOf"] {
        let Some(branches) = schema.get(keyword).and_then(Value::as_array) else {
            continue;
        };
        let each: Option<Vec<Vec<String>>> = branches.iter().map(code_enum).collect();
        if let Some(each) = each.filter(|e| !e.is_empty()) {
            let mut union: Vec<String> = Vec::new();
            for code in each.into_iter().flatten() {
                if !union.contains(&code) {
                    union.push(code);
                }
            }
            allowed = narrow(allowed, union);
        }
    }
    allowed
}

/// The `pattern` of a translated string schema, or of the first of its `allOf` branches that
/// has one.
fn pattern_of(schema: &Value) -> Option<String> {
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        return Some(pattern.to_owned());
    }
    schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(pattern_of)
}

/// The media type without parameters, lower-cased: `Application/JSON; charset=utf-8` →
/// `application/json`.
pub(crate) fn media_essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// `application/json` and the `+json` family (`application/problem+json`...).
pub(crate) fn is_json_media(essence: &str) -> bool {
    essence == "application/json" || essence.ends_with("+json")
}

/// Whether a concrete path matches a path template (`/users/{id}` matches `/users/7`).
fn path_matches(template: &str, path: &str) -> bool {
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) => {
                let is_param = ts.starts_with('{') && ts.ends_with('}');
                if !(ts == ps || (is_param && !ps.is_empty())) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}
