#!/usr/bin/env bash
# Runs the MicroPython-side suite with the given interpreter (the unix port
# with img_stream, or the same port under qemu-riscv64).
# Usage: run.sh MICROPYTHON [test_file.py ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mp=${1:?usage: run.sh MICROPYTHON [tests...]}
case "$mp" in /*) ;; *) mp="$PWD/$mp" ;; esac
shift
export MICROPYPATH="$here:$here/../../python:.frozen"
cd "$here"
if [ $# -gt 0 ]; then
    exec $mp -X heapsize=32M runner.py "$@"
fi
exec $mp -X heapsize=32M runner.py
