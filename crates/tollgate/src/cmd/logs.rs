//! `tollgate logs`: the access-log audit.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use tollgate_core::inventory::{Backend, Control, Inventory, PathType, PortRef};
use tollgate_core::object::Resource;
use tollgate_logs::analyze::{Analyzer, CountryLookup, Run, Settings};
use tollgate_logs::detectors::{Alert, Classifier, DetectorConfig, Detectors};
use tollgate_logs::geoip::GeoIp;
use tollgate_logs::report::{Location, Report};
use tollgate_logs::routes::{PathMatch, Route, RouteTable};

use crate::cli::{GlobalArgs, InputArgs, LogsArgs, LogsFormat};
use crate::{input, output, render_logs};

pub fn run(args: &LogsArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = input::config(global.config.as_deref())?;
    let detector_config = detector_config(config.detectors.as_ref(), config.path.as_deref())?;
    if args.detectors {
        output::write(global.output.as_deref(), &render_logs::detectors())?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = if args.cluster || !args.inventory.is_empty() {
        let loaded = input::load(
            &InputArgs {
                paths: args.inventory.clone(),
                cluster: args.cluster,
                context: args.context.clone(),
                namespace: args.namespace.clone(),
                all_namespaces: false,
            },
            global.quiet,
        )?;
        for e in loaded.errors.iter().chain(&loaded.warnings) {
            if !global.quiet {
                eprintln!("tollgate: {e}");
            }
        }
        route_table(&loaded.inventory)
    } else {
        RouteTable::default()
    };
    table.prepare();
    let geoip = if args.geoip.is_empty() {
        None
    } else {
        Some(GeoIp::open(&args.geoip)?)
    };
    let needs_countries =
        !detector_config.countries.deny.is_empty() || !detector_config.countries.allow.is_empty();
    if needs_countries && !geoip.as_ref().is_some_and(GeoIp::has_countries) && !global.quiet {
        eprintln!(
            "tollgate: the `detectors.countries` lists need a country database (--geoip GeoLite2-Country.mmdb); disallowed-country is off"
        );
    }
    let countries: Option<&dyn CountryLookup> = match &geoip {
        Some(g) if needs_countries && g.has_countries() => Some(g),
        _ => None,
    };
    let classifier = Classifier::new(&detector_config)
        .map_err(|e| anyhow::anyhow!("config `detectors`: {e}"))?;
    let settings = Settings {
        format: args.log_format.0,
        records: args.records,
        ..Settings::default()
    };
    let analyzer = Analyzer::new(&table, classifier, countries, settings);
    let mut run = Run::new(&analyzer, Detectors::new(&detector_config));
    if args.records {
        run.records = Some(match global.output.as_deref() {
            Some(path) => Box::new(std::io::BufWriter::new(
                File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        });
    }

    let color = output::use_color(global.color, None) && std::io::stderr().is_terminal();
    let mut print_alert = |alert: &Alert| {
        if args.follow {
            eprintln!(
                "{}",
                render_logs::alert_line(alert, analyzer.table(), color)
            );
        }
    };
    let files: Vec<&Path> = if args.files.is_empty() {
        vec![Path::new("-")]
    } else {
        args.files.iter().map(|p| p.as_path()).collect()
    };
    if files.len() == 1
        && files[0] == Path::new("-")
        && std::io::stdin().is_terminal()
        && !args.follow
    {
        bail!("nothing to read: give access-log files, or pipe a log into `tollgate logs -`");
    }
    if args.follow {
        if files.len() != 1 {
            bail!("--follow reads one file (or standard input)");
        }
        follow(&analyzer, files[0], &mut run, &mut print_alert)?;
    } else {
        for file in &files {
            read_one(&analyzer, file, &mut run, global.quiet, &mut print_alert);
        }
    }
    for alert in run.flush_minutes(None) {
        print_alert(&alert);
    }
    if let Some(mut sink) = run.records.take()
        && let Err(error) = sink.flush()
    {
        run.records_error.get_or_insert(error);
    }
    if let Some(error) = &run.records_error
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        bail!("writing records: {error}");
    }
    let detectors = std::mem::replace(&mut run.detectors, Detectors::new(&detector_config));
    let alerts = detectors.finish();
    for (file, error) in &run.input_errors {
        if !global.quiet {
            eprintln!("tollgate: {file}: {error}");
        }
    }
    if run.aggregate.lines == 0 && !run.input_errors.is_empty() {
        bail!("no input could be read");
    }
    if !args.records {
        let locate = |ip| {
            geoip
                .as_ref()
                .map_or_else(Location::default, |g| g.locate(ip))
        };
        let report = Report::build(&run, &table, &alerts, &locate);
        let text = match args.format {
            LogsFormat::Json => render_logs::json(&report),
            LogsFormat::Html => render_logs::html(&report),
            LogsFormat::Table => render_logs::table(
                &report,
                args.top,
                output::use_color(global.color, global.output.as_deref()),
            ),
        };
        output::write(global.output.as_deref(), &text)?;
    }
    Ok(if alerts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The `detectors` section of the config, validated.
pub(crate) fn detector_config(
    value: Option<&serde_json::Value>,
    path: Option<&str>,
) -> anyhow::Result<DetectorConfig> {
    let Some(value) = value else {
        return Ok(DetectorConfig::default());
    };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let at = e.path().to_string();
        anyhow::anyhow!(
            "{}: detectors.{at}: {}",
            path.unwrap_or("config"),
            e.into_inner()
        )
    })
}

/// One input, to its end, with a progress bar on a terminal.
pub(crate) fn read_one(
    analyzer: &Analyzer<'_>,
    file: &Path,
    run: &mut Run,
    quiet: bool,
    alert: &mut dyn FnMut(&Alert),
) {
    let name = file.display().to_string();
    let (reader, size): (Box<dyn Read>, Option<u64>) = if file == Path::new("-") {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        match File::open(file) {
            Ok(f) => {
                let size = f.metadata().ok().map(|m| m.len());
                (Box::new(f), size)
            }
            Err(error) => {
                run.input_errors.push((name, error.to_string()));
                return;
            }
        }
    };
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = match size {
            Some(size) => indicatif::ProgressBar::new(size),
            None => indicatif::ProgressBar::new_spinner(),
        };
        let template = if size.is_some() {
            "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
        } else {
            "{spinner} {msg} {bytes} {bytes_per_sec}"
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(name.clone());
        bar
    });
    let start = run.bytes;
    // A gzip file's size is compressed; the bar then shows decompressed bytes past its length,
    // which is still progress.
    analyzer.read(
        &name,
        reader,
        run,
        &mut |bytes| {
            if let Some(bar) = &bar {
                bar.set_position(bytes - start);
            }
        },
        alert,
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// Tails a file (or standard input) until interrupted: whole lines are processed as they come,
/// minutes older than the newest are handed to the rate detectors, and alerts print at once. A
/// file that shrinks was rotated or truncated and is read again from its start.
fn follow(
    analyzer: &Analyzer<'_>,
    file: &Path,
    run: &mut Run,
    alert: &mut dyn FnMut(&Alert),
) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let name = file.display().to_string();
    let mut stream = analyzer.start(&name);
    let mut block = vec![0u8; 1 << 20];
    let stdin = file == Path::new("-");
    let mut handle: Box<dyn Read> = if stdin {
        Box::new(std::io::stdin())
    } else {
        Box::new(File::open(file).with_context(|| format!("cannot open {name}"))?)
    };
    let mut position = 0u64;
    while !stop.load(Ordering::SeqCst) {
        match handle.read(&mut block) {
            Ok(0) => {
                analyzer.flush(&mut stream, run, alert);
                if let Some(last) = run.aggregate.last_us {
                    for fired in run.flush_minutes(Some(last.div_euclid(60_000_000) - 1)) {
                        alert(&fired);
                    }
                }
                if stdin {
                    break;
                }
                if std::fs::metadata(file)
                    .map(|m| m.len() < position)
                    .unwrap_or(false)
                {
                    handle = Box::new(
                        File::open(file).with_context(|| format!("cannot reopen {name}"))?,
                    );
                    position = 0;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            Ok(n) => {
                position += n as u64;
                run.bytes += n as u64;
                analyzer.feed(&mut stream, &block[..n], run, alert);
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => {
                run.input_errors.push((name.clone(), error.to_string()));
                break;
            }
        }
    }
    analyzer.finish(&mut stream, run, alert);
    Ok(())
}

/// Runs `f` on Ctrl-C (SIGINT) so `--follow` can print its report; tokio's signal handling is
/// already a dependency.
fn ctrlc_handler(f: impl Fn() + Send + 'static) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        runtime.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                f();
            }
        });
    });
    Ok(())
}

/// The core inventory's routes (of Ingresses and of Gateway API route objects) as the log crate's
/// route table.
pub fn route_table(inventory: &Inventory) -> RouteTable {
    let mut routes = Vec::new();
    for route in &inventory.routes {
        let object = &inventory.objects[route.object];
        let (service, mut port_number, mut port_name) = match &route.backend {
            Backend::Service { name, port } => (
                Some(name.clone()),
                match port {
                    Some(PortRef::Number(n)) => u16::try_from(*n).ok(),
                    _ => None,
                },
                match port {
                    Some(PortRef::Name(n)) => Some(n.clone()),
                    _ => None,
                },
            ),
            _ => (None, None, None),
        };
        // The resolved Service port gives the other spelling, which some proxies use.
        if let (Some(s), Some(p)) = (route.service, route.service_port)
            && let Resource::Service(svc) = &inventory.objects[s].resource
            && let Some(port) = svc
                .spec
                .as_ref()
                .and_then(|spec| spec.ports.as_ref())
                .and_then(|ports| ports.get(p))
        {
            port_number = port_number.or_else(|| u16::try_from(port.port).ok());
            port_name = port_name.or_else(|| port.name.clone());
        }
        routes.push(Route {
            namespace: object.ns().to_string(),
            kind: object.kind.as_str().to_owned(),
            name: object.name.clone(),
            rule: route
                .gateway
                .as_ref()
                .and_then(|gateway| u32::try_from(gateway.rule).ok()),
            // A Gateway API backendRef may name a Service of another namespace.
            service_namespace: (route.namespace != object.ns()).then(|| route.namespace.clone()),
            host: route.host.clone(),
            path: route.path.clone(),
            path_match: match route.path_type {
                PathType::Exact => PathMatch::Exact,
                PathType::Prefix => PathMatch::Prefix,
                PathType::ImplementationSpecific => PathMatch::ImplementationSpecific,
            },
            service,
            port_number,
            port_name,
            authenticated: matches!(route.posture.auth, Control::Yes(_)),
            ready_endpoints: route.ready_endpoints,
        });
    }
    RouteTable::new(routes)
}
