//! Local `$ref` resolution: following references to responses, headers, parameters and request
//! bodies, and inlining references inside schemas.
//!
//! Only same-document references (`#/...`) are supported: the engine must work offline and the
//! CAMARA definitions never reference other files. Every failure names the reference and the
//! JSON pointer of the object that used it.

use std::cell::Cell;

use serde_json::{Map, Value};

use super::error::SpecError;

/// Upper bound on schema nodes produced while inlining one document's schemas. A handful of
/// references that each use the next one twice would otherwise expand exponentially.
const INLINE_BUDGET: usize = 200_000;

/// Schema keywords whose value is a map from names to subschemas.
const SCHEMA_MAP_KEYWORDS: &[&str] = &["properties"];
/// Schema keywords whose value is one subschema (or a boolean, for `additionalProperties`).
const SCHEMA_ONE_KEYWORDS: &[&str] = &["items", "additionalProperties", "not"];
/// Schema keywords whose value is a list of subschemas.
const SCHEMA_LIST_KEYWORDS: &[&str] = &["allOf", "oneOf", "anyOf"];

/// Escapes one reference token for a JSON pointer (RFC 6901).
pub(crate) fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Appends one (unescaped) token to a JSON pointer.
pub(crate) fn join(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", escape_token(token))
}

/// The unescaped tokens of a JSON pointer.
pub(crate) fn tokens(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
}

/// The dotted spec location used in violations, e.g. `/paths/~1verify/post` → `paths./verify.post`.
pub(crate) fn location_of(pointer: &str) -> String {
    tokens(pointer).collect::<Vec<_>>().join(".")
}

/// Decodes `%XX` escapes in a URI fragment; malformed escapes are kept as written.
fn percent_decode(fragment: &str) -> String {
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves references against one parsed document.
pub(crate) struct Resolver<'a> {
    root: &'a Value,
    origin: &'a str,
    budget: Cell<usize>,
}

impl<'a> Resolver<'a> {
    /// A resolver over `root`, naming `origin` in its errors.
    pub(crate) fn new(root: &'a Value, origin: &'a str) -> Self {
        Self {
            root,
            origin,
            budget: Cell::new(INLINE_BUDGET),
        }
    }

    /// The node a JSON pointer (`""` or `/a/b`) designates.
    pub(crate) fn at(&self, pointer: &str) -> Option<&'a Value> {
        self.root.pointer(pointer)
    }

    /// The target of `reference` and its JSON pointer; `used_at` is where the `$ref` was found.
    pub(crate) fn target(
        &self,
        reference: &str,
        used_at: &str,
    ) -> Result<(&'a Value, String), SpecError> {
        let unresolved = |reason: &str| SpecError::UnresolvedRef {
            origin: self.origin.to_owned(),
            reference: reference.to_owned(),
            used_at: used_at.to_owned(),
            reason: reason.to_owned(),
        };
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(unresolved(
                "only references inside the same document (\"#/...\") are supported",
            ));
        };
        let pointer = percent_decode(fragment);
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(unresolved("the fragment is not a JSON pointer"));
        }
        match self.root.pointer(&pointer) {
            Some(target) => Ok((target, pointer)),
            None => Err(unresolved("no such node in the document")),
        }
    }

    /// The `$ref` string of `node`, if it is a reference object.
    fn ref_of(&self, node: &'a Value, at: &str) -> Result<Option<&'a str>, SpecError> {
        match node.get("$ref") {
            None => Ok(None),
            Some(Value::String(reference)) => Ok(Some(reference.as_str())),
            Some(other) => Err(SpecError::Structure {
                origin: self.origin.to_owned(),
                pointer: Some(join(at, "$ref")),
                line: None,
                column: None,
                message: format!("$ref must be a string, found {other}"),
            }),
        }
    }

    /// Follows `node` through any chain of reference objects (responses, headers, parameters,
    /// request bodies) and returns the final object with its pointer.
    pub(crate) fn follow(
        &self,
        node: &'a Value,
        at: &str,
    ) -> Result<(&'a Value, String), SpecError> {
        let mut current = node;
        let mut current_at = at.to_owned();
        let mut chain: Vec<String> = Vec::new();
        while let Some(reference) = self.ref_of(current, &current_at)? {
            if chain.iter().any(|r| r == reference) {
                chain.push(reference.to_owned());
                return Err(SpecError::CyclicRef {
                    origin: self.origin.to_owned(),
                    reference: reference.to_owned(),
                    used_at: current_at,
                    chain,
                });
            }
            chain.push(reference.to_owned());
            let (target, pointer) = self.target(reference, &current_at)?;
            current = target;
            current_at = pointer;
        }
        Ok((current, current_at))
    }

    /// A copy of `schema` (found at pointer `at`) with every `$ref` replaced by its target.
    ///
    /// In OAS 3.0 the siblings of a `$ref` are ignored, so they are dropped here too. Recursive
    /// schemas cannot be inlined and are reported as cycles.
    pub(crate) fn inline_schema(&self, schema: &'a Value, at: &str) -> Result<Value, SpecError> {
        let mut chain = Vec::new();
        self.inline(schema, at, &mut chain)
    }

    fn inline(
        &self,
        schema: &'a Value,
        at: &str,
        chain: &mut Vec<String>,
    ) -> Result<Value, SpecError> {
        let left = self.budget.get();
        if left == 0 {
            return Err(SpecError::Structure {
                origin: self.origin.to_owned(),
                pointer: Some(at.to_owned()),
                line: None,
                column: None,
                message: format!(
                    "schemas expand to more than {INLINE_BUDGET} nodes once $refs are inlined"
                ),
            });
        }
        self.budget.set(left - 1);

        let Some(object) = schema.as_object() else {
            return Ok(schema.clone());
        };
        if let Some(reference) = self.ref_of(schema, at)? {
            if chain.iter().any(|r| r == reference) {
                let mut full = chain.clone();
                full.push(reference.to_owned());
                return Err(SpecError::CyclicRef {
                    origin: self.origin.to_owned(),
                    reference: reference.to_owned(),
                    used_at: at.to_owned(),
                    chain: full,
                });
            }
            let (target, pointer) = self.target(reference, at)?;
            chain.push(reference.to_owned());
            let inlined = self.inline(target, &pointer, chain);
            chain.pop();
            return inlined;
        }

        let mut out = Map::with_capacity(object.len());
        for (key, value) in object {
            let key_at = join(at, key);
            let inlined = if SCHEMA_MAP_KEYWORDS.contains(&key.as_str()) && value.is_object() {
                let mut props = Map::new();
                for (name, sub) in value.as_object().into_iter().flatten() {
                    props.insert(name.clone(), self.inline(sub, &join(&key_at, name), chain)?);
                }
                Value::Object(props)
            } else if SCHEMA_ONE_KEYWORDS.contains(&key.as_str()) {
                self.inline(value, &key_at, chain)?
            } else if SCHEMA_LIST_KEYWORDS.contains(&key.as_str()) && value.is_array() {
                let mut items = Vec::new();
                for (i, sub) in value.as_array().into_iter().flatten().enumerate() {
                    items.push(self.inline(sub, &join(&key_at, &i.to_string()), chain)?);
                }
                Value::Array(items)
            } else {
                value.clone()
            };
            out.insert(key.clone(), inlined);
        }
        Ok(Value::Object(out))
    }

    /// Checks that every `$ref` string in the document points at an existing node, so a dangling
    /// reference is reported even in parts `validate` never reads.
    pub(crate) fn check_all_refs(&self) -> Result<(), SpecError> {
        self.check_refs_in(self.root, "")
    }

    fn check_refs_in(&self, node: &'a Value, at: &str) -> Result<(), SpecError> {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    self.target(reference, at)?;
                }
                for (key, value) in map {
                    // Examples and extensions hold arbitrary data, not OpenAPI objects.
                    if key == "example" || key == "examples" || key.starts_with("x-") {
                        continue;
                    }
                    self.check_refs_in(value, &join(at, key))?;
                }
                Ok(())
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_refs_in(item, &join(at, &i.to_string()))?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
