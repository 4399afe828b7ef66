//! Profile errors: each names the file, the field, what was expected and what was found.

use std::path::Path;

/// A profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("profile {file}: cannot read: {reason}")]
    Read {
        /// The profile file.
        file: String,
        /// The I/O error.
        reason: String,
    },
    /// The TOML is malformed or has a field of the wrong type.
    #[error("profile {file}: {message}")]
    Syntax {
        /// The profile file.
        file: String,
        /// The parser's message (it names line, column and key).
        message: String,
    },
    /// A field has an unusable value.
    #[error("profile {file}: field `{field}`: expected {expected}, found {found}")]
    Field {
        /// The profile file.
        file: String,
        /// Dotted path of the field.
        field: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
}

impl ProfileError {
    pub(crate) fn read(path: &Path, e: std::io::Error) -> Self {
        Self::Read {
            file: path.display().to_string(),
            reason: e.to_string(),
        }
    }

    pub(crate) fn syntax(file: &str, e: &toml::de::Error, text: &str) -> Self {
        Self::Syntax {
            file: file.to_owned(),
            message: crate::secret::toml_error_without_excerpt(e, text),
        }
    }

    pub(crate) fn field(
        file: &str,
        field: &str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::Field {
            file: file.to_owned(),
            field: field.to_owned(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}
