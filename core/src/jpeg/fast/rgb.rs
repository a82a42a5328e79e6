//! Readers for RGB formats: JFIF's BT.601 full-range RGB -> YCbCr with
//! libjpeg's 16-bit fixed-point constants and rounding (`jccolor.c`), chroma
//! reduced by averaging like libjpeg's `h2v1`/`h2v2` downsamplers.
//!
//! Chroma is computed once from the summed RGB of the pixels it covers
//! instead of per pixel and then averaged: the conversion is linear, so this
//! is the same average with one rounding instead of two, and a third of the
//! multiplications.
//!
//! An MCU is converted in stages over whole arrays (unpack every row, then
//! luma for all pixels, then chroma for all samples) so that each stage is
//! one long, simple loop the compiler vectorises.

use super::gather::{fetch_len, pad_chroma, rows, Mcu, Source};
use crate::frame::RawFrame;

/// Pixels in the largest MCU (16x16).
const MAX_PX: usize = 256;
/// Raw bytes of one MCU in one plane: 3 bytes per pixel at most.
const RAW: usize = MAX_PX * 3;

/// How one format stores R, G, B.
pub trait Layout {
    /// Bytes per pixel in each plane that is read.
    const BPP: usize;
    /// Whether R, G and B are separate planes (else plane 0 holds all).
    const PLANAR: bool = false;
    /// Whether this is little-endian RGB565, which has an RVV kernel.
    #[cfg(all(target_arch = "riscv64", target_feature = "v"))]
    const RGB565_LE: bool = false;
    /// Unpacks `n` pixels to 8-bit R, G, B. `src[p]` holds `n * BPP` bytes
    /// of plane `p`.
    fn unpack(src: [&[u8]; 3], n: usize, r: &mut [u16], g: &mut [u16], b: &mut [u16]);
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

/// The two bytes of a `chunks_exact(2)` chunk as an array, which the
/// compiler then loads as one 16-bit word (and vectorises).
#[inline(always)]
fn word(c: &[u8]) -> [u8; 2] {
    <[u8; 2]>::try_from(c).unwrap_or_default()
}

/// 5/6-bit channels widened by bit replication (full 0..=255 range).
#[inline(always)]
fn unpack565(w: u16) -> (u16, u16, u16) {
    let r = w >> 11;
    let g = (w >> 5) & 63;
    let b = w & 31;
    (
        (r << 3) | (r >> 2),
        (g << 2) | (g >> 4),
        (b << 3) | (b >> 2),
    )
}

impl Layout for Rgb565 {
    const BPP: usize = 2;
    #[cfg(all(target_arch = "riscv64", target_feature = "v"))]
    const RGB565_LE: bool = true;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], n: usize, r: &mut [u16], g: &mut [u16], b: &mut [u16]) {
        let px = r[..n].iter_mut().zip(&mut g[..n]).zip(&mut b[..n]);
        for (c, ((r, g), b)) in s[0][..2 * n].chunks_exact(2).zip(px) {
            (*r, *g, *b) = unpack565(u16::from_le_bytes(word(c)));
        }
    }
}

impl Layout for Rgb565Swapped {
    const BPP: usize = 2;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], n: usize, r: &mut [u16], g: &mut [u16], b: &mut [u16]) {
        let px = r[..n].iter_mut().zip(&mut g[..n]).zip(&mut b[..n]);
        for (c, ((r, g), b)) in s[0][..2 * n].chunks_exact(2).zip(px) {
            (*r, *g, *b) = unpack565(u16::from_be_bytes(word(c)));
        }
    }
}

impl Layout for Rgb888 {
    const BPP: usize = 3;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], n: usize, r: &mut [u16], g: &mut [u16], b: &mut [u16]) {
        let px = r[..n].iter_mut().zip(&mut g[..n]).zip(&mut b[..n]);
        for (c, ((r, g), b)) in s[0][..3 * n].chunks_exact(3).zip(px) {
            (*r, *g, *b) = (u16::from(c[0]), u16::from(c[1]), u16::from(c[2]));
        }
    }
}

impl Layout for Bgr888 {
    const BPP: usize = 3;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], n: usize, r: &mut [u16], g: &mut [u16], b: &mut [u16]) {
        let px = r[..n].iter_mut().zip(&mut g[..n]).zip(&mut b[..n]);
        for (c, ((r, g), b)) in s[0][..3 * n].chunks_exact(3).zip(px) {
            (*b, *g, *r) = (u16::from(c[0]), u16::from(c[1]), u16::from(c[2]));
        }
    }
}

impl Layout for Rgbp888 {
    const BPP: usize = 1;
    const PLANAR: bool = true;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], n: usize, r: &mut [u16], g: &mut [u16], b: &mut [u16]) {
        let (sr, sg, sb) = (&s[0][..n], &s[1][..n], &s[2][..n]);
        let (r, g, b) = (&mut r[..n], &mut g[..n], &mut b[..n]);
        for i in 0..n {
            r[i] = u16::from(sr[i]);
            g[i] = u16::from(sg[i]);
            b[i] = u16::from(sb[i]);
        }
    }
}

// libjpeg's FIX(x) = round(x * 2^16) for the JFIF equations.
pub const Y_R: u32 = 19595;
pub const Y_G: u32 = 38470;
pub const Y_B: u32 = 7471;
pub const CB_R: i32 = -11059;
pub const CB_G: i32 = -21709;
pub const CR_G: i32 = -27439;
pub const CR_B: i32 = -5329;
pub const HALF: i32 = 32768;

/// Y of one pixel, exactly libjpeg's `rgb_ycc_convert`.
#[inline(always)]
fn luma(r: u16, g: u16, b: u16) -> u8 {
    ((Y_R * u32::from(r) + Y_G * u32::from(g) + Y_B * u32::from(b) + 32768) >> 16) as u8
}

/// Rounding offset for chroma of `2^log2n` summed pixels: 128 (the chroma
/// zero) plus one half minus one unit, libjpeg's `CBCR_OFFSET + ONE_HALF -
/// 1`, which keeps the pure-blue/pure-red extreme below 256.
#[inline(always)]
pub const fn chroma_offset(log2n: u32) -> i32 {
    let shift = 16 + log2n;
    (128 << shift) + (1 << (shift - 1)) - 1
}

/// Cb of the average of `2^log2n` pixels given their summed R, G, B; for
/// one pixel exactly libjpeg's formula.
#[inline(always)]
fn chroma_b(rs: u16, gs: u16, bs: u16, log2n: u32) -> u8 {
    let (r, g, b) = (i32::from(rs), i32::from(gs), i32::from(bs));
    ((CB_R * r + CB_G * g + HALF * b + chroma_offset(log2n)) >> (16 + log2n)) as u8
}

/// Cr, like [`chroma_b`].
#[inline(always)]
fn chroma_r(rs: u16, gs: u16, bs: u16, log2n: u32) -> u8 {
    let (r, g, b) = (i32::from(rs), i32::from(gs), i32::from(bs));
    ((HALF * r + CR_G * g + CR_B * b + chroma_offset(log2n)) >> (16 + log2n)) as u8
}

/// One MCU's unpacked pixels, row-major, rows as wide as the MCU.
struct Planes {
    r: [u16; MAX_PX],
    g: [u16; MAX_PX],
    b: [u16; MAX_PX],
}

/// Working arrays of one MCU's conversion, kept in the reader so that no
/// MCU zeroes them (their contents between MCUs do not matter).
struct Sums {
    /// Luma of every pixel, row-major.
    y: [u8; MAX_PX],
    /// Summed R, G, B behind each chroma sample.
    rs: [u16; 64],
    gs: [u16; 64],
    bs: [u16; 64],
    /// Horizontal pair sums (H = 2).
    hr: [u16; 128],
    hg: [u16; 128],
    hb: [u16; 128],
}

/// Reader for an RGB layout `L`, output luma sampling `H`x`V`.
pub struct Rgb<'a, L: Layout, const H: usize, const V: usize> {
    frame: RawFrame<'a>,
    rows: [[&'a [u8]; 16]; 3],
    /// Chroma rows of the current MCU row that lie inside the image.
    chroma_rows: usize,
    px: Planes,
    raw: [[u8; RAW]; 3],
    scratch: [u8; 48],
    sums: Sums,
    _layout: core::marker::PhantomData<L>,
}

impl<'a, L: Layout, const H: usize, const V: usize> Rgb<'a, L, H, V> {
    /// Reader over `frame`, whose format must match `L`.
    pub fn new(frame: &RawFrame<'a>) -> Self {
        Rgb {
            frame: *frame,
            rows: [[&[]; 16]; 3],
            chroma_rows: 8,
            px: Planes {
                r: [0; MAX_PX],
                g: [0; MAX_PX],
                b: [0; MAX_PX],
            },
            raw: [[0; RAW]; 3],
            scratch: [0; 48],
            sums: Sums {
                y: [0; MAX_PX],
                rs: [0; 64],
                gs: [0; 64],
                bs: [0; 64],
                hr: [0; 128],
                hg: [0; 128],
                hb: [0; 128],
            },
            _layout: core::marker::PhantomData,
        }
    }
}

impl<L: Layout, const H: usize, const V: usize> Rgb<'_, L, H, V> {
    /// A whole 4:2:0 RGB565 MCU through `rvv::rgb565_rows`, row pair by row
    /// pair; false (nothing done) where rows are short (the right edge) or
    /// not 2-byte aligned (its 16-bit loads), for the portable path to do.
    #[cfg(all(target_arch = "riscv64", target_feature = "v"))]
    #[inline(always)]
    fn rgb565_rvv(&mut self, x0: usize, mcu: &mut Mcu) -> bool {
        let Some(rows) = super::gather::chunks::<32, 16>(&self.rows[0], 2 * x0) else {
            return false;
        };
        if rows.iter().any(|r| r.as_ptr() as usize % 2 != 0) {
            return false;
        }
        let y = &mut self.sums.y;
        for (p, (ys, pair)) in y.chunks_exact_mut(32).zip(rows.chunks_exact(2)).enumerate() {
            if let (Ok(ys), [r0, r1]) = (<&mut [u8; 32]>::try_from(ys), pair) {
                super::rvv::rgb565_rows([r0, r1], ys, &mut mcu.cb[8 * p..], &mut mcu.cr[8 * p..]);
            }
        }
        let mut lrows = [&[0u8; 16]; 16];
        for (l, c) in lrows.iter_mut().zip(y.chunks_exact(16)) {
            if let Some(c) = c.first_chunk::<16>() {
                *l = c;
            }
        }
        super::rvv::luma_16x16(&lrows, &mut mcu.y);
        let cols = (self.frame.width() as usize - x0).div_ceil(H);
        pad_chroma(mcu, cols, self.chroma_rows);
        true
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
        #[cfg(all(target_arch = "riscv64", target_feature = "v"))]
        if L::RGB565_LE && H == 2 && V == 2 && self.rgb565_rvv(x0, mcu) {
            return;
        }
        let px = &mut self.px;
        // The MCU's rows of raw bytes, back to back, so that unpacking is
        // one long loop.
        let (raw, scratch) = (&mut self.raw, &mut self.scratch);
        // MCU width in pixels.
        let w = 8 * H;
        let line = w * L::BPP;
        let planes = if L::PLANAR { 3 } else { 1 };
        for (raw, rows) in raw.iter_mut().zip(self.rows.iter()).take(planes) {
            let off = if L::PLANAR { x0 } else { x0 * L::BPP };
            for (row, src) in rows[..8 * V].iter().enumerate() {
                #[cfg(all(target_arch = "riscv64", target_feature = "v"))]
                if let Some(s) = src.get(off..off + line) {
                    super::rvv::copy_short(s, &mut raw[row * line..][..line]);
                    continue;
                }
                let src = fetch_len(src, off, line, L::BPP, scratch);
                raw[row * line..][..line].copy_from_slice(src);
            }
        }
        let n = 8 * V * w;
        let [r0, r1, r2] = &*raw;
        L::unpack(
            [&r0[..], &r1[..], &r2[..]],
            n,
            &mut px.r,
            &mut px.g,
            &mut px.b,
        );

        let Sums {
            y,
            rs,
            gs,
            bs,
            hr,
            hg,
            hb,
        } = &mut self.sums;
        let rgb = px.r[..n].iter().zip(&px.g[..n]).zip(&px.b[..n]);
        for (y, ((&r, &g), &b)) in y[..n].iter_mut().zip(rgb) {
            *y = luma(r, g, b);
        }
        for row in 0..8 * V {
            for hb in 0..H {
                mcu.y[(row / 8) * H + hb][(row % 8) * 8..][..8]
                    .copy_from_slice(&y[row * w + 8 * hb..][..8]);
            }
        }

        // Summed R, G, B of the pixels behind each chroma sample: pairs
        // along each row (H = 2), then pairs of rows (V = 2).
        if H == 1 {
            rs.copy_from_slice(&px.r[..64]);
            gs.copy_from_slice(&px.g[..64]);
            bs.copy_from_slice(&px.b[..64]);
        } else {
            for i in 0..8 * V * 8 {
                hr[i] = px.r[2 * i] + px.r[2 * i + 1];
                hg[i] = px.g[2 * i] + px.g[2 * i + 1];
                hb[i] = px.b[2 * i] + px.b[2 * i + 1];
            }
            if V == 2 {
                for row in 0..8 {
                    for c in 0..8 {
                        let (a, b) = (2 * row * 8 + c, (2 * row + 1) * 8 + c);
                        rs[row * 8 + c] = hr[a] + hr[b];
                        gs[row * 8 + c] = hg[a] + hg[b];
                        bs[row * 8 + c] = hb[a] + hb[b];
                    }
                }
            } else {
                rs.copy_from_slice(&hr[..64]);
                gs.copy_from_slice(&hg[..64]);
                bs.copy_from_slice(&hb[..64]);
            }
        }
        let log2n = (H * V).trailing_zeros();
        for k in 0..64 {
            mcu.cb[k] = chroma_b(rs[k], gs[k], bs[k], log2n);
            mcu.cr[k] = chroma_r(rs[k], gs[k], bs[k], log2n);
        }
        let cols = (self.frame.width() as usize - x0).div_ceil(H);
        pad_chroma(mcu, cols, self.chroma_rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_matches_libjpeg() {
        let chroma = |r: u16, g: u16, b: u16, n: u32| (chroma_b(r, g, b, n), chroma_r(r, g, b, n));
        // libjpeg's jccolor.c arithmetic, for comparison.
        let fix = |r: u16, g: u16, b: u16| {
            let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
            let y = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16;
            let off = (128 << 16) + 32767;
            let cb = (-11059 * r - 21709 * g + 32768 * b + off) >> 16;
            let cr = (32768 * r - 27439 * g - 5329 * b + off) >> 16;
            (y as u8, cb as u8, cr as u8)
        };
        for r in (0..256u16).step_by(3) {
            for g in (0..256u16).step_by(5) {
                for b in (0..256u16).step_by(7) {
                    let (y, cb, cr) = fix(r, g, b);
                    assert_eq!((luma(r, g, b), chroma(r, g, b, 0)), (y, (cb, cr)));
                }
            }
        }
        assert_eq!(chroma(0, 0, 255, 0).0, 255);
        assert_eq!(chroma(255, 0, 0, 0).1, 255);
        // Four identical pixels average to the single-pixel result.
        for (r, g, b) in [(10, 200, 30), (255, 0, 128), (77, 77, 78), (255, 255, 255)] {
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
