//! Whole-encoder tests: every format x subsampling x size decodes with
//! `jpeg-decoder` and stays close to the source pixels.

extern crate std;

use super::noise::{hash, noise};
use crate::frame::RawFrame;
use crate::jpeg::{encode, EncodeError, Engine, Subsampling};
use crate::pixel::PixelFormat;
use crate::sink::{Measure, Sink, SinkFull, SliceSink};
use proptest::prelude::*;
use std::vec;
use std::vec::Vec;

const SUBSAMPLINGS: [Subsampling; 3] = [Subsampling::S444, Subsampling::S422, Subsampling::S420];

/// Every raw format: `PixelFormat::ALL` but its last entry, JPEG.
const RAW_FORMATS: [PixelFormat; 8] = {
    assert!(matches!(PixelFormat::ALL[8], PixelFormat::Jpeg));
    let mut raw = [PixelFormat::Grayscale; 8];
    let mut i = 0;
    while i < raw.len() {
        raw[i] = PixelFormat::ALL[i];
        i += 1;
    }
    raw
};

/// A photograph-like RGB888 scene: sky gradient, textured ground, a few
/// hard-edged objects and fine grain.
pub fn scene(w: usize, h: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f64, y as f64);
            let tex = 0.5 * noise(xf, yf, 40.0, seed)
                + 0.3 * noise(xf, yf, 9.0, seed + 1)
                + 0.2 * noise(xf, yf, 2.5, seed + 2);
            let horizon = h as f64 * (0.45 + 0.1 * noise(xf, 0.0, 60.0, seed + 3));
            let (mut r, mut g, mut b) = if yf < horizon {
                let t = yf / horizon;
                (90.0 + 80.0 * t, 140.0 + 60.0 * t, 230.0 - 20.0 * t)
            } else {
                (70.0 + 110.0 * tex, 90.0 + 100.0 * tex, 40.0 + 60.0 * tex)
            };
            // A disc and a bar with sharp edges.
            let (dx, dy) = (xf - w as f64 * 0.3, yf - h as f64 * 0.6);
            if dx * dx + dy * dy < (w.min(h) as f64 * 0.15).powi(2) {
                (r, g, b) = (200.0 + 40.0 * tex, 60.0 + 30.0 * tex, 50.0);
            }
            if (x * 7 / w.max(1)) == 5 && y > h / 5 {
                (r, g, b) = (235.0, 230.0, 210.0 * tex + 20.0);
            }
            let grain = 8.0 * (hash(x as i64, y as i64, seed + 9) - 0.5);
            for c in [r, g, b] {
                out.push((c + grain).round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    out
}

fn to_ycc(r: u8, g: u8, b: u8) -> [f64; 3] {
    let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
    [
        0.299 * r + 0.587 * g + 0.114 * b,
        128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b,
        128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b,
    ]
}

/// What a JFIF decoder should show for YCbCr samples.
fn ycc_to_rgb(ycc: &[[u8; 3]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ycc.len() * 3);
    for &[y, cb, cr] in ycc {
        let (y, cb, cr) = (f64::from(y), f64::from(cb) - 128.0, f64::from(cr) - 128.0);
        out.push(byte(y + 1.402 * cr));
        out.push(byte(y - 0.344_136 * cb - 0.714_136 * cr));
        out.push(byte(y + 1.772 * cb));
    }
    out
}

fn byte(v: f64) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// A frame buffer of `format` made from `rgb`, with `pad` junk bytes after
/// each row, and the reference the decoded JPEG is compared with: RGB888
/// (for YCbCr inputs: their samples, chroma replicated, converted to RGB),
/// or Y for gray.
pub struct TestFrame {
    pub data: Vec<u8>,
    pub stride: usize,
    pub reference: Vec<u8>,
}

pub fn make_frame(format: PixelFormat, w: usize, h: usize, pad: usize, rgb: &[u8]) -> TestFrame {
    let bpp = format.row_bytes_per_pixel().unwrap();
    let stride = w * bpp + pad;
    let px = |x: usize, y: usize| {
        let i = 3 * (y * w + x);
        (rgb[i], rgb[i + 1], rgb[i + 2])
    };
    let rows = match format {
        PixelFormat::Nv12 => h + h / 2,
        PixelFormat::Rgbp888 => 3 * h,
        _ => h,
    };
    let mut data = vec![0xA5u8; stride * rows];
    let mut reference = Vec::new();
    match format {
        PixelFormat::Grayscale => {
            for y in 0..h {
                for x in 0..w {
                    let (r, g, b) = px(x, y);
                    let v = byte(to_ycc(r, g, b)[0]);
                    data[y * stride + x] = v;
                    reference.push(v);
                }
            }
        }
        PixelFormat::Rgb565 | PixelFormat::Rgb565Swapped => {
            for y in 0..h {
                for x in 0..w {
                    let (r, g, b) = px(x, y);
                    let word =
                        (u16::from(r >> 3) << 11) | (u16::from(g >> 2) << 5) | u16::from(b >> 3);
                    let bytes = if format == PixelFormat::Rgb565 {
                        word.to_le_bytes()
                    } else {
                        word.to_be_bytes()
                    };
                    data[y * stride + 2 * x..][..2].copy_from_slice(&bytes);
                    let (r5, g6, b5) = (r >> 3, g >> 2, b >> 3);
                    reference.extend([r5 << 3 | r5 >> 2, g6 << 2 | g6 >> 4, b5 << 3 | b5 >> 2]);
                }
            }
        }
        PixelFormat::Rgb888 | PixelFormat::Bgr888 => {
            for y in 0..h {
                for x in 0..w {
                    let (r, g, b) = px(x, y);
                    let o = if format == PixelFormat::Rgb888 {
                        [r, g, b]
                    } else {
                        [b, g, r]
                    };
                    data[y * stride + 3 * x..][..3].copy_from_slice(&o);
                    reference.extend([r, g, b]);
                }
            }
        }
        PixelFormat::Rgbp888 => {
            for y in 0..h {
                for x in 0..w {
                    let (r, g, b) = px(x, y);
                    for (p, v) in [r, g, b].into_iter().enumerate() {
                        data[(p * h + y) * stride + x] = v;
                    }
                    reference.extend([r, g, b]);
                }
            }
        }
        PixelFormat::Yuv422 => {
            let mut ycc = vec![[0u8; 3]; w * h];
            for y in 0..h {
                for x in (0..w).step_by(2) {
                    let (a, b) = (px(x, y), px(x + 1, y));
                    let (ya, yb) = (to_ycc(a.0, a.1, a.2), to_ycc(b.0, b.1, b.2));
                    let u = byte((ya[1] + yb[1]) / 2.0);
                    let v = byte((ya[2] + yb[2]) / 2.0);
                    let o = [byte(ya[0]), u, byte(yb[0]), v];
                    data[y * stride + 2 * x..][..4].copy_from_slice(&o);
                    ycc[y * w + x] = [o[0], u, v];
                    ycc[y * w + x + 1] = [o[2], u, v];
                }
            }
            reference = ycc_to_rgb(&ycc);
        }
        PixelFormat::Nv12 => {
            let mut ycc = vec![[0u8; 3]; w * h];
            for y in (0..h).step_by(2) {
                for x in (0..w).step_by(2) {
                    let mut c = [0.0f64; 2];
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let (r, g, b) = px(x + dx, y + dy);
                        let t = to_ycc(r, g, b);
                        let l = byte(t[0]);
                        data[(y + dy) * stride + x + dx] = l;
                        ycc[(y + dy) * w + x + dx][0] = l;
                        c[0] += t[1] / 4.0;
                        c[1] += t[2] / 4.0;
                    }
                    let (u, v) = (byte(c[0]), byte(c[1]));
                    data[(h + y / 2) * stride + x..][..2].copy_from_slice(&[u, v]);
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        ycc[(y + dy) * w + x + dx][1] = u;
                        ycc[(y + dy) * w + x + dx][2] = v;
                    }
                }
            }
            reference = ycc_to_rgb(&ycc);
        }
        PixelFormat::Jpeg => unreachable!(),
    }
    // The last row needs no padding, like RawFrame::required_len says.
    data.truncate(data.len() - pad);
    TestFrame {
        data,
        stride,
        reference,
    }
}

/// Decodes `jpeg`, checks its shape, and returns PSNR per channel against
/// `reference`.
pub fn decode_psnr(jpeg: &[u8], w: usize, h: usize, reference: &[u8]) -> Vec<f64> {
    let mut d = jpeg_decoder::Decoder::new(jpeg);
    let pixels = d.decode().expect("jpeg-decoder rejects our output");
    let info = d.info().unwrap();
    assert_eq!((info.width as usize, info.height as usize), (w, h));
    let channels = pixels.len() / (w * h);
    assert_eq!(pixels.len(), w * h * channels);
    assert_eq!(reference.len(), pixels.len());
    (0..channels)
        .map(|c| {
            let mut se = 0.0;
            for (a, b) in pixels.iter().zip(reference).skip(c).step_by(channels) {
                let e = f64::from(*a) - f64::from(*b);
                se += e * e;
            }
            let mse = se / (w * h) as f64;
            if mse == 0.0 {
                99.0
            } else {
                10.0 * (255.0 * 255.0 / mse).log10()
            }
        })
        .collect()
}

fn encode_vec(frame: &RawFrame<'_>, q: u8, s: Subsampling) -> Vec<u8> {
    let mut out = Vec::new();
    encode(frame, q, s, Engine::Fast, &mut out).expect("encode");
    out
}

/// Overall PSNR from per-channel PSNRs (mean of the MSEs).
fn combined(psnr: &[f64]) -> f64 {
    let mse: f64 = psnr
        .iter()
        .map(|p| 65025.0 / 10f64.powf(p / 10.0))
        .sum::<f64>()
        / psnr.len() as f64;
    10.0 * (65025.0 / mse).log10()
}

/// PSNR floors for the synthetic scene (measured minimum minus a margin;
/// real photographs score higher). Tiny frames are a few hard edges, where
/// chroma subsampling costs most.
fn floor(q: u8, big: bool, s: Subsampling) -> f64 {
    let full = s == Subsampling::S444;
    match (q, big, full) {
        (..=10, false, _) => 14.0,
        (..=10, true, _) => 22.0,
        (..=65, false, false) => 16.0,
        (..=65, false, true) => 20.0,
        (..=65, true, false) => 26.0,
        (..=65, true, true) => 30.0,
        (_, false, false) => 18.0,
        (_, false, true) => 34.0,
        (_, true, false) => 29.0,
        (_, true, true) => 37.0,
    }
}

fn sampling_factor(s: Subsampling) -> jpeg_encoder::SamplingFactor {
    match s {
        Subsampling::S444 => jpeg_encoder::SamplingFactor::R_4_4_4,
        Subsampling::S422 => jpeg_encoder::SamplingFactor::R_4_2_2,
        Subsampling::S420 => jpeg_encoder::SamplingFactor::R_4_2_0,
    }
}

/// PSNR of `jpeg-encoder` (the generic path's encoder) on the same RGB.
fn jpeg_encoder_psnr(rgb: &[u8], w: usize, h: usize, q: u8, s: Subsampling) -> f64 {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, q);
    enc.set_sampling_factor(sampling_factor(s));
    enc.encode(rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    combined(&decode_psnr(&out, w, h, rgb))
}

#[test]
fn every_format_subsampling_and_size_decodes() {
    let sizes = [
        (1, 1),
        (2, 2),
        (8, 8),
        (17, 9),
        (16, 16),
        (33, 65),
        (64, 48),
        (322, 242),
    ];
    for format in RAW_FORMATS {
        for &(w0, h0) in &sizes {
            let w = if format.needs_even_width() {
                (w0 + 1) & !1
            } else {
                w0
            };
            let h = if format.needs_even_height() {
                (h0 + 1) & !1
            } else {
                h0
            };
            let rgb = scene(w, h, 7);
            for pad in [0, 5] {
                let tf = make_frame(format, w, h, pad, &rgb);
                let frame = RawFrame::new(&tf.data, w as u32, h as u32, format, tf.stride).unwrap();
                for s in SUBSAMPLINGS {
                    for q in [10, 65, 95] {
                        let jpeg = encode_vec(&frame, q, s);
                        let psnr = decode_psnr(&jpeg, w, h, &tf.reference);
                        // Floors for the synthetic scene; real photos score higher.
                        let floor = floor(q, w * h >= 3000, s);
                        let p = combined(&psnr);
                        assert!(
                            p > floor,
                            "{format:?} {w}x{h} pad {pad} {s:?} q{q}: PSNR {p:.2} ({psnr:?})"
                        );
                        if format.code() >= 2 && format.code() <= 6 {
                            let theirs = jpeg_encoder_psnr(&tf.reference, w, h, q, s);
                            // A handful of pixels is noisy; whole frames must match.
                            let slack = if w * h >= 3000 { 0.3 } else { 2.0 };
                            assert!(
                                p > theirs - slack,
                                "{format:?} {w}x{h} {s:?} q{q}: {p:.2} vs {theirs:.2}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn psnr_floors_at_322x242() {
    let (w, h) = (322, 242);
    let rgb = scene(w, h, 3);
    for format in [
        PixelFormat::Rgb888,
        PixelFormat::Rgb565,
        PixelFormat::Nv12,
        PixelFormat::Grayscale,
    ] {
        let tf = make_frame(format, w, h, 0, &rgb);
        let frame = RawFrame::new(&tf.data, w as u32, h as u32, format, 0).unwrap();
        for (s, q, floor) in [
            (Subsampling::S420, 65, 31.0),
            (Subsampling::S420, 90, 34.5),
            (Subsampling::S444, 90, 36.0),
        ] {
            let jpeg = encode_vec(&frame, q, s);
            let psnr = decode_psnr(&jpeg, w, h, &tf.reference);
            // Luma (or the RGB mean) carries the floor.
            let p = combined(&psnr);
            std::println!(
                "{format:?} {s:?} q{q}: {} bytes, PSNR {p:.2} {psnr:.2?}",
                jpeg.len()
            );
            assert!(p > floor, "{format:?} {s:?} q{q}: {p:.2} <= {floor}");
        }
    }
}

/// Same RGB pixels through `jpeg-encoder` (the generic path's encoder):
/// ours must not be worse. Its chroma is point-sampled, ours averaged, and
/// both use libjpeg's quality scaling.
#[test]
fn not_worse_than_jpeg_encoder() {
    let (w, h) = (322, 242);
    let rgb = scene(w, h, 11);
    let frame = RawFrame::new(&rgb, w as u32, h as u32, PixelFormat::Rgb888, 0).unwrap();
    for s in SUBSAMPLINGS {
        for q in [30, 65, 90] {
            let ours = encode_vec(&frame, q, s);
            let mut theirs = Vec::new();
            let mut enc = jpeg_encoder::Encoder::new(&mut theirs, q);
            enc.set_sampling_factor(sampling_factor(s));
            enc.encode(&rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
                .unwrap();
            let po = combined(&decode_psnr(&ours, w, h, &rgb));
            let pt = combined(&decode_psnr(&theirs, w, h, &rgb));
            std::println!(
                "{s:?} q{q}: ours {po:.2} dB {} B, jpeg-encoder {pt:.2} dB {} B",
                ours.len(),
                theirs.len()
            );
            assert!(po > pt - 0.1, "{s:?} q{q}: ours {po:.2} vs {pt:.2}");
            // Same tables, so sizes stay comparable.
            assert!(ours.len() < theirs.len() * 11 / 10);
        }
    }
}

#[test]
fn extreme_blocks_stay_in_baseline_ranges() {
    // Chequerboards and stripes at full swing maximise AC magnitudes; at
    // quality 100 (all divisors 1) they must still decode exactly enough.
    let (w, h) = (64, 64);
    let mut g = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            g[y * w + x] = match (x / 16, y / 16) {
                (0, _) => {
                    if (x + y) % 2 == 0 {
                        255
                    } else {
                        0
                    }
                }
                (1, _) => {
                    if x % 2 == 0 {
                        255
                    } else {
                        0
                    }
                }
                (2, _) => {
                    if y % 2 == 0 {
                        0
                    } else {
                        255
                    }
                }
                _ => {
                    if (x / 4 + y / 4) % 2 == 0 {
                        0
                    } else {
                        255
                    }
                }
            };
        }
    }
    let frame = RawFrame::new(&g, w as u32, h as u32, PixelFormat::Grayscale, 0).unwrap();
    let jpeg = encode_vec(&frame, 100, Subsampling::S444);
    let psnr = decode_psnr(&jpeg, w, h, &g);
    assert!(psnr[0] > 45.0, "{psnr:?}");
}

#[test]
fn errors() {
    let px = [0u8; 4];
    let frame = RawFrame::new(&px, 2, 2, PixelFormat::Grayscale, 0).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        encode(&frame, 0, Subsampling::S420, Engine::Fast, &mut out),
        Err(EncodeError::BadQuality)
    );
    assert_eq!(
        encode(&frame, 101, Subsampling::S420, Engine::Fast, &mut out),
        Err(EncodeError::BadQuality)
    );
    assert!(out.is_empty());
}

#[test]
fn full_sink_reports_the_size_needed() {
    let (w, h) = (64, 48);
    let rgb = scene(w, h, 5);
    let frame = RawFrame::new(&rgb, w as u32, h as u32, PixelFormat::Rgb888, 0).unwrap();
    let full = encode_vec(&frame, 65, Subsampling::S420);
    let mut buf = vec![0u8; full.len() / 2];
    let mut sink = SliceSink::new(&mut buf);
    assert_eq!(
        encode(&frame, 65, Subsampling::S420, Engine::Fast, &mut sink),
        Err(EncodeError::SinkFull)
    );
    // Every byte is still offered: a `Measure` learns the size needed.
    let mut sink = SliceSink::new(&mut buf);
    let mut measure = Measure::new(&mut sink);
    assert_eq!(
        encode(&frame, 65, Subsampling::S420, Engine::Fast, &mut measure),
        Ok(())
    );
    assert_eq!(
        (measure.offered(), measure.overflowed()),
        (full.len(), true)
    );
    let mut buf = vec![0u8; full.len()];
    let mut sink = SliceSink::new(&mut buf);
    assert_eq!(
        encode(&frame, 65, Subsampling::S420, Engine::Fast, &mut sink),
        Ok(())
    );
    assert_eq!(buf, full);
}

/// Counts `write_all` calls.
struct Counting {
    calls: usize,
    bytes: usize,
}

impl Sink for Counting {
    fn write_all(&mut self, buf: &[u8]) -> Result<(), SinkFull> {
        self.calls += 1;
        self.bytes += buf.len();
        Ok(())
    }
}

#[test]
fn writes_to_the_sink_in_large_pieces() {
    let (w, h) = (322, 242);
    let rgb = scene(w, h, 1);
    let frame = RawFrame::new(&rgb, w as u32, h as u32, PixelFormat::Rgb888, 0).unwrap();
    let mut c = Counting { calls: 0, bytes: 0 };
    encode(&frame, 90, Subsampling::S444, Engine::Fast, &mut c).unwrap();
    assert!(c.bytes > 10_000);
    assert!(
        c.calls <= c.bytes / 500 + 1,
        "{} calls for {} bytes",
        c.calls,
        c.bytes
    );
}

#[test]
fn output_starts_and_ends_with_jfif_markers() {
    let rgb = scene(16, 16, 2);
    let frame = RawFrame::new(&rgb, 16, 16, PixelFormat::Rgb888, 0).unwrap();
    let jpeg = encode_vec(&frame, 65, Subsampling::S420);
    assert_eq!(jpeg[..4], [0xFF, 0xD8, 0xFF, 0xE0]);
    assert_eq!(&jpeg[6..11], b"JFIF\0");
    assert_eq!(jpeg[jpeg.len() - 2..], [0xFF, 0xD9]);
    // Baseline SOF0 present, no other SOFn.
    assert!(jpeg.windows(2).any(|m| m == [0xFF, 0xC0]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_sizes_and_strides_decode(
        fi in 0usize..8,
        w in 1usize..70,
        h in 1usize..70,
        pad in 0usize..9,
        si in 0usize..3,
        q in 1u8..=100,
        seed in 0u64..1000,
    ) {
        let format = RAW_FORMATS[fi];
        let w = if format.needs_even_width() { (w + 1) & !1 } else { w };
        let h = if format.needs_even_height() { (h + 1) & !1 } else { h };
        let rgb = scene(w, h, seed);
        let tf = make_frame(format, w, h, pad, &rgb);
        let frame = RawFrame::new(&tf.data, w as u32, h as u32, format, tf.stride).unwrap();
        let jpeg = encode_vec(&frame, q, SUBSAMPLINGS[si]);
        let psnr = decode_psnr(&jpeg, w, h, &tf.reference);
        let p = combined(&psnr);
        // Tiny random crops can be all edges: the absolute floor is loose,
        // the comparison with jpeg-encoder on the same RGB is the real check.
        // Below one 16x16 MCU's worth of pixels a single chroma block's
        // rounding decides the PSNR (8x3 at q 28, 4:2:0: Cb alone 2 dB
        // apart), so the comparison starts there.
        prop_assert!(p > 10.0, "{:?}", psnr);
        if format.code() >= 2 && format.code() <= 6 && w * h >= 256 {
            let theirs = jpeg_encoder_psnr(&tf.reference, w, h, q, SUBSAMPLINGS[si]);
            prop_assert!(p > theirs - 2.0, "{p:.2} vs jpeg-encoder {theirs:.2}");
        }
    }
}

#[test]
fn extreme_dimensions() {
    // JPEG's 16-bit limits in both directions, plus a last partial MCU.
    // (jpeg-decoder 0.3 overflows a u16 on grayscale taller than 65528.)
    for (format, w, h) in [
        (PixelFormat::Grayscale, 65535, 1),
        (PixelFormat::Grayscale, 1, 65527),
        (PixelFormat::Nv12, 65534, 2),
        (PixelFormat::Rgb565, 3, 20001),
    ] {
        let rgb = scene(w, h, 4);
        let tf = make_frame(format, w, h, 0, &rgb);
        let frame = RawFrame::new(&tf.data, w as u32, h as u32, format, 0).unwrap();
        for s in SUBSAMPLINGS {
            let jpeg = encode_vec(&frame, 75, s);
            let p = combined(&decode_psnr(&jpeg, w, h, &tf.reference));
            assert!(p > 20.0, "{format:?} {w}x{h} {s:?}: {p:.2}");
        }
    }
}

/// The bytes every build must write: one CRC-32 over the Fast output for
/// every raw format, three subsamplings and sizes with whole and partial
/// MCUs. x86-64 and riscv64 (scalar and RVV) run this same test, so the
/// RVV kernels and copies are held to the portable path's exact bytes.
/// If a deliberate change of output moves it, update `WANT` from the x86
/// run (`cargo test -p img-stream-core digest -- --nocapture` prints it).
#[test]
fn output_digest_is_the_same_on_every_build() {
    const WANT: u32 = 0x503c_5cf4;
    let mut all = crate::crc32::Crc32::new();
    let mut encodes = 0;
    for format in RAW_FORMATS {
        for (w0, h0) in [(64, 48), (322, 242), (33, 17)] {
            let w = if format.needs_even_width() {
                w0 & !1
            } else {
                w0
            };
            let h = if format.needs_even_height() {
                h0 & !1
            } else {
                h0
            };
            let rgb = scene(w, h, 5);
            // Pad 3: odd strides, so 16-bit rows alternate in alignment.
            for pad in [0, 3] {
                let f = make_frame(format, w, h, pad, &rgb);
                let frame = RawFrame::new(&f.data, w as u32, h as u32, format, f.stride).unwrap();
                for s in SUBSAMPLINGS {
                    let jpeg = encode_vec(&frame, 65, s);
                    all.update(&(jpeg.len() as u32).to_le_bytes());
                    all.update(&jpeg);
                    encodes += 1;
                }
            }
        }
    }
    assert_eq!(encodes, RAW_FORMATS.len() * 3 * 2 * SUBSAMPLINGS.len());
    std::println!("digest over {encodes} encodes: {:#010x}", all.finish());
    assert_eq!(all.finish(), WANT);
}
