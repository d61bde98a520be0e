# The lock-down with no shared secret (issue 15): CloudFront's client certificate pinned by
# ORIGIN_CERT_SHA256 (events/origin-mtls). Included by the Makefile; the integration test also
# runs in `make test-integ`.
.PHONY: test-origin-mtls

test-origin-mtls: ## header-secret (pin only, no SSM) + jwt authorizers on every events/origin-mtls sample
	cargo build -p header-secret-authorizer -p jwt-authorizer
	cargo test -p portcullis-harness --test origin_mtls
