//! Reading width and height out of an already-encoded JPEG (pass-through
//! frames still need them for the wire header).

/// Dimensions found in a JPEG's start-of-frame marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JpegInfo {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Number of colour components (1 grayscale, 3 YCbCr).
    pub components: u8,
}

/// Whether `data` starts like a JPEG file (SOI marker).
pub fn looks_like_jpeg(data: &[u8]) -> bool {
    data.len() >= 2 && data[0] == 0xFF && data[1] == 0xD8
}

/// Walks the marker segments up to the first SOFn and reads its dimensions.
/// `None` if `data` is not a JPEG or ends before a SOF marker.
pub fn parse(data: &[u8]) -> Option<JpegInfo> {
    if !looks_like_jpeg(data) {
        return None;
    }
    let mut i = 2;
    while i + 4 <= data.len() {
        if data[i] != 0xFF {
            return None;
        }
        let marker = data[i + 1];
        if marker == 0xFF {
            // Fill byte before a marker.
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let s = data.get(i + 4..i + 4 + 6)?;
            return Some(JpegInfo {
                height: u16::from_be_bytes([s[1], s[2]]),
                width: u16::from_be_bytes([s[3], s[4]]),
                components: s[5],
            });
        }
        if marker == 0xDA || len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::RawFrame;
    use crate::jpeg::{encode, Engine, Subsampling};
    use crate::pixel::PixelFormat;

    #[test]
    fn reads_our_own_output() {
        let px = [90u8; 37 * 21];
        let f = RawFrame::new(&px, 37, 21, PixelFormat::Grayscale, 0).unwrap();
        let mut out = alloc::vec::Vec::new();
        encode(&f, 50, Subsampling::S420, Engine::Generic, &mut out).unwrap();
        assert_eq!(
            parse(&out),
            Some(JpegInfo {
                width: 37,
                height: 21,
                components: 1
            })
        );
        assert_eq!(parse(&out[..10]), None);
        assert_eq!(parse(b"not a jpeg"), None);
    }
}
