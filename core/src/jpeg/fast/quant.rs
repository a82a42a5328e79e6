//! Quantisation by reciprocal multiplication, then zig-zag reordering.
//!
//! Each divisor `q` is combined with the DCT's output scale (see
//! [`super::dct`]) into one `f32` reciprocal, as libjpeg does for its float
//! DCT; the product is rounded to nearest by the float-magic trick (ties to
//! even, where libjpeg rounds them away from zero; exact ties are rare in
//! float DCT output).

use super::dct::SCALE;
#[cfg(any(test, target_arch = "riscv64"))]
use super::tables::ZIGZAG;

/// Adding 1.5 * 2^23 to a float of magnitude below 2^22 rounds it to an
/// integer held in the low mantissa bits.
pub const ROUND: f32 = 12_582_912.0;

/// Calls `$m!` with `ZIGZAG_T` as literals (the one spelled-out copy of
/// it; a test checks it against the computed table).
macro_rules! zigzag_t {
    ($m:ident) => {
        $m!(
            0, 8, 1, 2, 9, 16, 24, 17, 10, 3, 4, 11, 18, 25, 32, 40, 33, 26, 19, 12, 5, 6, 13, 20,
            27, 34, 41, 48, 56, 49, 42, 35, 28, 21, 14, 7, 15, 22, 29, 36, 43, 50, 57, 58, 51, 44,
            37, 30, 23, 31, 38, 45, 52, 59, 60, 53, 46, 39, 47, 54, 61, 62, 55, 63
        )
    };
}

/// One quantisation table prepared for the transposed DCT layout.
pub struct Divisors {
    /// The table in natural order, as written to DQT.
    pub natural: [u8; 64],
    /// `1 / (q * 8 * SCALE[v] * SCALE[u])` per transposed position.
    recip: [f32; 64],
}

/// Natural index of the coefficient stored at transposed position `t`
/// (the transpose is its own inverse).
const fn transpose(t: usize) -> usize {
    (t % 8) * 8 + t / 8
}

/// `ZIGZAG_T[k]`: position in the transposed DCT output of the k-th
/// coefficient in zig-zag order (spelled out in [`Divisors::quantize`]).
#[cfg(any(test, target_arch = "riscv64"))]
pub const ZIGZAG_T: [u16; 64] = {
    let mut out = [0u16; 64];
    let mut k = 0;
    while k < 64 {
        out[k] = transpose(ZIGZAG[k] as usize) as u16;
        k += 1;
    }
    out
};

impl Divisors {
    /// Prepares `table` (natural order, entries 1..=255).
    pub fn new(table: [u8; 64]) -> Divisors {
        let mut recip = [0f32; 64];
        for (t, r) in recip.iter_mut().enumerate() {
            let n = transpose(t);
            let (v, u) = (n / 8, n % 8);
            let q = f64::from(table[n].max(1));
            *r = (1.0 / (q * 8.0 * SCALE[v] * SCALE[u])) as f32;
        }
        Divisors {
            natural: table,
            recip,
        }
    }

    /// The reciprocals, per transposed position (for the RVV kernel).
    #[cfg(all(target_arch = "riscv64", target_feature = "v"))]
    pub fn recip(&self) -> &[f32; 64] {
        &self.recip
    }

    /// Quantises transposed DCT output `coef` into zig-zag order; `q` is
    /// working space (its contents do not matter).
    #[inline]
    pub fn quantize(&self, coef: &[f32; 64], q: &mut [i16; 64], zz: &mut [i16; 64]) {
        for t in 0..64 {
            // |coef * recip| <= 2048, well inside the trick's range.
            let bits = (coef[t] * self.recip[t] + ROUND).to_bits() as i32;
            q[t] = (bits - ROUND.to_bits() as i32) as i16;
        }
        // Written out so every index is a constant: one load and one store
        // per coefficient, no bounds checks and no temporary array (a test
        // checks the order against ZIGZAG_T).
        macro_rules! pick {
            ($($t:literal),*) => { let mut k = 0; $( zz[k] = q[$t]; k += 1; )* let _ = k; };
        }
        zigzag_t!(pick);
    }

    /// [`Divisors::quantize`] and the non-zero mask (bit k set <=> `zz[k]
    /// != 0`) in one pass, for scalar cores: unrolled with constant
    /// indices, each coefficient goes straight to its zig-zag slot and its
    /// mask bit, with no loop, no DCT-order array and no flag bytes. Wide
    /// SIMD targets keep the vectorised loop of `quantize`.
    #[cfg(not(target_arch = "riscv64"))]
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn quantize_masked(&self, coef: &[f32; 64], zz: &mut [i16; 64]) -> u64 {
        let mut mask = 0u64;
        macro_rules! pick {
            ($($t:literal),*) => {
                let mut k = 0;
                $(
                    let bits = (coef[$t] * self.recip[$t] + ROUND).to_bits() as i32;
                    let v = (bits - ROUND.to_bits() as i32) as i16;
                    zz[k] = v;
                    mask |= u64::from(v != 0) << k;
                    k += 1;
                )*
                let _ = k;
            };
        }
        zigzag_t!(pick);
        mask
    }

    /// [`Divisors::quantize`] and the non-zero mask for rv64gc: per
    /// coefficient eight instructions (two loads, the multiply, one
    /// `fcvt.w.s` rounding to nearest-even, the store and three for the mask
    /// bit) and no spills. `fcvt.w.s ... rne` of the product is exactly the
    /// `+ ROUND` trick (both round the same `f32` product half-to-even), in
    /// one instruction instead of three. In plain Rust LLVM sank the mask
    /// work below all 64 stores and spilled the results (about 190 loads
    /// and 190 stores a block); each coefficient is one `asm!` block here,
    /// so they run in order: 480 instructions a block fewer.
    #[cfg(target_arch = "riscv64")]
    #[inline]
    pub fn quantize_masked(&self, coef: &[f32; 64], zz: &mut [i16; 64]) -> u64 {
        let mut mask = 0u64;
        let (c, r, z) = (coef.as_ptr(), self.recip.as_ptr(), zz.as_mut_ptr());
        macro_rules! pick {
            ($($k:literal)*) => { $(
                // SAFETY: both offsets are constants inside the 64-entry
                // arrays (`ZIGZAG_T[k] < 64`, `k < 64`); the block only
                // reads `coef` and `recip`, writes `zz[k]` and touches no
                // stack.
                unsafe {
                    core::arch::asm!(
                        "flw {x}, {t}({c})",
                        "flw {y}, {t}({r})",
                        "fmul.s {x}, {x}, {y}",
                        "fcvt.w.s {v}, {x}, rne",
                        "sh {v}, {k2}({z})",
                        "snez {v}, {v}",
                        "slli {v}, {v}, {k}",
                        "or {m}, {m}, {v}",
                        c = in(reg) c,
                        r = in(reg) r,
                        z = in(reg) z,
                        t = const 4 * ZIGZAG_T[$k] as usize,
                        k2 = const 2 * $k,
                        k = const $k,
                        x = out(freg) _,
                        y = out(freg) _,
                        v = out(reg) _,
                        m = inout(reg) mask,
                        options(nostack, preserves_flags),
                    );
                }
            )* };
        }
        pick!(
            0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
            32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60
            61 62 63
        );
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_matches_quantize_and_mask() {
        let mut seed = 5u32;
        let mut checked = 0;
        for quality in [1u8, 50, 65, 100] {
            let table =
                super::super::tables::quant_table(super::super::tables::Class::Luma, quality);
            let div = Divisors::new(table);
            for _ in 0..200 {
                let mut coef = [0f32; 64];
                for c in coef.iter_mut() {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    // Mostly small values, so zeros and non-zeros both occur.
                    *c = ((seed >> 8) as i32 % 4000 - 2000) as f32 / (1 + (seed % 7) * 20) as f32;
                }
                let mut want = [0i16; 64];
                div.quantize(&coef, &mut [0; 64], &mut want);
                let mut got = [0x5555i16; 64];
                let mask = div.quantize_masked(&coef, &mut got);
                assert_eq!(got, want);
                assert_eq!(mask, super::super::huffman::nonzero_mask(&want));
                checked += 1;
            }
        }
        assert_eq!(checked, 800);
    }

    #[test]
    fn rounds_to_nearest_after_scaling() {
        for q in [1u8, 2, 3, 7, 16, 99, 255] {
            let div = Divisors::new([q; 64]);
            for c in [-2047.4f64, -700.6, -1.4, -0.6, 0.0, 0.4, 0.6, 13.3, 1023.0] {
                // Natural (1,2): v = 1, u = 2, transposed position 17,
                // zig-zag index 7.
                let mut coef = [0f32; 64];
                coef[2 * 8 + 1] = (c * f64::from(q) * 8.0 * SCALE[1] * SCALE[2]) as f32;
                let mut zz = [0i16; 64];
                div.quantize(&coef, &mut [0; 64], &mut zz);
                assert_eq!(f64::from(zz[7]), c.round(), "c={c} q={q}");
            }
        }
    }

    #[test]
    fn zigzag_literal_matches_table() {
        let div = Divisors::new([1; 64]);
        let mut coef = [0f32; 64];
        for (t, c) in coef.iter_mut().enumerate() {
            let n = transpose(t);
            // Distinct values that survive the scale: natural index + 1.
            *c = ((n + 1) as f64 * 8.0 * SCALE[n / 8] * SCALE[n % 8]) as f32;
        }
        let mut zz = [0i16; 64];
        div.quantize(&coef, &mut [0; 64], &mut zz);
        for k in 0..64 {
            assert_eq!(zz[k] as usize, ZIGZAG[k] as usize + 1, "k={k}");
            assert_eq!(transpose(usize::from(ZIGZAG_T[k])), ZIGZAG[k] as usize);
        }
    }

    #[test]
    fn reorders_to_zigzag() {
        let mut table = [1u8; 64];
        table[1] = 2; // natural (0,1)
        let div = Divisors::new(table);
        let mut coef = [0f32; 64];
        // Natural (0,1) sits at transposed 8; natural (1,0) at transposed 1.
        coef[8] = (8.0 * SCALE[1] * 10.0) as f32;
        coef[1] = (8.0 * SCALE[1] * 7.0) as f32;
        let mut zz = [0i16; 64];
        div.quantize(&coef, &mut [0; 64], &mut zz);
        assert_eq!(zz[1], 5);
        assert_eq!(zz[2], 7);
    }
}
