# unilogin — see README.md. Every target works on a fresh machine with Go.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
# nomsgpack: leave out gin's MessagePack codec, which unilogin never uses
# (6 MB of the stripped binary).
TAGS     ?= nomsgpack
# Every go command of this Makefile (run, test, bench, build) uses the same
# tags, so that the tested build is the shipped one; the Dockerfile's build
# line names the same tags.
export GOFLAGS := $(strip $(GOFLAGS) -tags=$(TAGS))
BIN      := bin/unilogin
# The binary is static (the SQLite driver is pure Go), and tests build with
# the same setting so that the packaging test's static build reuses the
# compiled packages. The race detector needs cgo: its targets turn it on.
export CGO_ENABLED := 0
# Packages whose tests also run under the race detector.
RACE_PKGS := ./session/... ./accounts/...

.PHONY: run test test-short race race-all build lint fmt bench bench-go fuzz clean

## run: start the server on :8080 with the embedded store in ./data
run:
	$(GO) run ./cmd/unilogin serve

## test: lint, every test, then the race detector on the store and session packages
test: lint
	$(GO) test -count=1 ./...
	CGO_ENABLED=1 $(GO) test -count=1 -race $(RACE_PKGS)

## race-all: every package under the race detector (slower; run before touching concurrency)
race-all:
	CGO_ENABLED=1 $(GO) test -count=1 -race ./...

## build: the unilogin binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -tags '$(TAGS)' -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/unilogin

## lint: gofmt, go vet and staticcheck (the pinned version, installed into $(GOBIN) on first use)
STATICCHECK_VERSION := v0.8.2
GOBIN    ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if ! "$(STATICCHECK)" -version 2>/dev/null | grep -q '$(STATICCHECK_VERSION:v%=%)'; then \
	  echo "installing staticcheck $(STATICCHECK_VERSION)"; \
	  GOBIN="$(GOBIN)" $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	fi
	"$(STATICCHECK)" ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: load test (unilogin bench) of a server process on the embedded store, with same-run baselines; BENCHFLAGS e.g. --duration 5s --compare OLD_BINARY --json
BENCHFLAGS ?=
bench:
	$(GO) run ./cmd/unilogin bench $(BENCHFLAGS)

## bench-go: the go test benchmarks, with ratios against baselines measured in the same run
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./accounts/ ./session/... ./api/

## fuzz: run every fuzz target for FUZZTIME each (default 30s)
FUZZTIME ?= 30s
fuzz:
	@for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
