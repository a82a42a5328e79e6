//! Quantisation and Huffman tables: ITU-T T.81 Annex K, with libjpeg's
//! quality scaling so `quality` means the same tables as in libjpeg(-turbo).

/// Luminance quantisation table, natural (row-major) order: T.81 Table K.1.
const LUMA_QUANT: [u8; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, //
    12, 12, 14, 19, 26, 58, 60, 55, //
    14, 13, 16, 24, 40, 57, 69, 56, //
    14, 17, 22, 29, 51, 87, 80, 62, //
    18, 22, 37, 56, 68, 109, 103, 77, //
    24, 35, 55, 64, 81, 104, 113, 92, //
    49, 64, 78, 87, 103, 121, 120, 101, //
    72, 92, 95, 98, 112, 100, 103, 99, //
];

/// Chrominance quantisation table, natural order: T.81 Table K.2.
const CHROMA_QUANT: [u8; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, //
    18, 21, 26, 66, 99, 99, 99, 99, //
    24, 26, 56, 99, 99, 99, 99, 99, //
    47, 66, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
];

/// `ZIGZAG[k]` is the natural index of the k-th coefficient in zig-zag
/// order (T.81 Figure A.6), derived by walking the anti-diagonals.
pub const ZIGZAG: [u8; 64] = zigzag();

const fn zigzag() -> [u8; 64] {
    let mut out = [0u8; 64];
    let mut k = 0;
    let mut d: i32 = 0;
    while d < 15 {
        // Even diagonals run bottom-left to top-right, odd ones the other way.
        let mut i = 0;
        while i < 8 {
            let row = if d % 2 == 0 { d - i } else { i };
            let col = d - row;
            if row >= 0 && row < 8 && col >= 0 && col < 8 {
                out[k] = (row * 8 + col) as u8;
                k += 1;
            }
            i += 1;
        }
        d += 1;
    }
    out
}

/// Which of the two tables a component uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Table 0: Y.
    Luma = 0,
    /// Table 1: Cb and Cr.
    Chroma = 1,
}

/// The quantisation table for `class` at IJG `quality` (1..=100), natural
/// order, clamped to 1..=255 as libjpeg does with `force_baseline`
/// (`jpeg_quality_scaling` + `jpeg_add_quant_table`).
pub fn quant_table(class: Class, quality: u8) -> [u8; 64] {
    let q = u32::from(quality.clamp(1, 100));
    let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
    let base = match class {
        Class::Luma => &LUMA_QUANT,
        Class::Chroma => &CHROMA_QUANT,
    };
    let mut out = [0u8; 64];
    for (o, &b) in out.iter_mut().zip(base.iter()) {
        *o = ((u32::from(b) * scale + 50) / 100).clamp(1, 255) as u8;
    }
    out
}

/// A Huffman table as stored in a DHT segment: code counts per length
/// (`bits[i]` codes of length i+1) and the symbols in code order.
pub struct HuffSpec {
    /// Number of codes of each length 1..=16.
    pub bits: [u8; 16],
    /// Symbols, shortest codes first.
    pub vals: &'static [u8],
}

/// DC luminance: T.81 Table K.3.
pub const DC_LUMA: HuffSpec = HuffSpec {
    bits: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
    vals: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};

/// DC chrominance: T.81 Table K.4.
pub const DC_CHROMA: HuffSpec = HuffSpec {
    bits: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
    vals: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};

/// An AC table's symbols: `short`, those with codes of up to 15 bits in
/// code order, then every other AC symbol (EOB, ZRL, runs 0..=15 x sizes
/// 1..=10: 162 in all) in ascending order, which is how Tables K.5 and K.6
/// list their 16-bit codes. A table that does not come out at 162 symbols
/// fails to compile.
const fn ac_vals<const N: usize>(short: [u8; N]) -> [u8; 162] {
    let mut out = [0u8; 162];
    let mut used = [false; 256];
    let mut k = 0;
    while k < N {
        out[k] = short[k];
        used[short[k] as usize] = true;
        k += 1;
    }
    let mut sym = 0;
    while sym < 256 {
        let size = sym & 15;
        let ac = sym == 0 || sym == 0xf0 || (size >= 1 && size <= 10);
        if ac && !used[sym] {
            out[k] = sym as u8;
            k += 1;
        }
        sym += 1;
    }
    assert!(k == 162);
    out
}

/// AC luminance: T.81 Table K.5 (as listed in section K.3.3.2).
pub const AC_LUMA: HuffSpec = HuffSpec {
    bits: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
    vals: &ac_vals([
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
        0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52,
        0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82,
    ]),
};

/// AC chrominance: T.81 Table K.6 (as listed in section K.3.3.2).
pub const AC_CHROMA: HuffSpec = HuffSpec {
    bits: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
    vals: &ac_vals([
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
        0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
        0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1,
    ]),
};

/// Code and length of every symbol of `spec`, generated as in T.81 Annex C
/// (Figures C.1-C.3): `(code << 8) | length`, 0 for absent symbols.
pub const fn codes(spec: &HuffSpec) -> [u32; 256] {
    let mut out = [0u32; 256];
    let mut code = 0u32;
    let mut k = 0;
    let mut len = 1;
    while len <= 16 {
        let mut i = 0;
        while i < spec.bits[len - 1] {
            out[spec.vals[k] as usize] = (code << 8) | len as u32;
            code += 1;
            k += 1;
            i += 1;
        }
        code <<= 1;
        len += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_matches_figure_a6() {
        assert_eq!(ZIGZAG[..10], [0, 1, 8, 16, 9, 2, 3, 10, 17, 24]);
        assert_eq!(ZIGZAG[56..], [53, 60, 61, 54, 47, 55, 62, 63]);
        let mut seen = [false; 64];
        for &n in &ZIGZAG {
            assert!(!seen[n as usize]);
            seen[n as usize] = true;
        }
    }

    #[test]
    fn specs_are_complete() {
        for spec in [&DC_LUMA, &DC_CHROMA, &AC_LUMA, &AC_CHROMA] {
            let total: usize = spec.bits.iter().map(|&b| b as usize).sum();
            assert_eq!(total, spec.vals.len());
            let mut seen = [false; 256];
            for &v in spec.vals {
                assert!(!seen[v as usize], "duplicate symbol {v:#x}");
                seen[v as usize] = true;
            }
        }
        // Every AC symbol a baseline encoder can emit: EOB, ZRL, runs 0..15 x sizes 1..10.
        for spec in [&AC_LUMA, &AC_CHROMA] {
            let c = codes(spec);
            for run in 0..16 {
                for size in 1..=10 {
                    assert_ne!(c[run << 4 | size] & 0xff, 0);
                }
            }
            assert_ne!(c[0] & 0xff, 0);
            assert_ne!(c[0xf0] & 0xff, 0);
        }
    }

    #[test]
    fn quality_scaling_matches_libjpeg() {
        // libjpeg: quality 50 is the table itself, 100 is all ones.
        assert_eq!(quant_table(Class::Luma, 50), LUMA_QUANT);
        assert_eq!(quant_table(Class::Chroma, 100), [1; 64]);
        // quality 75 -> scale 50: (16*50+50)/100 = 8.
        assert_eq!(quant_table(Class::Luma, 75)[0], 8);
        // quality 1 -> scale 5000, clamped to 255.
        assert_eq!(quant_table(Class::Chroma, 1), [255; 64]);
        // quality 65 -> scale 70: (11*70+50)/100 = 8.
        assert_eq!(quant_table(Class::Luma, 65)[1], 8);
    }
}
