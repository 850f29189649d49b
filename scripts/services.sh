#!/usr/bin/env bash
# Starts the services relkey's test suite needs and prints `export` lines for
# their addresses. Source-free: run as `eval "$(scripts/services.sh)"`.
#   PostgreSQL: reused when reachable on 127.0.0.1:5432, else installed from
#               Debian's packages and a cluster started.
#   MinIO:      built once with `go install` into the cache (about 5 minutes),
#               then started on a free loopback port in a temporary folder.
set -euo pipefail

cache="${RELKEY_CACHE:-$HOME/.cache/relkey}"
minio_version="v0.0.0-20260212201848-7aac2a2c5b7c"
log() { printf '%s\n' "services: $*" >&2; }

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

start_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 60); do pg_ready && return 0; sleep 0.5; done
  log "PostgreSQL did not become ready"; return 1
}

if [ -z "${RELKEY_TEST_DATABASE_URL:-}" ]; then
  pg_ready || start_postgres
  # Password authentication works whatever pg_hba.conf asks for on 127.0.0.1.
  if command -v runuser >/dev/null 2>&1 && id postgres >/dev/null 2>&1; then
    runuser -u postgres -- psql -q -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null 2>&1 || true
  fi
  echo "export RELKEY_TEST_DATABASE_URL='postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable'"
fi

if [ -z "${RELKEY_TEST_STORAGE_URL:-}" ]; then
  minio="$cache/bin/minio"
  if [ ! -x "$minio" ]; then
    log "building MinIO once into $cache/bin (about 5 minutes)"
    mkdir -p "$cache/bin"
    GOBIN="$cache/bin" GOFLAGS= go install "github.com/minio/minio@$minio_version" >&2
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  console=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  dir=$(mktemp -d /tmp/relkey-minio.XXXXXX)
  MINIO_ROOT_USER=relkeytest MINIO_ROOT_PASSWORD=relkeytestsecret MINIO_BROWSER=off MINIO_UPDATE=off \
    nohup "$minio" server "$dir/data" --address "127.0.0.1:$port" --console-address "127.0.0.1:$console" \
    >"$dir/minio.log" 2>&1 &
  echo "$!" >"$dir/pid"
  for i in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/minio/health/live" >/dev/null 2>&1; then break; fi
    if [ "$i" = 120 ]; then log "MinIO did not start; its log:"; cat "$dir/minio.log" >&2; exit 1; fi
    sleep 0.5
  done
  log "MinIO on 127.0.0.1:$port (pid $(cat "$dir/pid"), folder $dir)"
  echo "export RELKEY_TEST_STORAGE_URL='s3://relkeytest:relkeytestsecret@127.0.0.1:$port/relkey?secure=false&region=us-east-1'"
  echo "export RELKEY_TEST_MINIO_DIR='$dir'"
fi
