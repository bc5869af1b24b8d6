#!/usr/bin/env bash
# Store ingest benchmark (DESIGN §6): at least 5,000 Kubernetes audit events per second stored on
# SQLite and on PostgreSQL, with none lost (rows in the table = events) and every redelivered
# event detected as a duplicate.
#
# Usage: bench/store.sh            (from any directory)
# Environment:
#   EVENTS=50000     audit events to generate
#   BATCH=500        events per insert call (one transaction each)
#   TOLLGATE_BENCH_POSTGRES_URL=postgres://...   an empty database to use instead of starting a
#                    throwaway PostgreSQL server (installed from Debian when missing)
#   SKIP_BUILD=1     use the binary already in target/release
# Prints a Markdown table on stdout; progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

EVENTS="${EVENTS:-50000}"
BATCH="${BATCH:-500}"
BIN="$ROOT/target/release/store-ingest"

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
    echo "building store-ingest (release)" >&2
    cargo build --release -q -p tollgate-bench --bin store-ingest >&2
fi
[[ -x "$BIN" ]] || { echo "store.sh: $BIN not found (build failed?)" >&2; exit 1; }

if [[ -z "${TOLLGATE_BENCH_POSTGRES_URL:-}" ]]; then
    # A throwaway server with PostgreSQL's default durability (fsync on, synchronous commit), so
    # its figures compare with SQLite's full-sync commits.
    # shellcheck source=../.ci/postgres.sh
    source "$ROOT/.ci/postgres.sh"
    trap stop_throwaway_postgres EXIT
    PG_SERVER_OPTIONS="" start_throwaway_postgres
    export TOLLGATE_BENCH_POSTGRES_URL="$TOLLGATE_TEST_POSTGRES_URL"
fi

"$BIN" --events "$EVENTS" --batch "$BATCH" --postgres "$TOLLGATE_BENCH_POSTGRES_URL"
