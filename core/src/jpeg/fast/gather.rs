//! What every pixel-format reader shares: the MCU it fills, the trait the
//! MCU loop drives, and edge handling.
//!
//! Readers take one MCU at a time straight from the frame. Rows below the
//! image repeat the last row; columns right of it repeat the last pixel
//! (libjpeg's edge expansion), so partial MCUs compress like full ones.

use crate::frame::RawFrame;

/// The 8x8 sample blocks of one MCU, row-major, 0..=255. Aligned so the
/// RVV row copies can store eight bytes as one element.
#[repr(C, align(8))]
pub struct Mcu {
    /// Luma blocks in scan order (left to right, top to bottom).
    pub y: [[u8; 64]; 4],
    /// Cb block.
    pub cb: [u8; 64],
    /// Cr block.
    pub cr: [u8; 64],
}

impl Mcu {
    /// All zero.
    pub const fn new() -> Mcu {
        Mcu {
            y: [[0; 64]; 4],
            cb: [0; 64],
            cr: [0; 64],
        }
    }
}

/// A pixel-format reader, monomorphised per format and sampling.
pub trait Source {
    /// Prepares for the MCU row whose top luma row is `y0`.
    fn start_row(&mut self, y0: usize);
    /// Fills `mcu` with the MCU whose left luma column is `x0`.
    fn gather(&mut self, x0: usize, mcu: &mut Mcu);
}

/// `N` bytes of `row` from `off`, or, where the row ends first, the bytes
/// that exist followed by copies of the row's last `unit`-byte pixel.
#[inline(always)]
pub fn fetch<'b, const N: usize>(
    row: &'b [u8],
    off: usize,
    unit: usize,
    scratch: &'b mut [u8; N],
) -> &'b [u8; N] {
    match row.get(off..).and_then(|r| r.first_chunk::<N>()) {
        Some(chunk) => chunk,
        None => {
            pad(row, off, unit, scratch);
            scratch
        }
    }
}

/// `N` bytes from `off` of every row, or `None` if any row ends first (the
/// caller then takes the padding path).
#[cfg(all(target_arch = "riscv64", target_feature = "v"))]
#[inline(always)]
pub fn chunks<'a, const N: usize, const R: usize>(
    rows: &[&'a [u8]; R],
    off: usize,
) -> Option<[&'a [u8; N]; R]> {
    let first = rows.first()?.get(off..)?.first_chunk::<N>()?;
    let mut out = [first; R];
    for (o, r) in out.iter_mut().zip(rows) {
        *o = r.get(off..)?.first_chunk::<N>()?;
    }
    Some(out)
}

/// Like [`fetch`], for a length known only to the caller's monomorphised
/// code: `len` bytes (at most `N`) as a slice.
#[inline(always)]
pub fn fetch_len<'b, const N: usize>(
    row: &'b [u8],
    off: usize,
    len: usize,
    unit: usize,
    scratch: &'b mut [u8; N],
) -> &'b [u8] {
    match row.get(off..off + len) {
        Some(chunk) => chunk,
        None => {
            let s = &mut scratch[..len.min(N)];
            pad(row, off, unit, s);
            s
        }
    }
}

#[cold]
#[inline(never)]
fn pad(row: &[u8], off: usize, unit: usize, scratch: &mut [u8]) {
    let avail = row.get(off..).unwrap_or(&[]);
    let n = avail.len().min(scratch.len());
    scratch[..n].copy_from_slice(&avail[..n]);
    let last = &row[row.len().saturating_sub(unit)..];
    if last.is_empty() {
        return;
    }
    // `n` is a whole number of pixels, so the pattern restarts at `n`.
    for (i, s) in scratch[n..].iter_mut().enumerate() {
        *s = last[i % last.len()];
    }
}

/// Where an MCU's chroma block reaches past the image, repeats its last
/// real column and row (`cols`, `rows` of them are real), so padding sits at
/// the component's own resolution as in libjpeg.
#[inline]
pub fn pad_chroma(mcu: &mut Mcu, cols: usize, rows: usize) {
    if cols < 8 || rows < 8 {
        pad_block(&mut mcu.cb, cols, rows);
        pad_block(&mut mcu.cr, cols, rows);
    }
}

#[cold]
fn pad_block(b: &mut [u8; 64], cols: usize, rows: usize) {
    let (cols, rows) = (cols.clamp(1, 8), rows.clamp(1, 8));
    for row in b.chunks_exact_mut(8).take(rows) {
        let last = row[cols - 1];
        row[cols..].fill(last);
    }
    let (done, rest) = b.split_at_mut(rows * 8);
    let last: [u8; 8] = done[(rows - 1) * 8..].try_into().unwrap_or([0; 8]);
    for row in rest.chunks_exact_mut(8) {
        row.copy_from_slice(&last);
    }
}

/// Slices of rows `first, first + step, ...` of `plane` (`count` of them),
/// clamped to the plane's last row `last`.
#[inline]
pub fn rows<'a, const N: usize>(
    frame: &RawFrame<'a>,
    plane: usize,
    first: usize,
    step: usize,
    last: usize,
) -> [&'a [u8]; N] {
    let mut out = [&[][..]; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = frame.row(plane, (first + i * step).min(last));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chroma_padding_repeats_last_real_sample() {
        let mut m = Mcu::new();
        for (i, v) in m.cb.iter_mut().enumerate() {
            *v = i as u8;
        }
        pad_chroma(&mut m, 3, 2);
        assert_eq!(m.cb[..8], [0, 1, 2, 2, 2, 2, 2, 2]);
        assert_eq!(m.cb[8..16], [8, 9, 10, 10, 10, 10, 10, 10]);
        assert_eq!(m.cb[56..], m.cb[8..16]);
    }

    #[test]
    fn fetch_inside_and_past_the_edge() {
        let row = [1u8, 2, 3, 4, 5, 6];
        let mut s = [0u8; 4];
        assert_eq!(fetch(&row, 1, 1, &mut s), &[2, 3, 4, 5]);
        let mut s = [0u8; 4];
        assert_eq!(fetch(&row, 4, 1, &mut s), &[5, 6, 6, 6]);
        let mut s = [0u8; 6];
        assert_eq!(fetch(&row, 2, 2, &mut s), &[3, 4, 5, 6, 5, 6]);
        let mut s = [0u8; 5];
        assert_eq!(fetch(&row, 3, 3, &mut s), &[4, 5, 6, 4, 5]);
    }
}
