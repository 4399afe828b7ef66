//! Through an aggregator (`[aggregator]` profiles): the device of each line, the device no
//! operator serves, and each line's operator driven directly with the client registered there.
//! The device legs are the ordinary one ([`Flow::authorize`] and [`Flow::device_hops`]): only
//! which device sends them, and where they stop, differ.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::device::{AuthorizeOutcome, AuthorizeRequest, Device, Login, StopAt};
use super::token::TokenResponse;
use super::{Flow, FlowError, http};
use crate::profile::{Profile, ValueSources};
use crate::secret::Redactor;
use crate::spec::SpecDocument;

/// The devices and direct operator flows of an aggregator profile.
#[derive(Debug)]
pub(super) struct AggregatorLegs {
    /// The device of each line, bound to its address.
    lines: Vec<reqwest::Client>,
    /// The device no operator serves, when the profile names one.
    unknown: Option<reqwest::Client>,
    /// Each line's operator as a client registered there sees it.
    direct: Vec<Arc<Flow>>,
    /// Whether the profile gives that client (else only the operator's API address is known).
    direct_client: Vec<bool>,
}

impl AggregatorLegs {
    /// The legs of `profile`'s `[aggregator]`, or `None` when it has none.
    pub(super) fn new(
        profile: &Profile,
        spec: &SpecDocument,
        redactor: &Redactor,
        sources: &ValueSources,
    ) -> Result<Option<Self>, FlowError> {
        let Some(aggregator) = &profile.aggregator else {
            return Ok(None);
        };
        let timeout = Duration::from_secs(profile.timeout_secs);
        let lines = aggregator
            .lines
            .iter()
            .map(|l| http::device_client(timeout, &l.device))
            .collect::<Result<Vec<_>, _>>()?;
        let unknown = aggregator
            .unknown_device
            .as_ref()
            .map(|d| http::device_client(timeout, d))
            .transpose()?;
        let direct = (0..aggregator.lines.len())
            .filter_map(|line| profile.operator_view(line))
            .map(|view| {
                Flow::new(Arc::new(view), spec, redactor.clone(), sources.clone()).map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let direct_client = (0..aggregator.lines.len())
            .map(|line| aggregator.operator_of(line).client.is_some())
            .collect();
        Ok(Some(Self {
            lines,
            unknown,
            direct,
            direct_client,
        }))
    }
}

/// One hop of a device leg as the chain checks read it: where it went, and what came back. No
/// query: it carries codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// `scheme://host:port` of the URL.
    pub origin: String,
    /// Its path.
    pub path: String,
    /// The answer's status; `None` for the redirect the leg stopped at (not contacted).
    pub status: Option<u16>,
}

impl Hop {
    /// The hop to `url`, answered with `status`.
    pub fn to(url: &url::Url, status: Option<u16>) -> Self {
        Self {
            origin: url.origin().ascii_serialization(),
            path: url.path().to_owned(),
            status,
        }
    }
}

impl AuthorizeOutcome {
    /// Every hop of the leg, the redirect it stopped at last.
    pub fn hops(&self) -> Vec<Hop> {
        self.exchanges
            .iter()
            .map(|e| Hop::to(&e.request.url, Some(e.response.status.as_u16())))
            .chain(self.stopped_at.iter().map(|u| Hop::to(u, None)))
            .collect()
    }
}

/// A device's HTTP client and the enrichment headers it sends (none: identified by address).
pub(super) type DeviceClient<'a> = (&'a reqwest::Client, Option<&'a BTreeMap<String, String>>);

impl Flow {
    /// The device client (and its enrichment headers) of `device`, or `Unavailable` when the
    /// profile declares no such device.
    pub(super) fn device_client(&self, device: Device) -> Result<DeviceClient<'_>, FlowError> {
        let no_aggregator =
            || FlowError::Unavailable("the profile has no [aggregator] section".into());
        match device {
            Device::Profile => match (&self.device, &self.profile.device_leg) {
                (Some(client), Some(leg)) => Ok((client, Some(&leg.headers))),
                _ => Err(FlowError::Unavailable(
                    "the profile has no [device_leg] to run here".into(),
                )),
            },
            Device::AggregatorLine(line) => {
                let legs = self.aggregator.as_ref().ok_or_else(no_aggregator)?;
                let leg = self
                    .profile
                    .aggregator
                    .as_ref()
                    .and_then(|a| a.lines.get(line))
                    .zip(legs.lines.get(line))
                    .ok_or_else(|| {
                        FlowError::Unavailable(format!("the profile has no aggregator line {line}"))
                    })?;
                Ok((leg.1, Some(&leg.0.device.headers)))
            }
            Device::Unknown => {
                let legs = self.aggregator.as_ref().ok_or_else(no_aggregator)?;
                legs.unknown.as_ref().map(|c| (c, None)).ok_or_else(|| {
                    FlowError::Unavailable(
                        "the profile gives no aggregator.unknown_device_address".into(),
                    )
                })
            }
        }
    }

    /// An authorization request for `nv_scopes` sent by `device`, stopping at `stop`.
    pub fn device_request(
        &self,
        nv_scopes: &[String],
        device: Device,
        stop: StopAt,
    ) -> AuthorizeRequest {
        AuthorizeRequest {
            device,
            stop,
            ..self.authorize_request(nv_scopes, Login::Network)
        }
    }

    /// The whole flow on aggregator line `line`'s device (device leg, state check, code
    /// exchange): the request, the leg and the token response.
    pub async fn line_token(
        &self,
        line: usize,
        nv_scopes: &[String],
    ) -> Result<(AuthorizeRequest, AuthorizeOutcome, TokenResponse), FlowError> {
        let request =
            self.device_request(nv_scopes, Device::AggregatorLine(line), StopAt::RedirectUri);
        let outcome = self.authorize(&request).await?;
        let code = outcome.code_to_continue(&request)?;
        let (response, _) = self.exchange_code(&code, &request).await?;
        Ok((request, outcome, response))
    }

    /// Line `line`'s operator, driven directly with the client the profile registers there
    /// (its device leg from the line's device); `Unavailable` when the profile gives none.
    pub fn operator_direct(&self, line: usize) -> Result<&Flow, FlowError> {
        self.aggregator
            .as_ref()
            .filter(|a| a.direct_client.get(line) == Some(&true))
            .and_then(|a| a.direct.get(line))
            .map(|f| &**f)
            .ok_or_else(|| {
                FlowError::Unavailable(format!(
                    "the profile gives no direct client for the operator of aggregator line {line} \
                     (aggregator.operators[].client)"
                ))
            })
    }

    /// The NV API of line `line`'s operator, called directly (no flow of the operator needed).
    pub fn operator_api(&self, line: usize) -> Result<&super::Api, FlowError> {
        self.aggregator
            .as_ref()
            .and_then(|a| a.direct.get(line))
            .map(|f| f.api())
            .ok_or_else(|| {
                FlowError::Unavailable(format!("the profile has no aggregator line {line}"))
            })
    }

    /// How many lines the aggregator profile declares (0: not an aggregator).
    pub fn aggregator_lines(&self) -> usize {
        self.profile
            .aggregator
            .as_ref()
            .map_or(0, |a| a.lines.len())
    }
}
