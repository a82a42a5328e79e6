#!/usr/bin/env bash
# Runs one step of `make test` and records its count, so the Makefile's
# `test:` can print one summary (scripts/test-summary.sh) after all steps.
#
#   test-step.sh RESULTS_DIR NAME KIND CMD...
#
# CMD's output goes to the terminal and to RESULTS_DIR/NAME.log; its counts
# to RESULTS_DIR/NAME.count as "PASSED FAILED". KIND says how to count:
#   cargo   cargo test's "test result:" lines
#   pytest  pytest's closing line
#   runner  a closing "N passed, N failed" line (tests/micropython/runner.py)
#   cross   tests/cross/run.sh's "== cross: NAME" steps and its FAILED line
#   one     the command is one check: 1 passed or 1 failed by its exit status
# The exit status is CMD's; a step whose counts show a failure, or that
# printed no count at all, fails too, so no step can pass by saying nothing.
set -uo pipefail
results=${1:?RESULTS_DIR}
name=${2:?NAME}
kind=${3:?KIND}
shift 3
mkdir -p "$results"
log="$results/$name.log"

"$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

sum() { grep -Eo "[0-9]+ $1" "$log" | awk '{s += $1} END {print s + 0}'; }
case "$kind" in
cargo)
    p=$(grep -E '^test result:' "$log" | grep -Eo '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
    f=$(grep -E '^test result:' "$log" | grep -Eo '[0-9]+ failed' | awk '{s += $1} END {print s + 0}')
    grep -qE '^test result:' "$log" || f=$((f + 1))
    ;;
pytest)
    line=$(grep -E '^=*[^=]*[0-9]+ (passed|failed|error)' "$log" | tail -1)
    p=$(echo "$line" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || echo 0)
    f=$(echo "$line" | grep -Eo '[0-9]+ (failed|errors?)' | grep -Eo '[0-9]+' | awk '{s += $1} END {print s + 0}')
    [ -n "$line" ] || f=1
    ;;
runner)
    read -r p f < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log" | tail -1)
    [ -n "${p:-}" ] || { p=0; f=1; }
    ;;
cross)
    steps=$(grep -c '^== cross:' "$log" || true)
    f=$(sed -nE 's/^cross: FAILED: (.*)/\1/p' "$log" | wc -w)
    grep -qE '^cross: (all riscv64 checks passed|FAILED)' "$log" || f=$((f + 1))
    p=$((steps - f > 0 ? steps - f : 0))
    ;;
one)
    if [ "$status" -eq 0 ]; then p=1 f=0; else p=0 f=1; fi
    ;;
*)
    echo "test-step: unknown kind $kind" >&2
    exit 2
    ;;
esac
[ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
echo "$p $f" >"$results/$name.count"
[ "$status" -eq 0 ] && [ "$f" -eq 0 ]
