//! img_stream's own allocation-free baseline JPEG encoder.
//!
//! One MCU at a time: a per-format reader (`yuv`, `rgb`) takes the MCU's
//! 8x8 sample blocks straight from the frame, and each block goes through
//! libjpeg's float AAN DCT (`dct`), reciprocal quantisation with zig-zag
//! reordering (`quant`) and Huffman coding with the Annex K tables
//! (`huffman`) into a 64-bit bit accumulator that writes to the sink in
//! pieces of up to 2 KB (`bitwriter`). On riscv64 with RVV, `rvv` does the
//! DCT, quantisation and zig-zag of a block in one hand-written kernel with
//! the same results. Headers come from `markers`, tables from
//! `tables`. Nothing allocates; working memory is under 12 KB of stack
//! (most of it the RGB reader's MCU buffers).
//!
//! Output is baseline JFIF with libjpeg's quality scaling, so a quality
//! means the same quantisation tables as in libjpeg-turbo; NV12 and YUYV
//! samples are taken as full-range BT.601 YCbCr and need no colour step.
//! On the same RGB pixels, PSNR matches libjpeg-turbo's within 0.01 dB at
//! 4:4:4/4:2:2/4:2:0, q30-q90, with files about 1 % smaller.
//!
//! Cost on x86-64 (SSE2 only), VGA q65 4:2:0, a photograph, instructions
//! per pixel from `valgrind --tool=callgrind` on `examples/encode_count.rs`
//! ((11 encodes - 1 encode) / 10 / pixels): NV12 25, YUYV 29, GRAYSCALE 16,
//! RGB565 39, RGB888 44 (libjpeg-turbo's portable path: about 114 from RGB).
//! The code is written so plain loops vectorise (f32 DCT lanes, u16 colour
//! lanes, byte flags for the non-zero mask) and stays branch-light where it
//! cannot, which is what an in-order core without SIMD rewards too.

// On riscv64, `rvv` (with V) or `Divisors::quantize_masked` (without)
// replace parts of the portable DCT, quantiser and non-zero mask; those
// stay as the reference the tests compare them with.
mod bitwriter;
#[cfg_attr(all(target_arch = "riscv64", target_feature = "v"), allow(dead_code))]
mod dct;
mod gather;
#[cfg_attr(target_arch = "riscv64", allow(dead_code))]
mod huffman;
mod markers;
#[cfg_attr(target_arch = "riscv64", allow(dead_code))]
mod quant;
mod rgb;
#[cfg(all(target_arch = "riscv64", target_feature = "v"))]
mod rvv;
mod tables;
mod yuv;

#[cfg(test)]
mod noise;
#[cfg(test)]
mod tests;

use super::{EncodeError, Subsampling};
use crate::frame::RawFrame;
use crate::pixel::PixelFormat;
use crate::sink::Sink;
use bitwriter::Writer;
use gather::{Mcu, Source};
use markers::ComponentSpec;
use quant::Divisors;
use tables::Class;

/// Encodes `job`'s frame as baseline JFIF into `sink` without allocating.
///
/// Grayscale frames give a one-component JPEG (the subsampling is ignored).
/// Fails with `SinkFull` if the sink refused bytes; in that case every byte
/// was still offered to the sink, so a counting sink knows the size needed.
pub fn encode<S: Sink>(job: &super::Job<'_>, sink: &mut S) -> Result<(), EncodeError> {
    let (frame, quality, subsampling) = (&job.frame, job.quality, job.subsampling);
    let format = frame.format();
    let gray = format == PixelFormat::Grayscale;
    let (h, v) = match subsampling {
        _ if gray => (1, 1),
        Subsampling::S444 => (1, 1),
        Subsampling::S422 => (2, 1),
        Subsampling::S420 => (2, 2),
    };

    let luma = Divisors::new(tables::quant_table(Class::Luma, quality));
    let chroma = Divisors::new(tables::quant_table(Class::Chroma, quality));
    let comps = [
        ComponentSpec {
            id: 1,
            h,
            v,
            table: 0,
        },
        ComponentSpec {
            id: 2,
            h: 1,
            v: 1,
            table: 1,
        },
        ComponentSpec {
            id: 3,
            h: 1,
            v: 1,
            table: 1,
        },
    ];
    let comps = if gray { &comps[..1] } else { &comps[..] };

    let mut w = Writer::new(sink);
    markers::start(&mut w);
    if gray {
        markers::quant_tables(&mut w, &[&luma.natural]);
    } else {
        markers::quant_tables(&mut w, &[&luma.natural, &chroma.natural]);
    }
    markers::frame_header(&mut w, frame.width(), frame.height(), comps);
    markers::huffman_tables(&mut w, !gray);
    markers::scan_header(&mut w, comps);

    let t = Tables {
        luma: &luma,
        chroma: &chroma,
    };
    macro_rules! by_sampling {
        ($reader:ident $(, $layout:ty)?) => {
            match (h, v) {
                (1, 1) => scan::<_, _, 1, 1, true>(&mut yuv_or_rgb!($reader, 1, 1 $(, $layout)?), frame, &t, &mut w),
                (2, 1) => scan::<_, _, 2, 1, true>(&mut yuv_or_rgb!($reader, 2, 1 $(, $layout)?), frame, &t, &mut w),
                _ => scan::<_, _, 2, 2, true>(&mut yuv_or_rgb!($reader, 2, 2 $(, $layout)?), frame, &t, &mut w),
            }
        };
    }
    macro_rules! yuv_or_rgb {
        (Rgb, $h:literal, $v:literal, $layout:ty) => {
            rgb::Rgb::<$layout, $h, $v>::new(frame)
        };
        ($reader:ident, $h:literal, $v:literal) => {
            yuv::$reader::<$h, $v>::new(frame)
        };
    }
    match format {
        PixelFormat::Grayscale => {
            scan::<_, _, 1, 1, false>(&mut yuv::Gray::new(frame), frame, &t, &mut w)
        }
        PixelFormat::Nv12 => by_sampling!(Nv12),
        PixelFormat::Yuv422 => by_sampling!(Yuyv),
        PixelFormat::Rgb565 => by_sampling!(Rgb, rgb::Rgb565),
        PixelFormat::Rgb565Swapped => by_sampling!(Rgb, rgb::Rgb565Swapped),
        PixelFormat::Rgb888 => by_sampling!(Rgb, rgb::Rgb888),
        PixelFormat::Bgr888 => by_sampling!(Rgb, rgb::Bgr888),
        PixelFormat::Rgbp888 => by_sampling!(Rgb, rgb::Rgbp888),
        PixelFormat::Jpeg => {}
    }

    w.finish_bits();
    markers::end(&mut w);
    w.flush();
    if w.failed() {
        Err(EncodeError::SinkFull)
    } else {
        Ok(())
    }
}

struct Tables<'t> {
    luma: &'t Divisors,
    chroma: &'t Divisors,
}

/// The MCU loop: `H`x`V` luma blocks per MCU, plus Cb and Cr if `COLOR`.
/// Never inlined: inside `encode` LLVM allocated the loop's registers worse
/// (about 18 instructions a block more on rv64 with V).
#[inline(never)]
fn scan<R: Source, S: Sink, const H: usize, const V: usize, const COLOR: bool>(
    reader: &mut R,
    frame: &RawFrame<'_>,
    t: &Tables<'_>,
    w: &mut Writer<'_, S>,
) {
    let (mcu_w, mcu_h) = (8 * H, 8 * V);
    let cols = (frame.width() as usize).div_ceil(mcu_w);
    let rows = (frame.height() as usize).div_ceil(mcu_h);
    let mut mcu = Mcu::new();
    let mut scratch = Scratch::new();
    let mut pred = [0i32; 3];
    for my in 0..rows {
        reader.start_row(my * mcu_h);
        for mx in 0..cols {
            reader.gather(mx * mcu_w, &mut mcu);
            for y in &mcu.y[..H * V] {
                block(y, t.luma, &mut pred[0], &huffman::LUMA, &mut scratch, w);
            }
            if COLOR {
                let s = &mut scratch;
                block(&mcu.cb, t.chroma, &mut pred[1], &huffman::CHROMA, s, w);
                block(&mcu.cr, t.chroma, &mut pred[2], &huffman::CHROMA, s, w);
            }
        }
    }
}

/// Working arrays of [`block`], made once per scan so that no block
/// zeroes them (a `memset` per array per block otherwise). Their contents
/// between blocks do not matter.
struct Scratch {
    /// Quantised coefficients in zig-zag order.
    zz: [i16; 64],
    /// DCT output and working space (portable path).
    #[cfg(not(all(target_arch = "riscv64", target_feature = "v")))]
    coef: [[f32; 64]; 2],
    /// Quantised coefficients in DCT order (portable path on SIMD targets).
    #[cfg(not(target_arch = "riscv64"))]
    q: [i16; 64],
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            zz: [0; 64],
            #[cfg(not(all(target_arch = "riscv64", target_feature = "v")))]
            coef: [[0.0; 64]; 2],
            #[cfg(not(target_arch = "riscv64"))]
            q: [0; 64],
        }
    }
}

/// DCT, quantisation and entropy coding of one block.
#[inline]
fn block<S: Sink>(
    samples: &[u8; 64],
    div: &Divisors,
    pred: &mut i32,
    huff: &huffman::Tables,
    s: &mut Scratch,
    w: &mut Writer<'_, S>,
) {
    #[cfg(all(target_arch = "riscv64", target_feature = "v"))]
    let nonzero = rvv::dct_quantize(samples, div.recip(), &mut s.zz);
    #[cfg(not(all(target_arch = "riscv64", target_feature = "v")))]
    let nonzero = {
        let [coef, tmp] = &mut s.coef;
        dct::forward(samples, coef, tmp);
        #[cfg(target_arch = "riscv64")]
        let mask = div.quantize_masked(coef, &mut s.zz);
        #[cfg(not(target_arch = "riscv64"))]
        let mask = {
            div.quantize(coef, &mut s.q, &mut s.zz);
            huffman::nonzero_mask(&s.zz)
        };
        mask
    };
    huffman::encode_block(&s.zz, nonzero, pred, huff, w);
}
