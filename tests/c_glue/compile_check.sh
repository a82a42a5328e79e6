#!/usr/bin/env bash
# Compiles every shim file on its own with strict warnings (-Wall -Wextra
# -Werror, as the unix port does), as for the unix port. The CanMV adapter
# (IMG_STREAM_CANMV=1) is compiled the same way by model_test.sh, which has
# the qstrs it needs, and against the firmware by scripts/canmv-check.sh.
# Usage: compile_check.sh MICROPYTHON_SRC PORT_BUILD_DIR
set -euo pipefail
mp=${1:?MicroPython source dir}
build=${2:?unix port build dir (for genhdr)}
here=$(cd "$(dirname "$0")" && pwd)
glue="$here/../../c_glue/img_stream"
inc=(-I"$mp" -I"$mp/ports/unix" -I"$mp/ports/unix/variants/standard" -I"$build" -I"$glue")
flags=(-std=gnu99 -fsyntax-only -Wall -Wextra -Werror -Wno-unused-parameter)
n=0
for c in "$glue"/*.c; do
    gcc "${flags[@]}" "${inc[@]}" "$c"
    n=$((n + 1))
done
echo "c_glue: $n files compiled with -Wall -Wextra -Werror"
