//! The protocol test vectors in `tests/vectors/`: generated here, checked
//! here with a reference receiver built on `framing::decide` and
//! `chunk::parse_message`, and checked again by the independent Python
//! decoder (`tests/host/test_protocol_vectors.py`).
//!
//! `IMG_STREAM_REGEN_VECTORS=1 cargo test -p img-stream-core --test vectors`
//! rewrites the files. Otherwise the committed files must equal what the
//! generator produces, and the reference receiver must reproduce every
//! expectation written in the JSON descriptions. The tiny JPEG payload is
//! encoded once and then read back from `tiny.jpg`, so an encoder upgrade does
//! not change the vectors.
//!
//! `docs/PROTOCOL.md` ("Test vectors") documents the JSON fields.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use img_stream_core::chunk::{self, ChunkHeader, ChunkHeaderRepr};
use img_stream_core::framing::{
    self, Decision, Discard, FrameHeader, FrameHeaderRepr, DEFAULT_MAX_PAYLOAD, HEADER_LEN,
};
use serde_json::{json, Map, Value};

const DEFAULT_MAX_PENDING: usize = 4;
/// Finished frames remembered per (source, camera) to classify stragglers.
const RECENT_KEYS: usize = 32;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

// ---------------------------------------------------------------- generation

/// xorshift64*: reproducible bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Random bytes that never contain either magic, so resynchronisation
    /// only ever finds the headers a vector places on purpose.
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v: Vec<u8> = (0..n).map(|_| (self.next() >> 56) as u8).collect();
        for b in v.iter_mut() {
            if *b == b'I' {
                // 'I' could start a magic (also across a vector boundary).
                *b = b'i';
            }
        }
        v
    }
}

fn tiny_jpeg() -> Vec<u8> {
    let path = vectors_dir().join("tiny.jpg");
    if let Ok(bytes) = std::fs::read(&path) {
        return bytes;
    }
    // A 16x8 grey gradient: small, but a real baseline JPEG any decoder opens.
    let pixels: Vec<u8> = (0..16 * 8)
        .map(|i| ((i % 16) * 16 + (i / 16) * 4) as u8)
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 50)
        .encode(&pixels, 16, 8, jpeg_encoder::ColorType::Luma)
        .unwrap();
    out
}

fn repr(
    seq: u32,
    ts: u64,
    w: u16,
    h: u16,
    format: u8,
    cam: u16,
    payload: &[u8],
) -> FrameHeaderRepr {
    FrameHeaderRepr {
        format,
        ..FrameHeaderRepr::jpeg(seq, ts, w, h, cam, payload)
    }
}

fn frame_bytes(r: &FrameHeaderRepr, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8; HEADER_LEN];
    r.emit(&mut v);
    v.extend_from_slice(payload);
    v
}

/// A header of another version, `header_len` long, with a valid CRC.
fn other_version_frame(
    version: u8,
    header_len: u8,
    r: &FrameHeaderRepr,
    payload: &[u8],
) -> Vec<u8> {
    let mut v = vec![0u8; header_len as usize];
    r.emit(&mut v[..HEADER_LEN]);
    v[HEADER_LEN - 4..].fill(0xAB);
    let mut h = FrameHeader::new_unchecked(&mut v[..]);
    h.set_version(version);
    h.set_header_len(header_len);
    h.fill_header_crc();
    v.extend_from_slice(payload);
    v
}

fn frame_json(r: &FrameHeaderRepr) -> Map<String, Value> {
    let v = json!({
        "seq": r.seq,
        "timestamp_us": r.timestamp_us,
        "width": r.width,
        "height": r.height,
        "format": r.format,
        "camera_id": r.camera_id,
        "flags": r.flags,
        "payload_len": r.payload_len,
        "payload_crc": r.payload_crc,
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

struct Vector {
    name: &'static str,
    bin: Vec<u8>,
    desc: Value,
}

/// Builds a byte stream and remembers where each delivered frame starts.
#[derive(Default)]
struct StreamBuilder {
    bin: Vec<u8>,
    frames: Vec<Value>,
    garbage: usize,
}

impl StreamBuilder {
    fn good(&mut self, r: &FrameHeaderRepr, payload: &[u8]) {
        let mut m = frame_json(r);
        m.insert("offset".into(), json!(self.bin.len()));
        self.frames.push(Value::Object(m));
        self.bin.extend(frame_bytes(r, payload));
    }
    /// Bytes the receiver discards while resynchronising.
    fn garbage(&mut self, bytes: &[u8]) {
        self.garbage += bytes.len();
        self.bin.extend_from_slice(bytes);
    }
    /// Bytes the receiver consumes as a rejected frame (CRC error, skip).
    fn consumed(&mut self, bytes: &[u8]) {
        self.bin.extend_from_slice(bytes);
    }
}

/// The stream decoder's refusal counters; a vector names the ones it
/// expects to be non-zero.
const STREAM_COUNTERS: [&str; 5] = [
    "crc_errors",
    "bad_headers",
    "unsupported",
    "oversize",
    "truncated",
];

fn stream_vector(
    name: &'static str,
    description: &str,
    max_payload: u32,
    b: StreamBuilder,
    expected: &[(&str, u64)],
) -> Vector {
    let mut counters = json!({ "frames": b.frames.len(), "garbage_bytes": b.garbage });
    for counter in STREAM_COUNTERS {
        counters[counter] = json!(0);
    }
    for &(counter, n) in expected {
        assert!(STREAM_COUNTERS.contains(&counter), "no counter {counter}");
        counters[counter] = json!(n);
    }
    let desc = json!({
        "name": name,
        "description": description,
        "kind": "stream",
        "file": format!("{name}.bin"),
        "max_payload": max_payload,
        "expected": {
            "frames": b.frames,
            "counters": counters,
        },
    });
    Vector {
        name,
        bin: b.bin,
        desc,
    }
}

/// Builds a list of chunk messages.
#[derive(Default)]
struct ChunkBuilder {
    messages: Vec<(String, Vec<u8>)>,
}

impl ChunkBuilder {
    fn push(&mut self, source: &str, msg: Vec<u8>) {
        self.messages.push((source.into(), msg));
    }

    /// Pushes every chunk of `frame` (as seq `seq` of camera `cam`) from
    /// source "a"; returns how many.
    fn push_frame(&mut self, frame: &[u8], seq: u32, cam: u16, max_message: usize) -> u64 {
        let parts = chunks_of(frame, seq, cam, max_message);
        let n = parts.len() as u64;
        for m in parts {
            self.push("a", m);
        }
        n
    }
}

/// The chunk messages of one frame message, in index order.
fn chunks_of(frame: &[u8], seq: u32, cam: u16, max_message: usize) -> Vec<Vec<u8>> {
    let plan = chunk::plan(frame.len(), max_message).unwrap();
    plan.iter()
        .map(|c| {
            let mut m = vec![0u8; c.message_len()];
            plan.repr(&c, seq, cam).emit(&mut m);
            m[chunk::HEADER_LEN..].copy_from_slice(&frame[c.range()]);
            m
        })
        .collect()
}

#[derive(Default, Clone, Copy)]
struct ChunkCounts {
    chunks: u64,
    garbage: u64,
    unsupported: u64,
    duplicates: u64,
    late: u64,
    corrupt: u64,
    incomplete: u64,
    crc_errors: u64,
    bad_headers: u64,
}

fn chunk_vector(
    name: &'static str,
    description: &str,
    max_pending: usize,
    b: ChunkBuilder,
    frames: &[(&str, FrameHeaderRepr)],
    c: ChunkCounts,
) -> Vector {
    let mut bin = Vec::new();
    let mut messages = Vec::new();
    for (source, m) in &b.messages {
        messages.push(json!({"offset": bin.len(), "len": m.len(), "source": source}));
        bin.extend_from_slice(m);
    }
    let frames: Vec<Value> = frames
        .iter()
        .map(|(source, r)| {
            let mut m = frame_json(r);
            m.insert("source".into(), json!(source));
            Value::Object(m)
        })
        .collect();
    let desc = json!({
        "name": name,
        "description": description,
        "kind": "chunks",
        "file": format!("{name}.bin"),
        "max_payload": DEFAULT_MAX_PAYLOAD,
        "max_pending": max_pending,
        "messages": messages,
        "expected": {
            "frames": frames,
            "counters": {
                "chunks": c.chunks,
                "frames": frames.len(),
                "garbage": c.garbage,
                "unsupported": c.unsupported,
                "duplicates": c.duplicates,
                "late": c.late,
                "corrupt": c.corrupt,
                "incomplete": c.incomplete,
                "crc_errors": c.crc_errors,
                "bad_headers": c.bad_headers,
            },
        },
    });
    Vector { name, bin, desc }
}

fn generate() -> Vec<Vector> {
    let jpeg = tiny_jpeg();
    let mut rng = Rng(0x005E_ED0F_1A6E_5EED);
    let mut out = Vec::new();

    // --- single headers, for parse_header()
    let golden_payload = [0xFF, 0xD8, 0xFF, 0xD9];
    let golden = repr(
        0x1234_5678,
        0x1122_3344_5566_7788,
        640,
        480,
        9,
        3,
        &golden_payload,
    );
    let mut h = vec![0u8; HEADER_LEN];
    golden.emit(&mut h);
    out.push(Vector {
        name: "header_golden",
        desc: json!({
            "name": "header_golden",
            "description": "One v1 frame header on its own (its payload would be FF D8 FF D9).",
            "kind": "header",
            "file": "header_golden.bin",
            "expected": {"header": frame_json(&golden)},
        }),
        bin: h.clone(),
    });
    let mut bad = h.clone();
    bad[20] ^= 0x01;
    out.push(Vector {
        name: "header_bad_crc",
        desc: json!({
            "name": "header_bad_crc",
            "description": "header_golden with one bit of the width flipped: the header CRC fails.",
            "kind": "header",
            "file": "header_bad_crc.bin",
            "expected": {"error": "bad_header_crc"},
        }),
        bin: bad,
    });
    let v2 = other_version_frame(2, 48, &golden, &[]);
    out.push(Vector {
        name: "header_v2",
        desc: json!({
            "name": "header_v2",
            "description": "A version 2 header, 48 bytes long, with a valid CRC in its last 4 bytes.",
            "kind": "header",
            "file": "header_v2.bin",
            "expected": {"error": "unsupported_version", "version": 2, "header_len": 48, "payload_len": 4},
        }),
        bin: v2,
    });

    // --- streams
    let mut b = StreamBuilder::default();
    b.good(&repr(0, 0, 0, 0, 9, 0, &[]), &[]);
    out.push(stream_vector(
        "frame_empty",
        "One frame with an empty payload.",
        DEFAULT_MAX_PAYLOAD,
        b,
        &[],
    ));

    let mut b = StreamBuilder::default();
    b.good(&repr(1, 1_000_000, 16, 8, 9, 0, &jpeg), &jpeg);
    out.push(stream_vector(
        "frame_tiny_jpeg",
        "One frame carrying tiny.jpg (a real 16x8 greyscale baseline JPEG).",
        DEFAULT_MAX_PAYLOAD,
        b,
        &[],
    ));

    let mut b = StreamBuilder::default();
    for (i, (len, format)) in [(1, 9), (63, 1), (64, 1), (65, 9), (4096, 4), (70_001, 9)]
        .into_iter()
        .enumerate()
    {
        let p = rng.bytes(len);
        let r = repr(
            100 + i as u32,
            5_000_000 + 33_333 * i as u64,
            640,
            480,
            format,
            i as u16 % 2,
            &p,
        );
        b.good(&r, &p);
    }
    out.push(stream_vector(
        "frames_sizes",
        "Six back-to-back frames with payloads of 1, 63, 64, 65, 4096 and 70001 bytes.",
        DEFAULT_MAX_PAYLOAD,
        b,
        &[],
    ));

    let mut b = StreamBuilder::default();
    b.garbage(b"hello, garbage before the first frame\r\n");
    b.good(&repr(7, 700, 16, 8, 9, 0, &jpeg), &jpeg);
    b.garbage(b"IM");
    b.garbage(b"IMG");
    b.garbage(b"IMGx");
    // "IMGS" with header_len 10: a bad header, then its tail is garbage.
    b.garbage(b"IMGS\x01\x0a");
    b.garbage(&rng.bytes(20));
    let p = rng.bytes(300);
    b.good(&repr(8, 800, 320, 240, 9, 0, &p), &p);
    // "IMGS", version 1, header_len 40, then 34 random bytes: the CRC fails.
    let mut fake = b"IMGS\x01\x28".to_vec();
    fake.extend(rng.bytes(34));
    b.garbage(&fake);
    b.good(&repr(9, 900, 16, 8, 9, 0, &jpeg), &jpeg);
    b.garbage(b"trailing garbage!");
    out.push(stream_vector(
        "stream_garbage",
        "Garbage, partial magics and two fake headers (header_len 10; bad CRC) between three \
         good frames: the receiver resynchronises each time.",
        DEFAULT_MAX_PAYLOAD,
        b,
        &[("bad_headers", 2)],
    ));

    let mut b = StreamBuilder::default();
    b.good(&repr(1, 10, 16, 8, 9, 0, &jpeg), &jpeg);
    let mut broken = frame_bytes(&repr(2, 20, 16, 8, 9, 0, &jpeg), &jpeg);
    broken[HEADER_LEN + jpeg.len() / 2] ^= 0x04;
    b.consumed(&broken);
    b.good(&repr(3, 30, 16, 8, 9, 0, &jpeg), &jpeg);
    out.push(stream_vector(
        "frame_bad_payload_crc",
        "Three frames; one bit of the second frame's payload is flipped: a CRC error, and the \
         receiver continues right after that payload.",
        DEFAULT_MAX_PAYLOAD,
        b,
        &[("crc_errors", 1)],
    ));

    let mut b = StreamBuilder::default();
    let p = rng.bytes(200);
    b.good(&repr(1, 10, 64, 48, 9, 0, &p), &p);
    let p = rng.bytes(200);
    let mut broken = frame_bytes(&repr(2, 20, 64, 48, 9, 0, &p), &p);
    broken[21] ^= 0x80;
    b.garbage(&broken);
    let p = rng.bytes(200);
    b.good(&repr(3, 30, 64, 48, 9, 0, &p), &p);
    let p = rng.bytes(200);
    let mut short = frame_bytes(&repr(4, 40, 64, 48, 9, 0, &p), &p);
    short[5] = 20;
    b.garbage(&short);
    let p = rng.bytes(200);
    b.good(&repr(5, 50, 64, 48, 9, 0, &p), &p);
    out.push(stream_vector(
        "frame_bad_header",
        "Five frames; frame 2 has a flipped header bit (header CRC fails) and frame 4 claims \
         header_len 20: both are bad headers, their bytes are scanned as garbage.",
        DEFAULT_MAX_PAYLOAD,
        b,
        &[("bad_headers", 2)],
    ));

    let mut b = StreamBuilder::default();
    b.good(&repr(1, 10, 16, 8, 9, 0, &jpeg), &jpeg);
    // The unknown frame's payload is itself a valid v1 frame: a receiver
    // that skips correctly never sees it.
    let inner = frame_bytes(&repr(999, 99, 16, 8, 9, 0, &jpeg), &jpeg);
    b.consumed(&other_version_frame(
        2,
        48,
        &repr(2, 20, 16, 8, 9, 0, &inner),
        &inner,
    ));
    b.good(&repr(3, 30, 16, 8, 9, 0, &jpeg), &jpeg);
    out.push(stream_vector(
        "frame_v2",
        "A version 2 frame (48-byte header) between two v1 frames; its payload is a complete v1 \
         frame (seq 999) that must not be delivered.",
        DEFAULT_MAX_PAYLOAD,
        b,
        &[("unsupported", 1)],
    ));

    let mut b = StreamBuilder::default();
    let huge = FrameHeaderRepr {
        payload_len: DEFAULT_MAX_PAYLOAD + 1,
        ..repr(1, 10, 8000, 8000, 9, 0, &[])
    };
    let mut h = vec![0u8; HEADER_LEN];
    huge.emit(&mut h);
    b.garbage(&h);
    b.garbage(&rng.bytes(64));
    b.good(&repr(2, 20, 16, 8, 9, 0, &jpeg), &jpeg);
    out.push(stream_vector(
        "frame_oversize",
        "A valid header announcing 16 MiB + 1 payload bytes (over the default limit), followed \
         by 64 other bytes and a good frame: refused without allocating, resync from magic + 1.",
        DEFAULT_MAX_PAYLOAD,
        b,
        &[("oversize", 1)],
    ));

    let mut b = StreamBuilder::default();
    let p = rng.bytes(1000);
    b.good(&repr(1, 10, 64, 48, 9, 0, &p), &p);
    let p = rng.bytes(1001);
    b.garbage(&frame_bytes(&repr(2, 20, 64, 48, 9, 0, &p), &p));
    let p = rng.bytes(10);
    b.good(&repr(3, 30, 64, 48, 9, 0, &p), &p);
    out.push(stream_vector(
        "frame_over_limit",
        "With max_payload 1000: payloads of 1000 (accepted), 1001 (oversize; its bytes are \
         scanned as garbage) and 10 bytes.",
        1000,
        b,
        &[("oversize", 1)],
    ));

    let mut b = StreamBuilder::default();
    b.good(&repr(1, 10, 16, 8, 9, 0, &jpeg), &jpeg);
    let cut = frame_bytes(&repr(2, 20, 16, 8, 9, 0, &jpeg), &jpeg);
    b.consumed(&cut[..HEADER_LEN + 10]);
    out.push(stream_vector(
        "stream_truncated",
        "A good frame, then a frame cut off 10 bytes into its payload by the end of the input.",
        DEFAULT_MAX_PAYLOAD,
        b,
        &[("truncated", 1)],
    ));

    let mut b = StreamBuilder::default();
    for i in 0..12u32 {
        let seq = 0xFFFF_FFFA_u32.wrapping_add(i);
        let cam = (i % 3) as u16;
        if i % 4 == 1 {
            let n = 1 + (rng.next() % 50) as usize;
            let g = rng.bytes(n);
            b.garbage(&g);
        }
        if i % 2 == 0 {
            b.good(&repr(seq, 1_000 * i as u64, 16, 8, 9, cam, &jpeg), &jpeg);
        } else {
            let n = (rng.next() % 3000) as usize;
            let p = rng.bytes(n);
            b.good(&repr(seq, 1_000 * i as u64, 80, 60, 9, cam, &p), &p);
        }
    }
    out.push(stream_vector(
        "stream_many",
        "Twelve frames from three cameras with garbage between some; seq wraps from \
         0xFFFFFFFA through 0 to 5.",
        DEFAULT_MAX_PAYLOAD,
        b,
        &[],
    ));

    // --- chunks
    let f5 = repr(5, 5_000, 16, 8, 9, 0, &jpeg);
    let frame5 = frame_bytes(&f5, &jpeg);
    let f6 = repr(6, 6_000, 0, 0, 9, 0, &[]);
    let mut b = ChunkBuilder::default();
    let parts = chunks_of(&frame5, 5, 0, 100);
    let n5 = parts.len() as u64;
    for m in parts {
        b.push("a", m);
    }
    for m in chunks_of(&frame_bytes(&f6, &[]), 6, 0, 100) {
        b.push("a", m);
    }
    out.push(chunk_vector(
        "chunks_in_order",
        "tiny.jpg's frame cut into 100-byte chunk messages, in order, then an empty-payload \
         frame in a single chunk.",
        DEFAULT_MAX_PENDING,
        b,
        &[("a", f5), ("a", f6)],
        ChunkCounts {
            chunks: n5 + 1,
            ..Default::default()
        },
    ));

    // Four frames with overlapping keys: (a,cam0,10), (a,cam0,11), (a,cam1,10),
    // (b,cam0,10); their chunks shuffled together.
    let specs: [(&str, u16, u32); 4] = [("a", 0, 10), ("a", 0, 11), ("a", 1, 10), ("b", 0, 10)];
    let mut all: Vec<(usize, String, Vec<u8>)> = Vec::new();
    let mut reprs = Vec::new();
    for (k, (src, cam, seq)) in specs.iter().enumerate() {
        let p = rng.bytes(150 + 37 * k);
        let r = repr(*seq, 10_000 + k as u64, 32, 24, 9, *cam, &p);
        reprs.push(r);
        for m in chunks_of(&frame_bytes(&r, &p), *seq, *cam, 64) {
            all.push((k, src.to_string(), m));
        }
    }
    for i in (1..all.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        all.swap(i, j);
    }
    // Frames complete when their last chunk arrives.
    let mut last_at: Vec<(usize, usize)> = (0..specs.len())
        .map(|k| (all.iter().rposition(|(f, _, _)| *f == k).unwrap(), k))
        .collect();
    last_at.sort();
    let expected: Vec<(&str, FrameHeaderRepr)> = last_at
        .iter()
        .map(|&(_, k)| (specs[k].0, reprs[k]))
        .collect();
    let total_chunks = all.len() as u64;
    let mut b = ChunkBuilder::default();
    for (_, src, m) in all {
        b.push(&src, m);
    }
    out.push(chunk_vector(
        "chunks_reordered",
        "Four frames (sources a and b, cameras 0 and 1, seq 10 and 11) in 64-byte chunk \
         messages, shuffled together; frames are delivered in order of completion.",
        DEFAULT_MAX_PENDING,
        b,
        &expected,
        ChunkCounts {
            chunks: total_chunks,
            ..Default::default()
        },
    ));

    let p = rng.bytes(300);
    let f = repr(20, 20_000, 32, 24, 9, 0, &p);
    let parts = chunks_of(&frame_bytes(&f, &p), 20, 0, 100);
    let mut b = ChunkBuilder::default();
    b.push("a", parts[0].clone());
    b.push("a", parts[1].clone());
    b.push("a", parts[1].clone());
    b.push("a", parts[0].clone());
    for m in &parts[2..] {
        b.push("a", m.clone());
    }
    b.push("a", parts[2].clone());
    out.push(chunk_vector(
        "chunks_duplicates",
        "A frame whose chunks 1 and 0 arrive twice before it completes and chunk 2 once more \
         after: three duplicates, one frame.",
        DEFAULT_MAX_PENDING,
        b,
        &[("a", f)],
        ChunkCounts {
            chunks: parts.len() as u64,
            duplicates: 3,
            ..Default::default()
        },
    ));

    let p = rng.bytes(300);
    let fa = repr(30, 30_000, 32, 24, 9, 0, &p);
    let parts_a = chunks_of(&frame_bytes(&fa, &p), 30, 0, 100);
    let p = rng.bytes(300);
    let fb = repr(31, 31_000, 32, 24, 9, 0, &p);
    let parts_b = chunks_of(&frame_bytes(&fb, &p), 31, 0, 100);
    let mut b = ChunkBuilder::default();
    for (i, m) in parts_a.iter().enumerate() {
        if i != 2 {
            b.push("a", m.clone());
        }
    }
    for m in &parts_b {
        b.push("a", m.clone());
    }
    out.push(chunk_vector(
        "chunks_missing",
        "Frame 30 lacks chunk 2 and never completes (counted incomplete when the input ends); \
         frame 31 is complete.",
        DEFAULT_MAX_PENDING,
        b,
        &[("a", fb)],
        ChunkCounts {
            chunks: (parts_a.len() - 1 + parts_b.len()) as u64,
            incomplete: 1,
            ..Default::default()
        },
    ));

    let mut parts = Vec::new();
    let mut reprs = Vec::new();
    for seq in 40..44u32 {
        let p = rng.bytes(200);
        let r = repr(seq, seq as u64 * 1000, 32, 24, 9, 0, &p);
        parts.push(chunks_of(&frame_bytes(&r, &p), seq, 0, 100));
        reprs.push(r);
    }
    let mut b = ChunkBuilder::default();
    let mut stored = 0u64;
    for f in &parts[..3] {
        for m in &f[..f.len() - 1] {
            b.push("a", m.clone());
            stored += 1;
        }
    }
    b.push("a", parts[0].last().unwrap().clone());
    for m in &parts[3] {
        b.push("a", m.clone());
        stored += 1;
    }
    out.push(chunk_vector(
        "chunks_superseded",
        "With max_pending 2: frames 40, 41, 42 each lack their last chunk. Frame 42 starting \
         drops 40 (incomplete), 40's last chunk then arrives late, frame 43 starting drops 41; \
         43 completes; 42 is dropped when the input ends.",
        2,
        b,
        &[("a", reprs[3])],
        ChunkCounts {
            chunks: stored,
            late: 1,
            incomplete: 3,
            ..Default::default()
        },
    ));

    let mut b = ChunkBuilder::default();
    let mut stored = 0;
    let mut good = Vec::new();
    for (k, seq) in [50u32, 51, 52].into_iter().enumerate() {
        let p = rng.bytes(200);
        let r = repr(seq, seq as u64, 32, 24, 9, 0, &p);
        let parts = chunks_of(&frame_bytes(&r, &p), seq, 0, 100);
        for (i, m) in parts.iter().enumerate() {
            let mut m = m.clone();
            if i == 1 && k < 2 {
                let mut h = ChunkHeader::new_unchecked(&mut m[..]);
                if k == 0 {
                    let t = h.total();
                    h.set_total(t + 1);
                } else {
                    let c = h.count();
                    h.set_count(c + 1);
                }
                h.fill_header_crc();
            } else {
                stored += 1;
            }
            b.push("a", m);
        }
        if k == 2 {
            good.push(("a", r));
        }
    }
    out.push(chunk_vector(
        "chunks_inconsistent",
        "Frame 50's chunk 1 claims total + 1, frame 51's chunk 1 claims count + 1 (both with \
         valid header CRCs): each frame is dropped as corrupt and its later chunks arrive late. \
         Frame 52 is fine.",
        DEFAULT_MAX_PENDING,
        b,
        &good,
        ChunkCounts {
            // Frames 50 and 51: chunk 0 stored; chunks 2.. late.
            chunks: stored - 2 * (parts_count(200, 100) as u64 - 2),
            corrupt: 2,
            late: 2 * (parts_count(200, 100) as u64 - 2),
            ..Default::default()
        },
    ));

    let mut b = ChunkBuilder::default();
    let p = rng.bytes(100);
    let r = repr(60, 60, 32, 24, 9, 0, &p);
    let whole = frame_bytes(&r, &p);
    let good_msg = chunks_of(&whole, 60, 0, 1000).remove(0);
    let hdr = ChunkHeaderRepr::parse(&good_msg).unwrap();
    b.push("a", rng.bytes(80));
    let mut m = good_msg.clone();
    m[30] ^= 0xFF;
    b.push("a", m);
    let mut m = good_msg.clone();
    m[0] = b'X';
    b.push("a", m);
    b.push("a", good_msg[..10].to_vec());
    for bad in [
        ChunkHeaderRepr { index: 1, ..hdr },
        ChunkHeaderRepr { offset: 1, ..hdr },
        ChunkHeaderRepr {
            total: 39,
            offset: 0,
            ..hdr
        },
        ChunkHeaderRepr {
            total: DEFAULT_MAX_PAYLOAD + HEADER_LEN as u32 + 1,
            ..hdr
        },
    ] {
        let mut m = good_msg.clone();
        bad.emit(&mut m);
        if bad.total == 39 {
            m.truncate(chunk::HEADER_LEN + 39);
        }
        b.push("a", m);
    }
    b.push("a", good_msg[..chunk::HEADER_LEN].to_vec());
    let mut v2 = vec![0u8; 40];
    hdr.emit(&mut v2);
    let mut h = ChunkHeader::new_unchecked(&mut v2[..]);
    h.set_version(2);
    h.set_header_len(40);
    h.fill_header_crc();
    v2.extend_from_slice(&whole);
    b.push("a", v2);
    b.push("a", good_msg);
    out.push(chunk_vector(
        "chunks_garbage",
        "Rejected messages, then one good single-chunk frame: random bytes, bad header CRC, bad \
         magic, a 10-byte message, index >= count, offset + data past total, total < 40, total \
         over the limit, no data; and a version 2 chunk (unsupported).",
        DEFAULT_MAX_PENDING,
        b,
        &[("a", r)],
        ChunkCounts {
            chunks: 1,
            garbage: 9,
            unsupported: 1,
            ..Default::default()
        },
    ));

    let mut b = ChunkBuilder::default();
    let p = rng.bytes(250);
    let r = repr(70, 70, 32, 24, 9, 0, &p);
    let mut f = frame_bytes(&r, &p);
    f[HEADER_LEN + 100] ^= 0x01;
    let mut stored = b.push_frame(&f, 70, 0, 100);
    let r71 = repr(71, 71, 32, 24, 9, 0, &p);
    let mut f = frame_bytes(&r71, &p);
    f[8] ^= 0x01;
    stored += b.push_frame(&f, 71, 0, 100);
    let r72 = repr(72, 72, 32, 24, 9, 0, &p);
    let mut f = frame_bytes(&r72, &p);
    f.extend_from_slice(b"extra");
    stored += b.push_frame(&f, 72, 0, 100);
    let r73 = repr(73, 73, 32, 24, 9, 0, &p);
    stored += b.push_frame(&frame_bytes(&r73, &p), 73, 0, 100);
    out.push(chunk_vector(
        "chunks_bad_frame",
        "Four frames whose chunks are all fine: 70's payload has a flipped bit (CRC error), 71's \
         frame header has a flipped bit (bad header), 72's chunks carry 5 bytes more than \
         40 + payload_len (bad header), 73 is good.",
        DEFAULT_MAX_PENDING,
        b,
        &[("a", r73)],
        ChunkCounts {
            chunks: stored,
            crc_errors: 1,
            bad_headers: 2,
            ..Default::default()
        },
    ));

    // --- count bounded by total
    let mut b = ChunkBuilder::default();
    for seq in 0..3u32 {
        let mut m = vec![0u8; chunk::HEADER_LEN + 1];
        ChunkHeaderRepr {
            flags: 0,
            seq,
            camera_id: 0,
            index: 0,
            count: 65_535,
            offset: 0,
            total: 41,
        }
        .emit(&mut m);
        m[chunk::HEADER_LEN] = 0xAA;
        b.push("a", m);
    }
    // A 41-byte frame (1-byte payload) cut into 41 one-byte chunks: legal.
    let p = [0xD8u8];
    let r90 = repr(90, 90, 1, 1, 9, 0, &p);
    let f = frame_bytes(&r90, &p);
    let one_byte = chunks_of(&f, 90, 0, chunk::HEADER_LEN + 1);
    assert_eq!(one_byte.len(), 41);
    for m in one_byte {
        b.push("a", m);
    }
    out.push(chunk_vector(
        "chunks_count_bound",
        "Three chunks claiming 65535 chunks for a 41-byte frame (count > total: garbage, no \
         bookkeeping), then a 41-byte frame cut into 41 one-byte chunks (count == total): \
         delivered.",
        DEFAULT_MAX_PENDING,
        b,
        &[("a", r90)],
        ChunkCounts {
            chunks: 41,
            garbage: 3,
            ..Default::default()
        },
    ));

    // --- chunks promising another frame than the one inside
    let mut b = ChunkBuilder::default();
    let p = rng.bytes(150);
    let inner_seq = repr(81, 81, 32, 24, 9, 0, &p);
    let inner_cam = repr(80, 80, 32, 24, 9, 1, &p);
    let mut stored = 0;
    for inner in [&inner_seq, &inner_cam] {
        stored += b.push_frame(&frame_bytes(inner, &p), 80, 0, 100);
    }
    let r82 = repr(82, 82, 32, 24, 9, 0, &p);
    stored += b.push_frame(&frame_bytes(&r82, &p), 82, 0, 100);
    out.push(chunk_vector(
        "chunks_mismatched_frame",
        "Chunks of seq 80, camera 0 whose reassembled frame header says seq 81; then chunks \
         of seq 80, camera 0 carrying a frame of camera 1 (other bytes under a finished seq: \
         the restart rule makes it a new frame): both bad headers. Frame 82 is good.",
        DEFAULT_MAX_PENDING,
        b,
        &[("a", r82)],
        ChunkCounts {
            chunks: stored,
            bad_headers: 2,
            ..Default::default()
        },
    ));

    // --- a seq re-sent: the same bytes, then another frame (restart)
    let mut b = ChunkBuilder::default();
    let p = rng.bytes(180);
    let first = repr(100, 1000, 32, 24, 9, 0, &p);
    let reborn = repr(100, 7, 32, 24, 9, 0, &p);
    let first_chunks = chunks_of(&frame_bytes(&first, &p), 100, 0, 100);
    for m in &first_chunks {
        b.push("a", m.clone());
    }
    // The same frame again, whole: every chunk a duplicate.
    for m in &first_chunks {
        b.push("a", m.clone());
    }
    let reborn_chunks = chunks_of(&frame_bytes(&reborn, &p), 100, 0, 100);
    for m in &reborn_chunks {
        b.push("a", m.clone());
    }
    out.push(chunk_vector(
        "chunks_resent_seq",
        "Frame 100 delivered; its chunks sent again (duplicates, not delivered twice); then a \
         frame with the same seq and size but another timestamp, as a rebooted sender sends it: \
         its first chunk differs from the remembered header, so it is a new frame, delivered.",
        DEFAULT_MAX_PENDING,
        b,
        &[("a", first), ("a", reborn)],
        ChunkCounts {
            chunks: (first_chunks.len() + reborn_chunks.len()) as u64,
            duplicates: first_chunks.len() as u64,
            ..Default::default()
        },
    ));

    // --- a whole frame in one message, twice, then re-sent by a restarted sender
    let mut b = ChunkBuilder::default();
    let p = rng.bytes(120);
    let w1 = repr(110, 5, 32, 24, 9, 0, &p);
    let w2 = repr(110, 6, 32, 24, 9, 0, &p);
    b.push("a", frame_bytes(&w1, &p));
    b.push("a", frame_bytes(&w1, &p));
    b.push("a", frame_bytes(&w2, &p));
    out.push(chunk_vector(
        "chunks_whole_frame_twice",
        "A whole frame (IMGS) as one message, the same message again (a duplicate, delivered \
         once), then the same seq and size with another timestamp (a restarted sender: \
         delivered).",
        DEFAULT_MAX_PENDING,
        b,
        &[("a", w1), ("a", w2)],
        ChunkCounts {
            duplicates: 1,
            ..Default::default()
        },
    ));

    // --- classify
    let frame = frame_bytes(&f5, &jpeg);
    let chunk0 = chunks_of(&frame, 5, 0, 100).remove(0);
    let items: Vec<(&str, Vec<u8>)> = vec![
        ("jpeg", jpeg.clone()),
        ("frame", frame),
        ("chunk", chunk0),
        ("unknown", b"hello".to_vec()),
        ("unknown", Vec::new()),
        ("unknown", vec![0xFF]),
    ];
    let mut bin = Vec::new();
    let mut messages = Vec::new();
    for (class, m) in items {
        messages.push(json!({"offset": bin.len(), "len": m.len(), "class": class}));
        bin.extend(m);
    }
    out.push(Vector {
        name: "classify",
        desc: json!({
            "name": "classify",
            "description": "Payload auto-detection: a raw JPEG, a whole frame, a chunk message, and three unknown payloads (text, empty, one byte).",
            "kind": "classify",
            "file": "classify.bin",
            "messages": messages,
        }),
        bin,
    });

    out
}

fn parts_count(payload: usize, max_message: usize) -> usize {
    (HEADER_LEN + payload).div_ceil(max_message - chunk::HEADER_LEN)
}

// ------------------------------------------------------ reference receiver

#[derive(Debug, Default, Clone, PartialEq)]
struct StreamResult {
    frames: Vec<(usize, FrameHeaderRepr)>,
    crc_errors: u64,
    bad_headers: u64,
    unsupported: u64,
    oversize: u64,
    garbage_bytes: u64,
    truncated: u64,
}

/// The receiver rules, fed `piece` bytes at a time.
fn decode_stream(input: &[u8], piece: usize, max_payload: u32) -> StreamResult {
    let mut r = StreamResult::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut buf_start = 0usize; // stream offset of buf[0]
    let mut skip = 0u64;
    for data in input.chunks(piece) {
        buf.extend_from_slice(data);
        loop {
            if skip > 0 {
                let n = skip.min(buf.len() as u64) as usize;
                buf.drain(..n);
                buf_start += n;
                skip -= n as u64;
                if skip > 0 {
                    break;
                }
            }
            let drop = match framing::decide(&buf, max_payload) {
                Decision::NeedMore(n) => {
                    assert!(n > buf.len());
                    break;
                }
                Decision::Discard { len, reason } => {
                    match reason {
                        Discard::Garbage => {}
                        Discard::BadHeader(_) => r.bad_headers += 1,
                        Discard::Oversize { .. } => r.oversize += 1,
                    }
                    r.garbage_bytes += len as u64;
                    len
                }
                Decision::Skip { len, .. } => {
                    r.unsupported += 1;
                    skip = len;
                    0
                }
                Decision::Frame(repr) => {
                    if buf.len() < repr.frame_len() {
                        break;
                    }
                    match repr.check_payload(&buf[HEADER_LEN..repr.frame_len()]) {
                        Ok(()) => r.frames.push((buf_start, repr)),
                        Err(_) => r.crc_errors += 1,
                    }
                    repr.frame_len()
                }
            };
            buf.drain(..drop);
            buf_start += drop;
        }
    }
    if skip > 0 || !buf.is_empty() {
        r.truncated += 1;
    }
    r
}

#[derive(Debug, Default, Clone, PartialEq)]
struct ChunkResult {
    frames: Vec<(String, FrameHeaderRepr)>,
    counts: HashMap<&'static str, u64>,
}

struct Pending {
    count: u16,
    total: u32,
    buf: Vec<u8>,
    have: Vec<bool>,
    received: u16,
    started: u64,
}

/// The reassembly rules of docs/PROTOCOL.md.
type Key = (String, u16, u32);
/// A finished frame: seq, total, and its frame header if it completed.
type Finished = (u32, u32, Option<Vec<u8>>);

fn decode_chunks(
    messages: &[(String, &[u8])],
    max_payload: u32,
    max_pending: usize,
) -> ChunkResult {
    let mut r = ChunkResult::default();
    let mut pending: HashMap<Key, Pending> = HashMap::new();
    // Per (source, camera): recently finished (seq, total), whether they
    // completed, and the frame header of those that did.
    let mut recent: HashMap<(String, u16), VecDeque<Finished>> = HashMap::new();
    fn finish(
        recent: &mut HashMap<(String, u16), VecDeque<Finished>>,
        k: &Key,
        total: u32,
        head: Option<Vec<u8>>,
    ) {
        let q = recent.entry((k.0.clone(), k.1)).or_default();
        q.push_back((k.2, total, head));
        if q.len() > RECENT_KEYS {
            q.pop_front();
        }
    }
    let max_total = max_payload + HEADER_LEN as u32;
    for (n, (source, msg)) in messages.iter().enumerate() {
        if msg.starts_with(&framing::MAGIC) {
            // A whole frame in one message (PROTOCOL.md 3.3, whole frames).
            let counter = match FrameHeaderRepr::parse(msg) {
                Ok(f) if f.payload_len > max_payload => "garbage",
                Ok(f) if f.frame_len() != msg.len() => "bad_headers",
                Ok(f) if f.check_payload(&msg[HEADER_LEN..]).is_err() => "crc_errors",
                Ok(f) => {
                    let q = recent.entry((source.clone(), f.camera_id)).or_default();
                    let same = q
                        .iter()
                        .find(|(s, t, _)| (*s, *t) == (f.seq, msg.len() as u32));
                    match same {
                        Some((_, _, Some(h))) if h[..] == msg[..HEADER_LEN] => "duplicates",
                        other => {
                            if other.is_some() {
                                q.clear();
                            }
                            let key = (source.clone(), f.camera_id, f.seq);
                            let head = Some(msg[..HEADER_LEN].to_vec());
                            finish(&mut recent, &key, msg.len() as u32, head);
                            r.frames.push((source.clone(), f));
                            "frames"
                        }
                    }
                }
                Err(framing::Error::UnsupportedVersion { .. }) => "unsupported",
                Err(_) => "bad_headers",
            };
            *r.counts.entry(counter).or_default() += 1;
            continue;
        }
        let (c, data) = match chunk::parse_message(msg, max_total) {
            Ok(x) => x,
            Err(chunk::Error::UnsupportedVersion { .. }) => {
                *r.counts.entry("unsupported").or_default() += 1;
                continue;
            }
            Err(_) => {
                *r.counts.entry("garbage").or_default() += 1;
                continue;
            }
        };
        let key: Key = (source.clone(), c.camera_id, c.seq);
        let cam_key = (source.clone(), c.camera_id);
        if let Some(q) = recent.get(&cam_key) {
            if let Some((_, _, head)) = q.iter().find(|(s, t, _)| (*s, *t) == (c.seq, c.total)) {
                // A restarted sender: offset 0 and other header bytes.
                let restarted = c.offset == 0
                    && head.as_ref().is_some_and(|h| {
                        let n = h.len().min(data.len());
                        h[..n] != data[..n]
                    });
                if restarted {
                    recent.remove(&cam_key);
                } else {
                    *r.counts
                        .entry(if head.is_some() { "duplicates" } else { "late" })
                        .or_default() += 1;
                    continue;
                }
            }
        }
        if !pending.contains_key(&key) {
            let mut same: Vec<(u64, Key)> = pending
                .iter()
                .filter(|(k, _)| k.0 == key.0 && k.1 == key.1)
                .map(|(k, p)| (p.started, k.clone()))
                .collect();
            same.sort();
            while same.len() >= max_pending {
                let (_, old) = same.remove(0);
                let gone = pending.remove(&old).unwrap();
                finish(&mut recent, &old, gone.total, None);
                *r.counts.entry("incomplete").or_default() += 1;
            }
            pending.insert(
                key.clone(),
                Pending {
                    count: c.count,
                    total: c.total,
                    buf: vec![0; c.total as usize],
                    have: vec![false; c.count as usize],
                    received: 0,
                    started: n as u64,
                },
            );
        }
        let p = pending.get_mut(&key).unwrap();
        if p.count != c.count || p.total != c.total {
            let gone = pending.remove(&key).unwrap();
            finish(&mut recent, &key, gone.total, None);
            *r.counts.entry("corrupt").or_default() += 1;
            continue;
        }
        if p.have[c.index as usize] {
            *r.counts.entry("duplicates").or_default() += 1;
            continue;
        }
        p.have[c.index as usize] = true;
        p.received += 1;
        p.buf[c.offset as usize..c.offset as usize + data.len()].copy_from_slice(data);
        *r.counts.entry("chunks").or_default() += 1;
        if p.received < p.count {
            continue;
        }
        let p = pending.remove(&key).unwrap();
        finish(
            &mut recent,
            &key,
            p.total,
            Some(p.buf[..HEADER_LEN].to_vec()),
        );
        let counter = match FrameHeaderRepr::parse(&p.buf) {
            Ok(f) if f.frame_len() != p.buf.len() => "bad_headers",
            // The chunks promised another frame.
            Ok(f) if (f.seq, f.camera_id) != (key.2, key.1) => "bad_headers",
            Ok(f) => match f.check_payload(&p.buf[HEADER_LEN..]) {
                Ok(()) => {
                    r.frames.push((source.clone(), f));
                    "frames"
                }
                Err(_) => "crc_errors",
            },
            Err(framing::Error::UnsupportedVersion { .. }) => "unsupported",
            Err(_) => "bad_headers",
        };
        *r.counts.entry(counter).or_default() += 1;
    }
    *r.counts.entry("incomplete").or_default() += pending.len() as u64;
    r
}

// ------------------------------------------------------------------ checks

fn frame_from_json(v: &Value) -> FrameHeaderRepr {
    let g = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("field {k} in {v}"));
    FrameHeaderRepr {
        flags: g("flags") as u16,
        seq: g("seq") as u32,
        timestamp_us: g("timestamp_us"),
        width: g("width") as u16,
        height: g("height") as u16,
        format: g("format") as u8,
        camera_id: g("camera_id") as u16,
        payload_len: g("payload_len") as u32,
        payload_crc: g("payload_crc") as u32,
    }
}

fn error_name(e: framing::Error) -> &'static str {
    match e {
        framing::Error::Truncated => "truncated",
        framing::Error::BadMagic => "bad_magic",
        framing::Error::BadHeaderLen => "bad_header_len",
        framing::Error::BadHeaderCrc => "bad_header_crc",
        framing::Error::UnsupportedVersion { .. } => "unsupported_version",
        framing::Error::BadPayloadCrc => "bad_payload_crc",
    }
}

fn check_vector(desc: &Value, bin: &[u8]) {
    let name = desc["name"].as_str().unwrap();
    let expected = &desc["expected"];
    match desc["kind"].as_str().unwrap() {
        "header" => match FrameHeaderRepr::parse(bin) {
            Ok(r) => assert_eq!(r, frame_from_json(&expected["header"]), "{name}"),
            Err(e) => {
                assert_eq!(error_name(e), expected["error"], "{name}");
                if let framing::Error::UnsupportedVersion {
                    version,
                    header_len,
                    payload_len,
                } = e
                {
                    assert_eq!(expected["version"], version as u64, "{name}");
                    assert_eq!(expected["header_len"], header_len as u64, "{name}");
                    assert_eq!(expected["payload_len"], payload_len as u64, "{name}");
                }
            }
        },
        "stream" => {
            let max = desc["max_payload"].as_u64().unwrap() as u32;
            let want_frames: Vec<(usize, FrameHeaderRepr)> = expected["frames"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| (f["offset"].as_u64().unwrap() as usize, frame_from_json(f)))
                .collect();
            let c = &expected["counters"];
            let mut results = Vec::new();
            for piece in [1, 3, 7, 40, 41, 1000, bin.len().max(1)] {
                let got = decode_stream(bin, piece, max);
                assert_eq!(got.frames, want_frames, "{name} piece {piece}");
                let counters = json!({
                    "frames": got.frames.len(),
                    "crc_errors": got.crc_errors,
                    "bad_headers": got.bad_headers,
                    "unsupported": got.unsupported,
                    "oversize": got.oversize,
                    "garbage_bytes": got.garbage_bytes,
                    "truncated": got.truncated,
                });
                assert_eq!(&counters, c, "{name} piece {piece}");
                results.push(got);
            }
        }
        "chunks" => {
            let max = desc["max_payload"].as_u64().unwrap() as u32;
            let max_pending = desc["max_pending"].as_u64().unwrap() as usize;
            let msgs: Vec<(String, &[u8])> = desc["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    let o = m["offset"].as_u64().unwrap() as usize;
                    let l = m["len"].as_u64().unwrap() as usize;
                    (m["source"].as_str().unwrap().to_string(), &bin[o..o + l])
                })
                .collect();
            let got = decode_chunks(&msgs, max, max_pending);
            let want: Vec<(String, FrameHeaderRepr)> = expected["frames"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["source"].as_str().unwrap().to_string(),
                        frame_from_json(f),
                    )
                })
                .collect();
            assert_eq!(got.frames, want, "{name}");
            for (k, v) in expected["counters"].as_object().unwrap() {
                let have = got.counts.get(k.as_str()).copied().unwrap_or(0);
                assert_eq!(Some(have), v.as_u64(), "{name}: counter {k}");
            }
        }
        "classify" => {
            for m in desc["messages"].as_array().unwrap() {
                let o = m["offset"].as_u64().unwrap() as usize;
                let l = m["len"].as_u64().unwrap() as usize;
                let data = &bin[o..o + l];
                let class = if data.starts_with(&chunk::MAGIC) {
                    "chunk"
                } else if data.starts_with(&framing::MAGIC) {
                    "frame"
                } else if data.starts_with(&[0xFF, 0xD8]) {
                    "jpeg"
                } else {
                    "unknown"
                };
                assert_eq!(m["class"], class, "{name} at {o}");
            }
        }
        other => panic!("{name}: unknown kind {other}"),
    }
}

fn to_json_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap();
    s.push('\n');
    s
}

#[test]
fn vectors() {
    let dir = vectors_dir();
    let generated = generate();
    let regen = std::env::var_os("IMG_STREAM_REGEN_VECTORS").is_some_and(|v| v == "1");
    if regen {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("tiny.jpg"), tiny_jpeg()).unwrap();
        for v in &generated {
            std::fs::write(dir.join(format!("{}.bin", v.name)), &v.bin).unwrap();
            std::fs::write(dir.join(format!("{}.json", v.name)), to_json_text(&v.desc)).unwrap();
        }
    }
    for v in &generated {
        let bin = std::fs::read(dir.join(format!("{}.bin", v.name)))
            .unwrap_or_else(|e| panic!("{}: {e}; run with IMG_STREAM_REGEN_VECTORS=1", v.name));
        let text = std::fs::read_to_string(dir.join(format!("{}.json", v.name))).unwrap();
        // The committed expectations first, as a second decoder sees them.
        let desc: Value = serde_json::from_str(&text).unwrap();
        check_vector(&desc, &bin);
        assert!(
            bin == v.bin && text == to_json_text(&v.desc),
            "tests/vectors/{} is stale: run with IMG_STREAM_REGEN_VECTORS=1",
            v.name
        );
    }
    // No stray vectors that nothing checks.
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = generated.iter().map(|v| v.name.to_string()).collect();
    names.sort();
    assert_eq!(on_disk, names);
}

#[test]
fn tiny_jpeg_decodes() {
    let jpeg = tiny_jpeg();
    let mut d = jpeg_decoder::Decoder::new(&jpeg[..]);
    let pixels = d.decode().unwrap();
    let info = d.info().unwrap();
    assert_eq!((info.width, info.height), (16, 8));
    assert_eq!(pixels.len(), 16 * 8);
}

#[test]
fn every_single_bit_flip_of_a_frame_is_caught() {
    // A corrupted frame in a stream must never be delivered, whichever bit
    // flipped: the two CRCs cover every byte.
    let payload: Vec<u8> = (0..50u8).collect();
    let r = repr(1, 2, 3, 4, 9, 5, &payload);
    let frame = frame_bytes(&r, &payload);
    for byte in 0..frame.len() {
        for bit in 0..8 {
            let mut f = frame.clone();
            f[byte] ^= 1 << bit;
            let got = decode_stream(&f, f.len(), DEFAULT_MAX_PAYLOAD);
            assert!(got.frames.is_empty(), "byte {byte} bit {bit} delivered");
        }
    }
}
