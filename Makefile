# The two commands that matter: `make dev` and `make test`.
SHELL := /bin/bash
BIN := $(CURDIR)/bin
TEMPORAL_CLI_VERSION := v1.5.1
WORKFLOWCHECK_VERSION := v0.6.0
PG_BIN := /usr/lib/postgresql/15/bin
# TEMPORAL_VERSION and TEMPORAL_UI_VERSION: the same releases as docker-compose.yml's images.
include deploy/versions.env
TEMPORAL_SERVER_DIR := $(BIN)/temporal-server-$(TEMPORAL_VERSION)
TEMPORAL_UI_DIR := $(BIN)/temporal-ui-$(TEMPORAL_UI_VERSION)
GO_TEST_FLAGS ?= -count=1 -timeout 20m
# `make` alone is `make dev`; `make help` lists the targets.
.DEFAULT_GOAL := dev

.PHONY: help dev dev-reset prod prod-reset prod-tools nginx test-prod build bench fuzz test test-faults soak record-histories unit-test vet workflowcheck tools postgres ui-tools bench-reports clean

## help: this list of targets
help:
	@awk '/^## [a-z-]+:/ { i = index($$0, ":"); printf "  %-14s %s\n", substr($$0, 4, i - 4), substr($$0, i + 2); next } \
		/^## / { printf "  %-14s %s\n", "", substr($$0, 4) }' $(firstword $(MAKEFILE_LIST))

## dev: bring up PostgreSQL, Temporal (UI on :8233), the worker and the API; one that dies is started
## again; Ctrl-C stops them all
dev: tools build
	$(BIN)/devstack

## dev-reset: wipe the development data (.dev/): cases, database and Temporal history
dev-reset:
	rm -rf .dev

## prod: the production form natively: Temporal server on PostgreSQL (UI on :8233), the app's PostgreSQL,
## two workers, two API replicas behind nginx on :8080; Ctrl-C stops them all. Data in .prod/
prod: prod-tools build
	$(BIN)/prodstack

## prod-reset: wipe the production form's data (.prod/): both databases, Temporal's history
prod-reset:
	rm -rf .prod

## test-prod: the production form's integration test (starts it on free ports, drives a case to closing)
test-prod: prod-tools build
	go test $(GO_TEST_FLAGS) -v -run . ./systemtest/prodform/

## prod-tools: Temporal's server, temporal-sql-tool, their schema and the Web UI server, at deploy/versions.env's versions
prod-tools: $(TEMPORAL_SERVER_DIR)/.complete $(TEMPORAL_UI_DIR)/ui-server postgres nginx

# The module's schema files (SQL and JSON manifests; not its Go file, which
# would join ./...) are copied beside the binaries of the same release,
# writable so that `make clean` can remove them.
$(TEMPORAL_SERVER_DIR)/.complete:
	rm -rf $(TEMPORAL_SERVER_DIR) && mkdir -p $(TEMPORAL_SERVER_DIR)
	GOBIN=$(TEMPORAL_SERVER_DIR) go install go.temporal.io/server/cmd/server@v$(TEMPORAL_VERSION) \
		go.temporal.io/server/cmd/tools/sql@v$(TEMPORAL_VERSION)
	mv $(TEMPORAL_SERVER_DIR)/server $(TEMPORAL_SERVER_DIR)/temporal-server
	mv $(TEMPORAL_SERVER_DIR)/sql $(TEMPORAL_SERVER_DIR)/temporal-sql-tool
	src=$$(cd / && go mod download -json go.temporal.io/server@v$(TEMPORAL_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p') && \
		test -d "$$src/schema/postgresql/v12" && \
		mkdir -p $(TEMPORAL_SERVER_DIR)/schema/postgresql/v12 && \
		cp -R "$$src/schema/postgresql/v12/temporal" "$$src/schema/postgresql/v12/visibility" \
			$(TEMPORAL_SERVER_DIR)/schema/postgresql/v12/ && \
		chmod -R u+w $(TEMPORAL_SERVER_DIR)/schema
	touch $@

$(TEMPORAL_UI_DIR)/ui-server:
	mkdir -p $(TEMPORAL_UI_DIR)
	GOBIN=$(TEMPORAL_UI_DIR) go install github.com/temporalio/ui-server/v2/cmd/server@v$(TEMPORAL_UI_VERSION)
	mv $(TEMPORAL_UI_DIR)/server $@

# Debian's nginx balances the API replicas; installed when missing (needs root).
nginx:
	@test -x /usr/sbin/nginx || { \
		echo "installing nginx"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

## build: the binaries, into bin/
build:
	@echo "building $(notdir $(wildcard cmd/*)) into bin/"
	@start=$$(date +%s%N) && go build -o $(BIN)/ ./cmd/... && \
		ms=$$(( ($$(date +%s%N) - start) / 1000000 )) && echo "built in $$((ms / 1000)).$$((ms % 1000 / 100)) s"

# A count of executions, not a duration: Go 1.26's fuzz coordinator can fail a
# target with a bare "context deadline exceeded" when a duration runs out while
# a worker is busy (go.dev/issue/75804, fixed in Go 1.27). The pure domain
# decoders run twenty times faster than the HTTP handlers, so they get more
# runs; each target takes 5 to 15 s here. Raise the counts for a longer hunt.
FUZZ_TIME ?= 30000x
FUZZ_TIME_DOMAIN ?= 300000x

## test: every test, starting the real servers the integration tests need, and each fuzz target
test: tools ui-tools prod-tools build vet workflowcheck
	go test $(GO_TEST_FLAGS) ./...
	$(MAKE) --no-print-directory fuzz

## fuzz: every fuzz target, FUZZ_TIME (FUZZ_TIME_DOMAIN for the domain's) each (inputs that failed once stay in testdata/fuzz as regression cases)
fuzz:
	go test -run '^$$' -fuzz '^FuzzDecodeTasks$$' -fuzztime $(FUZZ_TIME_DOMAIN) ./complaint/
	go test -run '^$$' -fuzz '^FuzzIntakeValidate$$' -fuzztime $(FUZZ_TIME_DOMAIN) ./complaint/
	go test -run '^$$' -fuzz '^FuzzSubmitAndTaskBodies$$' -fuzztime $(FUZZ_TIME) ./api/
	go test -run '^$$' -fuzz '^FuzzSurveyAnswers$$' -fuzztime $(FUZZ_TIME) ./api/

## bench: intake against raw Temporal, cost per case, deadline lateness, worker memory on the dev server;
## intake and cost on the production form beside them; the list and report queries on 1,000,000 cases
## (BENCH_FLAGS, e.g. "-requests 300 -report-cases 200000"); then the Go benchmarks. Never fails on a time
bench: tools prod-tools build
	$(BIN)/bench -form both -out bench-results.json $(BENCH_FLAGS)
	go test -run '^$$' -bench . -benchmem ./complaint/

## test-faults: the fault tests alone, against real processes: the worker killed mid-send and during a
## soak, Temporal and PostgreSQL restarted mid-case, the API killed mid-request (also part of `make test`)
FAULT_TESTS := Killed|Restart|Stopped|Soak
test-faults: tools build
	go test $(GO_TEST_FLAGS) -run '$(FAULT_TESTS)' -v ./systemtest/

## soak: a longer soak (SOAK_CASES cases, SOAK_KILLS worker kills; SOAK_SEED replays a run)
SOAK_CASES ?= 200
SOAK_KILLS ?= 6
soak: tools build
	SOAK_CASES=$(SOAK_CASES) SOAK_KILLS=$(SOAK_KILLS) go test $(GO_TEST_FLAGS) -run '^TestSoakWithFaults$$' -v ./systemtest/

## record-histories: record the histories the replay test replays (workflows/testdata/histories/next/):
## every DOMAIN §7 demo case, the API and signals-only paths, a withdrawal, a case that continues as new,
## the follow-ups (approval, confirmation, a low score), a clock's own steps (reminder, escalations)
RECORDED_TESTS := DemoCasesEndToEnd|ThroughTheAPIToTheEnd|BySignalsFromTheCLI|WithdrawnMidInvestigation|ContinueAsNewOnTheRealServer|TheFollowUpsReachPeopleByMail|AnUnansweredProposalIsRemindedEscalated
record-histories: tools build
	rm -rf workflows/testdata/histories/next
	go test $(GO_TEST_FLAGS) -run '^Test.*($(RECORDED_TESTS))' ./systemtest/ -args -record-histories

## unit-test: the tests that need no server
unit-test:
	go test -short $(GO_TEST_FLAGS) ./...

vet:
	go vet ./...

## bench-reports: only the list and report queries of `make bench` (BENCH_FLAGS, e.g. "-report-cases 200000",
## or "-report-dsn postgres://..." to time an existing database as it is)
bench-reports: postgres build
	$(BIN)/bench -form none -out bench-reports.json $(BENCH_FLAGS)

## workflowcheck: workflow code must stay deterministic
workflowcheck: $(BIN)/workflowcheck
	$(BIN)/workflowcheck ./workflows/...

# What the servers need; the browser (ui-tools) only `make test` installs.
tools: $(BIN)/temporal postgres

$(BIN)/temporal:
	GOBIN=$(BIN) go install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

$(BIN)/workflowcheck:
	GOBIN=$(BIN) go install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

# Debian's PostgreSQL 15; installed when missing (needs root, as on our machines).
postgres:
	@test -x $(PG_BIN)/postgres || { \
		echo "installing postgresql-15"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; }

# Headless Chromium (Debian's) and playwright-core for the browser checks of the Temporal UI.
ui-tools:
	@test -x /usr/bin/chromium || { \
		echo "installing chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -d systemtest/ui/node_modules/playwright-core || npm ci --prefix systemtest/ui --no-audit --no-fund

clean:
	rm -rf $(BIN)
