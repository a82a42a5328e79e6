#!/usr/bin/env bash
# Checks img_stream against Canaan's real CanMV K230 sources, as a firmware
# build would use them:
#
#   canmv-check.sh PORT_DIR MP_FORK_DIR [LIBIMG_STREAM_A]
#
# PORT_DIR: a checkout of kendryte/canmv_k230 (branch canmv_k230) `port/`;
# MP_FORK_DIR: canmv-k230/micropython (branch canmv_k230). Both are copied
# into build/canmv-check/ in the SDK's layout (src/canmv/{port,micropython}),
# img_stream is put in with scripts/canmv-install.sh, and then, in the riscv64
# chroot (scripts/riscv-chroot.sh):
# 1. the fork's make rules generate its qstr/module/compressed-text headers
#    with the port's CFLAGS (-march=rv64imafdcv ... -Wall -Werror, ROM text
#    compression on) and compile every shim file with IMG_STREAM_CANMV on,
#    plus tests/c_glue/canmv_layout.c (image_t offsets against imlib.h);
# 2. the shim objects and the riscv64 musl staticlib are linked with `ld -r`,
#    and every symbol still undefined must be defined by the MicroPython core
#    (compiled the same way), by the port's own sources (non-static
#    definitions), or be a C library function musl provides. Any other
#    undefined symbol fails the check.
# Three SDK headers the port includes are stubbed (hal_rvv_ops.h,
# generated/autoconf.h, drv_gpio.h): they come from k230_rtos_sdk, which is
# not needed to compile the shim. The chroot's compiler is Debian's
# riscv64-linux-gnu-gcc (glibc headers), not the SDK's musl toolchain.
set -euo pipefail
usage="usage: canmv-check.sh PORT_DIR MP_FORK_DIR [LIBIMG_STREAM_A]"
port_src=$(cd "${1:?$usage}" && pwd)
fork_src=$(cd "${2:?$usage}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
lib=${3:-$root/target/riscv/riscv64gc-unknown-linux-musl/release/libimg_stream.a}
die() { echo "canmv-check: $*" >&2; exit 1; }
[ -f "$port_src/omv/imlib/imlib.h" ] || die "$port_src is not the port (no omv/imlib/imlib.h)"
[ -f "$fork_src/py/py.mk" ] || die "$fork_src is not the MicroPython fork (no py/py.mk)"
[ -f "$lib" ] || die "$lib missing: bash scripts/cross-build.sh riscv64gc-unknown-linux-musl"

# Inside the project: the chroot sees only the project directory.
w=$root/build/canmv-check
rm -rf "$w"
mkdir -p "$w/sdk/src/canmv" "$w/stubs/generated"
cp -r "$port_src" "$w/sdk/src/canmv/port"
cp -r "$fork_src" "$w/sdk/src/canmv/micropython"
bash "$root/scripts/canmv-install.sh" "$w/sdk" "$lib" >/dev/null
cp "$root/tests/c_glue/canmv_layout.c" "$w/"

# Stubs for the SDK's headers: only what the port's headers need from them.
cat > "$w/stubs/generated/autoconf.h" <<'H'
// Stub of k230_rtos_sdk's Kconfig output for canmv-check.sh (k230_canmv board).
#define CONFIG_BOARD "k230_canmv"
#define CONFIG_ENABLE_NETWORK_RT_WLAN 1
#define CONFIG_CANMV_IDE_SUPPORT 1
H
printf '// Stub for canmv-check.sh: the SDK'"'"'s RVV helpers.\n#pragma once\n' > "$w/stubs/hal_rvv_ops.h"
cat > "$w/stubs/drv_gpio.h" <<'H'
// Stub for canmv-check.sh: the SDK's GPIO driver header. mphalport.h only
// names the instance type (as a pointer).
#pragma once
typedef struct drv_gpio_inst drv_gpio_inst_t;
H

mkvars=(-f "$root/scripts/canmv-check.mk" MP="$w/sdk/src/canmv/micropython"
    PORT="$w/sdk/src/canmv/port" STUBS="$w/stubs" W="$w")
log=$w/build.log
bash "$root/scripts/riscv-chroot.sh" run make -C "$w/sdk/src/canmv/port" -j"$(nproc)" "${mkvars[@]}" shim \
    >"$log" 2>&1 || { tail -40 "$log" >&2; die "compile failed (log: $log)"; }
grep '^canmv-check:' "$log"
bash "$root/scripts/riscv-chroot.sh" run make -C "$w/sdk/src/canmv/port" -j"$(nproc)" "${mkvars[@]}" core \
    >>"$log" 2>&1 || { tail -40 "$log" >&2; die "MicroPython core compile failed (log: $log)"; }

# 2. What the shim and the archive still need from the firmware.
b=$w/build
chroot_run() { bash "$root/scripts/riscv-chroot.sh" run "$@"; }
# shellcheck disable=SC2046
chroot_run riscv64-linux-gnu-ld -r -o "$b/img_stream_all.o" $(cat "$b/shim-objects.txt") "$lib"
chroot_run riscv64-linux-gnu-nm -u "$b/img_stream_all.o" | awk '{print $2}' | sort -u > "$b/undefined.txt"
# shellcheck disable=SC2046
chroot_run riscv64-linux-gnu-nm --defined-only $(cat "$b/core-objects.txt") \
    | awk 'NF == 3 && $2 ~ /[TDRBCGSW]/ {print $3}' | sort -u > "$b/core-defined.txt"
# C library functions, all exported by musl (which the firmware links
# statically). _setjmp (nlr_push) and __assert_fail (assert) are the names
# the chroot's glibc headers produce; musl defines both under the same names.
libc="memcpy memmove memset memcmp bcmp strlen strcmp strncmp strchr abort malloc free posix_memalign
    _setjmp setjmp longjmp __assert_fail __errno_location"
missing=()
while read -r sym; do
    grep -qxF "$sym" "$b/core-defined.txt" && continue
    case " $(echo $libc) " in *" $sym "*) echo "canmv-check: $sym <- libc"; continue ;; esac
    # A non-static definition in the port's own C sources (e.g. imlib): a
    # line naming it that is not a prototype, outside img_stream's own copy.
    def="^[A-Za-z_][A-Za-z0-9_ *]*[ *]$sym *\\([^;]*\$"
    where=$(grep -rlE "$def" --include='*.c' --exclude-dir=img_stream "$w/sdk/src/canmv/port" | head -1 || true)
    if [ -n "$where" ] && ! grep -qE "^static[A-Za-z0-9_ *]*[ *]$sym *\\(" "$where"; then
        echo "canmv-check: $sym <- port: ${where#"$w/sdk/src/canmv/"}"
        continue
    fi
    missing+=("$sym")
done < "$b/undefined.txt"
n=$(wc -l < "$b/undefined.txt")
if [ ${#missing[@]} -gt 0 ]; then
    die "undefined symbols the firmware does not export: ${missing[*]}"
fi
echo "canmv-check: linked with $(basename "$lib") (ld -r): $n undefined symbols, all provided by the firmware"
