#!/usr/bin/env bash
# Cross-builds the img_stream staticlib for riscv64 in the Debian chroot of
# scripts/riscv-chroot.sh:
#
#   cross-build.sh [TRIPLE...]
#
# Default triples: riscv64gc-unknown-linux-gnu (what the unix port under qemu
# links), riscv64gc-unknown-linux-musl (CanMV's ABI) and
# riscv64gc-unknown-none-elf (no OS at all: proves the crate and its core
# need nothing beyond `core` and `alloc`). Output:
# target/riscv/<triple>/release/libimg_stream.a.
#
# No prebuilt riscv64 std exists here, so core and alloc are compiled from
# Debian's rust-src with -Zbuild-std (RUSTC_BOOTSTRAP: Debian's rustc is a
# stable release). panic = "abort" comes from the workspace's release profile.
# CROSS_RUSTFLAGS adds codegen flags, e.g. "-C target-feature=+v" for the
# K230 firmware build (its core has RVV 1.0; see make canmv).
set -euo pipefail

PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${RISCV_TARGET_DIR:-$PROJECT/target/riscv}
TRIPLES=("$@")
if [ ${#TRIPLES[@]} -eq 0 ]; then
    TRIPLES=(riscv64gc-unknown-linux-gnu riscv64gc-unknown-linux-musl riscv64gc-unknown-none-elf)
fi

cd "$PROJECT"
for triple in "${TRIPLES[@]}"; do
    echo "cross-build: img_stream for $triple" >&2
    bash scripts/riscv-chroot.sh run env \
        RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$TARGET_DIR" RUSTFLAGS="${CROSS_RUSTFLAGS:-}" \
        cargo build --quiet --locked --release -p img_stream \
        -Zbuild-std=core,alloc --target "$triple"
    test -f "$TARGET_DIR/$triple/release/libimg_stream.a"
done
