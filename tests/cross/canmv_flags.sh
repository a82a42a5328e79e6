#!/usr/bin/env bash
# Compiles every C file of the shim with exactly the flags of CanMV's firmware
# build (riscv64 gcc, -Wall -Werror, gnu99, -Os, medany) so a warning that
# only the board's build would turn into an error shows up here first.
#
#   canmv_flags.sh     (runs itself inside the chroot of scripts/riscv-chroot.sh)
#
# Headers: the MicroPython tree, the unix port's configuration and the
# generated headers (qstrs, module list) of the riscv64 build in
# build/unix-rv64, which scripts/cross-micropython.sh makes first.
set -euo pipefail

PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "${1:-}" != --inside ]; then
    exec bash "$PROJECT/scripts/riscv-chroot.sh" run bash "$PROJECT/tests/cross/canmv_flags.sh" --inside
fi

MP=$PROJECT/build/mp/micropython
GEN=$PROJECT/build/unix-rv64
[ -f "$GEN/genhdr/qstrdefs.generated.h" ] ||
    { echo "canmv_flags: $GEN has no generated headers: run scripts/cross-micropython.sh" >&2; exit 1; }

# From the firmware's build (docs: ../shared/docs/k230-firmware.md).
CANMV_FLAGS=(-march=rv64imafdcv -mabi=lp64d -mcmodel=medany -Os -std=gnu99 -Wall -Werror)
INCLUDES=(-I"$PROJECT/c_glue/img_stream" -I"$MP" -I"$MP/ports/unix" -I"$MP/ports/unix/variants/standard" -I"$GEN")

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for src in "$PROJECT"/c_glue/img_stream/*.c; do
    if riscv64-linux-gnu-gcc "${CANMV_FLAGS[@]}" "${INCLUDES[@]}" -c "$src" -o "$out/$(basename "$src").o"; then
        echo "ok   $(basename "$src")"
    else
        echo "FAIL $(basename "$src")"
        status=1
    fi
done
exit $status
