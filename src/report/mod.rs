//! Report writers: one file per format, each turning [`RunResults`] (or a load run's
//! [`LoadSummary`](crate::load::LoadSummary)) into bytes.
//!
//! Writers never see the runner, the provider or the flows; they get results and the run's
//! [`Redactor`], and every byte of a conformance report passes through it.

mod console;
mod ctrf;
pub mod curl;
mod html;
mod json;
mod junit;
mod load;
mod matrix;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use console::{render_console, write_console, write_verdict};
pub use load::{
    LOAD_SUMMARY_FILE, render_html as render_load_html, write_load_console, write_load_reports,
    write_load_summary,
};
pub use matrix::{
    MATRIX_FILE, baseline_diff, summary_line, verdict_label, write_baseline_console, write_matrix,
    write_matrix_console, write_matrix_html,
};

use crate::results::RunResults;
use crate::secret::Redactor;

/// File name of the JUnit report inside the report directory.
pub const JUNIT_FILE: &str = "junit.xml";
/// File name of the JSON results inside the report directory.
pub const RESULTS_FILE: &str = "results.json";
/// File name of the Common Test Report Format report inside the report directory.
pub const CTRF_FILE: &str = "ctrf.json";
/// File name of the HTML report inside the report directory.
pub const HTML_FILE: &str = "report.html";

/// A report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Creating the directory or writing a file failed.
    #[error("cannot write report {path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Serializing results failed.
    #[error("cannot serialize {what}: {source}")]
    Serialize {
        /// Which report.
        what: &'static str,
        /// The serializer error.
        source: serde_json::Error,
    },
}

/// Every report file of a conformance run, rendered and redacted: (file name, bytes), in the
/// order they are written.
pub fn render_all(
    results: &RunResults,
    redactor: &Redactor,
) -> Result<Vec<(&'static str, String)>, ReportError> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    Ok(vec![
        (JUNIT_FILE, redactor.redact(&junit::render(results))),
        (RESULTS_FILE, redactor.redact(&json::render(results)?)),
        (CTRF_FILE, redactor.redact(&ctrf::render(results, now_ms)?)),
        (HTML_FILE, redactor.redact(&html::render(results, redactor))),
    ])
}

/// Writes `junit.xml`, `results.json`, `ctrf.json` and `report.html` into `dir` (created if
/// missing); returns the paths written.
pub fn write_all(
    results: &RunResults,
    dir: &Path,
    redactor: &Redactor,
) -> Result<Vec<PathBuf>, ReportError> {
    write_rendered(&render_all(results, redactor)?, dir)
}

/// Writes files rendered by [`render_all`] into `dir` (created if missing).
pub fn write_rendered(
    files: &[(&'static str, String)],
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        write_file(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// The files [`write_all`] writes: what an interrupted run removes so that a previous run's
/// reports do not pass for the interrupted one's.
pub const RUN_REPORTS: &[&str] = &[JUNIT_FILE, RESULTS_FILE];

/// Removes the [`RUN_REPORTS`] in `dir` that exist; returns the paths removed.
pub fn remove_run_reports(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut removed = Vec::new();
    for name in RUN_REPORTS {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => removed.push(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ReportError::Io { path, source }),
        }
    }
    Ok(removed)
}

/// Writes `bytes` to `path` atomically: into a temporary file in the same folder, flushed to
/// disk, then renamed over `path`. A reader polling the folder, or another run writing the same
/// file, sees either the old content or the new, never a half-written file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // A uniquely named temporary file in the same folder (so the rename stays on one file
    // system); concurrent runs into one folder never share it, and it is removed on error.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".nvcert-").suffix(".tmp");
    // Reports are for sharing: the usual file mode, not the temporary file's private 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut file = builder.tempfile_in(dir).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.as_file().sync_all().map_err(io)?;
    file.persist(path).map_err(|error| io(error.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_writers_never_leave_a_torn_file() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("results.json");
        let contents: Vec<Vec<u8>> = (0..8u8).map(|i| vec![b'a' + i; 256 * 1024]).collect();
        std::thread::scope(|scope| {
            for bytes in &contents {
                let path = path.clone();
                scope.spawn(move || {
                    for _ in 0..20 {
                        write_file(&path, bytes).expect("write");
                    }
                });
            }
            // A reader polling the file sees one writer's whole content each time.
            for _ in 0..200 {
                if let Ok(seen) = std::fs::read(&path) {
                    assert!(
                        contents.contains(&seen),
                        "torn file of {} bytes",
                        seen.len()
                    );
                }
            }
        });
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .filter(|name| name.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
}
