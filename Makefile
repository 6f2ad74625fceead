# relaydesk: `make run` serves on http://localhost:8080, `make test` runs every test.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)

.PHONY: run build test vet fmt generate clean

## run: build and serve, with a PostgreSQL found or started for you
run: build
	scripts/run-dev

## build: compile bin/relaydesk
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/relaydesk ./cmd/relaydesk

## test: vet and run every test against a real PostgreSQL
test: vet
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$(scripts/dev-db postgres)}" $(GO) test -count=1 -timeout 20m ./...

vet:
	@unformatted=$$(gofmt -l cmd internal connectors migrations web 2>/dev/null); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w cmd internal connectors migrations web

## generate: nothing is generated yet; SQL is hand-written in internal/store
generate:
	$(GO) generate ./...

clean:
	rm -rf bin
