//! `tollgate audit import`: Kubernetes audit log files into the store, refused writes kept as
//! attempted changes in the history, and the risky changes the events themselves show.
//!
//! An event that carries the object (the response at RequestResponse level, or the request body
//! of a create or update) is judged by the rules on its own, against the version before it when
//! an earlier event or the history has one: so a cluster whose watch never ran still gets "an
//! Ingress was created without TLS by alice from 203.0.113.7".

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;
use serde_json::Value;
use tollgate_core::audit::{AuditEvent, AuditReadError, AuditStage, read_events};
use tollgate_core::change;
use tollgate_core::config::Config;
use tollgate_core::object::Kind;
use tollgate_store::{
    Action, HistoryFilter, InsertStats, NewRecord, Outcome, ResourceRef, Risk, Store,
};

use crate::cli::{AuditArgs, AuditCommand, AuditImportArgs, GlobalArgs, RulesFormat};
use crate::output;
use crate::tracking::{self, Judge};

/// Events stored per transaction.
const BATCH: usize = 5_000;

pub fn run(args: &AuditArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        AuditCommand::Import(import_args) => {
            let config = crate::input::config(global.config.as_deref())?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(import(import_args, global, &config))
        }
    }
}

/// A change the events show, judged by the rules.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct JudgedChange {
    pub time: String,
    pub audit_id: String,
    pub verb: String,
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub name: String,
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonated_by: Option<String>,
    pub source_ips: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    pub outcome: &'static str,
    pub risk: Risk,
    /// The severity of each introduced rule.
    pub severities: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
struct ImportReport {
    files: Vec<String>,
    events: usize,
    inserted: u64,
    duplicates: u64,
    errors: Vec<String>,
    attempted_changes_recorded: usize,
    judged_changes: usize,
    risky_changes: Vec<JudgedChange>,
}

async fn import(
    args: &AuditImportArgs,
    global: &GlobalArgs,
    config: &Config,
) -> anyhow::Result<ExitCode> {
    let store_url = tracking::store_url(args.store.store.as_deref(), config);
    let store = tracking::open_store(&store_url).await?;
    let judge = Judge::new(
        tracking::cluster_name(args.store.cluster_name.as_deref(), config),
        config,
    );
    let mut report = ImportReport::default();
    let mut events = Vec::new();
    let mut readable = 0;
    for path in &args.files {
        let name = path.display().to_string();
        report.files.push(name.clone());
        let text = if name == "-" {
            std::io::read_to_string(std::io::stdin()).context("reading standard input")
        } else {
            std::fs::read(path)
                .with_context(|| format!("reading {name}"))
                .and_then(|bytes| {
                    if bytes.starts_with(&[0x1f, 0x8b]) {
                        anyhow::bail!("{name} is gzip-compressed: decompress it first (zcat {name} | tollgate audit import -)");
                    }
                    String::from_utf8(bytes).with_context(|| format!("{name} is not UTF-8 text"))
                })
        };
        let text = match text {
            Ok(text) => text,
            Err(e) => {
                report.errors.push(format!("{e:#}"));
                continue;
            }
        };
        readable += 1;
        let (mut read, errors) = read_events(&text, &name);
        report
            .errors
            .extend(errors.iter().map(AuditReadError::to_string));
        events.append(&mut read);
    }
    for error in &report.errors {
        if !global.quiet {
            eprintln!("tollgate: {error}");
        }
    }
    if readable == 0 {
        anyhow::bail!("no audit log could be read");
    }
    report.events = events.len();
    for batch in events.chunks(BATCH) {
        let InsertStats {
            inserted,
            duplicates,
        } = store.insert_audit_events(&judge.cluster, batch).await?;
        report.inserted += inserted;
        report.duplicates += duplicates;
    }

    let judged = judge_events(&store, &judge, config, &events).await?;
    report.attempted_changes_recorded = judged.attempted_changes_recorded;
    report.judged_changes = judged.judged_changes;
    report.risky_changes = judged.risky_changes;

    let text = match args.format {
        RulesFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        RulesFormat::Table => report_text(&report),
    };
    output::write(global.output.as_deref(), &text)?;
    Ok(if report.risky_changes.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What judging a set of audit events found.
#[derive(Debug, Default)]
pub(crate) struct Judged {
    /// Refused writes newly kept as attempted changes.
    pub attempted_changes_recorded: usize,
    /// Writes judged (those carrying their object, and deletions).
    pub judged_changes: usize,
    /// The writes that introduce a rule violation, applied or refused.
    pub risky_changes: Vec<JudgedChange>,
}

/// Judges every write among `events` that carries its object against the version before it (an
/// earlier event's, or the history's), and keeps refused writes as attempted changes.
pub(crate) async fn judge_events(
    store: &Store,
    judge: &Judge,
    config: &Config,
    events: &[AuditEvent],
) -> anyhow::Result<Judged> {
    let mut outcome = Judged::default();
    // Judge writes in time order, each against the version before it.
    let mut writes: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| e.stage == AuditStage::ResponseComplete && e.is_mutating())
        .collect();
    writes.sort_by_key(|e| e.stage_time_ms());
    let mut seen: HashMap<(Kind, String, String), Option<Value>> = HashMap::new();
    let severities = tracking::severities();
    for event in writes {
        let Some((kind, namespace, name)) = target(event) else {
            continue;
        };
        let key = (kind, namespace.clone(), name.clone());
        let before = match seen.get(&key) {
            Some(known) => known.clone(),
            // The history's version as it was just before the event.
            None => store
                .applied_before(
                    &judge.cluster,
                    kind.as_str(),
                    &namespace,
                    &name,
                    i64::MAX,
                    event.stage_time_ms(),
                )
                .await?
                .and_then(|r| r.change.object),
        };
        let after = if event.verb == "delete" || event.verb == "deletecollection" {
            None
        } else {
            carried_object(event, kind).and_then(|o| change::normalize(&o))
        };
        let judged = after.is_some() || event.verb.starts_with("delete");
        let risk = if judged {
            change::risk_alone(
                tracking::judged_object(before.as_ref()).as_ref(),
                tracking::judged_object(after.as_ref()).as_ref(),
                config,
                jiff::Timestamp::now(),
            )
            .into()
        } else {
            Risk::default()
        };
        if event.denied() {
            if record_attempt(
                store, judge, event, kind, &namespace, &name, &before, &after, &risk,
            )
            .await?
            {
                outcome.attempted_changes_recorded += 1;
            }
        } else if judged {
            seen.insert(key, after.clone());
        }
        if !judged {
            continue;
        }
        outcome.judged_changes += 1;
        if risk.is_risky() {
            let user = event.effective_user();
            outcome.risky_changes.push(JudgedChange {
                time: event.stage_timestamp.to_string(),
                audit_id: event.audit_id.clone(),
                verb: event.verb.clone(),
                kind: kind.as_str().to_owned(),
                namespace,
                name,
                user: user.username.clone(),
                impersonated_by: event.impersonated_by().map(|u| u.username.clone()),
                source_ips: event.source_ips.clone(),
                user_agent: event.user_agent.clone(),
                outcome: if event.denied() { "denied" } else { "applied" },
                severities: risk
                    .introduced
                    .iter()
                    .map(|r| {
                        severities
                            .get(r.as_str())
                            .map_or_else(String::new, ToString::to_string)
                    })
                    .collect(),
                risk,
            });
        }
    }
    Ok(outcome)
}

/// The tracked object a write is about: (kind, namespace, name). Subresource writes (status,
/// scale) are not changes of the object's configuration.
fn target(event: &AuditEvent) -> Option<(Kind, String, String)> {
    let object = event.object_ref.as_ref()?;
    if object.subresource.as_deref().is_some_and(|s| !s.is_empty()) {
        return None;
    }
    let kind = tracking::kind_of_resource(
        object.api_group.as_deref().unwrap_or_default(),
        object.resource.as_deref()?,
    )?;
    let name = object.name.clone().filter(|n| !n.is_empty()).or_else(|| {
        carried_object(event, kind)?
            .pointer("/metadata/name")?
            .as_str()
            .map(str::to_owned)
    })?;
    let namespace = if kind.namespaced() {
        object
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".to_owned())
    } else {
        String::new()
    };
    Some((kind, namespace, name))
}

/// The whole object an event carries: the persisted one in the response, else the body of a
/// create or update (a patch body is a patch, not the object).
fn carried_object(event: &AuditEvent, kind: Kind) -> Option<Value> {
    let is_object =
        |value: &Value| value.get("kind").and_then(Value::as_str) == Some(kind.as_str());
    let mut object = if !event.denied()
        && let Some(response) = event.response_object.as_ref().filter(|v| is_object(v))
    {
        response.clone()
    } else if matches!(event.verb.as_str(), "create" | "update") {
        event.request_object.clone().filter(is_object)?
    } else {
        return None;
    };
    // Objects in audit events may omit apiVersion when the kind is set; rules need it.
    if object.get("apiVersion").is_none()
        && let Value::Object(map) = &mut object
    {
        map.insert("apiVersion".into(), Value::String(kind.api_version()));
    }
    Some(object)
}

/// Keeps a refused write as an attempted change, once per audit event.
#[allow(clippy::too_many_arguments)]
async fn record_attempt(
    store: &Store,
    judge: &Judge,
    event: &AuditEvent,
    kind: Kind,
    namespace: &str,
    name: &str,
    before: &Option<Value>,
    after: &Option<Value>,
    risk: &Risk,
) -> anyhow::Result<bool> {
    let existing = store
        .history(&HistoryFilter {
            cluster: Some(judge.cluster.clone()),
            kind: Some(kind.as_str().to_owned()),
            namespace: Some(namespace.to_owned()),
            name: Some(name.to_owned()),
            ..HistoryFilter::default()
        })
        .await?;
    if existing
        .iter()
        .any(|r| r.change.actor.audit_id.as_deref() == Some(event.audit_id.as_str()))
    {
        return Ok(false);
    }
    let action = match event.verb.as_str() {
        "create" => Action::Created,
        "delete" | "deletecollection" => Action::Deleted,
        _ => Action::Updated,
    };
    let actor = judge.actor_from_event(event, "audit-event");
    let out_of_band = judge.out_of_band(&actor);
    let diff = if after.is_some() {
        change::diff(before.as_ref(), after.as_ref())
    } else {
        Value::Array(Vec::new())
    };
    store
        .append(NewRecord {
            cluster: judge.cluster.clone(),
            time_ms: event.stage_time_ms(),
            action,
            resource: ResourceRef {
                api_version: kind.api_version(),
                kind: kind.as_str().to_owned(),
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                uid: String::new(),
            },
            resource_version: event
                .object_ref
                .as_ref()
                .and_then(|o| o.resource_version.clone())
                .unwrap_or_default(),
            object: after.clone(),
            diff,
            actor,
            risk: risk.clone(),
            outcome: Outcome::Denied,
            out_of_band,
        })
        .await?;
    Ok(true)
}

fn report_text(report: &ImportReport) -> String {
    let mut text = format!(
        "Read {} audit event(s) from {} file(s): {} new, {} already stored",
        report.events,
        report.files.len(),
        report.inserted,
        report.duplicates
    );
    if !report.errors.is_empty() {
        let _ = write!(text, "; {} unreadable input(s)", report.errors.len());
    }
    text.push('\n');
    if report.attempted_changes_recorded > 0 {
        let _ = writeln!(
            text,
            "{} refused write(s) kept in the history as attempted changes",
            report.attempted_changes_recorded
        );
    }
    if report.risky_changes.is_empty() {
        let _ = writeln!(
            text,
            "No risky change among the {} write(s) that carried their object.",
            report.judged_changes
        );
        return text;
    }
    let _ = writeln!(text, "\nRisky changes ({}):", report.risky_changes.len());
    for change in &report.risky_changes {
        let place = if change.namespace.is_empty() {
            change.name.clone()
        } else {
            format!("{}/{}", change.namespace, change.name)
        };
        let by = match &change.impersonated_by {
            Some(by) => format!("{} (impersonated by {by})", change.user),
            None => change.user.clone(),
        };
        let rules: Vec<String> = change
            .risk
            .introduced
            .iter()
            .zip(&change.severities)
            .map(|(rule, severity)| format!("{rule} ({severity})"))
            .collect();
        let _ = writeln!(
            text,
            "  {}  {} {} {place}  by {by} from {}{}\n      {}",
            change.time,
            change.verb,
            change.kind,
            change.source_ips.join(", "),
            if change.outcome == "denied" {
                "  [denied]"
            } else {
                ""
            },
            rules.join(", ")
        );
    }
    text
}
