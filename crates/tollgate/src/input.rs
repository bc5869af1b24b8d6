//! Objects for a command: read from files, folders and standard input, or listed from a cluster.

use std::io::IsTerminal;

use anyhow::{Context as _, bail};
use tollgate_core::inventory::Inventory;
use tollgate_core::manifest::{self, InputError, Manifests};

use crate::cli::InputArgs;
use crate::cluster;

/// What a command works on.
pub struct Loaded {
    /// The graph.
    pub inventory: Inventory,
    /// Documents read (files) or objects listed (cluster).
    pub documents: usize,
    /// Input that could not be read.
    pub errors: Vec<InputError>,
    /// Things that degrade the result (a kind the cluster would not list).
    pub warnings: Vec<InputError>,
}

/// Reads the input the user named. Fails (exit 2) only when there is nothing to read or nothing
/// could be read; individual bad files and documents are returned as errors.
pub fn load(args: &InputArgs, quiet: bool) -> anyhow::Result<Loaded> {
    if args.cluster {
        return cluster::load(args);
    }
    if args.paths.is_empty() {
        bail!("nothing to read: give files or folders, `-` for standard input, or --cluster");
    }
    let (files, mut errors) = manifest::expand_paths(&args.paths);
    let progress = progress_bar(files.len(), quiet);
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut m = Manifests::load_parallel(&files, threads, &|file| {
        if let Some(pb) = &progress {
            pb.set_message(file.display().to_string());
            pb.inc(1);
        }
    });
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    errors.append(&mut m.errors);
    let readable = m.sources.len();
    if readable == 0 {
        for e in &errors {
            eprintln!("tollgate: {e}");
        }
        bail!(
            "no input could be read ({} problem{})",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
    }
    let inventory = Inventory::build(m.objects, m.sources, None);
    Ok(Loaded {
        inventory,
        documents: m.documents,
        errors,
        warnings: Vec::new(),
    })
}

/// A progress bar on standard error for long loads, only on a terminal.
fn progress_bar(files: usize, quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || files < 200 || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(files as u64);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} reading {pos}/{len} files {wide_msg}")
            .ok()?,
    );
    Some(pb)
}

/// Reads and validates the config: `--config FILE`, else `tollgate.yaml` in the current folder.
pub fn config(path: Option<&std::path::Path>) -> anyhow::Result<tollgate_core::config::Config> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (std::path::PathBuf::from("tollgate.yaml"), false),
    };
    if !required && !path.exists() {
        return Ok(tollgate_core::config::Config::default());
    }
    let name = path.display().to_string();
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading config {name}"))?;
    tollgate_core::config::Config::parse(&name, &text).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("invalid config:\n  {}", lines.join("\n  "))
    })
}
