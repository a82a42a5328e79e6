//! A validated, zero-copy view of one raw frame in a byte buffer.

use crate::pixel::PixelFormat;

/// Why a buffer cannot be read as a frame of the stated shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Width or height is zero or above 65535 (JPEG's limit).
    BadSize,
    /// The format shares chroma between pixel pairs and the width is odd.
    OddWidth,
    /// The format shares chroma between row pairs and the height is odd.
    OddHeight,
    /// `stride` (bytes per row) is smaller than a row of pixels.
    BadStride,
    /// The buffer holds fewer bytes than the frame needs.
    TooSmall {
        /// Bytes the frame needs.
        needed: usize,
    },
    /// The format is `Jpeg`, which is not a raw frame.
    NotRaw,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FrameError::BadSize => f.write_str("width and height must be 1..65535"),
            FrameError::OddWidth => f.write_str("width must be even for this format"),
            FrameError::OddHeight => f.write_str("height must be even for this format"),
            FrameError::BadStride => f.write_str("stride is smaller than a row"),
            FrameError::TooSmall { needed } => write!(f, "buffer too small: need {needed} bytes"),
            FrameError::NotRaw => f.write_str("format JPEG is not a raw frame"),
        }
    }
}

impl core::error::Error for FrameError {}

/// One raw frame: pixels in `data`, rows `stride` bytes apart.
///
/// For planar formats (`Nv12`, `Rgbp888`) every plane uses the same stride
/// and planes follow each other directly (`stride * height` bytes each; NV12's
/// UV plane has `height / 2` rows).
#[derive(Clone, Copy, Debug)]
pub struct RawFrame<'a> {
    data: &'a [u8],
    width: u16,
    height: u16,
    stride: usize,
    format: PixelFormat,
}

impl<'a> RawFrame<'a> {
    /// Checks the shape against the buffer. `stride == 0` means "packed rows".
    pub fn new(
        data: &'a [u8],
        width: u32,
        height: u32,
        format: PixelFormat,
        stride: usize,
    ) -> Result<RawFrame<'a>, FrameError> {
        let needed = Self::required_len(width, height, format, stride)?;
        if data.len() < needed {
            return Err(FrameError::TooSmall { needed });
        }
        let stride = if stride == 0 {
            width as usize * format.row_bytes_per_pixel().unwrap_or(1)
        } else {
            stride
        };
        Ok(RawFrame {
            data,
            width: width as u16,
            height: height as u16,
            stride,
            format,
        })
    }

    /// Bytes a frame of this shape needs (the last row need not be padded to
    /// the stride).
    pub fn required_len(
        width: u32,
        height: u32,
        format: PixelFormat,
        stride: usize,
    ) -> Result<usize, FrameError> {
        let bpp = format.row_bytes_per_pixel().ok_or(FrameError::NotRaw)?;
        if width == 0 || height == 0 || width > 65535 || height > 65535 {
            return Err(FrameError::BadSize);
        }
        if format.needs_even_width() && !width.is_multiple_of(2) {
            return Err(FrameError::OddWidth);
        }
        if format.needs_even_height() && !height.is_multiple_of(2) {
            return Err(FrameError::OddHeight);
        }
        let row = width as usize * bpp;
        let stride = if stride == 0 { row } else { stride };
        if stride < row {
            return Err(FrameError::BadStride);
        }
        let rows = match format {
            PixelFormat::Nv12 => height as usize + height as usize / 2,
            PixelFormat::Rgbp888 => 3 * height as usize,
            _ => height as usize,
        };
        Ok(stride * (rows - 1) + row)
    }

    /// Width in pixels.
    pub fn width(&self) -> u16 {
        self.width
    }
    /// Height in pixels.
    pub fn height(&self) -> u16 {
        self.height
    }
    /// Bytes from one row to the next.
    pub fn stride(&self) -> usize {
        self.stride
    }
    /// Pixel format.
    pub fn format(&self) -> PixelFormat {
        self.format
    }
    /// The whole buffer.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Row `y` of plane `plane` (0 for packed formats), `width * bpp` bytes
    /// (NV12's UV plane: `width` bytes, rows `0..height/2`).
    #[inline]
    pub fn row(&self, plane: usize, y: usize) -> &'a [u8] {
        let plane_rows = self.height as usize;
        let start = (plane * plane_rows + y) * self.stride;
        let len = self.width as usize * self.format.row_bytes_per_pixel().unwrap_or(1);
        &self.data[start..start + len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(
            RawFrame::required_len(4, 2, PixelFormat::Nv12, 0),
            Ok(4 * 3)
        );
        assert_eq!(
            RawFrame::required_len(4, 2, PixelFormat::Rgbp888, 8),
            Ok(8 * 5 + 4)
        );
        assert_eq!(
            RawFrame::required_len(3, 2, PixelFormat::Yuv422, 0),
            Err(FrameError::OddWidth)
        );
        assert_eq!(
            RawFrame::required_len(4, 3, PixelFormat::Nv12, 0),
            Err(FrameError::OddHeight)
        );
        assert_eq!(
            RawFrame::required_len(4, 2, PixelFormat::Rgb888, 11),
            Err(FrameError::BadStride)
        );
        assert_eq!(
            RawFrame::required_len(0, 2, PixelFormat::Rgb888, 0),
            Err(FrameError::BadSize)
        );
        assert!(RawFrame::new(&[0; 5], 2, 2, PixelFormat::Grayscale, 0).is_ok());
        assert_eq!(
            RawFrame::new(&[0; 5], 2, 2, PixelFormat::Rgb565, 0).err(),
            Some(FrameError::TooSmall { needed: 8 })
        );
    }
}
