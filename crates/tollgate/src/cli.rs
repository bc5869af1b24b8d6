//! The command line: every command, flag and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Audit Kubernetes Ingress: what is exposed and how, who changed it, who uses it.
#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    propagate_version = true,
    after_help = "Examples:\n  \
        tollgate scan deploy/                     audit manifests in a folder\n  \
        helm template my-chart | tollgate scan -  audit rendered Helm output\n  \
        tollgate scan --cluster --context prod    audit the live cluster\n  \
        tollgate map examples/ --format mermaid   draw the route graph\n  \
        tollgate rules wildcard-host              explain one rule\n  \
        tollgate rbac review examples/            who can change what is exposed\n  \
        tollgate report examples/ --framework pci-dss -o pci.html   a compliance document\n  \
        tollgate migrate --to gateway-api examples/   what moving to the Gateway API takes\n\n\
        Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error or nothing readable."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file [default: tollgate.yaml in the current folder, if present]
    #[arg(long, global = true, value_name = "FILE", env = "TOLLGATE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Write the output to FILE instead of standard output
    #[arg(short = 'o', long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// When to use colour
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print only the report: no progress, no notes on standard error
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Say more on standard error (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit manifests or a live cluster against the rule catalog
    #[command(after_help = "Examples:\n  \
        tollgate scan deploy/ --fail-on medium\n  \
        kustomize build overlays/prod | tollgate scan - --format sarif -o tollgate.sarif\n  \
        tollgate scan --cluster -n shop --select tls,routing\n  \
        tollgate scan examples/ --ignore wildcard-host --format json")]
    Scan(ScanArgs),

    /// Print the route inventory: host → path → Ingress → Service → endpoints, with TLS and access posture
    #[command(after_help = "Examples:\n  \
        tollgate map examples/\n  \
        tollgate map --cluster --format json\n  \
        tollgate map examples/ --format dot | dot -Tsvg > routes.svg")]
    Map(MapArgs),

    /// List the rule catalog, or explain one rule
    Rules(RulesArgs),

    /// Inventory the TLS secrets that routes serve: subject, SANs, days left, key, chain, findings
    #[command(after_help = "Examples:\n  \
        tollgate certs deploy/                               every TLS secret routes use, soonest expiry first\n  \
        tollgate certs --cluster --format json              for a dashboard or a ticket\n  \
        tollgate certs deploy/ --at 2027-01-01T00:00:00Z    what will have expired by New Year\n  \
        tollgate certs --cluster --probe                    compare what each host serves with its Secret\n  \
        tollgate certs deploy/ --probe --probe-address 10.0.0.5:443   probe one controller address\n\n\
        Exit codes: 0 clean, 1 a finding at or above --fail-on or a host serving another certificate, 2 usage error.\n\
        The private key is only checked against the certificate; it is never printed or stored.")]
    Certs(CertsArgs),

    /// What ingress-nginx would refuse if its validation were raised: a higher
    /// `annotations-risk-level`, or `strict-validate-path-type` (exits 1 if anything would break)
    #[command(
        name = "what-if",
        after_help = "Examples:\n  \
        tollgate what-if deploy/ --risk-level high          annotations refused at level High\n  \
        tollgate what-if --cluster --strict-paths           paths refused by strict path validation\n  \
        tollgate what-if deploy/ --risk-level medium --strict-paths --format json"
    )]
    WhatIf(WhatIfArgs),

    /// Audit access logs: parse, attribute each request to its route, aggregate, detect attacks
    #[command(after_help = "Examples:\n  \
        tollgate logs access.log --inventory deploy/          attribute requests to routes\n  \
        kubectl logs -n ingress-nginx deploy/ingress-nginx-controller | tollgate logs -\n  \
        tollgate logs /var/log/containers/ingress-*.log --cluster --format json\n  \
        tollgate logs access.log.gz --records | jq 'select(.status >= 500)'\n  \
        tollgate logs --follow access.log --geoip GeoLite2-Country.mmdb\n\n\
        Formats (--log-format): ingress-nginx (upstreaminfo and JSON), nginx (combined), traefik,\n\
        traefik-json, haproxy, aws-alb, envoy, envoy-json, gcp-lb; auto detects per file and per line.\n\
        CRI and Docker JSON node log wrappers are unwrapped and .gz files read transparently.\n\
        Detector thresholds, pattern lists, untrusted ranges and countries: the `detectors` section\n\
        of tollgate.yaml (see `tollgate logs --detectors` and docs/logs.md).\n\n\
        Exit codes: 0 no alert, 1 alerts fired, 2 usage error or nothing readable.")]
    Logs(LogsArgs),

    /// Who may change what is exposed: `who-can` questions and the RBAC review
    #[command(after_help = "Examples:\n  \
        tollgate rbac who-can create ingresses -n storefront deploy/\n  \
        tollgate rbac who-can update services/status --cluster\n  \
        tollgate rbac review examples/\n  \
        tollgate rbac review --cluster --format json")]
    Rbac(RbacArgs),

    /// Record every change of Ingresses and what they depend on into the history store
    #[command(after_help = "Examples:\n  \
        tollgate watch --cluster                              record changes until stopped\n  \
        tollgate watch --cluster --once                       compare the cluster with the store once\n  \
        tollgate watch --cluster --lease tollgate/history     one writer among several replicas\n  \
        tollgate watch --cluster --store postgres://tollgate@db/tollgate --cluster-name prod-eu\n\n\
        Watched: Ingress, IngressClass, Service, Secret (metadata and certificate fingerprint only),\n\
        NetworkPolicy, Role, ClusterRole, RoleBinding, ClusterRoleBinding,\n\
        ValidatingWebhookConfiguration and the controller ConfigMap (`history.configMaps`).\n\
        Each watch resumes from the resourceVersion the store kept; after a 410 Gone it lists again\n\
        and records whatever changed meanwhile. Stop with Ctrl-C or SIGTERM.")]
    Watch(WatchArgs),

    /// The continuous service: watch, scheduled scans, audit webhook, log intake, alerts,
    /// metrics, REST API and dashboard
    #[command(after_help = "Examples:\n  \
        tollgate serve --config tollgate.yaml                  in a cluster (in-cluster config)\n  \
        tollgate serve examples/ --listen 127.0.0.1:8080       the dashboard over manifests, no cluster\n  \
        tollgate serve --config tollgate.yaml --store postgres://tollgate@db/tollgate --cluster-name prod-eu\n\n\
        Everything is configured in the `serve:` section of tollgate.yaml (docs/serve.md): listener,\n\
        tokens (read from TOLLGATE_READ_TOKEN and TOLLGATE_INTAKE_TOKEN), limits, scan interval,\n\
        Lease, alert sinks. Reads are open on loopback unless the config says otherwise; the intake\n\
        endpoints always need the intake token off loopback.\n\n\
        Endpoints: /healthz /readyz /metrics, POST /api/v1/audit/events, POST /api/v1/logs,\n\
        GET /api/v1/{inventory,findings,history,alerts,certificates,access/summary,status},\n\
        /api/v1/openapi.json, and the dashboard at /. Stop with Ctrl-C or SIGTERM.")]
    Serve(ServeArgs),

    /// Who changed what, when and from where: the recorded history, one change, or the chain check
    #[command(after_help = "Examples:\n  \
        tollgate history                                     newest changes first\n  \
        tollgate history --kind Ingress -n shop --since 2026-11-01 --diff\n  \
        tollgate history --risky --format json\n  \
        tollgate history --actor alice@example.com\n  \
        tollgate history show 42                             one change with its YAML diff\n  \
        tollgate history show 41 --manifest | kubectl apply -f -   roll back to version 41\n  \
        tollgate history verify                              check the tamper-evident hash chain\n  \
        tollgate history prune                               apply `history.retention`\n\n\
        Actors come from audit events (`tollgate audit import`) joined on resourceVersion, then on\n\
        field manager and time; without one, from managedFields (a client-chosen name, not an\n\
        identity). Exit codes: 0 ok, 1 `verify` found the chain broken, 2 usage or store error.")]
    History(HistoryArgs),

    /// Kubernetes audit events: import log files into the store and report risky changes
    Audit(AuditArgs),

    /// Save a known-safe state of the tracked objects as normalized manifests
    Baseline(BaselineArgs),

    /// Compare manifests or the cluster with a saved baseline: added, removed and changed objects
    /// and fields, each with the rules it breaks or fixes
    #[command(after_help = "Examples:\n  \
        tollgate baseline save -o baseline/ --cluster\n  \
        tollgate drift --baseline baseline/ --cluster\n  \
        tollgate drift --baseline baseline/ rendered/ --format json\n\n\
        Unlike Argo CD's diff, fields added by hand count: an annotation added with `kubectl edit`\n\
        is drift. Exit codes: 0 no drift, 1 drift found, 2 usage error or nothing readable.")]
    Drift(DriftArgs),

    /// A compliance and review document: exposure, findings by control (pass, fail, not
    /// assessed), certificates, RBAC, change history, access logs and suppressions
    #[command(after_help = "Examples:\n  \
        tollgate report examples/ --framework pci-dss -o pci.html\n  \
        tollgate report --cluster --store sqlite://tollgate.db --framework soc2 --since 2026-10-01 -o soc2.html\n  \
        tollgate report deploy/ --logs access.log.gz --framework iso27001 --format markdown\n  \
        tollgate report --cluster --framework cis-kubernetes --format pdf -o cis.pdf\n  \
        tollgate report examples/ --framework nsa-cisa --format json --at 2026-11-22T00:00:00Z\n\n\
        Frameworks: cis-kubernetes (CIS Kubernetes Benchmark v1.10.0, section 5), nsa-cisa\n\
        (NSA/CISA Kubernetes Hardening Guidance 1.2), pci-dss (PCI DSS 4.0.1, requirements 1, 4, 6,\n\
        7, 8, 10), soc2 (TSC 2017 rev. 2022, CC6 and CC7), iso27001 (ISO/IEC 27001:2022 Annex A 8.x).\n\
        Each control is pass, fail or not assessed, with the reason: the change history needs\n\
        --store (or `history.store`), the access summary needs --logs; without them their controls\n\
        say so. The report is reproducible: the same inputs and --at give the same bytes (without\n\
        --at it speaks for the current time, and two runs differ only there). --format pdf prints\n\
        the HTML with headless Chromium (/usr/bin/chromium). Put PATHs before --logs, which takes\n\
        every value after it. Exit codes: 0 the document was written, 2 usage or input error.")]
    Report(ReportArgs),

    /// What an ingress-nginx estate needs to move to the Gateway API: the Gateways, routes and
    /// policies each Ingress becomes, and the annotations with no equivalent
    #[command(after_help = "Examples:\n  \
        tollgate migrate --to gateway-api examples/                      the readiness report (Markdown)\n  \
        tollgate migrate --to gateway-api --cluster --format json        for a ticket or a dashboard\n  \
        tollgate migrate --to gateway-api deploy/ --format yaml -o gateway-api.yaml\n  \
        tollgate migrate --to gateway-api deploy/ --format yaml --gateway-class my-class --implementation none\n  \
        tollgate migrate --to gateway-api deploy/ --format yaml | tollgate scan -   check the result\n\n\
        One Gateway per namespace and ingress class (listener `http`, and `https-HOST` per TLS\n\
        host with the Ingress's Secret), one route per Ingress and host, an HTTP-to-HTTPS redirect\n\
        route for hosts with TLS (ingress-nginx's default). --gateway-class defaults to `eg`, the\n\
        Envoy Gateway quickstart class: set yours. --implementation envoy-gateway (the default) also\n\
        writes SecurityPolicy (auth-url, basic auth, allow-lists, CORS) and BackendTrafficPolicy\n\
        (limit-rps, limit-rpm); an authentication that cannot be translated leaves the route denied,\n\
        not open. The mapping of every annotation is data with its sources:\n\
        crates/tollgate-core/data/ingress-nginx-gateway-api.json (docs/migrate.md).\n\n\
        Exit codes: 0 the report was produced, 2 usage or input error.")]
    Migrate(MigrateArgs),

    /// Generate rule docs, the man page or shell completions
    #[command(hide = true)]
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The API to migrate to
    #[arg(long = "to", value_enum, value_name = "TARGET", required = true)]
    pub target: MigrateTarget,

    #[command(flatten)]
    pub input: InputArgs,

    /// Output format: the report, or the translated objects as a multi-document YAML stream
    #[arg(short, long, value_enum, default_value_t = MigrateFormat::Markdown)]
    pub format: MigrateFormat,

    /// `spec.gatewayClassName` of the Gateways written (the default is Envoy Gateway's quickstart class)
    #[arg(long, value_name = "NAME", default_value = tollgate_core::migrate::DEFAULT_GATEWAY_CLASS, value_parser = parse_gateway_class)]
    pub gateway_class: String,

    /// Also write this implementation's policies for auth, allow-lists, CORS and rate limits
    #[arg(long, value_enum, value_name = "NAME", default_value_t = MigrateImplementation::EnvoyGateway)]
    pub implementation: MigrateImplementation,
}

/// `--gateway-class`: a Kubernetes object name.
fn parse_gateway_class(name: &str) -> Result<String, String> {
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "`{name}` is not a GatewayClass name (lower-case letters, digits, `-` and `.`)"
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateTarget {
    /// The Kubernetes Gateway API (gateway.networking.k8s.io)
    GatewayApi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateFormat {
    /// The migration-readiness report
    Markdown,
    /// The report as one JSON object
    Json,
    /// The translated objects, one YAML document each
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateImplementation {
    /// Envoy Gateway: SecurityPolicy and BackendTrafficPolicy
    EnvoyGateway,
    /// Standard Gateway API objects only; policy-needing annotations are listed
    None,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The control framework to map the evidence to
    #[arg(long, value_name = "NAME", value_parser = parse_framework)]
    pub framework: &'static tollgate_core::compliance::Framework,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,

    /// The history store to summarise [default: `history.store` in the config; without either,
    /// the change history is not assessed]
    #[arg(long, value_name = "URL", env = "TOLLGATE_STORE")]
    pub store: Option<String>,

    /// The cluster to select from the store [default: `history.cluster`, else every cluster]
    #[arg(long, value_name = "NAME")]
    pub cluster_name: Option<String>,

    /// Access-log files (plain or .gz) for the access summary and alerts
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub logs: Vec<PathBuf>,

    /// Start of the change-history period (RFC 3339, or a date) [default: the first record]
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<jiff::Timestamp>,

    /// The instant the report speaks for (RFC 3339): certificates and suppressions are judged
    /// at it and the history period ends at it [default: now]
    #[arg(long, value_name = "TIME")]
    pub at: Option<jiff::Timestamp>,
}

/// `--framework`: one of the mapped frameworks.
fn parse_framework(name: &str) -> Result<&'static tollgate_core::compliance::Framework, String> {
    tollgate_core::compliance::framework::find(name).ok_or_else(|| {
        format!(
            "unknown framework `{name}`; one of {}",
            tollgate_core::compliance::framework::names().join(", ")
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page with charts; prints cleanly to PDF
    Html,
    /// GitHub-flavoured Markdown with the same content
    Markdown,
    /// The report's model as one JSON object
    Json,
    /// PDF, printed from the HTML by headless Chromium
    Pdf,
}

/// Where the history is kept.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store: sqlite://PATH or postgres://USER@HOST/DB [default: `history.store` in the
    /// config, else sqlite://tollgate.db]
    #[arg(long, value_name = "URL", env = "TOLLGATE_STORE")]
    pub store: Option<String>,

    /// The cluster name recorded with (or selected from) the history [default: `history.cluster`
    /// in the config, else `default`]
    #[arg(long, value_name = "NAME")]
    pub cluster_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Watch the cluster of the kubeconfig (or in-cluster config); the only source watch has
    #[arg(long, required = true)]
    pub cluster: bool,

    /// Kubeconfig context to use
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Only this namespace (cluster-scoped kinds are still watched)
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,

    /// The store URL [default: `history.store`, else sqlite://tollgate.db]
    #[arg(long, value_name = "URL", env = "TOLLGATE_STORE")]
    pub store: Option<String>,

    /// The cluster name recorded with every change [default: `history.cluster`, else `default`]
    #[arg(long, value_name = "NAME")]
    pub cluster_name: Option<String>,

    /// Hold this Lease (NAMESPACE/NAME) while recording, so only one replica writes
    #[arg(long, value_name = "NS/NAME")]
    pub lease: Option<String>,

    /// This replica's name in the Lease [default: HOSTNAME and process id]
    #[arg(long, value_name = "ID", requires = "lease")]
    pub identity: Option<String>,

    /// How long the Lease lasts without renewal, in seconds (renewed every third of it)
    #[arg(long, value_name = "SECONDS", default_value_t = 15, requires = "lease",
          value_parser = clap::value_parser!(i32).range(2..=300))]
    pub lease_seconds: i32,

    /// List every kind once, record what differs from the store, and exit
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Scan these manifests instead of a cluster (files, folders; also `serve.scan.paths`)
    #[arg(value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,

    /// Listen here [default: `serve.listen`, else 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,

    /// Kubeconfig context to use
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Do not contact a cluster: no watch, and scans read PATHs only
    #[arg(long)]
    pub no_cluster: bool,

    /// The store URL [default: `history.store`, else sqlite://tollgate.db]
    #[arg(long, value_name = "URL", env = "TOLLGATE_STORE")]
    pub store: Option<String>,

    /// The cluster name recorded with everything [default: `history.cluster`, else `default`]
    #[arg(long, value_name = "NAME")]
    pub cluster_name: Option<String>,

    /// This replica's name in the Lease [default: HOSTNAME and process id]
    #[arg(long, value_name = "ID")]
    pub identity: Option<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub command: Option<HistoryCommand>,

    #[command(flatten)]
    pub list: HistoryListArgs,
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// One recorded change: who, when, risk and the YAML diff; or the version as a manifest
    Show(HistoryShowArgs),
    /// Check the hash chain over every record; name the first broken one (exit 1)
    Verify(HistoryVerifyArgs),
    /// Remove records retention lets go (`history.retention`), leaving a signed checkpoint
    Prune(HistoryPruneArgs),
}

#[derive(Debug, Args)]
pub struct HistoryListArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// Only this kind (Ingress, Service, ...)
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,

    /// Only this namespace
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,

    /// Only objects of this name (or KIND/NAME, or KIND/NAMESPACE/NAME)
    #[arg(long, value_name = "NAME")]
    pub resource: Option<String>,

    /// Only changes by this user (the effective user; impersonators match too)
    #[arg(long, value_name = "USER")]
    pub actor: Option<String>,

    /// Only changes at or after this time (RFC 3339, or a date)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<jiff::Timestamp>,

    /// Only changes before this time (RFC 3339, or a date)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<jiff::Timestamp>,

    /// Only changes that break a rule
    #[arg(long)]
    pub risky: bool,

    /// Only changes by identities other than the configured GitOps ones
    #[arg(long)]
    pub out_of_band: bool,

    /// At most this many changes
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: u32,

    /// Show each change's YAML diff under it (table format)
    #[arg(long)]
    pub diff: bool,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
}

#[derive(Debug, Args)]
pub struct HistoryShowArgs {
    /// The change's number (the `#` column of `tollgate history`)
    pub id: i64,

    #[command(flatten)]
    pub store: StoreArgs,

    /// Print the object as it was after this change, ready for `kubectl apply -f -`
    #[arg(long, conflicts_with = "format")]
    pub manifest: bool,

    /// Output format
    #[arg(short, long, value_enum)]
    pub format: Option<RulesFormat>,
}

#[derive(Debug, Args)]
pub struct HistoryVerifyArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
}

#[derive(Debug, Args)]
pub struct HistoryPruneArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// Keep records younger than this many days [default: `history.retention.days`]
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,

    /// Keep at least this many versions of every object [default: `history.retention.versions`]
    #[arg(long, value_name = "N")]
    pub versions: Option<u32>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Load audit log files (JSON lines of the log backend, EventLists, GKE and AKS exports) into
    /// the store, keep refused writes as attempted changes, and list risky changes the events show
    #[command(after_help = "Examples:\n  \
        tollgate audit import /var/log/kubernetes/audit/audit.log\n  \
        tollgate audit import audit-*.log --format json\n  \
        kubectl logs -n kube-system kube-apiserver-cp1 | tollgate audit import -\n\n\
        Events are stored once per (auditID, stage): importing a file twice changes nothing.\n\
        Events that carry the object (Request or RequestResponse level) are judged by the rules on\n\
        their own, so risky changes show even where no watch ran. Secret bodies are never kept.\n\
        Exit codes: 0 no risky change, 1 risky changes listed, 2 nothing readable or store error.")]
    Import(AuditImportArgs),
}

#[derive(Debug, Args)]
pub struct AuditImportArgs {
    /// Audit log files; `-` reads standard input
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub store: StoreArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub command: BaselineCommand,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Write one normalized manifest per tracked object into the folder given with -o
    #[command(after_help = "Examples:\n  \
        tollgate baseline save -o baseline/ --cluster\n  \
        tollgate baseline save -o baseline/ deploy/\n\n\
        Server-set fields (status, managedFields, uid, resourceVersion, ...) are left out, so the\n\
        folder fits in Git. Secrets keep only their metadata, key names and certificate facts.")]
    Save(BaselineSaveArgs),
}

#[derive(Debug, Args)]
pub struct BaselineSaveArgs {
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The folder `tollgate baseline save` wrote
    #[arg(long, value_name = "DIR", required = true)]
    pub baseline: PathBuf,

    #[command(flatten)]
    pub input: InputArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
}

/// A time given as RFC 3339 or as a date (midnight UTC).
fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    text.parse::<jiff::civil::Date>()
        .map_err(|e| format!("`{text}` is neither RFC 3339 nor a date: {e}"))
        .and_then(|d| {
            d.to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .map_err(|e| e.to_string())
        })
}

/// Where objects come from: files or a cluster.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files or folders of manifests (YAML or JSON; folders are read recursively); `-` reads standard input
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Read the live cluster from the kubeconfig (or in-cluster config) instead of files
    #[arg(long, conflicts_with = "paths")]
    pub cluster: bool,

    /// Kubeconfig context to use with --cluster
    #[arg(long, requires = "cluster", value_name = "NAME")]
    pub context: Option<String>,

    /// Only this namespace (cluster-scoped kinds are still read)
    #[arg(short = 'n', long, requires = "cluster", value_name = "NS")]
    pub namespace: Option<String>,

    /// All namespaces (the default)
    #[arg(short = 'A', long, requires = "cluster", conflicts_with = "namespace")]
    pub all_namespaces: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,

    /// Exit 1 when a finding is at or above this severity
    #[arg(long, value_name = "SEVERITY", value_parser = parse_fail_on)]
    pub fail_on: Option<FailOn>,

    /// Only these rules (names, codes, categories or `all`; comma-separated or repeated)
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,

    /// Not these rules (names, codes or categories; comma-separated or repeated)
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,

    /// Refuse `tollgate.io/ignore` annotation suppressions
    #[arg(long)]
    pub strict: bool,

    /// Judge time-dependent rules (suppression expiry, certificates) as of this instant (RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub at: Option<jiff::Timestamp>,

    /// A previous `--format json` report: its findings are still shown but only new ones fail the run
    #[arg(long, value_name = "FILE")]
    pub baseline_findings: Option<std::path::PathBuf>,
}

/// `--fail-on`: a severity, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailOn(pub Option<tollgate_core::rules::Severity>);

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    if s.eq_ignore_ascii_case("never") {
        return Ok(FailOn(None));
    }
    s.parse()
        .map(|sev| FailOn(Some(sev)))
        .map_err(|e: String| format!("{e}, or never"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// Findings grouped by resource, with the offending lines
    Table,
    /// One JSON object (see DESIGN §2)
    Json,
    /// SARIF 2.1.0 for code scanning
    Sarif,
    /// JUnit XML for CI test reports
    Junit,
    /// Markdown for pull-request comments and step summaries
    Markdown,
    /// GitHub Actions workflow commands (annotations)
    Github,
}

#[derive(Debug, Args)]
pub struct CertsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,

    /// Exit 1 when a certificate finding is at or above this severity
    #[arg(long, value_name = "SEVERITY", value_parser = parse_fail_on)]
    pub fail_on: Option<FailOn>,

    /// Judge expiry as of this instant (RFC 3339) instead of now
    #[arg(long, value_name = "TIME")]
    pub at: Option<jiff::Timestamp>,

    /// Connect to each host (port 443) and compare the certificate it serves with its Secret's
    #[arg(long)]
    pub probe: bool,

    /// With --probe, connect here (HOST:PORT, e.g. the controller's address) for every host, sending the host as SNI
    #[arg(long, value_name = "HOST:PORT", requires = "probe")]
    pub probe_address: Option<String>,

    /// With --probe, seconds to wait for each connection and handshake
    #[arg(long, value_name = "SECONDS", default_value_t = 5, requires = "probe")]
    pub probe_timeout: u64,
}

#[derive(Debug, Args)]
pub struct MapArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = MapFormat::Table)]
    pub format: MapFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MapFormat {
    /// One row per route
    Table,
    /// Routes as JSON
    Json,
    /// Graphviz
    Dot,
    /// Mermaid flowchart (renders on GitHub)
    Mermaid,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Access-log files (plain or .gz); `-` or nothing reads standard input
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Log format, or `auto` to detect it per file (and per line where files are mixed)
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = parse_log_format)]
    pub log_format: LogFormat,

    /// Manifests (files or folders) whose Ingresses requests are attributed to
    #[arg(long, value_name = "PATH", num_args = 1.., conflicts_with = "cluster")]
    pub inventory: Vec<PathBuf>,

    /// Attribute requests to the live cluster's Ingresses (kubeconfig or in-cluster config)
    #[arg(long)]
    pub cluster: bool,

    /// Kubeconfig context to use with --cluster
    #[arg(long, requires = "cluster", value_name = "NAME")]
    pub context: Option<String>,

    /// Only this namespace's Ingresses with --cluster
    #[arg(short = 'n', long, requires = "cluster", value_name = "NS")]
    pub namespace: Option<String>,

    /// Print one normalized JSON object per request instead of the report
    #[arg(long, conflicts_with_all = ["format", "follow"])]
    pub records: bool,

    /// Report format
    #[arg(short, long, value_enum, default_value_t = LogsFormat::Table)]
    pub format: LogsFormat,

    /// Keep reading the file (or standard input) as it grows and print alerts as they fire;
    /// Ctrl-C prints the report
    #[arg(long)]
    pub follow: bool,

    /// MaxMind databases (.mmdb: GeoLite2/GeoIP2 Country or City, and ASN) for countries and ASNs
    #[arg(long, value_name = "MMDB")]
    pub geoip: Vec<PathBuf>,

    /// Sources and routes listed in the table report
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// List the detectors with their defaults and exit
    #[arg(long)]
    pub detectors: bool,
}

/// `--log-format`: a format name, or `None` for auto.
#[derive(Debug, Clone, Copy)]
pub struct LogFormat(pub Option<tollgate_logs::Format>);

fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    if s == "auto" {
        return Ok(LogFormat(None));
    }
    tollgate_logs::Format::from_name(s)
        .map(|f| LogFormat(Some(f)))
        .ok_or_else(|| {
            let names: Vec<&str> = tollgate_logs::Format::ALL
                .iter()
                .map(|f| f.name())
                .collect();
            format!("unknown format `{s}`; one of auto, {}", names.join(", "))
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogsFormat {
    /// Top routes, top sources, status mix and alerts, for a terminal
    Table,
    /// The report as one JSON object
    Json,
    /// One self-contained HTML page with charts
    Html,
}

#[derive(Debug, Args)]
pub struct WhatIfArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Refuse annotations riskier than this level (low, medium, high, critical), as the
    /// controller ConfigMap's `annotations-risk-level` would
    #[arg(long, value_name = "LEVEL", value_parser = parse_risk)]
    pub risk_level: Option<tollgate_core::installation::Risk>,

    /// Refuse Exact and Prefix paths outside `^/[A-Za-z0-9._-/]*$`, as `strict-validate-path-type` would
    #[arg(long)]
    pub strict_paths: bool,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
}

fn parse_risk(s: &str) -> Result<tollgate_core::installation::Risk, String> {
    tollgate_core::installation::Risk::parse(s)
        .ok_or_else(|| format!("unknown risk level `{s}` (low, medium, high or critical)"))
}

#[derive(Debug, Args)]
pub struct RbacArgs {
    #[command(subcommand)]
    pub command: RbacCommand,
}

#[derive(Debug, Subcommand)]
pub enum RbacCommand {
    /// Every subject that may make a request, with the binding and the role rule that allow it
    ///
    /// Reads Roles, ClusterRoles, RoleBindings and ClusterRoleBindings from manifests or the
    /// cluster and answers as Kubernetes' RBAC authorizer would: wildcards, `*/status`,
    /// resourceNames, aggregated ClusterRoles, RoleBindings limited to their namespace, and the
    /// implicit groups of service accounts. Members of `system:masters` are always allowed.
    /// The answer is a lower bound: other authorizers (Node, webhook, cloud IAM) can allow more.
    #[command(
        name = "who-can",
        after_help = "Examples:\n  \
        tollgate rbac who-can create ingresses -n storefront deploy/\n  \
        tollgate rbac who-can update ingresses/status --cluster\n  \
        tollgate rbac who-can update configmaps -n ingress-nginx --name ingress-nginx-controller --cluster\n  \
        tollgate rbac who-can create certificates.cert-manager.io -n shop deploy/ --format json\n  \
        tollgate rbac who-can get /metrics --cluster\n\n\
        RESOURCE is a plural (ingresses), a kubectl short or singular name (ing), RESOURCE.GROUP for\n\
        other API groups (certificates.cert-manager.io), with /SUBRESOURCE (ingresses/status), or a\n\
        URL path starting with / for non-resource URLs."
    )]
    WhoCan(WhoCanArgs),

    /// Who can change what is exposed: Ingresses, their status, Services, endpoints, TLS
    /// Secrets, cert-manager, the controller, admission webhooks, Gateway API and escalation
    #[command(after_help = "Examples:\n  \
        tollgate rbac review examples/\n  \
        tollgate rbac review --cluster --hide-builtin\n  \
        tollgate rbac review deploy/ --format json -o rbac-review.json")]
    Review(RbacReviewArgs),
}

/// Where RBAC objects come from. Always every namespace: a ClusterRoleBinding or another
/// namespace's RoleBinding can grant what is asked.
#[derive(Debug, Args)]
pub struct RbacInputArgs {
    /// Files or folders of manifests (YAML or JSON; folders are read recursively); `-` reads standard input
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Read the live cluster from the kubeconfig (or in-cluster config) instead of files
    #[arg(long, conflicts_with = "paths")]
    pub cluster: bool,

    /// Kubeconfig context to use with --cluster
    #[arg(long, requires = "cluster", value_name = "NAME")]
    pub context: Option<String>,
}

impl RbacInputArgs {
    /// The common input arguments, listing every namespace.
    pub fn input(&self) -> InputArgs {
        InputArgs {
            paths: self.paths.clone(),
            cluster: self.cluster,
            context: self.context.clone(),
            namespace: None,
            all_namespaces: true,
        }
    }
}

#[derive(Debug, Args)]
pub struct WhoCanArgs {
    /// The verb: get, list, watch, create, update, patch, delete, deletecollection, escalate,
    /// bind, impersonate... (`*` asks who holds every verb)
    pub verb: String,

    /// RESOURCE[/SUBRESOURCE], RESOURCE.GROUP[/SUBRESOURCE], or a /url/path
    pub resource: String,

    #[command(flatten)]
    pub input: RbacInputArgs,

    /// The namespace of the request [default: any namespace, each grant saying where it applies]
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,

    /// The object's name (rules limited to resourceNames allow only named requests)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Leave out Kubernetes' own components (`system:` identities and default bindings)
    #[arg(long)]
    pub hide_builtin: bool,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
}

#[derive(Debug, Args)]
pub struct RbacReviewArgs {
    #[command(flatten)]
    pub input: RbacInputArgs,

    /// Leave out Kubernetes' own components (`system:` identities and default bindings)
    #[arg(long)]
    pub hide_builtin: bool,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A rule name or code to explain
    pub rule: Option<String>,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// For people
    Table,
    /// For machines
    Json,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    pub what: GenerateWhat,
}

#[derive(Debug, Subcommand)]
pub enum GenerateWhat {
    /// Rule reference pages (docs/rules/*.md)
    Docs {
        /// Folder to write into
        #[arg(long, default_value = "docs/rules")]
        out: PathBuf,
    },
    /// The man page (tollgate.1)
    Man {
        /// Folder to write into
        #[arg(long, default_value = "docs/man")]
        out: PathBuf,
    },
    /// Shell completions, printed to standard output
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// ValidatingAdmissionPolicies (CEL) for the single-object rules, from the config's
    /// `serve.admission.actions`: enforcement without the webhook (Kubernetes 1.30+)
    #[command(name = "admission-policy")]
    AdmissionPolicy,
}
