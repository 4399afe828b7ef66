//! The `[aggregator]` section: a target that is a channel partner (aggregator) in front of
//! operators, not an operator itself. It names the operators behind it (their issuer, API root and
//! hosts, and optionally a client registered with them directly) and the test lines, one device
//! per line, each served by one operator. The aggregator's own endpoints and client are the
//! profile's top-level ones.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::Deserialize;

use super::raw::{RawClient, RawDeviceLeg, e164, url};
use super::{Client, DeviceLeg, Files, Lines, Profile, ProfileError};

/// The aggregator a profile targets.
#[derive(Debug, Clone)]
pub struct Aggregator {
    /// The operators behind it, as the profile lists them.
    pub operators: Vec<AggregatorOperator>,
    /// The test lines, at least two (each verifies true through its operator and false for the
    /// other line's number).
    pub lines: Vec<AggregatorLine>,
    /// A device address no operator serves (`unknown_device_address`), for the "no operator
    /// found" check; `None`: that check is skipped.
    pub unknown_device: Option<DeviceLeg>,
}

/// One operator behind the aggregator.
#[derive(Debug, Clone)]
pub struct AggregatorOperator {
    /// Its name, as lines refer to it.
    pub name: String,
    /// Its issuer (discovery at `{issuer}/.well-known/openid-configuration`).
    pub issuer: url::Url,
    /// Its API root.
    pub api_root: url::Url,
    /// Its hosts (normalized), all listed in the profile's `allowed_hosts`: the device leg is
    /// redirected there, and nowhere else.
    pub hosts: Vec<String>,
    /// A client registered with the operator directly (to obtain an operator code and token,
    /// and to time the operator without the aggregator); `None`: those checks are partial.
    pub client: Option<Client>,
}

/// One test line: a device, the operator serving it and its number.
#[derive(Debug, Clone)]
pub struct AggregatorLine {
    /// Index of its operator in [`Aggregator::operators`].
    pub operator: usize,
    /// How the device is identified (source address or enrichment headers).
    pub device: DeviceLeg,
    /// The line's number (E.164).
    pub number: String,
}

impl Aggregator {
    /// The operator of line `line`.
    pub fn operator_of(&self, line: usize) -> &AggregatorOperator {
        &self.operators[self.lines[line].operator]
    }

    /// The number of another line than `line` (what must verify false on `line`'s device).
    pub fn other_number(&self, line: usize) -> &str {
        let other = (line + 1) % self.lines.len();
        &self.lines[other].number
    }

    /// Every secret of the operators' direct clients.
    pub(super) fn secrets(&self) -> impl Iterator<Item = &crate::secret::Secret> {
        self.operators
            .iter()
            .filter_map(|o| o.client.as_ref())
            .flat_map(|c| c.private_key_pem.iter().chain(&c.client_secret))
    }
}

impl Profile {
    /// The profile of `line`'s operator on its own, as a client registered with it directly
    /// sees it: its issuer and API root, the operator's direct client, the line's device, the
    /// line's number and another line's. `None` when the profile is not an aggregator's. Without
    /// a direct client the app's client stands in: only the operator's API address is then of
    /// use (no flow can run with it).
    pub fn operator_view(&self, line: usize) -> Option<Profile> {
        let aggregator = self.aggregator.as_ref()?;
        let operator = aggregator.operator_of(line);
        let client = operator
            .client
            .clone()
            .unwrap_or_else(|| self.client.clone());
        let issuer = operator.issuer.clone();
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            issuer.as_str().trim_end_matches('/')
        );
        Some(Profile {
            origin: format!("{} (operator {})", self.origin, operator.name),
            name: format!("{} (operator {} directly)", self.name, operator.name),
            discovery_url: url::Url::parse(&discovery).ok()?,
            issuer,
            api_root: operator.api_root.clone(),
            client,
            device_leg: Some(aggregator.lines[line].device.clone()),
            token_source: None,
            non_network_login: None,
            lines: Lines {
                device: aggregator.lines[line].number.clone(),
                other: aggregator.other_number(line).to_owned(),
            },
            other_client: None,
            short_lived_client: None,
            flows: super::Flows {
                authorization_code: true,
                ciba: false,
                jwt_bearer: false,
            },
            operator_token: None,
            // The operator is a plain OAuth server: the code exchange names the redirect_uri.
            redirect_uri_at_token: true,
            dialect: None,
            endpoints: None,
            aggregator: None,
            ..self.clone()
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAggregator {
    #[serde(default)]
    operators: Vec<RawOperator>,
    #[serde(default)]
    lines: Vec<RawLine>,
    unknown_device_address: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperator {
    name: String,
    issuer: String,
    api_root: Option<String>,
    hosts: Option<Vec<String>>,
    client: Option<RawClient>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    operator: String,
    number: String,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    local_address: Option<String>,
    interface: Option<String>,
}

impl RawAggregator {
    /// Validates the section; `allowed_hosts` (normalized) must list every operator host.
    pub(super) fn validate(
        self,
        origin: &str,
        allowed_hosts: &[String],
        files: &Files<'_>,
    ) -> Result<Aggregator, ProfileError> {
        if self.operators.is_empty() {
            return Err(ProfileError::field(
                origin,
                "aggregator.operators",
                "at least one [[aggregator.operators]] table",
                "none",
            ));
        }
        let mut operators = Vec::new();
        let mut names = BTreeSet::new();
        for (i, op) in self.operators.into_iter().enumerate() {
            let section = format!("aggregator.operators[{i}]");
            if !names.insert(op.name.clone()) {
                return Err(ProfileError::field(
                    origin,
                    &format!("{section}.name"),
                    "a name no other operator has",
                    format!("{:?} twice", op.name),
                ));
            }
            let issuer = url(origin, &format!("{section}.issuer"), &op.issuer)?;
            let api_root = match &op.api_root {
                Some(u) => url(origin, &format!("{section}.api_root"), u)?,
                None => issuer.clone(),
            };
            let hosts = match op.hosts {
                Some(hosts) => hosts
                    .iter()
                    .map(|h| {
                        super::normalize_host(h).ok_or_else(|| {
                            ProfileError::field(
                                origin,
                                &format!("{section}.hosts"),
                                "host names or IP addresses only (no scheme, port or path)",
                                format!("{h:?}"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                None => {
                    let mut hosts: Vec<String> = [&issuer, &api_root]
                        .iter()
                        .filter_map(|u| super::url_host(u))
                        .collect();
                    hosts.dedup();
                    hosts
                }
            };
            // The device leg carries the line's identity; it is redirected to the operator only
            // because the profile says so, in the one list every run trusts.
            if let Some(missing) = hosts.iter().find(|h| !allowed_hosts.contains(h)) {
                return Err(ProfileError::field(
                    origin,
                    "allowed_hosts",
                    format!(
                        "every host of operator {:?} ({section}: {}) listed, since the device \
                         leg is redirected there",
                        op.name,
                        hosts.join(", ")
                    ),
                    format!("{missing} missing"),
                ));
            }
            let client = op
                .client
                .map(|c| c.validate(origin, &format!("{section}.client"), None, files))
                .transpose()?;
            operators.push(AggregatorOperator {
                name: op.name,
                issuer,
                api_root,
                hosts,
                client,
            });
        }
        if self.lines.len() < 2 {
            return Err(ProfileError::field(
                origin,
                "aggregator.lines",
                "at least two [[aggregator.lines]] tables (each line verifies true through its \
                 operator and false for another line's number)",
                format!("{}", self.lines.len()),
            ));
        }
        let mut lines = Vec::new();
        for (i, line) in self.lines.into_iter().enumerate() {
            let section = format!("aggregator.lines[{i}]");
            let operator = operators
                .iter()
                .position(|o| o.name == line.operator)
                .ok_or_else(|| {
                    ProfileError::field(
                        origin,
                        &format!("{section}.operator"),
                        format!(
                            "the name of an [[aggregator.operators]] ({})",
                            operators
                                .iter()
                                .map(|o| o.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        format!("{:?}", line.operator),
                    )
                })?;
            let number = e164(origin, &format!("{section}.number"), &line.number)?;
            let device = RawDeviceLeg {
                headers: line.headers,
                local_address: line.local_address,
                interface: line.interface,
            }
            .validate_in(origin, &section)?;
            if device.local_address.is_none() && device.headers.is_empty() {
                return Err(ProfileError::field(
                    origin,
                    &section,
                    "`local_address` or `headers`: how the aggregator's telco finder tells this \
                     line's device",
                    "neither",
                ));
            }
            if lines.iter().any(|l: &AggregatorLine| l.number == number) {
                return Err(ProfileError::field(
                    origin,
                    &format!("{section}.number"),
                    "a number no other line has",
                    format!("{number:?} twice"),
                ));
            }
            lines.push(AggregatorLine {
                operator,
                device,
                number,
            });
        }
        let unknown_device = self
            .unknown_device_address
            .map(|a| {
                a.parse::<IpAddr>()
                    .map(|ip| DeviceLeg {
                        local_address: Some(ip),
                        ..DeviceLeg::default()
                    })
                    .map_err(|_| {
                        ProfileError::field(
                            origin,
                            "aggregator.unknown_device_address",
                            "an IP address no line uses",
                            format!("{a:?}"),
                        )
                    })
            })
            .transpose()?;
        if let Some(ip) = unknown_device.as_ref().and_then(|d| d.local_address)
            && lines.iter().any(|l| l.device.local_address == Some(ip))
        {
            return Err(ProfileError::field(
                origin,
                "aggregator.unknown_device_address",
                "an IP address no line uses",
                format!("{ip}, a line's local_address"),
            ));
        }
        Ok(Aggregator {
            operators,
            lines,
            unknown_device,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn fixture() -> String {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/providers/aggregator.toml"),
        )
        .expect("fixture")
    }

    fn load(text: &str) -> Result<Profile, ProfileError> {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/providers");
        Profile::from_toml(text, "agg.toml", &base)
    }

    #[test]
    fn the_shipped_aggregator_profile_loads() {
        let p = load(&fixture()).expect("loads");
        let a = p.aggregator.as_ref().expect("aggregator");
        assert_eq!(a.operators.len(), 2);
        assert_eq!(a.lines.len(), 2);
        assert_eq!(a.operator_of(1).name, "operator-b");
        assert_eq!(a.other_number(0), a.lines[1].number);
        assert_eq!(a.operators[0].hosts, ["127.0.0.11"]);
        assert!(a.unknown_device.is_some());
        let view = p.operator_view(1).expect("direct client");
        assert_eq!(view.issuer.host_str(), Some("127.0.0.12"));
        assert_eq!(view.lines.device, a.lines[1].number);
        assert!(view.aggregator.is_none() && view.redirect_uri_at_token);
        assert_eq!(
            view.device_leg.and_then(|d| d.local_address),
            a.lines[1].device.local_address
        );
        // Direct-client secrets are redacted with the others.
        assert!(p.secrets().len() > 2);
    }

    #[test]
    fn errors_name_the_file_and_field() {
        let text = fixture();
        for (from, to, field) in [
            (
                "allowed_hosts = [\"127.0.0.11\", \"127.0.0.12\"]",
                "allowed_hosts = [\"127.0.0.11\"]",
                "allowed_hosts",
            ),
            (
                "operator = \"operator-b\"",
                "operator = \"operator-c\"",
                "aggregator.lines[1].operator",
            ),
            (
                "number = \"+34700000003\"",
                "number = \"34700000003\"",
                "aggregator.lines[1].number",
            ),
            (
                "number = \"+34700000003\"",
                "number = \"+34600000002\"",
                "aggregator.lines[1].number",
            ),
            (
                "local_address = \"127.0.0.3\"",
                "local_address = \"nowhere\"",
                "aggregator.lines[1].local_address",
            ),
            (
                "unknown_device_address = \"127.0.0.4\"",
                "unknown_device_address = \"127.0.0.2\"",
                "aggregator.unknown_device_address",
            ),
            (
                "name = \"operator-b\"",
                "name = \"operator-a\"",
                "aggregator.operators[1].name",
            ),
            (
                "issuer = \"http://127.0.0.12:9093\"",
                "issuer = \"127.0.0.12\"",
                "aggregator.operators[1].issuer",
            ),
        ] {
            assert!(text.contains(from), "{from}");
            let e = load(&text.replacen(from, to, 1)).unwrap_err().to_string();
            assert!(
                e.contains("agg.toml") && e.contains(&format!("`{field}`")),
                "{field}: {e}"
            );
        }
        // One line is not enough to cross-check numbers.
        let one_line = text
            .split("[[aggregator.lines]]")
            .take(2)
            .collect::<Vec<_>>()
            .join("[[aggregator.lines]]");
        let e = load(&one_line).unwrap_err().to_string();
        assert!(e.contains("`aggregator.lines`"), "{e}");
        let e = load(&text.replace("local_address = \"127.0.0.3\"", ""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`aggregator.lines[1]`") && e.contains("neither"),
            "{e}"
        );
        let e = load(&text.replace("[aggregator]", "[aggregator]\ntypo = 1"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("typo"), "{e}");
    }
}
