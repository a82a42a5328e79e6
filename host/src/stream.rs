//! Incremental decoder for a byte stream of v1 frames (TCP).
//!
//! Feed it whatever `read` returned, in any split; it calls back with an
//! [`Event`] for each verified frame and for each thing it skipped. The
//! receiver rules themselves (resync on "IMGS", header checks, unknown
//! versions, size limit) are [`img_stream_core::framing::decide`]'s, so the
//! board, this decoder and every other receiver agree; this module adds the
//! buffering around them.
//!
//! ```
//! # use img_stream_host::stream::{Decoder, Event};
//! let mut decoder = Decoder::new(16 << 20);
//! let mut frames = Vec::new();
//! decoder.feed(b"noise", |event| {
//!     if let Event::Frame(frame) = event {
//!         frames.push(frame);
//!     }
//! });
//! assert!(frames.is_empty());
//! ```
//!
//! Memory: header bytes are buffered (at most 255 + one read); a payload
//! buffer is started only after the header CRC verified and its length is
//! within `max_payload`, and then grows with the bytes that actually arrive
//! (never reserved from the header's length: a peer that announces 4 GiB
//! and sends 10 bytes costs 10 bytes). [`Decoder::held`] says how much the
//! decoder holds, for the receiver's memory budget.

use img_stream_core::crc32::Crc32;
use img_stream_core::framing::{self, Decision, Discard, FrameHeaderRepr};

/// Most bytes a payload buffer grows ahead of the bytes received (its
/// growth is doubling below this).
pub const GROW_STEP: usize = 1 << 20;

/// One received frame message (wire header + payload) whose header and
/// payload CRCs both verified. (Not the pixels: see `img_stream_core::frame`.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedFrame {
    /// The parsed header.
    pub header: FrameHeaderRepr,
    /// The payload (a JPEG file when `header.format` is `PixelFormat::Jpeg`).
    pub payload: Vec<u8>,
}

/// What the decoder found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A good frame.
    Frame(ReceivedFrame),
    /// The header was good but the payload CRC did not match: the frame was
    /// dropped and decoding continues after it.
    CrcError(FrameHeaderRepr),
    /// A candidate header was rejected (length or header CRC); decoding
    /// resumes one byte after its magic.
    BadHeader(framing::Error),
    /// A good header announced a payload above the limit: refused without
    /// allocating, resumes one byte after its magic.
    Oversize {
        /// The announced payload length.
        payload_len: u32,
    },
    /// A frame of another protocol version, skipped whole.
    Unsupported {
        /// Its version byte.
        version: u8,
        /// Bytes skipped (header + payload).
        len: u64,
    },
    /// Bytes that could not start a frame were dropped.
    Garbage {
        /// How many.
        len: usize,
    },
    /// The stream ended inside a frame ([`Decoder::finish`] only).
    Truncated {
        /// Bytes of the unfinished frame that had arrived.
        received: u64,
    },
}

impl Event {
    /// Bytes this event dropped while scanning for a frame: the garbage,
    /// or the one magic byte a bad or oversize header gives up. The
    /// "garbage bytes" counter (and the test vectors' `garbage_bytes`) is
    /// the sum of these.
    pub fn scanned_bytes(&self) -> u64 {
        match self {
            Event::Garbage { len } => *len as u64,
            Event::BadHeader(_) | Event::Oversize { .. } => 1,
            _ => 0,
        }
    }
}

#[derive(Debug)]
enum State {
    /// Looking for / parsing a header in `buf`.
    Scan,
    /// Collecting a verified header's payload.
    Payload {
        header: FrameHeaderRepr,
        payload: Vec<u8>,
        crc: Crc32,
    },
    /// Dropping the rest of an unsupported-version frame.
    Skip { remaining: u64, received: u64 },
}

/// The incremental stream decoder; one per connection.
#[derive(Debug)]
pub struct Decoder {
    max_payload: u32,
    state: State,
    /// Received bytes not yet consumed start at `buf[start]`.
    buf: Vec<u8>,
    start: usize,
}

impl Decoder {
    /// A decoder that refuses payloads longer than `max_payload` bytes.
    pub fn new(max_payload: u32) -> Decoder {
        Decoder {
            max_payload,
            state: State::Scan,
            buf: Vec::new(),
            start: 0,
        }
    }

    /// The payload limit.
    pub fn max_payload(&self) -> u32 {
        self.max_payload
    }

    /// Bytes the decoder holds on the heap (header buffer and partial
    /// payload capacity).
    pub fn held(&self) -> usize {
        let payload = match &self.state {
            State::Payload { payload, .. } => payload.capacity(),
            _ => 0,
        };
        self.buf.capacity() + payload
    }

    /// How far into a frame the decoder is: bytes of an unfinished frame
    /// received so far (0 between frames).
    pub fn partial_bytes(&self) -> u64 {
        match &self.state {
            State::Payload { payload, .. } => (framing::HEADER_LEN + payload.len()) as u64,
            State::Skip { received, .. } => *received,
            State::Scan => (self.buf.len() - self.start) as u64,
        }
    }

    /// Whether the decoder is between frames with nothing buffered.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Scan) && self.start == self.buf.len()
    }

    /// Consumes `data`, calling `on_event` for everything it completes.
    pub fn feed(&mut self, mut data: &[u8], mut on_event: impl FnMut(Event)) {
        loop {
            if matches!(self.state, State::Scan) {
                // Headers are parsed from `buf`, so gather everything there.
                if !data.is_empty() {
                    self.compact();
                    self.buf.extend_from_slice(data);
                    data = &[];
                }
                if !self.scan(&mut on_event) {
                    self.compact();
                    return;
                }
                continue;
            }
            // Payload bytes come from `buf` first, then straight from `data`.
            let source = if self.start < self.buf.len() {
                &self.buf[self.start..]
            } else if !data.is_empty() {
                data
            } else {
                return;
            };
            let used = consume(&mut self.state, source, &mut on_event);
            if self.start < self.buf.len() {
                self.start += used;
            } else {
                data = &data[used..];
            }
        }
    }

    /// Ends the stream: reports an unfinished frame, or bytes held back
    /// that might have begun one, as [`Event::Truncated`], and resets the
    /// decoder for a new stream.
    pub fn finish(&mut self) -> Option<Event> {
        let pending = self.buf.len() - self.start;
        let event = match std::mem::replace(&mut self.state, State::Scan) {
            State::Payload { payload, .. } => Some(Event::Truncated {
                received: (framing::HEADER_LEN + payload.len()) as u64,
            }),
            State::Skip { received, .. } => Some(Event::Truncated { received }),
            State::Scan if pending == 0 => None,
            State::Scan => Some(Event::Truncated {
                received: pending as u64,
            }),
        };
        self.buf.clear();
        self.start = 0;
        event
    }

    /// Applies decisions to `buf` until one needs more data (returns false)
    /// or a payload/skip state is entered (returns true).
    fn scan(&mut self, on_event: &mut impl FnMut(Event)) -> bool {
        loop {
            let pending = &self.buf[self.start..];
            match framing::decide(pending, self.max_payload) {
                Decision::NeedMore(_) => return false,
                Decision::Discard { len, reason } => {
                    self.start += len;
                    on_event(match reason {
                        Discard::Garbage => Event::Garbage { len },
                        Discard::BadHeader(e) => Event::BadHeader(e),
                        Discard::Oversize { payload_len } => Event::Oversize { payload_len },
                    });
                }
                Decision::Frame(header) => {
                    self.start += header.header_len();
                    self.state = State::Payload {
                        header,
                        // Grows as bytes arrive: the length is only a claim.
                        payload: Vec::new(),
                        crc: Crc32::new(),
                    };
                    // A zero-length payload is complete already.
                    consume(&mut self.state, &[], on_event);
                    return true;
                }
                Decision::Skip { len, version } => {
                    on_event(Event::Unsupported { version, len });
                    self.state = State::Skip {
                        remaining: len,
                        received: 0,
                    };
                    return true;
                }
            }
        }
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        // A burst of garbage must not leave a large buffer behind on an
        // idle connection.
        if self.buf.capacity() > 4096 && self.buf.len() <= 1024 {
            self.buf.shrink_to(1024);
        }
    }
}

/// Feeds `source` to a payload or skip state; returns the bytes used.
fn consume(state: &mut State, source: &[u8], on_event: &mut impl FnMut(Event)) -> usize {
    match state {
        State::Scan => 0,
        State::Skip {
            remaining,
            received,
        } => {
            let n = (*remaining).min(source.len() as u64);
            *remaining -= n;
            *received += n;
            if *remaining == 0 {
                *state = State::Scan;
            }
            n as usize
        }
        State::Payload {
            header,
            payload,
            crc,
        } => {
            let want = header.payload_len as usize - payload.len();
            let n = want.min(source.len());
            if payload.capacity() - payload.len() < n {
                // Double as bytes arrive, by at most GROW_STEP past them and
                // never past the announced length.
                let grow = n.max(payload.len().min(GROW_STEP)).min(want);
                payload.reserve_exact(grow);
            }
            payload.extend_from_slice(&source[..n]);
            crc.update(&source[..n]);
            if payload.len() == header.payload_len as usize {
                let State::Payload {
                    header,
                    payload,
                    crc,
                } = std::mem::replace(state, State::Scan)
                else {
                    unreachable!()
                };
                on_event(if crc.finish() == header.payload_crc {
                    Event::Frame(ReceivedFrame { header, payload })
                } else {
                    Event::CrcError(header)
                });
            }
            n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use img_stream_core::crc32::crc32;

    pub(crate) fn frame_bytes(seq: u32, camera_id: u16, payload: &[u8]) -> Vec<u8> {
        let repr = FrameHeaderRepr {
            flags: 0,
            seq,
            timestamp_us: u64::from(seq) * 1000,
            width: 64,
            height: 48,
            format: 9,
            camera_id,
            payload_len: payload.len() as u32,
            payload_crc: crc32(payload),
        };
        let mut out = vec![0; framing::HEADER_LEN];
        repr.emit(&mut out);
        out.extend_from_slice(payload);
        out
    }

    fn payload(seq: u32, len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u32 ^ seq.wrapping_mul(31)) as u8)
            .collect()
    }

    fn decode_split(stream: &[u8], split: usize, max: u32) -> Vec<Event> {
        let mut d = Decoder::new(max);
        let mut events = Vec::new();
        for piece in stream.chunks(split.max(1)) {
            d.feed(piece, |e| events.push(e));
        }
        events.extend(d.finish());
        events
    }

    fn frames(events: &[Event]) -> Vec<u32> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Frame(f) => Some(f.header.seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn frames_survive_every_split() {
        let mut stream = Vec::new();
        for seq in 0..5 {
            stream.extend(frame_bytes(seq, 1, &payload(seq, 100 + seq as usize * 37)));
        }
        stream.extend(frame_bytes(5, 1, &[]));
        for split in [1, 2, 3, 5, 7, 39, 40, 41, 64, 1000, stream.len()] {
            let events = decode_split(&stream, split, 1 << 20);
            assert_eq!(frames(&events), vec![0, 1, 2, 3, 4, 5], "split {split}");
            assert_eq!(events.len(), 6, "only frames, split {split}: {events:?}");
            let Event::Frame(f) = &events[2] else {
                panic!()
            };
            assert_eq!(f.payload, payload(2, 174));
            assert_eq!(f.header.camera_id, 1);
        }
    }

    #[test]
    fn resync_after_garbage_and_fake_magic() {
        let mut stream = b"garbage IMGS IMG xx IMGSIMGS\x01\x10".to_vec();
        stream.extend(frame_bytes(9, 0, b"abc"));
        stream.extend(b"IM");
        stream.extend(frame_bytes(10, 0, b"def"));
        for split in [1, 3, 8, stream.len()] {
            let events = decode_split(&stream, split, 1 << 20);
            assert_eq!(frames(&events), vec![9, 10], "split {split}");
            assert!(events.iter().any(|e| matches!(e, Event::BadHeader(_))));
            let garbage: usize = events
                .iter()
                .map(|e| match e {
                    Event::Garbage { len } => *len,
                    _ => 0,
                })
                .sum();
            let bad = events
                .iter()
                .filter(|e| matches!(e, Event::BadHeader(_)))
                .count();
            // Every byte before each frame was either garbage or one bad-header byte.
            assert_eq!(garbage + bad, stream.len() - 2 * 43, "split {split}");
        }
    }

    #[test]
    fn crc_error_skips_exactly_one_frame() {
        let mut bad = frame_bytes(1, 0, &payload(1, 300));
        bad[40 + 150] ^= 0x01;
        let mut stream = frame_bytes(0, 0, b"ok");
        stream.extend(&bad);
        stream.extend(frame_bytes(2, 0, b"ok"));
        let events = decode_split(&stream, 17, 1 << 20);
        assert_eq!(frames(&events), vec![0, 2]);
        assert!(matches!(&events[1], Event::CrcError(h) if h.seq == 1));
        assert_eq!(events.len(), 3);
    }

    #[test]
    fn header_bit_flip_is_bad_header_then_resync() {
        let mut bad = frame_bytes(1, 0, b"payload");
        bad[10] ^= 0x80;
        let mut stream = bad;
        stream.extend(frame_bytes(2, 0, b"next"));
        let events = decode_split(&stream, 4, 1 << 20);
        assert_eq!(frames(&events), vec![2]);
        assert_eq!(events[0], Event::BadHeader(framing::Error::BadHeaderCrc));
    }

    #[test]
    fn oversize_is_refused_without_allocating() {
        // Claims 3 GiB; the decoder must not try to reserve it.
        let repr = FrameHeaderRepr {
            flags: 0,
            seq: 1,
            timestamp_us: 0,
            width: 1,
            height: 1,
            format: 9,
            camera_id: 0,
            payload_len: 3 << 30,
            payload_crc: 0,
        };
        let mut stream = vec![0; 40];
        repr.emit(&mut stream);
        stream.extend(frame_bytes(2, 0, b"small"));
        let mut d = Decoder::new(1024);
        let mut events = Vec::new();
        d.feed(&stream, |e| events.push(e));
        assert_eq!(
            events[0],
            Event::Oversize {
                payload_len: 3 << 30
            }
        );
        assert_eq!(frames(&events), vec![2]);
        assert!(d.buf.capacity() < 4096, "buffer stayed small");
        assert!(d.is_idle());
    }

    #[test]
    fn limit_is_inclusive() {
        let stream = frame_bytes(1, 0, &[7; 100]);
        assert_eq!(frames(&decode_split(&stream, 100, 100)), vec![1]);
        let events = decode_split(&stream, 100, 99);
        assert_eq!(events[0], Event::Oversize { payload_len: 100 });
    }

    #[test]
    fn unsupported_version_is_skipped_whole() {
        // A "version 2" frame with a 48-byte header and a payload that
        // contains a valid v1 frame, which must not be decoded.
        let inner = frame_bytes(99, 0, b"inner");
        let mut v2 = vec![0u8; 48];
        v2[..4].copy_from_slice(b"IMGS");
        v2[4] = 2;
        v2[5] = 48;
        v2[28..32].copy_from_slice(&(inner.len() as u32).to_le_bytes());
        let crc = crc32(&v2[..44]);
        v2[44..48].copy_from_slice(&crc.to_le_bytes());
        v2.extend(&inner);
        v2.extend(frame_bytes(3, 0, b"after"));
        for split in [1, 10, 1000] {
            let events = decode_split(&v2, split, 1 << 20);
            assert_eq!(
                events[0],
                Event::Unsupported {
                    version: 2,
                    len: 48 + inner.len() as u64
                }
            );
            assert_eq!(frames(&events), vec![3], "split {split}");
        }
    }

    #[test]
    fn finish_reports_truncation_and_resets() {
        let stream = frame_bytes(1, 0, &[1; 50]);
        let mut d = Decoder::new(1 << 20);
        let mut events = Vec::new();
        d.feed(&stream[..60], |e| events.push(e));
        assert!(events.is_empty());
        assert_eq!(d.finish(), Some(Event::Truncated { received: 60 }));
        d.feed(&stream[..20], |e| events.push(e));
        assert_eq!(d.finish(), Some(Event::Truncated { received: 20 }));
        d.feed(b"xyzIM", |e| events.push(e));
        assert_eq!(events.pop(), Some(Event::Garbage { len: 3 }));
        assert_eq!(
            d.finish(),
            Some(Event::Truncated { received: 2 }),
            "held-back magic prefix"
        );
        d.feed(&stream, |e| events.push(e));
        assert_eq!(d.finish(), None);
        assert_eq!(frames(&events), vec![1]);
    }
}
