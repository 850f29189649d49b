#!/usr/bin/env bash
# Starts throwaway services for relkey's test suite and prints `export` lines
# for their addresses: run as `eval "$(scripts/services.sh)"`, and
# `scripts/services.sh stop` afterwards (with those variables set) to stop
# them and remove their folders.
#   PostgreSQL: a cluster of its own (initdb + pg_ctl) in a temporary folder on
#               a free loopback port, installed from Debian's packages when
#               missing. No other server is touched.
#   MinIO:      built once with `go install` into the cache (about 5 minutes),
#               then started on a free loopback port in a temporary folder.
# RELKEY_TEST_POSTGRES_OPTIONS adds server options (-c name=value ...).
# RELKEY_TEST_DATABASE_URL or RELKEY_TEST_STORAGE_URL, when already set,
# select an existing service instead; it is used as it is.
set -euo pipefail

cache="${RELKEY_CACHE:-$HOME/.cache/relkey}"
minio_version="v0.0.0-20260212201848-7aac2a2c5b7c"
log() { printf '%s\n' "services: $*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ "${1:-}" = stop ]; then
  if [ -n "${RELKEY_TEST_POSTGRES_DIR:-}" ] && [ -d "$RELKEY_TEST_POSTGRES_DIR" ]; then
    pg_as=()
    [ "$(id -u)" = 0 ] && pg_as=(runuser -u postgres --)
    "${pg_as[@]}" "$RELKEY_TEST_POSTGRES_BIN/pg_ctl" -D "$RELKEY_TEST_POSTGRES_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$RELKEY_TEST_POSTGRES_DIR"
  fi
  if [ -n "${RELKEY_TEST_MINIO_DIR:-}" ] && [ -f "$RELKEY_TEST_MINIO_DIR/pid" ]; then
    minio_pid=$(cat "$RELKEY_TEST_MINIO_DIR/pid")
    kill "$minio_pid" 2>/dev/null || true
    # Its folder goes once it has exited: MinIO writes into it as it stops.
    for _ in $(seq 100); do
      kill -0 "$minio_pid" 2>/dev/null || break
      sleep 0.1
    done
    rm -rf "$RELKEY_TEST_MINIO_DIR"
  fi
  exit 0
fi

# postgres_bin prints the newest installed PostgreSQL server's bin folder.
postgres_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

start_postgres() {
  local bin dir port pg_as=()
  bin=$(postgres_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    log "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bin=$(postgres_bin)
  fi
  dir=$(mktemp -d /tmp/relkey-postgres.XXXXXX)
  # PostgreSQL refuses to run as root: as root, the cluster belongs to the
  # postgres user that Debian's package creates.
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" --shell /usr/sbin/nologin postgres
    chown postgres "$dir"
    pg_as=(runuser -u postgres --)
  fi
  port=$(free_port)
  "${pg_as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 ||
    { log "initdb failed:"; cat "$dir/initdb.log" >&2; return 1; }
  # Durability is worth nothing to a throwaway test cluster.
  if ! "${pg_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${RELKEY_TEST_POSTGRES_OPTIONS:-}" >&2; then
    log "PostgreSQL did not start; its log:"; cat "$dir/postgres.log" >&2; return 1
  fi
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (folder $dir)"
  echo "export RELKEY_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
  echo "export RELKEY_TEST_POSTGRES_DIR='$dir' RELKEY_TEST_POSTGRES_BIN='$bin'"
}

start_minio() {
  local minio="$cache/bin/minio" port console dir
  if [ ! -x "$minio" ]; then
    log "building MinIO once into $cache/bin (about 5 minutes)"
    mkdir -p "$cache/bin"
    GOBIN="$cache/bin" GOFLAGS= go install "github.com/minio/minio@$minio_version" >&2
  fi
  port=$(free_port)
  console=$(free_port)
  dir=$(mktemp -d /tmp/relkey-minio.XXXXXX)
  MINIO_ROOT_USER=relkeytest MINIO_ROOT_PASSWORD=relkeytestsecret MINIO_BROWSER=off MINIO_UPDATE=off \
    nohup "$minio" server "$dir/data" --address "127.0.0.1:$port" --console-address "127.0.0.1:$console" \
    >"$dir/minio.log" 2>&1 &
  echo "$!" >"$dir/pid"
  for i in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$port/minio/health/live" >/dev/null 2>&1; then break; fi
    if [ "$i" = 240 ]; then log "MinIO did not start; its log:"; cat "$dir/minio.log" >&2; return 1; fi
    sleep 0.5
  done
  log "MinIO on 127.0.0.1:$port (pid $(cat "$dir/pid"), folder $dir)"
  echo "export RELKEY_TEST_STORAGE_URL='s3://relkeytest:relkeytestsecret@127.0.0.1:$port/relkey?secure=false&region=us-east-1'"
  echo "export RELKEY_TEST_MINIO_DIR='$dir'"
}

[ -n "${RELKEY_TEST_DATABASE_URL:-}" ] || start_postgres
[ -n "${RELKEY_TEST_STORAGE_URL:-}" ] || start_minio
