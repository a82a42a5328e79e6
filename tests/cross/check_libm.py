#!/usr/bin/env python3
"""The riscv64 MicroPython's math functions must come from libm, not Rust.

    check_libm.py LINK_MAP

The Rust staticlib's compiler_builtins exports weak floor/fmod/sqrt/...; if
the link order is wrong they silently replace libm's for all of MicroPython
(../shared/docs/build-facts.md). scripts/cross-micropython.sh asks the linker
for a map; this reads, for each function, the input file that defines it.
"""

import re
import sys

FUNCTIONS = ("floor", "ceil", "trunc", "round", "fmod", "sqrt", "fma")
SECTION = re.compile(r"^ \.\S*\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+(\S+)$")
SECTION_NAME_ONLY = re.compile(r"^ \.\S+$")
CONTINUATION = re.compile(r"^\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+(\S+)$")
SYMBOL = re.compile(r"^\s+0x[0-9a-f]+\s+(\S+)$")


def definers(lines):
    """Maps each symbol in the memory map to the input file defining it."""
    found = {}
    source = None
    in_map = False
    for line in lines:
        if line.startswith("Linker script and memory map"):
            in_map = True
            continue
        if not in_map:
            continue
        # Long section names put address, size and file on the next line.
        m = SECTION.match(line) or CONTINUATION.match(line)
        if m:
            source = m.group(1)
            continue
        if SECTION_NAME_ONLY.match(line):
            source = None
            continue
        m = SYMBOL.match(line)
        if m and source:
            found.setdefault(m.group(1), source)
    return found


def main():
    with open(sys.argv[1]) as f:
        found = definers(f.read().splitlines())
    bad = 0
    for name in FUNCTIONS:
        source = found.get(name)
        if source is None:
            print(f"     {name}: not linked")
        elif "libm.a" in source or "libm-" in source:
            print(f"ok   {name}: {source.rsplit('/', 1)[-1]}")
        else:
            print(f"FAIL {name}: from {source}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
