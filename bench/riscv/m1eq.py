"""Counts a qemu `-d exec,nochain -one-insn-per-tb` trace of a static riscv64
binary two ways: retired instructions, and the "m1-equivalent" count of
issue 16, which weights each RVV instruction by the register-group size it
works on (a rough proxy for how long a VLEN-128 in-order vector unit is busy):

- an ordinary vector instruction: LMUL under the last executed vset;
- widening and narrowing (vw*, vfw*, vn*, vfncvt*): 2 x LMUL;
- loads and stores: fields (segment nf, else 1) x EMUL, EMUL = EEW/SEW x LMUL;
- whole-register moves, loads and stores (vmv<n>r, vl<n>r, vs<n>r): n;
- fractional groups, mask ops (vlm, vsm, *.mm, vcpop, vfirst, vms[bio]f),
  single-element moves (vmv.x.s, vmv.s.x, vfmv.f.s, vfmv.s.f) and vset*: 1;
- every scalar instruction: 1.

  m1eq.py BINARY OBJDUMP < TRACE     prints "INSTRUCTIONS M1EQ"

The trace is read in execution order, so "the last executed vset" is exact.
vsetvl takes its vtype from a register, which a trace does not show: such a
vset leaves the state as it was and is counted on stderr (none of the
measured code uses it).
"""
import re
import subprocess
import sys

SEWS = (8, 16, 32, 64)
LMULS = (0.125, 0.25, 0.5, 1, 2, 4, 8)
STATES = [(s, m) for s in SEWS for m in LMULS]
LMUL_NAMES = {"mf8": 0.125, "mf4": 0.25, "mf2": 0.5, "m1": 1, "m2": 2, "m4": 4, "m8": 8}
WHOLE = re.compile(r"^v(?:mv(\d)r\.v|[ls](\d)r(?:e\d+)?\.v)$")
# vle8.v vse16.v vlse32.v vluxei8.v vle8ff.v vlseg3e8.v vssseg2e16.v vloxseg2ei16.v
MEMORY = re.compile(r"^v[ls](?:[su]|[uo]x)?(?:seg(\d))?(e|ei)(\d+)(?:ff)?\.v$")
SINGLE = {"vmv.x.s", "vmv.s.x", "vfmv.f.s", "vfmv.s.f"}
MASK_ONLY = {"vlm.v", "vsm.v", "vcpop.m", "vfirst.m", "vmsbf.m", "vmsif.m", "vmsof.m"}
# Pseudo-instructions objdump prints that start like narrowing ones but are not.
NOT_NARROWING = ("vnot.", "vneg.", "vfneg.", "vfnmacc.", "vfnmsac.", "vfnmadd.", "vfnmsub.")


def weights(mnemonic):
    """Returns the weight of `mnemonic` in each of STATES."""
    whole = WHOLE.match(mnemonic)
    if whole:
        return [int(whole.group(1) or whole.group(2))] * len(STATES)
    if mnemonic in SINGLE or mnemonic in MASK_ONLY or mnemonic.endswith(".mm") or mnemonic == "vmnot.m":
        return [1] * len(STATES)
    mem = MEMORY.match(mnemonic)
    if mem:
        fields = int(mem.group(1) or 1)
        eew = int(mem.group(3))
        if mem.group(2) == "ei":  # indexed: data at SEW/LMUL, index at EEW
            return [fields * max(1, m, eew / s * m) for s, m in STATES]
        return [fields * max(1, eew / s * m) for s, m in STATES]
    if mnemonic.startswith(("vw", "vfw", "vfncvt")) or (
        mnemonic.startswith("vn") and not mnemonic.startswith(NOT_NARROWING)
    ):
        return [max(1, 2 * m) for _, m in STATES]
    return [max(1, m) for _, m in STATES]


def vtype_state(operands):
    """The STATES index a `vsetvli`/`vsetivli` with these operands selects."""
    parts = operands.split(",")
    sew = int(next(p for p in parts if re.fullmatch(r"e\d+", p))[1:])
    lmul = next((LMUL_NAMES[p] for p in parts if p in LMUL_NAMES), 1)
    return STATES.index((sew, lmul))


def load_program(binary, objdump):
    """Maps each vector instruction's address (as the trace spells it: 16 hex
    digits) to its weights, and each vset's address to the state it selects
    (None for vsetvl)."""
    listing = subprocess.run(
        [objdump, "-d", "--no-show-raw-insn", binary], check=True, capture_output=True, text=True
    ).stdout
    vector, vsets = {}, {}
    line = re.compile(r"^\s*([0-9a-f]+):\s+(v\S*)\s*(\S*)")
    for text in listing.splitlines():
        m = line.match(text)
        if not m:
            continue
        pc = m.group(1).rjust(16, "0")
        mnemonic, operands = m.group(2), m.group(3)
        if mnemonic in ("vsetvli", "vsetivli"):
            vsets[pc] = vtype_state(operands)
        elif mnemonic == "vsetvl":
            vsets[pc] = None
        else:
            vector[pc] = weights(mnemonic)
    return vector, vsets


def main():
    vector, vsets = load_program(sys.argv[1], sys.argv[2])
    state = STATES.index((8, 1))
    total = 0
    extra = 0.0  # m1eq minus instructions, summed over vector instructions
    unknown = 0
    get_vector, get_vset = vector.get, vsets.get
    for text in sys.stdin:
        if not text.startswith("Trace"):
            continue
        total += 1
        # "Trace 0: 0xHOST [cs_base/PC/flags/cflags] ..."
        pc = text.split("/", 2)[1]
        w = get_vector(pc)
        if w is not None:
            extra += w[state] - 1
            continue
        if pc in vsets:
            s = get_vset(pc)
            if s is None:
                unknown += 1
            else:
                state = s
    if unknown:
        print(f"m1eq: {unknown} vsetvl (register vtype) executed; state kept", file=sys.stderr)
    print(total, round(total + extra, 3))


if __name__ == "__main__":
    main()
