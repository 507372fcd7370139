# Herald's tasks. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BIN      := bin/herald
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PANEL    ?= demo

# The linter is pinned and built from source by `go install` into bin/tools
# (git-ignored), so a fresh machine needs nothing but Go. The version is in
# the file name: changing it here installs the new one.
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT         := bin/tools/golangci-lint-$(GOLANGCI_LINT_VERSION)

# make run is for a developer machine: it lets Herald reach receivers on
# this machine's loopback, which the SSRF guard refuses by default.
RUN_EGRESS_ALLOW ?= 127.0.0.0/8,::1/128

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/herald
	go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/herald

.PHONY: services
services: ## start the local PostgreSQL and Redis if they are stopped (installs them as root)
	@.ci/services

.PHONY: migrate
migrate: build services ## create the database if missing and apply migrations
	$(BIN) migrate

.PHONY: run
run: export HERALD_LOG_FORMAT ?= text
run: export HERALD_EGRESS_ALLOW ?= $(RUN_EGRESS_ALLOW)
run: build services ## build, migrate, print an API token and UI sign-in for panel $(PANEL), run everything in one process
	@$(BIN) migrate
	@token=$$($(BIN) token create --panel $(PANEL) --label "make run") && \
	  password=$$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 20) && \
	  user=$$($(BIN) user create --panel $(PANEL) --email admin@$(PANEL).local --password "$$password") && \
	  listen=$${HERALD_LISTEN:-127.0.0.1:8080} && \
	  echo && echo "  Herald:    http://$$listen" && \
	  echo "  panel:     $(PANEL)" && \
	  echo "  API token: $$token" && \
	  echo "  try:       curl -s http://$$listen/api/v1/webhooks -H 'Authorization: Bearer $$token'" && \
	  echo "  web UI:    http://$$listen/login" && \
	  echo "  sign in:   $$user  password $$password  (a new password each run)" && echo
	$(BIN) all

.PHONY: test
test: services ## run every test against the local PostgreSQL and Redis
	go test -race -count=1 ./...

.PHONY: bench
bench: build ## benchmark end to end on loopback; BENCH_SECONDS bounds each scenario
	go run ./bench

.PHONY: chaos
chaos: build ## fault-injection run on loopback (private PostgreSQL and Redis); CHAOS_SECONDS bounds the load
	go run ./bench/chaos

.PHONY: lint
lint: $(GOLANGCI_LINT) ## gofmt check, go vet, golangci-lint (.golangci.yml); CI fails on any finding
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(GOLANGCI_LINT) run ./...

# The first build of golangci-lint takes a few minutes (less with a warm Go
# module and build cache).
$(GOLANGCI_LINT):
	@mkdir -p $(@D)
	GOBIN=$(CURDIR)/$(@D) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(@D)/golangci-lint $@

.PHONY: clean
clean: ## remove build output (the linter in bin/tools stays)
	rm -f $(BIN)
