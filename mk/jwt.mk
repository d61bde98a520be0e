# JWT authorizer. Included by the Makefile. Its unit tests run in `make test-unit` and its
# integration tests (real binary, loopback JWKS/OIDC server, PyJWT tokens) in `make test-integ`;
# these verbs run just this component.

.PHONY: test-jwt

test-jwt: $(STAMP) ## JWT authorizer: verifier unit tests + integration tests against a loopback JWKS/OIDC server
	cargo build --bin jwt-authorizer
	cargo test -p jwt-authorizer
	cargo test --workspace --test jwt_authorizer
