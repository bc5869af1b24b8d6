#!/usr/bin/env bash
# Access-log benchmark (DESIGN §6): `tollgate logs` (parse + attribution + aggregation +
# detectors) must reach ≥ 1M lines/s per core on ingress-nginx upstreaminfo, ≥ 20× GoAccess on
# the same file in the same run, and stay ≤ 256 MB peak RSS on 10M lines with 1M distinct clients.
#
# Usage: bench/logs.sh            (from any directory)
# Environment:
#   SIZES="1000000:5000 1000000:1000000 10000000:1000000"   lines:clients per generated log
#   RUNS=3            timed runs of tollgate per log and thread count (the median is reported)
#   GOACCESS=0        skip GoAccess (it is installed from Debian when missing and root)
#   SKIP_BUILD=1      use the binaries already in target/release
# Prints a Markdown table on stdout; progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SIZES="${SIZES:-1000000:5000 1000000:1000000 10000000:1000000}"
RUNS="${RUNS:-3}"
OUT="$ROOT/bench/out/logs"
TOLLGATE="$ROOT/target/release/tollgate"
GEN="$ROOT/target/release/gen-logs"

log() { printf '%s\n' "$*" >&2; }
die() { log "logs.sh: $*"; exit 1; }

install() {
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        log "installing $* (apt-get)"
        apt-get install -y -qq "$@" >&2 || { apt-get update -qq >&2 && apt-get install -y -qq "$@" >&2; }
    fi
}
[[ -x /usr/bin/time ]] || install time
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is needed for peak memory"
if [[ "${GOACCESS:-1}" != 0 ]] && ! command -v goaccess >/dev/null; then install goaccess; fi
HAVE_GOACCESS=0
if [[ "${GOACCESS:-1}" != 0 ]] && command -v goaccess >/dev/null; then HAVE_GOACCESS=1; fi

if [[ -z "${SKIP_BUILD:-}" ]]; then
    log "building release binaries"
    cargo build --release --locked -q -p tollgate -p tollgate-bench >&2
fi
mkdir -p "$OUT"

# GoAccess reads the upstreaminfo line with a custom format: client, user, time, request,
# status, bytes, referer, user agent, then request time and the upstream name as virtual host.
GOACCESS_FORMAT='%h %^ %e [%d:%t %^] "%r" %s %b "%R" "%u" %^ %T [%v] %^'

# run CMD... → prints "seconds peak_kb" (GNU time; exit status 1 = alerts, not a failure)
measure() {
    local stats
    stats="$(mktemp)"
    /usr/bin/time -q -f '%e %M' -o "$stats" "$@" >/dev/null 2>&1 || true
    cat "$stats"
    rm -f "$stats"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| log | lines | distinct clients (as tollgate counts them) | tool | cores | seconds | lines/s | lines/s per core | peak RSS MB | vs GoAccess |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for size in $SIZES; do
    lines="${size%%:*}"
    clients="${size##*:}"
    file="$OUT/access-$lines-$clients.log"
    if [[ ! -s "$file" ]]; then
        log "generating $file"
        "$GEN" --lines "$lines" --clients "$clients" --out "$file" --inventory "$OUT/inventory.yaml" --truth "$OUT/truth-$lines-$clients.json"
    fi
    [[ -s "$OUT/inventory.yaml" ]] || "$GEN" --lines 1 --clients 1 --out /dev/null --inventory "$OUT/inventory.yaml"
    actual="$(wc -l < "$file")"
    cat "$file" > /dev/null # into the page cache, for every tool alike

    "$TOLLGATE" logs "$file" --inventory "$OUT/inventory.yaml" --format json -o "$OUT/tollgate.json" -q || true
    distinct="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["unique_clients"])' "$OUT/tollgate.json" 2>/dev/null || echo "$clients")"
    goaccess_rate=""
    if [[ "$HAVE_GOACCESS" == 1 ]]; then
        log "GoAccess on $file"
        read -r secs kb < <(measure goaccess "$file" --log-format="$GOACCESS_FORMAT" --date-format=%d/%b/%Y --time-format=%T -o "$OUT/goaccess.json")
        goaccess_rate="$(awk -v l="$actual" -v s="$secs" 'BEGIN {printf "%.0f", l / s}')"
        echo "| $(basename "$file") | $actual | $distinct | GoAccess $(goaccess --version | head -1 | awk '{print $3}' | sed 's/\.$//') | 1 | $secs | $goaccess_rate | $goaccess_rate | $((kb / 1024)) | 1× |"
    fi
    for cores in 1 "$(nproc)"; do
        log "tollgate on $file, $cores core(s), $RUNS runs"
        times=()
        peak=0
        for _ in $(seq "$RUNS"); do
            read -r secs kb < <(measure env RAYON_NUM_THREADS="$cores" "$TOLLGATE" logs "$file" --inventory "$OUT/inventory.yaml" --format json -o "$OUT/tollgate.json" -q)
            times+=("$secs")
            (( kb > peak )) && peak=$kb
        done
        secs="$(printf '%s\n' "${times[@]}" | median)"
        rate="$(awk -v l="$actual" -v s="$secs" 'BEGIN {printf "%.0f", l / s}')"
        per_core="$(awk -v r="$rate" -v c="$cores" 'BEGIN {printf "%.0f", r / c}')"
        ratio="-"
        [[ -n "$goaccess_rate" ]] && ratio="$(awk -v a="$rate" -v b="$goaccess_rate" 'BEGIN {printf "%.1f×", a / b}')"
        echo "| $(basename "$file") | $actual | $distinct | tollgate | $cores | $secs | $rate | $per_core | $((peak / 1024)) | $ratio |"
    done
done
