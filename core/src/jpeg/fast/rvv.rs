//! The block kernel for RISC-V with the V extension (the K230's C908 core):
//! DCT, quantisation, zig-zag reordering and the non-zero mask of one block
//! in one hand-written RVV sequence.
//!
//! It computes exactly what the portable path computes ([`super::dct`],
//! [`super::quant`], [`super::huffman`]'s mask), operation for operation in
//! `f32` with the same rounding, so scalar and vector builds write the same
//! bytes (a test compares them on every build that has this module). What
//! it saves is the shape LLVM's vectoriser gives the portable code: here a
//! row of eight `f32` is one LMUL-2 group, the eight rows of a pass are
//! eight groups, the transpose between the passes is eight strided stores,
//! and quantisation, narrowing, the zig-zag gather and the mask need no
//! round trip through memory and no `memset`.
//!
//! VLEN >= 128 is assumed (eight `f32` per LMUL-2 group): the K230's core
//! has VLEN 128, and RVV 1.0 requires at least 128 for the V extension.

/// [`super::quant::ZIGZAG_T`] as a static the kernel loads from.
static ZIGZAG_T: [u16; 64] = super::quant::ZIGZAG_T;

/// `asm!` with every vector register declared clobbered, for the kernels
/// that use (nearly) all of them; `nostack`.
macro_rules! asm_all_v {
    ($($args:tt)*) => {
        core::arch::asm!(
            $($args)*
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            out("v24") _, out("v25") _, out("v26") _, out("v27") _,
            out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack),
        )
    };
}

/// One instruction `$op $d, $a, $b` as an assembler line.
macro_rules! op {
    ($op:literal, $d:literal, $a:literal, $b:literal) => {
        concat!($op, " ", $d, ", ", $a, ", ", $b, "\n")
    };
}

/// Sum and difference of `$a` and `$b` into `$sum` and `$diff` (the AAN
/// butterfly); `$sum` must not be `$a` or `$b`.
macro_rules! butterfly {
    ($sum:literal, $diff:literal, $a:literal, $b:literal) => {
        concat!(
            op!("vfadd.vv", $sum, $a, $b),
            op!("vfsub.vv", $diff, $a, $b)
        )
    };
}

/// `$op $v, $v, $b` for each register `$v`.
macro_rules! each {
    ($op:literal, $b:literal; $($v:literal),* $(,)?) => {
        concat!($(op!($op, $v, $v, $b)),*)
    };
}

/// Each `$d <- $s` narrowed to half the element width (low halves).
macro_rules! narrow {
    ($($d:literal <- $s:literal),* $(,)?) => {
        concat!($(op!("vnsrl.wi", $d, $s, "0")),*)
    };
}

/// The instructions given, `{p}` advancing `$step` bytes between them.
macro_rules! walk {
    ($step:literal; $first:literal $(, $insn:literal)* $(,)?) => {
        concat!($first, "\n", $("addi {p}, {p}, ", $step, "\n", $insn, "\n"),*)
    };
}

/// One 8-point AAN pass over eight LMUL-2 groups (the rows, lanes = the
/// eight columns), in the order of `dct::columns`. Inputs: rows 0..7 in
/// v8, v10, ..., v22. Outputs, coefficient k in: 0 v6, 1 v22, 2 v14,
/// 3 v20, 4 v10, 5 v18, 6 v24, 7 v0. `$dc` runs right after DC is formed
/// (pass 1's level shift).
macro_rules! aan_pass {
    ($dc:literal) => {
        concat!(
            butterfly!("v0", "v22", "v8", "v22"), // tmp0, tmp7 = r0 +- r7
            butterfly!("v8", "v20", "v10", "v20"), // tmp1, tmp6 = r1 +- r6
            butterfly!("v10", "v18", "v12", "v18"), // tmp2, tmp5 = r2 +- r5
            butterfly!("v12", "v16", "v14", "v16"), // tmp3, tmp4 = r3 +- r4
            // Even part.
            butterfly!("v2", "v0", "v0", "v12"), // tmp10, tmp13 = tmp0 +- tmp3
            butterfly!("v4", "v8", "v8", "v10"), // tmp11, tmp12 = tmp1 +- tmp2
            "vfadd.vv v6, v2, v4\n",             // out0 = tmp10 + tmp11
            $dc,
            "vfsub.vv v10, v2, v4\n",              // out4 = tmp10 - tmp11
            "vfadd.vv v12, v8, v0\n",              // z1 = (tmp12 + tmp13)
            "vfmul.vf v12, v12, {c707}\n",         //   * 1/sqrt(2)
            butterfly!("v14", "v24", "v0", "v12"), // out2, out6 = tmp13 +- z1
            // Odd part.
            "vfadd.vv v0, v16, v18\n",              // tmp10 = tmp4 + tmp5
            "vfadd.vv v2, v18, v20\n",              // tmp11 = tmp5 + tmp6
            "vfadd.vv v4, v20, v22\n",              // tmp12 = tmp6 + tmp7
            "vfsub.vv v8, v0, v4\n",                // z5 = (tmp10 - tmp12)
            "vfmul.vf v8, v8, {c382}\n",            //   * 0.382683433
            "vfmul.vf v12, v0, {c541}\n",           // z2 = 0.541196100 * tmp10
            "vfadd.vv v12, v12, v8\n",              //   + z5
            "vfmul.vf v26, v4, {c1306}\n",          // z4 = 1.306562965 * tmp12
            "vfadd.vv v26, v26, v8\n",              //   + z5
            "vfmul.vf v28, v2, {c707}\n",           // z3 = tmp11 * 1/sqrt(2)
            butterfly!("v30", "v16", "v22", "v28"), // z11, z13 = tmp7 +- z3
            butterfly!("v18", "v20", "v16", "v12"), // out5, out3 = z13 +- z2
            butterfly!("v22", "v0", "v30", "v26"),  // out1, out7 = z11 +- z4
        )
    };
}

/// DCT, quantisation by `recip` (transposed layout, as `Divisors` keeps it)
/// and zig-zag reordering of `samples` into `zz`; returns the non-zero mask
/// (bit k set <=> `zz[k] != 0`). Same results as the portable path.
#[inline]
pub fn dct_quantize(samples: &[u8; 64], recip: &[f32; 64], zz: &mut [i16; 64]) -> u64 {
    // Pass 1's transposed output, row-major: the transpose goes through it.
    let mut a = core::mem::MaybeUninit::<[f32; 64]>::uninit();
    let mask: u64;
    // SAFETY: every access stays inside the arrays given (64 bytes of
    // `samples`, 256 of `a` and `recip`, 128 of `ZIGZAG_T` and `zz`); the
    // vector registers used are declared clobbered, vl/vtype are set here
    // (Rust's asm! treats them as clobbered), and `a` is written in full
    // (eight strided stores of eight lanes) before it is read.
    unsafe {
        asm_all_v!(
            // Samples to f32: 32 at a time (e32, LMUL 8), the u8 loads at
            // EMUL 2 under the same vtype.
            "li {t}, 32",
            "vsetvli zero, {t}, e32, m8, ta, ma",
            "vle8.v v0, ({s})",
            "addi {t}, {s}, 32",
            "vle8.v v2, ({t})",
            "vzext.vf4 v8, v0",
            "vzext.vf4 v16, v2",
            "vfcvt.f.xu.v v8, v8",
            "vfcvt.f.xu.v v16, v16",
            // Rows 0..7 are now v8, v10, ..., v22 (eight f32 each).
            "vsetivli zero, 8, e32, m2, ta, ma",
            aan_pass!("vfsub.vf v6, v6, {centre}\n"),
            // Transpose: coefficient k of pass 1 becomes column k of `a`.
            "li {t}, 32",
            "mv {p}, {a}",
            walk!(4; "vsse32.v v6, ({p}), {t}", "vsse32.v v22, ({p}), {t}",
                "vsse32.v v14, ({p}), {t}", "vsse32.v v20, ({p}), {t}",
                "vsse32.v v10, ({p}), {t}", "vsse32.v v18, ({p}), {t}",
                "vsse32.v v24, ({p}), {t}", "vsse32.v v0, ({p}), {t}"),
            "vle32.v v8, ({a})",
            "addi {p}, {a}, 32",
            walk!(32; "vle32.v v10, ({p})", "vle32.v v12, ({p})", "vle32.v v14, ({p})",
                "vle32.v v16, ({p})", "vle32.v v18, ({p})", "vle32.v v20, ({p})",
                "vle32.v v22, ({p})"),
            aan_pass!(""),
            // Quantise: coefficient row k times reciprocal row k, rounded by
            // adding 1.5 * 2^23; the integer is then the low mantissa bits.
            // Rows 1, 3 and 5 move out of v16..v23, where the narrowed
            // rows go.
            "vle32.v v26, ({r})",
            "vfmul.vv v6, v6, v26",
            "addi {p}, {r}, 32",
            walk!(32; "vle32.v v26, ({p})\nvfmul.vv v2, v22, v26",
                "vle32.v v26, ({p})\nvfmul.vv v14, v14, v26",
                "vle32.v v26, ({p})\nvfmul.vv v4, v20, v26",
                "vle32.v v26, ({p})\nvfmul.vv v10, v10, v26",
                "vle32.v v26, ({p})\nvfmul.vv v8, v18, v26",
                "vle32.v v26, ({p})\nvfmul.vv v24, v24, v26",
                "vle32.v v26, ({p})\nvfmul.vv v0, v0, v26"),
            each!("vfadd.vf", "{round}"; "v6", "v2", "v14", "v4", "v10", "v8", "v24", "v0"),
            // Low 16 bits of each (the rounding constant's are zero): the
            // quantised rows, transposed layout, in v16..v23.
            "vsetivli zero, 8, e16, m1, ta, ma",
            narrow!("v16" <- "v6", "v17" <- "v2", "v18" <- "v14", "v19" <- "v4",
                "v20" <- "v10", "v21" <- "v8", "v22" <- "v24", "v23" <- "v0"),
            // Zig-zag: one gather over the whole block (e16, LMUL 8).
            "li {t}, 64",
            "vsetvli zero, {t}, e16, m8, ta, ma",
            "vle16.v v24, ({zt})",
            "vrgather.vv v0, v16, v24",
            "vse16.v v0, ({zz})",
            "vmsne.vi v8, v0, 0",
            // The 64 mask bits are the low 64 bits of v8.
            "vsetivli zero, 1, e64, m1, ta, ma",
            "vmv.x.s {m}, v8",
            s = in(reg) samples.as_ptr(),
            a = in(reg) a.as_mut_ptr(),
            r = in(reg) recip.as_ptr(),
            zt = in(reg) ZIGZAG_T.as_ptr(),
            zz = in(reg) zz.as_mut_ptr(),
            t = out(reg) _,
            p = out(reg) _,
            m = lateout(reg) mask,
            centre = in(freg) 8.0f32 * 128.0,
            c707 = in(freg) core::f32::consts::FRAC_1_SQRT_2,
            c382 = in(freg) 0.382_683_43f32,
            c541 = in(freg) 0.541_196_1f32,
            c1306 = in(freg) 1.306_563f32,
            round = in(freg) super::quant::ROUND,
        );
    }
    mask
}

/// Loads row `k` of the row-pointer array at `{p}` into vector register
/// `$v` for each `k => $v`, under the current vtype (`{t}` is scratch).
macro_rules! load_rows {
    ($($k:literal => $v:literal),* $(,)?) => {
        concat!($("ld {t}, 8*", $k, "({p})\n", "vle8.v ", $v, ", ({t})\n"),*)
    };
}

/// Stores each register with `$store` at `{d}`, `{d}` advancing 8 bytes
/// after each.
macro_rules! store_rows {
    ($store:literal; $($v:literal),* $(,)?) => {
        concat!($($store, " ", $v, "\n", "addi {d}, {d}, 8\n"),*)
    };
}

/// Copies 16 bytes from each of the 16 rows `src` (already bounds-checked
/// by the caller) into the four luma blocks of a 16x16 MCU, left half of a
/// row to `y[2 * (r / 8)]`, right half to the block after it. The portable
/// code does this a byte at a time on rv64 (47 instructions a row): here a
/// row is one vector load and one two-element strided store.
#[inline]
pub fn luma_16x16(src: &[&[u8; 16]; 16], y: &mut [[u8; 64]; 4]) {
    // SAFETY: each load reads the 16 bytes of one `&[u8; 16]`; the stores
    // write 8 bytes at row offsets 0..56 of blocks 0..3 of `y` (eight-byte
    // elements, aligned: `Mcu` is 8-byte aligned and each offset is a
    // multiple of 8); v8..v23 are declared clobbered.
    unsafe {
        core::arch::asm!(
            "vsetivli zero, 16, e8, m1, ta, ma",
            load_rows!(
                0 => "v8", 1 => "v9", 2 => "v10", 3 => "v11", 4 => "v12", 5 => "v13",
                6 => "v14", 7 => "v15", 8 => "v16", 9 => "v17", 10 => "v18", 11 => "v19",
                12 => "v20", 13 => "v21", 14 => "v22", 15 => "v23",
            ),
            // Each row as two 64-bit elements: left half to block 2k,
            // right half 64 bytes further, in block 2k + 1.
            "vsetivli zero, 2, e64, m1, ta, ma",
            "li {t}, 64",
            store_rows!("vsse64.v"; "v8, ({d}), {t}", "v9, ({d}), {t}", "v10, ({d}), {t}",
                "v11, ({d}), {t}", "v12, ({d}), {t}", "v13, ({d}), {t}", "v14, ({d}), {t}",
                "v15, ({d}), {t}"),
            // Rows 8..15 go to blocks 2 and 3.
            "addi {d}, {d}, 64",
            store_rows!("vsse64.v"; "v16, ({d}), {t}", "v17, ({d}), {t}", "v18, ({d}), {t}",
                "v19, ({d}), {t}", "v20, ({d}), {t}", "v21, ({d}), {t}", "v22, ({d}), {t}",
                "v23, ({d}), {t}"),
            p = in(reg) src.as_ptr(),
            d = inout(reg) y.as_mut_ptr() => _,
            t = out(reg) _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            options(nostack),
        );
    }
}

/// Copies 8 bytes from each of the 8 rows `src` into one 8x8 block.
#[inline]
pub fn block_8x8(src: &[&[u8; 8]; 8], y: &mut [u8; 64]) {
    // SAFETY: each load reads the 8 bytes of one `&[u8; 8]`, each store 8
    // bytes of `y` at offsets 0..56 (byte elements: no alignment needed);
    // v8..v15 are declared clobbered.
    unsafe {
        core::arch::asm!(
            "vsetivli zero, 8, e8, m1, ta, ma",
            load_rows!(
                0 => "v8", 1 => "v9", 2 => "v10", 3 => "v11", 4 => "v12", 5 => "v13",
                6 => "v14", 7 => "v15",
            ),
            store_rows!("vse8.v"; "v8, ({d})", "v9, ({d})", "v10, ({d})", "v11, ({d})",
                "v12, ({d})", "v13, ({d})", "v14, ({d})", "v15, ({d})"),
            p = in(reg) src.as_ptr(),
            d = inout(reg) y.as_mut_ptr() => _,
            t = out(reg) _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            options(nostack),
        );
    }
}

/// Copies `src` into `dst` (same length, at most 64 bytes) with one vector
/// load and store; the portable copy is a byte at a time on rv64.
#[inline]
pub fn copy_short(src: &[u8], dst: &mut [u8]) {
    let n = src.len().min(dst.len()).min(64);
    // SAFETY: both accesses cover the first `n` bytes of their slices
    // (vl = n: `vsetvli` grants n here, as n <= VLMAX = 64 for e8/m4 at
    // VLEN 128, 32 for m2); v8..v11 are declared clobbered.
    unsafe {
        if n <= 32 {
            core::arch::asm!(
                "vsetvli zero, {n}, e8, m2, ta, ma",
                "vle8.v v8, ({s})",
                "vse8.v v8, ({d})",
                n = in(reg) n, s = in(reg) src.as_ptr(), d = in(reg) dst.as_mut_ptr(),
                out("v8") _, out("v9") _,
                options(nostack),
            );
        } else {
            core::arch::asm!(
                "vsetvli zero, {n}, e8, m4, ta, ma",
                "vle8.v v8, ({s})",
                "vse8.v v8, ({d})",
                n = in(reg) n, s = in(reg) src.as_ptr(), d = in(reg) dst.as_mut_ptr(),
                out("v8") _, out("v9") _, out("v10") _, out("v11") _,
                options(nostack),
            );
        }
    }
}

/// Unpacks the RGB565 words in `$w` (e16) to 8-bit R, G, B in `$r`, `$g`,
/// `$b` with `rgb::unpack565`'s bit replication, written as multiplications
/// (`x << 3 | x >> 2 == (x * 33) >> 2` for 5 bits, `(x * 65) >> 4` for 6:
/// the two parts never overlap).
macro_rules! unpack565 {
    ($w:literal, $r:literal, $g:literal, $b:literal) => {
        concat!(
            op!("vsrl.vi", $r, $w, "11"),
            op!("vmul.vx", $r, $r, "{c33}"),
            op!("vsrl.vi", $r, $r, "2"),
            op!("vsrl.vi", $g, $w, "5"),
            op!("vand.vx", $g, $g, "{c63}"),
            op!("vmul.vx", $g, $g, "{c65}"),
            op!("vsrl.vi", $g, $g, "4"),
            op!("vand.vx", $b, $w, "{c31}"),
            op!("vmul.vx", $b, $b, "{c33}"),
            op!("vsrl.vi", $b, $b, "2"),
        )
    };
}

/// `rgb::luma` of R, G, B in `$r`, `$g`, `$b` (e16) into `$y` (e16): the
/// 32-bit sum in v24..v25, `+ 32768 >> 16` by `vnclipu` rounding to
/// nearest-up (vxrm = 0), which cannot saturate here (the result is <= 255).
macro_rules! luma {
    ($r:literal, $g:literal, $b:literal, $y:literal) => {
        concat!(
            op!("vwmulu.vx", "v24", $r, "{yr}"),
            op!("vwmaccu.vx", "v24", "{yg}", $g),
            op!("vwmaccu.vx", "v24", "{yb}", $b),
            op!("vnclipu.wi", $y, "v24", "16"),
        )
    };
}

/// Two rows of a 4:2:0 RGB565 MCU (16 little-endian pixels each) to their
/// 32 luma samples (`y`, row-major) and the row of 8 Cb and Cr samples they
/// make, exactly as `rgb::Rgb` computes them (`luma`, and `chroma_b` /
/// `chroma_r` of the 2x2 sums). Even and odd pixels are loaded apart
/// (a two-field segment load), which is the horizontal pairing for free.
#[inline]
pub fn rgb565_rows(rows: [&[u8; 32]; 2], y: &mut [u8; 32], cb: &mut [u8], cr: &mut [u8]) {
    use super::rgb::{chroma_offset, CB_G, CB_R, CR_B, CR_G, HALF, Y_B, Y_G, Y_R};
    assert!(cb.len() >= 8 && cr.len() >= 8);
    // SAFETY: the loads read the 32 bytes of each row; the stores write the
    // 32 bytes of `y` and 8 bytes of `cb` and `cr` (checked above), all
    // byte or 16-bit elements of byte buffers (the segment loads use e16:
    // rows come from the frame, which RGB565 validation keeps 2-aligned ...
    // see the caller); the vector registers are declared clobbered and vxrm
    // is set here.
    unsafe {
        asm_all_v!(
            "csrwi vxrm, 0",
            "vsetivli zero, 8, e32, m2, ta, ma",
            "vmv.v.x v28, {off}",
            "vsetivli zero, 8, e16, m1, ta, ma",
            "vlseg2e16.v v8, ({r0})",
            "vlseg2e16.v v10, ({r1})",
            unpack565!("v8", "v12", "v13", "v14"),
            unpack565!("v9", "v15", "v16", "v17"),
            unpack565!("v10", "v18", "v19", "v20"),
            unpack565!("v11", "v21", "v22", "v23"),
            luma!("v12", "v13", "v14", "v4"),
            luma!("v15", "v16", "v17", "v5"),
            luma!("v18", "v19", "v20", "v6"),
            luma!("v21", "v22", "v23", "v7"),
            // 2x2 sums: even + odd pixels of both rows.
            "vadd.vv v12, v12, v15",
            "vadd.vv v12, v12, v18",
            "vadd.vv v12, v12, v21",
            "vadd.vv v13, v13, v16",
            "vadd.vv v13, v13, v19",
            "vadd.vv v13, v13, v22",
            "vadd.vv v14, v14, v17",
            "vadd.vv v14, v14, v20",
            "vadd.vv v14, v14, v23",
            // Cb and Cr: offset + three products (the 32768 ones unsigned,
            // as 32768 is no i16; the sums wrap exactly as i32 arithmetic),
            // then >> 18 (2x2 pixels summed).
            "vmv2r.v v24, v28",
            "vmv2r.v v26, v28",
            "vwmacc.vx v24, {cbr}, v12",
            "vwmacc.vx v24, {cbg}, v13",
            "vwmaccu.vx v24, {half}, v14",
            "vwmaccu.vx v26, {half}, v12",
            "vwmacc.vx v26, {crg}, v13",
            "vwmacc.vx v26, {crb}, v14",
            "vnsra.wi v2, v24, 18",
            "vnsra.wi v3, v26, 18",
            // To bytes; luma rows re-interleaved (even, odd) as they are
            // stored.
            "vsetivli zero, 8, e8, mf2, ta, ma",
            narrow!("v4" <- "v4", "v5" <- "v5", "v6" <- "v6", "v7" <- "v7", "v2" <- "v2",
                "v3" <- "v3"),
            "vsseg2e8.v v4, ({y0})",
            "vsseg2e8.v v6, ({y1})",
            "vse8.v v2, ({cb})",
            "vse8.v v3, ({cr})",
            r0 = in(reg) rows[0].as_ptr(),
            r1 = in(reg) rows[1].as_ptr(),
            y0 = in(reg) y.as_mut_ptr(),
            y1 = in(reg) y.as_mut_ptr().add(16),
            cb = in(reg) cb.as_mut_ptr(),
            cr = in(reg) cr.as_mut_ptr(),
            off = in(reg) chroma_offset(2),
            c33 = in(reg) 33,
            c63 = in(reg) 63,
            c65 = in(reg) 65,
            c31 = in(reg) 31,
            yr = in(reg) Y_R,
            yg = in(reg) Y_G,
            yb = in(reg) Y_B,
            cbr = in(reg) CB_R,
            cbg = in(reg) CB_G,
            half = in(reg) HALF,
            crg = in(reg) CR_G,
            crb = in(reg) CR_B,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::{dct, huffman, quant::Divisors, tables};
    use super::*;

    /// The kernel against the portable path it replaces, bit for bit, on
    /// random, flat and extreme blocks at several qualities.
    #[test]
    fn matches_portable_path() {
        let mut seed = 0x9e37_79b9u32;
        let mut blocks = std::vec![[0u8; 64], [255u8; 64], [128u8; 64]];
        for i in 0..300 {
            let mut b = [0u8; 64];
            for (k, s) in b.iter_mut().enumerate() {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                // Every third block smooth (few non-zero coefficients).
                *s = if i % 3 == 0 {
                    (k * 3 + i) as u8
                } else {
                    (seed >> 24) as u8
                };
            }
            blocks.push(b);
        }
        let mut checked = 0;
        for quality in [1u8, 30, 65, 90, 100] {
            for class in [tables::Class::Luma, tables::Class::Chroma] {
                let div = Divisors::new(tables::quant_table(class, quality));
                for b in &blocks {
                    let (mut coef, mut tmp) = ([0f32; 64], [0f32; 64]);
                    dct::forward(b, &mut coef, &mut tmp);
                    let mut want = [0i16; 64];
                    div.quantize(&coef, &mut [0; 64], &mut want);
                    let mut got = [0x5555i16; 64];
                    let mask = dct_quantize(b, div.recip(), &mut got);
                    assert_eq!(got, want, "q{quality} block {b:?}");
                    assert_eq!(mask, huffman::nonzero_mask(&want));
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 5 * 2 * 303);
    }
}
