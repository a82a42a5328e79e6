//! Camera pixel formats and the one-byte codes that name them everywhere:
//! in the Python constants, in the C ABI and in the wire header.

/// A pixel layout img_stream can take as input (or `Jpeg`: already encoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PixelFormat {
    /// 8-bit luma only.
    Grayscale = 1,
    /// 16-bit little-endian words, red in the top 5 bits (CanMV/OpenMV order).
    Rgb565 = 2,
    /// `Rgb565` with the two bytes of each word swapped (big-endian words).
    Rgb565Swapped = 3,
    /// Interleaved R, G, B bytes.
    Rgb888 = 4,
    /// Interleaved B, G, R bytes.
    Bgr888 = 5,
    /// Three full planes: all R, then all G, then all B (CanMV's AI format).
    Rgbp888 = 6,
    /// Packed YUYV 4:2:2 (Y0 U Y1 V), full-range BT.601.
    Yuv422 = 7,
    /// Y plane followed by interleaved U,V at half resolution, full-range BT.601
    /// (CanMV's `YUV420SP` sensor format).
    Nv12 = 8,
    /// An already-encoded JPEG file.
    Jpeg = 9,
}

impl PixelFormat {
    /// Every format, in code order.
    ///
    /// cbindgen:ignore
    pub const ALL: [PixelFormat; 9] = [
        PixelFormat::Grayscale,
        PixelFormat::Rgb565,
        PixelFormat::Rgb565Swapped,
        PixelFormat::Rgb888,
        PixelFormat::Bgr888,
        PixelFormat::Rgbp888,
        PixelFormat::Yuv422,
        PixelFormat::Nv12,
        PixelFormat::Jpeg,
    ];

    /// The format with this wire code, if any.
    pub fn from_code(code: u8) -> Option<PixelFormat> {
        PixelFormat::ALL.iter().copied().find(|f| *f as u8 == code)
    }

    /// The wire code of this format.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// A short lowercase name, as used in messages and file names.
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Grayscale => "grayscale",
            PixelFormat::Rgb565 => "rgb565",
            PixelFormat::Rgb565Swapped => "rgb565_swapped",
            PixelFormat::Rgb888 => "rgb888",
            PixelFormat::Bgr888 => "bgr888",
            PixelFormat::Rgbp888 => "rgbp888",
            PixelFormat::Yuv422 => "yuv422",
            PixelFormat::Nv12 => "nv12",
            PixelFormat::Jpeg => "jpeg",
        }
    }

    /// Bytes per pixel of the first (or only) plane's rows; `None` for JPEG.
    pub fn row_bytes_per_pixel(self) -> Option<usize> {
        match self {
            PixelFormat::Grayscale | PixelFormat::Nv12 | PixelFormat::Rgbp888 => Some(1),
            PixelFormat::Rgb565 | PixelFormat::Rgb565Swapped | PixelFormat::Yuv422 => Some(2),
            PixelFormat::Rgb888 | PixelFormat::Bgr888 => Some(3),
            PixelFormat::Jpeg => None,
        }
    }

    /// Whether width must be even (chroma shared by pixel pairs).
    pub fn needs_even_width(self) -> bool {
        matches!(self, PixelFormat::Yuv422 | PixelFormat::Nv12)
    }

    /// Whether height must be even (chroma shared by row pairs).
    pub fn needs_even_height(self) -> bool {
        matches!(self, PixelFormat::Nv12)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for f in PixelFormat::ALL {
            assert_eq!(PixelFormat::from_code(f.code()), Some(f));
        }
        assert_eq!(PixelFormat::from_code(0), None);
        assert_eq!(PixelFormat::from_code(10), None);
    }
}
