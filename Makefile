# The two commands that matter: `make dev` and `make test`.
SHELL := /bin/bash
BIN := $(CURDIR)/bin
TEMPORAL_CLI_VERSION := v1.5.1
WORKFLOWCHECK_VERSION := v0.6.0
PG_BIN := /usr/lib/postgresql/15/bin
GO_TEST_FLAGS ?= -count=1 -timeout 20m

.PHONY: dev dev-reset build bench fuzz test test-faults soak unit-test vet workflowcheck tools postgres ui-tools bench-reports clean

## dev: bring up PostgreSQL, Temporal (UI on :8233), the worker and the API; Ctrl-C stops them all
dev: tools build
	$(BIN)/devstack

## dev-reset: wipe the development data (.dev/): cases, database and Temporal history
dev-reset:
	rm -rf .dev

## build: the binaries, into bin/
build:
	go build -o $(BIN)/ ./cmd/...

FUZZ_TIME ?= 10s

## test: every test, starting the real servers the integration tests need, and each fuzz target for FUZZ_TIME
test: tools build vet workflowcheck
	go test $(GO_TEST_FLAGS) ./...
	$(MAKE) --no-print-directory fuzz

## fuzz: every fuzz target, FUZZ_TIME each (inputs that failed once stay in testdata/fuzz as regression cases)
fuzz:
	go test -run '^$$' -fuzz '^FuzzDecodeTasks$$' -fuzztime $(FUZZ_TIME) ./complaint/
	go test -run '^$$' -fuzz '^FuzzIntakeValidate$$' -fuzztime $(FUZZ_TIME) ./complaint/
	go test -run '^$$' -fuzz '^FuzzSubmitAndTaskBodies$$' -fuzztime $(FUZZ_TIME) ./api/
	go test -run '^$$' -fuzz '^FuzzSurveyAnswers$$' -fuzztime $(FUZZ_TIME) ./api/

## bench: intake against raw Temporal, cost per case, deadline lateness, worker memory; Go benchmarks
bench: tools build
	$(BIN)/bench -out bench-results.json
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

## unit-test: the tests that need no server
unit-test:
	go test -short $(GO_TEST_FLAGS) ./...

vet:
	go vet ./...

## bench-reports: seed 1,000,000 cases into a private PostgreSQL and time the list and report queries
## (BENCH_FLAGS, e.g. "-n 200000 -runs 20 -json bench.json"); prints p50/p99/max per query, never fails on a time
bench-reports: postgres
	go run ./cmd/reportbench $(BENCH_FLAGS)

## workflowcheck: workflow code must stay deterministic
workflowcheck: $(BIN)/workflowcheck
	$(BIN)/workflowcheck ./workflows/...

tools: $(BIN)/temporal postgres ui-tools

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
