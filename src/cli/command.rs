//! Runs a profile's `command` token sources: the only child processes nvcert starts.

use std::process::Stdio;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::profile::CommandRunner;

/// Runs commands through `sh -c`, each within a time limit (killed when it is passed).
pub(super) struct ShellRunner {
    limit: Duration,
}

impl ShellRunner {
    /// A runner allowing each command `timeout_secs` (the profile's per-request timeout).
    pub fn new(timeout_secs: u64) -> Self {
        Self {
            limit: Duration::from_secs(timeout_secs.max(1)),
        }
    }
}

impl CommandRunner for ShellRunner {
    fn run<'a>(&'a self, command: &'a str) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let child = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("could not start: {e}"))?;
            let out = tokio::time::timeout(self.limit, child.wait_with_output())
                .await
                .map_err(|_| format!("did not finish within {} s", self.limit.as_secs()))?
                .map_err(|e| format!("could not be read: {e}"))?;
            if !out.status.success() {
                // 127 is the shell's "command not found".
                let hint = if out.status.code() == Some(127) {
                    " (command not found)"
                } else {
                    ""
                };
                return Err(format!("exited with {}{hint}", out.status));
            }
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn output_exit_status_and_time_limit() {
        let runner = ShellRunner::new(1);
        assert_eq!(runner.run("echo tok").await.as_deref(), Ok("tok\n"));
        let failed = runner.run("exit 3").await.unwrap_err();
        assert!(failed.contains("exit status: 3"), "{failed}");
        let slow = runner.run("sleep 5").await.unwrap_err();
        assert_eq!(slow, "did not finish within 1 s");
    }
}
