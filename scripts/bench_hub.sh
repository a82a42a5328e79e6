#!/usr/bin/env bash
# Hub benchmark: 16 synthetic VGA cameras at ~30 fps into `img-stream hub`,
# 64 MJPEG viewers out, over loopback (scripts/bench_hub.py does the work).
# Prints a markdown section; `--write` also puts it into docs/BENCHMARKS.md.
#   CAMERAS=16 VIEWERS=64 FPS=30 WINDOW=15 (seconds measured) change the load.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cameras=${CAMERAS:-16} viewers=${VIEWERS:-64} fps=${FPS:-30} seconds=${WINDOW:-15}
cmd="python3 scripts/bench_hub.py target/host/img-stream $cameras $viewers $fps $seconds"
load=$(cut -d' ' -f1 /proc/loadavg)
res=$(cd "$root" && $cmd)
section=$(cat <<MD
<!-- hub:begin -->
## Hub: $cameras cameras in, $viewers viewers out (\`img-stream hub\`)

$cameras TCP senders replay pre-encoded VGA JPEGs (Pillow, q65) framed as protocol v1, one connection
and camera id each, paced to $fps fps; $viewers MJPEG viewers (raw sockets, HTTP/1.0, two reader
processes) spread evenly over the cameras; all on 127.0.0.1. $(date -u +%Y-%m-%d), $(nproc) cores,
$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $load when started
(the machine is shared: viewer-measured latency includes the Python viewers' own scheduling).
Command: \`make bench\` (this part: \`bash scripts/bench_hub.sh --write\`, which runs \`$cmd\`).

\`\`\`
$res
\`\`\`

Targets (issue 14): hub <= 50 % of one core, <= 64 MiB + 2 frames per camera, p99 added latency
<= 10 ms, no viewer below 95 % of its camera's fps. "hub-side" is the hub's own
\`img_stream_hub_added_latency_seconds\` histogram over the window (upper bucket bounds).
<!-- hub:end -->
MD
)
echo "$section"
if [ "${1:-}" = "--write" ]; then
    python3 "$root/scripts/put_section.py" "$root/docs/BENCHMARKS.md" hub "$section"
fi
