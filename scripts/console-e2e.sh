#!/usr/bin/env bash
# The web console's browser tests: installs Debian's Chromium and
# test/console's pinned npm packages when missing, serves a relkey built
# from this tree on a fresh embedded data dir with one account, and runs
# test/console/console.test.mjs (node's test runner) against it. Screenshots
# go to $RELKEY_E2E_ARTIFACTS (default: test/console/artifacts).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium
fi
(cd test/console && npm ci --no-audit --no-fund --loglevel=error)

work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/relkey" ./cmd/relkey
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
export RELKEY_DATA_DIR="$work/data" RELKEY_LISTEN="127.0.0.1:$port" RELKEY_PASSWORD_COST=4 RELKEY_LOG_LEVEL=warn
"$work/relkey" account create --slug acme --name ACME --email admin@acme.test --password password-acme >/dev/null
"$work/relkey" serve &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done

export RELKEY_URL="http://127.0.0.1:$port"
export RELKEY_E2E_ARTIFACTS="${RELKEY_E2E_ARTIFACTS:-$PWD/test/console/artifacts}"
node --test --test-reporter=spec test/console/console.test.mjs
