//! Frame reassembly for message transports (MQTT messages, UDP datagrams).
//!
//! One [`Reassembler`] takes every message a receiver gets, from any number
//! of sources, and hands back whole, verified frames. A source is whatever
//! identifies a sender to the transport (`SocketAddr` for UDP, the topic
//! `String` for MQTT): any `S: Hash + Eq + Clone`.
//!
//! ```
//! use std::time::Instant;
//! use img_stream_host::reassembly::{Config, Outcome, Reassembler};
//!
//! let mut reasm: Reassembler<String> = Reassembler::new(Config::default());
//! # let messages: Vec<(String, Vec<u8>)> = Vec::new();
//! for (topic, payload) in messages {
//!     match reasm.push(&topic, &payload, Instant::now()) {
//!         Outcome::Frame(frame) => {
//!             // frame.header.{seq, camera_id, width, ...}, frame.payload:
//!             // both CRCs verified. Camera name for the store:
//!             // img_stream_host::store::camera_name(&topic, frame.header.camera_id)
//!         }
//!         _ => {} // already counted in reasm.counters()
//!     }
//! }
//! // With no traffic, call `reasm.expire(Instant::now())` now and then so
//! // stale partial frames are dropped and counted.
//! ```
//!
//! What [`Reassembler::push`] accepts (see [`classify`]):
//! - an "IMGC" chunk message: its data is kept, as received, under
//!   (source, camera_id, seq); when every index `0..count` has arrived the
//!   pieces are joined, parsed as a frame message and both CRCs are checked;
//! - an "IMGS" whole frame message: checked and returned at once.
//!
//! Raw JPEG payloads (FF D8, MQTT raw mode) carry no header: check
//! [`classify`] first and handle [`MessageKind::RawJpeg`] yourself; `push`
//! counts them as garbage.
//!
//! Memory: everything held (chunk data as it arrives, a small fixed cost
//! per chunk, per frame and per (source, camera)) is taken from one
//! [`Budget`]; nothing is sized by a header's `total` or `count` before the
//! bytes are there. When the budget is full, the oldest partial frame is
//! dropped (`incomplete` and `evicted`), then the idlest source's history.
//!
//! Rules (docs/PROTOCOL.md section 3.3), with the counter each one bumps:
//! - everything `img_stream_core::chunk::parse_message` refuses (bad magic,
//!   header CRC or length, `index >= count`, `count > total`, no data,
//!   `offset + data_len > total`, `total < 40`), data longer than the
//!   transport's `Config::max_chunk_data`, or a `count` too small to carry
//!   `total` in such chunks → `garbage`; another header version →
//!   `unsupported`;
//! - `total > Config::max_total` → `garbage` and `oversize` (a part of
//!   garbage), refused before anything is kept;
//! - a chunk whose `count`/`total` disagree with its frame's first chunk →
//!   the frame is dropped, `corrupt`;
//! - the same index twice → ignored, `duplicates`; a chunk or whole frame
//!   repeating one already completed (same seq and total, among the last
//!   [`RECENT_CAP`] finished within `Config::remember`) → `duplicates` too,
//!   never a second delivery. A sender that restarts reuses seqs: a first
//!   chunk (offset 0) or whole frame whose frame header differs from the
//!   remembered one (other timestamp or CRC) is a new frame, and that
//!   camera's history is reset;
//! - a chunk of a frame already dropped → `late`;
//! - incomplete frames dropped → `incomplete`, of which: older than
//!   `Config::timeout` → also `timed_out`; more than `Config::max_in_flight`
//!   for one (source, camera) → the oldest, also `superseded`; the budget
//!   full → the oldest anywhere, also `evicted`; [`Reassembler::drop_all`]
//!   at the end of input → `incomplete` only;
//! - a message that cannot be kept even after evicting → `over_budget`;
//! - reassembled bytes that are not a valid v1 frame of exactly `total`
//!   bytes (or that name another seq or camera) → `bad_headers`; another
//!   frame version → `unsupported`; payload CRC mismatch → `crc_errors`.
//!
//! These are the rules, and the counter names, of the chunk test vectors in
//! `tests/vectors/` (`max_pending` there is `Config::max_in_flight`); the
//! tests in `host/tests/vectors.rs` check every one.
//!
//! [`crate::status::Stats::set_chunk_counters`] mirrors the counters into
//! the status line.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use img_stream_core::chunk::{self, ChunkHeaderRepr};
use img_stream_core::framing::{self, MessageError};

use crate::budget::{Budget, SourceMap};
use crate::config::DEFAULT_MAX_MEMORY;
use crate::stream::ReceivedFrame;

/// A whole frame message checked by core's parser, as a [`ReceivedFrame`].
fn parse_message(message: &[u8], max_payload: u32) -> Result<ReceivedFrame, MessageError> {
    let (header, payload) = framing::parse_message(message, max_payload)?;
    Ok(ReceivedFrame {
        header,
        payload: payload.to_vec(),
    })
}

/// Largest chunk data a UDP datagram can carry: the largest IPv4 UDP
/// payload (65 507 bytes) minus the chunk header.
pub const UDP_MAX_CHUNK_DATA: usize = 65_507 - chunk::HEADER_LEN;

/// Finished frames remembered per (source, camera), as docs/PROTOCOL.md
/// section 3.3 says.
pub const RECENT_CAP: usize = 32;

/// Budget bytes one stored chunk costs besides its data (its slot in the
/// piece list and the allocator's header).
const PIECE_COST: usize = 48;
/// Budget bytes one partial frame costs besides its chunks and bitmap.
const PARTIAL_COST: usize = 256;
/// Budget bytes one (source, camera) entry costs: its map slot and a full
/// history of finished frames.
const CAMERA_COST: usize = 256 + RECENT_CAP * std::mem::size_of::<Finished>();

/// Limits of a [`Reassembler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Largest frame message (40-byte header + payload) accepted; a chunk
    /// announcing a larger `total` is refused before anything is kept.
    pub max_total: u32,
    /// Largest data one chunk may carry on this transport (its MTU minus
    /// the chunk header); [`UDP_MAX_CHUNK_DATA`] by default.
    pub max_chunk_data: usize,
    /// An incomplete frame is dropped this long after its first chunk.
    pub timeout: Duration,
    /// Incomplete frames kept per (source, camera); a new frame beyond this
    /// drops the oldest. Covers reordering across frame boundaries.
    pub max_in_flight: usize,
    /// How long a finished frame is remembered (and a silent source's
    /// state kept), so repeated chunks of it are recognised as duplicates
    /// or late.
    pub remember: Duration,
    /// The memory budget when the reassembler makes its own
    /// ([`Reassembler::new`]).
    pub max_memory: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_total: framing::DEFAULT_MAX_PAYLOAD + framing::HEADER_LEN as u32,
            max_chunk_data: UDP_MAX_CHUNK_DATA,
            timeout: Duration::from_millis(chunk::DEFAULT_TIMEOUT_MS),
            max_in_flight: chunk::DEFAULT_MAX_PENDING,
            remember: Duration::from_secs(30),
            max_memory: DEFAULT_MAX_MEMORY,
        }
    }
}

impl Config {
    /// The default limits for a given maximum payload length.
    pub fn with_max_payload(max_payload: u32) -> Config {
        Config {
            max_total: max_payload.saturating_add(framing::HEADER_LEN as u32),
            ..Config::default()
        }
    }
}

/// Cumulative counters (see the module docs for what bumps which).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Messages pushed.
    pub messages: u64,
    /// Chunk messages stored (not counting duplicates).
    pub chunks: u64,
    /// Frames delivered.
    pub frames: u64,
    /// Messages that are not a valid chunk or frame.
    pub garbage: u64,
    /// Messages with an unknown header version.
    pub unsupported: u64,
    /// Of `garbage`: messages refused for a too-large total or payload.
    pub oversize: u64,
    /// Repeated chunks or repeated delivered frames, ignored.
    pub duplicates: u64,
    /// Chunks of frames already dropped.
    pub late: u64,
    /// Frames dropped because a chunk contradicted their count or total.
    pub corrupt: u64,
    /// Frames (reassembled or whole) whose frame header was invalid.
    pub bad_headers: u64,
    /// Frames dropped for a payload CRC mismatch.
    pub crc_errors: u64,
    /// Incomplete frames dropped, for any reason.
    pub incomplete: u64,
    /// Of `incomplete`: dropped after the timeout.
    pub timed_out: u64,
    /// Of `incomplete`: dropped for newer ones of the same camera.
    pub superseded: u64,
    /// Of `incomplete`: dropped because the memory budget was full.
    pub evicted: u64,
    /// Messages not kept because the budget stayed full after evicting.
    pub over_budget: u64,
    /// (source, camera) histories forgotten early to make room.
    pub sources_evicted: u64,
}

/// What [`Reassembler::push`] did with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A frame is complete and verified.
    Frame(ReceivedFrame),
    /// The chunk was stored; its frame is still incomplete.
    Stored,
    /// A chunk or frame seen before; ignored.
    Duplicate,
    /// A chunk of a frame that was already dropped; ignored.
    Late,
    /// This message completed or contradicted a frame that turned out bad
    /// (see `corrupt` / `crc_errors`), or its frame had to be evicted; the
    /// frame was dropped.
    Dropped,
    /// The message was refused (garbage, unsupported, oversize or over
    /// budget).
    Refused,
}

/// What a message looks like from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// Starts with "IMGC": a chunk.
    Chunk,
    /// Starts with "IMGS": a whole frame message.
    Frame,
    /// Starts with FF D8: a bare JPEG (MQTT raw mode).
    RawJpeg,
    /// Anything else.
    Unknown,
}

/// Auto-detects a message's kind (protocol v1: "IMGC", "IMGS", FF D8).
pub fn classify(message: &[u8]) -> MessageKind {
    if message.starts_with(&chunk::MAGIC) {
        MessageKind::Chunk
    } else if message.starts_with(&framing::MAGIC) {
        MessageKind::Frame
    } else if img_stream_core::jpeg::info::looks_like_jpeg(message) {
        MessageKind::RawJpeg
    } else {
        MessageKind::Unknown
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// Every chunk arrived (the frame was delivered or failed its checks).
    Completed,
    /// Dropped before completion.
    Dropped,
}

/// A frame being reassembled: the chunks that arrived, as they arrived.
#[derive(Debug)]
struct Partial {
    count: u16,
    total: u32,
    /// One bit per chunk index.
    have: Vec<u64>,
    /// (offset, data) of each stored chunk, in arrival order.
    pieces: Vec<(u32, Box<[u8]>)>,
    received: u16,
    first_seen: Instant,
    /// Its key in `Reassembler::by_age`.
    age: u64,
    /// Budget bytes it holds.
    charged: usize,
}

impl Partial {
    fn has(&self, index: u16) -> bool {
        self.have[index as usize / 64] & (1 << (index % 64)) != 0
    }
}

/// Per (source, camera) bookkeeping.
#[derive(Debug, Default)]
struct Camera {
    /// Seqs of incomplete frames, oldest first.
    in_flight: VecDeque<u32>,
    /// Recently finished frames, oldest first.
    recent: VecDeque<Finished>,
}

type Key<S> = (S, u16, u32);

/// Reassembles chunked frames from many sources; see the module docs.
#[derive(Debug)]
pub struct Reassembler<S> {
    config: Config,
    budget: Arc<Budget>,
    partials: HashMap<Key<S>, Partial>,
    /// Partial frames by age (a counter), oldest first: eviction order.
    by_age: BTreeMap<u64, Key<S>>,
    next_age: u64,
    cameras: SourceMap<(S, u16), Camera>,
    buffered: usize,
    counters: Counters,
    next_expiry: Option<Instant>,
}

/// A frame recently completed or dropped.
#[derive(Debug)]
struct Finished {
    seq: u32,
    total: u32,
    fate: Fate,
    at: Instant,
    /// Its frame header, when it was known (completed frames): a sender
    /// that restarted reuses seqs, and its timestamps tell the frames apart.
    head: Option<[u8; framing::HEADER_LEN]>,
}

impl Finished {
    /// Whether `start` (bytes from offset 0 of a frame message) shows a
    /// different frame than this one.
    fn differs_from(&self, start: &[u8]) -> bool {
        self.head.is_some_and(|h| {
            let n = start.len().min(h.len());
            h[..n] != start[..n]
        })
    }
}

impl<S: Hash + Eq + Clone> Reassembler<S> {
    /// An empty reassembler with these limits and a budget of its own of
    /// `config.max_memory` bytes.
    pub fn new(config: Config) -> Reassembler<S> {
        Reassembler::with_budget(config, Budget::new(config.max_memory))
    }

    /// An empty reassembler drawing on the process's `budget`.
    pub fn with_budget(config: Config, budget: Arc<Budget>) -> Reassembler<S> {
        Reassembler {
            config,
            budget,
            partials: HashMap::new(),
            by_age: BTreeMap::new(),
            next_age: 0,
            // The budget bounds the entries; the map's own cap is a backstop.
            cameras: SourceMap::new(usize::MAX, config.remember),
            buffered: 0,
            counters: Counters::default(),
            next_expiry: None,
        }
    }

    /// The limits in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The budget it draws on.
    pub fn budget(&self) -> &Arc<Budget> {
        &self.budget
    }

    /// The counters so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Incomplete frames currently held.
    pub fn in_flight(&self) -> usize {
        self.partials.len()
    }

    /// (source, camera) entries currently held.
    pub fn sources(&self) -> usize {
        self.cameras.len()
    }

    /// Chunk data bytes held for incomplete frames.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Takes one message from `source` received at `now`.
    ///
    /// Also drops timed-out frames now and then, so a steady stream needs no
    /// separate [`Reassembler::expire`] calls.
    pub fn push(&mut self, source: &S, message: &[u8], now: Instant) -> Outcome {
        self.counters.messages += 1;
        if self.next_expiry.is_none_or(|t| now >= t) {
            self.expire(now);
        }
        match classify(message) {
            MessageKind::Chunk => self.push_chunk(source, message, now),
            MessageKind::Frame => self.push_frame(source, message, now),
            MessageKind::RawJpeg | MessageKind::Unknown => {
                self.counters.garbage += 1;
                Outcome::Refused
            }
        }
    }

    /// Drops incomplete frames older than the timeout and forgets sources
    /// silent for longer than `Config::remember`; returns how many frames
    /// were dropped.
    pub fn expire(&mut self, now: Instant) -> usize {
        self.next_expiry = Some(now + (self.config.timeout / 4).max(Duration::from_millis(10)));
        let timeout = self.config.timeout;
        let mut dropped = 0;
        // Oldest first: stop at the first one still within its time.
        while let Some((_, key)) = self.by_age.first_key_value() {
            let p = &self.partials[key];
            if now.saturating_duration_since(p.first_seen) < timeout {
                break;
            }
            let key = key.clone();
            self.drop_partial(&key, now);
            self.counters.incomplete += 1;
            self.counters.timed_out += 1;
            dropped += 1;
        }
        for (key, cam) in self.cameras.expire(now) {
            self.forget_camera(&key, cam);
        }
        dropped
    }

    /// Drops every incomplete frame (end of input); returns how many.
    pub fn drop_all(&mut self, now: Instant) -> usize {
        let keys: Vec<Key<S>> = self.by_age.values().cloned().collect();
        for key in &keys {
            self.drop_partial(key, now);
            self.counters.incomplete += 1;
        }
        keys.len()
    }

    fn push_frame(&mut self, source: &S, message: &[u8], now: Instant) -> Outcome {
        let max_payload = self
            .config
            .max_total
            .saturating_sub(framing::HEADER_LEN as u32);
        match parse_message(message, max_payload) {
            Ok(frame) => {
                let (seq, cam_id, total) = (
                    frame.header.seq,
                    frame.header.camera_id,
                    message.len() as u32,
                );
                let Some(cam) = self.camera(source, cam_id, now) else {
                    self.counters.over_budget += 1;
                    return Outcome::Refused;
                };
                if let Some(r) = cam.recent.iter().find(|r| (r.seq, r.total) == (seq, total)) {
                    if r.head.is_some() && !r.differs_from(message) {
                        self.counters.duplicates += 1;
                        return Outcome::Duplicate;
                    }
                    // The same seq with other contents: the sender restarted.
                    cam.recent.clear();
                }
                remember(cam, seq, total, Fate::Completed, head_of(message), now);
                self.counters.frames += 1;
                Outcome::Frame(frame)
            }
            Err(e) => {
                self.count_message_error(e);
                match e {
                    MessageError::CrcError => Outcome::Dropped,
                    _ => Outcome::Refused,
                }
            }
        }
    }

    fn count_message_error(&mut self, e: MessageError) {
        let c = &mut self.counters;
        match e {
            MessageError::BadHeader(_) | MessageError::LengthMismatch => c.bad_headers += 1,
            MessageError::Unsupported(_) => c.unsupported += 1,
            MessageError::Oversize(_) => {
                c.garbage += 1;
                c.oversize += 1;
            }
            MessageError::CrcError => c.crc_errors += 1,
        }
    }

    fn push_chunk(&mut self, source: &S, message: &[u8], now: Instant) -> Outcome {
        // `u32::MAX` here: an oversize total is counted apart just below.
        let (repr, data) = match chunk::parse_message(message, u32::MAX) {
            Ok(r) => r,
            Err(chunk::Error::UnsupportedVersion { .. }) => {
                self.counters.unsupported += 1;
                return Outcome::Refused;
            }
            Err(_) => {
                self.counters.garbage += 1;
                return Outcome::Refused;
            }
        };
        if repr.total > self.config.max_total {
            self.counters.garbage += 1;
            self.counters.oversize += 1;
            return Outcome::Refused;
        }
        // The transport's MTU bounds each chunk, so `count` chunks must be
        // able to carry `total` bytes.
        let max_data = self.config.max_chunk_data.max(1) as u64;
        if data.len() as u64 > max_data || u64::from(repr.count) * max_data < u64::from(repr.total)
        {
            self.counters.garbage += 1;
            return Outcome::Refused;
        }
        let key = (source.clone(), repr.camera_id, repr.seq);
        if let Some(p) = self.partials.get(&key) {
            if p.count != repr.count || p.total != repr.total {
                self.drop_partial(&key, now);
                self.counters.corrupt += 1;
                return Outcome::Dropped;
            }
            if p.has(repr.index) {
                self.counters.duplicates += 1;
                return Outcome::Duplicate;
            }
            if !self.reserve(PIECE_COST + data.len(), Some(&key), now) {
                // Even this frame had to go: it was the oldest work.
                if self.partials.contains_key(&key) {
                    self.drop_partial(&key, now);
                    self.counters.incomplete += 1;
                    self.counters.evicted += 1;
                }
                return Outcome::Dropped;
            }
            self.store_chunk(&key, &repr, data);
            self.counters.chunks += 1;
            if self.partials[&key].received < repr.count {
                return Outcome::Stored;
            }
            return self.complete(&key, now);
        }

        // First chunk of a frame we hold nothing for.
        let Some(cam) = self.camera(source, repr.camera_id, now) else {
            self.counters.over_budget += 1;
            return Outcome::Refused;
        };
        if let Some(r) = cam
            .recent
            .iter()
            .find(|r| (r.seq, r.total) == (repr.seq, repr.total))
        {
            if repr.offset == 0 && r.differs_from(data) {
                // A new frame under an old seq: the sender restarted, and
                // all history of this camera is stale.
                cam.recent.clear();
            } else {
                return match r.fate {
                    Fate::Completed => {
                        self.counters.duplicates += 1;
                        Outcome::Duplicate
                    }
                    Fate::Dropped => {
                        self.counters.late += 1;
                        Outcome::Late
                    }
                };
            }
        }
        self.make_room(source, repr.camera_id, now);
        let words = (repr.count as usize).div_ceil(64);
        let cost = PARTIAL_COST + words * 8 + PIECE_COST + data.len();
        if !self.reserve(cost, Some(&key), now) {
            self.counters.over_budget += 1;
            return Outcome::Refused;
        }
        let age = self.next_age;
        self.next_age += 1;
        self.partials.insert(
            key.clone(),
            Partial {
                count: repr.count,
                total: repr.total,
                have: vec![0; words],
                pieces: Vec::new(),
                received: 0,
                first_seen: now,
                age,
                charged: cost - PIECE_COST - data.len(),
            },
        );
        self.by_age.insert(age, key.clone());
        self.store_chunk(&key, &repr, data);
        self.counters.chunks += 1;
        if let Some(cam) = self.cameras.peek_mut(&(source.clone(), repr.camera_id)) {
            cam.in_flight.push_back(repr.seq);
        }
        if self.partials[&key].received == repr.count {
            self.complete(&key, now)
        } else {
            Outcome::Stored
        }
    }

    /// Takes `n` budget bytes, dropping the oldest partial frames (never
    /// `keep`), then the idlest sources, until they fit. `false` if
    /// nothing is left to drop.
    fn reserve(&mut self, n: usize, keep: Option<&Key<S>>, now: Instant) -> bool {
        loop {
            if self.budget.try_take(n) {
                return true;
            }
            let victim = self.by_age.values().find(|k| Some(*k) != keep).cloned();
            if let Some(victim) = victim {
                self.drop_partial(&victim, now);
                self.counters.incomplete += 1;
                self.counters.evicted += 1;
                continue;
            }
            let keep_cam = keep.map(|k| (k.0.clone(), k.1));
            match self.cameras.idlest() {
                Some(k) if Some(k) != keep_cam.as_ref() => {
                    if let Some((k, cam)) = self.cameras.pop_idlest() {
                        self.counters.sources_evicted += 1;
                        self.forget_camera(&k, cam);
                    }
                }
                _ => return false,
            }
        }
    }

    /// Drops the oldest incomplete frames of one camera until a new one fits
    /// its `max_in_flight`.
    fn make_room(&mut self, source: &S, cam_id: u16, now: Instant) {
        let cam_key = (source.clone(), cam_id);
        loop {
            let oldest = self
                .cameras
                .peek_mut(&cam_key)
                .filter(|c| c.in_flight.len() >= self.config.max_in_flight)
                .and_then(|c| c.in_flight.front().copied());
            let Some(seq) = oldest else { return };
            self.drop_partial(&(source.clone(), cam_id, seq), now);
            self.counters.incomplete += 1;
            self.counters.superseded += 1;
        }
    }

    fn store_chunk(&mut self, key: &Key<S>, repr: &ChunkHeaderRepr, data: &[u8]) {
        let Some(p) = self.partials.get_mut(key) else {
            return;
        };
        p.have[repr.index as usize / 64] |= 1 << (repr.index % 64);
        p.pieces.push((repr.offset, data.into()));
        p.received += 1;
        p.charged += PIECE_COST + data.len();
        self.buffered += data.len();
    }

    /// Every chunk is in: joins the pieces, checks the frame and delivers it.
    fn complete(&mut self, key: &Key<S>, now: Instant) -> Outcome {
        let total = self.partials[key].total as usize;
        // The joined copy is held while the pieces still are.
        let joined = self.reserve(total, Some(key), now);
        let Some(mut p) = self.remove_partial(key) else {
            return Outcome::Dropped;
        };
        if !joined {
            self.budget.give(p.charged);
            self.counters.incomplete += 1;
            self.counters.evicted += 1;
            self.remember_key(key, p.total, Fate::Dropped, None, now);
            return Outcome::Dropped;
        }
        let mut bytes = vec![0u8; total];
        p.pieces.sort_unstable_by_key(|(o, _)| *o);
        // Pieces may overlap or leave holes (a lying sender); the frame
        // checks below then fail. Every piece is within `total` (checked
        // per message).
        for (offset, data) in &p.pieces {
            let at = *offset as usize;
            bytes[at..at + data.len()].copy_from_slice(data);
        }
        drop(p.pieces);
        self.budget.give(p.charged);
        let max_payload = p.total - framing::HEADER_LEN as u32;
        let result = parse_message(&bytes, max_payload).and_then(|f| {
            // The chunks promised this frame; anything else is corruption.
            if (f.header.camera_id, f.header.seq) == (key.1, key.2) {
                Ok(f)
            } else {
                Err(MessageError::LengthMismatch)
            }
        });
        self.budget.give(total);
        self.remember_key(key, p.total, Fate::Completed, head_of(&bytes), now);
        match result {
            Ok(frame) => {
                self.counters.frames += 1;
                Outcome::Frame(frame)
            }
            Err(e) => {
                self.count_message_error(e);
                Outcome::Dropped
            }
        }
    }

    fn drop_partial(&mut self, key: &Key<S>, now: Instant) {
        if let Some(p) = self.remove_partial(key) {
            self.budget.give(p.charged);
            self.remember_key(key, p.total, Fate::Dropped, None, now);
        }
    }

    fn remove_partial(&mut self, key: &Key<S>) -> Option<Partial> {
        let p = self.partials.remove(key)?;
        self.by_age.remove(&p.age);
        self.buffered -= p.pieces.iter().map(|(_, d)| d.len()).sum::<usize>();
        if let Some(cam) = self.cameras.peek_mut(&(key.0.clone(), key.1)) {
            cam.in_flight.retain(|&s| s != key.2);
        }
        Some(p)
    }

    fn remember_key(
        &mut self,
        key: &Key<S>,
        total: u32,
        fate: Fate,
        head: Option<[u8; framing::HEADER_LEN]>,
        now: Instant,
    ) {
        // Only sources still known get history: it is their memory.
        if let Some(cam) = self.cameras.peek_mut(&(key.0.clone(), key.1)) {
            remember(cam, key.2, total, fate, head, now);
        }
    }

    /// Drops a forgotten source's partial frames and gives its memory back.
    fn forget_camera(&mut self, key: &(S, u16), cam: Camera) {
        for seq in cam.in_flight {
            let k = (key.0.clone(), key.1, seq);
            if let Some(p) = self.remove_partial(&k) {
                self.budget.give(p.charged);
                self.counters.incomplete += 1;
                self.counters.evicted += 1;
            }
        }
        self.budget.give(CAMERA_COST);
    }

    /// The (source, camera) entry, made (and paid for) if new; `None` if
    /// the budget has no room even after evicting.
    fn camera(&mut self, source: &S, cam_id: u16, now: Instant) -> Option<&mut Camera> {
        let key = (source.clone(), cam_id);
        if self.cameras.get_mut(&key, now).is_none() {
            if !self.reserve(CAMERA_COST, None, now) {
                return None;
            }
            self.cameras.insert(key.clone(), Camera::default(), now);
        }
        let remember = self.config.remember;
        let cam = self.cameras.peek_mut(&key)?;
        while cam
            .recent
            .front()
            .is_some_and(|r| now.saturating_duration_since(r.at) > remember)
        {
            cam.recent.pop_front();
        }
        Some(cam)
    }
}

fn head_of(message: &[u8]) -> Option<[u8; framing::HEADER_LEN]> {
    message.get(..framing::HEADER_LEN)?.try_into().ok()
}

fn remember(
    cam: &mut Camera,
    seq: u32,
    total: u32,
    fate: Fate,
    head: Option<[u8; framing::HEADER_LEN]>,
    now: Instant,
) {
    if cam.recent.len() >= RECENT_CAP {
        cam.recent.pop_front();
    }
    cam.recent.push_back(Finished {
        seq,
        total,
        fate,
        at: now,
        head,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use img_stream_core::framing::FrameHeaderRepr;

    fn frame_message(seq: u32, camera_id: u16, payload_len: usize) -> Vec<u8> {
        let payload: Vec<u8> = (0..payload_len)
            .map(|i| (i * 7 + seq as usize) as u8)
            .collect();
        let repr = FrameHeaderRepr::jpeg(seq, 1000 + u64::from(seq), 32, 16, camera_id, &payload);
        let mut out = vec![0; framing::HEADER_LEN];
        repr.emit(&mut out);
        out.extend(payload);
        out
    }

    /// The chunk messages for `msg` with at most `max_message` bytes each.
    fn chunks(msg: &[u8], seq: u32, camera_id: u16, max_message: usize) -> Vec<Vec<u8>> {
        let plan = chunk::plan(msg.len(), max_message).unwrap();
        plan.iter()
            .map(|c| {
                let mut m = vec![0; chunk::HEADER_LEN];
                plan.repr(&c, seq, camera_id).emit(&mut m);
                m.extend_from_slice(&msg[c.range()]);
                m
            })
            .collect()
    }

    /// Chunk 0 of seq 1 with this count and total, carrying `len` bytes.
    fn first_chunk(count: u16, total: u32, len: usize) -> Vec<u8> {
        let mut m = vec![0; chunk::HEADER_LEN + len];
        ChunkHeaderRepr {
            flags: 0,
            seq: 1,
            camera_id: 0,
            index: 0,
            count,
            offset: 0,
            total,
        }
        .emit(&mut m);
        m
    }

    fn reasm() -> Reassembler<&'static str> {
        Reassembler::new(Config {
            max_total: 1 << 20,
            ..Config::default()
        })
    }

    fn delivered(o: Outcome) -> ReceivedFrame {
        match o {
            Outcome::Frame(f) => f,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    #[test]
    fn in_order_chunks_make_the_frame() {
        let msg = frame_message(7, 2, 1000);
        let parts = chunks(&msg, 7, 2, 200);
        let mut r = reasm();
        let t = Instant::now();
        for p in &parts[..parts.len() - 1] {
            assert_eq!(r.push(&"a", p, t), Outcome::Stored);
        }
        let f = delivered(r.push(&"a", parts.last().unwrap(), t));
        assert_eq!((f.header.seq, f.header.camera_id), (7, 2));
        assert_eq!(f.payload, msg[40..]);
        assert_eq!(r.in_flight(), 0);
        assert_eq!(r.buffered(), 0);
        assert_eq!(r.counters().frames, 1);
        assert_eq!(r.counters().chunks, parts.len() as u64);
    }

    #[test]
    fn reordered_duplicated_and_interleaved() {
        let a = frame_message(1, 0, 900);
        let b = frame_message(1, 5, 700); // same seq, other camera
        let c = frame_message(1, 0, 500); // same seq and camera, other source
        let mut ca = chunks(&a, 1, 0, 100);
        let mut cb = chunks(&b, 1, 5, 100);
        let cc = chunks(&c, 1, 0, 100);
        ca.reverse();
        cb.swap(0, 3);
        let mut r = reasm();
        let t = Instant::now();
        let mut got = Vec::new();
        let n = ca.len().max(cb.len()).max(cc.len());
        for i in 0..n {
            for (src, list) in [("x", &ca), ("x", &cb), ("y", &cc)] {
                if let Some(m) = list.get(i) {
                    if let Outcome::Frame(f) = r.push(&src, m, t) {
                        got.push((src, f));
                    }
                    // Every chunk arrives twice.
                    assert_eq!(r.push(&src, m, t), Outcome::Duplicate);
                }
            }
        }
        assert_eq!(got.len(), 3);
        for (src, f) in got {
            let expect = match (src, f.header.camera_id) {
                ("x", 0) => &a,
                ("x", 5) => &b,
                _ => &c,
            };
            assert_eq!(f.payload, expect[40..]);
        }
        let c = r.counters();
        assert_eq!(c.duplicates, (ca.len() + cb.len() + cc.len()) as u64);
        assert_eq!((c.frames, c.corrupt, c.incomplete), (3, 0, 0));
    }

    #[test]
    fn timeout_drops_incomplete_and_late_chunks_are_counted() {
        let msg = frame_message(3, 0, 600);
        let parts = chunks(&msg, 3, 0, 100);
        let mut r = reasm();
        let t0 = Instant::now();
        r.push(&"a", &parts[0], t0);
        r.push(&"a", &parts[1], t0);
        assert_eq!(r.expire(t0 + Duration::from_secs(1)), 0);
        assert_eq!(r.expire(t0 + Duration::from_secs(6)), 1);
        assert_eq!(r.in_flight(), 0);
        assert_eq!(r.buffered(), 0);
        assert_eq!((r.counters().timed_out, r.counters().incomplete), (1, 1));
        assert_eq!(
            r.push(&"a", &parts[2], t0 + Duration::from_secs(7)),
            Outcome::Late
        );
        assert_eq!(r.counters().late, 1);
        assert_eq!(r.in_flight(), 0, "a late chunk does not restart the frame");
    }

    #[test]
    fn push_expires_on_its_own() {
        let old = chunks(&frame_message(1, 0, 300), 1, 0, 100);
        let new = frame_message(2, 0, 10);
        let mut r = reasm();
        let t0 = Instant::now();
        r.push(&"a", &old[0], t0);
        delivered(r.push(&"a", &new, t0 + Duration::from_secs(10)));
        assert_eq!(r.counters().timed_out, 1);
    }

    #[test]
    fn newer_frames_supersede_the_oldest() {
        let mut r = reasm();
        let t = Instant::now();
        let firsts: Vec<Vec<u8>> = (0..6)
            .map(|seq| chunks(&frame_message(seq, 0, 300), seq, 0, 100).remove(0))
            .collect();
        for m in &firsts {
            assert_eq!(r.push(&"a", m, t), Outcome::Stored);
        }
        assert_eq!(r.in_flight(), 4);
        assert_eq!(r.counters().superseded, 2);
        // Seq 0 was dropped: its later chunks are late.
        let rest = chunks(&frame_message(0, 0, 300), 0, 0, 100);
        assert_eq!(r.push(&"a", &rest[1], t), Outcome::Late);
        // Another camera has its own budget.
        let other = chunks(&frame_message(0, 1, 300), 0, 1, 100);
        assert_eq!(r.push(&"a", &other[0], t), Outcome::Stored);
        assert_eq!(r.counters().superseded, 2);
    }

    #[test]
    fn budget_evicts_the_oldest_partial_frame_anywhere() {
        let first = |src: &str| {
            let _ = src;
            chunks(&frame_message(0, 0, 1000), 0, 0, 500).remove(0)
        };
        let data = first("a").len() - chunk::HEADER_LEN;
        let partial = PARTIAL_COST + 8 + PIECE_COST + data;
        // Room for two sources' partial frames and a third source, not more.
        let cap = 3 * (CAMERA_COST + partial) - 1;
        let budget = Budget::new(cap);
        let mut r: Reassembler<&str> = Reassembler::with_budget(
            Config {
                max_total: 1 << 20,
                ..Config::default()
            },
            budget.clone(),
        );
        let t = Instant::now();
        for (i, src) in ["a", "b", "c"].iter().enumerate() {
            let m = first(src);
            r.push(src, &m, t + Duration::from_millis(i as u64));
        }
        assert_eq!(r.in_flight(), 2);
        assert!(budget.used() <= cap && budget.peak() <= cap);
        assert_eq!((r.counters().evicted, r.counters().incomplete), (1, 1));
        // a's frame went: its next chunk is late.
        let rest = chunks(&frame_message(0, 0, 1000), 0, 0, 500);
        assert_eq!(r.push(&"a", &rest[1], t), Outcome::Late);
        assert_eq!(r.drop_all(t), 2);
        assert_eq!(r.counters().incomplete, 3);
        assert_eq!(r.buffered(), 0);
        assert_eq!(
            budget.used(),
            3 * CAMERA_COST,
            "only the sources' entries are left"
        );
        // Sources expire, and give their memory back.
        r.expire(t + Duration::from_secs(60));
        assert_eq!((r.sources(), budget.used()), (0, 0));
    }

    #[test]
    fn a_count_the_total_cannot_hold_is_refused_without_bookkeeping() {
        // The attack of issue 13: count 65535 chunks for a 41-byte frame.
        let m = first_chunk(65_535, 41, 1);
        let mut r = reasm();
        assert_eq!(r.push(&"a", &m, Instant::now()), Outcome::Refused);
        assert_eq!(r.counters().garbage, 1);
        assert_eq!((r.in_flight(), r.sources(), r.budget().used()), (0, 0, 0));
        // And a count too small for the transport's MTU can never complete.
        let mut r: Reassembler<&str> = Reassembler::new(Config {
            max_chunk_data: 100,
            ..Config::default()
        });
        let m = first_chunk(2, 1000, 100);
        assert_eq!(r.push(&"a", &m, Instant::now()), Outcome::Refused);
    }

    #[test]
    fn memory_follows_bytes_received_not_the_total_claimed() {
        // One chunk of a frame claiming 16 MiB costs its data plus a
        // bounded bookkeeping, not 16 MiB.
        let total = 16 << 20;
        let m = first_chunk(65_535, total, 1000);
        let mut r: Reassembler<&str> = Reassembler::new(Config::default());
        // 16 MiB / 65 535 chunks > 1000 bytes: this chunk is not the layout
        // of any sender, but each chunk still only costs what it carries.
        let out = r.push(&"a", &m, Instant::now());
        assert_eq!(out, Outcome::Stored);
        assert!(r.budget().used() < 16 * 1024, "{}", r.budget().used());
    }

    #[test]
    fn oversize_total_refused_before_allocation() {
        let mut r: Reassembler<&str> = Reassembler::new(Config {
            max_total: 1000,
            ..Config::default()
        });
        let repr = ChunkHeaderRepr {
            flags: 0,
            seq: 1,
            camera_id: 0,
            index: 0,
            count: 2,
            offset: 0,
            total: u32::MAX,
        };
        let mut m = vec![0; chunk::HEADER_LEN];
        repr.emit(&mut m);
        m.extend([1; 10]);
        assert_eq!(r.push(&"a", &m, Instant::now()), Outcome::Refused);
        assert_eq!((r.counters().oversize, r.counters().garbage), (1, 1));
        assert_eq!(r.buffered(), 0);
        // Whole frames too.
        let big = frame_message(2, 0, 2000);
        assert_eq!(r.push(&"a", &big, Instant::now()), Outcome::Refused);
        assert_eq!(r.counters().oversize, 2);
    }

    #[test]
    fn inconsistent_chunk_drops_the_frame() {
        let msg = frame_message(4, 0, 400);
        let parts = chunks(&msg, 4, 0, 100);
        let liar = chunks(&frame_message(4, 0, 500), 4, 0, 100);
        let mut r = reasm();
        let t = Instant::now();
        r.push(&"a", &parts[0], t);
        assert_eq!(r.push(&"a", &liar[1], t), Outcome::Dropped);
        assert_eq!(r.counters().corrupt, 1);
        assert_eq!(r.in_flight(), 0);
        assert_eq!(r.push(&"a", &parts[1], t), Outcome::Late);
    }

    #[test]
    fn payload_crc_checked_after_reassembly() {
        let mut msg = frame_message(9, 0, 400);
        msg[300] ^= 0xFF;
        let parts = chunks(&msg, 9, 0, 100);
        let mut r = reasm();
        let t = Instant::now();
        let outcomes: Vec<_> = parts.iter().map(|p| r.push(&"a", p, t)).collect();
        assert_eq!(outcomes.last(), Some(&Outcome::Dropped));
        assert_eq!(r.counters().crc_errors, 1);
        assert_eq!(r.counters().frames, 0);
        // The frame was complete: a repeat of a chunk is a duplicate.
        assert_eq!(r.push(&"a", &parts[0], t), Outcome::Duplicate);
    }

    #[test]
    fn chunk_for_another_frame_is_a_bad_header() {
        // Chunks say seq 5, the frame inside says seq 6.
        let msg = frame_message(6, 0, 100);
        let parts = chunks(&msg, 5, 0, 100);
        let mut r = reasm();
        let t = Instant::now();
        let last = parts.iter().map(|p| r.push(&"a", p, t)).last().unwrap();
        assert_eq!(last, Outcome::Dropped);
        assert_eq!(r.counters().bad_headers, 1);
    }

    #[test]
    fn garbage_is_refused_and_counted() {
        let mut r = reasm();
        let t = Instant::now();
        let good = chunks(&frame_message(1, 0, 300), 1, 0, 100);
        let mut bad_crc = good[0].clone();
        bad_crc[9] ^= 1;
        let mut no_data = good[0].clone();
        no_data.truncate(chunk::HEADER_LEN);
        for m in [
            &b"hello"[..],
            b"IMGC",
            &bad_crc,
            &no_data,
            b"\xff\xd8\xff\xe0",
        ] {
            assert_eq!(r.push(&"a", m, t), Outcome::Refused);
        }
        assert_eq!(r.counters().garbage, 5);
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn whole_frames_and_their_repeats() {
        let mut r = reasm();
        let t = Instant::now();
        let m = frame_message(1, 0, 50);
        assert_eq!(delivered(r.push(&"a", &m, t)).payload, m[40..]);
        assert_eq!(r.push(&"a", &m, t), Outcome::Duplicate);
        assert!(
            matches!(r.push(&"b", &m, t), Outcome::Frame(_)),
            "other source"
        );
        let mut bad = frame_message(3, 0, 50);
        bad[45] ^= 1;
        assert_eq!(r.push(&"a", &bad, t), Outcome::Dropped);
        assert_eq!(r.counters().crc_errors, 1);
        assert_eq!(
            r.push(&"a", &frame_message(2, 0, 50)[..60], t),
            Outcome::Refused
        );
        assert_eq!(r.counters().bad_headers, 1, "length mismatch");
    }

    #[test]
    fn single_chunk_frame_completes_at_once_and_repeat_is_duplicate() {
        let msg = frame_message(1, 0, 20);
        let parts = chunks(&msg, 1, 0, 1000);
        assert_eq!(parts.len(), 1);
        let mut r = reasm();
        let t = Instant::now();
        delivered(r.push(&"a", &parts[0], t));
        assert_eq!(r.push(&"a", &parts[0], t), Outcome::Duplicate);
        // Long after, the same bytes are a new frame (sender restarted).
        let later = t + Duration::from_secs(60);
        delivered(r.push(&"a", &parts[0], later));
    }

    #[test]
    fn restarted_sender_reusing_seqs_is_not_a_duplicate() {
        let mut r = reasm();
        let t = Instant::now();
        // Same seq and size, another timestamp: what a rebooted board sends.
        let first = frame_message(1, 0, 300);
        let mut reborn = vec![0; 40];
        FrameHeaderRepr {
            timestamp_us: 999_999,
            ..FrameHeaderRepr::parse(&first).unwrap()
        }
        .emit(&mut reborn);
        reborn.extend_from_slice(&first[40..]);
        for msg in [&first, &reborn] {
            let parts = chunks(msg, 1, 0, 100);
            let out: Vec<_> = parts.iter().map(|p| r.push(&"a", p, t)).collect();
            assert!(matches!(out.last(), Some(Outcome::Frame(_))), "{out:?}");
            // An exact repeat of any chunk is still a duplicate.
            assert_eq!(r.push(&"a", &parts[0], t), Outcome::Duplicate);
            assert_eq!(r.push(&"a", &parts[2], t), Outcome::Duplicate);
        }
        // Whole frames likewise.
        let w1 = frame_message(7, 0, 50);
        let mut w2 = vec![0; 40];
        FrameHeaderRepr {
            timestamp_us: 5,
            ..FrameHeaderRepr::parse(&w1).unwrap()
        }
        .emit(&mut w2);
        w2.extend_from_slice(&w1[40..]);
        assert!(matches!(r.push(&"b", &w1, t), Outcome::Frame(_)));
        assert_eq!(r.push(&"b", &w1, t), Outcome::Duplicate);
        assert!(matches!(r.push(&"b", &w2, t), Outcome::Frame(_)));
        assert_eq!(r.counters().frames, 4);
    }

    #[test]
    fn classify_by_first_bytes() {
        assert_eq!(classify(b"IMGC...."), MessageKind::Chunk);
        assert_eq!(classify(b"IMGS...."), MessageKind::Frame);
        assert_eq!(classify(b"\xff\xd8\xff"), MessageKind::RawJpeg);
        assert_eq!(classify(b"IMG"), MessageKind::Unknown);
    }
}
