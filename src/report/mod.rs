//! Report writers: one file per format, each turning [`RunResults`] (or a load run's
//! [`LoadSummary`](crate::load::LoadSummary)) into bytes.
//!
//! Writers never see the runner, the provider or the flows; they get results and the run's
//! [`Redactor`], and every byte of a conformance report passes through it.

mod console;
mod json;
mod junit;
mod load;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use console::write_console;
pub use load::{LOAD_SUMMARY_FILE, write_load_console, write_load_summary};

use crate::results::RunResults;
use crate::secret::Redactor;

/// File name of the JUnit report inside the report directory.
pub const JUNIT_FILE: &str = "junit.xml";
/// File name of the JSON results inside the report directory.
pub const RESULTS_FILE: &str = "results.json";

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

/// Writes `junit.xml` and `results.json` into `dir` (created if missing); returns the paths written.
pub fn write_all(
    results: &RunResults,
    dir: &Path,
    redactor: &Redactor,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let junit = redactor.redact(&junit::render(results));
    let json = redactor.redact(&json::render(results)?);
    let mut written = Vec::new();
    for (name, text) in [(JUNIT_FILE, junit), (RESULTS_FILE, json)] {
        let path = dir.join(name);
        write_file(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::create(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.flush().map_err(io)
}
