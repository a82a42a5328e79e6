#!/usr/bin/env bash
# `make run`: what a newcomer watches. A K230-style script runs on the unix
# port with a synthetic camera: first the encoder alone (every pixel format),
# then a live stream into the host receiver.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mp="$root/build/micropython"
out="$root/out/demo"
rm -rf "$out"
mkdir -p "$out/encode"
export MICROPYPATH="$root/python:$root/python/examples"

echo "== 1. encoding: every camera pixel format (python/examples/encode_demo.py)"
"$mp" -X heapsize=32M "$root/python/examples/encode_demo.py" "$out/encode" 30
echo "   sample JPEGs: $out/encode/"
