GO      ?= go
BIN     := bin/relkey
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/relkey/relkey/internal/cli.Version=$(VERSION)

.PHONY: build run test bench vet fmt clean

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

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
