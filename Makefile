# ramconsole — build, run, test.
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
ADDR    ?= 127.0.0.1:8080
DATA    ?= ./data
ARGS    ?=

.PHONY: run build test check generate bench fuzz clean

## run: build and serve the console on $(ADDR) with data in $(DATA); ARGS go to serve
## (make run ARGS="--trusted-proxies 127.0.0.1")
run: build
	./bin/ramconsole serve --addr $(ADDR) --data $(DATA) $(ARGS)

## build: compile bin/ramconsole
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ramconsole .

## generate: regenerate the templ components
generate:
	$(GO) tool templ generate

## test: every test, race detector on, including the browser journeys (their screenshots go to
## $(SCREENSHOTS), ignored by git) and the peer-agreement check, on SQLite; and, side by side with it, the
## ram, store and web tests again on PostgreSQL: on the server RAMCONSOLE_TEST_DATABASE names, or a throwaway
## cluster started for them (initdb + pg_ctl; without them it fails: install Debian's postgresql). The two
## passes wait on browsers, servers and sleeps more than on the CPU, so they run at once; each one's output is
## printed when both are done.
SCREENSHOTS ?= $(CURDIR)/screenshots
test:
	mkdir -p $(SCREENSHOTS)
	@echo "== engines: SQLite (every package) and PostgreSQL (ram, store, web and the access CLI), side by side"
	@dir=$$(mktemp -d); trap 'rm -rf $$dir' EXIT; \
	( env -u RAMCONSOLE_TEST_DATABASE RAMCONSOLE_SCREENSHOTS=$(SCREENSHOTS) $(GO) test -race -count=1 -timeout 30m ./... \
		>$$dir/sqlite.log 2>&1; echo $$? >$$dir/sqlite.rc ) & \
	( $(GO) run ./store/pgtest/pgrun sh -c '$(GO) test -race -count=1 -timeout 30m ./ram/ ./store/ ./web/ && \
		$(GO) test -race -count=1 -timeout 10m -run "^TestAccess" .' >$$dir/pg.log 2>&1; echo $$? >$$dir/pg.rc ) & \
	wait; \
	echo "== engine: SQLite (every package)"; cat $$dir/sqlite.log; \
	echo "== engine: PostgreSQL (ram, store, web and the access CLI)"; cat $$dir/pg.log; \
	test "$$(cat $$dir/sqlite.rc)$$(cat $$dir/pg.rc)" = 00
	cd bench && $(GO) test -count=1 -run 'Agree' .

## check: formatting, vet, templ fmt, and generated files up to date
check:
	@out=$$(gofmt -l $$(git ls-files '*.go') $$(git ls-files --others --exclude-standard '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool templ fmt -fail views
	@before=$$(cat views/*_templ.go | sha256sum); \
		$(GO) tool templ generate >/dev/null 2>&1 || { echo "templ generate failed"; exit 1; }; \
		after=$$(cat views/*_templ.go | sha256sum); \
		if [ "$$before" != "$$after" ]; then echo "generated templ files were stale; they are regenerated now: review and commit them"; exit 1; fi
	@untracked=$$(git ls-files --others --exclude-standard -- '*_templ.go'); \
		if [ -n "$$untracked" ]; then echo "generated files not tracked by git: $$untracked"; exit 1; fi

## bench: the benchmarks (figures for the issues' closing notes); seeding the access review's 1,000,000
## events (once a day, kept under $TMPDIR) takes minutes, hence the timeout
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...
	cd bench && $(GO) test -run '^$$' -bench . -benchmem .

## fuzz: a short run ($(FUZZTIME) each) of every fuzzer in the module, found package by package with
## go test -list, so a new or moved fuzzer runs without editing this target. A run that fails with
## "context deadline exceeded" and writes no failing input is Go's fuzz coordinator racing its own
## -fuzztime deadline (golang/go#75804, go1.26): it is reported and counted, not taken as a finding.
FUZZTIME ?= 10s
fuzz:
	@n=0; raced=0; log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	for pkg in $$($(GO) list ./...); do \
		list=$$($(GO) test -list '^Fuzz' $$pkg) || { echo "$$list"; exit 1; }; \
		for fz in $$(echo "$$list" | grep '^Fuzz'); do \
			echo "== $$pkg $$fz ($(FUZZTIME))"; n=$$((n + 1)); \
			if $(GO) test -run '^$$' -fuzz "^$$fz\$$" -fuzztime $(FUZZTIME) $$pkg >$$log 2>&1; then tail -n 2 $$log; continue; fi; \
			cat $$log; \
			if grep -q 'Failing input written' $$log || ! grep -q '^    context deadline exceeded$$' $$log; then exit 1; fi; \
			echo "(no failing input: Go's fuzz coordinator raced its -fuzztime deadline, golang/go#75804; not a finding)"; \
			raced=$$((raced + 1)); \
		done; \
	done; \
	echo "== $$n fuzzers ran ($$raced ended in Go's deadline race)"; test $$n -gt 0

clean:
	rm -rf bin
