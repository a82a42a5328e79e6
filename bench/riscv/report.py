"""Writes the markdown section of scripts/bench_riscv.sh from its counts:
report.py WORK WIDTH HEIGHT SECONDS COMMIT LOAD_BEFORE LOAD_AFTER VERSIONS [UPSTREAM_COMMIT].

Also writes WORK/lines.txt: one machine-readable line per measurement,
`riscv64 FORMAT ENCODER instr_px=X m1eq_px=Y bytes=N`."""
import os
import datetime
import math
import sys

from PIL import Image

work, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
took, commit, load_before, load_after, versions = sys.argv[4:9]
upstream = sys.argv[9] if len(sys.argv) > 9 else ""
px = w * h
FORMATS = ["GRAYSCALE", "RGB565", "RGB888", "NV12"]
ENCODERS = ["fast", "fastzbb", "fastv", "generic", "turbo", "turbov"] + (["turborvv"] if upstream else [])
# The encoders of the machine-readable lines (issue 16's names).
LINE_NAMES = {"fast": "fast", "fastv": "fast+v", "turbo": "turbo", "turbov": "turbo+v", "turborvv": "turbo-rvv"}
SOURCE = {"GRAYSCALE": "gray.raw", "RGB565": "rgb565x.rgb", "RGB888": "rgb888.raw", "NV12": "rgb888.raw"}


def count(tag):
    with open(f"{work}/{tag}.count") as f:
        return int(f.read())


def per_px(fmt, enc):
    return (count(f"{fmt}.{enc}.2") - count(f"{fmt}.{enc}.1")) / px


def m1eq_px(fmt, enc):
    """m1-equivalent count per pixel (vector builds; scalar ones: instructions)."""
    if not os.path.exists(f"{work}/{fmt}.{enc}.2.m1eq"):
        return per_px(fmt, enc)

    def m1(n):
        with open(f"{work}/{fmt}.{enc}.{n}.m1eq") as f:
            return float(f.read())

    return (m1(2) - m1(1)) / px


def jpeg(fmt, enc):
    with open(f"{work}/{fmt}.{enc}.2.jpg", "rb") as f:
        return f.read()


def psnr(fmt, enc):
    """PSNR of the decoded JPEG against the pixels the encoder was given (RGB
    for colour formats; NV12 against the RGB it was made from)."""
    mode = "L" if fmt == "GRAYSCALE" else "RGB"
    with open(f"{work}/{SOURCE[fmt]}", "rb") as f:
        ref = f.read()
    got = Image.open(f"{work}/{fmt}.{enc}.2.jpg").convert(mode).tobytes()
    mse = sum((a - b) ** 2 for a, b in zip(ref, got)) / len(ref)
    return 10 * math.log10(255 * 255 / mse) if mse else float("inf")


rows = []
vrows = []
lines = []
notes = []
for fmt in FORMATS:
    v = {e: per_px(fmt, e) for e in ENCODERS}
    for e in ENCODERS:
        if jpeg(fmt, e) != open(f"{work}/{fmt}.{e}.1.jpg", "rb").read():
            sys.exit(f"report: {fmt} {e}: the first and second encode differ")
    same = "yes" if jpeg(fmt, "fast") == jpeg(fmt, "fastv") == jpeg(fmt, "fastzbb") else "**no**"
    if jpeg(fmt, "turbo") != jpeg(fmt, "turbov"):
        notes.append(f"{fmt}: libjpeg-turbo's rv64gc and rv64gcv builds wrote different bytes.")
    rows.append(
        f"| {fmt} | {v['fast']:.1f} | {v['fastzbb']:.1f} | {v['fastv']:.1f} | {v['generic']:.1f} | {v['turbo']:.1f} | "
        f"{v['turbov']:.1f} | {v['turbo'] / v['fast']:.2f}× | {v['turbov'] / v['fastv']:.2f}× | "
        f"{v['turbo'] / v['generic']:.2f}× | {len(jpeg(fmt, 'fast'))} / {len(jpeg(fmt, 'turbo'))} | "
        f"{psnr(fmt, 'fast'):.2f} / {psnr(fmt, 'turbo'):.2f} | {same} |"
    )
    m = {e: m1eq_px(fmt, e) for e in ENCODERS}
    for e, name in LINE_NAMES.items():
        if e in v:
            lines.append(f"riscv64 {fmt} {name} instr_px={v[e]:.2f} m1eq_px={m[e]:.2f} bytes={len(jpeg(fmt, e))}")
    if upstream:
        vrows.append(
            f"| {fmt} | {v['fastv']:.1f} / {m['fastv']:.1f} | {v['turbov']:.1f} / {m['turbov']:.1f} | "
            f"{v['turborvv']:.1f} / {m['turborvv']:.1f} | {v['fastv'] / v['turborvv']:.2f} | "
            f"{m['fastv'] / m['turborvv']:.2f} | {len(jpeg(fmt, 'fastv'))} / {len(jpeg(fmt, 'turborvv'))} | "
            f"{psnr(fmt, 'fastv'):.2f} / {psnr(fmt, 'turborvv'):.2f} |"
        )
with open(f"{work}/lines.txt", "w") as f:
    f.write("\n".join(lines) + "\n")

if upstream:
    vector_table = f"""

#### Vector builds against upstream libjpeg-turbo's RVV SIMD, {w}x{h}, q65

Instructions / m1-equivalents per pixel. **turbo-rvv** = upstream libjpeg-turbo at `{upstream[:7]}` (main, its
`simd/riscv64/` RVV code: colour conversion, downsampling, islow DCT, quantisation; Huffman in C), built with its
own CMake (Release, static, `riscv64-linux-gnu-gcc`), SIMD chosen at run time, driven by the same harness. Goal of
issue 16: Fast +v at most 0.67 of turbo-rvv's m1-equivalents and below its instructions.

| format | Fast +v | turbo +v | turbo-rvv | Fast +v ÷ turbo-rvv, instr | Fast +v ÷ turbo-rvv, m1eq | bytes Fast +v / turbo-rvv | PSNR |
|---|---:|---:|---:|---:|---:|---:|---:|
""" + "\n".join(vrows)
else:
    vector_table = """

(No upstream libjpeg-turbo tree was available, so the comparison with its RVV SIMD is missing: see
`scripts/bench_riscv.sh`.)"""

now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
qemu, rustc, gcc = (versions.splitlines() + ["", "", ""])[:3]
# The default size's section is `riscv`; other sizes get their own (bench_riscv.sh names it).
section = os.environ.get("RISCV_BENCH_SECTION", "riscv")
size_note = "" if section == "riscv" else f", {w}x{h}"
size_env = "" if section == "riscv" else f"RISCV_BENCH_SIZE={w}x{h} "
print(f"""<!-- {section}:begin -->
## riscv64 instructions per pixel{size_note}

What: the K230 is a RISC-V board and its in-order core rewards retiring fewer instructions, so the encoders
are also compared as riscv64 code: retired instructions per pixel of ours and of libjpeg-turbo's portable C
path (each scalar and built with RVV), and of upstream libjpeg-turbo with its hand-written RVV SIMD, all
cross-built and run under the same qemu; vector builds also in m1-equivalents. Deterministic, unlike qemu's
wall time, which says nothing about the board.

Command: `{size_env}bash scripts/bench_riscv.sh --write` (part of `make bench`), run {now}, took {took} s.

Software: {qemu} (`-cpu rv64,v=true,vlen=128`), {rustc}, {gcc}, libjpeg-turbo 2.1.5 (Debian trixie's source)""" + (
    f", upstream libjpeg-turbo {upstream}." if upstream else "." ) + f"""
Code: img_stream {commit}. Machine load (does not affect counts) {load_before} before, {load_after} after.

Input: `tests/data/photos/coffee.png` centre-cropped and resized to {w}x{h} (Lanczos), converted to each format (NV12: full-range BT.601, chroma averaged over 2x2); quality 65, 4:2:0 (GRAYSCALE: one component).

Columns, all built for riscv64 and counted under the same qemu:

- **Fast** = `Engine::Fast` through `is_encode_into`, the staticlib as `make cross-lib` builds it (`rv64gc`, scalar:
  its quantiser is one `asm!` block a coefficient, `fcvt.w.s` rounding, and its RGB reader takes each pixel once,
  RGB565 through two byte tables);
  **Fast +zbb** = the same source built with `RUSTFLAGS=-Ctarget-feature=+zbb` (bit manipulation: a
  one-instruction trailing-zero count for the Huffman coder's zero runs, which plain `rv64gc` computes with a
  multiply and a table);
  **Fast +v** = built with `-Ctarget-feature=+v` instead, as `make canmv` builds the firmware's archive: that
  build uses the hand-written RVV kernels of `core/src/jpeg/fast/rvv.rs` (DCT + quantisation + zig-zag, RGB565
  colour conversion, row copies), which compute exactly what the portable code does;
- **Generic** = `Engine::Generic` (jpeg-encoder 0.7), scalar;
- **turbo** = libjpeg-turbo's portable C path (`jsimd_none.c`; 2.1 has no RISC-V SIMD), GCC `-O2 -march=rv64gc`,
  driven with the calls TurboJPEG makes for `TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC` (islow DCT, one compressor
  object, preallocated output); **turbo +v** = the same with `-march=rv64gcv` (GCC's auto-vectoriser, on at `-O2`).
  It gets RGB565 as the same pixels expanded to RGB888 and NV12 as Y, U, V planes (`jpeg_write_raw_data`, as
  `tjCompressFromYUVPlanes`), the conversion done once outside the count;
- ratios: libjpeg-turbo's instructions ÷ ours (above 1 = we retire fewer);
- bytes and PSNR (dB, decoded JPEG against the encoder's input; NV12 against the RGB picture it came from): Fast / turbo.

#### Retired instructions per pixel, {w}x{h}, q65

| format | Fast | Fast +zbb | Fast +v | Generic | turbo | turbo +v | turbo ÷ Fast | turbo +v ÷ Fast +v | turbo ÷ Generic | bytes | PSNR | +zbb, +v same bytes |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
""" + "\n".join(rows) + vector_table + """

How counted: `qemu-riscv64 -one-insn-per-tb -d exec,nochain` logs one line per executed instruction (Debian's
qemu-user has no TCG plugins); the log streams through a FIFO into `grep -c`. A calibration loop with a known
count (2004, `bench/riscv/loop.S`) is counted exactly before every run (vector builds: through `bench/riscv/m1eq.py`,
which counts the same lines). Per encode = count(2 encodes) −
count(1 encode), divided by the pixels: start-up, file reading and first-call set-up cancel, and qemu is
deterministic, so the figures repeat exactly for the same build. m1-equivalents (`bench/riscv/m1eq.py`, calibrated on
`bench/riscv/loop_v.S` before every run) weight each RVV instruction by the register group it works on: LMUL
under the last executed `vset`, widening and narrowing 2×LMUL, loads and stores fields × EMUL, whole-register
moves their register count, fractional LMUL, mask ops, single-element moves and `vset` 1; scalar instructions 1.

What the figures mean: an RVV instruction counts as one, however many elements it processes, while on the
K230's C908 core (VLEN 128) one can take several cycles (more with register grouping, LMUL > 1), so the +v
columns likely overstate the saving in time: count the firmware's +v build as somewhere between its column and
the scalar one until the board's own figures exist; the m1-equivalent columns are a closer proxy. The +zbb column counts only if the board's core implements Zbb
(CanMV's own C flags, `rv64imafdcv`, do not assume it). The last column checks that the three builds of Fast
write identical bytes. The board's own numbers (encode ms
and fps) come from running the encoder there (docs/CANMV.md).

Zbb on the K230's C908 (issue 16), searched 2026-12-01 in the docs and pages corpora ("XuanTie C908 Zbb bit
manipulation extension", "C908 user manual ISA extensions Zba Zbb Zbc Zbs RVV 1.0", "K230 datasheet C908
RV64GCB", "玄铁 C908 处理器 RV64GCB 指令集 RVA22"): T-Head's own C908 user manual is not among them. What
was found is second-hand: QEMU's `thead-c908`/`thead-c908v` CPU models (the patch "The C908 processor is based
on the RV64GCB[V] instruction set, compatible to RVA22 Profile", qemu-devel, Chao Liu, suggested by Alibaba's
LIU Zhiwei, sets `ext_zba`, `ext_zbb`, `ext_zbc`, `ext_zbs`; its `th_csr.c` refers to
XuanTie-C908-UserManual_xrvm_20240530.pdf); the chroot's qemu-riscv64 11.1.3 has both models. That is not T-Head's documentation, so
`make canmv` stays without `+zbb`; `bench/riscv/board/zbb_probe` answers the question on a board
(docs/CANMV.md).""" + ("\n\n" + "\n".join(notes) if notes else "") + """
<!-- """ + section + """:end -->""")
