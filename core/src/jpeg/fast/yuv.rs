//! Readers for formats that already hold JFIF samples: grayscale, NV12 and
//! YUYV. Their bytes go to the DCT unchanged; chroma is only regrouped
//! (replicated when the output has more chroma than the input, averaged
//! when it has less).

use super::gather::{fetch, pad_chroma, rows, Mcu, Source};
use crate::frame::RawFrame;

/// 8-bit luma, one component, 8x8 MCUs.
pub struct Gray<'a> {
    frame: RawFrame<'a>,
    rows: [&'a [u8]; 8],
}

impl<'a> Gray<'a> {
    /// Reader over `frame` (format `Grayscale`).
    pub fn new(frame: &RawFrame<'a>) -> Self {
        Gray {
            frame: *frame,
            rows: [&[]; 8],
        }
    }
}

impl Source for Gray<'_> {
    fn start_row(&mut self, y0: usize) {
        self.rows = rows(&self.frame, 0, y0, 1, self.frame.height() as usize - 1);
    }

    #[inline]
    fn gather(&mut self, x0: usize, mcu: &mut Mcu) {
        #[cfg(all(target_arch = "riscv64", target_feature = "v"))]
        if let Some(src) = super::gather::chunks::<8, 8>(&self.rows, x0) {
            return super::rvv::block_8x8(&src, &mut mcu.y[0]);
        }
        let mut scratch = [0u8; 8];
        for (dst, row) in mcu.y[0].chunks_exact_mut(8).zip(self.rows.iter()) {
            dst.copy_from_slice(fetch(row, x0, 1, &mut scratch));
        }
    }
}

/// NV12: a Y plane, then interleaved U,V at half resolution both ways.
/// `H`x`V` is the luma sampling of the output (2x2 = 4:2:0 needs no
/// resampling at all).
pub struct Nv12<'a, const H: usize, const V: usize> {
    frame: RawFrame<'a>,
    y: [&'a [u8]; 16],
    uv: [&'a [u8]; 8],
}

impl<'a, const H: usize, const V: usize> Nv12<'a, H, V> {
    /// Reader over `frame` (format `Nv12`, even width and height).
    pub fn new(frame: &RawFrame<'a>) -> Self {
        Nv12 {
            frame: *frame,
            y: [&[]; 16],
            uv: [&[]; 8],
        }
    }
}

impl<const H: usize, const V: usize> Nv12<'_, H, V> {
    #[inline(always)]
    fn luma(&self, x0: usize, mcu: &mut Mcu) {
        #[cfg(all(target_arch = "riscv64", target_feature = "v"))]
        if H == 2 && V == 2 {
            if let Some(src) = super::gather::chunks::<16, 16>(&self.y, x0) {
                return super::rvv::luma_16x16(&src, &mut mcu.y);
            }
        }
        let mut s8 = [0u8; 8];
        for r in 0..8 * V {
            for hb in 0..H {
                let src = fetch(self.y[r], x0 + 8 * hb, 1, &mut s8);
                mcu.y[(r / 8) * H + hb][(r % 8) * 8..][..8].copy_from_slice(src);
            }
        }
    }
}

impl<const H: usize, const V: usize> Source for Nv12<'_, H, V> {
    fn start_row(&mut self, y0: usize) {
        let h = self.frame.height() as usize;
        self.y = rows(&self.frame, 0, y0, 1, h - 1);
        // Chroma row `i` of the MCU covers luma row y0 + i * V.
        for (i, r) in self.uv.iter_mut().enumerate() {
            *r = self.frame.row(1, ((y0 + i * V) / 2).min(h / 2 - 1));
        }
    }

    #[inline]
    fn gather(&mut self, x0: usize, mcu: &mut Mcu) {
        self.luma(x0, mcu);
        let mut s16 = [0u8; 16];
        for (r, row) in self.uv.iter().enumerate() {
            // U,V pairs from byte x0 (pair x0 / 2): eight for H = 2, four
            // (each used twice) for H = 1.
            let src: &[u8; 16] = if H == 2 {
                fetch(row, x0, 2, &mut s16)
            } else {
                let mut s = [0u8; 8];
                let four = fetch(row, x0, 2, &mut s);
                for i in 0..8 {
                    s16[2 * i] = four[(i / 2) * 2];
                    s16[2 * i + 1] = four[(i / 2) * 2 + 1];
                }
                &s16
            };
            for i in 0..8 {
                mcu.cb[r * 8 + i] = src[2 * i];
                mcu.cr[r * 8 + i] = src[2 * i + 1];
            }
        }
    }
}

/// YUYV 4:2:2 (Y0 U Y1 V per pixel pair), rows at full height.
pub struct Yuyv<'a, const H: usize, const V: usize> {
    frame: RawFrame<'a>,
    rows: [&'a [u8]; 16],
    chroma_rows: usize,
}

impl<'a, const H: usize, const V: usize> Yuyv<'a, H, V> {
    /// Reader over `frame` (format `Yuv422`, even width).
    pub fn new(frame: &RawFrame<'a>) -> Self {
        Yuyv {
            frame: *frame,
            rows: [&[]; 16],
            chroma_rows: 8,
        }
    }
}

impl<const H: usize, const V: usize> Source for Yuyv<'_, H, V> {
    fn start_row(&mut self, y0: usize) {
        let h = self.frame.height() as usize;
        self.rows = rows(&self.frame, 0, y0, 1, h - 1);
        self.chroma_rows = (h - y0).div_ceil(V);
    }

    #[inline]
    fn gather(&mut self, x0: usize, mcu: &mut Mcu) {
        let mut s32 = [0u8; 32];
        let mut even_u = [0u8; 8];
        let mut even_v = [0u8; 8];
        for r in 0..8 * V {
            // Sixteen pixels (eight pairs) from pixel x0; an 8-wide MCU
            // uses the first eight.
            let src = fetch(self.rows[r], 2 * x0, 4, &mut s32);
            let blk = &mut mcu.y[(r / 8) * H..];
            for hb in 0..H {
                for i in 0..8 {
                    blk[hb][(r % 8) * 8 + i] = src[2 * (8 * hb + i)];
                }
            }
            let mut u = [0u8; 8];
            let mut v = [0u8; 8];
            for i in 0..8 {
                // H = 2: pair i; H = 1: pixel i's pair, i / 2.
                let p = if H == 2 { i } else { i / 2 };
                u[i] = src[4 * p + 1];
                v[i] = src[4 * p + 3];
            }
            if V == 1 {
                mcu.cb[r * 8..][..8].copy_from_slice(&u);
                mcu.cr[r * 8..][..8].copy_from_slice(&v);
            } else if r % 2 == 0 {
                even_u = u;
                even_v = v;
            } else {
                // Vertical average; the bias alternates so rounding does
                // not drift (as libjpeg's downsamplers do).
                for i in 0..8 {
                    let bias = (i & 1) as u16;
                    mcu.cb[(r / 2) * 8 + i] =
                        ((u16::from(even_u[i]) + u16::from(u[i]) + bias) >> 1) as u8;
                    mcu.cr[(r / 2) * 8 + i] =
                        ((u16::from(even_v[i]) + u16::from(v[i]) + bias) >> 1) as u8;
                }
            }
        }
        // Horizontal padding already repeats the last U,V pair.
        pad_chroma(mcu, 8, self.chroma_rows);
    }
}
