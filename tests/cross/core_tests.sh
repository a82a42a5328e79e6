#!/usr/bin/env bash
# img-stream-core's unit tests built for riscv64 and run under qemu (RVV on,
# VLEN 128), once per build the firmware or a board may use:
#
#   core_tests.sh [scalar] [v]      (default: both)
#
# scalar = rv64gc, v = with -Ctarget-feature=+v (the RVV kernels of
# core/src/jpeg/fast/rvv.rs). Every build runs the same tests, among them
# output_digest_is_the_same_on_every_build, which pins the Fast encoder's
# bytes to what x86 writes. Built in the chroot of scripts/riscv-chroot.sh
# with -Zbuild-std; the test profile unwinds (the workspace's release
# profile aborts, and abort-mode test harnesses re-run themselves as child
# processes, which would start natively instead of under qemu).
set -euo pipefail

PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$PROJECT"
TRIPLE=riscv64gc-unknown-linux-gnu
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(scalar v)
status=0
for variant in "${variants[@]}"; do
    case "$variant" in
    scalar) flags="" ;;
    v) flags="-Ctarget-feature=+v" ;;
    *)
        echo "usage: core_tests.sh [scalar] [v]" >&2
        exit 2
        ;;
    esac
    target_dir=$PROJECT/target/riscv-test-$variant
    log=$target_dir/build.log
    mkdir -p "$target_dir"
    if ! bash scripts/riscv-chroot.sh run env RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$target_dir" RUSTFLAGS="$flags" \
        CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_LINKER=riscv64-linux-gnu-gcc \
        cargo test --config 'profile.release.panic="unwind"' --locked --release -p img-stream-core \
        -Zbuild-std=std,panic_unwind --target "$TRIPLE" --lib --no-run >"$log" 2>&1; then
        cat "$log" >&2
        echo "FAIL core_tests ($variant): build failed"
        status=1
        continue
    fi
    exe=$(grep -o "target/riscv-test-$variant/$TRIPLE/release/deps/img_stream_core-[0-9a-f]*" "$log" | tail -1)
    if out=$(bash scripts/riscv-chroot.sh run qemu-riscv64 -L /usr/riscv64-linux-gnu -cpu rv64,v=true,vlen=128 \
        "$exe" --test-threads=2 2>&1) && grep -q '^test result: ok' <<<"$out"; then
        echo "ok   core_tests ($variant): $(grep '^test result' <<<"$out")"
    else
        echo "$out" | tail -30
        echo "FAIL core_tests ($variant)"
        status=1
    fi
done
exit "$status"
