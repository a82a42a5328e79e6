"""Build facts: MicroPython's math comes from libm (not from the Rust
archive's weak compiler_builtins symbols), and a second `make` has nothing to
do."""
import subprocess

from conftest import ROOT

# Always the x86 build: under test-riscv64-host MICROPYTHON is the riscv64 qemu
# launcher, whose link is checked by tests/cross/check_libm.py instead.
MICROPYTHON = ROOT / "build" / "micropython"

MATH = ["floor", "ceil", "trunc", "fmod", "sqrt", "round"]


def test_math_comes_from_libm():
    # The port strips its binary; the dynamic symbol table still says where
    # each math function comes from: imported from glibc's libm ("U floor@GLIBC")
    # rather than defined inside (as the Rust archive's copies would be).
    syms = subprocess.run(["nm", "-D", str(MICROPYTHON)], capture_output=True, text=True, check=True).stdout
    imported = {l.split()[-1].split("@")[0] for l in syms.splitlines() if l.split()[0] == "U" and "@GLIBC" in l}
    defined = {l.split()[-1] for l in syms.splitlines() if len(l.split()) == 3}
    assert {"floor", "fmod", "sqrt"} <= imported, sorted(imported & set(MATH))
    assert not defined & set(MATH), sorted(defined & set(MATH))
    out = subprocess.run([str(MICROPYTHON), "-c", "import math; print(math.floor(-2.5), math.sqrt(2), math.fmod(7.5, 2))"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["-3", "1.414213562373095", "1.5"], out


def test_second_make_does_nothing():
    # `make -q` exits 0 only when every target is up to date: no refetch, no rebuild.
    r = subprocess.run(["make", "-q", "-C", str(ROOT), "all"], capture_output=True, text=True)
    assert r.returncode == 0, "make all would rebuild something:\n" + subprocess.run(
        ["make", "-n", "-C", str(ROOT), "all"], capture_output=True, text=True).stdout[-2000:]
