# The lock-down with no shared secret (issue 15): CloudFront's client certificate pinned by
# ORIGIN_CERT_SHA256 (events/origin-mtls). Included by the Makefile; the integration test also
# runs in `make test-integ`.
.PHONY: test-origin-mtls

test-origin-mtls: ## header-secret (pin only, no SSM) + jwt authorizers on every events/origin-mtls sample
	cargo build --bin header-secret-authorizer --bin jwt-authorizer
	cargo test --workspace --test origin_mtls
