# Every benchmark verb: portcullis' authorizers side by side with the Python and Node.js peers
# teams copy today (bench/peers), driven by bench/driver on the Runtime API emulator of
# portcullis-tests; the edge signer in Node (bench/edge);
# criterion micro-benchmarks (the crates' benches/). Included by the Makefile. The EDGE_*
# variables come from mk/origin-signer.mk, included after this file: recipes expand them when
# they run. Not part of `make test`. `make bench` writes target/bench/table.md, results.json
# and chart.png.
BENCH_OUT     := target/bench
BENCH_INVOKES ?= 2000
# BENCH_ONLY=jwt-authorizer,node-aws-jwt-verify measures a subset (keys as in results.json).
BENCH_ONLY    ?=
BENCH_STAMP   := $(VENV)/.bench-installed
BENCH_NODE    := bench/peers/node/node_modules/.package-lock.json
# The functions built as `make package` builds them (the five selected together, nothing else),
# so their features, sizes and start-up are the deployed ones.
BENCH_FUNCTIONS := $(addprefix -p ,$(FUNCTIONS))
# The packaged edge signer, unpacked, under its Node benchmark (`bench` and `bench-edge`).
EDGE_BENCH_RUN = rm -rf $(EDGE_DIR)/bench && python3 -m zipfile -e $(EDGE_ZIP) $(EDGE_DIR)/bench && \
	node bench/edge/bench.mjs $(EDGE_DIR)/bench $(EDGE_EVENTS)
# jwt- and cedar-authorizer's cold init over TLS on the release binaries (`bench` and `bench-cold-tls`).
COLD_TLS_RUN = $(PY) bench/cold_tls.py target/release/jwt-authorizer && \
	$(PY) bench/cold_tls.py target/release/cedar-authorizer --cedar-policies 100

.PHONY: bench-deps bench-micro bench-cold-tls bench-edge bench-cedar

$(BENCH_STAMP): $(STAMP) bench/requirements.txt
	$(PIP) install --quiet -r bench/requirements.txt
	touch $@

$(BENCH_NODE): bench/peers/node/package.json bench/peers/node/package-lock.json
	cd bench/peers/node && npm ci --no-audit --no-fund --loglevel=error

bench-deps: $(STAMP) $(BENCH_STAMP) $(BENCH_NODE) ## bench-only tools: awslambdaric, Powertools, matplotlib (venv); aws-jwt-verify (npm)

bench: bench-deps edge-package ## cold init (dependencies over TLS, and over plain HTTP), warm p50/p99, peak RSS, package size, SSM/JWKS calls vs Python/Node peers → target/bench/
	cargo build --release $(BENCH_FUNCTIONS)
	cargo build --release -p portcullis-bench --bin portcullis-bench
	mkdir -p $(BENCH_OUT)
	export BENCH_ITERATIONS=$(BENCH_INVOKES); $(EDGE_BENCH_RUN) | tee $(BENCH_OUT)/edge.txt
	$(PY) bench/package.py $(BENCH_OUT) target/release bench/peers
	./target/release/portcullis-bench --functions-dir target/release --out $(BENCH_OUT) \
		--invokes $(BENCH_INVOKES) $(if $(BENCH_ONLY),--only $(BENCH_ONLY)) --python $(PY) --edge-report $(BENCH_OUT)/edge.txt > /dev/null
	$(PY) bench/chart.py $(BENCH_OUT)
	($(COLD_TLS_RUN)) > $(BENCH_OUT)/cold-tls.md
	@cat $(BENCH_OUT)/table.md $(BENCH_OUT)/cold-tls.md

bench-cold-tls: $(STAMP) ## jwt- and cedar-authorizer (100 policies) cold init and peak RSS, JWKS over HTTPS (full trust store / test CA only) and HTTP
	cargo build --release $(BENCH_FUNCTIONS)
	$(COLD_TLS_RUN)

bench-edge: edge-package ## origin signer: per-request signing time in Node and WASM instantiate time
	$(EDGE_BENCH_RUN)

bench-micro: ## criterion micro-benchmarks of the hot paths (policy, header compare, JWT verify next to aws-lc's floor, SigV4)
	cargo bench -p portcullis -p header-secret-authorizer -p jwt-authorizer -p origin-signer --bench '*'

bench-cedar: ## criterion: cedar-authorizer's decision over 1/20/200 routes; a 100-policy refresh (parse + validate)
	cargo bench -p cedar-authorizer --bench decide
