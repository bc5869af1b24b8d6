-- Compliance reports `tollgate serve` generates on a schedule: the document as rendered, and its
-- summary for lists. The newest `keep` per cluster, framework and format are kept.
CREATE TABLE reports (
    id TEXT PRIMARY KEY,                -- hex, from cluster, framework, format and time
    cluster TEXT NOT NULL,
    framework TEXT NOT NULL,
    format TEXT NOT NULL,               -- html | markdown | json
    time_ms BIGINT NOT NULL,            -- the instant the report speaks for
    summary_json TEXT NOT NULL,         -- controls pass / fail / not assessed, findings
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_by_time ON reports (cluster, framework, format, time_ms);
