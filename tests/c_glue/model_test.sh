#!/usr/bin/env bash
# Builds a second unix port with img_stream's CanMV adapter switched on
# (IMG_STREAM_CANMV=1) against the model of the firmware's image module in
# canmv_stub/, then runs test_canmv_model.py on it: raw sensor-style frames
# with size == 0 encode, JPEG images pass through, wrong objects raise
# TypeError. Also checks canmv_layout.c against the model.
# Usage: model_test.sh MICROPYTHON_SRC [LIBIMG_STREAM_A]
set -euo pipefail
mp=${1:?MicroPython source dir}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=${2:-$root/target/release/libimg_stream.a}
build=$root/build/unix-canmv-model
out=$root/build/micropython-canmv-model
# USER_C_MODULES takes one directory of modules: link both in.
mods=$build/usermods
mkdir -p "$mods"
ln -sfn "$root/c_glue/img_stream" "$mods/img_stream"
ln -sfn "$here/canmv_stub" "$mods/canmv_model"

# The port's make does not track the archive: always relink.
rm -f "$build/micropython"
if ! make -C "$mp/ports/unix" -j"$(nproc)" MICROPY_PY_SSL=0 MICROPY_PY_BTREE=0 FROZEN_MANIFEST= \
    USER_C_MODULES="$mods" IMG_STREAM_LIB="$lib" BUILD="$build" >"$build.log" 2>&1; then
    tail -40 "$build.log" >&2
    exit 1
fi
cp "$build/micropython" "$out"
# Every shim file alone with strict warnings and the adapter on (the build's
# qstr headers know MP_QSTR_Image), and the layout checks against the model.
flags=(-std=gnu99 -fsyntax-only -Wall -Wextra -Werror -Wno-unused-parameter -DIMG_STREAM_CANMV=1
    -I"$mp" -I"$mp/ports/unix" -I"$mp/ports/unix/variants/standard" -I"$build" -I"$here/canmv_stub")
for c in "$root"/c_glue/img_stream/*.c "$here/canmv_layout.c"; do
    gcc "${flags[@]}" -I"$root/c_glue/img_stream" "$c"
done
# The suite's runner and helpers, plus this directory for the test itself.
cd "$here"
MICROPYPATH="$root/tests/micropython:$root/python:$here" "$out" -X heapsize=32M "$root/tests/micropython/runner.py" test_canmv_model
