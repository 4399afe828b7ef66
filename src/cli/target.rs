//! What `run` and `load` point at: the provider a `--provider` profile describes, or the embedded
//! reference provider started here; with the spec that judges it and the flows that drive it.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

use super::command::ShellRunner;
use crate::flow::Flow;
use crate::profile::{Family, Profile, ValueSources, family};
use crate::provider::{self, ProviderConfig, ProviderDialect, ProviderHandle, SpecVersion};
use crate::secret::Redactor;
use crate::spec::{self, SpecDocument};

/// The provider under test. The embedded provider, if started, lives until [`Target::shutdown`].
pub(super) struct Target {
    /// Drives the provider; built from the profile and the spec.
    pub flow: Arc<Flow>,
    /// The NV spec the provider is judged by.
    pub spec: Arc<SpecDocument>,
    embedded: Option<Embedded>,
}

/// The reference provider started for a run: the NV one, the PhoneCheck one, or the
/// aggregator with its operators.
enum Embedded {
    Nv(ProviderHandle),
    PhoneCheck(provider::phonecheck::PhoneCheckHandle),
    Aggregator(provider::aggregator::AggregatorHandle),
}

/// What to point at, as the command line says.
pub(super) struct TargetArgs<'a> {
    /// `--provider FILE`; `None`: start the embedded reference provider.
    pub provider: Option<&'a Path>,
    /// `--spec-version`: overrides the profile's; the embedded provider serves it too.
    pub spec_version: Option<&'a str>,
    /// The embedded provider makes access tokens single-use (the `wip` rule set).
    pub single_use_tokens: bool,
    /// `--dialect`: the embedded provider plays it, with the dialect's profile.
    pub dialect: Option<&'a str>,
    /// `--aggregator`: start the embedded aggregator and its operators, with the aggregator's
    /// profile.
    pub aggregator: bool,
}

impl Target {
    /// Loads the profile (or starts the embedded provider), selects the spec and prepares the
    /// flows, registering every secret of the profile with `redactor`.
    pub async fn resolve(args: TargetArgs<'_>, redactor: &Redactor) -> anyhow::Result<Self> {
        let (profile, embedded) = match args.provider {
            Some(path) => (Profile::load(path)?, None),
            None if args.aggregator => {
                let mut config = provider::aggregator::AggregatorConfig::embedded();
                let version = args
                    .spec_version
                    .map(|v| v.parse::<SpecVersion>())
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--spec-version: {e}"))?;
                if let Some(v) = version {
                    config.set_spec_version(v);
                }
                let handle = provider::aggregator::spawn(config, ([127, 0, 0, 1], 0).into(), None)
                    .await
                    .context("cannot start the embedded aggregator and its operators")?;
                let operators: Vec<&str> =
                    handle.operators.iter().map(|o| o.url.as_str()).collect();
                let v0 = version.is_some_and(|v| v.as_str().starts_with("0."));
                let profile = Profile::embedded_aggregator(&handle.url, &operators, v0)?;
                (profile, Some(Embedded::Aggregator(handle)))
            }
            None if args.dialect == Some(provider::phonecheck::DIALECT) => {
                if args.spec_version.is_some() {
                    anyhow::bail!(
                        "--spec-version and --dialect: a dialect is judged by its own document"
                    );
                }
                let handle = provider::phonecheck::spawn(
                    provider::phonecheck::PhoneCheckConfig::embedded(),
                    ([127, 0, 0, 1], 0).into(),
                    None,
                )
                .await
                .context("cannot start the embedded PhoneCheck provider")?;
                let profile = Profile::embedded_phonecheck(&handle.url)?;
                (profile, Some(Embedded::PhoneCheck(handle)))
            }
            None => {
                let mut config = ProviderConfig::embedded();
                let dialect = args
                    .dialect
                    .map(|d| d.parse::<ProviderDialect>())
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--dialect: {e}"))?;
                if let Some(d) = dialect {
                    if args.spec_version.is_some() {
                        anyhow::bail!(
                            "--spec-version and --dialect: a dialect is judged by its own document"
                        );
                    }
                    config.set_dialect(d);
                }
                if let Some(v) = args.spec_version {
                    let version = v
                        .parse::<SpecVersion>()
                        .map_err(|e| anyhow::anyhow!("--spec-version: {e}"))?;
                    config.set_spec_version(version);
                }
                // The reference provider follows the rule set it is judged by.
                config.single_use_tokens |= args.single_use_tokens;
                let handle = provider::spawn(config, ([127, 0, 0, 1], 0).into(), None)
                    .await
                    .context("cannot start the embedded reference provider")?;
                let profile = match dialect {
                    Some(d) => Profile::embedded_dialect(d.as_str(), &handle.url)
                        .ok_or_else(|| anyhow::anyhow!("--dialect {d}: no profile is shipped"))??,
                    None => Profile::embedded_reference(&handle.url)?,
                };
                (profile, Some(Embedded::Nv(handle)))
            }
        };
        let (wanted, asked_by) = match (args.spec_version, &profile.spec_version) {
            (Some(v), _) => (Some(v), "--spec-version".to_owned()),
            (None, Some(v)) => (
                Some(v.as_str()),
                format!("profile {}: field `spec_version`", profile.origin),
            ),
            (None, None) => (None, String::new()),
        };
        let spec = match &profile.dialect {
            // PhoneCheck is judged by nvcert's document written from IDlayr's guide.
            None if profile.family == Family::PhoneCheck => {
                if wanted.is_some() {
                    anyhow::bail!(
                        "{asked_by}: profile {} is a PhoneCheck provider, judged by {}, not by a \
                         CAMARA version",
                        profile.origin,
                        family::PHONECHECK_DOCUMENT_ORIGIN
                    );
                }
                SpecDocument::from_yaml(
                    family::PHONECHECK_DOCUMENT,
                    family::PHONECHECK_DOCUMENT_ORIGIN,
                )
                .context("the PhoneCheck document")?
            }
            // A dialect is judged by its own document, exactly as CAMARA's.
            Some(dialect) => {
                if wanted.is_some() {
                    anyhow::bail!(
                        "{asked_by}: profile {} uses dialect {}, which is judged by its own \
                         document ({}), not by a CAMARA version",
                        profile.origin,
                        dialect.name,
                        dialect.origin
                    );
                }
                SpecDocument::from_yaml(&dialect.document, &dialect.origin)
                    .with_context(|| format!("dialect {}", dialect.name))?
            }
            None => spec::select(wanted, &asked_by, profile.api_root.path())?,
        };
        let sources = ValueSources::with_runner(Arc::new(ShellRunner::new(profile.timeout_secs)));
        let flow = Flow::new(Arc::new(profile), &spec, redactor.clone(), sources)
            .context("cannot prepare the flows")?;
        Ok(Self {
            flow: Arc::new(flow),
            spec: Arc::new(spec),
            embedded,
        })
    }

    /// Stops the embedded provider, if one was started. Its results are already in: an error
    /// the provider stopped with is a warning on stderr, not a failure of the command.
    pub async fn shutdown(self) {
        let stopped = match self.embedded {
            None => Ok(()),
            Some(Embedded::Nv(handle)) => handle.shutdown().await,
            Some(Embedded::PhoneCheck(handle)) => handle.shutdown().await,
            Some(Embedded::Aggregator(handle)) => handle.shutdown().await,
        };
        if let Err(e) = stopped {
            eprintln!("nvcert: warning: the embedded reference provider failed: {e}");
        }
    }
}
