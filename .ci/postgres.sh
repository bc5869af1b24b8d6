# A throwaway PostgreSQL server for the store's tests and benchmark. Source this file, then:
#
#   start_throwaway_postgres     # installs PostgreSQL from Debian when missing, starts a server on
#                                # 127.0.0.1 in a temporary directory, creates the database
#                                # `tollgate`, and exports TOLLGATE_TEST_POSTGRES_URL
#   stop_throwaway_postgres      # stops it and removes the directory (call it from an EXIT trap)
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (created by
# the Debian package) in a directory it owns. PG_SERVER_OPTIONS adds server options; CI passes
# `-F` (no fsync: the data is thrown away), the benchmark passes nothing, to measure real commits.

PG_DIR=""
PG_BIN=""
PG_AS=()

pg_log() { printf 'postgres: %s\n' "$*" >&2; }

# The newest installed server's bin directory (Debian keeps them under /usr/lib/postgresql/N/bin).
pg_find_bin() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        echo "$dir"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    else
        return 1
    fi
}

pg_install() {
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null 2>&1 || { pg_log "PostgreSQL is missing and there is no sudo to install it"; return 1; }
        sudo=(sudo)
    fi
    pg_log "installing PostgreSQL from Debian (apt-get install postgresql)"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y -qq postgresql >/dev/null 2>&1 ||
        { "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 && "${sudo[@]}" apt-get install -y -qq postgresql >/dev/null; }
}

# A free TCP port on 127.0.0.1, from 54329 up.
pg_free_port() {
    local port
    for port in $(seq 54329 54399); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

start_throwaway_postgres() {
    PG_BIN="$(pg_find_bin)" || { pg_install && PG_BIN="$(pg_find_bin)"; } || {
        pg_log "cannot find or install PostgreSQL"
        return 1
    }
    # In /tmp, not $TMPDIR: as root the server runs as `postgres`, which must reach the directory.
    PG_DIR="$(mktemp -d /tmp/tollgate-postgres.XXXXXX)"
    PG_AS=()
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres: "$PG_DIR"
        PG_AS=(runuser -u postgres --)
    fi
    local port
    port="$(pg_free_port)" || { pg_log "no free port in 54329-54399"; return 1; }
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync \
        >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    # shellcheck disable=SC2086 # PG_SERVER_OPTIONS is a list of options.
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $PG_DIR ${PG_SERVER_OPTIONS:-}" start >/dev/null ||
        { cat "$PG_DIR/server.log" >&2; return 1; }
    "${PG_AS[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -q \
        -c "CREATE DATABASE tollgate" >/dev/null
    export TOLLGATE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/tollgate"
    pg_log "$("$PG_BIN/postgres" --version) on 127.0.0.1:$port ($PG_DIR)"
}

stop_throwaway_postgres() {
    [[ -n "$PG_DIR" && -d "$PG_DIR" ]] || return 0
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    PG_DIR=""
}
