# The caller authorizers composed with the origin proof (events/composed). Included by the
# Makefile; the integration test also runs in `make test-integ`.
.PHONY: test-composed

test-composed: setup ## jwt + request authorizers with the origin proof on every events/composed sample, against moto
	cargo build --bin jwt-authorizer --bin request-authorizer
	cargo test --workspace --test composed
