//! Readers for RGB formats: JFIF's BT.601 full-range RGB -> YCbCr with
//! libjpeg's 16-bit fixed-point constants and rounding (`jccolor.c`), chroma
//! reduced by averaging like libjpeg's `h2v1`/`h2v2` downsamplers.
//!
//! Chroma is computed once from the summed RGB of the pixels it covers
//! instead of per pixel and then averaged: the conversion is linear, so this
//! is the same average with one rounding instead of two, and a third of the
//! multiplications.
//!
//! Where the compiler vectorises (x86-64, riscv64 with V), an MCU is
//! converted in stages over whole arrays (unpack every row, then luma for
//! all pixels, then chroma for all samples), each stage one long, simple
//! loop. A scalar riscv64 build instead takes each pixel once: its luma goes
//! straight into the block and its chroma share into a running sum, and an
//! RGB565 pixel's Y, Cb and Cr terms are two table loads (one per byte).
//! Both compute the same bytes.

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
    /// What the one-pass reader (`Rgb::gather_fused`) adds up per chroma
    /// sample.
    type Acc: Copy + Default + core::ops::AddAssign;
    /// Luma of pixel `i` of one row (`src[p]`: the row's bytes of plane
    /// `p`) and the pixel's share of its chroma sample.
    fn pixel(src: [&[u8]; 3], i: usize) -> (u8, Self::Acc);
    /// Cb and Cr of the average of `2^log2n` pixels whose shares add up to
    /// `acc`.
    fn chroma(acc: Self::Acc, log2n: u32) -> (u8, u8);
}

/// Summed 8-bit R, G, B of the pixels behind one chroma sample.
#[derive(Clone, Copy, Default)]
pub struct RgbSum(i32, i32, i32);

impl core::ops::AddAssign for RgbSum {
    #[inline(always)]
    fn add_assign(&mut self, o: RgbSum) {
        (self.0, self.1, self.2) = (self.0 + o.0, self.1 + o.1, self.2 + o.2);
    }
}

/// [`Layout::pixel`] of R, G, B bytes.
#[inline(always)]
fn rgb_pixel(r: u8, g: u8, b: u8) -> (u8, RgbSum) {
    let (r, g, b) = (u16::from(r), u16::from(g), u16::from(b));
    (
        luma(r, g, b),
        RgbSum(i32::from(r), i32::from(g), i32::from(b)),
    )
}

/// [`Layout::chroma`] from summed R, G, B.
#[inline(always)]
fn rgb_chroma(s: RgbSum, log2n: u32) -> (u8, u8) {
    (
        chroma_b(s.0, s.1, s.2, log2n),
        chroma_r(s.0, s.1, s.2, log2n),
    )
}

/// Summed fixed-point Cb and Cr terms (before offset and shift) of the
/// pixels behind one chroma sample.
#[derive(Clone, Copy, Default)]
pub struct CbCr(i32, i32);

impl core::ops::AddAssign for CbCr {
    #[inline(always)]
    fn add_assign(&mut self, o: CbCr) {
        (self.0, self.1) = (self.0 + o.0, self.1 + o.1);
    }
}

/// One byte's share of a pixel's fixed-point Y (rounding included), Cb
/// and Cr terms. Padded to 16 bytes so an index is one shift.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Part {
    y: u32,
    cb: i32,
    cr: i32,
}

/// The conversion is linear in R, G and B, and bit replication widens each
/// 5/6-bit channel without mixing the two bytes of an RGB565 word: R and
/// B lie in one byte each, and of G = g5..g0 the widened 8-bit value is
/// `32 * g5g4g3 + g5g4g3 >> 1` (high byte) plus `4 * g2g1g0` (low byte).
/// So Y, Cb and Cr of a pixel are `HI[high byte] + LO[low byte]`, exactly.
const fn parts565(high: bool) -> [Part; 256] {
    let mut t = [Part { y: 0, cb: 0, cr: 0 }; 256];
    let mut i = 0;
    while i < 256 {
        let (r, g, b) = if high {
            let r5 = (i >> 3) as i32;
            let gh = (i & 7) as i32;
            ((r5 << 3) | (r5 >> 2), 32 * gh + (gh >> 1), 0)
        } else {
            let b5 = (i & 31) as i32;
            (0, 4 * (i >> 5) as i32, (b5 << 3) | (b5 >> 2))
        };
        let round = if high { 0 } else { 32768 };
        t[i] = Part {
            y: Y_R * r as u32 + Y_G * g as u32 + Y_B * b as u32 + round,
            cb: CB_R * r + CB_G * g + HALF * b,
            cr: HALF * r + CR_G * g + CR_B * b,
        };
        i += 1;
    }
    t
}

/// [`parts565`] of an RGB565 word's high byte (R and the top bits of G).
static HI565: [Part; 256] = parts565(true);
/// [`parts565`] of the low byte (the low bits of G and B).
static LO565: [Part; 256] = parts565(false);

/// [`Layout::pixel`] of an RGB565 word given as its two bytes: two table
/// loads instead of unpacking, widening and multiplying.
#[inline(always)]
fn pixel565(high: u8, low: u8) -> (u8, CbCr) {
    let (a, b) = (&HI565[usize::from(high)], &LO565[usize::from(low)]);
    (((a.y + b.y) >> 16) as u8, CbCr(a.cb + b.cb, a.cr + b.cr))
}

/// [`Layout::chroma`] of summed [`CbCr`] terms.
#[inline(always)]
fn chroma565(s: CbCr, log2n: u32) -> (u8, u8) {
    let (off, shift) = (chroma_offset(log2n), 16 + log2n);
    (((s.0 + off) >> shift) as u8, ((s.1 + off) >> shift) as u8)
}

/// RGB565 words (red in the top bits), little-endian or, with `SWAPPED`,
/// big-endian.
pub struct Word565<const SWAPPED: bool>;
/// RGB565 little-endian words.
pub type Rgb565 = Word565<false>;
/// RGB565 words stored big-endian.
pub type Rgb565Swapped = Word565<true>;
/// Three bytes a pixel: R, G, B or, with `BGR`, B, G, R.
pub struct Packed888<const BGR: bool>;
/// R, G, B bytes.
pub type Rgb888 = Packed888<false>;
/// B, G, R bytes.
pub type Bgr888 = Packed888<true>;
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

impl<const SWAPPED: bool> Layout for Word565<SWAPPED> {
    const BPP: usize = 2;
    #[cfg(all(target_arch = "riscv64", target_feature = "v"))]
    const RGB565_LE: bool = !SWAPPED;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], n: usize, r: &mut [u16], g: &mut [u16], b: &mut [u16]) {
        let px = r[..n].iter_mut().zip(&mut g[..n]).zip(&mut b[..n]);
        for (c, ((r, g), b)) in s[0][..2 * n].chunks_exact(2).zip(px) {
            let w = word(c);
            let w = if SWAPPED {
                u16::from_be_bytes(w)
            } else {
                u16::from_le_bytes(w)
            };
            (*r, *g, *b) = unpack565(w);
        }
    }
    type Acc = CbCr;
    #[inline(always)]
    fn pixel(s: [&[u8]; 3], i: usize) -> (u8, CbCr) {
        let (first, second) = (s[0][2 * i], s[0][2 * i + 1]);
        if SWAPPED {
            pixel565(first, second)
        } else {
            pixel565(second, first)
        }
    }
    #[inline(always)]
    fn chroma(acc: CbCr, log2n: u32) -> (u8, u8) {
        chroma565(acc, log2n)
    }
}

impl<const BGR: bool> Layout for Packed888<BGR> {
    const BPP: usize = 3;
    #[inline(always)]
    fn unpack(s: [&[u8]; 3], n: usize, r: &mut [u16], g: &mut [u16], b: &mut [u16]) {
        let px = r[..n].iter_mut().zip(&mut g[..n]).zip(&mut b[..n]);
        for (c, ((r, g), b)) in s[0][..3 * n].chunks_exact(3).zip(px) {
            let (c0, c1, c2) = (u16::from(c[0]), u16::from(c[1]), u16::from(c[2]));
            (*r, *g, *b) = if BGR { (c2, c1, c0) } else { (c0, c1, c2) };
        }
    }
    type Acc = RgbSum;
    #[inline(always)]
    fn pixel(s: [&[u8]; 3], i: usize) -> (u8, RgbSum) {
        let (c0, c1, c2) = (s[0][3 * i], s[0][3 * i + 1], s[0][3 * i + 2]);
        if BGR {
            rgb_pixel(c2, c1, c0)
        } else {
            rgb_pixel(c0, c1, c2)
        }
    }
    #[inline(always)]
    fn chroma(acc: RgbSum, log2n: u32) -> (u8, u8) {
        rgb_chroma(acc, log2n)
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
    type Acc = RgbSum;
    #[inline(always)]
    fn pixel(s: [&[u8]; 3], i: usize) -> (u8, RgbSum) {
        rgb_pixel(s[0][i], s[1][i], s[2][i])
    }
    #[inline(always)]
    fn chroma(acc: RgbSum, log2n: u32) -> (u8, u8) {
        rgb_chroma(acc, log2n)
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
fn chroma_b(r: i32, g: i32, b: i32, log2n: u32) -> u8 {
    ((CB_R * r + CB_G * g + HALF * b + chroma_offset(log2n)) >> (16 + log2n)) as u8
}

/// Cr, like [`chroma_b`].
#[inline(always)]
fn chroma_r(r: i32, g: i32, b: i32, log2n: u32) -> u8 {
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
    /// Edge padding of the one-pass reader: two rows of three planes.
    edge: [[[u8; 48]; 3]; 2],
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
            edge: [[[0; 48]; 3]; 2],
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
        // Without a vector unit the staged loops below are all overhead
        // (every pixel stored and reloaded three times).
        if cfg!(all(target_arch = "riscv64", not(target_feature = "v"))) {
            self.gather_fused(x0, mcu);
        } else {
            self.gather_staged(x0, mcu);
        }
    }
}

impl<L: Layout, const H: usize, const V: usize> Rgb<'_, L, H, V> {
    /// The whole MCU in one pass over its pixels, for scalar cores: each
    /// pixel's luma goes straight into its block and its chroma share
    /// ([`Layout::pixel`]) into a running sum, with no intermediate arrays.
    /// Computes exactly what `Rgb::gather_staged` computes.
    #[inline(always)]
    fn gather_fused(&mut self, x0: usize, mcu: &mut Mcu) {
        let line = 8 * H * L::BPP;
        let off = if L::PLANAR { x0 } else { x0 * L::BPP };
        let planes = if L::PLANAR { 3 } else { 1 };
        let log2n = (H * V).trailing_zeros();
        let [e0, e1] = &mut self.edge;
        for cy in 0..8 {
            // This chroma row's V rows of pixels, per plane.
            let mut src = [[&[][..]; 3]; 2];
            for (dy, (src, edge)) in src.iter_mut().zip([&mut *e0, &mut *e1]).take(V).enumerate() {
                let each = src.iter_mut().zip(edge.iter_mut()).zip(&self.rows);
                for ((s, e), rows) in each.take(planes) {
                    *s = fetch_len(rows[cy * V + dy], off, line, L::BPP, e);
                }
            }
            for cx in 0..8 {
                let mut acc = L::Acc::default();
                for (dy, src) in src.iter().enumerate().take(V) {
                    let row = cy * V + dy;
                    for dx in 0..H {
                        let px = cx * H + dx;
                        let (y, a) = L::pixel(*src, px);
                        mcu.y[(row / 8) * H + px / 8][(row % 8) * 8 + px % 8] = y;
                        acc += a;
                    }
                }
                (mcu.cb[cy * 8 + cx], mcu.cr[cy * 8 + cx]) = L::chroma(acc, log2n);
            }
        }
        let cols = (self.frame.width() as usize - x0).div_ceil(H);
        pad_chroma(mcu, cols, self.chroma_rows);
    }

    /// The MCU in stages over whole arrays (see the module docs), for
    /// targets whose compiler vectorises each stage.
    #[inline(always)]
    fn gather_staged(&mut self, x0: usize, mcu: &mut Mcu) {
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
            let (r, g, b) = (i32::from(rs[k]), i32::from(gs[k]), i32::from(bs[k]));
            mcu.cb[k] = chroma_b(r, g, b, log2n);
            mcu.cr[k] = chroma_r(r, g, b, log2n);
        }
        let cols = (self.frame.width() as usize - x0).div_ceil(H);
        pad_chroma(mcu, cols, self.chroma_rows);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn conversion_matches_libjpeg() {
        let chroma = |r: u16, g: u16, b: u16, n: u32| {
            let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
            (chroma_b(r, g, b, n), chroma_r(r, g, b, n))
        };
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

    /// Both readers over every MCU of a frame of `L`'s pixels with ragged
    /// edges; returns how many MCUs were compared.
    fn fused_vs_staged<L: Layout, const H: usize, const V: usize>(
        format: crate::pixel::PixelFormat,
    ) -> usize {
        let (w, h) = (37usize, 29usize);
        let bytes = w * h * 3; // enough for every layout (planar: three planes)
        let mut seed = 0x2545_F491u32;
        let data: std::vec::Vec<u8> = (0..bytes)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                // Runs of 0x00/0xFF as well as noise: the conversions' extremes.
                match seed >> 29 {
                    0 => 0,
                    1 => 255,
                    _ => (seed >> 16) as u8,
                }
            })
            .collect();
        let frame = RawFrame::new(&data, w as u32, h as u32, format, 0).unwrap();
        let (mut fused, mut staged) = (Rgb::<L, H, V>::new(&frame), Rgb::<L, H, V>::new(&frame));
        let mut compared = 0;
        for y0 in (0..h).step_by(8 * V) {
            fused.start_row(y0);
            staged.start_row(y0);
            for x0 in (0..w).step_by(8 * H) {
                let (mut a, mut b) = (Mcu::new(), Mcu::new());
                fused.gather_fused(x0, &mut a);
                staged.gather_staged(x0, &mut b);
                assert_eq!(
                    (a.y, a.cb, a.cr),
                    (b.y, b.cb, b.cr),
                    "{format:?} {H}x{V} at {x0},{y0}"
                );
                compared += 1;
            }
        }
        compared
    }

    #[test]
    fn fused_reader_matches_staged() {
        use crate::pixel::PixelFormat as F;
        let mut n = 0;
        macro_rules! all_samplings {
            ($l:ty, $f:expr) => {
                n += fused_vs_staged::<$l, 1, 1>($f);
                n += fused_vs_staged::<$l, 2, 1>($f);
                n += fused_vs_staged::<$l, 2, 2>($f);
            };
        }
        all_samplings!(Rgb565, F::Rgb565);
        all_samplings!(Rgb565Swapped, F::Rgb565Swapped);
        all_samplings!(Rgb888, F::Rgb888);
        all_samplings!(Bgr888, F::Bgr888);
        all_samplings!(Rgbp888, F::Rgbp888);
        // 4:4:4 20 MCUs, 4:2:2 12, 4:2:0 6, for each of five layouts.
        assert_eq!(n, 5 * (20 + 12 + 6));
    }

    #[test]
    fn rgb565_parts_add_up_to_the_conversion() {
        for w in 0..=u16::MAX {
            let (r, g, b) = unpack565(w);
            let [high, low] = w.to_be_bytes();
            let (y, c) = pixel565(high, low);
            let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
            assert_eq!(y, luma(r as u16, g as u16, b as u16), "{w:#06x}");
            assert_eq!(c.0, CB_R * r + CB_G * g + HALF * b, "{w:#06x}");
            assert_eq!(c.1, HALF * r + CR_G * g + CR_B * b, "{w:#06x}");
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
