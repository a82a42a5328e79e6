#!/usr/bin/env bash
# MQTT transport benchmark: python/examples/bench_mqtt.py on the unix port
# publishing VGA NV12 q65 frames through umqtt.simple into a private Mosquitto
# on 127.0.0.1, received and counted by `img-stream recv mqtt`.
# Prints a markdown section; `--write` also puts it into docs/BENCHMARKS.md.
# Env: FRAMES (per mode and round, default 100), ROUNDS (default 5).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/lib.sh"
frames=${FRAMES:-100}
rounds=${ROUNDS:-5}
bin=${IMG_STREAM_BIN:-$root/target/host/img-stream}
mp=${MICROPYTHON:-$root/build/micropython}
tmp=$(mktemp -d)
broker_pid="" rx=""
cleanup() {
    [ -n "$rx" ] && kill "$rx" 2>/dev/null || true
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

bash "$root/scripts/fetch-umqtt.sh" "$root/build/umqtt" >/dev/null
# A receiver slower than the publisher must not lose QoS 0 frames here.
start_mosquitto "$tmp" "max_queued_messages 0"
port=$broker_port

# Status lines (every 2 s) say how far the receiver is; the two scripts say
# how many frames they published.
"$bin" recv mqtt --broker "127.0.0.1:$port" --topic img_stream/bench/frame \
    --status lines 2>"$tmp/rx.log" &
rx=$!
wait_line "$tmp/rx.log" '^(subscribed) to' >/dev/null

cmd="build/micropython -X heapsize=32M python/examples/bench_mqtt.py 127.0.0.1 PORT $frames $rounds BROKER_PID,RECEIVER_PID"
res=$(cd "$root" && MICROPYPATH=python:build/umqtt "$mp" -X heapsize=32M python/examples/bench_mqtt.py \
    127.0.0.1 "$port" "$frames" "$rounds" "$broker_pid,$rx")
cmd2="build/micropython -X heapsize=32M python/examples/bench_mqtt_frame_us.py 127.0.0.1 PORT $((frames * rounds))"
res2=$(cd "$root" && MICROPYPATH=python:build/umqtt "$mp" -X heapsize=32M python/examples/bench_mqtt_frame_us.py \
    127.0.0.1 "$port" "$((frames * rounds))")
total=$(($(printf '%s\n%s\n' "$res" "$res2" | sed -nE 's/^published ([0-9]+)$/\1/p' | paste -sd+)))
# Every frame must arrive; give the receiver up to a minute to drain the broker.
for _ in $(seq 1 300); do
    got=$(sed -nE 's/^frames ([0-9]+) .*/\1/p' "$tmp/rx.log" | tail -1)
    [ "${got:-0}" -ge "$total" ] && break
    sleep 0.2
done
kill -TERM "$rx"
wait "$rx" || true
rx=""
received=$(sed -nE 's/^summary: frames ([0-9]+).*/\1/p' "$tmp/rx.log" | tail -1)
section=$(cat <<MD
<!-- mqtt:begin -->
## MQTT transport: \`publish\` through Mosquitto into the receiver

VGA (640x480) NV12, quality 65, synthetic camera; umqtt.simple 1.3.4 on the unix port, Mosquitto
$("$mosquitto" -h 2>/dev/null | sed -nE 's/^mosquitto version ([0-9.]+).*/\1/p' | head -1) on 127.0.0.1,
\`img-stream recv mqtt\` subscribed and counting: ${received:-0} of $total frames received.
Medians of $rounds rounds per mode, modes interleaved, each run $frames frames ($((frames * 10)) with the JPEG
ready) after an untimed warm-up and with the broker and the receiver idle first; $(date -u +%Y-%m-%d), $(nproc) cores,
$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //').
Command: \`make bench\` (this part: \`bash scripts/bench_mqtt.sh --write\`, which runs
\`$cmd\`).

\`\`\`
$res
\`\`\`

One chunked QoS 1 publish, median of per-frame times (\`$cmd2\`):

\`\`\`
$res2
\`\`\`

"heap B/frame" is MicroPython heap allocated per frame (garbage for the GC): the plain recipe
allocates the whole JPEG as a \`bytes\` object every frame. \`publish\` with a umqtt client writes
PUBLISH packets built in Rust (mqttrs) from its reused buffer straight to \`client.sock\`, a window's
packets in one write, and reads the PUBACKs itself, QoS 1 chunks in a window of 8: no Python
object per frame. "via client.publish()" is the path every other client takes (and every client
took before): one memoryview per call, umqtt's own allocations and one PUBACK wait per message.
QoS 0 runs end with a ping round trip, so they time what the broker has read, not what the kernel
buffered; the broker forwards to the receiver afterwards, which the next run waits out.
<!-- mqtt:end -->
MD
)
echo "$section"
if [ "${1:-}" = "--write" ]; then
    python3 "$root/scripts/put_section.py" "$root/docs/BENCHMARKS.md" mqtt "$section"
fi
