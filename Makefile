GO      ?= go
BIN     := bin/relkey
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/relkey/relkey/internal/cli.Version=$(VERSION)

.PHONY: build run test vet fmt clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/relkey

# Serves on the embedded default (SQLite + local folder in ./data): no services needed.
run: build
	$(BIN) serve

# The whole suite, starting PostgreSQL and MinIO itself.
test:
	scripts/test.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
