//! The client registry and the simulated network's view of lines: registered clients with their
//! parsed keys, the source-IP table, the enrichment header, and the fallback line.
//!
//! Built once from the config and read-only afterwards (no locks). It must not decide how a client
//! authenticates or whether a header is trusted; `client_auth` and `authorize` do that.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderName;
use jsonwebtoken::DecodingKey;
use sha2::{Digest, Sha256};

use super::super::config::{AuthMethod, ProviderConfig};
use super::super::error::ProviderError;
use super::invalid;
use crate::secret::Secret;

/// A phone line the provider has authenticated, with its SHA-256 precomputed for hashed verify.
#[derive(Debug)]
pub(crate) struct Line {
    pub msisdn: Box<str>,
    /// Lowercase hex SHA-256 of the UTF-8 string `+<digits>` (NV `hashedPhoneNumber`).
    pub sha256_hex: Box<str>,
}

impl Line {
    pub(crate) fn new(msisdn: &str) -> Self {
        Self {
            msisdn: msisdn.into(),
            sha256_hex: hex::encode(Sha256::digest(msisdn.as_bytes())).into(),
        }
    }
}

/// A registered client with its parsed key.
pub(crate) struct Client {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub auth_methods: Vec<AuthMethod>,
    pub key: Option<DecodingKey>,
    pub secret: Option<Secret>,
    pub access_token_ttl: u64,
    /// Authorization-code lifetime (the client's, else the global one).
    pub code_ttl: Duration,
    pub require_pkce: bool,
}

/// Registered clients and the lines the simulated network knows.
pub(crate) struct ClientRegistry {
    by_id: HashMap<String, Client>,
    /// Source IP (canonical, see [`canonical_ip`]) → MSISDN.
    ip_table: HashMap<IpAddr, String>,
    /// The trusted enrichment header carrying the MSISDN (TEST-ONLY trust).
    pub enrichment_header: HeaderName,
    /// The first configured line: what a forged token stands for under `api-signature-not-checked`
    /// and an unknown operator token under `ciba-unknown-login-hint-accepted`.
    pub fallback_line: Arc<Line>,
}

impl ClientRegistry {
    /// Parses the clients' public keys and the enrichment header name.
    pub(crate) fn new(config: &ProviderConfig) -> Result<Self, ProviderError> {
        let mut by_id = HashMap::new();
        for (i, c) in config.clients.iter().enumerate() {
            let key = match &c.public_key_pem {
                Some(p) => Some(DecodingKey::from_ec_pem(p.as_bytes()).map_err(|e| {
                    invalid(
                        config,
                        &format!("clients[{i}].public_key_file"),
                        format!("not an EC public key: {e}"),
                    )
                })?),
                None => None,
            };
            by_id.insert(
                c.client_id.clone(),
                Client {
                    client_id: c.client_id.clone(),
                    redirect_uris: c.redirect_uris.clone(),
                    auth_methods: c.token_endpoint_auth_methods.clone(),
                    key,
                    secret: c.client_secret.clone(),
                    access_token_ttl: c.access_token_ttl_seconds,
                    code_ttl: Duration::from_secs(
                        c.code_ttl_seconds.unwrap_or(config.code_ttl_seconds),
                    ),
                    require_pkce: c.require_pkce,
                },
            );
        }
        let ip_table = config
            .ip_lines
            .iter()
            .map(|l| (canonical_ip(l.source_ip), l.msisdn.clone()))
            .collect();
        let enrichment_header = HeaderName::from_bytes(config.enrichment_header.as_bytes())
            .map_err(|e| invalid(config, "enrichment_header", e.to_string()))?;
        let fallback_msisdn = config
            .lines
            .first()
            .map(|l| l.msisdn.as_str())
            .or_else(|| config.ip_lines.first().map(|l| l.msisdn.as_str()))
            .unwrap_or("+10000000000");
        Ok(Self {
            by_id,
            ip_table,
            enrichment_header,
            fallback_line: Arc::new(Line::new(fallback_msisdn)),
        })
    }

    /// The registered client `client_id`.
    pub(crate) fn get(&self, client_id: &str) -> Option<&Client> {
        self.by_id.get(client_id)
    }

    /// The MSISDN of the line at TCP source address `ip`, as the mobile core would see it.
    pub(crate) fn msisdn_at(&self, ip: IpAddr) -> Option<&str> {
        self.ip_table.get(&canonical_ip(ip)).map(String::as_str)
    }
}

/// IPv4-mapped IPv6 source addresses (dual-stack sockets) compare as IPv4.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_mapped_is_canonicalised() {
        let ip: IpAddr = "::ffff:127.0.0.2".parse().expect("ip");
        assert_eq!(canonical_ip(ip), "127.0.0.2".parse::<IpAddr>().expect("ip"));
    }

    #[test]
    fn source_ip_table_matches_mapped_addresses() {
        let mut config = ProviderConfig::embedded();
        config.ip_lines = vec![super::super::super::config::IpLine {
            source_ip: "127.0.0.2".parse().expect("ip"),
            msisdn: "+34600000002".into(),
        }];
        let registry = ClientRegistry::new(&config).expect("registry");
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().expect("ip");
        assert_eq!(registry.msisdn_at(mapped), Some("+34600000002"));
        assert_eq!(registry.msisdn_at("127.0.0.3".parse().expect("ip")), None);
    }
}
