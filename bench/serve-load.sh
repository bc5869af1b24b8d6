#!/usr/bin/env bash
# Intake load test of `tollgate serve` (DESIGN §6): under a load of mixed audit and log posts on
# loopback, bounded in time, nothing acknowledged is lost (what the store counts equals what was
# acknowledged) and the p99 latency is reported.
#
# For each store (a new SQLite file, then PostgreSQL) it starts `tollgate serve examples/` on a
# free loopback port with a random intake token, waits for /readyz, runs `serve-load` against it,
# reads GET /api/v1/status before and after, and checks that the store gained exactly the audit
# events and log lines that were acknowledged. Then it checks /healthz and the service's RSS, and
# stops it.
#
# Usage: bench/serve-load.sh        (from any directory)
# Environment:
#   DURATION=60          seconds of load per store (not SECONDS: bash keeps its own)
#   CONNECTIONS=32       connections, each one request at a time
#   AUDIT_SHARE=0.5      share of posts that are audit EventLists (the rest: log batches)
#   EVENTS_PER_POST=50   audit events per EventList
#   LINES_PER_POST=200   ingress-nginx lines per log post
#   POSTGRES=1           0: SQLite only
#   TOLLGATE_BENCH_POSTGRES_URL=postgres://...   a database to use instead of starting a
#                        throwaway PostgreSQL server (installed from Debian when missing)
#   SKIP_BUILD=1         use the binaries already built
#   TOLLGATE_BIN=PATH    run this tollgate binary instead (another build, to compare with)
#   CARGO_TARGET_DIR     where the binaries are (default: target/ in the repository)
# Exit: 0 every check passed; 1 something acknowledged is missing from a store, the service
# died, or the generator acknowledged nothing. Progress and the summary go to stderr, a Markdown
# table to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION="${DURATION:-60}"
CONNECTIONS="${CONNECTIONS:-32}"
AUDIT_SHARE="${AUDIT_SHARE:-0.5}"
EVENTS_PER_POST="${EVENTS_PER_POST:-50}"
LINES_PER_POST="${LINES_PER_POST:-200}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
TOLLGATE="${TOLLGATE_BIN:-$TARGET/release/tollgate}"
GENERATOR="$TARGET/release/serve-load"

for tool in curl jq ps; do
    command -v "$tool" >/dev/null || { echo "serve-load.sh: $tool is needed" >&2; exit 1; }
done

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
    echo "building tollgate and serve-load (release)" >&2
    [[ -n "${TOLLGATE_BIN:-}" ]] || cargo build --release -q -p tollgate --bin tollgate >&2
    cargo build --release -q -p tollgate-bench --bin serve-load >&2
fi
for bin in "$TOLLGATE" "$GENERATOR"; do
    [[ -x "$bin" ]] || { echo "serve-load.sh: $bin not found (build failed?)" >&2; exit 1; }
done

TMP="$(mktemp -d)"
SERVICE_PID=""
cleanup() {
    if [[ -n "$SERVICE_PID" ]] && kill -0 "$SERVICE_PID" 2>/dev/null; then
        kill -TERM "$SERVICE_PID" 2>/dev/null || true
        wait "$SERVICE_PID" 2>/dev/null || true
    fi
    if declare -F stop_throwaway_postgres >/dev/null; then
        stop_throwaway_postgres
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# A long random token, as `openssl rand -hex 32` would make.
TOKEN="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"

# A free TCP port on 127.0.0.1, from 18080 up.
free_port() {
    local port
    for port in $(seq 18080 18179); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

FAILED=0
ROWS=()

# run_store LABEL STORE_URL: one service, one load run, the checks.
run_store() {
    local label="$1" store="$2" port url status_before status_after report
    port="$(free_port)" || { echo "serve-load.sh: no free port in 18080-18179" >&2; return 1; }
    url="http://127.0.0.1:$port"
    echo "== $label: tollgate serve examples/ --listen 127.0.0.1:$port --store ${store%%://*}://..." >&2
    TOLLGATE_INTAKE_TOKEN="$TOKEN" "$TOLLGATE" serve examples/ --listen "127.0.0.1:$port" \
        --store "$store" >"$TMP/serve-$label.log" 2>&1 &
    SERVICE_PID=$!
    local waited=0
    until curl -fsS "$url/readyz" >/dev/null 2>&1; do
        if ! kill -0 "$SERVICE_PID" 2>/dev/null || ((waited >= 600)); then
            echo "serve-load.sh: the service did not get ready; its log:" >&2
            cat "$TMP/serve-$label.log" >&2
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    status_before="$(curl -fsS "$url/api/v1/status")"

    echo "   $DURATION s of load: $CONNECTIONS connections, audit share $AUDIT_SHARE," \
        "$EVENTS_PER_POST events or $LINES_PER_POST lines a post" >&2
    # The service's RSS every 5 s while the load runs.
    (
        while kill -0 "$SERVICE_PID" 2>/dev/null; do
            ps -o rss= -p "$SERVICE_PID" | awk '{printf "%d ", $1 / 1024}'
            sleep 5
        done
    ) >"$TMP/rss-$label.txt" 2>/dev/null &
    local sampler=$!
    local generator_exit=0
    TOLLGATE_INTAKE_TOKEN="$TOKEN" "$GENERATOR" --url "$url" --seconds "$DURATION" \
        --connections "$CONNECTIONS" --audit-share "$AUDIT_SHARE" \
        --events-per-post "$EVENTS_PER_POST" --lines-per-post "$LINES_PER_POST" \
        --format ingress-nginx >"$TMP/load-$label.json" || generator_exit=$?
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    # What the store holds once the last request is answered: every acknowledged post is in it.
    status_after="$(curl -fsS --max-time 30 "$url/api/v1/status" || echo '{}')"
    report="$(cat "$TMP/load-$label.json")"
    if [[ -z "$report" ]]; then
        echo "serve-load.sh: the generator printed nothing (exit $generator_exit)" >&2
        FAILED=1
        return 0
    fi

    # Up and answering after the load?
    local healthy=yes rss_kb peak_kb
    curl -fsS --max-time 10 "$url/healthz" >/dev/null 2>&1 || healthy=no
    kill -0 "$SERVICE_PID" 2>/dev/null || healthy=no
    rss_kb="$(ps -o rss= -p "$SERVICE_PID" 2>/dev/null | tr -d ' ' || true)"
    peak_kb="$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVICE_PID/status" 2>/dev/null || true)"
    # Work the service does after it answers (judging audit events) may lag behind: how long it
    # stays busy once the load stops, until a second in which it uses under 5 % of a core
    # (fields 14 and 15 of /proc/PID/stat: user and system clock ticks, 100 a second).
    local drain=0 ticks_before ticks_after
    while ((drain < 300)) && [[ -r "/proc/$SERVICE_PID/stat" ]]; do
        ticks_before="$(awk '{print $14 + $15}' "/proc/$SERVICE_PID/stat")"
        sleep 1
        ticks_after="$(awk '{print $14 + $15}' "/proc/$SERVICE_PID/stat" 2>/dev/null || echo 0)"
        ((ticks_after - ticks_before >= 5)) || break
        drain=$((drain + 1))
    done
    local rss_idle_kb
    rss_idle_kb="$(ps -o rss= -p "$SERVICE_PID" 2>/dev/null | tr -d ' ' || true)"

    kill -TERM "$SERVICE_PID" 2>/dev/null || true
    wait "$SERVICE_PID" 2>/dev/null || true
    SERVICE_PID=""

    local acked_events acked_lines stored_events stored_lines unacked_events unacked_lines
    acked_events="$(jq '.acknowledged.audit_events' <<<"$report")"
    acked_lines="$(jq '.acknowledged.log_lines' <<<"$report")"
    unacked_events="$(jq '.failed.audit_events' <<<"$report")"
    unacked_lines="$(jq '.failed.log_lines' <<<"$report")"
    stored_events="$(jq -n --argjson a "$status_after" --argjson b "$status_before" \
        '($a.store.audit_events // -1) - $b.store.audit_events')"
    stored_lines="$(jq -n --argjson a "$status_after" --argjson b "$status_before" \
        '($a.store.log_lines // -1) - $b.store.log_lines')"

    local check=equal
    if ((stored_events < acked_events || stored_lines < acked_lines)); then
        check="LOST $((acked_events - stored_events)) events, $((acked_lines - stored_lines)) lines"
        FAILED=1
    elif ((stored_events != acked_events || stored_lines != acked_lines)); then
        # Stored but not acknowledged: a request that timed out or failed after its commit.
        # Not a loss (a sender retries; audit events are idempotent), but worth seeing.
        check="stored more than acknowledged: +$((stored_events - acked_events)) events,"
        check+=" +$((stored_lines - acked_lines)) lines (unacknowledged posts carried"
        check+=" $unacked_events events, $unacked_lines lines)"
    fi
    [[ "$healthy" == yes ]] || { check+="; the service is DOWN"; FAILED=1; }
    [[ "$generator_exit" == 0 ]] || { check+="; the generator exited $generator_exit"; FAILED=1; }

    local summary
    summary="$(jq -r '[
        "   requests \(.requests.all) in \(.seconds) s (\(.throughput.requests_per_s)/s):",
        "     audit: \(.acknowledged.audit_posts) posts, \(.acknowledged.audit_events) events acknowledged (\(.throughput.events_per_s)/s); p50 \(.latency_ms.audit.p50) ms, p99 \(.latency_ms.audit.p99) ms, max \(.latency_ms.audit.max) ms",
        "     logs:  \(.acknowledged.log_posts) posts, \(.acknowledged.log_lines) lines acknowledged (\(.throughput.lines_per_s)/s); p50 \(.latency_ms.logs.p50) ms, p99 \(.latency_ms.logs.p99) ms, max \(.latency_ms.logs.max) ms",
        "     all:   p50 \(.latency_ms.all.p50) ms, p90 \(.latency_ms.all.p90) ms, p99 \(.latency_ms.all.p99) ms",
        "     failed: audit \(.failed.audit_non_2xx) non-2xx \(.failed.audit_statuses), \(.failed.audit_errors) errors, \(.failed.audit_mismatched) mismatched; logs \(.failed.log_non_2xx) non-2xx \(.failed.log_statuses), \(.failed.log_errors) errors, \(.failed.log_mismatched) mismatched"
        ] + (.failed.problems | map("     problem: " + .)) | .[]' <<<"$report")"
    {
        echo "$summary"
        echo "   store: $stored_events audit events (acknowledged $acked_events)," \
            "$stored_lines log lines (acknowledged $acked_lines): $check"
        echo "   service: healthz $healthy; RSS $((${rss_kb:-0} / 1024)) MiB at the end of the load," \
            "peak $((${peak_kb:-0} / 1024)) MiB, $((${rss_idle_kb:-0} / 1024)) MiB once idle;" \
            "busy for $drain s after the load"
        echo "   RSS (MiB) every 5 s: $(cat "$TMP/rss-$label.txt")"
    } >&2
    if grep -qiE 'panic|error' "$TMP/serve-$label.log"; then
        echo "   the service logged errors:" >&2
        grep -iE 'panic|error' "$TMP/serve-$label.log" | sort | uniq -c | sort -rn | head -n 10 >&2
    fi

    ROWS+=("$(jq -r --arg store_name "$label" --arg check "$check" \
        --arg rss "$((${rss_kb:-0} / 1024))" --arg peak "$((${peak_kb:-0} / 1024))" --arg drain "$drain" \
        '"| \($store_name) | \(.seconds) | \(.requests.all) | \(.latency_ms.audit.p50) / \(.latency_ms.audit.p99) | \(.latency_ms.logs.p50) / \(.latency_ms.logs.p99) | \(.latency_ms.all.p99) | \(.throughput.events_per_s | floor) | \(.throughput.lines_per_s | floor) | \(.failed.audit_non_2xx + .failed.audit_errors + .failed.log_non_2xx + .failed.log_errors) | \($check) | \($rss) / \($peak) | \($drain) |"' \
        <<<"$report")")
}

run_store sqlite "sqlite://$TMP/load.db"

if [[ "${POSTGRES:-1}" != 0 ]]; then
    if [[ -z "${TOLLGATE_BENCH_POSTGRES_URL:-}" ]]; then
        # A throwaway server with PostgreSQL's default durability (fsync on, synchronous
        # commit), so its figures compare with SQLite's full-sync commits.
        # shellcheck source=../.ci/postgres.sh
        source "$ROOT/.ci/postgres.sh"
        PG_SERVER_OPTIONS="" start_throwaway_postgres
        TOLLGATE_BENCH_POSTGRES_URL="$TOLLGATE_TEST_POSTGRES_URL"
    fi
    run_store postgres "$TOLLGATE_BENCH_POSTGRES_URL"
fi

echo "| store | seconds | requests | audit p50 / p99 (ms) | logs p50 / p99 (ms) | all p99 (ms) | events/s | lines/s | failed requests | store = acknowledged | RSS / peak (MiB) | busy after (s) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
if ((FAILED)); then
    echo "serve-load.sh: FAILED (see above)" >&2
    exit 1
fi
echo "serve-load.sh: nothing acknowledged was lost" >&2
