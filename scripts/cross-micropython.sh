#!/usr/bin/env bash
# Cross-builds the MicroPython unix port for riscv64, statically linked, with
# the img_stream module and the riscv64 staticlib (scripts/cross-build.sh
# makes it), in the chroot of scripts/riscv-chroot.sh:
#
#   cross-micropython.sh [OUT]      default OUT: build/micropython-rv64
#
# The source tree is the one scripts/fetch-micropython.sh unpacks for the x86
# build; all objects go to build/unix-rv64, so the two builds never share a
# file. Also writes OUT-qemu, which runs OUT under qemu-riscv64 with RVV.
set -euo pipefail

PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$PROJECT/build/micropython-rv64}
MP_SRC=$PROJECT/build/mp/micropython
PORT_BUILD=$PROJECT/build/unix-rv64
LIB=${IMG_STREAM_LIB:-$PROJECT/target/riscv/riscv64gc-unknown-linux-gnu/release/libimg_stream.a}

cd "$PROJECT"
bash scripts/fetch-micropython.sh build/mp
[ -f "$LIB" ] || { echo "cross-micropython: $LIB missing: run scripts/cross-build.sh" >&2; exit 1; }

# The port's make does not track our archive: always relink (a second or two).
rm -f "$PORT_BUILD/micropython"
mkdir -p "$PORT_BUILD"
# FFI off: the chroot has no riscv64 libffi. SSL/BTREE off and no frozen
# manifest: Debian's source has no lib/ submodules. Static, so qemu-riscv64
# needs no riscv64 sysroot at run time.
if ! bash scripts/riscv-chroot.sh run make -C "$MP_SRC/ports/unix" -j"$(nproc)" \
    BUILD="$PORT_BUILD" CROSS_COMPILE=riscv64-linux-gnu- VARIANT=standard \
    MICROPY_PY_FFI=0 MICROPY_PY_SSL=0 MICROPY_PY_BTREE=0 FROZEN_MANIFEST= \
    USER_C_MODULES="$PROJECT/c_glue" IMG_STREAM_LIB="$LIB" LDFLAGS_EXTRA="-static -Wl,-Map=$PORT_BUILD/micropython.map" \
    >"$PORT_BUILD.log" 2>&1; then
    tail -40 "$PORT_BUILD.log" >&2
    exit 1
fi
cp "$PORT_BUILD/micropython" "$OUT"
# A host-side launcher for test harnesses that take an interpreter path:
# Debian's qemu-riscv64 is static-pie, so it runs outside the chroot too.
# RVV on (the K230 has RVV 1.0, 128-bit), so vectorised code paths run.
qemu="$(bash scripts/riscv-chroot.sh path)/usr/bin/qemu-riscv64"
cat >"$OUT-qemu" <<LAUNCHER
#!/bin/sh
exec "$qemu" -cpu rv64,v=true,vlen=128 "$OUT" "\$@"
LAUNCHER
chmod +x "$OUT-qemu"
echo "cross-micropython: $OUT (run with $OUT-qemu)" >&2
