#!/usr/bin/env bash
# `make run-mqtt`: a private Mosquitto on 127.0.0.1, `img-stream recv mqtt`
# subscribed to img_stream/+/frame, and python/examples/k230/publish_mqtt.py (umqtt.robust,
# synthetic camera) publishing raw JPEG frames to it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/out/demo-mqtt"
frames=${FRAMES:-90}
rm -rf "$out"
mkdir -p "$out"
bash "$root/scripts/fetch-umqtt.sh" "$root/build/umqtt" >/dev/null

# Debian installs it in /usr/sbin, which is not on every PATH.
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$out/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
CONF
"$mosquitto" -c "$out/mosquitto.conf" 2>"$out/broker.log" &
broker=$!
rx=""
for _ in $(seq 1 100); do
    (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
trap 'kill $broker ${rx:-} 2>/dev/null || true' EXIT

echo "== MQTT: python/examples/k230/publish_mqtt.py -> Mosquitto 127.0.0.1:$port -> img-stream recv mqtt"
status=lines
[ -t 2 ] && status=live
"$root/target/host/img-stream" recv mqtt --broker "127.0.0.1:$port" --topic 'img_stream/+/frame' \
    --out "$out/frames" --count "$frames" --status "$status" 2> >(tee "$out/receiver.log" >&2) &
rx=$!
for _ in $(seq 1 100); do
    grep -q "^subscribed to" "$out/receiver.log" 2>/dev/null && break
    sleep 0.1
done
grep -q "^subscribed to" "$out/receiver.log" || { echo "receiver did not subscribe" >&2; exit 1; }
MICROPYPATH="$root/python:$root/build/umqtt" "$root/build/micropython" -X heapsize=32M \
    "$root/python/examples/k230/publish_mqtt.py" 127.0.0.1 "$port" "$frames"
wait $rx
rx=""
echo
echo "   $(ls "$out"/frames/*/ | grep -c jpg) JPEGs in $out/frames/ (topic img_stream/k230/frame)"
