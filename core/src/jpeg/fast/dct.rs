//! Accurate integer forward DCT: the Loeffler-Ligtenberg-Moschytz
//! factorisation with 13-bit constants and 2 extra bits between passes, the
//! arithmetic of IJG libjpeg's `jfdctint.c` ("islow"), so coefficients match
//! libjpeg-turbo's accurate DCT.
//!
//! Both passes run down the columns of an 8x8 array, so each is eight
//! independent lanes that the compiler turns into SIMD where it can; a
//! transpose sits between them. The output is therefore *transposed*:
//! coefficient (vertical frequency v, horizontal frequency u) is at
//! `u * 8 + v`, and is scaled up by 8 (as in libjpeg: the quantiser divides
//! by 8 * q).

const CONST_BITS: i32 = 13;
const PASS1_BITS: i32 = 2;

// round(x * 2^13) of the constants the factorisation needs.
const FIX_0_298631336: i32 = 2446;
const FIX_0_390180644: i32 = 3196;
const FIX_0_541196100: i32 = 4433;
const FIX_0_765366865: i32 = 6270;
const FIX_0_899976223: i32 = 7373;
const FIX_1_175875602: i32 = 9633;
const FIX_1_501321110: i32 = 12299;
const FIX_1_847759065: i32 = 15137;
const FIX_1_961570560: i32 = 16069;
const FIX_2_053119869: i32 = 16819;
const FIX_2_562915447: i32 = 20995;
const FIX_3_072711026: i32 = 25172;

/// One 1-D pass over the eight columns of `d` (row-major), in place.
///
/// `FIRST` selects pass 1 scaling (keep `PASS1_BITS` extra bits, remove the
/// level shift from the DC term) or pass 2 scaling (drop them again).
#[inline(always)]
fn columns<const FIRST: bool>(d: &mut [i32; 64]) {
    let (even_shift, odd_shift) = if FIRST {
        (0, CONST_BITS - PASS1_BITS)
    } else {
        (PASS1_BITS, CONST_BITS + PASS1_BITS)
    };
    let even_round = if FIRST { 0 } else { 1 << (PASS1_BITS - 1) };
    let odd_round = 1 << (odd_shift - 1);
    // 8 samples of 128 summed: the level shift (sample - 128) of all 64
    // samples only changes DC, so it is applied once here.
    let centre = if FIRST { 8 * 128 } else { 0 };

    let mut out = [0i32; 64];
    for c in 0..8 {
        let tmp0 = d[c] + d[56 + c];
        let tmp7 = d[c] - d[56 + c];
        let tmp1 = d[8 + c] + d[48 + c];
        let tmp6 = d[8 + c] - d[48 + c];
        let tmp2 = d[16 + c] + d[40 + c];
        let tmp5 = d[16 + c] - d[40 + c];
        let tmp3 = d[24 + c] + d[32 + c];
        let tmp4 = d[24 + c] - d[32 + c];

        // Even part.
        let tmp10 = tmp0 + tmp3;
        let tmp13 = tmp0 - tmp3;
        let tmp11 = tmp1 + tmp2;
        let tmp12 = tmp1 - tmp2;
        if FIRST {
            out[c] = (tmp10 + tmp11 - centre) << PASS1_BITS;
            out[32 + c] = (tmp10 - tmp11) << PASS1_BITS;
        } else {
            out[c] = (tmp10 + tmp11 + even_round) >> even_shift;
            out[32 + c] = (tmp10 - tmp11 + even_round) >> even_shift;
        }
        let z1 = (tmp12 + tmp13) * FIX_0_541196100;
        out[16 + c] = (z1 + tmp13 * FIX_0_765366865 + odd_round) >> odd_shift;
        out[48 + c] = (z1 - tmp12 * FIX_1_847759065 + odd_round) >> odd_shift;

        // Odd part.
        let z1 = tmp4 + tmp7;
        let z2 = tmp5 + tmp6;
        let z3 = tmp4 + tmp6;
        let z4 = tmp5 + tmp7;
        let z5 = (z3 + z4) * FIX_1_175875602;
        let tmp4 = tmp4 * FIX_0_298631336;
        let tmp5 = tmp5 * FIX_2_053119869;
        let tmp6 = tmp6 * FIX_3_072711026;
        let tmp7 = tmp7 * FIX_1_501321110;
        let z1 = -z1 * FIX_0_899976223;
        let z2 = -z2 * FIX_2_562915447;
        let z3 = -z3 * FIX_1_961570560 + z5;
        let z4 = -z4 * FIX_0_390180644 + z5;
        out[56 + c] = (tmp4 + z1 + z3 + odd_round) >> odd_shift;
        out[40 + c] = (tmp5 + z2 + z4 + odd_round) >> odd_shift;
        out[24 + c] = (tmp6 + z2 + z3 + odd_round) >> odd_shift;
        out[8 + c] = (tmp7 + z1 + z4 + odd_round) >> odd_shift;
    }
    *d = out;
}

#[inline(always)]
fn transpose(d: &mut [i32; 64]) {
    for r in 0..8 {
        for c in r + 1..8 {
            d.swap(r * 8 + c, c * 8 + r);
        }
    }
}

/// Forward DCT of one block of samples (row-major, 0..=255) into `out`
/// (transposed, scaled by 8; see the module docs).
#[inline]
pub fn forward(samples: &[u8; 64], out: &mut [i32; 64]) {
    for (o, &s) in out.iter_mut().zip(samples.iter()) {
        *o = i32::from(s);
    }
    columns::<true>(out);
    transpose(out);
    columns::<false>(out);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// Textbook 2-D DCT-II (T.81 A.3.3) in f64, natural order, unscaled.
    fn reference(samples: &[u8; 64]) -> [f64; 64] {
        let mut out = [0.0; 64];
        for v in 0..8 {
            for u in 0..8 {
                let cu = if u == 0 {
                    core::f64::consts::FRAC_1_SQRT_2
                } else {
                    1.0
                };
                let cv = if v == 0 {
                    core::f64::consts::FRAC_1_SQRT_2
                } else {
                    1.0
                };
                let mut s = 0.0;
                for y in 0..8 {
                    for x in 0..8 {
                        let p = f64::from(samples[y * 8 + x]) - 128.0;
                        s += p
                            * (((2 * x + 1) as f64 * u as f64 * core::f64::consts::PI) / 16.0)
                                .cos()
                            * (((2 * y + 1) as f64 * v as f64 * core::f64::consts::PI) / 16.0)
                                .cos();
                    }
                }
                out[v * 8 + u] = 0.25 * cu * cv * s;
            }
        }
        out
    }

    fn check(samples: &[u8; 64]) {
        let want = reference(samples);
        let mut got = [0i32; 64];
        forward(samples, &mut got);
        for v in 0..8 {
            for u in 0..8 {
                let g = f64::from(got[u * 8 + v]) / 8.0;
                let w = want[v * 8 + u];
                // islow's integer rounding stays well within one unit.
                assert!((g - w).abs() < 1.0, "({v},{u}): got {g}, want {w}");
            }
        }
    }

    #[test]
    fn matches_float_reference() {
        let mut seed = 0x1234_5678u32;
        for _ in 0..200 {
            let mut b = [0u8; 64];
            for s in b.iter_mut() {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *s = (seed >> 24) as u8;
            }
            check(&b);
        }
        check(&[0; 64]);
        check(&[255; 64]);
        let mut chequer = [0u8; 64];
        for (i, s) in chequer.iter_mut().enumerate() {
            *s = if (i / 8 + i % 8) % 2 == 0 { 255 } else { 0 };
        }
        check(&chequer);
    }

    #[test]
    fn flat_block_has_only_dc() {
        let mut got = [0i32; 64];
        forward(&[200; 64], &mut got);
        // (200 - 128) * 8 (DC gain) * 8 (output scale).
        assert_eq!(got[0], 72 * 64);
        assert!(got[1..].iter().all(|&c| c == 0));
    }
}
