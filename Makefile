# relaydesk: `make run` serves on http://localhost:8080, `make test` runs every test.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)

.PHONY: run build test vet fmt generate clean bench soak outage demo

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

## bench: measure relaydesk under load against pgbench and River (a few minutes; report in .data/bench.json)
bench:
	@command -v pgbench >/dev/null || ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 || \
		{ echo "pgbench is missing: sudo apt-get install -y postgresql-client"; exit 1; }
	@mkdir -p .data
	$(GO) run ./cmd/relaydesk-load bench -json .data/bench.json $(BENCH_FLAGS)

## soak: kill -9 relaydesk, restart PostgreSQL (a private cluster) and break the peers under load, then verify (about 6 minutes; SOAK_FLAGS="-replicas 2" for two processes)
soak:
	@mkdir -p .data
	$(GO) run ./cmd/relaydesk-load soak -json .data/soak.json $(SOAK_FLAGS)

## outage: a helpdesk outage and recovery with production defaults: breaker, probes, time to deliver the backlog (about 6 minutes)
outage:
	@mkdir -p .data
	$(GO) run ./cmd/relaydesk-load outage -json .data/outage.json $(OUTAGE_FLAGS)

## demo: relaydesk with a fake WhatsApp and a fake helpdesk you can look at, until Ctrl-C
demo:
	$(GO) run ./cmd/relaydesk-load demo -database-url "$$(scripts/dev-db postgres)" $(DEMO_FLAGS)

clean:
	rm -rf bin
