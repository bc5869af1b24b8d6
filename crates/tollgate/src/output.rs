//! Where output goes, whether it is coloured, and diagnostics on standard error.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context as _;

use crate::cli::{ColorChoice, GlobalArgs};

/// Sets up `tracing` on standard error: warnings by default, more with `-v`, none with `-q`.
pub fn init_logging(global: &GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    // kube logs every failed request itself; the command reports the failure once, in words.
    // `-vv` shows kube's own view too.
    let kube = if global.verbose >= 2 { "warn" } else { "off" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOLLGATE_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("tollgate={level},kube_client={kube},warn"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .try_init();
}

/// Whether to colour what goes to `output` (None: standard output).
pub fn use_color(choice: ColorChoice, output: Option<&Path>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Writes the rendered output to the file or to standard output.
pub fn write(output: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

/// A closed pipe (`tollgate scan … | head`) is not an error.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A time in milliseconds since the epoch as RFC 3339 (the number itself when out of range).
pub fn rfc3339_ms(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}
