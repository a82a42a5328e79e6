//! The pixels every encoder gets: one photograph, prepared by `run.sh` as raw
//! RGB888 at each size, then converted here into each camera format (for us)
//! and into the nearest input libjpeg-turbo accepts (for the peer).

use std::path::Path;

use img_stream_core::jpeg::generic::rgb565_to_rgb;
use img_stream_core::pixel::PixelFormat;

use crate::turbo::PeerInput;

/// The camera formats the benchmark covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// 8-bit luma.
    Gray,
    /// Little-endian 5-6-5 words.
    Rgb565,
    /// R, G, B bytes.
    Rgb888,
    /// Y plane + interleaved U,V at half resolution.
    Nv12,
}

impl Format {
    /// In table order.
    pub const ALL: [Format; 4] = [Format::Gray, Format::Rgb565, Format::Rgb888, Format::Nv12];

    /// The name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Format::Gray => "GRAYSCALE",
            Format::Rgb565 => "RGB565",
            Format::Rgb888 => "RGB888",
            Format::Nv12 => "NV12",
        }
    }

    /// Parses [`Format::name`] (any case).
    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
    }

    /// The core crate's format code.
    pub fn pixel_format(self) -> PixelFormat {
        match self {
            Format::Gray => PixelFormat::Grayscale,
            Format::Rgb565 => PixelFormat::Rgb565,
            Format::Rgb888 => PixelFormat::Rgb888,
            Format::Nv12 => PixelFormat::Nv12,
        }
    }

    /// What libjpeg-turbo is given for this format (for the tables).
    pub fn peer_input(self) -> &'static str {
        match self {
            Format::Gray => "GRAY",
            Format::Rgb565 => "RGB888 (the same pixels, expanded)",
            Format::Rgb888 => "RGB888",
            Format::Nv12 => "Y, U, V planes",
        }
    }
}

/// One test frame in one format, with the peer's input and the reference
/// that quality is scored against.
pub struct Frame {
    /// Pixels.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// The camera format of [`Frame::ours`].
    pub format: Format,
    /// Packed bytes in `format`, as our encoders read them.
    pub ours: Vec<u8>,
    /// libjpeg-turbo's input: RGB888, GRAY, or Y then U then V planes.
    peer: Vec<u8>,
    /// The photograph as RGB888 (GRAY for grayscale): PSNR is measured
    /// against this, so format loss (5-6-5 rounding, NV12's halved chroma)
    /// counts alike for every encoder of a row.
    pub reference: Vec<u8>,
}

impl Frame {
    /// Loads `dir/photo_WxH.rgb` and converts it to `format`.
    pub fn load(dir: &Path, width: u32, height: u32, format: Format) -> Result<Frame, String> {
        let path = dir.join(format!("photo_{width}x{height}.rgb"));
        let rgb = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let n = width as usize * height as usize;
        if rgb.len() != 3 * n {
            return Err(format!("{}: expected {} bytes", path.display(), 3 * n));
        }
        Ok(Frame::from_rgb(&rgb, width, height, format))
    }

    /// Converts one RGB888 picture into `format`.
    pub fn from_rgb(rgb: &[u8], width: u32, height: u32, format: Format) -> Frame {
        let (ours, peer, reference) = match format {
            Format::Gray => {
                let g: Vec<u8> = rgb
                    .chunks_exact(3)
                    .map(|p| luma(p[0], p[1], p[2]))
                    .collect();
                (g.clone(), g.clone(), g)
            }
            Format::Rgb888 => (rgb.to_vec(), rgb.to_vec(), rgb.to_vec()),
            Format::Rgb565 => {
                let mut words = Vec::with_capacity(rgb.len() / 3 * 2);
                let mut expanded = Vec::with_capacity(rgb.len());
                for p in rgb.chunks_exact(3) {
                    let w = (u16::from(p[0] >> 3) << 11)
                        | (u16::from(p[1] >> 2) << 5)
                        | u16::from(p[2] >> 3);
                    words.extend_from_slice(&w.to_le_bytes());
                    // Exactly what our RGB565 reader produces from the word.
                    let (r, g, b) = rgb565_to_rgb(w);
                    expanded.extend_from_slice(&[r, g, b]);
                }
                (words, expanded, rgb.to_vec())
            }
            Format::Nv12 => {
                let (y, u, v) = to_yuv420(rgb, width as usize, height as usize);
                let mut nv12 = y.clone();
                for (&cb, &cr) in u.iter().zip(&v) {
                    nv12.extend_from_slice(&[cb, cr]);
                }
                let mut planes = y;
                planes.extend_from_slice(&u);
                planes.extend_from_slice(&v);
                (nv12, planes, rgb.to_vec())
            }
        };
        Frame {
            width,
            height,
            format,
            ours,
            peer,
            reference,
        }
    }

    /// Pixel count.
    pub fn pixels(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Does the work a libjpeg-turbo user would do to turn [`Frame::ours`]
    /// into the peer's input (RGB565: expand to RGB888; NV12: split the UV
    /// plane), into `out`. `false` for formats the peer reads as they are.
    pub fn prepare_peer(&self, out: &mut Vec<u8>) -> bool {
        out.clear();
        match self.format {
            Format::Gray | Format::Rgb888 => return false,
            Format::Rgb565 => {
                out.resize(self.pixels() * 3, 0);
                for (d, p) in out.chunks_exact_mut(3).zip(self.ours.chunks_exact(2)) {
                    let (r, g, b) = rgb565_to_rgb(u16::from_le_bytes([p[0], p[1]]));
                    d.copy_from_slice(&[r, g, b]);
                }
            }
            Format::Nv12 => {
                let uv = &self.ours[self.pixels()..];
                out.extend(uv.iter().step_by(2));
                out.extend(uv.iter().skip(1).step_by(2));
            }
        }
        true
    }

    /// libjpeg-turbo's view of the same pixels.
    pub fn peer(&self) -> PeerInput<'_> {
        match self.format {
            Format::Gray => PeerInput::Gray(&self.peer),
            Format::Rgb565 | Format::Rgb888 => PeerInput::Rgb(&self.peer),
            Format::Nv12 => {
                let n = self.pixels();
                let c = n / 4;
                PeerInput::Yuv420 {
                    y: &self.peer[..n],
                    u: &self.peer[n..n + c],
                    v: &self.peer[n + c..n + 2 * c],
                }
            }
        }
    }
}

/// Full-range BT.601 luma (JFIF's).
fn luma(r: u8, g: u8, b: u8) -> u8 {
    let y = 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
    y.round().clamp(0.0, 255.0) as u8
}

/// Full-range BT.601 Y, Cb, Cr planes; chroma is the mean of each 2x2 block,
/// as a camera ISP's NV12 output would carry it.
fn to_yuv420(rgb: &[u8], w: usize, h: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let y = rgb
        .chunks_exact(3)
        .map(|p| luma(p[0], p[1], p[2]))
        .collect();
    let (cw, ch) = (w / 2, h / 2);
    let mut u = Vec::with_capacity(cw * ch);
    let mut v = Vec::with_capacity(cw * ch);
    for by in 0..ch {
        for bx in 0..cw {
            let (mut cb, mut cr) = (0f32, 0f32);
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let i = 3 * ((2 * by + dy) * w + 2 * bx + dx);
                let (r, g, b) = (
                    f32::from(rgb[i]),
                    f32::from(rgb[i + 1]),
                    f32::from(rgb[i + 2]),
                );
                cb += -0.168_736 * r - 0.331_264 * g + 0.5 * b;
                cr += 0.5 * r - 0.418_688 * g - 0.081_312 * b;
            }
            u.push((128.0 + cb / 4.0).round().clamp(0.0, 255.0) as u8);
            v.push((128.0 + cr / 4.0).round().clamp(0.0, 255.0) as u8);
        }
    }
    (y, u, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_pixels_give_neutral_chroma() {
        let rgb = [100u8; 4 * 2 * 3];
        let f = Frame::from_rgb(&rgb, 4, 2, Format::Nv12);
        assert_eq!(&f.ours[..8], &[100; 8]);
        assert_eq!(&f.ours[8..], &[128; 4]);
    }

    #[test]
    fn rgb565_peer_sees_the_quantised_pixels() {
        let rgb = [255, 7, 130, 0, 255, 1];
        let f = Frame::from_rgb(&rgb, 2, 1, Format::Rgb565);
        assert_eq!(f.ours.len(), 4);
        match f.peer() {
            PeerInput::Rgb(p) => assert_eq!(p, &[255, 4, 132, 0, 255, 0]),
            _ => panic!("RGB565's peer gets RGB888"),
        }
    }

    #[test]
    fn peer_preparation_reproduces_the_peer_input() {
        let rgb: Vec<u8> = (0..4 * 4 * 3).map(|i| (i * 37 % 256) as u8).collect();
        let mut out = Vec::new();
        for format in [Format::Rgb565, Format::Nv12] {
            let f = Frame::from_rgb(&rgb, 4, 4, format);
            assert!(f.prepare_peer(&mut out));
            let n = f.pixels();
            let expected = match format {
                Format::Nv12 => &f.peer[n..],
                _ => &f.peer[..],
            };
            assert_eq!(out, expected, "{format:?}");
        }
        assert!(!Frame::from_rgb(&rgb, 4, 4, Format::Gray).prepare_peer(&mut out));
    }
}
