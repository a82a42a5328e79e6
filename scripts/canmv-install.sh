#!/usr/bin/env bash
# Puts img_stream into a CanMV K230 firmware source tree: a k230_rtos_sdk
# synced with Canaan's release manifest, which places the port at
# <sdk>/src/canmv/port and the MicroPython fork at <sdk>/src/canmv/micropython.
#
#   canmv-install.sh K230_RTOS_SDK LIBIMG_STREAM_A
#
# The hook (docs/CANMV.md explains the choice): port/Makefile hard-wires
# USER_C_MODULES = 3rd-party/ulab, and the fork's py/py.mk includes every
# $(USER_C_MODULES)/*/micropython.mk on every build. So the shim goes into
# port/3rd-party/ulab/img_stream/ as a user C module whose LDFLAGS_USERMOD
# links the archive: every later `make` of the SDK, which rebuilds and
# relinks the port (port/Makefile touches core/main.c each time), links
# img_stream too, with no variable to pass. Python helpers are frozen through
# the board manifest. Running it again updates the files in place.
set -euo pipefail
usage="usage: canmv-install.sh /path/to/k230_rtos_sdk /path/to/libimg_stream.a (riscv64 musl)"
sdk=${1:?$usage}
lib=${2:?$usage}
root=$(cd "$(dirname "$0")/.." && pwd)
port="$sdk/src/canmv/port"
fork="$sdk/src/canmv/micropython"
die() { echo "canmv-install: $*" >&2; exit 1; }
[ -f "$port/Makefile" ] && [ -f "$port/boards/manifest.py" ] \
    || die "$port/Makefile or boards/manifest.py not found: is $sdk a k230_rtos_sdk synced with the canmv manifest?"
[ -f "$fork/py/py.mk" ] || die "$fork/py/py.mk not found: the MicroPython fork belongs at src/canmv/micropython"
grep -q '^USER_C_MODULES *= *3rd-party/ulab' "$port/Makefile" \
    || die "$port/Makefile no longer sets USER_C_MODULES = 3rd-party/ulab: the hook needs re-checking (docs/CANMV.md)"
[ -f "$lib" ] || die "$lib not found (scripts/cross-build.sh riscv64gc-unknown-linux-musl builds it)"

dest="$port/3rd-party/ulab/img_stream"
mkdir -p "$dest"
cp "$root"/c_glue/img_stream/*.c "$root"/c_glue/img_stream/*.h "$root"/c_glue/img_stream/micropython.mk "$dest/"
cp "$lib" "$dest/libimg_stream.a"
cp "$root/python/img_stream_http.py" "$dest/"
cat > "$dest/img_stream_config.h" <<'CFG'
// Written by img_stream's scripts/canmv-install.sh: firmware build settings.
#define IMG_STREAM_CANMV 1
CFG
cat > "$dest/img_stream_board.mk" <<'MK'
# Written by img_stream's scripts/canmv-install.sh, read by micropython.mk.
IMG_STREAM_LIB := $(IMG_STREAM_DIR)/libimg_stream.a
# musl keeps its maths in libc.a (libm.a is empty): take it before the Rust
# archive, whose compiler_builtins would otherwise supply floor, fmod...
IMG_STREAM_LIBC := -lc
MK
cat > "$dest/manifest.py" <<'MAN'
# Written by img_stream's scripts/canmv-install.sh; included from
# port/boards/manifest.py. umqtt.robust comes from the fork's micropython-lib,
# like the umqtt.simple the board manifest already requires.
module("img_stream_http.py", opt=3)
require("umqtt.robust")
MAN
line='include("../3rd-party/ulab/img_stream/manifest.py")  # img_stream'
grep -qxF "$line" "$port/boards/manifest.py" || printf '\n%s\n' "$line" >> "$port/boards/manifest.py"
# An earlier recipe put flat copies into port/modules/: they would now be
# compiled twice.
rm -f "$port"/modules/img_stream_*.c "$port"/modules/img_stream_*.h "$port"/modules/img_source.h

cat <<MSG
img_stream installed into $dest
(frozen: img_stream_http, umqtt.robust via $port/boards/manifest.py).
Build the image as usual from the SDK root, e.g.:

    cd $sdk && make <board>_defconfig && make

MSG
