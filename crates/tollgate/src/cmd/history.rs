//! `tollgate history`: the recorded changes (filtered, as a table or DESIGN §4 JSON), one change
//! with its YAML diff or as an applyable manifest, the hash-chain check, and retention.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use comfy_table::{ContentArrangement, Table, presets};
use serde_json::{Value, json};
use tollgate_core::change;
use tollgate_core::config::Config;
use tollgate_core::rbac::Target;
use tollgate_store::{HistoryFilter, HistoryRecord, Outcome, Retention, Store, VerifyReport};

use crate::cli::{
    GlobalArgs, HistoryArgs, HistoryCommand, HistoryListArgs, HistoryPruneArgs, HistoryShowArgs,
    HistoryVerifyArgs, RulesFormat, StoreArgs,
};
use crate::output;
use crate::tracking::{self, Judge};

/// Records read per query while filtering on what only the join knows (actor, out-of-band).
const PAGE: u32 = 500;

pub fn run(args: &HistoryArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = crate::input::config(global.config.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match &args.command {
            None => list(&args.list, global, &config).await,
            Some(HistoryCommand::Show(show_args)) => show(show_args, global, &config).await,
            Some(HistoryCommand::Verify(verify_args)) => verify(verify_args, global, &config).await,
            Some(HistoryCommand::Prune(prune_args)) => prune(prune_args, global, &config).await,
        }
    })
}

async fn open(args: &StoreArgs, config: &Config) -> anyhow::Result<(Store, Judge)> {
    let store = tracking::open_store(&tracking::store_url(args.store.as_deref(), config)).await?;
    let judge = Judge::new(
        tracking::cluster_name(args.cluster_name.as_deref(), config),
        config,
    );
    Ok((store, judge))
}

/// The cluster to select: only when the flag or the config names one.
fn cluster_filter(args: &StoreArgs, config: &Config) -> Option<String> {
    args.cluster_name
        .clone()
        .or_else(|| config.history.cluster.clone())
}

/// `NAME`, `KIND/NAME` or `KIND/NAMESPACE/NAME`.
fn resource_filter(text: &str, filter: &mut HistoryFilter) {
    let parts: Vec<&str> = text.split('/').collect();
    match parts.as_slice() {
        [name] => filter.name = Some((*name).to_owned()),
        [kind, name] => {
            filter.kind = Some(canonical_kind(kind));
            filter.name = Some((*name).to_owned());
        }
        [kind, namespace, name, ..] => {
            filter.kind = Some(canonical_kind(kind));
            filter.namespace = Some((*namespace).to_owned());
            filter.name = Some((*name).to_owned());
        }
        [] => {}
    }
}

/// `ingress`, `ingresses`, `ing`, `Ingress` → `Ingress`: read as `rbac who-can` reads a
/// resource, so the same kubectl names work; anything else is kept as typed.
fn canonical_kind(text: &str) -> String {
    let named = tollgate_core::object::Kind::ALL
        .into_iter()
        .find(|kind| kind.as_str().eq_ignore_ascii_case(text));
    if let Some(kind) = named {
        return kind.as_str().to_owned();
    }
    let found = match Target::parse(text) {
        Ok(Target::Resource {
            group, resource, ..
        }) => tollgate_core::object::Kind::ALL.into_iter().find(|kind| {
            let path = kind.api_path();
            path.group == group && path.plural == resource
        }),
        _ => None,
    };
    found.map_or_else(|| text.to_owned(), |kind| kind.as_str().to_owned())
}

/// Records newest first, resolved (actors joined to audit events), filtered.
async fn select(
    store: &Store,
    judge: &Judge,
    args: &HistoryListArgs,
    config: &Config,
) -> anyhow::Result<Vec<HistoryRecord>> {
    let mut filter = HistoryFilter {
        cluster: cluster_filter(&args.store, config),
        kind: args.kind.as_deref().map(canonical_kind),
        namespace: args.namespace.clone(),
        since_ms: args.since.map(jiff::Timestamp::as_millisecond),
        until_ms: args.until.map(jiff::Timestamp::as_millisecond),
        risky_only: args.risky,
        limit: Some(PAGE),
        ..HistoryFilter::default()
    };
    if let Some(resource) = &args.resource {
        resource_filter(resource, &mut filter);
    }
    let mut selected = Vec::new();
    loop {
        let page = store.history(&filter).await?;
        let done = page.len() < PAGE as usize;
        for mut record in page {
            judge.resolve(store, &mut record).await?;
            let actor = &record.change.actor;
            let actor_fits = args.actor.as_deref().is_none_or(|wanted| {
                actor.user.as_deref() == Some(wanted)
                    || actor.impersonated_by.as_deref() == Some(wanted)
            });
            if actor_fits && (!args.out_of_band || record.change.out_of_band) {
                selected.push(record);
                if selected.len() >= args.limit as usize {
                    return Ok(selected);
                }
            }
        }
        if done {
            return Ok(selected);
        }
        filter.offset += PAGE;
    }
}

async fn list(
    args: &HistoryListArgs,
    global: &GlobalArgs,
    config: &Config,
) -> anyhow::Result<ExitCode> {
    let (store, judge) = open(&args.store, config).await?;
    let records = select(&store, &judge, args, config).await?;
    let mut text = String::new();
    match args.format {
        RulesFormat::Json => {
            let events: Vec<Value> = records.iter().map(event_json).collect();
            text = serde_json::to_string_pretty(&json!({ "events": events }))?;
            text.push('\n');
        }
        RulesFormat::Table if args.diff => {
            for record in &records {
                let before = previous_version(&store, record).await?;
                describe(&mut text, record, before.as_ref());
                text.push('\n');
            }
            if records.is_empty() {
                text.push_str("No recorded changes match.\n");
            }
        }
        RulesFormat::Table => text = table(&records),
    }
    output::write(global.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

/// One change as DESIGN §4 specifies history events.
pub(crate) fn event_json(record: &HistoryRecord) -> Value {
    let change = &record.change;
    json!({
        "id": record.seq,
        "time": crate::output::rfc3339_ms(change.time_ms),
        "action": change.action.as_str(),
        "resource": change.resource,
        "resource_version": change.resource_version,
        "actor": change.actor,
        "diff": change.diff,
        "risk": change.risk,
        "outcome": change.outcome.as_str(),
        "out_of_band": change.out_of_band,
        "cluster": change.cluster,
        "hash": record.hash,
        "prev_hash": record.prev_hash,
    })
}

fn place(record: &HistoryRecord) -> String {
    let resource = &record.change.resource;
    if resource.namespace.is_empty() {
        format!("{} {}", resource.kind, resource.name)
    } else {
        format!("{} {}/{}", resource.kind, resource.namespace, resource.name)
    }
}

/// The actor in one line: `bob (impersonated by admin) via kubectl-edit [audit]`.
fn who(record: &HistoryRecord) -> String {
    let actor = &record.change.actor;
    let mut text = crate::tracking::actor_name(actor);
    if actor.shared {
        text.push_str(" [shared identity]");
    }
    let how = match actor.attribution {
        tollgate_store::Attribution::Audit => "audit",
        tollgate_store::Attribution::ManagedFields => "managedFields",
        tollgate_store::Attribution::Unknown => "no evidence",
    };
    let _ = write!(text, " [{how}]");
    text
}

fn table(records: &[HistoryRecord]) -> String {
    if records.is_empty() {
        return "No recorded changes match.\n".to_owned();
    }
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .force_no_tty()
        .set_header(vec![
            "#", "TIME", "ACTION", "RESOURCE", "ACTOR", "FROM", "RISK",
        ]);
    for record in records {
        let change = &record.change;
        let mut action = change.action.as_str().to_owned();
        if change.outcome == Outcome::Denied {
            action = format!("{action} (denied)");
        }
        if change.out_of_band {
            action.push_str(" out-of-band");
        }
        let mut risk = change.risk.introduced.join(", ");
        if !change.risk.fixed.is_empty() {
            if !risk.is_empty() {
                risk.push_str("; ");
            }
            let _ = write!(risk, "fixed: {}", change.risk.fixed.join(", "));
        }
        table.add_row(vec![
            record.seq.to_string(),
            crate::output::rfc3339_ms(change.time_ms),
            action,
            place(record),
            who(record),
            change.actor.source_ips.join(", "),
            risk,
        ]);
    }
    format!("{table}\n{} change(s)\n", records.len())
}

/// The object's version before `record`: the last applied record of it before this one.
async fn previous_version(store: &Store, record: &HistoryRecord) -> anyhow::Result<Option<Value>> {
    let resource = &record.change.resource;
    let previous = store
        .applied_before(
            &record.change.cluster,
            &resource.kind,
            &resource.namespace,
            &resource.name,
            record.seq,
            i64::MAX,
        )
        .await?;
    Ok(previous.and_then(|r| r.change.object))
}

/// A change for people: what, who, risk, then the YAML diff.
fn describe(text: &mut String, record: &HistoryRecord, before: Option<&Value>) {
    let change = &record.change;
    let _ = writeln!(
        text,
        "#{} {} {} {} in cluster {}",
        record.seq,
        crate::output::rfc3339_ms(change.time_ms),
        change.action.as_str(),
        place(record),
        change.cluster
    );
    let _ = writeln!(text, "  by:       {}", who(record));
    let actor = &change.actor;
    if !actor.groups.is_empty() {
        let _ = writeln!(text, "  groups:   {}", actor.groups.join(", "));
    }
    if !actor.source_ips.is_empty() {
        let _ = writeln!(text, "  from:     {}", actor.source_ips.join(", "));
    }
    if let Some(agent) = &actor.user_agent {
        let _ = writeln!(text, "  client:   {agent}");
    }
    if let Some(manager) = &actor.field_manager {
        let _ = writeln!(text, "  manager:  {manager}");
    }
    if let Some(id) = &actor.audit_id {
        let how = actor.matched_by.as_deref().unwrap_or("audit");
        let _ = writeln!(text, "  audit:    {id} (matched by {how})");
    }
    let _ = writeln!(text, "  outcome:  {}", change.outcome.as_str());
    if change.out_of_band {
        let _ = writeln!(
            text,
            "  out-of-band: not one of the configured GitOps identities"
        );
    }
    let severities = tracking::severities();
    let named = |rules: &[String]| {
        rules
            .iter()
            .map(|r| match severities.get(r.as_str()) {
                Some(severity) => format!("{r} ({severity})"),
                None => r.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !change.risk.introduced.is_empty() {
        let _ = writeln!(text, "  risk:     {}", named(&change.risk.introduced));
    }
    if !change.risk.fixed.is_empty() {
        let _ = writeln!(text, "  fixed:    {}", named(&change.risk.fixed));
    }
    let _ = writeln!(
        text,
        "  version:  {}  hash: {}",
        change.resource_version, record.hash
    );
    // For a refused attempt the object is what was asked for, against what stayed.
    let diff = change::yaml_diff(before, change.object.as_ref(), 3);
    if !diff.is_empty() {
        text.push('\n');
        for line in diff.lines() {
            let _ = writeln!(text, "  {line}");
        }
    }
}

async fn show(
    args: &HistoryShowArgs,
    global: &GlobalArgs,
    config: &Config,
) -> anyhow::Result<ExitCode> {
    let (store, judge) = open(&args.store, config).await?;
    let Some(mut record) = store.record(args.id).await? else {
        bail!(
            "no change #{} in the store (it may have been pruned)",
            args.id
        );
    };
    judge.resolve(&store, &mut record).await?;
    if args.manifest {
        let change = &record.change;
        if change.outcome == Outcome::Denied {
            bail!(
                "change #{} was refused by the API server: there is no version to apply",
                args.id
            );
        }
        let Some(object) = &change.object else {
            let before = previous_version(&store, &record).await?;
            let hint = if before.is_some() {
                " (the version before it is in the history: `tollgate history --resource` lists it)"
            } else {
                ""
            };
            bail!(
                "change #{} deleted {}: there is no version after it{hint}",
                args.id,
                place(&record)
            );
        };
        let manifest = change::manifest(object).map_err(|e| anyhow::anyhow!(e))?;
        output::write(global.output.as_deref(), &manifest)?;
        return Ok(ExitCode::SUCCESS);
    }
    let before = previous_version(&store, &record).await?;
    let text = match args.format {
        Some(RulesFormat::Json) => {
            let mut event = event_json(&record);
            event["object"] = record.change.object.clone().unwrap_or(Value::Null);
            event["previous_object"] = before.unwrap_or(Value::Null);
            format!("{}\n", serde_json::to_string_pretty(&event)?)
        }
        _ => {
            let mut text = String::new();
            describe(&mut text, &record, before.as_ref());
            text
        }
    };
    output::write(global.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

/// The checkpoint key from the environment variable the config names.
pub(crate) fn checkpoint_key(config: &Config) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(var) = &config.history.checkpoint_key_env else {
        return Ok(None);
    };
    match std::env::var(var) {
        Ok(key) if !key.is_empty() => Ok(Some(key.into_bytes())),
        _ => bail!("history.checkpointKeyEnv names {var}, which is not set"),
    }
}

async fn verify(
    args: &HistoryVerifyArgs,
    global: &GlobalArgs,
    config: &Config,
) -> anyhow::Result<ExitCode> {
    let (store, _) = open(&args.store, config).await?;
    let key = checkpoint_key(config)?;
    let report = store.verify(key.as_deref()).await?;
    let text = match args.format {
        RulesFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        RulesFormat::Table => verify_text(&report),
    };
    output::write(global.output.as_deref(), &text)?;
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn verify_text(report: &VerifyReport) -> String {
    let mut text = String::new();
    if let Some(status) = &report.checkpoint {
        let _ = writeln!(
            text,
            "Starts at checkpoint {} (record #{}; {} records pruned), signature {:?}",
            status.checkpoint.id,
            status.checkpoint.first_seq,
            status.checkpoint.records_pruned,
            status.signature
        );
    }
    match &report.first_broken {
        None => {
            let _ = writeln!(
                text,
                "Chain intact: {} record(s) verified; head #{} {}",
                report.records, report.head.0, report.head.1
            );
            let _ = writeln!(
                text,
                "Keep the head hash elsewhere to detect a rewritten chain."
            );
        }
        Some((seq, why)) => {
            let _ = writeln!(text, "Chain BROKEN at record #{seq}: {why}");
            let _ = writeln!(text, "{} record(s) before it verified.", report.records);
        }
    }
    text
}

async fn prune(
    args: &HistoryPruneArgs,
    global: &GlobalArgs,
    config: &Config,
) -> anyhow::Result<ExitCode> {
    let (store, _) = open(&args.store, config).await?;
    let retention = Retention {
        keep_days: args.days.or(config.history.retention.days),
        keep_versions_per_object: args.versions.or(config.history.retention.versions),
    };
    if retention.keep_days.is_none() && retention.keep_versions_per_object.is_none() {
        bail!(
            "nothing to prune by: set history.retention.days or .versions, or --days / --versions"
        );
    }
    let key = checkpoint_key(config)?;
    if key.is_none() && !global.quiet {
        eprintln!(
            "tollgate: warning: no checkpoint key (history.checkpointKeyEnv): the checkpoint is \
             unsigned, so anyone who can write the database could forge one"
        );
    }
    let report = store
        .prune(
            &retention,
            jiff::Timestamp::now().as_millisecond(),
            key.as_deref(),
        )
        .await?;
    let mut text = format!(
        "Pruned {} record(s) and {} audit event(s); {} record(s) kept{}\n",
        report.records_pruned,
        report.audit_events_pruned,
        report.records_kept,
        report
            .checkpoint
            .as_ref()
            .map(|c| format!("; checkpoint {} starts the chain at #{}", c.id, c.first_seq))
            .unwrap_or_default()
    );
    // What `tollgate serve` keeps goes by the same days.
    if let Some(days) = retention.keep_days {
        let service = store
            .prune_service(days, jiff::Timestamp::now().as_millisecond())
            .await?;
        text.push_str(&format!(
            "Pruned {} access minute(s), {} alert(s) and {} resolved finding(s)\n",
            service.access_minutes, service.alerts, service.findings
        ));
    }
    output::write(global.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
