//! Baseline Huffman coding of one quantised block (T.81 F.1.2) with the
//! fixed Annex K tables.
//!
//! Each table entry already holds the code shifted left by the size of the
//! value bits that follow it, so a coefficient costs a single
//! `Writer::put`: `entry >> 5 | value_bits`, `entry & 31` bits long.
//! Zero runs are found with a 64-bit "non-zero" mask and `trailing_zeros`,
//! so zero coefficients cost nothing in the coding loop. A coefficient's
//! size category and value bits come from one table load ([`MAGNITUDE`]),
//! not from a leading-zero count (a 30-instruction sequence on rv64gc
//! without Zbb), and the pending bits stay in registers for the whole block.

use super::bitwriter::{Bits, Writer, BLOCK_BYTES};
use super::tables::{codes, HuffSpec, AC_CHROMA, AC_LUMA, DC_CHROMA, DC_LUMA};
use crate::sink::Sink;

/// The DC and AC tables of one component class, ready for coding.
pub struct Tables {
    /// Indexed by size category 0..=11.
    dc: [u32; 16],
    /// Indexed by `run << 4 | size`.
    ac: [u32; 256],
}

const fn prepare(spec: &HuffSpec, out: &mut [u32]) {
    let c = codes(spec);
    let mut sym = 0;
    while sym < out.len() {
        let (code, len) = (c[sym] >> 8, c[sym] & 0xff);
        if len != 0 {
            let size = (sym & 15) as u32;
            out[sym] = ((code << size) << 5) | (len + size);
        }
        sym += 1;
    }
}

const fn tables(dc: &HuffSpec, ac: &HuffSpec) -> Tables {
    let mut t = Tables {
        dc: [0; 16],
        ac: [0; 256],
    };
    prepare(dc, &mut t.dc);
    prepare(ac, &mut t.ac);
    t
}

/// Tables for Y.
pub static LUMA: Tables = tables(&DC_LUMA, &AC_LUMA);
/// Tables for Cb and Cr.
pub static CHROMA: Tables = tables(&DC_CHROMA, &AC_CHROMA);

/// Values a coefficient or DC difference can take in 8-bit baseline JPEG
/// (T.81 F.1.2: AC sizes up to 10, DC differences up to 11) lie in
/// `-MAG_HALF..MAG_HALF`.
const MAG_HALF: i32 = 2048;

/// Size category and value bits of a coefficient or DC difference
/// (T.81 F.1.2.1.1), computed the slow way: negative values send the low
/// bits of `v - 1`.
const fn magnitude_of(v: i32) -> (u32, u32) {
    let sign = v >> 31;
    let abs = ((v ^ sign) - sign) as u32;
    let size = 32 - abs.leading_zeros();
    let bits = ((v + sign) as u32) & ((1u32 << size) - 1);
    (size, bits)
}

/// `MAGNITUDE[v mod 4096] = bits << 4 | size` for every value in range:
/// indexed by the low 12 bits of `v` (two's complement), which two shifts
/// extract with no offset to add.
static MAGNITUDE: [u16; 2 * MAG_HALF as usize] = {
    let mut t = [0u16; 2 * MAG_HALF as usize];
    let mut i = 0;
    while i < t.len() {
        let v = (i as i32)
            - if i as i32 >= MAG_HALF {
                2 * MAG_HALF
            } else {
                0
            };
        let (size, bits) = magnitude_of(v);
        t[i] = ((bits << 4) | size) as u16;
        i += 1;
    }
    t
};

/// Size category and value bits of `v`, one table load. Out-of-range values
/// (impossible for 8-bit samples) wrap to a wrong but in-bounds entry.
#[inline(always)]
fn magnitude(v: i32) -> (u32, u32) {
    let e = u32::from(MAGNITUDE[(v as u32 as usize) & (2 * MAG_HALF as usize - 1)]);
    (e & 15, e >> 4)
}

/// Bit k set <=> `zz[k] != 0`.
///
/// One flag byte per coefficient (a compare the compiler vectorises), then
/// eight flags at a time gathered into a byte by one multiplication: byte j
/// of the word, 0 or 1, lands on bit 56 + j and no partial products carry.
#[inline(always)]
pub fn nonzero_mask(zz: &[i16; 64]) -> u64 {
    let mut flags = [0u8; 64];
    for (f, &c) in flags.iter_mut().zip(zz.iter()) {
        *f = u8::from(c != 0);
    }
    let mut m = 0u64;
    for (j, f) in flags.chunks_exact(8).enumerate() {
        let w = u64::from_le_bytes(<[u8; 8]>::try_from(f).unwrap_or_default());
        m |= (w.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * j);
    }
    m
}

/// Codes one block (zig-zag order) whose [`nonzero_mask`] is `nonzero`;
/// `pred` is the component's previous DC.
#[inline]
pub fn encode_block<S: Sink>(
    zz: &[i16; 64],
    nonzero: u64,
    pred: &mut i32,
    t: &Tables,
    w: &mut Writer<'_, S>,
) {
    w.reserve(BLOCK_BYTES);
    let mut out: Bits = w.take_bits();
    let dc = i32::from(zz[0]);
    let (size, bits) = magnitude(dc - *pred);
    *pred = dc;
    let e = t.dc[(size & 15) as usize];
    out.put(w, (e >> 5) | bits, e & 31);

    let mut mask = nonzero & !1;
    let mut last = 0u32;
    while mask != 0 {
        let pos = mask.trailing_zeros();
        mask &= mask - 1;
        let mut run = pos - last - 1;
        while run >= 16 {
            let zrl = t.ac[0xf0];
            out.put(w, zrl >> 5, zrl & 31);
            run -= 16;
        }
        let (size, bits) = magnitude(i32::from(zz[(pos & 63) as usize]));
        let e = t.ac[((run << 4) | size) as usize & 255];
        out.put(w, (e >> 5) | bits, e & 31);
        last = pos;
    }
    if last != 63 {
        let eob = t.ac[0];
        out.put(w, eob >> 5, eob & 31);
    }
    w.restore(out);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn nonzero_mask_matches_naive() {
        let mut seed = 7u32;
        for _ in 0..2000 {
            let mut zz = [0i16; 64];
            for _ in 0..(seed % 40) {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                zz[(seed >> 26) as usize] = (seed >> 8) as i16;
            }
            let naive = zz
                .iter()
                .enumerate()
                .fold(0u64, |m, (k, &c)| m | (u64::from(c != 0) << k));
            assert_eq!(nonzero_mask(&zz), naive);
        }
        assert_eq!(nonzero_mask(&[-1; 64]), u64::MAX);
        assert_eq!(nonzero_mask(&[0; 64]), 0);
    }

    #[test]
    fn magnitude_table_matches_computation() {
        let mut checked = 0;
        for v in -MAG_HALF..MAG_HALF {
            assert_eq!(magnitude(v), magnitude_of(v), "v={v}");
            checked += 1;
        }
        assert_eq!(checked, 4096);
    }

    #[test]
    fn magnitude_categories() {
        assert_eq!(magnitude(0), (0, 0));
        assert_eq!(magnitude(1), (1, 1));
        assert_eq!(magnitude(-1), (1, 0));
        assert_eq!(magnitude(-3), (2, 0b00));
        assert_eq!(magnitude(-2), (2, 0b01));
        assert_eq!(magnitude(5), (3, 0b101));
        assert_eq!(magnitude(-1023), (10, 0));
        assert_eq!(magnitude(2047), (11, 0x7ff));
    }

    fn code(zz: &[i16; 64], pred: i32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        let mut p = pred;
        encode_block(zz, nonzero_mask(zz), &mut p, &LUMA, &mut w);
        w.finish_bits();
        w.flush();
        out
    }

    #[test]
    fn known_bit_patterns() {
        // DC diff 0 -> luma DC code for size 0 is "00"; then EOB "1010".
        // 00 1010 11 (padding) = 0x2B.
        assert_eq!(code(&[0; 64], 0), [0x2B]);
        // DC diff +1: size 1 code "010", bit "1"; AC[1] = -1: run 0 size 1
        // code "00", bit "0"; EOB "1010": 0101 0001 010(1 1111) = 0x51 0x5F.
        let mut zz = [0i16; 64];
        zz[0] = 1;
        zz[1] = -1;
        assert_eq!(code(&zz, 0), [0x51, 0x5F]);
        // A last coefficient at 63 sends no EOB; a run of 62 zeros sends
        // three ZRLs (11111111001 each) then run 14 size 1 (1111111111101011).
        let mut zz = [0i16; 64];
        zz[63] = 1;
        let bits = code(&zz, 0);
        // 00 | 11111111001 x3 | 1111111111101011 | 1 | pad
        let mut s = std::string::String::from("00");
        for _ in 0..3 {
            s.push_str("11111111001");
        }
        s.push_str("1111111111101011");
        s.push('1');
        while s.len() % 8 != 0 {
            s.push('1');
        }
        let mut want = Vec::new();
        for ch in s.as_bytes().chunks(8) {
            let b = ch.iter().fold(0u8, |a, &c| a << 1 | (c - b'0'));
            want.push(b);
            if b == 0xFF {
                want.push(0);
            }
        }
        assert_eq!(bits, want);
    }
}
