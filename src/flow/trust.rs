//! The hosts a run may contact: the provider's. One rule for `run` and `load`.
//!
//! A run trusts the hosts of the profile's issuer, discovery URL, API root, operator-token
//! device URL and explicit endpoints (dialects without discovery), and whatever the profile lists in `allowed_hosts` (real deployments split the
//! authorization server and the API over hosts, and an aggregator's device leg is redirected to
//! the operator's authorization server). Nothing else is contacted: not a host a discovery
//! document or a redirect names, not another loopback address.
//!
//! Link-local addresses (169.254.0.0/16, fe80::/10) and cloud-metadata endpoints are refused even
//! when a profile URL names them, unless `allowed_hosts` lists them explicitly: a redirect there
//! is how a hostile provider reaches a cloud instance's credentials.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::profile::{OperatorTokenSource, Profile, url_host};

/// Host names of cloud-metadata services (GCP, AWS, Azure and others).
const METADATA_NAMES: &[&str] = &[
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
    "metadata.packet.net",
];

/// Why a URL is not contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its host is not one of the provider's.
    OutsideProvider,
    /// A link-local or cloud-metadata address that `allowed_hosts` does not list.
    Metadata,
    /// Not an http(s) URL with a host.
    NotHttp,
}

/// The provider's hosts for one run.
#[derive(Debug, Clone, Default)]
pub struct TrustSet {
    /// Hosts of the URLs the profile names.
    named: BTreeSet<String>,
    /// `allowed_hosts`, as listed.
    listed: BTreeSet<String>,
}

impl TrustSet {
    /// The trust set of `profile`.
    pub fn of_profile(profile: &Profile) -> Self {
        let mut urls = vec![&profile.issuer, &profile.discovery_url, &profile.api_root];
        if let Some(OperatorTokenSource::Device(url)) = &profile.operator_token {
            urls.push(url);
        }
        if let Some(endpoints) = &profile.endpoints {
            urls.push(&endpoints.authorization_endpoint);
            urls.push(&endpoints.token_endpoint);
            urls.extend(&endpoints.jwks_uri);
            urls.extend(&endpoints.backchannel_authentication_endpoint);
        }
        let named = urls.into_iter().filter_map(url_host).collect();
        // Normalized when the profile was read.
        let listed = profile.allowed_hosts.iter().cloned().collect();
        Self { named, listed }
    }

    /// Whether `url` may be contacted.
    pub fn check(&self, url: &url::Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::NotHttp);
        }
        let Some(host) = url_host(url) else {
            return Err(Refusal::NotHttp);
        };
        if self.listed.contains(&host) {
            return Ok(());
        }
        if is_metadata(url) {
            return Err(Refusal::Metadata);
        }
        if self.named.contains(&host) {
            Ok(())
        } else {
            Err(Refusal::OutsideProvider)
        }
    }

    /// The trusted hosts, sorted, comma-separated (for messages).
    pub fn hosts(&self) -> String {
        let all: BTreeSet<&String> = self.named.iter().chain(&self.listed).collect();
        all.into_iter().cloned().collect::<Vec<_>>().join(", ")
    }

    /// `subject` (e.g. "redirect to", "the discovered token_endpoint") refused for `refusal`,
    /// as a sentence naming the host, why, and the fix.
    pub fn explain(&self, subject: &str, url: &url::Url, refusal: Refusal) -> String {
        let host = url.host_str().unwrap_or("(no host)");
        match refusal {
            Refusal::OutsideProvider => format!(
                "{subject} {host} is outside the provider's hosts ({}); add it to allowed_hosts in the profile if it belongs to the provider",
                self.hosts()
            ),
            Refusal::Metadata => format!(
                "{subject} {host} is a link-local or cloud-metadata address, never contacted unless the profile lists it in allowed_hosts"
            ),
            Refusal::NotHttp => {
                format!(
                    "{subject} {url} is not an http(s) URL with a host; nvcert does not follow it"
                )
            }
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OutsideProvider => "outside the provider's hosts",
            Self::Metadata => "a link-local or cloud-metadata address",
            Self::NotHttp => "not an http(s) URL",
        })
    }
}

/// Link-local (169.254.0.0/16, fe80::/10, also IPv4-mapped) or a cloud-metadata address.
fn is_metadata(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => is_metadata_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_metadata_ip(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            METADATA_NAMES.contains(&name.as_str())
        }
        None => false,
    }
}

fn is_metadata_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_link_local()
                // Alibaba Cloud's metadata service.
                || v4 == Ipv4Addr::new(100, 100, 100, 200)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_metadata_ip(IpAddr::V4(v4));
            }
            (v6.segments()[0] & 0xffc0) == 0xfe80
                // AWS's IPv6 instance metadata endpoint.
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::normalize_host;

    fn set(named: &[&str], listed: &[&str]) -> TrustSet {
        TrustSet {
            named: named.iter().map(|h| normalize_host(h).unwrap()).collect(),
            listed: listed.iter().map(|h| normalize_host(h).unwrap()).collect(),
        }
    }

    fn check(set: &TrustSet, url: &str) -> Result<(), Refusal> {
        set.check(&url::Url::parse(url).unwrap())
    }

    #[test]
    fn only_the_named_and_listed_hosts_are_trusted() {
        let trust = set(&["127.0.0.1", "as.example"], &["api.example", "::1"]);
        for (url, expected) in [
            ("http://127.0.0.1:9091/authorize", Ok(())),
            ("http://127.0.0.1:1/other-port", Ok(())),
            ("https://AS.example/token", Ok(())),
            ("https://api.example/verify", Ok(())),
            ("http://[::1]:8080/", Ok(())),
            ("http://127.0.0.2/", Err(Refusal::OutsideProvider)),
            ("http://localhost/", Err(Refusal::OutsideProvider)),
            ("http://10.0.0.1/", Err(Refusal::OutsideProvider)),
            ("https://as.example.evil/", Err(Refusal::OutsideProvider)),
            (
                "http://169.254.169.254/latest/meta-data/",
                Err(Refusal::Metadata),
            ),
            ("http://169.254.1.2/", Err(Refusal::Metadata)),
            ("http://[fe80::1]/", Err(Refusal::Metadata)),
            ("http://[::ffff:169.254.169.254]/", Err(Refusal::Metadata)),
            ("http://[fd00:ec2::254]/", Err(Refusal::Metadata)),
            ("http://metadata.google.internal/", Err(Refusal::Metadata)),
            ("http://100.100.100.200/", Err(Refusal::Metadata)),
            ("file:///etc/passwd", Err(Refusal::NotHttp)),
            ("ftp://as.example/", Err(Refusal::NotHttp)),
        ] {
            assert_eq!(check(&trust, url), expected, "{url}");
        }
    }

    #[test]
    fn metadata_addresses_need_an_explicit_listing() {
        // Named by a profile URL is not enough...
        let named = set(&["169.254.169.254"], &[]);
        assert_eq!(
            check(&named, "http://169.254.169.254/"),
            Err(Refusal::Metadata)
        );
        // ...listed in allowed_hosts is.
        let listed = set(&[], &["169.254.169.254"]);
        assert_eq!(check(&listed, "http://169.254.169.254/"), Ok(()));
    }

    #[test]
    fn explanations_name_the_host_why_and_the_fix() {
        let trust = set(&["127.0.0.1"], &[]);
        let url = url::Url::parse("http://169.254.169.254/x").unwrap();
        let text = trust.explain("redirect to", &url, Refusal::Metadata);
        assert!(
            text.starts_with("redirect to 169.254.169.254 is a link-local"),
            "{text}"
        );
        assert!(text.contains("allowed_hosts"), "{text}");
        let url = url::Url::parse("http://evil.example/x").unwrap();
        let text = trust.explain("redirect to", &url, Refusal::OutsideProvider);
        assert_eq!(
            text,
            "redirect to evil.example is outside the provider's hosts (127.0.0.1); add it to allowed_hosts in the profile if it belongs to the provider"
        );
    }

    #[test]
    fn allowed_hosts_entries_are_hosts_only() {
        assert_eq!(
            normalize_host("AS.Example.com").as_deref(),
            Some("as.example.com")
        );
        assert_eq!(normalize_host("::1").as_deref(), Some("[::1]"));
        assert_eq!(normalize_host("[::1]").as_deref(), Some("[::1]"));
        assert_eq!(normalize_host("10.1.2.3").as_deref(), Some("10.1.2.3"));
        for bad in [
            "",
            "https://as.example",
            "as.example/path",
            "a b",
            "user@host",
        ] {
            assert_eq!(normalize_host(bad), None, "{bad:?}");
        }
    }
}
