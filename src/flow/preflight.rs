//! Preflight: before any scenario, what every scenario depends on is tried once: each token
//! source of the profile gives a value, the discovery document can be fetched, and the API root
//! answers HTTP. A misconfigured profile or an unreachable provider then stops the run with one
//! message naming the profile field or URL and the cause, instead of failing (or, worse,
//! skipping) every scenario one by one.
//!
//! What the provider answers is not judged here: a discovery document that lacks a member, or an
//! API answer of any status, is left to the checks. Only "could not ask at all" stops the run.

use super::{Flow, FlowError, http};
use crate::profile::{OperatorTokenSource, TokenSource};

/// What preflight found wrong: the profile field or URL concerned, and why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{subject}: {cause}")]
pub struct PreflightError {
    /// The profile field (`token_source.env`) or the URL concerned.
    pub subject: String,
    /// What went wrong, on one line.
    pub cause: String,
}

impl PreflightError {
    fn new(subject: impl Into<String>, cause: impl Into<String>) -> Self {
        // One line, whatever the underlying error's text.
        let cause: String = cause.into();
        let cause = cause.split_whitespace().collect::<Vec<_>>().join(" ");
        Self {
            subject: subject.into(),
            cause,
        }
    }
}

/// The profile field a token source is written in (`token_source.env`).
fn field(section: &str, source: &TokenSource) -> String {
    match source {
        TokenSource::Env(_) => format!("{section}.env"),
        TokenSource::Command(_) => format!("{section}.command"),
    }
}

impl Flow {
    /// Tries the sources first (no network: an unset variable is reported at once), then
    /// discovery (the document is kept for the run), then the API root.
    pub async fn preflight(&self) -> Result<(), PreflightError> {
        let profile = self.profile();
        let origin = &profile.origin;
        let in_profile = |field: String| format!("profile {origin}: field `{field}`");

        if let Some(source) = &profile.token_source {
            let value = self
                .sources
                .read("token source", source)
                .await
                .map_err(|e| {
                    PreflightError::new(in_profile(field("token_source", source)), e.reason)
                })?;
            self.redactor.register(&value);
        }
        if let Some(OperatorTokenSource::Read(source)) = &profile.operator_token {
            let value = self
                .sources
                .read("operator token", source)
                .await
                .map_err(|e| {
                    PreflightError::new(in_profile(field("operator_token", source)), e.reason)
                })?;
            self.redactor.register(&value);
        }

        // The field to correct: `discovery_url` when the profile names one, else `issuer`.
        let derived = format!(
            "{}/.well-known/openid-configuration",
            profile.issuer.as_str().trim_end_matches('/')
        );
        let discovery_field = if profile.discovery_url.as_str() == derived {
            "issuer"
        } else {
            "discovery_url"
        };
        let discovery_url = http::without_query(&profile.discovery_url);
        // PhoneCheck publishes no discovery document: its endpoints come from the profile.
        let has_discovery = profile.family != crate::profile::Family::PhoneCheck;
        match if has_discovery {
            self.discovery().await.map(|_| ())
        } else {
            Ok(())
        } {
            Ok(_) => {}
            Err(FlowError::Transport { message, .. }) => {
                return Err(PreflightError::new(
                    format!(
                        "discovery {discovery_url} ({})",
                        in_profile(discovery_field.into())
                    ),
                    format!("cannot be fetched: {message}"),
                ));
            }
            Err(e @ FlowError::BodyTooLarge { .. }) => {
                return Err(PreflightError::new(
                    format!("discovery {discovery_url}"),
                    e.to_string(),
                ));
            }
            // An answer other than 2xx: most likely the wrong issuer, and nothing can run.
            Err(FlowError::Provider { found, .. }) if found.starts_with("HTTP ") => {
                return Err(PreflightError::new(
                    format!(
                        "discovery {discovery_url} ({})",
                        in_profile(discovery_field.into())
                    ),
                    format!("expected HTTP 200 with the discovery document, found {found}"),
                ));
            }
            // Endpoints outside the provider's hosts: nothing more is sent; the run stops on it
            // right after, with the rule's own message shared with `load` (see cli::run).
            Err(FlowError::Untrusted { .. }) => return Ok(()),
            // A document the flows cannot use is the checks' business (a failed discovery check).
            Err(_) => {}
        }

        let api = self.api().base_url();
        let request = self
            .backend()
            .get(api.clone())
            .build()
            .map_err(|e| PreflightError::new(in_profile("api_root".into()), e.to_string()))?;
        match self.transmit(self.backend(), request, "API root").await {
            Ok(_) => Ok(()),
            Err(FlowError::Transport { message, .. }) => Err(PreflightError::new(
                format!(
                    "API {} ({})",
                    http::without_query(api),
                    in_profile("api_root".into())
                ),
                format!("cannot be reached: {message}"),
            )),
            // It answered: reachable; what it answered is judged by the scenarios.
            Err(_) => Ok(()),
        }
    }
}
