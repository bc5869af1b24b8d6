//! `tollgate report`: the compliance and review document. Reads the objects (files or cluster),
//! summarises the history store and the access logs when given, maps it all to a framework's
//! controls with `tollgate_core::compliance::build`, and writes HTML, Markdown, JSON or PDF.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tollgate_core::compliance::{
    self, AccessEvidence, Evidence, HistoryEvidence, InputScope, InputSource,
};
use tollgate_core::config::Config;
use tollgate_core::inventory::Inventory;
use tollgate_core::render::compliance as render;

use crate::cli::{GlobalArgs, ReportArgs, ReportFormat};
use crate::evidence::{self, HistoryPeriod};
use crate::tracking::{self, Judge};
use crate::{input, output};

/// Where `--format pdf` finds Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long Chromium may take to print.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(120);

pub fn run(args: &ReportArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = input::config(global.config.as_deref())?;
    let store_url = args.store.clone().or_else(|| config.history.store.clone());
    let has_objects = args.input.cluster || !args.input.paths.is_empty();
    if !has_objects && store_url.is_none() && args.logs.is_empty() {
        bail!(
            "nothing to report on: give manifests (files, folders, `-`), --cluster, --store or \
             --logs"
        );
    }
    if args.format == ReportFormat::Pdf && !Path::new(CHROMIUM).exists() {
        bail!(
            "--format pdf needs Chromium at {CHROMIUM} (Debian: `apt-get install chromium`); \
             or write --format html and print it from a browser"
        );
    }
    let at = args.at.unwrap_or_else(jiff::Timestamp::now);

    let (inventory, input_scope) = if has_objects {
        let loaded = input::load(&args.input, global.quiet)?;
        for e in loaded.errors.iter().chain(&loaded.warnings) {
            if !global.quiet {
                eprintln!("tollgate: {e}");
            }
        }
        let scope = InputScope {
            source: if args.input.cluster {
                InputSource::Cluster
            } else {
                InputSource::Manifests
            },
            paths: args
                .input
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            context: args.input.context.clone(),
            namespace: args.input.namespace.clone(),
            config: config.path.clone(),
            documents: loaded.documents,
            errors: loaded.errors.iter().map(ToString::to_string).collect(),
            warnings: loaded.warnings.iter().map(ToString::to_string).collect(),
        };
        (loaded.inventory, scope)
    } else {
        (
            Inventory::build(Vec::new(), Vec::new(), None),
            InputScope {
                config: config.path.clone(),
                ..InputScope::none()
            },
        )
    };

    let access: Evidence<AccessEvidence> = if args.logs.is_empty() {
        Evidence::missing("no access logs given (--logs)")
    } else {
        Evidence::Assessed(evidence::access(
            &args.logs,
            &inventory,
            &config,
            global.quiet,
        )?)
    };
    let history: Evidence<HistoryEvidence> = match &store_url {
        None => Evidence::missing(
            "no history store (give --store or set `history.store`; `tollgate watch` and \
             `tollgate audit import` fill it)",
        ),
        Some(url) => Evidence::Assessed(history(args, &config, url, at)?),
    };

    let report = compliance::build(compliance::Inputs {
        framework: args.framework,
        inventory: &inventory,
        config: &config,
        input: input_scope,
        at,
        history,
        access,
    });
    match args.format {
        ReportFormat::Html => output::write(global.output.as_deref(), &render::html(&report))?,
        ReportFormat::Markdown => {
            output::write(global.output.as_deref(), &render::markdown(&report))?;
        }
        ReportFormat::Json => output::write(global.output.as_deref(), &render::json(&report))?,
        ReportFormat::Pdf => {
            let pdf = print_pdf(&render::html(&report), at)?;
            match global.output.as_deref() {
                Some(path) => std::fs::write(path, &pdf)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&pdf)?;
                    out.flush()?;
                }
            }
        }
    }
    if !global.quiet && global.output.is_some() {
        let s = &report.summary;
        eprintln!(
            "tollgate: {} report: {} controls, {} pass, {} fail, {} not assessed",
            report.framework.name, s.controls, s.pass, s.fail, s.not_assessed
        );
    }
    // The report is a document, not a gate: `tollgate scan --fail-on` gates.
    Ok(ExitCode::SUCCESS)
}

/// The history summary, read on a single-threaded runtime.
fn history(
    args: &ReportArgs,
    config: &Config,
    url: &str,
    at: jiff::Timestamp,
) -> anyhow::Result<HistoryEvidence> {
    refuse_missing_sqlite_file(url)?;
    let key = crate::cmd::history::checkpoint_key(config)?;
    let cluster = args
        .cluster_name
        .clone()
        .or_else(|| config.history.cluster.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let store = tracking::open_store(url).await?;
        let judge = Judge::new(tracking::cluster_name(cluster.as_deref(), config), config);
        let summary = evidence::history(
            &store,
            &judge,
            &HistoryPeriod {
                url,
                cluster: cluster.as_deref(),
                since: args.since,
                until: at,
                checkpoint_key: key.as_deref(),
            },
        )
        .await;
        store.close().await;
        summary
    })
}

/// Opening a SQLite store creates the file; a report must not invent an empty history from a
/// mistyped path.
fn refuse_missing_sqlite_file(url: &str) -> anyhow::Result<()> {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Ok(());
    };
    if rest.contains(":memory:") || rest.contains("mode=") {
        return Ok(());
    }
    let path = rest.strip_prefix("//").unwrap_or(rest);
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    if !path.is_empty() && !Path::new(path).exists() {
        bail!(
            "the store {url} does not exist: `tollgate watch` or `tollgate audit import` creates \
             it, or name another with --store"
        );
    }
    Ok(())
}

/// Prints the HTML to PDF with headless Chromium, then sets the PDF's creation and modification
/// dates (the only bytes that differ between two prints of the same page) to the report's
/// instant, so the same report gives the same PDF.
fn print_pdf(html: &str, at: jiff::Timestamp) -> anyhow::Result<Vec<u8>> {
    let dir = tempfile::Builder::new()
        .prefix("tollgate-report-")
        .tempdir()
        .context("creating a temporary folder for Chromium")?;
    let page = dir.path().join("report.html");
    let pdf = dir.path().join("report.pdf");
    std::fs::write(&page, html).with_context(|| format!("writing {}", page.display()))?;
    let mut print_to = std::ffi::OsString::from("--print-to-pdf=");
    print_to.push(&pdf);
    let mut profile = std::ffi::OsString::from("--user-data-dir=");
    profile.push(dir.path().join("profile"));
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(profile)
        .arg(print_to)
        .arg(file_url(&page))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {CHROMIUM}"))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "Chromium did not print the report within {} seconds",
                CHROMIUM_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    let bytes = std::fs::read(&pdf).ok().filter(|b| b.starts_with(b"%PDF"));
    match bytes {
        Some(bytes) if status.success() => Ok(pin_pdf_dates(bytes, at)),
        _ => {
            let last: Vec<&str> = stderr.lines().rev().take(5).collect();
            bail!(
                "Chromium could not print the report ({status}): {}",
                last.into_iter().rev().collect::<Vec<_>>().join(" | ")
            )
        }
    }
}

/// `file:///tmp/...` for a local path.
fn file_url(path: &Path) -> String {
    let text = path.display().to_string();
    let mut url = String::from("file://");
    for c in text.chars() {
        match c {
            ' ' => url.push_str("%20"),
            '#' => url.push_str("%23"),
            '?' => url.push_str("%3F"),
            '%' => url.push_str("%25"),
            _ => url.push(c),
        }
    }
    url
}

/// Replaces the value of every `/CreationDate (D:...)` and `/ModDate (D:...)` with `at`, keeping
/// each value's length so the PDF's cross-reference offsets stay right.
fn pin_pdf_dates(mut pdf: Vec<u8>, at: jiff::Timestamp) -> Vec<u8> {
    let date = at
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("D:%Y%m%d%H%M%S+00'00'")
        .to_string();
    for key in [&b"/CreationDate ("[..], &b"/ModDate ("[..]] {
        let mut from = 0;
        while let Some(found) = find(&pdf[from..], key) {
            let start = from + found + key.len();
            let Some(len) = find(&pdf[start..], b")") else {
                break;
            };
            if len == date.len() {
                pdf[start..start + len].copy_from_slice(date.as_bytes());
            }
            from = start + len;
        }
    }
    pdf
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_are_pinned_to_the_report_instant_keeping_lengths() {
        let pdf = b"%PDF-1.4\n/Producer (Skia/PDF m148)\n/CreationDate (D:20261122100208+00'00')\n/ModDate (D:20261122100208+00'00')>>".to_vec();
        let at: jiff::Timestamp = "2026-11-01T08:30:00Z".parse().expect("a timestamp");
        let pinned = pin_pdf_dates(pdf.clone(), at);
        assert_eq!(pinned.len(), pdf.len());
        let text = String::from_utf8(pinned).expect("ASCII");
        assert!(
            text.contains("/CreationDate (D:20261101083000+00'00')"),
            "{text}"
        );
        assert!(
            text.contains("/ModDate (D:20261101083000+00'00')"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_sqlite_store_is_refused_but_postgres_and_memory_pass() {
        let err = refuse_missing_sqlite_file("sqlite:///nonexistent/tollgate.db").unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(refuse_missing_sqlite_file("sqlite::memory:").is_ok());
        assert!(refuse_missing_sqlite_file("postgres://u@db/x").is_ok());
    }

    #[test]
    fn file_urls_escape_what_a_url_would_misread() {
        assert_eq!(
            file_url(Path::new("/tmp/a b/#1.html")),
            "file:///tmp/a%20b/%231.html"
        );
    }
}
