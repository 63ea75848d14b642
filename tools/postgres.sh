#!/usr/bin/env bash
# A real local PostgreSQL for the postgres-marked tests (Optuna's RDB storage).
#
#   tools/postgres.sh up      install (Debian package) when missing, initdb, start, create a db
#   tools/postgres.sh url     print the database URL the tests read ($LORS_POSTGRES_URL)
#   tools/postgres.sh down    stop the server this script started (by its PID file)
#
# No systemd: the server runs as the `postgres` user from $LORS_PG_DIR (default
# /var/tmp/lors-pg), on a Unix socket there and TCP 127.0.0.1:$LORS_PG_PORT (default 55432).
set -euo pipefail

DIR=${LORS_PG_DIR:-/var/tmp/lors-pg}
PORT=${LORS_PG_PORT:-55432}
DB=lors_test
die() { echo "postgres.sh: $*" >&2; exit 1; }

bin() {  # a server binary: on PATH, else in Debian's versioned folder
    local found
    found=$(command -v "$1" 2>/dev/null || true)
    [ -n "$found" ] && [ -x "$found" ] && { echo "$found"; return; }
    found=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$found" ] && { echo "$found"; return; }
    return 1
}

install() {
    bin initdb >/dev/null && return 0
    command -v apt-get >/dev/null || die "no PostgreSQL server and no apt-get: install one by hand"
    echo "installing postgresql (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >/tmp/lors-pg-apt.log 2>&1 \
        || { DEBIAN_FRONTEND=noninteractive apt-get update >>/tmp/lors-pg-apt.log 2>&1 || true
             DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >>/tmp/lors-pg-apt.log 2>&1; } \
        || die "apt-get install postgresql failed; see /tmp/lors-pg-apt.log"
}

as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

up() {
    install
    local initdb pg_ctl
    initdb=$(bin initdb) || die "initdb not found after install"
    pg_ctl=$(bin pg_ctl) || die "pg_ctl not found after install"
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    mkdir -p "$DIR"
    chown postgres "$DIR" 2>/dev/null || true
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
        as_pg "'$initdb' -D '$DIR/data' -A trust -U postgres >'$DIR/initdb.log' 2>&1" || die "initdb failed; see $DIR/initdb.log"
    fi
    if ! as_pg "'$pg_ctl' -D '$DIR/data' status" >/dev/null 2>&1; then
        as_pg "'$pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w -t 30 -o \"-p $PORT -k $DIR -c listen_addresses=127.0.0.1\" start" >/dev/null \
            || die "the server did not start; see $DIR/server.log"
    fi
    local psql createdb
    psql=$(bin psql) || die "psql not found"
    createdb=$(bin createdb) || die "createdb not found"
    if ! as_pg "'$psql' -h 127.0.0.1 -p $PORT -U postgres -lqt" | cut -d'|' -f1 | grep -qw "$DB"; then
        as_pg "'$createdb' -h 127.0.0.1 -p $PORT -U postgres $DB"
    fi
    echo "postgres up: $(url)"
}

url() { echo "postgresql://postgres@127.0.0.1:$PORT/$DB"; }

down() {
    local pg_ctl
    pg_ctl=$(bin pg_ctl) || return 0
    [ -f "$DIR/data/postmaster.pid" ] || { echo "postgres: not running"; return 0; }
    as_pg "'$pg_ctl' -D '$DIR/data' -m fast -w stop" >/dev/null && echo "postgres down"
}

case "${1:-}" in
    up) up ;;
    url) url ;;
    down) down ;;
    *) die "usage: tools/postgres.sh up|url|down" ;;
esac
