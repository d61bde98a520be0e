# portcullis — every verb a newcomer guesses. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        ?= .venv
PY          := $(VENV)/bin/python
PIP         := $(VENV)/bin/pip
STAMP       := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export MOTO_SERVER := $(CURDIR)/$(VENV)/bin/moto_server
AUTHORIZERS := header-secret-authorizer jwt-authorizer request-authorizer cedar-authorizer
FUNCTIONS   := $(AUTHORIZERS) secret-rotator

# Fragments per component (origin signer, infra, …) add their own verbs and test steps.
TEST_STEPS  :=
SETUP_STEPS :=
include $(sort $(wildcard mk/*.mk))

.PHONY: help setup demo local-aws events test lint fmt test-unit test-integ build package bench clean

help: ## list the verbs
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# Two stamps: the demo's tools (moto, boto3) alone, then the rest of requirements-dev.txt.
DEMO_STAMP  := $(VENV)/.demo-installed
$(DEMO_STAMP): requirements-demo.txt
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet --no-compile -r requirements-demo.txt
	touch $@

$(STAMP): $(DEMO_STAMP) requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP) $(SETUP_STEPS) ## install the project's tools: venv (moto, cargo-lambda, zig, PyJWT), rustup targets
	rustup component add rustfmt clippy >/dev/null 2>&1 || true

# The demo installs only what it runs (requirements-demo.txt: moto, boto3; the wasm32 target for
# the signer) and builds in the dev profile: no LTO, no optimisation, the fastest build of a fresh
# clone, and `make test` then reuses its artifacts. The functions' build (the longest) runs beside
# the venv and the signer's wasm build, which are niced so they take only the cores it leaves idle;
# pip skips byte-compiling (Python compiles what the demo imports when it first runs).
# Cargo unifies a dependency's features over the packages a command selects, so `-p` would give
# each command its own copy of every dependency (gigabytes each): the commands here select the
# whole workspace (`--workspace`, or `--bin` without `-p`, as `cargo lambda watch` does) and share one.
# The release profile stays what is deployed (`make build`, `make package`).
demo: ## every function on every sample event, locally (moto, Node.js): event → decision
	$(MAKE) --no-print-directory -j demo-build demo-tools
	./target/debug/portcullis-demo --functions-dir target/debug --events-dir events --edge-zip $(EDGE_ZIP) --python $(PY)

.PHONY: demo-build demo-tools
demo-build:
	cargo build $(addprefix --bin ,$(AUTHORIZERS)) --bin portcullis-demo
demo-tools:
	nice -n 15 $(MAKE) --no-print-directory $(DEMO_STAMP) edge-package

LOCAL_AWS_PORT ?= 5000
local-aws: $(STAMP) ## moto on 127.0.0.1:5000 with the demo values + the test JWKS, for the docs' recipes; prints the exports
	cargo run --quiet --bin portcullis-demo -- \
		--local-aws --events-dir events --port $(LOCAL_AWS_PORT)

events: $(STAMP) ## regenerate every sample event and expected.json (each events/<folder>/generate.py)
	$(PY) events/generate.py

fmt: ## cargo fmt (rewrite)
	cargo fmt --all

lint: ## cargo fmt --check and clippy -D warnings
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test-unit: ## unit tests of every crate
	cargo test --workspace --lib --bins

test-integ: setup ## integration tests of every crate: real binaries against moto, JWKS and TLS servers
	cargo build --workspace --bins --tests
	cargo test --workspace --no-fail-fast --test '*'

test: setup lint test-unit test-integ $(TEST_STEPS) ## everything CI runs

build: ## release binaries for this machine
	cargo build --release $(addprefix -p ,$(FUNCTIONS))

package: setup ## Lambda zips for provided.al2023 arm64 (target/lambda/<name>/bootstrap.zip)
	rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64 --output-format zip $(addprefix -p ,$(FUNCTIONS))

clean: ## cargo clean and remove the venv
	cargo clean
	rm -rf $(VENV)
