# heapd: the two commands of the README's quick start are `make run` and `make test`.
# One build configuration serves the daemon, the CLI and the tests (release, with testing
# enabled so the core's tests may use @testable), so `make test` after `make run` rebuilds nothing.
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
BIN := .build/release
# A 10-million-object chain freed at once (core test; SPEC §7).
CHAIN := 10000000

.PHONY: deps test-deps build run test test-swift test-integration test-clients test-fuzz bench man clean

deps:
	@scripts/ensure-deps.sh build

test-deps:
	@scripts/ensure-deps.sh test

build: deps
	swift build $(SWIFT_FLAGS)

# Build, then start the daemon on its default socket ($XDG_RUNTIME_DIR/heapd/heapd.sock or
# /tmp/heapd-$UID/heapd.sock), in the foreground; ctrl-c stops it.
run: build
	$(BIN)/heapd

test: test-deps build
	$(MAKE) --no-print-directory test-swift test-clients test-fuzz test-integration

test-swift:
	HEAPD_CHAIN_LENGTH=$(CHAIN) swift test $(SWIFT_FLAGS) --disable-swift-testing

# The real daemon on temp sockets: protocol, sessions, heapctl, and the differential parity
# suite against this machine's CPython, and the fuzz corpus and regressions replayed both
# in-process (the fuzz target's checks) and over a real socket.
test-integration:
	HEAPD_BIN=$(BIN)/heapd HEAPCTL_BIN=$(BIN)/heapctl python3 -m pytest -q Tests/integration Tests/differential Tests/fuzz

# Each client inside its real runtime against the real daemon (Neovim headless, Emacs batch).
test-clients:
	HEAPD_BIN=$(BIN)/heapd python3 -m pytest -q Clients/python/tests
	HEAPD_BIN=$(BIN)/heapd bash Clients/nvim/test/run.sh
	HEAPD_BIN=$(BIN)/heapd bash Clients/emacs/test/run.sh

# libFuzzer over framing + decoding + dispatch for a bounded time (its own ASan build in
# .build-fuzz); prints executions and coverage, fails on any crash or broken invariant.
FUZZ_SECONDS := 60
test-fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

# Benchmarks (never part of `make test`): heapd against Redis over Unix sockets, then the
# collector against CPython 3.11. Each prints ratios measured in the same run.
bench: build
	@scripts/ensure-deps.sh bench
	python3 Benchmarks/compare_redis.py
	$(BIN)/heapd-gcbench

# Man pages for heapd and heapctl, generated from their argument parsers into docs/man
# (`man -l docs/man/heapctl.1`). Shell completions come from the binaries themselves:
#   heapctl --generate-completion-script bash > /etc/bash_completion.d/heapctl   (or zsh, fish)
man: deps
	swift package --allow-writing-to-package-directory generate-manual
	mkdir -p docs/man
	cp .build/plugins/GenerateManual/outputs/heapd/heapd.1 .build/plugins/GenerateManual/outputs/heapctl/heapctl.1 docs/man/

clean:
	rm -rf .build
