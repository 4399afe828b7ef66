//! Errors that mean "this spec document cannot be used", never "the provider is wrong".
//!
//! Every variant names the document (its `origin`) and where in it the problem sits: a YAML
//! line and column when the text itself is broken, a JSON pointer when the structure or a
//! `$ref` is. A provider that breaks the spec produces [`super::Violation`]s, not these.

use std::path::PathBuf;

/// A spec document could not be read, parsed, resolved or compiled, or a caller asked it for
/// something it does not contain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read spec file {path}: {source}", path = path.display())]
    Io {
        /// The file that was asked for.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },

    /// The text is not valid YAML (or JSON, which is YAML too).
    #[error("{origin}: invalid YAML{}: {message}", at_line_col(*line, *column))]
    Yaml {
        /// File name used in messages.
        origin: String,
        /// 1-based line of the error, when the parser knows it.
        line: Option<usize>,
        /// 1-based column of the error, when the parser knows it.
        column: Option<usize>,
        /// The parser's explanation.
        message: String,
    },

    /// The document parsed but is not an OpenAPI 3.0 document (no `openapi: 3.0.x`, no `paths`...).
    #[error("{origin}: not an OpenAPI 3.0 document: {reason}")]
    NotOpenApi {
        /// File name used in messages.
        origin: String,
        /// What is missing or wrong.
        reason: String,
    },

    /// The document claims OpenAPI 3.0 but does not have its structure (checked with `openapiv3`),
    /// or a part this engine relies on is malformed.
    #[error("{origin}: invalid OpenAPI structure{}{}: {message}", at_pointer(pointer.as_deref()), at_line_col(*line, *column))]
    Structure {
        /// File name used in messages.
        origin: String,
        /// JSON pointer of the offending node, when known.
        pointer: Option<String>,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },

    /// A `$ref` points at nothing in the document.
    #[error("{origin}: $ref \"{reference}\" used at {used_at} does not resolve: {reason}")]
    UnresolvedRef {
        /// File name used in messages.
        origin: String,
        /// The reference as written.
        reference: String,
        /// JSON pointer of the object holding the `$ref`.
        used_at: String,
        /// Why it does not resolve.
        reason: String,
    },

    /// A chain of `$ref`s leads back to itself, so it cannot be inlined.
    #[error("{origin}: cyclic $ref \"{reference}\" used at {used_at}: {}", chain.join(" -> "))]
    CyclicRef {
        /// File name used in messages.
        origin: String,
        /// The reference that closes the cycle.
        reference: String,
        /// JSON pointer of the object holding that `$ref`.
        used_at: String,
        /// The references followed, ending with the repeated one.
        chain: Vec<String>,
    },

    /// A schema could not be compiled into a validator.
    #[error("{origin}: schema at {location} does not compile: {message}")]
    SchemaCompile {
        /// File name used in messages.
        origin: String,
        /// Where the schema sits, e.g. `paths./verify.post.responses.200.content.application/json.schema`.
        location: String,
        /// The compiler's explanation.
        message: String,
    },

    /// A caller asked for a schema the document does not have or that is not a schema.
    #[error("{origin}: no schema at \"{reference}\": {reason}")]
    UnknownSchema {
        /// File name used in messages.
        origin: String,
        /// The reference as the caller wrote it.
        reference: String,
        /// What was found instead.
        reason: String,
    },

    /// A caller named an operation the document does not have.
    #[error("{origin}: no operation with operationId \"{operation_id}\" (known: {known})")]
    UnknownOperation {
        /// File name used in messages.
        origin: String,
        /// The operationId asked for.
        operation_id: String,
        /// The operationIds the document has, comma separated.
        known: String,
    },
}

/// `" at line L, column C"`, or nothing when the position is unknown.
fn at_line_col(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

/// `" at /json/pointer"`, or nothing.
fn at_pointer(pointer: Option<&str>) -> String {
    match pointer {
        Some("") => " at the document root".to_owned(),
        Some(p) => format!(" at {p}"),
        None => String::new(),
    }
}
