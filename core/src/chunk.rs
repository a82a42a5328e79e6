//! The v1 chunk header: how one frame travels as several messages (MQTT
//! messages, UDP datagrams).
//!
//! The frame message (the 40-byte [`framing`](crate::framing) header plus
//! payload, exactly as on a stream) is cut into pieces; each chunk message is
//! a 32-byte chunk header followed by one piece. The header says which frame
//! (`seq`, `camera_id`), which piece (`index` of `count`), and where the
//! piece goes (`offset` into a message of `total` bytes), so a receiver can
//! reassemble pieces that arrive out of order, twice, or not at all. After
//! reassembly the frame is checked like any other (both CRCs).
//!
//! As in [`framing`](crate::framing): [`ChunkHeader`] is the zero-copy view,
//! [`ChunkHeaderRepr`] the parsed values. [`plan`] computes how a sender cuts a
//! frame for a given message size limit.
//!
//! ```
//! use img_stream_core::chunk::{plan, ChunkHeaderRepr, HEADER_LEN};
//!
//! // A 1000-byte frame message, 300-byte messages: 268 data bytes each.
//! let plan = plan(1000, 300).unwrap();
//! assert_eq!(plan.count(), 4);
//! let spans: Vec<_> = plan.iter().map(|c| (c.index, c.offset, c.len)).collect();
//! assert_eq!(spans, [(0, 0, 268), (1, 268, 268), (2, 536, 268), (3, 804, 196)]);
//!
//! let repr = plan.repr(&plan.iter().nth(3).unwrap(), 17, 0);
//! let mut header = [0u8; HEADER_LEN];
//! repr.emit(&mut header);
//! assert_eq!(ChunkHeaderRepr::parse(&header), Ok(repr));
//! ```

use crate::wire::{self, Checked};

/// Field ranges after the shared prefix ([`wire::field`]).
mod field {
    pub use crate::wire::field::*;

    pub const CAMERA_ID: Field = 12..14;
    pub const INDEX: Field = 14..16;
    pub const COUNT: Field = 16..18;
    pub const RESERVED: Field = 18..20;
    pub const OFFSET: Field = 20..24;
    pub const TOTAL: Field = 24..28;
}

/// The four bytes every chunk header starts with.
pub const MAGIC: [u8; 4] = *b"IMGC";

/// The chunk header version this module emits and accepts.
pub const VERSION: u8 = 1;

/// Length of a v1 chunk header: its fields, then the header CRC.
pub const HEADER_LEN: usize = wire::v1_header_len(field::TOTAL.end);

/// The largest number of chunks one frame may be cut into.
pub const MAX_COUNT: usize = u16::MAX as usize;

/// Receivers' default number of frames of one (source, camera) reassembled
/// at once; a new one drops the oldest (`docs/PROTOCOL.md` §3.3).
pub const DEFAULT_MAX_PENDING: usize = 4;

/// Receivers' default time a frame may stay incomplete after its first
/// chunk, in milliseconds (`docs/PROTOCOL.md` §3.3: 2 s).
pub const DEFAULT_TIMEOUT_MS: u64 = 2_000;

wire::header_error! {
    /// Why a chunk message or a chunking plan is unusable.
    "chunk";
    /// The message ends before its header does.
    Truncated => "truncated chunk header",
    variants {
        /// A well-formed header (its CRC matches) of a version this code does
        /// not know.
        UnsupportedVersion {
            /// The version byte.
            version: u8,
            /// The header's own length.
            header_len: u8,
        },
        /// `count` is 0, `index >= count`, or (in [`parse_message`]) `count`
        /// exceeds `total`: every chunk carries at least one byte.
        BadIndex,
        /// The message carries no data after its header.
        NoData,
        /// `offset + data_len` runs past `total`.
        OutOfRange,
        /// `total` is below a frame header's length or above the receiver's
        /// limit.
        BadTotal,
        /// Planning: the message size leaves no room for data after the header.
        NoRoomForData,
        /// Planning: the frame would need more than [`MAX_COUNT`] chunks, is
        /// empty, or does not fit a `u32`.
        TooManyChunks,
    }
    display(f) {
        Error::UnsupportedVersion {
            version,
            header_len,
        } => write!(
            f,
            "unsupported chunk version {version} (header {header_len} bytes)"
        ),
        Error::BadIndex => f.write_str("chunk index out of range"),
        Error::NoData => f.write_str("chunk carries no data"),
        Error::OutOfRange => f.write_str("chunk data runs past the frame"),
        Error::BadTotal => f.write_str("bad chunk frame length"),
        Error::NoRoomForData => f.write_str("message size leaves no room for chunk data"),
        Error::TooManyChunks => f.write_str("frame needs too many chunks"),
    }
}

wire::self_describing_view! {
    /// A zero-copy view of a chunk header at the start of a chunk message.
    ChunkHeader, "chunk"
}

wire::field_accessors! { ChunkHeader;
    /// The frame's camera id.
    camera_id / set_camera_id: u16 = field::CAMERA_ID;
    /// This chunk's 0-based index.
    index / set_index: u16 = field::INDEX;
    /// How many chunks the frame has.
    count / set_count: u16 = field::COUNT;
    /// The reserved field (0 when sent by v1 senders).
    reserved / set_reserved: u16 = field::RESERVED;
    /// Where this chunk's data goes in the frame message.
    offset / set_offset: u32 = field::OFFSET;
    /// Length of the whole frame message.
    total / set_total: u32 = field::TOTAL;
}

impl<T: AsRef<[u8]>> ChunkHeader<T> {
    /// The data after the header (everything after `header_len`).
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len() as usize..]
    }
}

/// A v1 chunk header as plain values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChunkHeaderRepr {
    /// Flag bits; 0 in v1, receivers ignore bits they do not know.
    pub flags: u16,
    /// The frame's sequence number.
    pub seq: u32,
    /// The frame's camera id.
    pub camera_id: u16,
    /// This chunk's 0-based index.
    pub index: u16,
    /// How many chunks the frame has (at least 1).
    pub count: u16,
    /// Where this chunk's data goes in the frame message.
    pub offset: u32,
    /// Length of the whole frame message (40 + payload length).
    pub total: u32,
}

impl ChunkHeaderRepr {
    /// Parses and validates the chunk header at the start of `bytes`:
    /// length, magic, header length, header CRC, version, then
    /// `index < count`. The data is not looked at; see [`parse_message`].
    pub fn parse(bytes: &[u8]) -> Result<ChunkHeaderRepr> {
        if let Checked::OtherVersion {
            version,
            header_len,
        } = wire::parse_prefix(bytes, MAGIC, VERSION, HEADER_LEN)?
        {
            return Err(Error::UnsupportedVersion {
                version,
                header_len,
            });
        }
        let header = ChunkHeader::new_unchecked(bytes);
        if header.index() >= header.count() {
            return Err(Error::BadIndex);
        }
        Ok(ChunkHeaderRepr {
            flags: header.flags(),
            seq: header.seq(),
            camera_id: header.camera_id(),
            index: header.index(),
            count: header.count(),
            offset: header.offset(),
            total: header.total(),
        })
    }

    /// Length of the header this repr emits ([`HEADER_LEN`]).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `out[..HEADER_LEN]`, the CRC last.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than [`HEADER_LEN`].
    pub fn emit(&self, out: &mut [u8]) {
        let mut header = ChunkHeader::new_unchecked(&mut out[..HEADER_LEN]);
        header.set_magic();
        header.set_version(VERSION);
        header.set_header_len(HEADER_LEN as u8);
        header.set_flags(self.flags);
        header.set_seq(self.seq);
        header.set_camera_id(self.camera_id);
        header.set_index(self.index);
        header.set_count(self.count);
        header.set_reserved(0);
        header.set_offset(self.offset);
        header.set_total(self.total);
        header.fill_header_crc();
    }
}

/// Parses a whole chunk message and applies every per-message receiver
/// rule: a valid v1 header, data present, `offset + data_len <= total`,
/// `40 <= total <= max_total` (a frame header is 40 bytes; `max_total` is
/// the receiver's limit, typically 40 + its maximum payload), and
/// `count <= total` (each chunk carries at least one byte, so a receiver's
/// bookkeeping is bounded by bytes that can arrive).
///
/// Returns the header and the chunk's data.
pub fn parse_message(message: &[u8], max_total: u32) -> Result<(ChunkHeaderRepr, &[u8])> {
    let repr = ChunkHeaderRepr::parse(message)?;
    let data = &message[HEADER_LEN..];
    if data.is_empty() {
        return Err(Error::NoData);
    }
    if (repr.total as usize) < crate::framing::HEADER_LEN || repr.total > max_total {
        return Err(Error::BadTotal);
    }
    if u32::from(repr.count) > repr.total {
        return Err(Error::BadIndex);
    }
    if repr.offset as u64 + data.len() as u64 > repr.total as u64 {
        return Err(Error::OutOfRange);
    }
    Ok((repr, data))
}

/// How a sender cuts a frame message of `total` bytes into chunk messages of
/// at most `max_message` bytes (chunk header included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkPlan {
    total: u32,
    data_size: u32,
    count: u16,
}

/// One chunk of a [`ChunkPlan`]: its index and where its data lies in the
/// frame message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlannedChunk {
    /// 0-based chunk index.
    pub index: u16,
    /// Offset of the chunk's data in the frame message.
    pub offset: u32,
    /// Length of the chunk's data (never 0).
    pub len: usize,
}

impl PlannedChunk {
    /// The chunk's data range in the frame message.
    pub fn range(&self) -> core::ops::Range<usize> {
        self.offset as usize..self.offset as usize + self.len
    }

    /// Length of the chunk message: header plus data.
    pub fn message_len(&self) -> usize {
        HEADER_LEN + self.len
    }
}

/// Plans the chunks for a frame message of `total` bytes when messages may
/// be at most `max_message` bytes long, chunk header included.
///
/// Every chunk but the last carries `max_message - 32` data bytes.
pub fn plan(total: usize, max_message: usize) -> Result<ChunkPlan> {
    let data_size = match max_message.checked_sub(HEADER_LEN) {
        Some(s) if s > 0 => s,
        _ => return Err(Error::NoRoomForData),
    };
    let total32 = u32::try_from(total).map_err(|_| Error::TooManyChunks)?;
    let count = total.div_ceil(data_size);
    if count == 0 || count > MAX_COUNT {
        return Err(Error::TooManyChunks);
    }
    Ok(ChunkPlan {
        total: total32,
        // data_size <= total here unless count == 1; clamp keeps it a u32.
        data_size: data_size.min(total) as u32,
        count: count as u16,
    })
}

impl ChunkPlan {
    /// Number of chunks.
    pub fn count(&self) -> u16 {
        self.count
    }

    /// Length of the frame message.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// Data bytes per chunk (the last one may carry fewer).
    pub fn data_size(&self) -> usize {
        self.data_size as usize
    }

    /// Chunk `index`, if the plan has it.
    pub fn chunk(&self, index: u16) -> Option<PlannedChunk> {
        if index >= self.count {
            return None;
        }
        let offset = index as u32 * self.data_size;
        Some(PlannedChunk {
            index,
            offset,
            len: (self.total - offset).min(self.data_size) as usize,
        })
    }

    /// The chunks in index order.
    pub fn iter(&self) -> ChunkIter {
        ChunkIter {
            plan: *self,
            next: 0,
        }
    }

    /// The header for `chunk` of frame `seq` from camera `camera_id`.
    pub fn repr(&self, chunk: &PlannedChunk, seq: u32, camera_id: u16) -> ChunkHeaderRepr {
        ChunkHeaderRepr {
            flags: 0,
            seq,
            camera_id,
            index: chunk.index,
            count: self.count,
            offset: chunk.offset,
            total: self.total,
        }
    }
}

impl IntoIterator for &ChunkPlan {
    type Item = PlannedChunk;
    type IntoIter = ChunkIter;
    fn into_iter(self) -> ChunkIter {
        self.iter()
    }
}

/// Iterator over the chunks of a [`ChunkPlan`].
#[derive(Clone, Debug)]
pub struct ChunkIter {
    plan: ChunkPlan,
    next: u32,
}

impl Iterator for ChunkIter {
    type Item = PlannedChunk;

    fn next(&mut self) -> Option<PlannedChunk> {
        let chunk = self.plan.chunk(u16::try_from(self.next).ok()?)?;
        self.next += 1;
        Some(chunk)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.plan.count as u32 - self.next) as usize;
        (left, Some(left))
    }
}

impl ExactSizeIterator for ChunkIter {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_faults_keep_their_texts() {
        extern crate alloc;
        use alloc::string::ToString;
        // The shared faults' texts come from `wire::header_error!`.
        let texts = [
            (Error::Truncated, "truncated chunk header"),
            (Error::BadMagic, "bad chunk magic"),
            (Error::BadHeaderLen, "bad chunk header length"),
            (Error::BadHeaderCrc, "chunk header crc mismatch"),
            (Error::BadIndex, "chunk index out of range"),
        ];
        for (e, text) in texts {
            assert_eq!(e.to_string(), text);
        }
    }

    /// Chunk 2 of 5 of frame 0x01020304 from camera 7 (checked against
    /// Python's `struct` and `zlib.crc32`).
    static HEADER_BYTES: [u8; 32] = [
        0x49, 0x4d, 0x47, 0x43, // "IMGC"
        0x01, 0x20, // version 1, header_len 32
        0x00, 0x00, // flags
        0x04, 0x03, 0x02, 0x01, // seq
        0x07, 0x00, // camera_id
        0x02, 0x00, // index
        0x05, 0x00, // count
        0x00, 0x00, // reserved
        0x00, 0x02, 0x00, 0x00, // offset 512
        0x10, 0x09, 0x00, 0x00, // total 2320
        0x16, 0x8b, 0x4a, 0xbc, // header_crc
    ];

    const HEADER_CRC: u32 = 0xBC4A_8B16;

    const REPR: ChunkHeaderRepr = ChunkHeaderRepr {
        flags: 0,
        seq: 0x0102_0304,
        camera_id: 7,
        index: 2,
        count: 5,
        offset: 512,
        total: 2320,
    };

    fn golden() -> [u8; 32] {
        HEADER_BYTES
    }

    #[test]
    fn deconstruct() {
        let b = golden();
        let h = ChunkHeader::new_checked(&b[..]).unwrap();
        assert_eq!(h.magic(), MAGIC);
        assert_eq!(h.version(), 1);
        assert_eq!(h.header_len(), 32);
        assert_eq!(h.flags(), 0);
        assert_eq!(h.seq(), 0x0102_0304);
        assert_eq!(h.camera_id(), 7);
        assert_eq!(h.index(), 2);
        assert_eq!(h.count(), 5);
        assert_eq!(h.reserved(), 0);
        assert_eq!(h.offset(), 512);
        assert_eq!(h.total(), 2320);
        assert_eq!(h.header_crc(), HEADER_CRC);
        assert!(h.verify_header_crc());
        assert_eq!(h.data(), &[] as &[u8]);
    }

    #[test]
    fn construct_with_setters() {
        let mut bytes = [0x5Au8; 32];
        let mut h = ChunkHeader::new_unchecked(&mut bytes[..]);
        h.set_magic();
        h.set_version(1);
        h.set_header_len(32);
        h.set_flags(0);
        h.set_seq(0x0102_0304);
        h.set_camera_id(7);
        h.set_index(2);
        h.set_count(5);
        h.set_reserved(0);
        h.set_offset(512);
        h.set_total(2320);
        h.fill_header_crc();
        assert_eq!(bytes, golden());
    }

    #[test]
    fn parse_and_emit_golden() {
        assert_eq!(ChunkHeaderRepr::parse(&golden()), Ok(REPR));
        let mut out = [0xEEu8; 36];
        REPR.emit(&mut out);
        assert_eq!(out[..32], golden());
        assert_eq!(out[32..], [0xEE; 4], "emit wrote past the header");
    }

    #[test]
    fn parse_rejects() {
        let g = golden();
        for len in 0..32 {
            assert_eq!(ChunkHeaderRepr::parse(&g[..len]), Err(Error::Truncated));
        }
        let mut b = g;
        b[0] = b'i';
        assert_eq!(ChunkHeaderRepr::parse(&b), Err(Error::BadMagic));
        let mut b = g;
        b[5] = 31;
        assert_eq!(ChunkHeaderRepr::parse(&b), Err(Error::BadHeaderLen));
        for i in 4..32 {
            if i == 5 {
                continue;
            }
            let mut b = g;
            b[i] ^= 1;
            assert_eq!(
                ChunkHeaderRepr::parse(&b),
                Err(Error::BadHeaderCrc),
                "byte {i}"
            );
        }
        let mut b = g;
        let mut h = ChunkHeader::new_unchecked(&mut b[..]);
        h.set_index(5);
        h.fill_header_crc();
        assert_eq!(ChunkHeaderRepr::parse(&b), Err(Error::BadIndex));
        let mut h = ChunkHeader::new_unchecked(&mut b[..]);
        h.set_index(0);
        h.set_count(0);
        h.fill_header_crc();
        assert_eq!(ChunkHeaderRepr::parse(&b), Err(Error::BadIndex));

        let mut long = [0u8; 40];
        long[..28].copy_from_slice(&g[..28]);
        let mut h = ChunkHeader::new_unchecked(&mut long[..]);
        h.set_version(2);
        h.set_header_len(40);
        h.fill_header_crc();
        assert_eq!(
            ChunkHeaderRepr::parse(&long),
            Err(Error::UnsupportedVersion {
                version: 2,
                header_len: 40
            })
        );
    }

    #[test]
    fn parse_message_checks_data_against_total() {
        let mut msg = [0u8; 32 + 100];
        let repr = ChunkHeaderRepr {
            offset: 2220,
            ..REPR
        };
        repr.emit(&mut msg);
        let (r, data) = parse_message(&msg, 10_000).unwrap();
        assert_eq!(r, repr);
        assert_eq!(data.len(), 100);
        assert_eq!(parse_message(&msg[..32], 10_000), Err(Error::NoData));
        assert_eq!(parse_message(&msg, 2319), Err(Error::BadTotal));
        let past = [0u8; 32 + 101];
        let mut past = past;
        repr.emit(&mut past);
        assert_eq!(parse_message(&past, 10_000), Err(Error::OutOfRange));
        let mut small = msg;
        ChunkHeaderRepr {
            total: 39,
            offset: 0,
            ..REPR
        }
        .emit(&mut small);
        assert_eq!(parse_message(&small, 10_000), Err(Error::BadTotal));
        // More chunks than bytes: no sender cuts a frame that way.
        let mut many = [0u8; 32 + 1];
        ChunkHeaderRepr {
            count: 65_535,
            index: 0,
            offset: 0,
            total: 41,
            ..REPR
        }
        .emit(&mut many);
        assert_eq!(parse_message(&many, 10_000), Err(Error::BadIndex));
        ChunkHeaderRepr {
            count: 41,
            index: 0,
            offset: 0,
            total: 41,
            ..REPR
        }
        .emit(&mut many);
        assert!(
            parse_message(&many, 10_000).is_ok(),
            "count == total is a 1-byte cut"
        );
    }

    /// Whatever a message holds, an accepted chunk's data fits its frame.
    /// Most cases are valid chunk messages (random header values, data that
    /// may run past `total`), some with one byte flipped; the count proves
    /// the assertions on accepted chunks ran.
    #[test]
    fn accepted_chunks_fit() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        use std::cell::Cell;

        let strategy = (
            (any::<u32>(), any::<u16>(), 0u16..8, 1u16..8),
            (0u32..1100, 0u32..1100, 0usize..200),
            proptest::option::weighted(0.2, (0usize..240, 1u8..=255)),
        );
        let accepted = Cell::new(0);
        let mut runner = TestRunner::new(Config::with_cases(2000));
        runner
            .run(
                &strategy,
                |((seq, cam, index, count), (offset, total, data_len), flip)| {
                    let repr = ChunkHeaderRepr {
                        flags: 0,
                        seq,
                        camera_id: cam,
                        index,
                        count,
                        offset,
                        total,
                    };
                    let mut msg = std::vec![0xA5u8; HEADER_LEN + data_len];
                    repr.emit(&mut msg);
                    if let Some((at, bits)) = flip {
                        let at = at % msg.len();
                        msg[at] ^= bits;
                    }
                    if let Ok((r, data)) = parse_message(&msg, 1000) {
                        accepted.set(accepted.get() + 1);
                        prop_assert!(!data.is_empty());
                        prop_assert!(r.index < r.count);
                        prop_assert!(r.offset as usize + data.len() <= r.total as usize);
                        prop_assert!((40..=1000).contains(&r.total));
                    }
                    Ok(())
                },
            )
            .unwrap();
        assert!(
            accepted.get() >= 100,
            "only {} chunks accepted",
            accepted.get()
        );
    }

    #[test]
    fn plan_cuts_exactly() {
        for total in [40usize, 41, 100, 1000, 4096, 65_537] {
            for max_message in [33usize, 64, 100, 1400, 5000] {
                let p = match plan(total, max_message) {
                    Ok(p) => p,
                    Err(e) => {
                        assert_eq!(e, Error::TooManyChunks);
                        assert!(total.div_ceil(max_message - 32) > MAX_COUNT);
                        continue;
                    }
                };
                let mut expect_offset = 0;
                for (i, c) in p.iter().enumerate() {
                    assert_eq!(c.index as usize, i);
                    assert_eq!(c.offset as usize, expect_offset);
                    assert!(c.len > 0 && c.message_len() <= max_message);
                    expect_offset += c.len;
                }
                assert_eq!(expect_offset, total);
                assert_eq!(p.iter().len(), p.count() as usize);
            }
        }
    }

    #[test]
    fn plan_limits() {
        assert_eq!(plan(100, 32), Err(Error::NoRoomForData));
        assert_eq!(plan(100, 0), Err(Error::NoRoomForData));
        assert_eq!(plan(0, 100), Err(Error::TooManyChunks));
        assert_eq!(plan(65_535, 33).map(|p| p.count()), Ok(65_535));
        assert_eq!(plan(65_536, 33), Err(Error::TooManyChunks));
        let p = plan(10, 1000).unwrap();
        assert_eq!((p.count(), p.data_size()), (1, 10));
        let spans: [PlannedChunk; 1] = [p.iter().next().unwrap()];
        assert_eq!(spans[0].range(), 0..10);
    }
}
