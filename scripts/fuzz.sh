#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS each (default 60), seeded from
# tests/vectors, and prints inputs/s and total inputs per target (the table
# in docs/BENCHMARKS.md). Not part of `make test`.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Needs a nightly toolchain (`rustup toolchain list`) for the coverage
# instrumentation libFuzzer uses; libfuzzer-sys builds libFuzzer itself (a
# C++ compiler is needed). Runs `nice`d, one job: other work keeps the CPU.
# A finding is saved as target/fuzz/artifacts/<target>/crash-* and the
# script exits non-zero.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(stream_decoder chunk_reassembler jpeg_info encoder)
TOOLCHAIN="${FUZZ_TOOLCHAIN:-nightly}"
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
OUT="$ROOT/target/fuzz"

# The flags cargo-fuzz passes: sancov edge counters, a PC table and
# comparison tracing for libFuzzer; `fuzzing` cfg for code that wants it.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
# --target keeps these flags off build scripts and proc macros.
nice -n 10 cargo "+$TOOLCHAIN" build --release --manifest-path "$ROOT/fuzz/Cargo.toml" \
    --target "$TRIPLE" --target-dir "$OUT/build" --bins

# Seeds: the protocol vectors, in each target's input format.
python3 - "$ROOT" "$OUT/seeds" <<'PY'
import json, pathlib, struct, sys
root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
vec = root / "tests" / "vectors"
for t in ("stream_decoder", "chunk_reassembler", "jpeg_info", "encoder"):
    (out / t).mkdir(parents=True, exist_ok=True)
for j in sorted(vec.glob("*.json")):
    d = json.loads(j.read_text())
    b = (vec / d["file"]).read_bytes()
    if d["kind"] in ("stream", "header"):
        for split in (1, 7, 255):
            (out / "stream_decoder" / f"{d['name']}-{split}").write_bytes(bytes([split]) + b)
    if d["kind"] == "chunks":
        sources = {}
        rec = b"".join(
            bytes([sources.setdefault(m["source"], len(sources)), 0])
            + struct.pack("<H", m["len"]) + b[m["offset"]:m["offset"] + m["len"]]
            for m in d["messages"])
        (out / "chunk_reassembler" / d["name"]).write_bytes(rec)
jpeg = (vec / "tiny.jpg").read_bytes()
(out / "jpeg_info" / "tiny.jpg").write_bytes(jpeg)
for fmt in range(9):
    (out / "encoder" / f"fmt{fmt}").write_bytes(bytes([16, 8, fmt, 0, 75, 2, fmt % 3, 0x80]) + bytes(range(256)))
(out / "encoder" / "jpeg").write_bytes(bytes([16, 8, 8, 0, 75, 2, 0, 0]) + jpeg)
PY

status=0
printf '%-18s %10s %14s %12s\n' target seconds inputs inputs/s
for t in "${TARGETS[@]}"; do
    corpus="$OUT/corpus/$t"
    mkdir -p "$corpus" "$OUT/artifacts/$t"
    log="$OUT/$t.log"
    # The stream target feeds its input byte by byte at worst: keep it short.
    case $t in stream_decoder) max_len=4096 ;; *) max_len=65536 ;; esac
    set +e
    nice -n 10 "$OUT/build/$TRIPLE/release/$t" "$corpus" "$OUT/seeds/$t" \
        -max_total_time="$SECONDS_EACH" -rss_limit_mb=1024 -max_len="$max_len" \
        -artifact_prefix="$OUT/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    secs=${secs:-$SECONDS_EACH}
    printf '%-18s %10s %14s %12s\n' "$t" "$secs" "${runs:-?}" \
        "$(( ${runs:-0} / (secs > 0 ? secs : 1) ))"
    if [ $rc -ne 0 ]; then
        echo "$t: finding (exit $rc), see $log and $OUT/artifacts/$t/" >&2
        status=1
    fi
done
exit $status
