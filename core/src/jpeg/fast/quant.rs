//! Quantisation by reciprocal multiplication, then zig-zag reordering.
//!
//! libjpeg rounds `c / (8 q)` to nearest, halves away from zero, where `c`
//! is the DCT output (scaled by 8). The same integer comes out of
//! `((|c| + 4q) >> 3) * ceil(2^20 / q) >> 20`: the first shift is an exact
//! floor division by 8, and for numerators below 2^12 the reciprocal is exact
//! (`n * q < 2^20` for all `q <= 255`). All of it fits 32-bit lanes.

use super::tables::ZIGZAG;

const RECIP_BITS: u32 = 20;

/// One quantisation table prepared for the transposed DCT layout.
pub struct Divisors {
    /// The table in natural order, as written to DQT.
    pub natural: [u8; 64],
    /// `4 q` per transposed position (rounding bias before the `>> 3`).
    bias: [u32; 64],
    /// `ceil(2^20 / q)` per transposed position.
    recip: [u32; 64],
}

/// Natural index of the coefficient stored at transposed position `t`
/// (the transpose is its own inverse).
const fn transpose(t: usize) -> usize {
    (t % 8) * 8 + t / 8
}

/// `ZIGZAG_T[k]`: position in the transposed DCT output of the k-th
/// coefficient in zig-zag order.
const ZIGZAG_T: [usize; 64] = {
    let mut out = [0usize; 64];
    let mut k = 0;
    while k < 64 {
        out[k] = transpose(ZIGZAG[k] as usize);
        k += 1;
    }
    out
};

impl Divisors {
    /// Prepares `table` (natural order, entries 1..=255).
    pub fn new(table: [u8; 64]) -> Divisors {
        let mut bias = [0u32; 64];
        let mut recip = [0u32; 64];
        for t in 0..64 {
            let q = u32::from(table[transpose(t)].max(1));
            bias[t] = 4 * q;
            recip[t] = (1u32 << RECIP_BITS).div_ceil(q);
        }
        Divisors {
            natural: table,
            bias,
            recip,
        }
    }

    /// Quantises transposed DCT output `coef` into zig-zag order.
    #[inline]
    pub fn quantize(&self, coef: &[i32; 64], zz: &mut [i16; 64]) {
        let mut q = [0i16; 64];
        for t in 0..64 {
            let c = coef[t];
            let sign = c >> 31;
            let mag = ((c ^ sign) - sign) as u32;
            let n = (mag + self.bias[t]) >> 3;
            let v = (n.wrapping_mul(self.recip[t]) >> RECIP_BITS) as i32;
            q[t] = ((v ^ sign) - sign) as i16;
        }
        for (z, &t) in zz.iter_mut().zip(ZIGZAG_T.iter()) {
            *z = q[t];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libjpeg's rounding division, written the obvious way.
    fn divide(c: i32, q: i32) -> i32 {
        let d = 8 * q;
        if c < 0 {
            -((-c + d / 2) / d)
        } else {
            (c + d / 2) / d
        }
    }

    #[test]
    fn reciprocal_is_exact() {
        for q in 1..=255u8 {
            let div = Divisors::new([q; 64]);
            // Every DCT output an 8-bit block can produce (|c| < 2^14).
            for c in (-16384..=16384).step_by(7).chain([-16384, -1, 0, 1, 16383]) {
                let mut coef = [0i32; 64];
                coef[9] = c;
                let mut zz = [0i16; 64];
                div.quantize(&coef, &mut zz);
                // Transposed position 9 is natural (1,1), zig-zag index 4.
                assert_eq!(i32::from(zz[4]), divide(c, i32::from(q)), "c={c} q={q}");
            }
        }
    }

    #[test]
    fn reorders_to_zigzag() {
        let mut table = [1u8; 64];
        table[1] = 2; // natural (0,1)
        let div = Divisors::new(table);
        let mut coef = [0i32; 64];
        // Natural (0,1) sits at transposed 8; natural (1,0) at transposed 1.
        coef[8] = 8 * 10;
        coef[1] = 8 * 7;
        let mut zz = [0i16; 64];
        div.quantize(&coef, &mut zz);
        assert_eq!(zz[1], 5);
        assert_eq!(zz[2], 7);
    }
}
