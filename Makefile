# precwatch: make run (demo on the fixture markets), make test, make bench.
SHELL        := bash
.SHELLFLAGS  := -eo pipefail -c
GO      ?= go
# Go 1.27.3 fixes the standard library's known vulnerabilities; the go
# command fetches it from the module proxy on first use.
export GOTOOLCHAIN := go1.27.3
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# -buildvcs=auto: the git revision in `precwatch --version`, whatever GOFLAGS says.
BUILDFLAGS := -buildvcs=auto
BIN     := bin/precwatch

.PHONY: all build run deps test lint vulncheck bench eval fuzz screenshots clean

all: build

build:
	$(GO) build $(BUILDFLAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/precwatch

# The demo: fixture marketplaces behind a local SOCKS5 proxy, crawled into
# the embedded store in var/, alerts printed, then the scheduler runs until
# Ctrl-C. The fake markets are linked only into this build (tag demo), never
# into bin/precwatch. It runs on copies of the sample config and watchlist
# in var/demo/ (refreshed when configs/ is newer), because the console
# saves watchlist changes to the watchlist file: trying it must not rewrite
# configs/watchlist.yaml, which the tests read.
DEMO_BIN := bin/precwatch-demo
run: var/demo/precwatch.yaml var/demo/watchlist.yaml
	$(GO) build $(BUILDFLAGS) -tags demo -ldflags "$(LDFLAGS)" -o $(DEMO_BIN) ./cmd/precwatch
	./$(DEMO_BIN) run --demo --run-on-start --config var/demo/precwatch.yaml --store var/precwatch.db --metrics-addr 127.0.0.1:9464

var/demo/%.yaml: configs/%.yaml
	@mkdir -p var/demo
	cp $< $@

# What the tests need from Debian (redis-server, chromium, tor), installed
# when missing.
deps:
	@bash .ci/deps

# The multi-process tests of cmd/precwatch run their workers from a
# precwatch built as `make build` builds it (PRECWATCH_TEST_BIN), not from
# the race-instrumented test binary. The matcher's tests are
# single-threaded but for TestMatchConcurrent, which runs under the race
# detector; the rest run without it, at full size (it slows them tenfold).
test: deps
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed on:"; gofmt -l .; exit 1)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(GO) build $(BUILDFLAGS) -o "$$tmp/precwatch" ./cmd/precwatch && \
	PRECWATCH_TEST_BIN="$$tmp/precwatch" $(GO) test -race -count=1 -timeout 15m $$($(GO) list ./... | grep -v '/matchers$$')
	$(GO) test -count=1 -timeout 15m ./matchers
	$(GO) test -race -count=1 -run '^TestMatchConcurrent$$' ./matchers
	$(GO) test -race -count=1 -tags demo -run '^TestDemo$$' ./cmd/precwatch
	$(GO) test -run '^$$' -fuzz '^FuzzMatch$$' -fuzztime 100000x ./matchers

# Detection quality on fixtures/eval (the evaluation set and the held-out
# one): precision, recall, F1 per category and every false positive and
# negative; fails under README.md's floors.
eval:
	$(GO) test -count=1 -v -run '^Test(EvalSet|HoldoutSet)$$' ./matchers

# Refresh the README's console screenshots (make test saves them to a
# temporary directory instead).
screenshots:
	PRECWATCH_SCREENSHOTS=docs $(GO) test -count=1 -run '^TestBrowser(Vendor)?$$' ./console

# Fuzz the matcher for two million inputs, a few minutes (make test fuzzes
# 100,000, a few seconds). Counts, not durations: go1.26's fuzz coordinator
# can fail a clean run with "context deadline exceeded" when a -fuzztime
# duration ends (golang/go#75804, fixed in go1.27).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzMatch$$' -fuzztime 2000000x ./matchers

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || (gofmt -l .; exit 1)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Known vulnerabilities reached by the code, checked offline: vuln.go.dev
# cannot be reached here, so the database is built from the golang.org/x/vulndb
# module (its OSV files) as the module proxy serves it, pinned below; bump
# VULNDB to check against newer reports. govulncheck exits non-zero when the
# code calls a vulnerable symbol (the standard library's included).
VULNDB      := v0.0.0-20261105234957-e22db6528018
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
vulncheck:
	@if [ "$$(cat var/vulndb/VERSION 2>/dev/null)" != "$(VULNDB)" ]; then \
		dir=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
		test -d "$$dir/data/osv" || { echo "vulndb $(VULNDB) has no data/osv"; exit 1; }; \
		rm -rf var/vulndb; \
		$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB) -vulns "$$dir/data/osv" -out var/vulndb; \
		echo $(VULNDB) > var/vulndb/VERSION; \
	fi
	$(GO) run $(GOVULNCHECK) -db file://$(CURDIR)/var/vulndb ./...

# Benchmarks, with a short report in bench/REPORT.md: matcher and
# extraction throughput, a 10,000-listing crawl through a SOCKS5 proxy
# shaped like Tor (1, 4 and 8 circuits; unchanged and 1 % changed
# re-crawls), store writes, and the console's queue page and API
# over 100,000 alerts in each backend (seeding takes a minute or two). A
# matcher iteration scans 50 MB, so it runs three, not one second's worth;
# BenchmarkMatchVsAnchor runs the matcher and an Aho-Corasick library in
# turns on the same corpora, and the report ends with their ratio.
bench:
	@mkdir -p bench
	$(GO) test -run '^$$' -bench . -benchtime 3x -benchmem -count 1 ./matchers | tee bench/raw.txt
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./crawler/extract | tee -a bench/raw.txt
	$(GO) test -run '^$$' -bench 'TorShapedCrawl' -benchtime 1x -count 1 -timeout 30m ./crawler | tee -a bench/raw.txt
	$(GO) test -run '^$$' -bench 'Record' -benchmem -count 1 ./storage/embedded ./storage/redis | tee -a bench/raw.txt
	$(GO) test -run '^$$' -bench 'Queue' -benchtime 20x -count 1 -timeout 30m ./console | tee -a bench/raw.txt
	$(GO) test -run '^$$' -bench 'RecordPage' -benchtime 400x -count 1 ./storage/embedded ./storage/redis | tee -a bench/raw.txt
	$(GO) test -run '^$$' -bench 'Pipeline' -benchtime 3x -count 1 -timeout 30m ./crawler | tee -a bench/raw.txt
	@sh bench/report.sh bench/raw.txt > bench/REPORT.md
	@cat bench/REPORT.md

clean:
	rm -rf bin var bench/raw.txt
