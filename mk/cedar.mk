# Cedar authorizer. Included by the Makefile. Its unit tests run in `make test-unit` and its
# binary's integration tests and the crate's own (the equivalence property test against
# cedar-policy's is_authorized, the Verified Permissions adapter against a local endpoint) in
# `make test-integ`; these verbs run just this component (its benchmark, `bench-cedar`, is in mk/bench.mk).

.PHONY: test-cedar test-cedar-crate

test-cedar-crate: ## cedar authorizer: property test (whole-API policy vs Cedar, route by route) + Verified Permissions adapter tests
	cargo test -p cedar-authorizer --test '*'

test-cedar: setup test-cedar-crate ## cedar authorizer: unit, property, adapter and real-binary tests
	cargo test -p cedar-authorizer --lib
	cargo build --bin cedar-authorizer
	cargo test --workspace --test cedar_authorizer
