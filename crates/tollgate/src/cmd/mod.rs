//! One file per command.

pub(crate) mod audit;
mod certs;
mod drift;
mod generate;
pub(crate) mod history;
pub(crate) mod logs;
mod map;
mod migrate;
mod rbac;
mod report;
mod rules;
mod scan;
pub(crate) mod watch;
mod what_if;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the command and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Scan(args) => scan::run(args, &cli.global),
        Command::Map(args) => map::run(args, &cli.global),
        Command::Rules(args) => rules::run(args, &cli.global),
        Command::Certs(args) => certs::run(args, &cli.global),
        Command::Rbac(args) => rbac::run(args, &cli.global),
        Command::Generate(args) => generate::run(args, &cli.global),
        Command::WhatIf(args) => what_if::run(args, &cli.global),
        Command::Logs(args) => logs::run(args, &cli.global),
        Command::Watch(args) => watch::run(args, &cli.global),
        Command::Serve(args) => crate::serve::run(args, &cli.global),
        Command::History(args) => history::run(args, &cli.global),
        Command::Audit(args) => audit::run(args, &cli.global),
        Command::Baseline(args) => drift::save(args, &cli.global),
        Command::Drift(args) => drift::run(args, &cli.global),
        Command::Report(args) => report::run(args, &cli.global),
        Command::Migrate(args) => migrate::run(args, &cli.global),
    }
}
