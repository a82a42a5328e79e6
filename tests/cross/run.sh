#!/usr/bin/env bash
# Every riscv64 check, after scripts/cross-build.sh and
# scripts/cross-micropython.sh (make test-riscv64 runs all three):
#
#   run.sh X86_MICROPYTHON
#
# 1. the staticlibs' undefined symbols are all in the allow-list (nm -u);
# 2. the shim compiles with CanMV's exact flags;
# 3. MicroPython's math still comes from libm in the riscv64 link;
# 4. the riscv64 interpreter runs under qemu (RVV on) and imports img_stream;
# 5. the tests/micropython/ suite passes on it;
# 6. it writes the same JPEG bytes as the x86 build;
# 7. img-stream-core's unit tests with RVV (+v, the firmware's build);
# (tests/host/ with it as the board is the Makefile's test-riscv64-host.)
set -uo pipefail

PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
x86=${1:?usage: run.sh X86_MICROPYTHON}
rv64=$PROJECT/build/micropython-rv64-qemu
cd "$PROJECT"

echo "== riscv64 chroot: $(bash scripts/riscv-chroot.sh versions)"

failed=()
step() {
    local name=$1
    shift
    echo "== cross: $name"
    "$@" || failed+=("$name")
}

step undefined-symbols bash scripts/riscv-chroot.sh run python3 tests/cross/check_undefined.py \
    target/riscv/riscv64gc-unknown-linux-gnu/release/libimg_stream.a \
    target/riscv/riscv64gc-unknown-linux-musl/release/libimg_stream.a \
    target/riscv/riscv64gc-unknown-none-elf/release/libimg_stream.a
# The firmware's archive (make canmv): musl with RVV auto-vectorisation, as
# the K230's core has; it must need no more from libc than the scalar ones.
step firmware-lib bash -c 'RISCV_TARGET_DIR=target/riscv-v CROSS_RUSTFLAGS="-C target-feature=+v" \
    bash scripts/cross-build.sh riscv64gc-unknown-linux-musl && \
    bash scripts/riscv-chroot.sh run python3 tests/cross/check_undefined.py \
    target/riscv-v/riscv64gc-unknown-linux-musl/release/libimg_stream.a'
step canmv-flags bash tests/cross/canmv_flags.sh
step libm python3 tests/cross/check_libm.py build/unix-rv64/micropython.map
step smoke "$rv64" -c '
import sys, math, img_stream
assert 1 + 1 == 2 and math.floor(2.5) == 2 and abs(math.sqrt(2.0) - 1.4142135623730951) < 1e-15
j = img_stream.encode(img_stream.Frame(bytearray(16 * 16), 16, 16, img_stream.GRAYSCALE))
assert j[:2] == b"\xff\xd8" and j[-2:] == b"\xff\xd9", j
print("ok   smoke: MicroPython", sys.version, "with img_stream under qemu-riscv64")
'
# A bounded run: a test that waits forever on a socket must fail the step,
# not hang `make test` (the suite takes well under a minute under qemu).
# IMG_STREAM_TIME_SCALE tells time-bound tests that interpreted code runs
# ~17x slower under qemu (os.getenv in MicroPython), so deadlines can stretch.
step micropython-suite env IMG_STREAM_TIME_SCALE="${IMG_STREAM_TIME_SCALE:-20}" \
    timeout --kill-after=10 "${CROSS_SUITE_TIMEOUT:-600}" \
    bash tests/micropython/run.sh "$rv64"
step same-bytes bash tests/cross/same_bytes.sh "$x86" "$rv64"
# The firmware's archive is built with +v (make canmv), and only that build
# runs the encoder's hand-written RVV kernels: img-stream-core's unit tests
# built that way under qemu, among them the digest test that pins every
# build's JPEG bytes to x86's.
step core-tests-rvv bash tests/cross/core_tests.sh v
if [ ${#failed[@]} -gt 0 ]; then
    echo "cross: FAILED: ${failed[*]}"
    exit 1
fi
echo "cross: all riscv64 checks passed"
