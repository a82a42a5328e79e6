//! The v1 frame header: how one image travels over a byte stream (TCP).
//!
//! A frame is a 40-byte header followed by `payload_len` payload bytes (a
//! JPEG file today). All integers are little-endian. The header names its own
//! version and length, and ends with a CRC-32 over everything before it, so a
//! receiver can tell a real header from payload bytes that happen to spell
//! the magic. `docs/PROTOCOL.md` is the full specification; this module is
//! its reference implementation.
//!
//! Following smoltcp's wire layer, there are two types:
//! - [`FrameHeader`] is a zero-copy view over a buffer: getters need only
//!   `AsRef<[u8]>`, setters `AsMut<[u8]>`. Once [`FrameHeader::new_checked`]
//!   has passed, no accessor panics.
//! - [`FrameHeaderRepr`] is the parsed, validated header as plain values, with
//!   [`FrameHeaderRepr::parse`] and [`FrameHeaderRepr::emit`].
//!
//! [`decide`] applies the receiver rules (resynchronisation, unknown
//! versions, size limit) to the front of a receive buffer without doing any
//! I/O or allocation, so every receiver makes the same decisions.
//!
//! ```
//! use img_stream_core::framing::{FrameHeaderRepr, HEADER_LEN};
//! use img_stream_core::crc32::crc32;
//!
//! let payload = [0xFF, 0xD8, 0xFF, 0xD9];
//! let repr = FrameHeaderRepr {
//!     flags: 0,
//!     seq: 7,
//!     timestamp_us: 1_000_000,
//!     width: 640,
//!     height: 480,
//!     format: 9,
//!     camera_id: 0,
//!     payload_len: payload.len() as u32,
//!     payload_crc: crc32(&payload),
//! };
//! let mut header = [0u8; HEADER_LEN];
//! repr.emit(&mut header);
//! assert_eq!(FrameHeaderRepr::parse(&header), Ok(repr));
//! assert_eq!(repr.check_payload(&payload), Ok(()));
//! ```

use core::fmt;

use crate::crc32::crc32;
use crate::pixel::PixelFormat;
use crate::wire::{self, Checked};

/// Field ranges after the shared prefix ([`wire::field`]).
mod field {
    pub use crate::wire::field::*;

    pub const TIMESTAMP_US: Field = 12..20;
    pub const WIDTH: Field = 20..22;
    pub const HEIGHT: Field = 22..24;
    pub const FORMAT: Field = 24..25;
    pub const RESERVED: Field = 25..26;
    pub const CAMERA_ID: Field = 26..28;
    pub const PAYLOAD_LEN: Field = 28..32;
    pub const PAYLOAD_CRC: Field = 32..36;
}

/// The four bytes every frame header starts with.
pub const MAGIC: [u8; 4] = *b"IMGS";

/// The protocol version this module emits and delivers.
pub const VERSION: u8 = 1;

/// Length of a v1 frame header: its fields, then the header CRC.
pub const HEADER_LEN: usize = wire::v1_header_len(field::PAYLOAD_CRC.end);

/// Bytes a receiver needs before it can judge a candidate header: magic,
/// version and header length.
pub const PREFIX_LEN: usize = wire::PREFIX_LEN;

/// The receivers' default payload limit (16 MiB).
pub const DEFAULT_MAX_PAYLOAD: u32 = 16 * 1024 * 1024;

wire::header_error! {
    /// Why bytes are not a usable frame header.
    "frame";
    /// The buffer ends before the header (or payload) does.
    Truncated => "truncated frame",
    variants {
        /// A well-formed header (its CRC matches) of a version this code does not
        /// know; the frame occupies `header_len + payload_len` bytes and can be
        /// skipped.
        UnsupportedVersion {
            /// The version byte.
            version: u8,
            /// The header's own length.
            header_len: u8,
            /// The payload length, which keeps its meaning in every version.
            payload_len: u32,
        },
        /// The payload's CRC-32 differs from the header's `payload_crc`.
        BadPayloadCrc,
    }
    display(f) {
        Error::UnsupportedVersion {
            version,
            header_len,
            payload_len,
        } => write!(
            f,
            "unsupported frame version {version} \
             (header {header_len} bytes, payload {payload_len} bytes)"
        ),
        Error::BadPayloadCrc => f.write_str("frame payload crc mismatch"),
    }
}

wire::self_describing_view! {
    /// A zero-copy view of a frame header at the start of a buffer.
    ///
    /// The buffer may hold more than the header (the payload usually follows).
    FrameHeader, "frame"
}

wire::field_accessors! { FrameHeader;
    /// Capture time in microseconds on the sender's monotonic clock.
    timestamp_us / set_timestamp_us: u64 = field::TIMESTAMP_US;
    /// Image width in pixels.
    width / set_width: u16 = field::WIDTH;
    /// Image height in pixels.
    height / set_height: u16 = field::HEIGHT;
    /// Pixel format / codec code ([`crate::pixel::PixelFormat`] codes).
    format / set_format: u8 = field::FORMAT;
    /// The reserved byte (0 when sent by v1 senders).
    reserved / set_reserved: u8 = field::RESERVED;
    /// The sender's camera id.
    camera_id / set_camera_id: u16 = field::CAMERA_ID;
    /// Length of the payload that follows the header.
    payload_len / set_payload_len: u32 = field::PAYLOAD_LEN;
    /// CRC-32 of the payload.
    payload_crc / set_payload_crc: u32 = field::PAYLOAD_CRC;
}

/// A v1 frame header as plain values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameHeaderRepr {
    /// Flag bits; 0 in v1, and receivers ignore bits they do not know.
    pub flags: u16,
    /// Frame sequence number (per sender, wraps).
    pub seq: u32,
    /// Capture time in µs on the sender's monotonic clock.
    pub timestamp_us: u64,
    /// Image width in pixels.
    pub width: u16,
    /// Image height in pixels.
    pub height: u16,
    /// Pixel format / codec code (9 = JPEG).
    pub format: u8,
    /// Camera id chosen by the sender.
    pub camera_id: u16,
    /// Payload length in bytes.
    pub payload_len: u32,
    /// CRC-32 of the payload.
    pub payload_crc: u32,
}

impl FrameHeaderRepr {
    /// Parses and validates the header at the start of `bytes`.
    ///
    /// Checks, in the order a receiver needs them: length, magic, header
    /// length, header CRC, version. A header of another version whose CRC
    /// matches yields [`Error::UnsupportedVersion`] with what is needed to
    /// skip the frame. The payload is not looked at.
    pub fn parse(bytes: &[u8]) -> Result<FrameHeaderRepr> {
        let checked = wire::parse_prefix(bytes, MAGIC, VERSION, HEADER_LEN)?;
        let header = FrameHeader::new_unchecked(bytes);
        if let Checked::OtherVersion {
            version,
            header_len,
        } = checked
        {
            // `payload_len` keeps its place in every version, which is what
            // makes an unknown frame skippable.
            return Err(Error::UnsupportedVersion {
                version,
                header_len,
                payload_len: header.payload_len(),
            });
        }
        Ok(FrameHeaderRepr {
            flags: header.flags(),
            seq: header.seq(),
            timestamp_us: header.timestamp_us(),
            width: header.width(),
            height: header.height(),
            format: header.format(),
            camera_id: header.camera_id(),
            payload_len: header.payload_len(),
            payload_crc: header.payload_crc(),
        })
    }

    /// The v1 header of a JPEG frame carrying `jpeg`: the format is
    /// [`PixelFormat::Jpeg`], the flags are 0, and the payload length and
    /// CRC are those of `jpeg`.
    pub fn jpeg(
        seq: u32,
        timestamp_us: u64,
        width: u16,
        height: u16,
        camera_id: u16,
        jpeg: &[u8],
    ) -> FrameHeaderRepr {
        FrameHeaderRepr {
            flags: 0,
            seq,
            timestamp_us,
            width,
            height,
            format: PixelFormat::Jpeg.code(),
            camera_id,
            payload_len: jpeg.len() as u32,
            payload_crc: crc32(jpeg),
        }
    }

    /// Length of the header this repr emits ([`HEADER_LEN`]).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Length of the whole frame: header plus payload.
    pub const fn frame_len(&self) -> usize {
        HEADER_LEN + self.payload_len as usize
    }

    /// Writes the header into `out[..HEADER_LEN]`, the CRC last.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than [`HEADER_LEN`].
    pub fn emit(&self, out: &mut [u8]) {
        let mut header = FrameHeader::new_unchecked(&mut out[..HEADER_LEN]);
        header.set_magic();
        header.set_version(VERSION);
        header.set_header_len(HEADER_LEN as u8);
        header.set_flags(self.flags);
        header.set_seq(self.seq);
        header.set_timestamp_us(self.timestamp_us);
        header.set_width(self.width);
        header.set_height(self.height);
        header.set_format(self.format);
        header.set_reserved(0);
        header.set_camera_id(self.camera_id);
        header.set_payload_len(self.payload_len);
        header.set_payload_crc(self.payload_crc);
        header.fill_header_crc();
    }

    /// Checks a received payload against `payload_len` and `payload_crc`.
    pub fn check_payload(&self, payload: &[u8]) -> Result<()> {
        if payload.len() != self.payload_len as usize {
            Err(Error::Truncated)
        } else if crc32(payload) != self.payload_crc {
            Err(Error::BadPayloadCrc)
        } else {
            Ok(())
        }
    }
}

/// Parses one whole frame message (header + payload, nothing more), as MQTT
/// and UDP carry them and as chunk reassembly produces them.
///
/// Checks the header like [`decide`] does (but without resynchronising: a
/// message is all or nothing), refuses `payload_len > max_payload`, requires
/// the message to be exactly `header_len + payload_len` long, and verifies
/// the payload CRC. Returns the header and the payload.
pub fn parse_message(
    message: &[u8],
    max_payload: u32,
) -> core::result::Result<(FrameHeaderRepr, &[u8]), MessageError> {
    let repr = FrameHeaderRepr::parse(message).map_err(|e| match e {
        Error::UnsupportedVersion { version, .. } => MessageError::Unsupported(version),
        e => MessageError::BadHeader(e),
    })?;
    if repr.payload_len > max_payload {
        return Err(MessageError::Oversize(repr.payload_len));
    }
    if message.len() != repr.frame_len() {
        return Err(MessageError::LengthMismatch);
    }
    let payload = &message[HEADER_LEN..];
    repr.check_payload(payload)
        .map_err(|_| MessageError::CrcError)?;
    Ok((repr, payload))
}

/// Why [`parse_message`] refused a frame message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageError {
    /// Not a valid header (magic, length, header CRC, or too short).
    BadHeader(Error),
    /// A valid header of another version.
    Unsupported(u8),
    /// Payload length above the limit.
    Oversize(u32),
    /// The message is longer or shorter than header + `payload_len`.
    LengthMismatch,
    /// Payload CRC mismatch.
    CrcError,
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageError::BadHeader(e) => write!(f, "bad frame header: {e}"),
            MessageError::Unsupported(v) => write!(f, "unsupported protocol version {v}"),
            MessageError::Oversize(n) => write!(f, "payload of {n} bytes is over the limit"),
            MessageError::LengthMismatch => f.write_str("message length does not match the header"),
            MessageError::CrcError => f.write_str("payload crc mismatch"),
        }
    }
}

impl core::error::Error for MessageError {}

/// Why [`decide`] tells a receiver to drop bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discard {
    /// Bytes that cannot start a frame (no magic here).
    Garbage,
    /// A candidate header failed: header length too short or wrong for v1,
    /// or header CRC mismatch ([`Error::BadHeaderLen`], [`Error::BadHeaderCrc`]).
    BadHeader(Error),
    /// A trustworthy v1 header announcing a payload above the limit.
    Oversize {
        /// The announced payload length.
        payload_len: u32,
    },
}

/// What a receiver should do with the bytes at the front of its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing can be decided yet: read until the buffer holds at least this
    /// many bytes (counted from its front), then decide again.
    NeedMore(usize),
    /// Drop this many bytes from the front and decide again.
    Discard {
        /// Bytes to drop (never 0).
        len: usize,
        /// Why; receivers count bad headers and oversize frames.
        reason: Discard,
    },
    /// A valid v1 header: the next [`FrameHeaderRepr::frame_len`] bytes are the
    /// frame. Read the payload after the header, check it with
    /// [`FrameHeaderRepr::check_payload`] (a mismatch is a CRC error: drop the
    /// frame, keep going after it), then drop the whole frame.
    Frame(FrameHeaderRepr),
    /// A trustworthy header of another version: skip `len` bytes (possibly
    /// more than are buffered: keep reading and dropping) and carry on.
    Skip {
        /// `header_len + payload_len` of the unknown frame.
        len: u64,
        /// Its version byte.
        version: u8,
    },
}

/// Where `MAGIC` first occurs in `buf`.
pub fn find_magic(buf: &[u8]) -> Option<usize> {
    buf.windows(MAGIC.len()).position(|w| w == MAGIC)
}

/// The receiver rules of `docs/PROTOCOL.md` for the front of a buffer.
///
/// `buf` holds received bytes not yet consumed; `max_payload` is the largest
/// payload the receiver accepts (see [`DEFAULT_MAX_PAYLOAD`]). Apply the
/// returned decision, then call again. Bytes are only ever discarded for a
/// reason, and a length is only trusted once the header CRC matched, so a
/// receiver never allocates for a length it has not verified.
pub fn decide(buf: &[u8], max_payload: u32) -> Decision {
    if !buf.starts_with(&MAGIC) {
        if MAGIC.starts_with(buf) {
            // Could still become a magic: wait rather than drop.
            return Decision::NeedMore(PREFIX_LEN);
        }
        let len = match find_magic(buf) {
            Some(at) => at,
            None => {
                // Keep a tail that could be the start of a magic split
                // across reads.
                let keep = (1..MAGIC.len())
                    .rev()
                    .find(|&k| buf.ends_with(&MAGIC[..k]))
                    .unwrap_or(0);
                buf.len() - keep
            }
        };
        return Decision::Discard {
            len,
            reason: Discard::Garbage,
        };
    }
    if buf.len() < PREFIX_LEN {
        return Decision::NeedMore(PREFIX_LEN);
    }
    let header_len = FrameHeader::new_unchecked(buf).header_len() as usize;
    if header_len < HEADER_LEN {
        return Decision::Discard {
            len: 1,
            reason: Discard::BadHeader(Error::BadHeaderLen),
        };
    }
    if buf.len() < header_len {
        return Decision::NeedMore(header_len);
    }
    match FrameHeaderRepr::parse(buf) {
        Ok(repr) if repr.payload_len > max_payload => Decision::Discard {
            len: 1,
            reason: Discard::Oversize {
                payload_len: repr.payload_len,
            },
        },
        Ok(repr) => Decision::Frame(repr),
        Err(Error::UnsupportedVersion {
            version,
            header_len,
            payload_len,
        }) => Decision::Skip {
            len: header_len as u64 + payload_len as u64,
            version,
        },
        Err(e) => Decision::Discard {
            len: 1,
            reason: Discard::BadHeader(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header of `REPR` below, byte for byte (checked against Python's
    /// `struct.pack("<4sBBHIQHHBBHII", ...)` and `zlib.crc32`).
    static HEADER_BYTES: [u8; 40] = [
        0x49, 0x4d, 0x47, 0x53, // "IMGS"
        0x01, 0x28, // version 1, header_len 40
        0x00, 0x00, // flags
        0x78, 0x56, 0x34, 0x12, // seq 0x12345678
        0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // timestamp
        0x80, 0x02, // width 640
        0xe0, 0x01, // height 480
        0x09, 0x00, // format JPEG, reserved
        0x03, 0x00, // camera_id 3
        0x04, 0x00, 0x00, 0x00, // payload_len 4
        0x67, 0x2a, 0xf0, 0x10, // payload_crc = crc32(FF D8 FF D9)
        0x04, 0x05, 0xa9, 0x22, // header_crc
    ];

    static PAYLOAD: [u8; 4] = [0xFF, 0xD8, 0xFF, 0xD9];

    const REPR: FrameHeaderRepr = FrameHeaderRepr {
        flags: 0,
        seq: 0x1234_5678,
        timestamp_us: 0x1122_3344_5566_7788,
        width: 640,
        height: 480,
        format: 9,
        camera_id: 3,
        payload_len: 4,
        payload_crc: 0x10F0_2A67,
    };

    #[test]
    fn deconstruct() {
        let h = FrameHeader::new_checked(&HEADER_BYTES[..]).unwrap();
        assert_eq!(h.magic(), MAGIC);
        assert_eq!(h.version(), 1);
        assert_eq!(h.header_len(), 40);
        assert_eq!(h.flags(), 0);
        assert_eq!(h.seq(), 0x1234_5678);
        assert_eq!(h.timestamp_us(), 0x1122_3344_5566_7788);
        assert_eq!(h.width(), 640);
        assert_eq!(h.height(), 480);
        assert_eq!(h.format(), 9);
        assert_eq!(h.reserved(), 0);
        assert_eq!(h.camera_id(), 3);
        assert_eq!(h.payload_len(), 4);
        assert_eq!(h.payload_crc(), crc32(&PAYLOAD));
        assert_eq!(h.header_crc(), 0x22A9_0504);
        assert!(h.verify_header_crc());
    }

    #[test]
    fn construct_with_setters() {
        let mut bytes = [0xA5u8; 40];
        let mut h = FrameHeader::new_unchecked(&mut bytes[..]);
        h.set_magic();
        h.set_version(1);
        h.set_header_len(40);
        h.set_flags(0);
        h.set_seq(0x1234_5678);
        h.set_timestamp_us(0x1122_3344_5566_7788);
        h.set_width(640);
        h.set_height(480);
        h.set_format(9);
        h.set_reserved(0);
        h.set_camera_id(3);
        h.set_payload_len(4);
        h.set_payload_crc(crc32(&PAYLOAD));
        h.fill_header_crc();
        assert_eq!(bytes, HEADER_BYTES);
    }

    #[test]
    fn parse_and_emit_golden() {
        assert_eq!(FrameHeaderRepr::parse(&HEADER_BYTES), Ok(REPR));
        let mut out = [0xEEu8; 44];
        REPR.emit(&mut out);
        assert_eq!(out[..40], HEADER_BYTES);
        assert_eq!(out[40..], [0xEE; 4], "emit wrote past the header");
        assert_eq!(REPR.header_len(), 40);
        assert_eq!(REPR.frame_len(), 44);
        assert_eq!(REPR.check_payload(&PAYLOAD), Ok(()));
        assert_eq!(REPR.check_payload(&PAYLOAD[..3]), Err(Error::Truncated));
        assert_eq!(
            REPR.check_payload(&[0xFF, 0xD8, 0xFF, 0xD8]),
            Err(Error::BadPayloadCrc)
        );
    }

    #[test]
    fn parse_rejects_in_order() {
        for len in 0..40 {
            assert_eq!(
                FrameHeaderRepr::parse(&HEADER_BYTES[..len]),
                Err(Error::Truncated)
            );
        }
        let mut b = HEADER_BYTES;
        b[3] = b'T';
        assert_eq!(FrameHeaderRepr::parse(&b), Err(Error::BadMagic));

        let mut b = HEADER_BYTES;
        b[5] = 39;
        assert_eq!(FrameHeaderRepr::parse(&b), Err(Error::BadHeaderLen));
        assert_eq!(
            FrameHeader::new_checked(&b[..]).err(),
            Some(Error::BadHeaderLen)
        );

        for i in 0..40 {
            if i == 5 {
                continue;
            }
            let mut b = HEADER_BYTES;
            b[i] ^= 0x10;
            let want = if i < 4 {
                Error::BadMagic
            } else {
                Error::BadHeaderCrc
            };
            assert_eq!(FrameHeaderRepr::parse(&b), Err(want), "byte {i}");
        }
    }

    #[test]
    fn unknown_version_with_longer_header_is_skippable() {
        let mut b = [0u8; 48];
        b[..36].copy_from_slice(&HEADER_BYTES[..36]);
        let mut h = FrameHeader::new_unchecked(&mut b[..]);
        h.set_version(2);
        h.set_header_len(48);
        h.fill_header_crc();
        assert_eq!(
            FrameHeaderRepr::parse(&b),
            Err(Error::UnsupportedVersion {
                version: 2,
                header_len: 48,
                payload_len: 4
            })
        );
        assert_eq!(FrameHeaderRepr::parse(&b[..47]), Err(Error::Truncated));
        assert_eq!(
            decide(&b, DEFAULT_MAX_PAYLOAD),
            Decision::Skip {
                len: 52,
                version: 2
            }
        );
        // A v1 header must be exactly 40 bytes long.
        b[4] = 1;
        FrameHeader::new_unchecked(&mut b[..]).fill_header_crc();
        assert_eq!(FrameHeaderRepr::parse(&b), Err(Error::BadHeaderLen));
    }

    #[test]
    fn decide_follows_the_receiver_rules() {
        let max = DEFAULT_MAX_PAYLOAD;
        assert_eq!(decide(b"", max), Decision::NeedMore(6));
        assert_eq!(decide(b"IMG", max), Decision::NeedMore(6));
        assert_eq!(decide(b"IMGS\x01", max), Decision::NeedMore(6));
        assert_eq!(
            decide(b"xxIMGS", max),
            Decision::Discard {
                len: 2,
                reason: Discard::Garbage
            }
        );
        assert_eq!(
            decide(b"abcdeIM", max),
            Decision::Discard {
                len: 5,
                reason: Discard::Garbage
            }
        );
        assert_eq!(
            decide(b"IMX", max),
            Decision::Discard {
                len: 3,
                reason: Discard::Garbage
            }
        );
        assert_eq!(decide(&HEADER_BYTES[..39], max), Decision::NeedMore(40));
        assert_eq!(decide(&HEADER_BYTES, max), Decision::Frame(REPR));
        assert_eq!(decide(&HEADER_BYTES, 4), Decision::Frame(REPR));
        assert_eq!(
            decide(&HEADER_BYTES, 3),
            Decision::Discard {
                len: 1,
                reason: Discard::Oversize { payload_len: 4 }
            }
        );
        let mut b = HEADER_BYTES;
        b[5] = 8;
        assert_eq!(
            decide(&b[..6], max),
            Decision::Discard {
                len: 1,
                reason: Discard::BadHeader(Error::BadHeaderLen)
            }
        );
        let mut b = HEADER_BYTES;
        b[20] = 0;
        assert_eq!(
            decide(&b, max),
            Decision::Discard {
                len: 1,
                reason: Discard::BadHeader(Error::BadHeaderCrc)
            }
        );
    }

    #[test]
    fn parse_message_checks_everything() {
        let msg = [&HEADER_BYTES[..], &PAYLOAD].concat();
        assert_eq!(parse_message(&msg, 100), Ok((REPR, &PAYLOAD[..])));
        let flipped = |at: usize| {
            let mut m = msg.clone();
            m[at] ^= 1;
            m
        };
        let mut v2 = msg.clone();
        let mut h = FrameHeader::new_unchecked(&mut v2[..]);
        h.set_version(2);
        h.fill_header_crc();
        let cases: [(&[u8], u32, MessageError); 7] = [
            (&v2, 100, MessageError::Unsupported(2)),
            (&msg, 3, MessageError::Oversize(4)),
            (&msg[..43], 100, MessageError::LengthMismatch),
            (
                &[&msg[..], &[0]].concat(),
                100,
                MessageError::LengthMismatch,
            ),
            (&flipped(43), 100, MessageError::CrcError),
            (
                &flipped(8),
                100,
                MessageError::BadHeader(Error::BadHeaderCrc),
            ),
            (b"IMG", 100, MessageError::BadHeader(Error::Truncated)),
        ];
        for (i, (bytes, max, want)) in cases.iter().enumerate() {
            assert_eq!(parse_message(bytes, *max), Err(*want), "case {i}");
        }
    }

    /// On any input `decide` makes progress: it asks for more bytes than it
    /// has, or drops at least one, and never trusts a bad header. Half the
    /// cases plant a valid header (random values), at the front or after
    /// garbage, so every branch is reached; the counts prove the assertions ran.
    #[test]
    fn decide_always_progresses() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        use std::cell::Cell;

        let strategy = (
            proptest::collection::vec(any::<u8>(), 0..120),
            0usize..120,
            0u32..200,
            0u8..5,
            (any::<u32>(), any::<u64>(), any::<u16>(), 0u32..200),
        );
        let (frames, discards, need_more) = (Cell::new(0), Cell::new(0), Cell::new(0));
        let mut runner = TestRunner::new(Config::with_cases(2000));
        runner
            .run(
                &strategy,
                |(mut buf, at, max, plant, (seq, ts, cam, len))| {
                    // 1: a bare magic (reaches the header checks, fails the
                    // CRC); 2: a valid header at the front, where `decide`
                    // looks; 3: a valid header after some garbage; 4: the
                    // front of a valid header, cut short.
                    let header_at = match plant {
                        1 if at + 4 <= buf.len() => {
                            buf[at..at + 4].copy_from_slice(&MAGIC);
                            None
                        }
                        2 | 4 => Some(0),
                        3 => Some(at),
                        _ => None,
                    };
                    if let Some(at) = header_at.filter(|at| at + HEADER_LEN <= buf.len()) {
                        let repr = FrameHeaderRepr {
                            seq,
                            timestamp_us: ts,
                            camera_id: cam,
                            payload_len: len,
                            ..REPR
                        };
                        repr.emit(&mut buf[at..]);
                        if plant == 4 {
                            buf.truncate(buf.len() % HEADER_LEN);
                        }
                    }
                    match decide(&buf, max) {
                        Decision::NeedMore(n) => {
                            need_more.set(need_more.get() + 1);
                            prop_assert!(n > buf.len())
                        }
                        Decision::Discard { len, .. } => {
                            discards.set(discards.get() + 1);
                            prop_assert!(len > 0 && len <= buf.len())
                        }
                        Decision::Skip { len, .. } => prop_assert!(len >= 40),
                        Decision::Frame(repr) => {
                            frames.set(frames.get() + 1);
                            prop_assert!(repr.payload_len <= max);
                            prop_assert_eq!(FrameHeaderRepr::parse(&buf), Ok(repr));
                        }
                    }
                    Ok(())
                },
            )
            .unwrap();
        assert!(frames.get() >= 20, "only {} frames decided", frames.get());
        assert!(discards.get() >= 100, "only {} discards", discards.get());
        assert!(need_more.get() >= 20, "only {} waits", need_more.get());
    }

    #[test]
    fn errors_display() {
        extern crate alloc;
        use alloc::string::ToString;
        let e = Error::UnsupportedVersion {
            version: 2,
            header_len: 48,
            payload_len: 10,
        };
        assert_eq!(
            e.to_string(),
            "unsupported frame version 2 (header 48 bytes, payload 10 bytes)"
        );
        assert_eq!(Error::BadHeaderCrc.to_string(), "frame header crc mismatch");
        assert_eq!(Error::Truncated.to_string(), "truncated frame");
        assert_eq!(Error::BadMagic.to_string(), "bad frame magic");
        assert_eq!(Error::BadHeaderLen.to_string(), "bad frame header length");
    }
}
