#!/usr/bin/env bash
# Puts img_stream into a CanMV K230 firmware tree (kendryte/canmv_k230):
# the shim goes into port/modules/ (the port compiles every modules/*.c and
# scans it for qstrs, so no source list changes), with a config header that
# switches on the CanMV image adapter; the Python helpers go where frozen
# modules are collected from. The Rust archive is linked through
# LDFLAGS_EXTRA: USER_C_MODULES is left alone (the port hard-wires it to ulab).
# Usage: canmv-install.sh CANMV_SDK LIBIMG_STREAM_A
set -euo pipefail
sdk=${1:?usage: canmv-install.sh /path/to/canmv_k230 /path/to/libimg_stream.a}
lib=$(cd "$(dirname "${2:?riscv64 musl staticlib}")" && pwd)/$(basename "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
port="$sdk/port"
[ -d "$port/modules" ] || { echo "canmv-install: $port/modules not found: is $sdk a canmv_k230 tree?" >&2; exit 1; }
[ -f "$lib" ] || { echo "canmv-install: $lib not found (make cross-lib builds it)" >&2; exit 1; }

dest="$port/modules"
# Flat names with an img_stream prefix: modules/ is shared with the firmware's own.
for f in "$root"/c_glue/img_stream/*.c; do
    b=$(basename "$f" .c)
    case "$b" in img_stream_*) n=$b ;; *) n=img_stream_$b ;; esac
    cp "$f" "$dest/$n.c"
done
cp "$root"/c_glue/img_stream/*.h "$dest/"
cat > "$dest/img_stream_config.h" <<'CFG'
// Written by img_stream's scripts/canmv-install.sh: firmware build settings.
#define IMG_STREAM_CANMV 1
CFG

# Python helpers to freeze (or copy to the board's /sdcard).
frozen="$port/builtin_py"
mkdir -p "$frozen"
for py in "$root"/python/img_stream_http.py "$root"/build/umqtt/umqtt; do
    [ -e "$py" ] && cp -r "$py" "$frozen/"
done

cat <<MSG
img_stream installed into $dest.
Build the firmware with the Rust archive linked after libc/libm (so MicroPython's
math keeps coming from libc, not from the archive's weak compiler_builtins symbols):

    make -C $sdk LDFLAGS_EXTRA="-lc -lm $lib"

Frozen Python helpers were copied to $frozen (add them to the board's manifest.py
if your tree does not freeze that directory: freeze("\$(PORT_DIR)/builtin_py")).
MSG
