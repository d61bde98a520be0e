# Origin signer (Lambda@Edge, Rust → wasm32 behind a Node.js handler). Included by the Makefile.
# Its benchmark (`make bench-edge`, bench/edge) is in mk/bench.mk, which uses the EDGE_* below.
EDGE_CRATE  := functions/origin-signer
EDGE_DIR    := target/edge
EDGE_ZIP    := $(EDGE_DIR)/origin-signer.zip
EDGE_WASM   := $(or $(CARGO_TARGET_DIR),target)/wasm32-unknown-unknown/release/origin_signer.wasm
EDGE_EVENTS := events/origin-signer

SETUP_STEPS += setup-edge
TEST_STEPS  += edge-crosscheck

.PHONY: setup-edge edge-package edge-crosscheck test-edge

setup-edge: ## rustup target for the edge signer (wasm32-unknown-unknown)
	rustup target add wasm32-unknown-unknown

edge-package: setup-edge ## Lambda@Edge zip of the origin signer: target/edge/origin-signer.zip (index.mjs + .wasm)
	cargo build --release --target wasm32-unknown-unknown -p origin-signer
	rm -rf $(EDGE_DIR)/pkg && mkdir -p $(EDGE_DIR)/pkg
	cp $(EDGE_CRATE)/edge/index.mjs $(EDGE_WASM) $(EDGE_DIR)/pkg/
	rm -f $(EDGE_ZIP)
	cd $(EDGE_DIR)/pkg && python3 -m zipfile -c ../origin-signer.zip index.mjs origin_signer.wasm
	@python3 -m zipfile -l $(EDGE_ZIP)

edge-crosscheck: $(STAMP) edge-package ## origin signer: the packaged Node handler on every sample, its signatures re-verified by botocore
	$(PY) $(EDGE_CRATE)/tests/crosscheck.py --zip $(EDGE_ZIP) --events $(EDGE_EVENTS)

test-edge: edge-crosscheck ## origin signer: Rust tests (SigV4 suite, events; also in `make test-integ`) + the crosscheck
	cargo test -p origin-signer
