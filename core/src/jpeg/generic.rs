//! The `jpeg-encoder` path: one `ImageBuffer` adapter per pixel format.
//!
//! `jpeg-encoder` asks for one full-width row per component at a time, so each
//! adapter converts a single source row on the fly: no full-frame copy. NV12
//! and YUYV are already YCbCr and are only de-interleaved (chroma repeated to
//! full width, which the encoder then averages back down).

use alloc::vec::Vec;

use jpeg_encoder::{
    rgb_to_ycbcr, ChromaSubsamplingMethod, Encoder, EncodingError, ImageBuffer, JfifWrite,
    JpegColorType, SamplingFactor,
};

use super::{EncodeError, Subsampling};
use crate::frame::RawFrame;
use crate::pixel::PixelFormat;
use crate::sink::Sink;

/// Encodes `job`'s frame with `jpeg-encoder`.
pub fn encode<S: Sink>(job: &super::Job<'_>, sink: &mut S) -> Result<(), EncodeError> {
    let mut writer = SinkWriter { sink, full: false };
    let mut encoder = Encoder::new(&mut writer, job.quality);
    encoder.set_sampling_factor(match job.subsampling {
        Subsampling::S444 => SamplingFactor::F_1_1,
        Subsampling::S422 => SamplingFactor::F_2_1,
        Subsampling::S420 => SamplingFactor::F_2_2,
    });
    // Averaging costs ~10 % speed and buys the PSNR libjpeg gets.
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    let result = encoder.encode_image(FrameImage(job.frame));
    match result {
        Ok(()) => Ok(()),
        Err(_) if writer.full => Err(EncodeError::SinkFull),
        Err(_) => Err(EncodeError::OutOfMemory),
    }
}

/// Adapts our [`Sink`] to `jpeg-encoder`'s writer trait.
struct SinkWriter<'s, S: Sink> {
    sink: &'s mut S,
    full: bool,
}

impl<S: Sink> JfifWrite for &mut SinkWriter<'_, S> {
    fn write_all(&mut self, buf: &[u8]) -> Result<(), EncodingError> {
        self.sink.write_all(buf).map_err(|_| {
            self.full = true;
            // An empty String does not allocate.
            EncodingError::Write(alloc::string::String::new())
        })
    }
}

/// A raw frame seen through `jpeg-encoder`'s `ImageBuffer`.
struct FrameImage<'a>(RawFrame<'a>);

impl ImageBuffer for FrameImage<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        match self.0.format() {
            PixelFormat::Grayscale => JpegColorType::Luma,
            _ => JpegColorType::Ycbcr,
        }
    }

    fn width(&self) -> u16 {
        self.0.width()
    }

    fn height(&self) -> u16 {
        self.0.height()
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let f = &self.0;
        let y = y as usize;
        let [yb, cb, cr, _] = buffers;
        match f.format() {
            PixelFormat::Grayscale => yb.extend_from_slice(f.row(0, y)),
            PixelFormat::Nv12 => {
                yb.extend_from_slice(f.row(0, y));
                // The UV plane starts after `height` luma rows.
                let uv = f.row(1, y / 2);
                for pair in uv.chunks_exact(2) {
                    cb.extend_from_slice(&[pair[0], pair[0]]);
                    cr.extend_from_slice(&[pair[1], pair[1]]);
                }
            }
            PixelFormat::Yuv422 => {
                for q in f.row(0, y).chunks_exact(4) {
                    yb.extend_from_slice(&[q[0], q[2]]);
                    cb.extend_from_slice(&[q[1], q[1]]);
                    cr.extend_from_slice(&[q[3], q[3]]);
                }
            }
            PixelFormat::Rgbp888 => {
                let (r, g, b) = (f.row(0, y), f.row(1, y), f.row(2, y));
                for ((&r, &g), &b) in r.iter().zip(g).zip(b) {
                    push_rgb(yb, cb, cr, r, g, b);
                }
            }
            PixelFormat::Rgb888 => {
                for p in f.row(0, y).chunks_exact(3) {
                    push_rgb(yb, cb, cr, p[0], p[1], p[2]);
                }
            }
            PixelFormat::Bgr888 => {
                for p in f.row(0, y).chunks_exact(3) {
                    push_rgb(yb, cb, cr, p[2], p[1], p[0]);
                }
            }
            PixelFormat::Rgb565 => {
                for p in f.row(0, y).chunks_exact(2) {
                    let (r, g, b) = rgb565_to_rgb(u16::from_le_bytes([p[0], p[1]]));
                    push_rgb(yb, cb, cr, r, g, b);
                }
            }
            PixelFormat::Rgb565Swapped => {
                for p in f.row(0, y).chunks_exact(2) {
                    let (r, g, b) = rgb565_to_rgb(u16::from_be_bytes([p[0], p[1]]));
                    push_rgb(yb, cb, cr, r, g, b);
                }
            }
            PixelFormat::Jpeg => {}
        }
    }
}

#[inline(always)]
fn push_rgb(yb: &mut Vec<u8>, cb: &mut Vec<u8>, cr: &mut Vec<u8>, r: u8, g: u8, b: u8) {
    let (y, u, v) = rgb_to_ycbcr(r, g, b);
    yb.push(y);
    cb.push(u);
    cr.push(v);
}

/// Expands a 5-6-5 word to 8-bit channels, replicating the top bits into the
/// low ones so white stays 255 (what OpenMV's and libjpeg's readers do).
#[inline(always)]
pub fn rgb565_to_rgb(w: u16) -> (u8, u8, u8) {
    let r = ((w >> 11) & 0x1f) as u8;
    let g = ((w >> 5) & 0x3f) as u8;
    let b = (w & 0x1f) as u8;
    (
        (r << 3) | (r >> 2),
        (g << 2) | (g >> 4),
        (b << 3) | (b >> 2),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jpeg::Engine;
    use crate::sink::SliceSink;
    use alloc::vec::Vec;

    #[test]
    fn rgb565_expansion_matches_reference() {
        for w in 0..=u16::MAX {
            let (r, g, b) = rgb565_to_rgb(w);
            let rr = (((w >> 11) & 31) as f64 * 255.0 / 31.0).round() as i32;
            let gr = (((w >> 5) & 63) as f64 * 255.0 / 63.0).round() as i32;
            let br = ((w & 31) as f64 * 255.0 / 31.0).round() as i32;
            assert!((r as i32 - rr).abs() <= 1 && (g as i32 - gr).abs() <= 1);
            assert!((b as i32 - br).abs() <= 1);
        }
    }

    /// Plain per-pixel reference of what the adapter must produce for row y:
    /// (Y, Cb, Cr) at full width.
    fn reference_row(f: &RawFrame<'_>, y: usize) -> [Vec<u8>; 3] {
        let w = f.width() as usize;
        let d = f.data();
        let s = f.stride();
        let h = f.height() as usize;
        let mut out = [Vec::new(), Vec::new(), Vec::new()];
        for x in 0..w {
            let (yy, cb, cr) = match f.format() {
                PixelFormat::Grayscale => (d[y * s + x], 0, 0),
                PixelFormat::Nv12 => {
                    let uv = h * s + (y / 2) * s + (x / 2) * 2;
                    (d[y * s + x], d[uv], d[uv + 1])
                }
                PixelFormat::Yuv422 => {
                    let q = y * s + (x / 2) * 4;
                    (d[q + (x % 2) * 2], d[q + 1], d[q + 3])
                }
                PixelFormat::Rgbp888 => {
                    rgb_to_ycbcr(d[y * s + x], d[(h + y) * s + x], d[(2 * h + y) * s + x])
                }
                PixelFormat::Rgb888 => {
                    let p = y * s + 3 * x;
                    rgb_to_ycbcr(d[p], d[p + 1], d[p + 2])
                }
                PixelFormat::Bgr888 => {
                    let p = y * s + 3 * x;
                    rgb_to_ycbcr(d[p + 2], d[p + 1], d[p])
                }
                PixelFormat::Rgb565 | PixelFormat::Rgb565Swapped => {
                    let p = y * s + 2 * x;
                    let w = if f.format() == PixelFormat::Rgb565 {
                        u16::from_le_bytes([d[p], d[p + 1]])
                    } else {
                        u16::from_be_bytes([d[p], d[p + 1]])
                    };
                    let (r, g, b) = rgb565_to_rgb(w);
                    rgb_to_ycbcr(r, g, b)
                }
                PixelFormat::Jpeg => unreachable!(),
            };
            out[0].push(yy);
            if f.format() != PixelFormat::Grayscale {
                out[1].push(cb);
                out[2].push(cr);
            }
        }
        out
    }

    fn raw_formats() -> impl Iterator<Item = PixelFormat> {
        PixelFormat::ALL
            .into_iter()
            .filter(|f| *f != PixelFormat::Jpeg)
    }

    fn noise(n: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    #[test]
    fn adapters_match_plain_reference() {
        for format in raw_formats() {
            let (w, h) = (10u32, 6u32);
            let bpp = format.row_bytes_per_pixel().unwrap();
            let stride = w as usize * bpp + 3;
            let len = RawFrame::required_len(w, h, format, stride).unwrap();
            let data = noise(len, format as u32);
            let f = RawFrame::new(&data, w, h, format, stride).unwrap();
            let img = FrameImage(f);
            for y in 0..h as usize {
                let mut bufs: [Vec<u8>; 4] = Default::default();
                img.fill_buffers(y as u16, &mut bufs);
                let want = reference_row(&f, y);
                assert_eq!(bufs[0], want[0], "{format:?} row {y} Y");
                assert_eq!(bufs[1], want[1], "{format:?} row {y} Cb");
                assert_eq!(bufs[2], want[2], "{format:?} row {y} Cr");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn random_shapes_encode_and_decode(
            w in 1u32..90, h in 1u32..70, pad in 0usize..9,
            fmt in 0usize..8, q in 1u8..=100, ss in 0usize..3, seed in 0u32..1000,
        ) {
            let format = raw_formats().nth(fmt).unwrap();
            let (w, h) = match format {
                PixelFormat::Nv12 => (w * 2, h * 2),
                PixelFormat::Yuv422 => (w * 2, h),
                _ => (w, h),
            };
            let stride = w as usize * format.row_bytes_per_pixel().unwrap() + pad;
            let len = RawFrame::required_len(w, h, format, stride).unwrap();
            let data = noise(len, seed);
            let f = RawFrame::new(&data, w, h, format, stride).unwrap();
            let sub = [Subsampling::S444, Subsampling::S422, Subsampling::S420][ss];
            let mut out = Vec::new();
            crate::jpeg::encode(&f, q, sub, Engine::Generic, &mut out).unwrap();
            let mut dec = jpeg_decoder::Decoder::new(&out[..]);
            let px = dec.decode().unwrap();
            let info = dec.info().unwrap();
            proptest::prop_assert_eq!((info.width as u32, info.height as u32), (w, h));
            let comps = if format == PixelFormat::Grayscale { 1 } else { 3 };
            proptest::prop_assert_eq!(px.len(), (w * h) as usize * comps);
        }
    }

    #[test]
    fn sink_too_small_is_reported() {
        let px = [128u8; 16 * 16];
        let f = RawFrame::new(&px, 16, 16, PixelFormat::Grayscale, 0).unwrap();
        let mut out = [0u8; 100];
        let mut s = SliceSink::new(&mut out);
        assert_eq!(
            crate::jpeg::encode(&f, 65, Subsampling::S420, Engine::Generic, &mut s),
            Err(EncodeError::SinkFull)
        );
    }
}
