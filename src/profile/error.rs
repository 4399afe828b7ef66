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

/// The dotted name of the key on the line of `offset` in TOML `text`: the bare or quoted key
/// before `=`, under the last `[table]` header above it. Names only: no value is ever returned.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let (key, _) = text[start..end].split_once('=')?;
    let key = key.trim();
    let plain = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | ' '))
    };
    if !plain(key) {
        return None;
    }
    let table = text[..start].lines().rev().find_map(|line| {
        let line = line.trim();
        let name = line.strip_prefix('[')?.strip_suffix(']')?;
        let name = name.trim_matches(|c| c == '[' || c == ']').trim();
        plain(name).then(|| name.to_owned())
    });
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key.to_owned(),
    })
}

impl ProfileError {
    pub(crate) fn read(path: &Path, e: std::io::Error) -> Self {
        Self::Read {
            file: path.display().to_string(),
            reason: e.to_string(),
        }
    }

    pub(crate) fn syntax(file: &str, e: &toml::de::Error, text: &str) -> Self {
        let message = crate::secret::toml_error_without_excerpt(e, text);
        let key = e.span().and_then(|span| key_at(text, span.start));
        Self::Syntax {
            file: file.to_owned(),
            message: match key {
                Some(key) => format!("field `{key}`: {message}"),
                None => message,
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_error_names_the_field() {
        let text = "name = \"x\"\n\n[authorization]\npurpose = \"dpv:Fraud\"\npkce = \"yes\"\n";
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code, reason = "only the parse error matters")]
        struct Auth {
            purpose: String,
            pkce: bool,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code, reason = "only the parse error matters")]
        struct Doc {
            name: String,
            authorization: Auth,
        }
        let e = toml::from_str::<Doc>(text).expect_err("pkce is no boolean");
        let shown = ProfileError::syntax("p.toml", &e, text).to_string();
        assert!(
            shown.starts_with("profile p.toml: field `authorization.pkce`: line 5"),
            "{shown}"
        );
        assert_eq!(key_at("a = 1\n", 4).as_deref(), Some("a"));
        assert_eq!(key_at("no key here\n", 3), None);
    }
}
