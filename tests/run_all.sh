#!/usr/bin/env bash
# Runs every suite (Rust, MicroPython, host/pytest), keeps going after a
# failing suite, and ends with one "total: N passed, N failed" line.
# Usage: run_all.sh MICROPYTHON HOST_BIN
set -uo pipefail
mp=${1:?MICROPYTHON}
bin=${2:?HOST_BIN}
root=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp -d)
passed=0
failed=0
status=0

count() { # count NAME PASSED FAILED
    printf '%-12s %s passed, %s failed\n' "$1:" "$2" "$3" >>"$log/summary"
    passed=$((passed + $2))
    failed=$((failed + $3))
}

echo "== Rust (cargo test --workspace)"
cargo test --locked --workspace 2>&1 | tee "$log/rust" | grep -E "^test result|FAILED|panicked" || true
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
p=$(grep -Eo '[0-9]+ passed' "$log/rust" | awk '{s += $1} END {print s + 0}')
f=$(grep -Eo '[0-9]+ failed' "$log/rust" | awk '{s += $1} END {print s + 0}')
grep -q "error\[E\|error: could not compile" "$log/rust" && f=$((f + 1))
count rust "$p" "$f"

echo "== MicroPython (tests/micropython)"
bash "$root/tests/micropython/run.sh" "$mp" 2>&1 | tee "$log/mp" | grep -vE "^ok " || true
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
read -r p f < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log/mp" | tail -1)
count micropython "${p:-0}" "${f:-1}"

echo "== host (pytest tests/host)"
MICROPYTHON="$mp" IMG_STREAM_BIN="$bin" python3 -m pytest -q -p no:cacheprovider "$root/tests/host" 2>&1 | tee "$log/py" | tail -n 25
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
line=$(grep -E "[0-9]+ (passed|failed)" "$log/py" | tail -1)
p=$(echo "$line" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || echo 0)
f=$(echo "$line" | grep -Eo '[0-9]+ (failed|error)' | grep -Eo '[0-9]+' | awk '{s += $1} END {print s + 0}')
count host "${p:-0}" "${f:-0}"

if [ "${IMG_STREAM_CROSS:-1}" != 0 ]; then
    echo "== riscv64 (make cross-test: chroot toolchain, qemu; IMG_STREAM_CROSS=0 skips)"
    make -s -C "$root" cross-test 2>&1 | tee "$log/cross" | grep -E "^== cross|^FAIL|FAILED|passed|cross:" || true
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
    steps=$(grep -c "^== cross:" "$log/cross" || true)
    f=$(sed -nE 's/^cross: FAILED: (.*)/\1/p' "$log/cross" | wc -w)
    grep -q "cross: all riscv64 checks passed\|cross: FAILED" "$log/cross" || f=$((f + 1))
    count riscv64 "$((steps - f > 0 ? steps - f : 0))" "$f"
fi

echo
cat "$log/summary"
rm -rf "$log"
[ "$failed" -gt 0 ] && status=1
echo "total: $passed passed, $failed failed"
exit $status
