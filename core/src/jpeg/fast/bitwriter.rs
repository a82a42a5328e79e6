//! Buffered output: a small fixed byte buffer in front of the [`Sink`], and
//! the entropy coder's 64-bit bit accumulator with 0xFF byte stuffing.

use crate::sink::Sink;

/// Bytes collected before one `Sink::write_all`: big enough that the sink
/// sees few calls even though a block reserves [`BLOCK_BYTES`], small enough
/// for the stack of a MicroPython task.
const BUF_LEN: usize = 2048;

/// Most bytes one block's codes can make the writer store: up to 31 pending
/// bits, a DC code and value (at most 27 bits) and 63 AC codes of at most
/// 16 + 10 bits (ZRLs replace coefficients, so they add nothing), in whole
/// 32-bit words, every byte stuffed, plus the one byte the stuffing path
/// writes ahead. Reserved before a block so its coding loop never checks.
pub const BLOCK_BYTES: usize = 8 * (31 + 27 + 63 * 26usize).div_ceil(32) + 1;

/// The entropy coder's pending bits, kept apart from [`Writer`] so a block's
/// coding loop holds them in registers (the writer's buffer stores would
/// otherwise force them back to memory after every code).
#[derive(Clone, Copy)]
pub struct Bits {
    /// Pending bits, right-aligned; only the low `nbits` are meaningful.
    acc: u64,
    /// Number of pending bits, always < 32 between calls.
    nbits: u32,
}

impl Bits {
    /// Appends the `n` low bits of `bits` (MSB first), handing each full
    /// 32-bit word to `w`, which must have room ([`Writer::reserve`]).
    /// `n <= 32`; `bits` must have no set bits above `n`.
    #[inline(always)]
    pub fn put<S: Sink>(&mut self, w: &mut Writer<'_, S>, bits: u32, n: u32) {
        self.acc = (self.acc << n) | u64::from(bits);
        self.nbits += n;
        if self.nbits >= 32 {
            self.nbits -= 32;
            w.emit_word((self.acc >> self.nbits) as u32);
        }
    }
}

/// Byte and bit writer over a sink.
///
/// A failing sink is remembered (see [`Writer::failed`]) but writing goes on,
/// so a counting sink such as `Measure` still learns the full size needed.
pub struct Writer<'s, S: Sink> {
    sink: &'s mut S,
    buf: [u8; BUF_LEN],
    len: usize,
    bits: Bits,
    failed: bool,
}

impl<'s, S: Sink> Writer<'s, S> {
    /// An empty writer.
    pub fn new(sink: &'s mut S) -> Self {
        Writer {
            sink,
            buf: [0; BUF_LEN],
            len: 0,
            bits: Bits { acc: 0, nbits: 0 },
            failed: false,
        }
    }

    /// Whether the sink refused any bytes so far.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Hands the buffered bytes to the sink.
    #[cold]
    #[inline(never)]
    pub fn flush(&mut self) {
        if self.len > 0 && self.sink.write_all(&self.buf[..self.len]).is_err() {
            self.failed = true;
        }
        self.len = 0;
    }

    /// Appends raw bytes (marker segments; no stuffing).
    pub fn write_bytes(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.len == BUF_LEN {
                self.flush();
            }
            let n = data.len().min(BUF_LEN - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&data[..n]);
            self.len += n;
            data = &data[n..];
        }
    }

    /// The pending bits, for a coding loop to work on ([`Writer::restore`]
    /// gives them back).
    #[inline(always)]
    pub fn take_bits(&self) -> Bits {
        self.bits
    }

    /// Puts back the pending bits a coding loop worked on.
    #[inline(always)]
    pub fn restore(&mut self, bits: Bits) {
        self.bits = bits;
    }

    /// Makes room for `n` more bytes in the buffer (`n <= BUF_LEN`),
    /// flushing it if needed.
    #[inline(always)]
    pub fn reserve(&mut self, n: usize) {
        if self.len > BUF_LEN - n {
            self.flush();
        }
    }

    /// Appends the `n` low bits of `bits` (MSB first) to the entropy-coded
    /// segment. `n <= 32`; `bits` must have no set bits above `n`.
    #[cfg(test)]
    pub fn put(&mut self, bits: u32, n: u32) {
        self.reserve(8);
        let mut b = self.bits;
        b.put(self, bits, n);
        self.bits = b;
    }

    /// Writes 32 entropy-coded bits into reserved room, stuffing a 0x00
    /// after every 0xFF. No call on any path: a call inside the coding loop
    /// made LLVM keep the loop's values on the stack (rv64).
    #[inline(always)]
    fn emit_word(&mut self, w: u32) {
        // High bit of a byte set in this mask <=> that byte (or one below it)
        // is 0xFF: +1 carries out of exactly the 0xFF bytes.
        if w & 0x8080_8080 & !w.wrapping_add(0x0101_0101) == 0 {
            if let Some(dst) = self.buf.get_mut(self.len..self.len + 4) {
                dst.copy_from_slice(&w.to_be_bytes());
            }
            self.len += 4;
        } else {
            for b in w.to_be_bytes() {
                let stuffed = usize::from(b == 0xFF);
                if let Some(dst) = self.buf.get_mut(self.len..self.len + 2) {
                    dst[0] = b;
                    dst[1] = 0;
                }
                self.len += 1 + stuffed;
            }
        }
    }

    /// Ends the entropy-coded segment: pads the last byte with 1 bits
    /// (T.81 F.1.2.3) and writes out whole bytes, stuffed.
    pub fn finish_bits(&mut self) {
        let Bits { mut acc, mut nbits } = self.bits;
        let pad = (8 - nbits % 8) % 8;
        acc = (acc << pad) | ((1u64 << pad) - 1);
        nbits += pad;
        while nbits >= 8 {
            nbits -= 8;
            let b = (acc >> nbits) as u8;
            if self.len > BUF_LEN - 2 {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
            if b == 0xFF {
                self.buf[self.len] = 0;
                self.len += 1;
            }
        }
        self.bits = Bits { acc: 0, nbits: 0 };
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// Records every write_all call.
    struct Calls(Vec<Vec<u8>>);
    impl Sink for Calls {
        fn write_all(&mut self, buf: &[u8]) -> Result<(), crate::sink::SinkFull> {
            self.0.push(buf.to_vec());
            Ok(())
        }
    }

    fn bits_to_bytes(puts: &[(u32, u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        for &(b, n) in puts {
            w.put(b, n);
        }
        w.finish_bits();
        w.flush();
        out
    }

    #[test]
    fn packs_msb_first_and_pads_with_ones() {
        assert_eq!(bits_to_bytes(&[(0b101, 3)]), [0b1011_1111]);
        assert_eq!(bits_to_bytes(&[(0x1234, 16), (0x5, 4)]), [0x12, 0x34, 0x5F]);
        assert_eq!(bits_to_bytes(&[]), Vec::<u8>::new());
    }

    #[test]
    fn stuffs_every_ff() {
        // 0xFF in every position of a 32-bit word, and at the tail.
        assert_eq!(
            bits_to_bytes(&[(0xFF12_FFFF, 32), (0xFF, 8), (0x7, 3)]),
            [0xFF, 0x00, 0x12, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00]
        );
        assert_eq!(
            bits_to_bytes(&[(0x00FE_FF01, 32)]),
            [0x00, 0xFE, 0xFF, 0x00, 0x01]
        );
        // 0xFE then 0x01 carry: no false stuffing.
        assert_eq!(
            bits_to_bytes(&[(0x7FFE_80FE, 32)]),
            [0x7F, 0xFE, 0x80, 0xFE]
        );
    }

    #[test]
    fn random_bits_round_trip() {
        let mut seed = 99u32;
        let mut puts = Vec::new();
        let mut expect_bits = Vec::new();
        for _ in 0..5000 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let n = 1 + (seed >> 27); // 1..=32
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            // Bias towards ones so 0xFF bytes are common.
            let b = (seed | (seed << 1)) >> (32 - n);
            puts.push((b, n));
            for i in (0..n).rev() {
                expect_bits.push((b >> i) & 1);
            }
        }
        while expect_bits.len() % 8 != 0 {
            expect_bits.push(1);
        }
        let mut expect = Vec::new();
        for byte in expect_bits.chunks(8) {
            let b = byte.iter().fold(0u8, |a, &x| a << 1 | x as u8);
            expect.push(b);
            if b == 0xFF {
                expect.push(0);
            }
        }
        assert_eq!(bits_to_bytes(&puts), expect);
    }

    #[test]
    fn writes_in_large_pieces() {
        let mut calls = Calls(Vec::new());
        let mut w = Writer::new(&mut calls);
        for i in 0..10_000u32 {
            w.put(i & 0x7F, 7);
        }
        w.finish_bits();
        w.flush();
        let n = calls.0.len();
        let total: usize = calls.0.iter().map(Vec::len).sum();
        assert!(total >= 10_000 * 7 / 8);
        assert!(
            n <= total / (BUF_LEN - 8) + 1,
            "{n} writes for {total} bytes"
        );
    }
}
