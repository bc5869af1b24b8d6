//! `tollgate`: audit Kubernetes Ingress. `main` parses arguments, runs one command and maps its
//! result to an exit code: 0 clean, 1 findings at or above `--fail-on`, 2 usage or input error.

mod cli;
mod cluster;
mod cmd;
mod evidence;
mod input;
mod lease;
mod output;
mod probe;
mod render_logs;
mod serve;
mod tracking;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // One crypto provider for the whole process: kube's rustls uses ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = cli::Cli::parse();
    output::init_logging(&cli.global);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            if output::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("tollgate: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
