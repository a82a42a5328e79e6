#!/usr/bin/env bash
# The hub demo (`make run`): three synthetic K230 boards on the unix port
# stream by TCP, UDP and MQTT (a private Mosquitto) into one `img-stream hub`;
# open the printed URL. Runs until Ctrl-C, or HUB_SECONDS seconds (default 30
# when not on a terminal, so scripted runs end).
#   HUB_HTTP=127.0.0.1:8080  where the hub serves (0.0.0.0:8080 to reach it from the LAN)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/lib.sh"
out="$root/out/demo-hub"
http=${HUB_HTTP:-127.0.0.1:8080}
seconds=${HUB_SECONDS:-}
[ -z "$seconds" ] && ! [ -t 1 ] && seconds=30
rm -rf "$out"
mkdir -p "$out"
bash "$root/scripts/fetch-umqtt.sh" "$root/build/umqtt" >/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 0' INT TERM

start_mosquitto "$out"
pids+=("$broker_pid")
mport=$broker_port

"$root/target/host/img-stream" hub --tcp 127.0.0.1:0 --udp 127.0.0.1:0 \
    --mqtt "127.0.0.1:$mport" --topic 'img_stream/+/frame' --http "$http" 2>"$out/hub.log" &
pids+=($!)
tport=$(wait_line "$out/hub.log" '^hub: tcp on [^ ]*:([0-9]+)$')
uport=$(wait_line "$out/hub.log" '^hub: udp on [^ ]*:([0-9]+)$')
url=$(wait_line "$out/hub.log" '^hub: (http://[^ ]*/)$')

export MICROPYPATH="$root/python:$root/python/examples/k230:$root/build/umqtt"
board="$root/python/examples/k230/hub_board.py"
# exec: so that $! is the interpreter itself, which cleanup can end.
mp() { exec "$root/build/micropython" -X heapsize=32M "$board" "$@"; }
mp tcp 127.0.0.1 "$tport" 15 0 640 480 >"$out/board-tcp.log" 2>&1 &
pids+=($!)
mp udp 127.0.0.1 "$uport" 15 0 640 480 >"$out/board-udp.log" 2>&1 &
pids+=($!)
mp mqtt 127.0.0.1 "$mport" 15 0 640 480 k230-mqtt >"$out/board-mqtt.log" 2>&1 &
pids+=($!)

echo "== img-stream hub: three synthetic K230 boards (TCP, UDP, MQTT via Mosquitto :$mport)"
echo "   open  $url"
echo "   also  ${url}api/cameras   ${url}metrics   ${url}cam/<id>/stream   ${url}cam/<id>/snapshot.jpg"
echo "   logs  $out/"
for _ in $(seq 1 100); do
    n=$(curl -fsS "${url}api/cameras" 2>/dev/null | grep -o '"online":true' | wc -l || true)
    [ "$n" -ge 3 ] && break
    sleep 0.1
done
echo "   $n of 3 cameras online"
if [ -n "$seconds" ]; then
    sleep "$seconds"
    curl -fsS "${url}api/cameras" | python3 -c 'import json,sys
for c in json.load(sys.stdin):
    print("   %-36s %4dx%-4d %5.1f fps %7.1f kB/s  frames %d  drops %d" % (c["id"], c["width"], c["height"], c["fps"], c["kbps"], c["frames"], c["drops"]))'
else
    echo "   Ctrl-C to stop"
    wait "${pids[1]}"
fi
