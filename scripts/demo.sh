#!/usr/bin/env bash
# `make run-tcp`: one board end to end. A K230-style script runs on the unix
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

echo
echo "== 2. streaming: python/examples/k230/stream_tcp.py -> img-stream recv tcp"
frames=150
status=lines
[ -t 2 ] && status=live
"$root/target/host/img-stream" recv tcp --listen 127.0.0.1:0 --out "$out/frames" \
    --count "$frames" --status "$status" 2> >(tee "$out/receiver.log" >&2) &
rx=$!
trap 'kill $rx 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 100); do
    port=$(sed -nE 's/^listening on [^ ]*:([0-9]+).*/\1/p' "$out/receiver.log" 2>/dev/null | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "receiver did not start" >&2; exit 1; }
cd "$root/python/examples/k230"
"$root/build/micropython" -X heapsize=32M stream_tcp.py 127.0.0.1 "$port" "$frames" 1280 720 YUV420SP
wait $rx
trap - EXIT
echo
echo "   $(ls "$out"/frames/*/ | grep -c jpg) JPEGs in $out/frames/, one JSON line each in $out/frames/frames.jsonl"
