# REQUEST authorizer (tenant rules). Included by the Makefile.
.PHONY: hash-key test-request

hash-key: export KEY := $(KEY)
hash-key: ## print the rules-document entry for an API key: make hash-key KEY=... [LABEL=...] [FORMAT=toml]
	@test -n "$$KEY" || { echo "usage: make hash-key KEY=<api key> [LABEL=<name>] [FORMAT=toml]" >&2; exit 2; }
	@cargo build --quiet --bin portcullis-hash-key
	@printf '%s\n' "$$KEY" | ./target/debug/portcullis-hash-key $(if $(LABEL),--label '$(LABEL)') $(if $(filter toml,$(FORMAT)),--toml)

test-request: setup ## REQUEST authorizer only: rules unit + property tests, handler tests, moto integration tests
	cargo test -p request-authorizer
	cargo build --bin request-authorizer
	cargo test --workspace --test 'request_*'
