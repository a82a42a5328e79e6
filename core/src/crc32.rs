//! CRC-32/ISO-HDLC, the checksum on every img_stream header and payload.
//!
//! This is the CRC that zlib, PNG, Ethernet and Python's `zlib.crc32`
//! compute: reflected polynomial `0xEDB88320`, initial value and final XOR
//! `0xFFFFFFFF`. The check value of `b"123456789"` is `0xCBF43926`.
//!
//! The board checksums every JPEG it sends (≈100 KB per frame) on an in-order
//! RISC-V core, so the bulk loop is slicing-by-8: eight table lookups per
//! eight input bytes, with no data-dependent branches. The eight 1 KiB tables
//! are generated at compile time and live in read-only memory.
//!
//! ```
//! use img_stream_core::crc32::{crc32, Crc32};
//!
//! assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
//! let mut crc = Crc32::new();
//! crc.update(b"1234");
//! crc.update(b"56789");
//! assert_eq!(crc.finish(), 0xCBF4_3926);
//! ```

/// The reflected CRC-32/ISO-HDLC polynomial.
const POLY: u32 = 0xEDB8_8320;

/// `TABLES[0]` is the classic byte-at-a-time table; `TABLES[k][b]` is the CRC
/// of byte `b` followed by `k` zero bytes, which lets eight bytes be folded in
/// with independent lookups.
static TABLES: [[u32; 256]; 8] = make_tables();

const fn make_tables() -> [[u32; 256]; 8] {
    let mut tables = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        tables[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = tables[k - 1][i];
            tables[k][i] = (prev >> 8) ^ tables[0][(prev & 0xFF) as usize];
            i += 1;
        }
        k += 1;
    }
    tables
}

/// Advances a raw (pre-inverted) CRC register over `data`.
fn update_raw(mut crc: u32, data: &[u8]) -> u32 {
    let t = &TABLES;
    let mut blocks = data.chunks_exact(8);
    for b in &mut blocks {
        let lo = crc ^ u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        crc = t[7][(lo & 0xFF) as usize]
            ^ t[6][((lo >> 8) & 0xFF) as usize]
            ^ t[5][((lo >> 16) & 0xFF) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][b[4] as usize]
            ^ t[2][b[5] as usize]
            ^ t[1][b[6] as usize]
            ^ t[0][b[7] as usize];
    }
    for &byte in blocks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ byte as u32) & 0xFF) as usize];
    }
    crc
}

/// The CRC-32/ISO-HDLC of `data` in one call.
pub fn crc32(data: &[u8]) -> u32 {
    !update_raw(!0, data)
}

/// An incremental CRC-32/ISO-HDLC, for data that arrives in pieces.
///
/// Feeding the pieces in order gives the same result as [`crc32`] over their
/// concatenation, however the data is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crc32 {
    /// The register before the final inversion.
    state: u32,
}

impl Crc32 {
    /// A CRC over no data yet.
    pub const fn new() -> Crc32 {
        Crc32 { state: !0 }
    }

    /// Feeds the next piece of data.
    pub fn update(&mut self, data: &[u8]) {
        self.state = update_raw(self.state, data);
    }

    /// The CRC of everything fed so far; more data may still be fed after.
    pub fn finish(&self) -> u32 {
        !self.state
    }
}

impl Default for Crc32 {
    fn default() -> Crc32 {
        Crc32::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One bit at a time, straight from the definition: the reference the
    /// table-driven code must agree with.
    fn bitwise(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= byte as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ POLY
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// xorshift64*: deterministic bytes without a dependency.
    fn fill_random(buf: &mut [u8], seed: &mut u64) {
        for b in buf {
            *seed ^= *seed >> 12;
            *seed ^= *seed << 25;
            *seed ^= *seed >> 27;
            *b = (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8;
        }
    }

    #[test]
    fn check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(bitwise(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"a"), 0xE8B7_BE43);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
        assert_eq!(crc32(&[0u8; 32]), 0x190A_55AD);
        assert_eq!(crc32(&[0xFFu8; 32]), 0xFF6C_AB0B);
    }

    #[test]
    fn matches_bitwise_on_random_data_of_every_small_length() {
        let mut seed = 0x1234_5678_9ABC_DEF0;
        let mut buf = [0u8; 300];
        for len in 0..buf.len() {
            fill_random(&mut buf[..len], &mut seed);
            assert_eq!(crc32(&buf[..len]), bitwise(&buf[..len]), "len {len}");
        }
    }

    #[test]
    fn matches_bitwise_on_random_misaligned_slices() {
        let mut seed = 42;
        let mut buf = [0u8; 4099];
        fill_random(&mut buf, &mut seed);
        for start in 0..9 {
            let data = &buf[start..];
            assert_eq!(crc32(data), bitwise(data), "start {start}");
        }
    }

    #[test]
    fn incremental_equals_one_shot_for_any_split() {
        let mut seed = 7;
        let mut buf = [0u8; 97];
        fill_random(&mut buf, &mut seed);
        let whole = crc32(&buf);
        for a in 0..buf.len() {
            for b in a..buf.len() {
                let mut crc = Crc32::new();
                crc.update(&buf[..a]);
                crc.update(&buf[a..b]);
                assert_eq!(crc.finish(), crc32(&buf[..b]));
                crc.update(&buf[b..]);
                assert_eq!(crc.finish(), whole, "split {a}/{b}");
            }
        }
        assert_eq!(Crc32::default().finish(), 0);
    }
}
