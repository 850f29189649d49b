#!/usr/bin/env bash
# Measures relkey's hot paths against a minimal "floor" server doing the same
# job on the same database (test/bench/floor, run with -sign so it signs its
# responses as relkey does), for both engines: PostgreSQL + S3 (MinIO), and
# SQLite + a local folder. Prints the machine, then one Markdown table per
# engine (test/bench/load). Everything listens on loopback only.
#
# Settings (environment):
#   BENCH_DURATION=5s      length of each measured run
#   BENCH_PAIRS=3          relkey/floor run pairs per path (the table shows medians)
#   BENCH_CONNS=32         concurrent keep-alive connections
#   BENCH_WARMUP=1s        unmeasured run of each path and server first
#   BENCH_RSS_DURATION=30s validate-key run at BENCH_RSS_CONNS=256 connections
#                          whose peak RSS is read (and relkey's peak since its
#                          start, before the run); 0 skips it
#   BENCH_LICENSES=100000, BENCH_RELEASES=10000
#   BENCH_ENGINES="postgres sqlite"
#   BENCH_PATHS="validate-key,upgrade"  only these paths (names as in the table)
#   BENCH_PG_STATEMENTS=N  also print PostgreSQL's N costliest statements
#                          (pg_stat_statements) after the PostgreSQL table
#   BENCH_PROFILE=DIR      also write relkey's CPU profile of the measured
#                          runs to DIR/<engine>.pprof (RELKEY_DEBUG_LISTEN;
#                          read it with go tool pprof), and its allocations
#                          since start to DIR/<engine>.allocs.pprof
#   BENCH_RELKEY_ENV="GOGC=100"  extra environment of relkey alone (words
#                          NAME=value), to compare settings in one run
# The defaults take about 7 minutes on 2 cores (MinIO already built).
#
# Seeding, per engine: relkey starts on an empty database and migrates it;
# `relkey account create` makes the account; test/bench/seed creates through
# the API a LICENSED product, a policy (LICENSE authentication, floating,
# maxMachines 1 000 000), one license, the releases 1.0.0 and 2.0.0 and an
# artifact of 2.0.0 uploaded through the 307 and its presigned PUT. Then it
# clones the license and the 1.0.0 release rows relkey wrote, with SQL in one
# transaction, up to BENCH_LICENSES licenses and BENCH_RELEASES releases
# (1.1.0 … 1.N.0). Each cloned license gets a random key sealed with the
# master key and digested with the account secret exactly as relkey does
# (internal/keyring, license.Digest): the bench sets RELKEY_SECRET_KEY, so
# the seeder can open the account's secret. That takes seconds where
# creating 100 000 licenses through the API would take minutes.
#
# relkey serves with its production settings except: RELKEY_LISTEN is a free
# loopback port, RELKEY_SECRET_KEY is a random one set explicitly (the seeder
# and the floor need it; embedded mode would otherwise generate one into the
# data folder), and PostgreSQL is the throwaway cluster of scripts/services.sh
# (fsync off). Its logs (info, one line a request) go to a file.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-5s}
pairs=${BENCH_PAIRS:-3}
conns=${BENCH_CONNS:-32}
warmup=${BENCH_WARMUP:-1s}
rss_duration=${BENCH_RSS_DURATION:-30s}
rss_conns=${BENCH_RSS_CONNS:-256}
licenses=${BENCH_LICENSES:-100000}
releases=${BENCH_RELEASES:-10000}
engines=${BENCH_ENGINES:-postgres sqlite}
only_paths=${BENCH_PATHS:-}
pg_statements=${BENCH_PG_STATEMENTS:-0}
profile_dir=${BENCH_PROFILE:-}

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in go curl python3; do
  command -v "$tool" >/dev/null || die "$tool is missing (install it: Debian's golang-go or go.dev/dl, curl, python3)"
done
[ -r /proc/self/stat ] || die "/proc is not readable: CPU times and RSS come from it"

work=$(mktemp -d /tmp/relkey-bench.XXXXXX)
services=
servers=()
cleanup() {
  local status=$?
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$services" ]; then scripts/services.sh stop; fi
  if [ "$status" != 0 ]; then log "failed; logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_healthy polls url/v1/health until it answers 200, for at most 60 s,
# and fails at once if the server process pid has ended.
wait_healthy() {
  local url=$1 pid=$2 logfile=$3 deadline=$((SECONDS + 60))
  until curl -fs -o /dev/null --max-time 2 "$url/v1/health"; do
    if ! kill -0 "$pid" 2>/dev/null; then log "the server of $url exited; its log:"; tail -n 20 "$logfile" >&2; exit 1; fi
    if [ "$SECONDS" -ge "$deadline" ]; then log "$url is not healthy after 60 s; its log:"; tail -n 20 "$logfile" >&2; exit 1; fi
    sleep 0.1
  done
}

log "building relkey and test/bench"
go build -o "$work/relkey" ./cmd/relkey
go build -o "$work/" ./test/bench/seed ./test/bench/floor ./test/bench/load

case " $engines " in *" postgres "*)
  log "starting PostgreSQL and MinIO (scripts/services.sh)"
  # Always services of its own: the bench reads its PostgreSQL's CPU time.
  unset RELKEY_TEST_DATABASE_URL RELKEY_TEST_STORAGE_URL
  services=started
  if [ "$pg_statements" != 0 ]; then
    export RELKEY_TEST_POSTGRES_OPTIONS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
  fi
  exports=$(scripts/services.sh)
  eval "$exports"
  if [ "$pg_statements" != 0 ]; then
    psql "$RELKEY_TEST_DATABASE_URL" -X -q -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
  fi
  ;;
esac

# bench_engine seeds a fresh relkey store and runs the load against relkey
# and the floor on it: $1 is the table's title, $2 the database (a postgres://
# URL or empty for SQLite), $3 the storage URL (empty: local folder), $4
# PostgreSQL's data folder (empty: none).
bench_engine() {
  local title=$1 database=$2 storage=$3 pgdata=$4
  local dir relkey_url floor_url secret relkey_pid floor_pid db token
  dir=$(mktemp -d "$work/engine.XXXX")
  secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  relkey_url="http://127.0.0.1:$(free_port)"
  floor_url="http://127.0.0.1:$(free_port)"
  export RELKEY_DATA_DIR="$dir/data" RELKEY_SECRET_KEY="$secret" RELKEY_LISTEN="${relkey_url#http://}"
  export RELKEY_DATABASE_URL="$database" RELKEY_STORAGE_URL="$storage"
  # The load generator is one address holding up to BENCH_RSS_CONNS
  # connections, as a load balancer would (which production lists in
  # RELKEY_TRUSTED_PROXIES).
  export RELKEY_TRUSTED_PROXIES=127.0.0.1/32
  db=${database:-$RELKEY_DATA_DIR/relkey.db}
  if [ -n "$profile_dir" ]; then
    export RELKEY_DEBUG_LISTEN="127.0.0.1:$(free_port)"
  fi

  log "$title: starting relkey on $relkey_url"
  env ${BENCH_RELKEY_ENV:-} "$work/relkey" serve >"$dir/relkey.log" 2>&1 &
  relkey_pid=$!
  servers+=("$relkey_pid")
  wait_healthy "$relkey_url" "$relkey_pid" "$dir/relkey.log"
  "$work/relkey" account create --slug bench --name Bench --email bench@example.com --password bench-password --json \
    >"$dir/account.json" 2>>"$dir/relkey.log"
  token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["admin_token"])' <"$dir/account.json")

  log "$title: seeding $licenses licenses and $releases releases"
  "$work/seed" -url "$relkey_url" -account bench -token "$token" -database "$db" -secret "$secret" \
    -licenses "$licenses" -releases "$releases" >"$dir/fixture.json"

  log "$title: starting the floor server on $floor_url"
  "$work/floor" -listen "${floor_url#http://}" -database "$db" -account bench -secret "$secret" -storage "$storage" -sign \
    2>"$dir/floor.log" &
  floor_pid=$!
  servers+=("$floor_pid")
  wait_healthy "$floor_url" "$floor_pid" "$dir/floor.log"

  log "$title: measuring"
  if [ -n "$pgdata" ] && [ "$pg_statements" != 0 ]; then
    psql "$database" -X -q -c 'SELECT pg_stat_statements_reset()' >/dev/null
  fi
  local profiler=
  if [ -n "$profile_dir" ]; then
    mkdir -p "$profile_dir"
    # relkey's samples only: it idles while the floor runs.
    curl -fsS -o "$profile_dir/${engine}.pprof" \
      "http://$RELKEY_DEBUG_LISTEN/debug/pprof/profile?seconds=$(profile_seconds)" &
    profiler=$!
  fi
  "$work/load" -fixture "$dir/fixture.json" -engine "$title" -relkey "$relkey_url" -relkey-pid "$relkey_pid" \
    -floor "$floor_url" -floor-pid "$floor_pid" -pgdata "$pgdata" -duration "$duration" -pairs "$pairs" \
    -conns "$conns" -warmup "$warmup" -rss-conns "$rss_conns" -rss-duration "$rss_duration" -paths "$only_paths"
  if [ -n "$pgdata" ] && [ "$pg_statements" != 0 ]; then
    pg_statements_report "$database"
  fi
  if [ -n "$profiler" ]; then
    wait "$profiler" || log "$title: no CPU profile (see $dir/relkey.log)"
    curl -fsS -o "$profile_dir/${engine}.allocs.pprof" "http://$RELKEY_DEBUG_LISTEN/debug/pprof/allocs" ||
      log "$title: no allocation profile"
  fi

  kill "$relkey_pid" "$floor_pid"
  wait "$relkey_pid" "$floor_pid" 2>/dev/null || true
  unset RELKEY_DATA_DIR RELKEY_SECRET_KEY RELKEY_LISTEN RELKEY_DATABASE_URL RELKEY_STORAGE_URL RELKEY_DEBUG_LISTEN
}

# profile_seconds is how long the measured runs of the chosen paths last
# (relkey's and the floor's, and their warm-ups), as whole seconds.
profile_seconds() {
  python3 -c '
import re, sys
seconds = lambda d: sum(float(v) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[u] for v, u in re.findall(r"([0-9.]+)(ms|s|m|h)", d))
duration, warmup, pairs, paths = seconds(sys.argv[1]), seconds(sys.argv[2]), int(sys.argv[3]), sys.argv[4].count(",") + 1
print(max(1, int(paths * 2 * (pairs * duration + warmup))))' "$duration" "$warmup" "$pairs" "${only_paths:-a,b,c,d}"
}

# pg_statements_report prints the costliest statements PostgreSQL ran
# (relkey's, the floor's and the seeder's alike).
pg_statements_report() {
  echo
  echo "PostgreSQL's $pg_statements costliest statements (all runs):"
  echo
  psql "$1" -X -q -A -F ' | ' -P footer=off -c "SELECT calls, round((total_exec_time / calls * 1000)::numeric) AS mean_exec_us,
      round((total_plan_time / calls * 1000)::numeric) AS mean_plan_us, round(shared_blks_hit::numeric / calls, 1) AS blks_per_call,
      left(regexp_replace(query, '\s+', ' ', 'g'), 160) AS query
    FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT $pg_statements"
}

started=$SECONDS
echo "## relkey hot paths vs. the floor"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)),"
echo "load average at the start $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3), relkey $(git describe --tags --always --dirty 2>/dev/null || echo dev)."
echo "The load generator runs on the same machine. Ratio = floor+sign req/s ÷ relkey req/s."
echo
for engine in $engines; do
  case $engine in
  postgres) bench_engine "PostgreSQL + S3 (MinIO)" "$RELKEY_TEST_DATABASE_URL" "$RELKEY_TEST_STORAGE_URL" "$RELKEY_TEST_POSTGRES_DIR/data" ;;
  sqlite) bench_engine "SQLite + local folder" "" "" "" ;;
  *) die "unknown engine $engine in BENCH_ENGINES (postgres, sqlite)" ;;
  esac
done
log "done in $((SECONDS - started)) s"
