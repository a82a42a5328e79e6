#!/usr/bin/env bash
# UDP vs TCP on loopback (issue 6's measurement): VGA NV12 q65 frames/s of
# send_udp and send_tcp from the unix port into the img-stream receivers,
# next to encode-only; then what each receiver got.
# Usage: bash bench/udp.sh [FRAMES] [ROUNDS]   (after `make`)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MP=${MICROPYTHON:-$ROOT/build/micropython}
BIN=${IMG_STREAM_BIN:-$ROOT/target/host/img-stream}
frames=${1:-200}
rounds=${2:-5}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$BIN" recv tcp --listen 127.0.0.1:0 --status quiet 2>"$work/tcp.log" & pids+=($!)
"$BIN" recv udp --listen 127.0.0.1:0 --status quiet 2>"$work/udp.log" & pids+=($!)
port_of() { # port_of LOG: waits for the receiver's "listening on" line
    for _ in $(seq 100); do
        p=$(sed -nE 's/.*listening on (udp )?[^ ]*:([0-9]+).*/\2/p' "$1" | head -1)
        [ -n "$p" ] && { echo "$p"; return; }
        sleep 0.05
    done
    echo "receiver did not start: $(cat "$1")" >&2; exit 1
}
tcp_port=$(port_of "$work/tcp.log")
udp_port=$(port_of "$work/udp.log")

echo "Command: bash bench/udp.sh $frames $rounds; $(date -u '+%Y-%m-%d %H:%M UTC'); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
MICROPYPATH="$ROOT/python:.frozen" "$MP" -X heapsize=32M python/examples/bench_udp.py "$tcp_port" "$udp_port" "$frames" "$rounds"
# SIGTERM: each receiver prints its summary line and exits.
kill -TERM "${pids[@]}"
wait "${pids[@]}" 2>/dev/null || true
pids=()
echo "recv tcp $(grep summary: "$work/tcp.log")"
echo "recv udp $(grep summary: "$work/udp.log")"
echo "(recv udp should have $((3 * frames * rounds)) frames, recv tcp $((frames * rounds)): UDP frames short of that were dropped on the way (the sender outran the receiver). 'drops' counts seq gaps: the modes share one sequence counter, so each receiver sees gaps.)"
