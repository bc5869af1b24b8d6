#!/usr/bin/env bash
# Scan benchmark (DESIGN §6): `tollgate scan` over 10,000 Ingresses with their Services, TLS
# Secrets and NetworkPolicies must take ≤ 2 s wall time and ≤ 500 MB peak RSS. Compared in the
# same run with Checkov on the checks both tools have, when Checkov is installed.
#
# Usage: bench/scan.sh            (from any directory)
# Environment:
#   INGRESSES=10000   Ingresses to generate
#   FILES=100         files to spread them over
#   RUNS=3            timed runs of tollgate
#   CHECKOV=path      Checkov executable (default: `checkov` on PATH, else Checkov is skipped)
#   CHECKOV_CHECKS=CKV_K8S_153     Checkov checks to run (comma-separated)
#   CHECKOV_RUNS=1    timed runs of Checkov (it is slow)
#   SKIP_BUILD=1      use the binaries already in target/release
#   GATEWAY=1         also generate the same estate as Gateway API objects (bench/out-gateway/),
#                     time the scan of it in the same run, and print the Gateway / Ingress ratios
#   CARGO_TARGET_DIR  where the binaries are (default: target/ in the repository)
# Prints a Markdown table on stdout; progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

INGRESSES="${INGRESSES:-10000}"
FILES="${FILES:-100}"
RUNS="${RUNS:-3}"
CHECKOV_RUNS="${CHECKOV_RUNS:-1}"
# Tollgate `snippet-annotation` ≈ Checkov CKV_K8S_153 ("Prevent All NGINX Ingress annotation
# snippets"). CKV_K8S_152/154 (Lua or alias inside snippets) map to Tollgate's
# annotation-injection once it exists; add them here then.
CHECKOV_CHECKS="${CHECKOV_CHECKS:-CKV_K8S_153}"
GATEWAY="${GATEWAY:-}"
OUT="$ROOT/bench/out"
OUT_GATEWAY="$ROOT/bench/out-gateway"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
TOLLGATE="$TARGET/release/tollgate"
GEN="$TARGET/release/gen-manifests"

log() { printf '%s\n' "$*" >&2; }
die() { log "scan.sh: $*"; exit 1; }

# GNU time, for peak RSS.
if [[ ! -x /usr/bin/time ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        log "installing GNU time (apt-get install time)"
        apt-get install -y -qq time >&2 || { apt-get update -qq >&2 && apt-get install -y -qq time >&2; }
    else
        die "/usr/bin/time (GNU time) is missing: install the \`time\` package"
    fi
fi

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
    log "building release binaries"
    cargo build --release -q -p tollgate -p tollgate-bench >&2
fi
[[ -x "$TOLLGATE" ]] || die "$TOLLGATE not found (build failed?)"
[[ -x "$GEN" ]] || die "$GEN not found (build failed?)"
"$TOLLGATE" scan --help >/dev/null 2>&1 || die "this tollgate has no \`scan\` command yet"

mkdir -p "$OUT"
GEN_SUMMARY="$("$GEN" --ingresses "$INGRESSES" --files "$FILES" --out "$OUT")"
log "$GEN_SUMMARY"
OBJECTS="$(sed -n 's/^gen-manifests: \([0-9]*\) objects.*/\1/p' <<<"$GEN_SUMMARY")"
BYTES="$(cat "$OUT"/manifests-*.yaml | wc -c)"
if [[ "$GATEWAY" == 1 ]]; then
    mkdir -p "$OUT_GATEWAY"
    GW_SUMMARY="$("$GEN" --ingresses "$INGRESSES" --files "$FILES" --out "$OUT_GATEWAY" --gateway-api)"
    log "$GW_SUMMARY"
    GW_OBJECTS="$(sed -n 's/^gen-manifests: \([0-9]*\) objects.*/\1/p' <<<"$GW_SUMMARY")"
    GW_BYTES="$(cat "$OUT_GATEWAY"/manifests-*.yaml | wc -c)"
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Wall seconds and peak RSS (KiB) from a GNU time -v report.
wall_seconds() {
    sed -n 's/^.*Elapsed (wall clock) time.*): //p' "$1" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.3f\n", s }'
}
# User + system CPU seconds: steadier than wall time when other work shares the cores.
cpu_seconds() {
    awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 } END { printf "%.2f\n", s }' "$1"
}
peak_kib() { sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max() { sort -g | tail -n 1; }

# Runs "$@" RUNS times under GNU time; leaves "$TMP/$name.times", "$TMP/$name.cpu" and
# "$TMP/$name.rss".
timed() {
    local name="$1" runs="$2"
    shift 2
    : >"$TMP/$name.times"
    : >"$TMP/$name.rss"
    : >"$TMP/$name.cpu"
    for i in $(seq 1 "$runs"); do
        if ! /usr/bin/time -v -o "$TMP/$name.$i" "$@" >"$TMP/$name.stdout" 2>"$TMP/$name.stderr"; then
            log "$name run $i failed:"
            tail -n 20 "$TMP/$name.stderr" >&2
            tail -n 5 "$TMP/$name.$i" >&2
            return 1
        fi
        local wall rss
        wall="$(wall_seconds "$TMP/$name.$i")"
        rss="$(peak_kib "$TMP/$name.$i")"
        [[ -n "$wall" && -n "$rss" ]] || die "cannot read GNU time's report $TMP/$name.$i"
        echo "$wall" >>"$TMP/$name.times"
        echo "$rss" >>"$TMP/$name.rss"
        cpu_seconds "$TMP/$name.$i" >>"$TMP/$name.cpu"
        log "$name run $i: $(tail -n 1 "$TMP/$name.times") s, $(tail -n 1 "$TMP/$name.cpu") s CPU," \
            "$(tail -n 1 "$TMP/$name.rss") KiB"
    done
}

log "tollgate scan: $RUNS runs"
timed tollgate "$RUNS" "$TOLLGATE" scan "$OUT" --format json -o /dev/null --fail-on never
T_MEDIAN="$(median <"$TMP/tollgate.times")"
T_MAX="$(max <"$TMP/tollgate.times")"
T_RSS="$(max <"$TMP/tollgate.rss")"

# Findings per rule ("rule count, ..."), from the report of an untimed run.
per_rule() {
    jq -r '.findings | group_by(.rule) | map("\(.[0].rule) \(length)") | join(", ")' "$1"
}

# One untimed run to a file, for the finding counts.
"$TOLLGATE" scan "$OUT" --format json -o "$TMP/report.json" --fail-on never >/dev/null 2>&1 || true
T_FINDINGS="?"
T_SNIPPETS="?"
T_PER_RULE="?"
if [[ -s "$TMP/report.json" ]] && command -v jq >/dev/null; then
    T_FINDINGS="$(jq '.findings | length' "$TMP/report.json")"
    T_SNIPPETS="$(jq '[.findings[] | select(.rule == "snippet-annotation")] | length' "$TMP/report.json")"
    T_PER_RULE="$(per_rule "$TMP/report.json")"
fi

# The same estate as Gateway API objects, in the same run, so that the machine's load is alike.
if [[ "$GATEWAY" == 1 ]]; then
    log "tollgate scan of the Gateway API estate: $RUNS runs"
    timed gateway "$RUNS" "$TOLLGATE" scan "$OUT_GATEWAY" --format json -o /dev/null --fail-on never
    G_MEDIAN="$(median <"$TMP/gateway.times")"
    G_MAX="$(max <"$TMP/gateway.times")"
    G_RSS="$(max <"$TMP/gateway.rss")"
    "$TOLLGATE" scan "$OUT_GATEWAY" --format json -o "$TMP/gateway-report.json" --fail-on never \
        >/dev/null 2>&1 || true
    G_FINDINGS="?"
    G_PER_RULE="?"
    if [[ -s "$TMP/gateway-report.json" ]] && command -v jq >/dev/null; then
        G_FINDINGS="$(jq '.findings | length' "$TMP/gateway-report.json")"
        G_PER_RULE="$(per_rule "$TMP/gateway-report.json")"
    fi
fi

# Checkov, when installed.
CHECKOV_BIN="${CHECKOV:-$(command -v checkov || true)}"
C_LINE=""
if [[ -n "$CHECKOV_BIN" && -x "$CHECKOV_BIN" ]]; then
    log "checkov ($CHECKOV_BIN, $CHECKOV_CHECKS): $CHECKOV_RUNS runs"
    timed checkov "$CHECKOV_RUNS" "$CHECKOV_BIN" -d "$OUT" --framework kubernetes \
        --check "$CHECKOV_CHECKS" --skip-download --soft-fail -o json
    C_MEDIAN="$(median <"$TMP/checkov.times")"
    C_MAX="$(max <"$TMP/checkov.times")"
    C_RSS="$(max <"$TMP/checkov.rss")"
    C_FAILED="?"
    if command -v jq >/dev/null; then
        # One object for one framework, an array otherwise.
        C_FAILED="$(jq 'if type == "array" then map(.summary.failed) | add else .summary.failed end' \
            "$TMP/checkov.stdout" 2>/dev/null || echo "?")"
    fi
    C_VERSION="$("$CHECKOV_BIN" --version 2>/dev/null | tail -n 1 || true)"
    C_LINE="| checkov $C_VERSION ($CHECKOV_CHECKS) | $CHECKOV_RUNS | $C_MEDIAN | $C_MAX | $((C_RSS / 1024)) | $C_FAILED failed checks |"
else
    log "checkov not found: skipping the comparison. To include it:"
    log "  python3 -m venv ~/.venvs/checkov && ~/.venvs/checkov/bin/pip install checkov==3.3.30"
    log "  CHECKOV=~/.venvs/checkov/bin/checkov bench/scan.sh"
fi

verdict() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v <= lim) ? "pass" : "FAIL" }'; }
T_RSS_MB="$((T_RSS / 1024))"
T_VERSION="$("$TOLLGATE" --version 2>/dev/null | head -n 1 || echo tollgate)"

echo "### Scan benchmark"
echo
echo "$INGRESSES Ingresses, $OBJECTS objects, $FILES files, $((BYTES / 1024 / 1024)) MiB ($BYTES bytes);" \
    "$(nproc) CPUs, $(uname -sr)."
echo
echo "| tool | runs | wall median (s) | wall max (s) | peak RSS max (MiB) | findings |"
echo "|---|---|---|---|---|---|"
echo "| $T_VERSION (all rules) | $RUNS | $T_MEDIAN | $T_MAX | $T_RSS_MB | $T_FINDINGS ($T_SNIPPETS snippet-annotation) |"
if [[ "$GATEWAY" == 1 ]]; then
    echo "| $T_VERSION (all rules), Gateway API estate | $RUNS | $G_MEDIAN | $G_MAX | $((G_RSS / 1024)) | $G_FINDINGS |"
fi
if [[ -n "$C_LINE" ]]; then echo "$C_LINE"; fi
echo
echo "Bars: wall ≤ 2 s: $(verdict "$T_MAX" 2) (max of runs); peak RSS ≤ 500 MB: $(verdict "$((T_RSS * 1024))" 500000000)."
if [[ "$GATEWAY" == 1 ]]; then
    echo
    echo "Gateway API estate: $GW_OBJECTS objects, $((GW_BYTES / 1024 / 1024)) MiB ($GW_BYTES bytes);" \
        "bars: wall ≤ 2 s: $(verdict "$G_MAX" 2); peak RSS ≤ 500 MB: $(verdict "$((G_RSS * 1024))" 500000000)."
    ratio() { awk -v g="$1" -v t="$2" 'BEGIN { printf "%.2f×", (t > 0) ? g / t : 0 }'; }
    T_CPU="$(median <"$TMP/tollgate.cpu")"
    G_CPU="$(median <"$TMP/gateway.cpu")"
    echo "Gateway API / Ingress: wall time (medians) $(ratio "$G_MEDIAN" "$T_MEDIAN"), CPU time" \
        "(user + system, medians: $G_CPU / $T_CPU s) $(ratio "$G_CPU" "$T_CPU"), peak RSS" \
        "$(ratio "$G_RSS" "$T_RSS")."
    echo
    echo "Findings per rule, Ingress estate: $T_PER_RULE."
    echo "Findings per rule, Gateway API estate: $G_PER_RULE."
fi
if [[ -n "$C_LINE" && -s "$TMP/report.json" ]]; then
    # Agreement per object: the Ingresses each tool flags for snippets.
    python3 - "$TMP/report.json" "$TMP/checkov.stdout" <<'PY' || true
import json, sys
tg = json.load(open(sys.argv[1]))
ours = {f"{f['resource'].get('namespace', '')}/{f['resource']['name']}"
        for f in tg["findings"] if f["rule"] == "snippet-annotation"}
ck = json.load(open(sys.argv[2]))
theirs = set()
for run in (ck if isinstance(ck, list) else [ck]):
    for c in run.get("results", {}).get("failed_checks", []):
        kind, _, rest = c["resource"].partition(".")
        ns, _, name = rest.partition(".")
        if kind == "Ingress":
            theirs.add(f"{ns}/{name}")
both = ours & theirs
print(f"Agreement on snippet Ingresses: {len(both)} flagged by both, "
      f"{len(ours - theirs)} by Tollgate only, {len(theirs - ours)} by Checkov only.")
PY
fi
if [[ -n "$C_LINE" ]]; then
    echo "Checkov / Tollgate wall time (medians): $(awk -v c="$C_MEDIAN" -v t="$T_MEDIAN" 'BEGIN { printf "%.1f×", (t > 0) ? c / t : 0 }')."
fi
