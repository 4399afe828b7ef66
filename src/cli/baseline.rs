//! `nvcert baseline accept REPORT_DIR --to PATH`: an earlier run becomes the reviewed baseline.

use anyhow::Context as _;

use super::{BaselineAcceptArgs, exit};
use crate::results::baseline::Snapshot;

pub(super) fn accept(args: &BaselineAcceptArgs) -> anyhow::Result<u8> {
    let snapshot = Snapshot::load(&args.report_dir)?;
    if let Some(parent) = args.to.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    }
    crate::report::write_file(&args.to, snapshot.render().as_bytes())?;
    let checks: usize = snapshot.providers.values().map(|p| p.checks.len()).sum();
    println!(
        "baseline: {} ({} providers, {checks} checks from {})",
        args.to.display(),
        snapshot.providers.len(),
        args.report_dir.display()
    );
    Ok(exit::OK)
}
