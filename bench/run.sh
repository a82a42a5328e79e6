#!/usr/bin/env bash
# `make bench`: JPEG encode throughput, bytes, PSNR and instructions/pixel of
# img_stream's encoders next to libjpeg-turbo, written into
# docs/BENCHMARKS.md between the `encode:begin`/`encode:end` markers (so a
# re-run replaces its own section and nothing else).
# Needs libturbojpeg0-dev, valgrind, python3 with Pillow (scripts/install-deps.sh bench).
# Usage: bash bench/run.sh [--no-doc]   (--no-doc: print only)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DOC=$ROOT/docs/BENCHMARKS.md
PHOTO=$ROOT/tests/data/photos/coffee.png
write_doc=1
[ "${1:-}" = "--no-doc" ] && write_doc=0

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release --locked -q -p img-stream-bench
BIN=$CARGO_TARGET_DIR/release/img-stream-bench
# The same program without LLVM's auto-vectorisers, for instruction counts
# and times closer to a scalar rv64gc build (own target dir: other flags).
RUSTFLAGS="${RUSTFLAGS:-} -C llvm-args=-vectorize-loops=false -C llvm-args=-vectorize-slp=false" \
    cargo build --release --locked -q -p img-stream-bench --target-dir "$CARGO_TARGET_DIR/bench-scalar"
SCALAR_BIN=$CARGO_TARGET_DIR/bench-scalar/release/img-stream-bench

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/photos" "$work/scratch"

# One photograph at every size: centre crop to the target's aspect ratio,
# then Lanczos resize (720p is an upscale of the 600x400 original, so it is
# smoother than a real 720p frame and compresses better).
python3 - "$PHOTO" "$work/photos" <<'EOF'
import sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
im = Image.open(src).convert("RGB")
for w, h in [(320, 240), (640, 480), (1280, 720)]:
    sw, sh = im.size
    if sw * h > sh * w:
        cw, ch = sh * w // h, sh
    else:
        cw, ch = sw, sw * h // w
    x, y = (sw - cw) // 2, (sh - ch) // 2
    frame = im.crop((x, y, x + cw, y + ch)).resize((w, h), Image.LANCZOS)
    with open(f"{out}/photo_{w}x{h}.rgb", "wb") as f:
        f.write(frame.tobytes())
EOF

unset JSIMD_FORCENONE
started=$(date -u +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$BIN" all --photos "$work/photos" --scratch "$work/scratch" --scalar-bin "$SCALAR_BIN" >"$work/tables.md"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
took=$(( $(date -u +%s) - started ))

commit=$(git rev-parse --short HEAD 2>/dev/null || echo "(not a git checkout)")
[ -z "$(git status --porcelain -- core bench 2>/dev/null)" ] || commit="$commit + uncommitted changes in core/ or bench/"
fast_log=$(git log -1 --format='%h %s' -- core/src/jpeg/fast 2>/dev/null || true)
{
    echo "Command: \`bash bench/run.sh\` (what \`make bench\` runs for this section), run $(date -u '+%Y-%m-%d %H:%M UTC'), took ${took} s."
    echo
    echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), \`nproc\` = $(nproc), shared with other work (load average $load_before before, $load_after after: medians, and ratios hold better than absolute figures)."
    echo "Software: $(rustc --version | cut -d' ' -f1-2), libjpeg-turbo $(dpkg-query -W -f='${Version}' libturbojpeg0-dev 2>/dev/null || echo '?') (Debian libturbojpeg0-dev), $(valgrind --version)."
    echo "Code: img_stream $commit; last change to \`core/src/jpeg/fast\`: ${fast_log:-none}."
    echo
    echo "Input: \`tests/data/photos/coffee.png\` (600x400), centre-cropped to each aspect ratio and resized with Pillow's Lanczos filter; each format is converted from that RGB888 picture (NV12: full-range BT.601, chroma averaged over 2x2)."
    echo "Timing: one process runs Generic, Fast and libjpeg-turbo with SIMD; a child process started with \`JSIMD_FORCENONE=1\` runs libjpeg-turbo's portable path, and a second child runs the scalar build of Fast, both driven one encode at a time over a pipe, so the encoders alternate within every round (5 warm-up rounds, then 41–101 measured rounds per row, ≈3 s at most). Each encode is timed on the wall clock and, as a cross-check, on the thread's CPU clock."
    echo
    cat "$work/tables.md"
} >"$work/section.md"

cat "$work/section.md"

if [ $write_doc = 1 ]; then
    python3 - "$DOC" "$work/section.md" <<'EOF'
import sys, re
doc, section = sys.argv[1], open(sys.argv[2]).read().strip()
begin, end = "<!-- encode:begin -->", "<!-- encode:end -->"
text = open(doc).read()
if begin not in text or end not in text:
    sys.exit(f"{doc}: markers {begin} / {end} not found")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w").write(f"{head}{begin}\n{section}\n{end}{tail}")
EOF
    echo "bench: updated $DOC"
fi
