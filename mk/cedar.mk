# Cedar authorizer. Included by the Makefile. Its unit tests run in `make test-unit` and its
# binary's integration tests in `make test-integ`; the crate's own integration tests (the
# equivalence property test against cedar-policy's is_authorized, the Verified Permissions adapter
# against a local endpoint) run in `test-cedar-crate`, a step of `make test`.

.PHONY: test-cedar test-cedar-crate bench-cedar
TEST_STEPS += test-cedar-crate

test-cedar-crate: ## cedar authorizer: property test (whole-API policy vs Cedar, route by route) + Verified Permissions adapter tests
	cargo test -p cedar-authorizer --test '*'

test-cedar: setup test-cedar-crate ## cedar authorizer: unit, property, adapter and real-binary tests
	cargo test -p cedar-authorizer --lib
	cargo build -p cedar-authorizer
	cargo test -p portcullis-harness --test cedar_authorizer

bench-cedar: ## criterion: one caller's decision over 1/20/200 routes; a 100-policy refresh (parse + validate)
	cargo bench -p cedar-authorizer --bench decide
