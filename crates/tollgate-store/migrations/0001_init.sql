-- Tollgate's store: one schema for SQLite and PostgreSQL.
--
-- Portable subset only: TEXT and BIGINT columns, app-assigned keys, CREATE INDEX IF NOT EXISTS.
-- Times are BIGINT milliseconds since the Unix epoch; JSON is TEXT; booleans are BIGINT 0/1 because
-- sqlx's Any driver cannot read SQLite BOOLEAN columns. Every record carries the cluster it came
-- from.

-- The change history: append-only, one hash chain over all clusters in `seq` order. `hash` is
-- SHA-256 over the content columns and `prev_hash` (see chain.rs for the exact encoding), so editing
-- or deleting a record breaks the chain at that record or the next one.
CREATE TABLE history (
    seq BIGINT PRIMARY KEY,             -- chain order, 1, 2, 3, ... (assigned under the chain_head lock)
    cluster TEXT NOT NULL,
    time_ms BIGINT NOT NULL,            -- when the change happened
    action TEXT NOT NULL,               -- created | updated | deleted
    api_version TEXT NOT NULL,
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL,            -- '' for cluster-scoped objects
    name TEXT NOT NULL,
    uid TEXT NOT NULL,
    resource_version TEXT NOT NULL,
    object_json TEXT NOT NULL,          -- the normalized object after the change; '' after a delete
    diff_json TEXT NOT NULL,            -- JSON Patch against the previous version
    actor_json TEXT NOT NULL,
    risk_json TEXT NOT NULL,
    outcome TEXT NOT NULL,              -- applied | denied
    out_of_band BIGINT NOT NULL,        -- 0 | 1
    -- Derived from actor_json and risk_json for filtering; verify checks they still agree.
    actor_user TEXT NOT NULL,
    risky BIGINT NOT NULL,              -- 1 when the change introduces a rule violation
    hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_object ON history (cluster, kind, namespace, name, seq);
CREATE INDEX IF NOT EXISTS history_by_time ON history (time_ms);
CREATE INDEX IF NOT EXISTS history_by_actor ON history (actor_user, seq);

-- The end of the chain, one row. Appends take its row lock first (an UPDATE), so two writers, in
-- one process or two, cannot both link to the same previous record. It also tells verify how long
-- the chain was, so deleting its last records is noticed.
CREATE TABLE chain_head (
    id BIGINT PRIMARY KEY,              -- always 1
    seq BIGINT NOT NULL,                -- seq of the last record appended (0: none yet)
    hash TEXT NOT NULL                  -- its hash (the genesis hash before the first)
);
INSERT INTO chain_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- What retention removed: the chain now starts at first_seq, whose prev_hash must equal prev_hash
-- here. signature is HMAC-SHA256 (hex) over the other columns, or '' when no key was configured.
CREATE TABLE checkpoints (
    id BIGINT PRIMARY KEY,              -- 1, 2, 3, ...; verify starts from the highest
    created_ms BIGINT NOT NULL,
    first_seq BIGINT NOT NULL,          -- the first record kept
    prev_hash TEXT NOT NULL,            -- the hash of the last record removed
    records_pruned BIGINT NOT NULL,
    records_kept BIGINT NOT NULL,
    audit_events_pruned BIGINT NOT NULL,
    signature TEXT NOT NULL
);

-- Audit events as received (webhook or files), deduplicated on (audit_id, stage) because the
-- webhook backend delivers at least once. The columns are what the attribution join and the
-- filters need; event_json is the whole event, without the bodies of Secret-like events.
CREATE TABLE audit_events (
    audit_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    cluster TEXT NOT NULL,
    time_ms BIGINT NOT NULL,            -- stageTimestamp
    verb TEXT NOT NULL,
    username TEXT NOT NULL,             -- the authenticated user (the impersonator, if any)
    impersonated_user TEXT NOT NULL,    -- '' without impersonation
    groups_json TEXT NOT NULL,          -- the groups of the effective (impersonated, if any) user
    source_ips_json TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    api_group TEXT NOT NULL,            -- '' for the core group and for requests without objectRef
    resource TEXT NOT NULL,
    subresource TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    response_code BIGINT,               -- NULL when not recorded
    field_manager TEXT NOT NULL,
    response_resource_version TEXT NOT NULL,
    event_json TEXT NOT NULL,
    PRIMARY KEY (audit_id, stage)
);
CREATE INDEX IF NOT EXISTS audit_events_by_object
    ON audit_events (cluster, resource, namespace, name, time_ms);
CREATE INDEX IF NOT EXISTS audit_events_by_response_version
    ON audit_events (cluster, response_resource_version);
CREATE INDEX IF NOT EXISTS audit_events_by_time ON audit_events (time_ms);

-- Where each watch resumes after a restart.
CREATE TABLE watch_state (
    cluster TEXT NOT NULL,
    kind TEXT NOT NULL,
    resource_version TEXT NOT NULL,
    PRIMARY KEY (cluster, kind)
);
