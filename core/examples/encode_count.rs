//! Encodes one VGA frame N times, for instruction counting:
//!
//! ```text
//! cargo build --release -p img-stream-core --example encode_count
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg11 target/release/examples/encode_count 11
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg1  target/release/examples/encode_count 1
//! ```
//!
//! instructions/pixel = (total(11) - total(1)) / 10 / (640 * 480).
//!
//! Options after N, as `key=value`: `fmt=` nv12 (default), gray, rgb565,
//! rgb565s, rgb888, bgr888, rgbp888, yuyv; `q=` quality (65); `ss=` 444, 422
//! or 420 (420); `engine=` fast (default) or generic; `photo=` a baseline
//! JPEG photograph whose centre 640x480 crop replaces the synthetic scene;
//! `out=` a file to write the last encode to; `rgb=` a file to write the
//! source RGB888 pixels to (to encode the same pixels with another encoder).

use img_stream_core::frame::RawFrame;
use img_stream_core::jpeg::{encode, Engine, Subsampling};
use img_stream_core::pixel::PixelFormat;

const W: usize = 640;
const H: usize = 480;

#[path = "../src/jpeg/fast/noise.rs"]
mod noise;
use noise::noise;

/// A smooth-plus-texture RGB scene (no grain: camera frames at q65 are
/// mostly smooth).
fn synthetic() -> Vec<u8> {
    let mut out = Vec::with_capacity(W * H * 3);
    for y in 0..H {
        for x in 0..W {
            let (xf, yf) = (x as f64, y as f64);
            let tex = 0.6 * noise(xf, yf, 48.0, 1)
                + 0.3 * noise(xf, yf, 12.0, 2)
                + 0.1 * noise(xf, yf, 3.0, 3);
            let (r, g, b) = if yf < 200.0 + 40.0 * noise(xf, 0.0, 80.0, 4) {
                (90.0 + 0.3 * yf, 140.0 + 0.2 * yf, 230.0 - 0.1 * yf)
            } else {
                (60.0 + 130.0 * tex, 80.0 + 120.0 * tex, 40.0 + 70.0 * tex)
            };
            out.extend([r, g, b].map(|c: f64| c.round().clamp(0.0, 255.0) as u8));
        }
    }
    out
}

fn photo(path: &str) -> Vec<u8> {
    let data = std::fs::read(path).expect("read photo");
    let mut d = jpeg_decoder::Decoder::new(&data[..]);
    let px = d.decode().expect("decode photo");
    let info = d.info().unwrap();
    let (pw, ph) = (info.width as usize, info.height as usize);
    assert!(pw >= W && ph >= H, "photo must be at least {W}x{H}");
    assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
    let (x0, y0) = ((pw - W) / 2, (ph - H) / 2);
    let mut out = Vec::with_capacity(W * H * 3);
    for y in 0..H {
        out.extend_from_slice(&px[((y0 + y) * pw + x0) * 3..][..W * 3]);
    }
    out
}

fn ycc(p: &[u8]) -> [f64; 3] {
    let (r, g, b) = (f64::from(p[0]), f64::from(p[1]), f64::from(p[2]));
    [
        0.299 * r + 0.587 * g + 0.114 * b,
        128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b,
        128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b,
    ]
}

fn b(v: f64) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

fn convert(rgb: &[u8], fmt: PixelFormat) -> Vec<u8> {
    let px = |x: usize, y: usize| &rgb[(y * W + x) * 3..][..3];
    let mut out = Vec::new();
    match fmt {
        PixelFormat::Grayscale => (0..W * H).for_each(|i| out.push(b(ycc(&rgb[i * 3..])[0]))),
        PixelFormat::Rgb565 | PixelFormat::Rgb565Swapped => {
            for p in rgb.chunks_exact(3) {
                let w = (u16::from(p[0] >> 3) << 11)
                    | (u16::from(p[1] >> 2) << 5)
                    | u16::from(p[2] >> 3);
                out.extend(if fmt == PixelFormat::Rgb565 {
                    w.to_le_bytes()
                } else {
                    w.to_be_bytes()
                });
            }
        }
        PixelFormat::Rgb888 => out.extend_from_slice(rgb),
        PixelFormat::Bgr888 => rgb
            .chunks_exact(3)
            .for_each(|p| out.extend([p[2], p[1], p[0]])),
        PixelFormat::Rgbp888 => (0..3).for_each(|c| out.extend(rgb.iter().skip(c).step_by(3))),
        PixelFormat::Yuv422 => {
            for y in 0..H {
                for x in (0..W).step_by(2) {
                    let (a, c) = (ycc(px(x, y)), ycc(px(x + 1, y)));
                    out.extend([
                        b(a[0]),
                        b((a[1] + c[1]) / 2.0),
                        b(c[0]),
                        b((a[2] + c[2]) / 2.0),
                    ]);
                }
            }
        }
        PixelFormat::Nv12 => {
            (0..W * H).for_each(|i| out.push(b(ycc(&rgb[i * 3..])[0])));
            for y in (0..H).step_by(2) {
                for x in (0..W).step_by(2) {
                    let mut c = [0.0; 2];
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let t = ycc(px(x + dx, y + dy));
                        c[0] += t[1] / 4.0;
                        c[1] += t[2] / 4.0;
                    }
                    out.extend([b(c[0]), b(c[1])]);
                }
            }
        }
        PixelFormat::Jpeg => unreachable!(),
    }
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .expect("usage: encode_count N [key=value...]");
    let (mut fmt, mut q, mut ss, mut engine) =
        (PixelFormat::Nv12, 65u8, Subsampling::S420, Engine::Fast);
    let (mut photo_path, mut out_path, mut rgb_path) = (None, None, None);
    for a in args {
        let (k, v) = a.split_once('=').expect("options are key=value");
        match k {
            "fmt" => {
                fmt = match v {
                    "nv12" => PixelFormat::Nv12,
                    "gray" => PixelFormat::Grayscale,
                    "rgb565" => PixelFormat::Rgb565,
                    "rgb565s" => PixelFormat::Rgb565Swapped,
                    "rgb888" => PixelFormat::Rgb888,
                    "bgr888" => PixelFormat::Bgr888,
                    "rgbp888" => PixelFormat::Rgbp888,
                    "yuyv" => PixelFormat::Yuv422,
                    _ => panic!("unknown format {v}"),
                }
            }
            "q" => q = v.parse().expect("quality"),
            "ss" => {
                ss = Subsampling::from_number(v.parse().expect("subsampling"))
                    .expect("444, 422 or 420")
            }
            "engine" => {
                engine = if v == "generic" {
                    Engine::Generic
                } else {
                    Engine::Fast
                }
            }
            "photo" => photo_path = Some(v.to_string()),
            "out" => out_path = Some(v.to_string()),
            "rgb" => rgb_path = Some(v.to_string()),
            _ => panic!("unknown option {k}"),
        }
    }
    let rgb = photo_path.as_deref().map_or_else(synthetic, photo);
    if let Some(p) = rgb_path {
        std::fs::write(p, &rgb).expect("write rgb");
    }
    let data = convert(&rgb, fmt);
    let frame = RawFrame::new(&data, W as u32, H as u32, fmt, 0).expect("frame");
    let mut out = Vec::with_capacity(W * H * 3);
    for _ in 0..n {
        out.clear();
        encode(&frame, q, ss, engine, &mut out).expect("encode");
    }
    if let Some(p) = out_path {
        std::fs::write(p, &out).expect("write output");
    }
    println!("{} bytes", out.len());
}
