#!/usr/bin/env bash
# The riscv64 build must write the same JPEG bytes as the x86 one: runs
# encode_digest.py on both interpreters and compares every length and CRC.
#
#   same_bytes.sh X86_MICROPYTHON RV64_MICROPYTHON_COMMAND
#
# The second argument is a command line (qemu plus the binary), as written by
# scripts/cross-micropython.sh into build/micropython-rv64-qemu.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
x86=${1:?usage: same_bytes.sh X86_MICROPYTHON RV64_COMMAND}
rv64=${2:?usage: same_bytes.sh X86_MICROPYTHON RV64_COMMAND}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

export MICROPYPATH="$here/../../python"
"$x86" -X heapsize=32M "$here/encode_digest.py" >"$out/x86"
$rv64 -X heapsize=32M "$here/encode_digest.py" >"$out/rv64"
# An empty digest would compare equal; the script prints 288 lines.
lines=$(wc -l <"$out/x86")
[ "$lines" -eq 288 ] || { echo "FAIL same_bytes: x86 digest has $lines lines, expected 288"; exit 1; }
diff -u "$out/x86" "$out/rv64" | head -20 || true
if cmp -s "$out/x86" "$out/rv64"; then
    echo "ok   same_bytes: $lines encodes identical on x86 and riscv64"
else
    echo "FAIL same_bytes: riscv64 output differs from x86 (diff above)"
    exit 1
fi
