#!/usr/bin/env bash
# TCP transport benchmark: python/examples/bench_tcp.py on the unix port
# streaming VGA NV12 q65 into `img-stream recv tcp` over loopback.
# Prints a markdown section; `--write` also puts it into docs/BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'kill $rx 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$root/target/host/img-stream" recv tcp --listen 127.0.0.1:0 --status quiet 2>"$tmp/rx.log" &
rx=$!
port=""
for _ in $(seq 1 100); do
    port=$(sed -nE 's/^listening on [^ ]*:([0-9]+).*/\1/p' "$tmp/rx.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
cmd="MICROPYPATH=python build/micropython -X heapsize=32M python/examples/bench_tcp.py 127.0.0.1 PORT 200 7"
res=$(cd "$root" && MICROPYPATH=python build/micropython -X heapsize=32M python/examples/bench_tcp.py 127.0.0.1 "$port" 200 7)
section=$(cat <<MD
<!-- tcp:begin -->
## TCP transport: \`send_tcp\` into the receiver

VGA (640x480) NV12, quality 65, synthetic camera, 127.0.0.1, receiver \`img-stream recv tcp\`
counting frames. Medians of 7 rounds x 200 frames, modes interleaved; $(date -u +%Y-%m-%d), $(nproc) cores,
$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //').
Command: \`make bench\` (this part: \`bash scripts/bench_tcp.sh --write\`, which runs
\`$cmd\`).

\`\`\`
$res
\`\`\`

"encode only" is \`encode_into\` into a reused buffer; "plain MicroPython" is the recipe users
hand-write today (\`encode()\` + \`struct\` header + \`binascii.crc32\` + two \`sock.write\`), producing
the same bytes on the wire.
<!-- tcp:end -->
MD
)
echo "$section"
if [ "${1:-}" = "--write" ]; then
    python3 "$root/scripts/put_section.py" "$root/docs/BENCHMARKS.md" tcp "$section"
fi
