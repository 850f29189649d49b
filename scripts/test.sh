#!/usr/bin/env bash
# The whole test suite: starts throwaway PostgreSQL and MinIO
# (scripts/services.sh), checks formatting, tidy modules, vet and
# staticcheck, runs every package with
# the race detector, fuzzes the request decoder for 30 s, runs the real-client suites in test/clients, and stops
# what it started. Every step runs even when an earlier one failed; a summary
# line per step closes the output, and the exit status is non-zero when any
# step failed.
set -uo pipefail
cd "$(dirname "$0")/.."

summary=()
failed=0
# step NAME COMMAND...: runs the command, timing it and recording the result.
step() {
  local name=$1 start status
  shift
  printf '\n=== %s\n' "$name"
  start=$(date +%s)
  "$@"
  status=$?
  local took=$(($(date +%s) - start))
  if [ "$status" = 0 ]; then
    summary+=("ok      $name (${took}s)")
  else
    summary+=("FAILED  $name (${took}s, exit $status)")
    failed=1
  fi
  return 0
}

services_up() {
  local exports status
  exports=$(scripts/services.sh)
  status=$?
  # Whatever did start is stopped at the end, even when the rest did not.
  eval "$exports"
  return "$status"
}
trap 'scripts/services.sh stop' EXIT

gofmt_clean() {
  local unformatted
  unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
  [ -z "$unformatted" ] && return 0
  echo "gofmt: these files need formatting:" >&2
  echo "$unformatted" >&2
  return 1
}

# staticcheck_in DIR: staticcheck (a pinned version, fetched from the module
# proxy on first use) over the module in DIR.
staticcheck_in() { (cd "$1" && GOFLAGS= go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...); }

# tools_up installs from Debian's packages what the machine lacks: jq,
# which the README's quick start (test/blackbox) uses, and the package
# managers the registry client suites drive (pip, gem, bundler, composer
# with PHP's zip extension; npm comes with Node; crane is built by its test
# from the version test/clients/go.mod pins as a tool, and oras likewise).
tools_up() {
  local missing=()
  command -v jq >/dev/null || missing+=(jq)
  python3 -m pip --version >/dev/null 2>&1 || missing+=(python3 python3-pip)
  command -v gem >/dev/null || missing+=(ruby)
  command -v bundle >/dev/null || missing+=(ruby-bundler)
  command -v composer >/dev/null || missing+=(composer php-cli php-zip unzip)
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
}

step "services (PostgreSQL, MinIO)" services_up
step "tools (jq, pip, gem, bundler, composer)" tools_up
step "gofmt" gofmt_clean
step "go mod tidy -diff (both modules)" bash -c 'go mod tidy -diff && cd test/clients && go mod tidy -diff'
step "go vet" go vet ./...
step "staticcheck" staticcheck_in .
step "go test -race (every package)" go test -race -count=1 -timeout 15m ./...
# 30 s of fuzzing the central input check and the request decoder.
step "fuzz (request validation and decoding, 30s)" go test -run '^$' -fuzz '^FuzzRequestValidationAndDecoding$' -fuzztime 30s ./internal/wellformed
# Real Keygen clients against relkey built from this tree (their own module).
step "go vet (test/clients)" bash -c 'cd test/clients && go vet ./...'
step "staticcheck (test/clients)" staticcheck_in test/clients
step "console in Chromium (playwright-core)" scripts/console-e2e.sh
step "client suites (keygen-go, keygen-cli, electron, pip, npm, gem, bundler, composer, crane, oras)" bash -c 'cd test/clients && go test -count=1 -timeout 10m ./...'

printf '\n=== summary\n'
printf '%s\n' "${summary[@]}"
exit "$failed"
