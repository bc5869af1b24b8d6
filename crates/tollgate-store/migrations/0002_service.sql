-- What `tollgate serve` keeps beside the history: findings with their lifetimes, alerts and their
-- deliveries, access counts from the log intake, and the latest scan of each cluster. Same portable
-- subset as 0001: TEXT and BIGINT, app-assigned keys, times in ms since the Unix epoch.

-- Findings of the periodic scans. A finding is the same finding while its rule, resource and
-- JSON pointer stay the same; it is resolved when a scan no longer reports it, and reopened (with a
-- new first_seen) when one reports it again.
CREATE TABLE findings (
    cluster TEXT NOT NULL,
    fingerprint TEXT NOT NULL,          -- rule|kind|namespace|name|path
    rule TEXT NOT NULL,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    category TEXT NOT NULL,
    api_version TEXT NOT NULL,
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    message TEXT NOT NULL,
    help TEXT NOT NULL,
    first_seen_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    resolved_ms BIGINT,                 -- NULL while open
    PRIMARY KEY (cluster, fingerprint)
);
CREATE INDEX IF NOT EXISTS findings_open ON findings (cluster, resolved_ms);

-- Alerts: stored whether or not any sink is configured, deduplicated on (cluster, dedup_key)
-- within the dedup window (a repeat bumps occurrences and last_seen_ms).
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,                -- hex, derived from cluster, key and creation time
    cluster TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,         -- finding | risky-change | denied-change | access | certificate
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    route TEXT NOT NULL,                -- the route key, '' when none
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    change_seq BIGINT,                  -- the history record it is about or correlated with
    body_json TEXT NOT NULL,            -- what, who, where, evidence, diff
    created_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    occurrences BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_key ON alerts (cluster, dedup_key, last_seen_ms);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (created_ms);

-- One row per alert and sink: the delivery's state.
CREATE TABLE alert_deliveries (
    alert_id TEXT NOT NULL,
    sink TEXT NOT NULL,
    status TEXT NOT NULL,               -- pending | delivered | failed
    attempts BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (alert_id, sink)
);

-- Access-log intake, counted per route and minute. route is the route key
-- (namespace/ingress|host|path), '' for requests no route took.
CREATE TABLE access_minutes (
    cluster TEXT NOT NULL,
    route TEXT NOT NULL,
    minute BIGINT NOT NULL,             -- minutes since the Unix epoch
    requests BIGINT NOT NULL,
    errors_5xx BIGINT NOT NULL,
    PRIMARY KEY (cluster, route, minute)
);
CREATE INDEX IF NOT EXISTS access_minutes_by_minute ON access_minutes (minute);

-- Per route: responses by status class and bytes, since the intake started.
CREATE TABLE access_routes (
    cluster TEXT NOT NULL,
    route TEXT NOT NULL,
    requests BIGINT NOT NULL,
    status_1xx BIGINT NOT NULL,
    status_2xx BIGINT NOT NULL,
    status_3xx BIGINT NOT NULL,
    status_4xx BIGINT NOT NULL,
    status_5xx BIGINT NOT NULL,
    status_other BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    last_ms BIGINT NOT NULL,
    PRIMARY KEY (cluster, route)
);

-- The heaviest sources of each route (each batch adds its own heaviest).
CREATE TABLE access_sources (
    cluster TEXT NOT NULL,
    route TEXT NOT NULL,
    source TEXT NOT NULL,
    requests BIGINT NOT NULL,
    errors_4xx BIGINT NOT NULL,
    last_ms BIGINT NOT NULL,
    PRIMARY KEY (cluster, route, source)
);

-- Lines acknowledged by the log intake: what the store holds equals what was acknowledged.
CREATE TABLE access_intake (
    cluster TEXT NOT NULL PRIMARY KEY,
    batches BIGINT NOT NULL,
    lines BIGINT NOT NULL,
    parsed BIGINT NOT NULL,
    malformed BIGINT NOT NULL
);

-- The latest scan of each cluster: the route map and certificate inventory it saw, for the
-- dashboard of any replica and for the fleet view.
CREATE TABLE scans (
    cluster TEXT NOT NULL PRIMARY KEY,
    time_ms BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    objects BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    routes_json TEXT NOT NULL,
    certificates_json TEXT NOT NULL
);
