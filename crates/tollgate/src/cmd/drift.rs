//! `tollgate baseline save` and `tollgate drift`: a known-safe state as normalized manifests (one
//! file per object, fit for Git), and what differs from it now, field by field, with the rules
//! each difference breaks or fixes.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::Value;
use tollgate_core::change::TRACKED_KINDS;
use tollgate_core::drift::{self, DriftReport, FieldChange, ObjectDrift};
use tollgate_core::manifest::InputError;
use tollgate_core::yaml;

use crate::cli::{BaselineArgs, BaselineCommand, DriftArgs, GlobalArgs, InputArgs, RulesFormat};
use crate::cluster::{self, ListError};
use crate::{input, output};

pub fn save(args: &BaselineArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let BaselineCommand::Save(save_args) = &args.command;
    let Some(dir) = &global.output else {
        bail!("say where to write the baseline: tollgate baseline save -o DIR ...");
    };
    let (values, errors) = raw_objects(&save_args.input, global.quiet)?;
    report_errors(&errors, global.quiet);
    let files = drift::baseline_files(&values);
    if files.is_empty() {
        bail!("no object of a tracked kind in the input: nothing to save");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (relative, text) in &files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    if !global.quiet {
        eprintln!(
            "tollgate: saved {} object(s) into {}",
            files.len(),
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: &DriftArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = input::config(global.config.as_deref())?;
    let (baseline, baseline_errors) = read_folder(&args.baseline)?;
    report_errors(&baseline_errors, global.quiet);
    let (current, errors) = raw_objects(&args.input, global.quiet)?;
    report_errors(&errors, global.quiet);
    let report = drift::drift(&baseline, &current, &config, jiff::Timestamp::now());
    let text = match args.format {
        RulesFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        RulesFormat::Table => drift_text(&report),
    };
    output::write(global.output.as_deref(), &text)?;
    Ok(if !report.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn report_errors(errors: &[InputError], quiet: bool) {
    if quiet {
        return;
    }
    for error in errors {
        eprintln!("tollgate: {error}");
    }
}

/// Every object of the input as JSON: re-read from its document for files (the inventory keeps
/// typed objects, and drift needs every field), listed for a cluster.
fn raw_objects(args: &InputArgs, quiet: bool) -> anyhow::Result<(Vec<Value>, Vec<InputError>)> {
    if args.cluster {
        return cluster_objects(args);
    }
    let loaded = input::load(args, quiet)?;
    let inventory = &loaded.inventory;
    let mut values = Vec::new();
    for object in &inventory.objects {
        let Some(origin) = &object.origin else {
            continue;
        };
        let Some(source) = inventory.sources.get(origin.source) else {
            continue;
        };
        let Ok(Some(document)) = yaml::parse_document(source.document(origin.document)) else {
            continue;
        };
        let value = if origin.prefix.is_empty() {
            Some(document)
        } else {
            document.pointer(&origin.prefix).cloned()
        };
        if let Some(mut value) = value {
            if object.kind.namespaced()
                && value.pointer("/metadata/namespace").is_none()
                && let Some(Value::Object(metadata)) = value.get_mut("metadata")
            {
                metadata.insert("namespace".into(), Value::String(object.ns().to_owned()));
            }
            values.push(value);
        }
    }
    Ok((values, loaded.errors))
}

fn cluster_objects(args: &InputArgs) -> anyhow::Result<(Vec<Value>, Vec<InputError>)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let (client, url) = cluster::client(args.context.as_deref()).await?;
        let mut values = Vec::new();
        let mut errors = Vec::new();
        for kind in TRACKED_KINDS {
            match cluster::list_values(client.clone(), kind, args.namespace.as_deref()).await {
                Ok(listed) => values.extend(listed.items),
                // An add-on that is not installed has no objects to drift.
                Err(ListError::Refused { code: 404, .. }) if kind.add_on() => {}
                Err(ListError::Refused { code, reason }) => errors.push(InputError {
                    file: None,
                    line: None,
                    column: None,
                    message: format!(
                        "cannot list {} (HTTP {code}: {reason}): its drift is not reported",
                        kind.api_path().plural
                    ),
                }),
                Err(ListError::Other(e)) => {
                    return Err(e.context(format!("listing {} from {url}", kind.api_path().plural)));
                }
            }
        }
        Ok((values, errors))
    })
}

/// Every object in the YAML and JSON files of a baseline folder.
fn read_folder(dir: &Path) -> anyhow::Result<(Vec<Value>, Vec<InputError>)> {
    if !dir.is_dir() {
        bail!(
            "{} is not a folder (write one with `tollgate baseline save -o DIR`)",
            dir.display()
        );
    }
    let (files, mut errors) = tollgate_core::manifest::expand_paths(&[dir.to_path_buf()]);
    let mut values = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                errors.push(InputError::file(&name, format!("cannot read: {e}")));
                continue;
            }
        };
        for document in yaml::split_documents(&text) {
            match yaml::parse_document(document) {
                Ok(Some(value)) => values.push(value),
                Ok(None) => {}
                Err(e) => errors.push(InputError {
                    file: Some(name.clone()),
                    line: e.position.map(|p| p.line),
                    column: e.position.map(|p| p.column),
                    message: e.message,
                }),
            }
        }
    }
    Ok((values, errors))
}

fn drift_text(report: &DriftReport) -> String {
    if report.is_empty() {
        return "No drift: every tracked object matches the baseline.\n".to_owned();
    }
    let mut text = String::new();
    let mut section = |title: &str, items: &[ObjectDrift], fields: bool| {
        if items.is_empty() {
            return;
        }
        let _ = writeln!(text, "{title} ({}):", items.len());
        for item in items {
            let place = match &item.namespace {
                Some(namespace) => format!("{namespace}/{}", item.name),
                None => item.name.clone(),
            };
            let _ = write!(text, "  {} {place}", item.kind);
            if !item.risk.introduced.is_empty() {
                let _ = write!(text, "   risk: {}", item.risk.introduced.join(", "));
            }
            if !item.risk.fixed.is_empty() {
                let _ = write!(text, "   fixes: {}", item.risk.fixed.join(", "));
            }
            text.push('\n');
            if fields {
                for field in &item.fields {
                    let show = |v: &Option<Value>| {
                        v.as_ref().map_or_else(String::new, |v| {
                            let s = v.to_string();
                            if s.len() > 80 {
                                format!("{}…", s.chars().take(80).collect::<String>())
                            } else {
                                s
                            }
                        })
                    };
                    let (change, value) = match field.change {
                        FieldChange::Added => ("added", format!("= {}", show(&field.current))),
                        FieldChange::Removed => {
                            ("removed", format!("(was {})", show(&field.baseline)))
                        }
                        FieldChange::Changed => (
                            "changed",
                            format!("{} → {}", show(&field.baseline), show(&field.current)),
                        ),
                    };
                    let _ = writeln!(text, "      {change:<8} {} {value}", field.path);
                }
            }
        }
        text.push('\n');
    };
    section("Changed", &report.changed, true);
    section("Added (not in the baseline)", &report.added, false);
    section(
        "Removed (in the baseline, gone now)",
        &report.removed,
        false,
    );
    text
}
