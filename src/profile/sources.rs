//! Values a profile names by reference but that are read when a flow needs them, not when the
//! profile loads: access tokens (`[token_source]`) and TS.43 operator tokens (`[operator_token]`
//! `env` / `command`). A command may give a fresh value each time, so it runs on every read.
//! Nothing is cached or printed here; callers register what they read with the run's redactor.
//!
//! This is the one place they are resolved, beside the secret references of [`super`]. Reading
//! the environment is the profile's business; running a command touches the process, which only
//! the command line may do, so the command runner is handed in ([`CommandRunner`]).

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::TokenSource;
use crate::secret::Secret;

/// Runs a profile's `command` and returns its standard output, or why it gave none.
pub trait CommandRunner: Send + Sync {
    /// Runs `command` (a shell command line) to completion, within a bounded time.
    fn run<'a>(&'a self, command: &'a str) -> BoxFuture<'a, Result<String, String>>;
}

/// A source gave no value.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct SourceError {
    /// The profile section (`token source`, `operator token`).
    pub what: &'static str,
    /// What went wrong, naming the variable or the command's exit.
    pub reason: String,
}

/// Reads token sources. Cheap to clone.
#[derive(Clone, Default)]
pub struct ValueSources {
    runner: Option<Arc<dyn CommandRunner>>,
}

impl fmt::Debug for ValueSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueSources")
            .field("runs_commands", &self.runner.is_some())
            .finish()
    }
}

impl ValueSources {
    /// Sources that run `command` entries with `runner`. Without one ([`Default`]), a command
    /// source gives no value and says so.
    pub fn with_runner(runner: Arc<dyn CommandRunner>) -> Self {
        Self {
            runner: Some(runner),
        }
    }

    /// The value of `source`; `what` names the profile section in errors (`token source`).
    pub async fn read(
        &self,
        what: &'static str,
        source: &TokenSource,
    ) -> Result<Secret, SourceError> {
        let error = |reason: String| SourceError { what, reason };
        let text = match source {
            TokenSource::Env(name) => std::env::var(name)
                .map_err(|_| error(format!("environment variable {name} is not set")))?,
            TokenSource::Command(cmd) => {
                let runner = self.runner.as_ref().ok_or_else(|| {
                    error("this program runs no commands (no command runner)".into())
                })?;
                runner
                    .run(cmd)
                    .await
                    .map_err(|reason| error(format!("command {cmd:?}: {reason}")))?
            }
        };
        let value = text.trim();
        if value.is_empty() {
            return Err(error(match source {
                TokenSource::Env(name) => format!("environment variable {name} is empty"),
                TokenSource::Command(cmd) => format!("command {cmd:?} printed nothing"),
            }));
        }
        Ok(Secret::new(value.to_owned()))
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every command with a fixed result.
    struct Fixed(Result<&'static str, &'static str>);

    impl CommandRunner for Fixed {
        fn run<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<String, String>> {
            let answer = self.0.map(str::to_owned).map_err(str::to_owned);
            Box::pin(async move { answer })
        }
    }

    const WHAT: &str = "token source";

    fn sources(answer: Result<&'static str, &'static str>) -> ValueSources {
        ValueSources::with_runner(Arc::new(Fixed(answer)))
    }

    #[tokio::test]
    async fn commands_give_their_trimmed_output_or_say_why_not() {
        let cmd = TokenSource::Command("print-token".into());
        let token = sources(Ok(" tok-1\n")).read(WHAT, &cmd).await.unwrap();
        assert_eq!(token.expose(), "tok-1");
        for (answer, expected) in [
            (
                Ok("  \n"),
                "token source: command \"print-token\" printed nothing",
            ),
            (
                Err("exited with status 127"),
                "token source: command \"print-token\": exited with status 127",
            ),
        ] {
            let err = sources(answer)
                .read(WHAT, &cmd)
                .await
                .unwrap_err()
                .to_string();
            assert_eq!(err, expected);
        }
        let err = ValueSources::default().read(WHAT, &cmd).await.unwrap_err();
        assert!(err.to_string().contains("no command runner"), "{err}");
    }

    #[tokio::test]
    async fn an_unset_variable_is_named() {
        let source = TokenSource::Env("NVCERT_TEST_SURELY_UNSET_VARIABLE".into());
        let err = ValueSources::default()
            .read("operator token", &source)
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "operator token: environment variable NVCERT_TEST_SURELY_UNSET_VARIABLE is not set"
        );
    }
}
