# Origin mTLS certificates: tools/portcullis-certs (docs/origin-mtls.md). Included by the Makefile.
CERTS_DEMO := pki/demo
CERTS_BIN  := ./target/debug/portcullis-certs

.PHONY: test-certs certs-demo

test-certs: setup ## portcullis-certs: unit tests, its files read by Python cryptography and moto ACM, real mTLS handshakes (also in make test-integ)
	cargo test -p portcullis-certs

certs-demo: ## a throwaway CA, CloudFront client certificate and truststore in pki/demo (replaced each run)
	cargo build --bin portcullis-certs
	$(CERTS_BIN) ca --force --out-dir $(CERTS_DEMO)/ca
	$(CERTS_BIN) client --force --ca $(CERTS_DEMO)/ca --out-dir $(CERTS_DEMO)/cloudfront
	$(CERTS_BIN) truststore --force --out $(CERTS_DEMO)/truststore.pem $(CERTS_DEMO)/ca/ca-certificate.pem
