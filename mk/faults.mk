# Hardening (issue 8): fault injection between the authorizers and SSM/JWKS, header smuggling
# end to end, and load. Included by the Makefile. The fault, adversarial and CI-sized load
# tests are integration tests of the harness, so `make test-integ` (and `make test`) runs
# them; these verbs run just them, and the full-size load run.
LOAD_INVOCATIONS ?= 10000
LOAD_PROCESSES   ?= 4
# Cargo profile of the functions under load: release is what you deploy; debug skips the
# (slow, LTO) release build.
LOAD_PROFILE     ?= release
LOAD_OUT         := target/hardening
LOAD_EDGE_DIR    := target/edge/load

.PHONY: test-faults load load-edge

test-faults: setup ## fault injection (SSM via a faulty proxy, JWKS), header smuggling, CI-sized load
	cargo build $(addprefix --bin ,$(AUTHORIZERS))
	cargo test --workspace --test faults --test adversarial --test load -- --nocapture
	cargo test --workspace --test jwt_authorizer every_jwks_fault -- --nocapture

load: setup edge-package ## LOAD_INVOCATIONS (10000) back to back per function + LOAD_PROCESSES (4) at once on one moto; 0 errors, flat RSS → target/hardening/
	cargo build $(if $(filter release,$(LOAD_PROFILE)),--release) $(addprefix --bin ,$(AUTHORIZERS))
	mkdir -p $(LOAD_OUT)
	PORTCULLIS_BIN_DIR=$(CURDIR)/target/$(LOAD_PROFILE) PORTCULLIS_LOAD_INVOCATIONS=$(LOAD_INVOCATIONS) \
	PORTCULLIS_LOAD_PROCESSES=$(LOAD_PROCESSES) \
		cargo test --workspace --test load -- --nocapture --test-threads=1
	$(MAKE) --no-print-directory load-edge
	@cat $(LOAD_OUT)/load-sequential.md $(LOAD_OUT)/load-concurrent.md $(LOAD_OUT)/load-edge.md

load-edge: edge-package ## the origin signer's packaged Node handler, LOAD_INVOCATIONS requests back to back
	rm -rf $(LOAD_EDGE_DIR) && python3 -m zipfile -e $(EDGE_ZIP) $(LOAD_EDGE_DIR)
	mkdir -p $(LOAD_OUT)
	set -o pipefail; node --expose-gc tests/load/edge-load.mjs $(LOAD_EDGE_DIR) $(EDGE_EVENTS) $(LOAD_INVOCATIONS) | tee $(LOAD_OUT)/load-edge.md
