//! TEMPORARY stub (replaced by the real provider).
#![allow(missing_docs, dead_code, unused_variables)]
#[derive(Debug)]
pub struct ProviderConfig;
#[derive(Debug, thiserror::Error)]
#[error("provider")]
pub struct ProviderError;
impl ProviderConfig {
    pub fn load(path: &std::path::Path) -> Result<Self, ProviderError> {
        Err(ProviderError)
    }
    pub fn embedded() -> Self {
        Self
    }
}
pub struct ProviderHandle {
    pub url: url::Url,
    pub local_addr: std::net::SocketAddr,
}
impl ProviderHandle {
    pub async fn shutdown(self) {}
}
pub async fn spawn(
    config: ProviderConfig,
    addr: std::net::SocketAddr,
    public_url: Option<url::Url>,
) -> Result<ProviderHandle, ProviderError> {
    Err(ProviderError)
}
