//! OAS 3.0 schema dialect → JSON Schema, and compilation into validators.
//!
//! OAS 3.0 schemas are "an extended subset" of JSON Schema Wright draft 00 (≈ Draft 5). The
//! differences that matter for validation are `nullable` and a few annotation keywords that a
//! JSON-Schema validator would reject or misread. Boolean `exclusiveMinimum`/`exclusiveMaximum`
//! are Draft 4 syntax, so schemas are compiled with Draft 4 semantics (as Schemathesis does).
//! Input schemas must already have their `$ref`s inlined (see `resolve`).

use serde_json::{Map, Value};

/// OAS-only keywords with no JSON-Schema meaning that are dropped (annotations, or `nullable`,
/// which is rewritten into `type`/`enum` instead).
const DROPPED: &[&str] = &[
    "nullable",
    "example",
    "xml",
    "discriminator",
    "externalDocs",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// Translates one inlined OAS 3.0 schema into JSON Schema.
///
/// * `nullable: true` adds `"null"` to `type` (and to `enum` when there is one). Per OAS 3.0.3,
///   `nullable` only has an effect when `type` is given in the same schema, so without `type`
///   nothing is added.
/// * `example`, `xml`, `discriminator`, `externalDocs`, `deprecated`, `readOnly`, `writeOnly`
///   and `x-*` extensions are dropped.
/// * Everything else (`allOf`/`oneOf`/`anyOf`/`not`, `enum`, `pattern`, `format`, min/max
///   keywords, `required`, `additionalProperties`, ...) is kept, translating subschemas.
pub(crate) fn to_json_schema(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::with_capacity(object.len());
    for (key, value) in object {
        if DROPPED.contains(&key.as_str()) || key.starts_with("x-") {
            continue;
        }
        let translated = match key.as_str() {
            "properties" => match value.as_object() {
                Some(props) => Value::Object(
                    props
                        .iter()
                        .map(|(name, sub)| (name.clone(), to_json_schema(sub)))
                        .collect(),
                ),
                None => value.clone(),
            },
            "items" | "additionalProperties" | "not" => to_json_schema(value),
            "allOf" | "oneOf" | "anyOf" => match value.as_array() {
                Some(list) => Value::Array(list.iter().map(to_json_schema).collect()),
                None => value.clone(),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), translated);
    }
    if object.get("nullable") == Some(&Value::Bool(true)) {
        add_null(&mut out);
    }
    Value::Object(out)
}

/// Lets `null` through a translated schema that had `nullable: true`.
fn add_null(schema: &mut Map<String, Value>) {
    let null_type = Value::String("null".to_owned());
    match schema.get_mut("type") {
        Some(Value::String(single)) => {
            let single = std::mem::take(single);
            schema.insert(
                "type".to_owned(),
                Value::Array(vec![Value::String(single), null_type]),
            );
        }
        Some(Value::Array(types)) => {
            if !types.contains(&null_type) {
                types.push(null_type);
            }
        }
        // No (or a malformed) `type`: OAS 3.0.3 gives `nullable` no effect here.
        _ => return,
    }
    if let Some(Value::Array(options)) = schema.get_mut("enum")
        && !options.contains(&Value::Null)
    {
        options.push(Value::Null);
    }
}

/// Compiles a translated schema with Draft 4 semantics; the error text explains the failure.
pub(crate) fn compile(json_schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::draft4::options()
        .build(json_schema)
        .map_err(|e| e.to_string())
}
