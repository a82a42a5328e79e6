//! Readers for RGB formats: JFIF's BT.601 full-range RGB -> YCbCr in 16-bit
//! fixed point with libjpeg's constants and rounding (`jccolor.c`), chroma
//! reduced by averaging like libjpeg's `h2v1`/`h2v2` downsamplers.
//!
//! Chroma is computed once from the summed RGB of the pixels it covers
//! instead of per pixel and then averaged: the conversion is linear, so this
//! is the same average with one rounding instead of two, and a third of the
//! multiplications.

use super::gather::{fetch_len, pad_chroma, rows, Mcu, Source};
use crate::frame::RawFrame;
use crate::pixel::PixelFormat;

/// How one format stores sixteen pixels' worth of R, G, B.
pub trait Layout {
    /// Bytes per pixel in each plane that is read.
    const BPP: usize;
    /// Whether R, G and B are separate planes (else plane 0 holds all).
    const PLANAR: bool = false;
    /// Unpacks sixteen pixels to 8-bit R, G, B. `src[p]` holds `16 * BPP`
    /// bytes of plane `p`.
    fn unpack(src: [&[u8]; 3], r: &mut [i32; 16], g: &mut [i32; 16], b: &mut [i32; 16]);
}

/// RGB565 little-endian words (red in the top bits).
pub struct Rgb565;
/// RGB565 words stored big-endian.
pub struct Rgb565Swapped;
/// R, G, B bytes.
pub struct Rgb888;
/// B, G, R bytes.
pub struct Bgr888;
/// Three planes R, G, B.
pub struct Rgbp888;

/// 5/6-bit channels widened by bit replication (full 0..=255 range).
#[inline(always)]
fn unpack565(w: u32) -> (i32, i32, i32) {
    let r = w >> 11;
    let g = (w >> 5) & 63;
    let b = w & 31;
    (
        ((r << 3) | (r >> 2)) as i32,
        ((g << 2) | (g >> 4)) as i32,
        ((b << 3) | (b >> 2)) as i32,
    )
}

impl Layout for Rgb565 {
    const BPP: usize = 2;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], r: &mut [i32; 16], g: &mut [i32; 16], b: &mut [i32; 16]) {
        let s = &s[0][..32];
        for i in 0..16 {
            let w = u32::from(s[2 * i]) | (u32::from(s[2 * i + 1]) << 8);
            (r[i], g[i], b[i]) = unpack565(w);
        }
    }
}

impl Layout for Rgb565Swapped {
    const BPP: usize = 2;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], r: &mut [i32; 16], g: &mut [i32; 16], b: &mut [i32; 16]) {
        let s = &s[0][..32];
        for i in 0..16 {
            let w = (u32::from(s[2 * i]) << 8) | u32::from(s[2 * i + 1]);
            (r[i], g[i], b[i]) = unpack565(w);
        }
    }
}

impl Layout for Rgb888 {
    const BPP: usize = 3;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], r: &mut [i32; 16], g: &mut [i32; 16], b: &mut [i32; 16]) {
        let s = &s[0][..48];
        for i in 0..16 {
            r[i] = i32::from(s[3 * i]);
            g[i] = i32::from(s[3 * i + 1]);
            b[i] = i32::from(s[3 * i + 2]);
        }
    }
}

impl Layout for Bgr888 {
    const BPP: usize = 3;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], r: &mut [i32; 16], g: &mut [i32; 16], b: &mut [i32; 16]) {
        let s = &s[0][..48];
        for i in 0..16 {
            b[i] = i32::from(s[3 * i]);
            g[i] = i32::from(s[3 * i + 1]);
            r[i] = i32::from(s[3 * i + 2]);
        }
    }
}

impl Layout for Rgbp888 {
    const BPP: usize = 1;
    const PLANAR: bool = true;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], r: &mut [i32; 16], g: &mut [i32; 16], b: &mut [i32; 16]) {
        let (sr, sg, sb) = (&s[0][..16], &s[1][..16], &s[2][..16]);
        for i in 0..16 {
            r[i] = i32::from(sr[i]);
            g[i] = i32::from(sg[i]);
            b[i] = i32::from(sb[i]);
        }
    }
}

// libjpeg's FIX(x) = round(x * 2^16) for the JFIF equations.
const Y_R: i32 = 19595;
const Y_G: i32 = 38470;
const Y_B: i32 = 7471;
const CB_R: i32 = -11059;
const CB_G: i32 = -21709;
const CR_G: i32 = -27439;
const CR_B: i32 = -5329;
const HALF: i32 = 32768;

/// Y of one pixel, exactly libjpeg's `rgb_ycc_convert`.
#[inline(always)]
fn luma(r: i32, g: i32, b: i32) -> u8 {
    ((Y_R * r + Y_G * g + Y_B * b + HALF) >> 16) as u8
}

/// Cb and Cr of the average of `1 << log2n` pixels given their summed R,
/// G, B. For one pixel this is libjpeg's formula, offset `128 + 0.5 - ε`
/// keeping the result below 256.
#[inline(always)]
fn chroma(rs: i32, gs: i32, bs: i32, log2n: u32) -> (u8, u8) {
    let shift = 16 + log2n;
    let offset = (128 << shift) + (1 << (shift - 1)) - 1;
    (
        ((CB_R * rs + CB_G * gs + HALF * bs + offset) >> shift) as u8,
        ((HALF * rs + CR_G * gs + CR_B * bs + offset) >> shift) as u8,
    )
}

/// Reader for an RGB layout `L`, output luma sampling `H`x`V`.
pub struct Rgb<'a, L: Layout, const H: usize, const V: usize> {
    frame: RawFrame<'a>,
    rows: [[&'a [u8]; 16]; 3],
    /// Chroma rows of the current MCU row that lie inside the image.
    chroma_rows: usize,
    _layout: core::marker::PhantomData<L>,
}

impl<'a, L: Layout, const H: usize, const V: usize> Rgb<'a, L, H, V> {
    /// Reader over `frame`, whose format must match `L`.
    pub fn new(frame: &RawFrame<'a>) -> Self {
        debug_assert!(matches!(
            frame.format(),
            PixelFormat::Rgb565
                | PixelFormat::Rgb565Swapped
                | PixelFormat::Rgb888
                | PixelFormat::Bgr888
                | PixelFormat::Rgbp888
        ));
        Rgb {
            frame: *frame,
            rows: [[&[]; 16]; 3],
            chroma_rows: 8,
            _layout: core::marker::PhantomData,
        }
    }
}

impl<L: Layout, const H: usize, const V: usize> Source for Rgb<'_, L, H, V> {
    fn start_row(&mut self, y0: usize) {
        let last = self.frame.height() as usize - 1;
        let planes = if L::PLANAR { 3 } else { 1 };
        for p in 0..planes {
            self.rows[p] = rows(&self.frame, p, y0, 1, last);
        }
        self.chroma_rows = (last + 1 - y0).div_ceil(V);
    }

    #[inline]
    fn gather(&mut self, x0: usize, mcu: &mut Mcu) {
        let mut scratch = [[0u8; 48]; 3];
        let (mut r, mut g, mut b) = ([0i32; 16], [0i32; 16], [0i32; 16]);
        // Row-pair sums of horizontally paired pixels, for 4:2:0.
        let (mut rp, mut gp, mut bp) = ([0i32; 8], [0i32; 8], [0i32; 8]);
        for row in 0..8 * V {
            {
                let [s0, s1, s2] = &mut scratch;
                // Sixteen pixels; an 8-wide MCU uses the first eight.
                let len = 16 * L::BPP;
                let src0 = fetch_len(self.rows[0][row], x0 * L::BPP, len, L::BPP, s0);
                let (src1, src2): (&[u8], &[u8]) = if L::PLANAR {
                    (
                        fetch_len(self.rows[1][row], x0, 16, 1, s1),
                        fetch_len(self.rows[2][row], x0, 16, 1, s2),
                    )
                } else {
                    (&s1[..], &s2[..])
                };
                L::unpack([src0, src1, src2], &mut r, &mut g, &mut b);
            }
            for (hb, blk) in mcu.y[(row / 8) * H..][..H].iter_mut().enumerate() {
                for i in 0..8 {
                    let p = 8 * hb + i;
                    blk[(row % 8) * 8 + i] = luma(r[p], g[p], b[p]);
                }
            }
            if H == 1 {
                for i in 0..8 {
                    let (cb, cr) = chroma(r[i], g[i], b[i], 0);
                    mcu.cb[row * 8 + i] = cb;
                    mcu.cr[row * 8 + i] = cr;
                }
                continue;
            }
            let (mut rs, mut gs, mut bs) = ([0i32; 8], [0i32; 8], [0i32; 8]);
            for i in 0..8 {
                rs[i] = r[2 * i] + r[2 * i + 1];
                gs[i] = g[2 * i] + g[2 * i + 1];
                bs[i] = b[2 * i] + b[2 * i + 1];
            }
            if V == 1 {
                for i in 0..8 {
                    let (cb, cr) = chroma(rs[i], gs[i], bs[i], 1);
                    mcu.cb[row * 8 + i] = cb;
                    mcu.cr[row * 8 + i] = cr;
                }
            } else if row % 2 == 0 {
                (rp, gp, bp) = (rs, gs, bs);
            } else {
                for i in 0..8 {
                    let (cb, cr) = chroma(rp[i] + rs[i], gp[i] + gs[i], bp[i] + bs[i], 2);
                    mcu.cb[(row / 2) * 8 + i] = cb;
                    mcu.cr[(row / 2) * 8 + i] = cr;
                }
            }
        }
        let cols = (self.frame.width() as usize - x0).div_ceil(H);
        pad_chroma(mcu, cols, self.chroma_rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_matches_libjpeg_on_primaries() {
        assert_eq!(luma(255, 255, 255), 255);
        assert_eq!(luma(0, 0, 0), 0);
        assert_eq!(chroma(255, 255, 255, 0), (128, 128));
        assert_eq!(chroma(0, 0, 0, 0), (128, 128));
        // Pure blue: Cb = 128 + 127.5 - ε -> 255; pure red: Cr -> 255.
        assert_eq!(chroma(0, 0, 255, 0).0, 255);
        assert_eq!(chroma(255, 0, 0, 0).1, 255);
        // Y of pure red: 0.299 * 255 = 76.2.
        assert_eq!(luma(255, 0, 0), 76);
        // Four identical pixels average to the single-pixel result.
        for (r, g, b) in [(10, 200, 30), (255, 0, 128), (77, 77, 78)] {
            assert_eq!(chroma(4 * r, 4 * g, 4 * b, 2), chroma(r, g, b, 0));
        }
    }

    #[test]
    fn rgb565_widening() {
        assert_eq!(unpack565(0xFFFF), (255, 255, 255));
        assert_eq!(unpack565(0xF800), (255, 0, 0));
        assert_eq!(unpack565(0x07E0), (0, 255, 0));
        assert_eq!(unpack565(0x001F), (0, 0, 255));
        assert_eq!(unpack565(0x8410), (132, 130, 132));
    }
}
