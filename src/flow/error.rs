//! Flow errors: why a flow could not be driven to its end.

/// A flow step did not complete.
// Clone: a failed discovery is kept and reported again to every caller.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FlowError {
    /// The request could not be sent or its answer not read (connection, timeout, TLS).
    #[error("{step}: request to {url} failed: {message}")]
    Transport {
        /// Which step (e.g. "token endpoint").
        step: &'static str,
        /// Target URL (without query, which may carry codes).
        url: String,
        /// The client's error.
        message: String,
    },
    /// The answer was larger than nvcert accepts from a provider.
    #[error("{step}: response from {url} exceeds {limit} bytes")]
    BodyTooLarge {
        /// Which step.
        step: &'static str,
        /// Target URL.
        url: String,
        /// The cap.
        limit: usize,
    },
    /// The provider answered, but not in a way the flow can continue from.
    #[error("{step}: expected {expected}, found {found}")]
    Provider {
        /// Which step.
        step: &'static str,
        /// What the protocol requires.
        expected: String,
        /// What the provider sent.
        found: String,
    },
    /// The provider pointed nvcert at a host that is not one of its own (a discovered endpoint
    /// or a redirect): nothing was sent there.
    #[error("{step}: {message}")]
    Untrusted {
        /// Which step.
        step: &'static str,
        /// The host, why it is refused, and the fix (see `trust::TrustSet::explain`).
        message: String,
    },
    /// The flow is not possible with this profile (e.g. no device leg here); the scenario is skipped.
    #[error("{0}")]
    Unavailable(String),
    /// nvcert's own configuration is unusable (e.g. a key that cannot sign).
    #[error("configuration: {0}")]
    Config(String),
}

impl FlowError {
    pub(crate) fn provider(
        step: &'static str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::Provider {
            step,
            expected: expected.into(),
            found: found.into(),
        }
    }
}
