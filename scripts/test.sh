#!/usr/bin/env bash
# The whole test suite: starts PostgreSQL and MinIO (scripts/services.sh),
# checks formatting and vet, runs every package with the race detector, runs
# the real-client suites in test/clients, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/services.sh)"
cleanup() {
  if [ -n "${RELKEY_TEST_MINIO_DIR:-}" ] && [ -f "$RELKEY_TEST_MINIO_DIR/pid" ]; then
    kill "$(cat "$RELKEY_TEST_MINIO_DIR/pid")" 2>/dev/null || true
    rm -rf "$RELKEY_TEST_MINIO_DIR"
  fi
}
trap cleanup EXIT

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
go test -race -count=1 -timeout 20m ./...

# Real Keygen clients against relkey built from this tree (their own module).
(cd test/clients && go vet ./... && go test -count=1 -timeout 10m ./...)
