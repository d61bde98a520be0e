# Fuzzing (cargo-fuzz, nightly). Included by the Makefile. Not part of `make test`: the
# committed regression inputs are replayed on stable by `cargo test --workspace
# --test fuzz_regressions` (part of `cargo test --workspace`).
FUZZ_SECONDS   ?= 60
FUZZ_TARGETS   ?= header_secret request_authorizer jwt method_arn origin_signer
# Every target is safe Rust; the only unsafe code (aws-lc's C) is not instrumented anyway, so
# the default build skips AddressSanitizer (2-3x faster to build and run). FUZZ_SANITIZER=address
# turns it on.
FUZZ_SANITIZER ?= none
CARGO_FUZZ_VERSION := 0.13.2
FUZZ_TOOLS     := $(CURDIR)/target/tools
CARGO_FUZZ     := $(FUZZ_TOOLS)/bin/cargo-fuzz
FUZZ_OUT       := target/fuzz

.PHONY: fuzz fuzz-build fuzz-replay

$(CARGO_FUZZ):
	cargo install --locked --root $(FUZZ_TOOLS) cargo-fuzz --version $(CARGO_FUZZ_VERSION)

fuzz-build: $(CARGO_FUZZ) ## build every fuzz target (nightly, cargo-fuzz)
	rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	PATH=$(FUZZ_TOOLS)/bin:$$PATH cargo +nightly fuzz build -s $(FUZZ_SANITIZER)

fuzz: fuzz-build ## run each fuzz target FUZZ_SECONDS (default 60); table in target/fuzz/summary.md
	@mkdir -p $(FUZZ_OUT)
	@status=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t fuzz/regressions/$$t; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  PATH=$(FUZZ_TOOLS)/bin:$$PATH cargo +nightly fuzz run -s $(FUZZ_SANITIZER) $$t \
	    fuzz/corpus/$$t fuzz/regressions/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -rss_limit_mb=4096 \
	    > $(FUZZ_OUT)/$$t.log 2>&1 || status=1; \
	  tail -n 3 $(FUZZ_OUT)/$$t.log; \
	done; \
	python3 fuzz/summary.py --seconds $(FUZZ_SECONDS) --out $(FUZZ_OUT)/summary.md $(FUZZ_TARGETS); \
	cat $(FUZZ_OUT)/summary.md; \
	exit $$status

fuzz-replay: ## replay the committed fuzz regression inputs on stable
	cargo test --workspace --test fuzz_regressions
