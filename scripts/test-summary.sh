#!/usr/bin/env bash
# Prints one line per step of `make test` and the closing
# "total: N passed, N failed" line; fails when any step failed or left no
# count (it did not run, e.g. because what it needs did not build).
#
#   test-summary.sh RESULTS_DIR STEP...
set -uo pipefail
results=${1:?RESULTS_DIR}
shift
passed=0
failed=0
echo
for step in "$@"; do
    if [ -f "$results/$step.count" ]; then
        read -r p f <"$results/$step.count"
        note=""
    else
        p=0 f=1 note=" (did not run: see the output above)"
    fi
    printf '%-20s %s passed, %s failed%s\n' "$step:" "$p" "$f" "$note"
    passed=$((passed + p))
    failed=$((failed + f))
done
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
