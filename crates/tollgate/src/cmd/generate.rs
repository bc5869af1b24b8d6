//! `tollgate generate`: rule docs, the man page, shell completions and the admission policies,
//! all from the code.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory;

use crate::cli::{Cli, GenerateArgs, GenerateWhat};

pub fn run(args: &GenerateArgs, global: &crate::cli::GlobalArgs) -> anyhow::Result<ExitCode> {
    match &args.what {
        GenerateWhat::AdmissionPolicy => {
            let config = crate::input::config(global.config.as_deref())?;
            crate::output::write(
                global.output.as_deref(),
                &tollgate_core::admission_policy::generate(&config),
            )?;
        }
        GenerateWhat::Docs { out } => {
            std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            let pages = tollgate_core::docs::all_pages();
            let keep: std::collections::BTreeSet<&str> =
                pages.iter().map(|(n, _)| n.as_str()).collect();
            // Pages of renamed or removed rules would otherwise linger.
            for entry in std::fs::read_dir(out)?.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".md") && !keep.contains(name.as_str()) {
                    std::fs::remove_file(entry.path())?;
                }
            }
            for (name, contents) in &pages {
                std::fs::write(out.join(name), contents)?;
            }
            eprintln!("wrote {} pages to {}", pages.len(), out.display());
        }
        GenerateWhat::Man { out } => {
            std::fs::create_dir_all(out)?;
            let cmd = Cli::command();
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
            std::fs::write(out.join("tollgate.1"), &buf)?;
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                let name = format!("tollgate-{}", sub.get_name());
                let mut buf = Vec::new();
                clap_mangen::Man::new(sub.clone().name(name.clone())).render(&mut buf)?;
                std::fs::write(out.join(format!("{name}.1")), &buf)?;
            }
            eprintln!("wrote man pages to {}", out.display());
        }
        GenerateWhat::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "tollgate",
                &mut std::io::stdout(),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
