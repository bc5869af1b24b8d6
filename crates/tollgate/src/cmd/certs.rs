//! `tollgate certs`: the TLS secrets routes serve, with their certificates' facts and findings,
//! and with `--probe`, what each host really serves.

use std::process::ExitCode;
use std::time::Duration;

use tollgate_core::cert::{FAKE_CERTIFICATE_CN, describe_der};
use tollgate_core::engine::{self, RunOptions};
use tollgate_core::render::certs::{self, CertRow, Probe};
use tollgate_core::rules::{Category, Severity, registry};

use crate::cli::{CertsArgs, GlobalArgs, RulesFormat};
use crate::probe::{self, Target};
use crate::{input, output};

pub fn run(args: &CertsArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = input::config(global.config.as_deref())?;
    let loaded = input::load(&args.input, global.quiet)?;
    for e in loaded.errors.iter().chain(&loaded.warnings) {
        if !global.quiet {
            eprintln!("tollgate: {e}");
        }
    }
    let at = args.at.unwrap_or_else(jiff::Timestamp::now);
    // The certificate rules, and `tls-secret-missing` for Secrets that cannot serve at all.
    let select: Vec<String> = registry::all()
        .iter()
        .map(|r| r.meta())
        .filter(|m| {
            m.category == Category::Tls
                && (m.name.starts_with("certificate-") || m.name == "tls-secret-missing")
        })
        .map(|m| m.name.to_owned())
        .collect();
    let outcome = engine::run(
        &loaded.inventory,
        &RunOptions {
            config: &config,
            select: &select,
            ignore: &[],
            now: at,
        },
    );
    let mut rows = certs::rows(&loaded.inventory, &outcome.findings, at);
    if args.probe {
        run_probes(&mut rows, args, global.quiet);
    }
    let text = match args.format {
        RulesFormat::Table => certs::table(
            &rows,
            at,
            output::use_color(global.color, global.output.as_deref()),
        ),
        RulesFormat::Json => certs::json(&rows, at),
    };
    output::write(global.output.as_deref(), &text)?;
    let fail_on = match args.fail_on {
        Some(f) => f.0,
        None => config.fail_on.unwrap_or(Some(Severity::High)),
    };
    let failing_finding = fail_on.is_some_and(|min| {
        rows.iter()
            .flat_map(|r| &r.findings)
            .any(|f| f.severity >= min)
    });
    let probe_differs = rows.iter().flat_map(|r| &r.probes).any(Probe::differs);
    Ok(ExitCode::from(u8::from(failing_finding || probe_differs)))
}

/// Probes every host of every row (wildcard hosts cannot be asked for) and records what each
/// serves next to what its Secret holds.
fn run_probes(rows: &mut [CertRow], args: &CertsArgs, quiet: bool) {
    let mut targets = Vec::new();
    let mut owners = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for host in row.hosts.iter().filter(|h| !h.starts_with('*')) {
            targets.push(Target {
                host: host.clone(),
                address: args
                    .probe_address
                    .clone()
                    .unwrap_or_else(|| format!("{host}:443")),
            });
            owners.push(i);
        }
    }
    if !quiet {
        eprintln!("tollgate: probing {} host(s)", targets.len());
    }
    let results = probe::probe_all(&targets, Duration::from_secs(args.probe_timeout.max(1)));
    for ((target, owner), result) in targets.into_iter().zip(owners).zip(results) {
        let expected = rows[owner].leaf.as_ref().map(|l| l.sha256.clone());
        let probe = match result {
            Err(e) => Probe {
                host: target.host,
                address: target.address,
                status: "error",
                served_subject: None,
                served_sha256: None,
                served_not_after: None,
                error: Some(e),
            },
            Ok(der) => {
                let served = describe_der(&der);
                let sha = tollgate_core::cert::fingerprint(&der);
                let status = if served.as_ref().and_then(|c| c.common_name.as_deref())
                    == Some(FAKE_CERTIFICATE_CN)
                {
                    "default-certificate"
                } else {
                    match &expected {
                        Some(e) if *e == sha => "match",
                        Some(_) => "differs",
                        None => "unverifiable",
                    }
                };
                Probe {
                    host: target.host,
                    address: target.address,
                    status,
                    served_subject: served.as_ref().map(|c| c.subject.clone()),
                    served_sha256: Some(sha),
                    served_not_after: served.map(|c| c.not_after),
                    error: None,
                }
            }
        };
        rows[owner].probes.push(probe);
    }
}
