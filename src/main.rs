//! The `nvcert` binary: parse, run, exit. Everything else is in the library.

#![allow(
    clippy::print_stderr,
    reason = "the binary reports a runtime that cannot start on stderr"
)]

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = nvcert::cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nvcert: cannot start the async runtime: {e}");
            return ExitCode::from(nvcert::cli::exit::USAGE_OR_CONFIG);
        }
    };
    ExitCode::from(runtime.block_on(nvcert::cli::run(cli)))
}
