# ramconsole — build, run, test.
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
ADDR    ?= 127.0.0.1:8080
DATA    ?= ./data

.PHONY: run build test check generate bench fuzz clean

## run: build and serve the console on $(ADDR) with data in $(DATA)
run: build
	./bin/ramconsole serve --addr $(ADDR) --data $(DATA)

## build: compile bin/ramconsole
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ramconsole .

## generate: regenerate the templ components
generate:
	$(GO) tool templ generate

## test: every test, race detector on, including the browser journeys (their screenshots go to
## $(SCREENSHOTS), ignored by git) and the peer-agreement check, on SQLite; then the store and web tests
## again on PostgreSQL: on the server RAMCONSOLE_TEST_DATABASE names, or a throwaway cluster started for
## them (initdb + pg_ctl; without them it fails: install Debian's postgresql)
SCREENSHOTS ?= $(CURDIR)/screenshots
test:
	mkdir -p $(SCREENSHOTS)
	@echo "== engine: SQLite (every package)"
	env -u RAMCONSOLE_TEST_DATABASE RAMCONSOLE_SCREENSHOTS=$(SCREENSHOTS) $(GO) test -race -count=1 ./...
	cd bench && $(GO) test -count=1 -run 'Agree' .
	@echo "== engine: PostgreSQL (store and web)"
	$(GO) run ./store/pgtest/pgrun $(GO) test -race -count=1 ./store/ ./web/

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

## bench: the benchmarks (figures for the issues' closing notes)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	cd bench && $(GO) test -run '^$$' -bench . -benchmem .

## fuzz: a short run of each parser fuzzer
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 60s ./policy/
	$(GO) test -run '^$$' -fuzz '^FuzzEvaluateAgreesWithExplain$$' -fuzztime 30s ./policy/
	$(GO) test -run '^$$' -fuzz '^FuzzPattern$$' -fuzztime 30s ./policy/
	$(GO) test -run '^$$' -fuzz '^FuzzParseAuthorization$$' -fuzztime 30s ./handlers/
	$(GO) test -run '^$$' -fuzz '^FuzzStringToSignV1$$' -fuzztime 30s ./handlers/
	$(GO) test -run '^$$' -fuzz '^FuzzStringToSignV1Definition$$' -fuzztime 30s ./handlers/
	$(GO) test -run '^$$' -fuzz '^FuzzStringToSignV3$$' -fuzztime 30s ./handlers/
	$(GO) test -run '^$$' -fuzz '^FuzzParseValues$$' -fuzztime 30s ./handlers/
	$(GO) test -run '^$$' -fuzz '^FuzzHasAction$$' -fuzztime 30s ./handlers/
	$(GO) test -run '^$$' -fuzz '^FuzzParseTimestamp$$' -fuzztime 100000x ./handlers/
	$(GO) test -run '^$$' -fuzz '^FuzzReadRecords$$' -fuzztime 30s ./store/
	$(GO) test -run '^$$' -fuzz '^FuzzEncodeEvent$$' -fuzztime 30s ./store/
	$(GO) test -run '^$$' -fuzz '^FuzzParseStoredTime$$' -fuzztime 30s ./store/
	$(GO) test -run '^$$' -fuzz '^FuzzServiceDef$$' -fuzztime 30s ./ram/
	$(GO) test -run '^$$' -fuzz '^FuzzExpandResource$$' -fuzztime 100000x ./ram/

clean:
	rm -rf bin
