//! A cheap signature of a raw frame's pixels, to tell that a frame equals the
//! last one sent (`skip_same`), and the skip decision with its keep-alive.
//!
//! The frame is cut into a [`GRID`] × [`GRID`] grid of cells; each cell's
//! signature is the mean of about [`SAMPLES`] × [`SAMPLES`] pixels sampled on
//! a regular lattice, each byte of a pixel apart (plane 0: the luma of NV12,
//! the first colour plane of RGBP888, all bytes of packed formats). Two frames are the same
//! when no cell's mean moved by more than a threshold: sensor noise averages
//! out over a cell, while a changed region as small as the lattice spacing
//! (`width / 128` pixels across) moves its cell. A change finer than
//! the lattice, or one that keeps a cell's mean (a texture swapped for
//! another of the same brightness), can be missed: that is the price of
//! not reading every pixel.
//! JPEG input is never called the same (it has no pixels to sample).

use crate::frame::RawFrame;

/// Cells per side.
pub const GRID: usize = 16;
/// Samples per cell per side (at most; fewer in a small frame).
pub const SAMPLES: usize = 8;
/// Bytes per pixel kept apart (the most any raw format has).
const CHANNELS: usize = 3;

/// The signature of one frame: shape and per-cell means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    width: u16,
    height: u16,
    format: u8,
    cells: [[u8; CHANNELS]; GRID * GRID],
}

impl Signature {
    /// Samples `frame`.
    pub fn of(frame: &RawFrame<'_>) -> Signature {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let bpp = frame.row(0, 0).len() / w;
        let step_y = (h / (GRID * SAMPLES)).max(1);
        let step_x = (w / (GRID * SAMPLES)).max(1);
        let mut sums = [[0u32; CHANNELS]; GRID * GRID];
        let mut counts = [0u32; GRID * GRID];
        let mut y = step_y / 2;
        while y < h {
            let row = frame.row(0, y);
            let base = y * GRID / h * GRID;
            let mut x = step_x / 2;
            while x < w {
                let c = base + x * GRID / w;
                // Each byte of a pixel apart: a colour change that keeps
                // the bytes' sum would cancel out in one mean.
                for (k, sum) in sums[c].iter_mut().enumerate().take(bpp) {
                    *sum += u32::from(row[x * bpp + k]);
                }
                counts[c] += 1;
                x += step_x;
            }
            y += step_y;
        }
        let mut cells = [[0u8; CHANNELS]; GRID * GRID];
        for ((cell, sum), &n) in cells.iter_mut().zip(&sums).zip(&counts) {
            // A tiny frame leaves some cells empty: they stay 0 in both.
            for (m, s) in cell.iter_mut().zip(sum) {
                *m = (s + n / 2).checked_div(n).unwrap_or(0) as u8;
            }
        }
        Signature {
            width: frame.width(),
            height: frame.height(),
            format: frame.format().code(),
            cells,
        }
    }

    /// Whether `self` and `other` are the same picture: same shape, and no
    /// cell mean differs by more than `threshold`.
    pub fn same_as(&self, other: &Signature, threshold: u8) -> bool {
        (self.width, self.height, self.format) == (other.width, other.height, other.format)
            && self
                .cells
                .iter()
                .flatten()
                .zip(other.cells.iter().flatten())
                .all(|(a, b)| a.abs_diff(*b) <= threshold)
    }
}

/// `skip_same`'s state: the last sent frame's signature and when it went.
#[derive(Clone, Copy, Debug)]
pub struct SkipSame {
    last: Option<Signature>,
    last_sent_us: u64,
    keepalive_us: u64,
    threshold: u8,
    sent: u32,
    skipped: u32,
    keepalives: u32,
}

impl SkipSame {
    /// Skips frames the same (within `threshold`) as the last sent one, but
    /// sends one at least every `keepalive_us` (0: every frame is sent).
    pub const fn new(keepalive_us: u64, threshold: u8) -> SkipSame {
        SkipSame {
            last: None,
            last_sent_us: 0,
            keepalive_us,
            threshold,
            sent: 0,
            skipped: 0,
            keepalives: 0,
        }
    }

    /// Decides for a frame at `now_us` (`None`: JPEG input, always sent):
    /// `true` to encode and send it, `false` to skip it. A sent frame
    /// becomes the one later frames are compared with.
    pub fn decide(&mut self, frame: Option<&RawFrame<'_>>, now_us: u64) -> bool {
        let sig = frame.map(Signature::of);
        let same = matches!((&sig, &self.last), (Some(s), Some(l)) if s.same_as(l, self.threshold));
        if same {
            if now_us.saturating_sub(self.last_sent_us) < self.keepalive_us {
                self.skipped += 1;
                return false;
            }
            self.keepalives += 1;
        }
        self.last = sig;
        self.last_sent_us = now_us;
        self.sent += 1;
        true
    }

    /// The frame `decide` let through was not sent after all (the send
    /// failed): compare the next one with nothing, so it goes out.
    pub fn forget(&mut self) {
        self.last = None;
    }

    /// Frames let through (keep-alives included).
    pub fn sent(&self) -> u32 {
        self.sent
    }
    /// Frames skipped as unchanged.
    pub fn skipped(&self) -> u32 {
        self.skipped
    }
    /// Unchanged frames sent because `keepalive_us` had passed.
    pub fn keepalives(&self) -> u32 {
        self.keepalives
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixel::PixelFormat;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// A noisy gradient, optionally with a flat `size`-pixel square at (x, y).
    fn scene(w: usize, h: usize, seed: u32, square: Option<(usize, usize, usize)>) -> Vec<u8> {
        let mut px = Vec::with_capacity(w * h * 3);
        let mut r = seed.wrapping_mul(2_654_435_761) | 1;
        for y in 0..h {
            for x in 0..w {
                r ^= r << 13;
                r ^= r >> 17;
                r ^= r << 5;
                let noise = (r % 5) as i32 - 2; // sensor noise, ±2
                let gradient = |x: usize, y: usize| (x * 200 / w + y * 40 / h) as i32;
                let mut v = (gradient(x, y) + noise).clamp(0, 255);
                if let Some((sx, sy, s)) = square {
                    if (sx..sx + s).contains(&x) && (sy..sy + s).contains(&y) {
                        // One flat colour far from the background at the
                        // square's corner: choosing it per pixel where the
                        // gradient crosses 127 would keep the cell's mean.
                        v = if gradient(sx, sy) > 127 { 0 } else { 255 };
                    }
                }
                px.extend_from_slice(&[v as u8, (v / 2) as u8, (255 - v) as u8]);
            }
        }
        px
    }

    fn sig(px: &[u8], w: usize, h: usize) -> Signature {
        Signature::of(&RawFrame::new(px, w as u32, h as u32, PixelFormat::Rgb888, 0).unwrap())
    }

    #[test]
    fn noise_is_the_same_picture() {
        let a = sig(&scene(320, 240, 1, None), 320, 240);
        let b = sig(&scene(320, 240, 2, None), 320, 240);
        assert!(a.same_as(&b, 2));
        assert_ne!(a, Signature { format: 1, ..a });
        assert!(!a.same_as(&Signature { format: 1, ..a }, 255));
    }

    proptest! {
        #[test]
        fn a_small_changed_region_is_seen(x in 0usize..300, y in 0usize..220, seed in 1u32..1000) {
            // A 12x12 square (0.2 % of a 320x240 frame) anywhere.
            let w = 320;
            let h = 240;
            let base = sig(&scene(w, h, seed, None), w, h);
            let moved = sig(&scene(w, h, seed + 1, Some((x, y, 12))), w, h);
            prop_assert!(!moved.same_as(&base, 2));
        }
    }

    #[test]
    fn skip_and_keepalive() {
        let still = scene(160, 120, 3, None);
        let frame = RawFrame::new(&still, 160, 120, PixelFormat::Rgb888, 0).unwrap();
        let mut s = SkipSame::new(1_000_000, 2);
        let mut sent_at = Vec::new();
        for i in 0..50u64 {
            if s.decide(Some(&frame), i * 100_000) {
                sent_at.push(i);
            }
        }
        // First frame, then one keep-alive per second.
        assert_eq!(sent_at, [0, 10, 20, 30, 40]);
        assert_eq!((s.sent(), s.skipped(), s.keepalives()), (5, 45, 4));
        // JPEG input always goes; forget() lets the next frame through.
        assert!(s.decide(None, 5_000_001));
        assert!(s.decide(Some(&frame), 5_000_002));
        assert!(!s.decide(Some(&frame), 5_000_003));
        s.forget();
        assert!(s.decide(Some(&frame), 5_000_004));
    }
}
