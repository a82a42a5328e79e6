#!/usr/bin/env python3
"""Fails if a riscv64 staticlib needs a symbol the firmware will not have.

    check_undefined.py [--nm NM] ARCHIVE...

The archive's undefined symbols are those some member references (`U`, or
weak `w`) and no member defines. On CanMV the archive links into a static
RT-Smart ELF against musl and the shim, so each of them must be in ALLOWED
below; anything else (a std-only libc call, a pthread or TLS helper, an
unwinder) would break the firmware link or, worse, the board at run time.
Runs inside the chroot of scripts/riscv-chroot.sh (riscv64-linux-gnu-nm).
"""

import argparse
import subprocess
import sys

# Why each symbol may stay undefined.
ALLOWED = {
    # core's slice copies and fills lower to these; every libc has them
    # (compiler_builtins leaves them to libc on Linux targets).
    "memcpy": "libc (musl on CanMV)",
    "memmove": "libc",
    "memset": "libc",
    "memcmp": "libc",
    # rustc emits bcmp for slice equality; musl and glibc both export it.
    "bcmp": "libc (musl exports it)",
    # core::ffi::CStr::from_ptr counts with strlen.
    "strlen": "libc",
}
# The shim's hooks (c_glue/img_stream/host_hooks.c: allocator, abort), which
# sit on libc malloc/free/abort. The shim is compiled into every firmware
# that links the archive, so any hook with this prefix is allowed.
SHIM_PREFIX = "img_stream_host_"


def symbols(nm, archive, *flags):
    """Names from `nm --format=posix FLAGS ARCHIVE`, skipping member headers."""
    out = subprocess.run(
        [nm, "--format=posix", *flags, archive],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    names = {}
    for line in out.splitlines():
        fields = line.split()
        # Member headers ("lib.a[x.o]:") have one field; symbols have 2-4.
        if len(fields) >= 2:
            names.setdefault(fields[0], set()).add(fields[1])
    return names


def undefined(nm, archive):
    """Symbols referenced by some member and defined by none."""
    refs = {
        name
        for name, kinds in symbols(nm, archive, "--undefined-only").items()
        if kinds & {"U", "w", "v"}
    }
    defined = set(symbols(nm, archive, "--defined-only"))
    return refs - defined


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nm", default="riscv64-linux-gnu-nm")
    parser.add_argument("archives", nargs="+")
    args = parser.parse_args()
    failed = False
    for archive in args.archives:
        missing = undefined(args.nm, archive)
        bad = sorted(s for s in missing if s not in ALLOWED and not s.startswith(SHIM_PREFIX))
        if bad:
            failed = True
            print(f"FAIL {archive}: undefined symbols outside the allow-list:")
            for name in bad:
                print(f"    {name}")
        else:
            print(f"ok   {archive}: {len(missing)} undefined, all allowed: {' '.join(sorted(missing))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
