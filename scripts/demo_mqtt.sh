#!/usr/bin/env bash
# `make run-mqtt`: a private Mosquitto on 127.0.0.1, `img-stream recv mqtt`
# subscribed to img_stream/+/frame, and python/examples/k230/publish_mqtt.py (umqtt.robust,
# synthetic camera) publishing raw JPEG frames to it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/lib.sh"
out="$root/out/demo-mqtt"
frames=${FRAMES:-90}
rm -rf "$out"
mkdir -p "$out"
bash "$root/scripts/fetch-umqtt.sh" "$root/build/umqtt" >/dev/null

rx=""
trap 'kill ${broker_pid:-} ${rx:-} 2>/dev/null || true' EXIT
start_mosquitto "$out"
port=$broker_port

echo "== MQTT: python/examples/k230/publish_mqtt.py -> Mosquitto 127.0.0.1:$port -> img-stream recv mqtt"
status=lines
[ -t 2 ] && status=live
"$root/target/host/img-stream" recv mqtt --broker "127.0.0.1:$port" --topic 'img_stream/+/frame' \
    --out "$out/frames" --count "$frames" --status "$status" 2> >(tee "$out/receiver.log" >&2) &
rx=$!
wait_line "$out/receiver.log" '^(subscribed) to' >/dev/null
MICROPYPATH="$root/python:$root/build/umqtt" "$root/build/micropython" -X heapsize=32M \
    "$root/python/examples/k230/publish_mqtt.py" 127.0.0.1 "$port" "$frames"
wait $rx
rx=""
echo
echo "   $(ls "$out"/frames/*/ | grep -c jpg) JPEGs in $out/frames/ (topic img_stream/k230/frame)"
