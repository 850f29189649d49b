GO      ?= go
BIN     := bin/relkey
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/relkey/relkey/internal/cli.Version=$(VERSION)

.PHONY: build run test bench bench-analytics vet fmt clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/relkey

# Serves on the embedded default (SQLite + local folder in ./data): no services needed.
run: build
	$(BIN) serve

# The whole suite, starting PostgreSQL and MinIO itself.
test:
	scripts/test.sh

# relkey's hot paths against a minimal floor server, on both engines
# (BENCH_DURATION, BENCH_PAIRS, BENCH_CONNS, ...: see scripts/bench.sh).
bench:
	scripts/bench.sh

# Usage analytics: flush cost per 10 000 signals and a month's active devices
# at 1 000 000 devices (both engines when RELKEY_TEST_DATABASE_URL is set),
# and validate-key with analytics off and on. Slow: not part of make test.
bench-analytics:
	$(GO) test -run '^$$' -bench . -benchtime 5x ./internal/analytics
	$(GO) test -run '^$$' -bench BenchmarkValidateKeyAnalytics -benchtime 10000x -count 3 ./internal/httpapi

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
