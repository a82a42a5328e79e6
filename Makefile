# img_stream: `make` builds everything, `make run` shows it, `make test` checks it.
#
#   make          build/micropython (unix port with img_stream) + target/host/img-stream
#   make run      the demo: three K230-style scripts stream into img-stream hub (open its URL)
#   make run-tcp  one K230-style script streams to `img-stream recv tcp`, frames to out/demo/
#   make run-http the synthetic camera as a web camera on http://127.0.0.1:8080/
#   make run-mqtt the same camera published to a local Mosquitto and received
#   make test     every test (installs what it needs); steps: make test-lint,
#                 test-c, test-canmv-model, test-rust, test-mp, test-host, test-riscv64, test-riscv64-host
#   make fresh-check  make run + make test in a new Debian 12 root (before
#                 resolving anything that touches installation)
#   make bench    benchmarks, recorded in docs/BENCHMARKS.md
#   make fuzz     libFuzzer on the decoders and the encoder (FUZZ_SECONDS each)
#   make header   regenerate c_glue/img_stream/img_stream_core.h and python/img_stream_proto.py's
#                 constants from the Rust side (a test fails when either is stale)

SHELL := /bin/bash
ROOT := $(abspath .)
BUILD := $(ROOT)/build
MP_CACHE := $(BUILD)/mp
MP_SRC := $(MP_CACHE)/micropython
MP_STAMP := $(MP_CACHE)/.unpacked-1.25.0-tls
MP_PORT_BUILD := $(BUILD)/unix-x86
MICROPYTHON := $(BUILD)/micropython
LIB := $(ROOT)/target/release/libimg_stream.a
HOST_BIN := $(ROOT)/target/host/img-stream
CARGO ?= cargo
JOBS ?= $(shell nproc)

RUST_SRC := $(shell find src core/src -name '*.rs') Cargo.toml Cargo.lock core/Cargo.toml build.rs
HOST_SRC := $(shell find host/src -name '*.rs') host/Cargo.toml
GLUE_SRC := $(wildcard c_glue/img_stream/*)

# TLS (the board's firmware has ssl) from Debian's libmbedtls-dev.
MP_FLAGS := MICROPY_PY_SSL=1 MICROPY_SSL_MBEDTLS=1 MICROPY_PY_BTREE=0 FROZEN_MANIFEST= \
	USER_C_MODULES=$(ROOT)/c_glue IMG_STREAM_LIB=$(LIB) BUILD=$(MP_PORT_BUILD)

.PHONY: all deps deps-build canmv canmv-check fuzz run run-tcp run-http run-mqtt test lint bench header clean fresh-check
.DELETE_ON_ERROR:

all: $(MICROPYTHON) $(HOST_BIN) umqtt

include mk/umqtt.mk
include mk/cross.mk

$(MP_STAMP):
	bash scripts/fetch-micropython.sh $(MP_CACHE)

$(LIB): $(RUST_SRC)
	$(CARGO) build --release --locked -p img_stream
	@touch $@

$(HOST_BIN): $(RUST_SRC) $(HOST_SRC)
	$(CARGO) build --profile host --locked -p img-stream
	@touch $@

$(MP_SRC)/mpy-cross/build/mpy-cross: $(MP_STAMP)
	$(MAKE) -C $(MP_SRC)/mpy-cross -j$(JOBS) >/dev/null

# The port's own make does not know our archive: relink when it changed.
# The port's make does not track flags either: a build made with other
# MP_FLAGS is started afresh (its .flags file says which it was made with).
$(MICROPYTHON): $(MP_STAMP) $(MP_SRC)/mpy-cross/build/mpy-cross $(LIB) $(GLUE_SRC)
	@[ "$$(cat $(MP_PORT_BUILD)/.flags 2>/dev/null)" = "$(MP_FLAGS)" ] || \
		{ rm -rf $(MP_PORT_BUILD) && mkdir -p $(MP_PORT_BUILD) && echo "$(MP_FLAGS)" >$(MP_PORT_BUILD)/.flags; }
	rm -f $(MP_PORT_BUILD)/micropython
	$(MAKE) -C $(MP_SRC)/ports/unix -j$(JOBS) $(MP_FLAGS) >$(BUILD)/unix-build.log 2>&1 \
		|| { tail -40 $(BUILD)/unix-build.log; exit 1; }
	cp $(MP_PORT_BUILD)/micropython $@

# What the build needs (make run), and what the tests need too (make test):
# Debian packages (only those missing) and pip packages, idempotently.
deps:
	bash scripts/install-deps.sh build test

deps-build:
	bash scripts/install-deps.sh build

header:
	IMG_STREAM_WRITE_HEADER=1 $(CARGO) test --locked -p img_stream header_check

# The demo: three synthetic K230 boards (TCP, UDP, MQTT through a private
# Mosquitto) into one img-stream hub; open the URL it prints.
run: deps all
	bash scripts/demo_hub.sh

# One board by TCP into `img-stream recv tcp`, frames written to out/demo/.
run-tcp: deps-build all
	bash scripts/demo.sh

# MQTT: a private Mosquitto, img-stream recv mqtt, and the K230 publish script.
run-mqtt: deps all
	bash scripts/demo_mqtt.sh

# The synthetic camera as a web camera: open http://127.0.0.1:8080/
run-http: deps-build all
	cd python/examples/k230 && MICROPYPATH=$(ROOT)/python $(MICROPYTHON) -X heapsize=64M mjpeg_server.py

# make test: the steps below, each a target you can run alone (make test-rust,
# ...). `test` runs them all even when one fails (make -k), then prints one
# line per step and "total: N passed, N failed". Each step's command goes
# through scripts/test-step.sh, which keeps its log and count in
# build/test-results/ and fails the target when the command or a count fails.
RESULTS := $(BUILD)/test-results
STEP := bash scripts/test-step.sh $(RESULTS)
CARGO_TEST := $(CARGO) test --locked --workspace --no-fail-fast
PYTEST := python3 -m pytest -q -p no:cacheprovider tests/host
# qemu runs interpreted code ~17x slower: time-bound tests stretch their
# deadlines by this factor, and a whole riscv64 suite is cut off after
# CROSS_SUITE_TIMEOUT seconds rather than hanging make test.
CROSS_ENV := IMG_STREAM_TIME_SCALE=$(or $(IMG_STREAM_TIME_SCALE),20)
CROSS_SUITE_TIMEOUT ?= 600
RV64 := $(BUILD)/micropython-rv64-qemu

TEST_STEPS := test-lint test-c test-canmv-model test-rust test-mp test-host
ifneq ($(IMG_STREAM_CROSS),0)
TEST_STEPS += test-riscv64 test-riscv64-host
endif
.PHONY: $(TEST_STEPS) test-riscv64 test-riscv64-host

test: deps
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS)
	-@$(MAKE) --no-print-directory -k -j1 $(TEST_STEPS)
	@bash scripts/tool-versions.sh $(MICROPYTHON)
	@bash scripts/test-summary.sh $(RESULTS) $(TEST_STEPS)

# rustfmt and clippy, warnings are errors.
test-lint: deps
	$(STEP) $@ one sh -c '$(CARGO) fmt --all --check && \
		$(CARGO) clippy --locked --workspace --all-targets -q -- -D warnings'

# The shim compiles with -Wall -Wextra -Werror (plus the CanMV adapter).
test-c: deps $(MICROPYTHON)
	$(STEP) $@ one bash tests/c_glue/compile_check.sh $(MP_SRC) $(MP_PORT_BUILD)

# The CanMV adapter (IMG_STREAM_CANMV=1) in a second unix port, against the
# model of the firmware's image module (tests/c_glue/canmv_stub, docs/CANMV.md).
test-canmv-model: deps $(MP_STAMP) $(MP_SRC)/mpy-cross/build/mpy-cross $(LIB)
	$(STEP) $@ runner bash tests/c_glue/model_test.sh $(MP_SRC) $(LIB)

test-rust: deps
	$(STEP) $@ cargo $(CARGO_TEST)

test-mp: deps $(MICROPYTHON)
	$(STEP) $@ runner bash tests/micropython/run.sh $(MICROPYTHON)

test-host: deps all
	$(STEP) $@ pytest env MICROPYTHON=$(MICROPYTHON) IMG_STREAM_BIN=$(HOST_BIN) $(PYTEST)

# riscv64 (the K230's ISA) under qemu: link checks, the MicroPython suite,
# same bytes as x86 (tests/cross/run.sh) ...
test-riscv64: deps cross-micropython $(MICROPYTHON) $(HOST_BIN)
	$(STEP) $@ cross env $(CROSS_ENV) CROSS_SUITE_TIMEOUT=$(CROSS_SUITE_TIMEOUT) \
		bash tests/cross/run.sh $(MICROPYTHON)

# ... and tests/host with the riscv64 interpreter as the board, streaming to
# the x86 receiver.
test-riscv64-host: deps cross-micropython all
	$(STEP) $@ pytest env MICROPYTHON=$(RV64) IMG_STREAM_BIN=$(HOST_BIN) $(CROSS_ENV) \
		timeout --kill-after=10 $(CROSS_SUITE_TIMEOUT) $(PYTEST)

lint: test-lint

bench: all
	bash scripts/install-deps.sh bench
	bash bench/run.sh
	bash scripts/bench_tcp.sh --write
	python3 scripts/bench_mjpeg.py --seconds 3 --rounds 5 --write
	bash scripts/bench_mqtt.sh --write
	bash scripts/bench_riscv.sh --write
	RISCV_BENCH_SIZE=640x480 bash scripts/bench_riscv.sh --write
	bash scripts/bench_hub.sh --write
	bash bench/udp.sh 1000 5 | tee $(BUILD)/bench_udp.txt
	python3 scripts/put_section.py docs/BENCHMARKS.md udp "$$(printf '<!-- udp:begin -->\n## UDP vs TCP on loopback\n\nCommand: `make bench` (this part: `bash bench/udp.sh 1000 5`), %s, %s cores.\n\n```\n%s\n```\n<!-- udp:end -->' "$$(date -u +%F)" "$$(nproc)" "$$(cat $(BUILD)/bench_udp.txt)")"

# Install img_stream into a CanMV K230 firmware tree (docs/CANMV.md).
# The K230's C908 core has RVV 1.0 (the firmware's C is built -march=rv64imafdcv),
# so its archive lets LLVM auto-vectorise: docs/BENCHMARKS.md (riscv64) shows
# 1.0-1.7x fewer instructions than libjpeg-turbo's portable C that way.
CANMV_LIB := $(ROOT)/target/riscv-v/riscv64gc-unknown-linux-musl/release/libimg_stream.a
canmv: cross-toolchain umqtt
	@test -n "$(CANMV_SDK)" || { echo "usage: make canmv CANMV_SDK=/path/to/k230_rtos_sdk (the SDK root)" >&2; exit 2; }
	RISCV_TARGET_DIR=$(ROOT)/target/riscv-v CROSS_RUSTFLAGS="-C target-feature=+v" \
		bash scripts/cross-build.sh riscv64gc-unknown-linux-musl
	bash scripts/canmv-install.sh $(CANMV_SDK) $(CANMV_LIB)

# The clean-room check: HEAD cloned into a new Debian 12 root with nothing
# installed by hand, `make run` and `make test` inside (~20-30 min, as root;
# not part of make test). Run it before resolving anything that touches
# installation (scripts/install-deps.sh, scripts/riscv-chroot.sh, mk/, this file).
fresh-check:
	bash scripts/fresh-check.sh

# The shim against Canaan's real port and MicroPython fork (fetched trees, so
# not part of make test; output recorded in docs/CANMV.md):
#   make canmv-check CANMV_PORT=.../canmv_k230/port CANMV_MP=.../micropython
canmv-check: cross-toolchain
	@test -n "$(CANMV_PORT)" -a -n "$(CANMV_MP)" || { echo "usage: make canmv-check CANMV_PORT=<canmv_k230>/port CANMV_MP=<canmv-k230/micropython>" >&2; exit 2; }
	bash scripts/cross-build.sh riscv64gc-unknown-linux-musl
	bash scripts/canmv-check.sh $(CANMV_PORT) $(CANMV_MP)

# Coverage-guided fuzzing (libFuzzer) of the stream decoder, chunk reassembler,
# JPEG info parser and encoder, FUZZ_SECONDS each; not part of make test.
FUZZ_SECONDS ?= 60
fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(MP_PORT_BUILD) $(MICROPYTHON)
	$(CARGO) clean

# Short names for the two build products.
.PHONY: micropython host
micropython: $(MICROPYTHON)
host: $(HOST_BIN)
