#!/bin/sh
# Builds bench/riscv/board/turbo_measure for the CanMV K230, against
# upstream libjpeg-turbo with its RVV SIMD (docs/CANMV.md, "Measuring on the
# board"):
#
#   CROSS_COMPILE=... LINK_LDS=... build.sh LIBJPEG_TURBO_SRC OUT_DIR
#
# CROSS_COMPILE and LINK_LDS are what CanMV's port/Makefile builds its own
# user program (the micropython ELF) with: CROSS_COMPILE =
# $(SDK_TOOLCHAIN_DIR)/riscv64-linux-musleabi_for_x86_64-pc-linux-gnu/bin/riscv64-unknown-linux-musl-
# and LINK_LDS = $(SDK_RTSMART_SRC_DIR)/libs/mk/link.lds (both directories
# come from the SDK's tools/mkenv.mk). The flags are the port's too:
# -march=rv64imafdcv -mabi=lp64d -mcmodel=medany, static. With V in -march,
# libjpeg-turbo takes RVV as given at compile time (simd/riscv64/jsimdcpu.c)
# instead of asking the kernel, which RT-Smart could not answer as Linux does.
# LIBJPEG_TURBO_SRC: a checkout of libjpeg-turbo/libjpeg-turbo, main branch.
# LINK_LDS may be empty to build the same program for riscv64 Linux (how it is
# checked without a board: under qemu, with Debian's riscv64-linux-gnu-).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "${1:?usage: build.sh LIBJPEG_TURBO_SRC OUT_DIR}" && pwd)
out=${2:?usage: build.sh LIBJPEG_TURBO_SRC OUT_DIR}
: "${CROSS_COMPILE:?set CROSS_COMPILE (see the comment at the top)}"
LINK_LDS=${LINK_LDS-}
flags="-march=rv64imafdcv -mabi=lp64d -mcmodel=medany"
mkdir -p "$out"
out=$(cd "$out" && pwd)
cat >"$out/toolchain.cmake" <<EOT
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_C_COMPILER ${CROSS_COMPILE}gcc)
set(CMAKE_ASM_COMPILER ${CROSS_COMPILE}gcc)
set(CMAKE_C_FLAGS_INIT "$flags")
set(CMAKE_ASM_FLAGS_INIT "$flags")
EOT
cmake -S "$src" -B "$out/turbo" -DCMAKE_TOOLCHAIN_FILE="$out/toolchain.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DENABLE_SHARED=0 -DWITH_TURBOJPEG=0 -DWITH_TOOLS=0 \
    -DWITH_TESTS=0 >"$out/cmake.log" 2>&1 || { cat "$out/cmake.log" >&2; exit 1; }
grep -q 'SIMD extensions: RISCV64' "$out/cmake.log" || {
    echo "build.sh: libjpeg-turbo configured without its RVV SIMD (the compiler lacks RVV" >&2
    echo "build.sh: intrinsics?): $out/cmake.log" >&2
    exit 1
}
make -C "$out/turbo" -j2 jpeg-static >"$out/make.log" 2>&1 || { cat "$out/make.log" >&2; exit 1; }
lds=""
[ -z "$LINK_LDS" ] || lds="-T $LINK_LDS"
# shellcheck disable=SC2086
"${CROSS_COMPILE}gcc" $flags -O2 -static $lds -I"$out/turbo" -I"$src/src" \
    "$here/turbo_measure.c" "$out/turbo/libjpeg.a" -o "$out/turbo_measure"
echo "build.sh: $out/turbo_measure (libjpeg-turbo from $src, RVV)"
"${CROSS_COMPILE}gcc" $flags -O2 -static $lds "$here/zbb_probe.c" -o "$out/zbb_probe"
echo "build.sh: $out/zbb_probe"
