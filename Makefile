# The two commands a newcomer needs are `make synth` and `make test`; both install what they use
# (npm packages pinned in package-lock.json, Go modules pinned in go.sum) before running.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The pinned Node.js from node_modules comes first, so jsii and the CDK CLI run on a supported
# release instead of whatever the machine has.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true

GO ?= go
NPM_STAMP := node_modules/.installed
GO_STAMP := .build/go-modules

.PHONY: help deps debian-deps synth test vet unit bench lint lambdas diagram clean FORCE

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

$(NPM_STAMP): package.json package-lock.json
	npm ci --loglevel=error
	@touch $@

$(GO_STAMP): go.mod go.sum
	@mkdir -p $(@D)
	$(GO) mod download
	@touch $@

deps: $(NPM_STAMP) $(GO_STAMP) ## install the pinned npm tools and Go modules

# Debian packages the tests use (mariadb-server for the dbinit handler tests, keytool for the
# keystore handler's); synth needs none.
debian-deps:
	@./scripts/debian-deps.sh

# What the reference app's synthesis reads: every tracked file but the tests, docs and scripts,
# and the context file cdk writes. The CLI runs again when one of them is newer than the last
# successful synthesis, when cdk.out/ is gone, or always outside a git checkout.
SYNTH_STAMP := .build/synth-ok
SYNTH_INPUTS := $(shell git ls-files 2>/dev/null | grep -v -E '^(docs/|test/|\.ci/|scripts/)|_test\.go$$|\.md$$') $(wildcard cdk.context.json)
SYNTH_FORCE := $(if $(and $(wildcard cdk.out/manifest.json),$(SYNTH_INPUTS)),,FORCE)

synth: $(SYNTH_STAMP) ## synthesize the reference app into cdk.out/ with the pinned CDK CLI

$(SYNTH_STAMP): $(NPM_STAMP) $(GO_STAMP) $(SYNTH_INPUTS) $(SYNTH_FORCE)
	@rm -f $@
	cdk synth --quiet --no-notices
	@mkdir -p $(@D) && touch $@

FORCE:

vet: deps
	$(GO) vet ./...

# Go's test cache reruns only the packages whose inputs changed (their sources and the files and
# environment variables their tests read); FRESH=1 reruns every test, as a fresh clone and CI do.
unit: deps debian-deps
	$(GO) test $(if $(FRESH),-count=1) -timeout 30m ./...

# The compliance gates (cdk-nag, cfn-guard with the Control Tower rules, cfn-lint) run inside the
# Go tests of ./test over the synthesized reference app; the last step proves that the pinned CLI
# still synthesizes the app the way an operator runs it. The lint (gofmt, go vet, shellcheck)
# comes first: it is what CI enforces on every change.
test: lint unit synth ## lint, unit and snapshot tests, compliance gates, then a CLI synth of the reference app

# The Lambda functions ship prebuilt in internal/lambdazip (one zip per lambda/<name>/ with a
# main.go), built with the toolchain go.mod pins and fixed flags so the bytes are reproducible;
# TestShippedLambdasMatchTheirSources fails until this is rerun after a change to a function,
# go.mod or go.sum.
lambdas: deps ## rebuild the shipped Lambda zips (internal/lambdazip) from lambda/*/
	$(GO) run ./internal/lambdabuild/cmd/lambdabuild

bench: deps debian-deps ## measure synth times against the jsii floor, and make test warm and from a fresh clone
	@./scripts/bench.sh

diagram: synth debian-deps ## draw the synthesized reference app into docs/architecture.svg (Graphviz)
	$(GO) run ./test/diagram/cmd cdk.out > docs/architecture.dot
	dot -Tsvg docs/architecture.dot -o docs/architecture.svg
	dot -Tpng -Gdpi=80 docs/architecture.dot -o docs/architecture.png

lint: deps ## gofmt, go vet and shellcheck
	@./scripts/lint.sh

clean: ## remove build output (keeps node_modules)
	rm -rf cdk.out .build
