//! Forward DCT: the Arai-Agui-Nakajima factorisation in `f32`, as in IJG
//! libjpeg's `jfdctflt.c`, its most accurate DCT (more accurate than the
//! integer "islow"). Five multiplications per 8-point pass instead of
//! islow's twelve, and no descaling shifts; the factorisation's per-
//! coefficient scale factors are folded into the quantiser's reciprocals.
//! `f32` lanes are the SIMD width every target has.
//!
//! Both passes run down the columns of an 8x8 array, so each is eight
//! independent lanes that the compiler turns into SIMD where it can; a
//! transpose sits between them. The output is therefore *transposed*:
//! coefficient (vertical frequency v, horizontal frequency u) is at
//! `u * 8 + v`, scaled by `8 * SCALE[v] * SCALE[u]`.

/// AAN output scale per frequency: 1 for DC, `sqrt(2) cos(k pi / 16)`
/// otherwise (libjpeg's `aanscalefactor`).
pub const SCALE: [f64; 8] = [
    1.0,
    1.387_039_845,
    1.306_562_965,
    1.175_875_602,
    1.0,
    0.785_694_958,
    0.541_196_100,
    0.275_899_379,
];

/// One 8-point pass over the eight columns of `d` (row-major) into `out`.
/// `centre` is subtracted from the DC term (the level shift of pass 1).
/// Generic over the input so pass 1 reads the `u8` samples directly: no
/// separate widening loop and no array to hold its result.
/// With `TRANSPOSED`, coefficient k of column c goes to `out[c * 8 + k]`
/// instead of `out[k * 8 + c]`: the transpose folded into the stores.
#[inline(always)]
fn columns<T: Copy, const TRANSPOSED: bool>(d: &[T; 64], out: &mut [f32; 64], centre: f32)
where
    f32: From<T>,
{
    let d = |i: usize| f32::from(d[i]);
    for c in 0..8 {
        // Where `out[n + c]` of the untransposed layout goes (n = 8 * k).
        let at = |k: usize| if TRANSPOSED { c * 8 + k / 8 } else { k + c };
        let tmp0 = d(c) + d(56 + c);
        let tmp7 = d(c) - d(56 + c);
        let tmp1 = d(8 + c) + d(48 + c);
        let tmp6 = d(8 + c) - d(48 + c);
        let tmp2 = d(16 + c) + d(40 + c);
        let tmp5 = d(16 + c) - d(40 + c);
        let tmp3 = d(24 + c) + d(32 + c);
        let tmp4 = d(24 + c) - d(32 + c);

        // Even part.
        let tmp10 = tmp0 + tmp3;
        let tmp13 = tmp0 - tmp3;
        let tmp11 = tmp1 + tmp2;
        let tmp12 = tmp1 - tmp2;
        out[at(0)] = tmp10 + tmp11 - centre;
        out[at(32)] = tmp10 - tmp11;
        let z1 = (tmp12 + tmp13) * core::f32::consts::FRAC_1_SQRT_2;
        out[at(16)] = tmp13 + z1;
        out[at(48)] = tmp13 - z1;

        // Odd part.
        let tmp10 = tmp4 + tmp5;
        let tmp11 = tmp5 + tmp6;
        let tmp12 = tmp6 + tmp7;
        let z5 = (tmp10 - tmp12) * 0.382_683_43;
        let z2 = 0.541_196_1 * tmp10 + z5;
        let z4 = 1.306_563 * tmp12 + z5;
        let z3 = tmp11 * core::f32::consts::FRAC_1_SQRT_2;
        let z11 = tmp7 + z3;
        let z13 = tmp7 - z3;
        out[at(40)] = z13 + z2;
        out[at(24)] = z13 - z2;
        out[at(8)] = z11 + z4;
        out[at(56)] = z11 - z4;
    }
}

#[inline(always)]
fn transpose(d: &[f32; 64], out: &mut [f32; 64]) {
    for r in 0..8 {
        for c in 0..8 {
            out[c * 8 + r] = d[r * 8 + c];
        }
    }
}

/// Forward DCT of one block of samples (row-major, 0..=255) into `out`
/// (transposed and scaled; see the module docs). `tmp` is working space
/// (its contents do not matter), passed in so no block zeroes an array.
#[inline]
pub fn forward(samples: &[u8; 64], out: &mut [f32; 64], tmp: &mut [f32; 64]) {
    // Out of place throughout: each step writes the other array instead of
    // copying back. Eight samples of 128 per column: the level shift only
    // moves DC.
    // Scalar cores store pass 1 transposed (no separate transpose: 128 loads
    // and stores a block fewer); SIMD targets keep row stores, which
    // vectorise, and transpose after.
    if cfg!(target_arch = "riscv64") {
        columns::<_, true>(samples, tmp, 8.0 * 128.0);
    } else {
        columns::<_, false>(samples, out, 8.0 * 128.0);
        transpose(out, tmp);
    }
    columns::<_, false>(tmp, out, 0.0);
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
        let mut got = [0f32; 64];
        forward(samples, &mut got, &mut [0.0; 64]);
        for v in 0..8 {
            for u in 0..8 {
                let g = f64::from(got[u * 8 + v]) / (8.0 * SCALE[v] * SCALE[u]);
                let w = want[v * 8 + u];
                // f32 rounding stays far below the quantiser's resolution.
                assert!((g - w).abs() < 0.01, "({v},{u}): got {g}, want {w}");
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
    fn transposed_stores_match_the_separate_transpose() {
        let mut seed = 77u32;
        for _ in 0..100 {
            let mut b = [0u8; 64];
            for s in b.iter_mut() {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *s = (seed >> 24) as u8;
            }
            let (mut rows, mut want, mut got) = ([0f32; 64], [0f32; 64], [0f32; 64]);
            columns::<_, false>(&b, &mut rows, 1024.0);
            transpose(&rows, &mut want);
            columns::<_, true>(&b, &mut got, 1024.0);
            assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits));
        }
    }

    #[test]
    fn flat_block_has_only_dc() {
        let mut got = [0f32; 64];
        forward(&[200; 64], &mut got, &mut [0.0; 64]);
        // (200 - 128) * 8 (DC gain) * 8 (output scale).
        assert_eq!(got[0], 72.0 * 64.0);
        assert!(got[1..].iter().all(|&c| c == 0.0));
    }
}
