//! The protocol test vectors in `tests/vectors/` through the host's own
//! decoders: the stream decoder (fed whole and in many splits), the chunk
//! reassembler and payload classification must give exactly the frames and
//! counters each vector's JSON expects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use img_stream_core::framing::{self, FrameHeaderRepr};
use img_stream_host::reassembly::{classify, Config, MessageKind, Outcome, Reassembler};
use img_stream_host::stream::{Decoder, Event};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

/// Every vector description of the given kind, with its binary file.
fn vectors(kind: &str) -> Vec<(String, Value, Vec<u8>)> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(vectors_dir())
        .expect("tests/vectors exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let desc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if desc["kind"] != kind {
            continue;
        }
        let bin = std::fs::read(vectors_dir().join(desc["file"].as_str().unwrap())).unwrap();
        out.push((desc["name"].as_str().unwrap().to_owned(), desc, bin));
    }
    assert!(!out.is_empty(), "no {kind} vectors found");
    out
}

fn repr_json(h: &FrameHeaderRepr) -> BTreeMap<String, Value> {
    let v = serde_json::json!({
        "camera_id": h.camera_id, "flags": h.flags, "format": h.format,
        "height": h.height, "payload_crc": h.payload_crc, "payload_len": h.payload_len,
        "seq": h.seq, "timestamp_us": h.timestamp_us, "width": h.width,
    });
    serde_json::from_value(v).unwrap()
}

/// The expected frame without the keys that are not header fields.
fn expected_header(v: &Value) -> BTreeMap<String, Value> {
    let mut m: BTreeMap<String, Value> = serde_json::from_value(v.clone()).unwrap();
    m.remove("offset");
    m.remove("source");
    m
}

fn counters(v: &Value) -> BTreeMap<String, u64> {
    serde_json::from_value(v["expected"]["counters"].clone()).unwrap()
}

#[derive(Default)]
struct StreamResult {
    frames: Vec<(FrameHeaderRepr, Vec<u8>)>,
    counts: BTreeMap<String, u64>,
}

fn decode_stream(bin: &[u8], max_payload: u32, split: usize) -> StreamResult {
    let mut r = StreamResult::default();
    for name in [
        "bad_headers",
        "crc_errors",
        "frames",
        "garbage_bytes",
        "oversize",
        "truncated",
        "unsupported",
    ] {
        r.counts.insert(name.into(), 0);
    }
    let mut d = Decoder::new(max_payload);
    let on_event = |e: Event, r: &mut StreamResult| {
        *r.counts.get_mut("garbage_bytes").unwrap() += e.scanned_bytes();
        let (name, n) = match e {
            Event::Frame(f) => {
                r.frames.push((f.header, f.payload));
                ("frames", 1)
            }
            Event::CrcError(_) => ("crc_errors", 1),
            Event::BadHeader(_) => ("bad_headers", 1),
            Event::Oversize { .. } => ("oversize", 1),
            Event::Unsupported { .. } => ("unsupported", 1),
            Event::Garbage { .. } => return,
            Event::Truncated { .. } => ("truncated", 1),
        };
        *r.counts.get_mut(name).unwrap() += n;
    };
    for piece in bin.chunks(split) {
        let mut events = Vec::new();
        d.feed(piece, |e| events.push(e));
        for e in events {
            on_event(e, &mut r);
        }
    }
    if let Some(e) = d.finish() {
        on_event(e, &mut r);
    }
    r
}

#[test]
fn stream_vectors() {
    for (name, desc, bin) in vectors("stream") {
        let max = desc["max_payload"].as_u64().unwrap() as u32;
        let want_frames = desc["expected"]["frames"].as_array().unwrap();
        for split in [bin.len().max(1), 1, 2, 3, 7, 40, 41, 1000, 4096] {
            let got = decode_stream(&bin, max, split);
            assert_eq!(got.counts, counters(&desc), "{name}, split {split}");
            assert_eq!(got.frames.len(), want_frames.len(), "{name}");
            for ((h, payload), want) in got.frames.iter().zip(want_frames) {
                assert_eq!(repr_json(h), expected_header(want), "{name}");
                // The payload is the one at the stated offset in the file.
                let at = want["offset"].as_u64().unwrap() as usize + framing::HEADER_LEN;
                assert_eq!(payload[..], bin[at..at + payload.len()], "{name}");
            }
        }
    }
}

#[test]
fn chunk_vectors() {
    for (name, desc, bin) in vectors("chunks") {
        let max_payload = desc["max_payload"].as_u64().unwrap() as u32;
        let mut reasm: Reassembler<String> = Reassembler::new(Config {
            max_in_flight: desc["max_pending"].as_u64().unwrap() as usize,
            ..Config::with_max_payload(max_payload)
        });
        let now = Instant::now();
        let mut frames = Vec::new();
        for m in desc["messages"].as_array().unwrap() {
            let at = m["offset"].as_u64().unwrap() as usize;
            let len = m["len"].as_u64().unwrap() as usize;
            let source = m["source"].as_str().unwrap().to_owned();
            if let Outcome::Frame(f) = reasm.push(&source, &bin[at..at + len], now) {
                frames.push((source, f));
            }
        }
        reasm.drop_all(now);
        let c = reasm.counters();
        let mut got = BTreeMap::new();
        for (k, v) in [
            ("bad_headers", c.bad_headers),
            ("chunks", c.chunks),
            ("corrupt", c.corrupt),
            ("crc_errors", c.crc_errors),
            ("duplicates", c.duplicates),
            ("frames", c.frames),
            ("garbage", c.garbage),
            ("incomplete", c.incomplete),
            ("late", c.late),
            ("unsupported", c.unsupported),
        ] {
            got.insert(k.to_owned(), v);
        }
        assert_eq!(got, counters(&desc), "{name}");
        assert_eq!(reasm.in_flight(), 0);
        assert_eq!(reasm.buffered(), 0);
        let want = desc["expected"]["frames"].as_array().unwrap();
        assert_eq!(frames.len(), want.len(), "{name}");
        for ((source, f), w) in frames.iter().zip(want) {
            assert_eq!(source, w["source"].as_str().unwrap(), "{name}");
            assert_eq!(repr_json(&f.header), expected_header(w), "{name}");
        }
    }
}

#[test]
fn classify_vectors() {
    for (name, desc, bin) in vectors("classify") {
        for m in desc["messages"].as_array().unwrap() {
            let at = m["offset"].as_u64().unwrap() as usize;
            let len = m["len"].as_u64().unwrap() as usize;
            let want = match m["class"].as_str().unwrap() {
                "jpeg" => MessageKind::RawJpeg,
                "frame" => MessageKind::Frame,
                "chunk" => MessageKind::Chunk,
                "unknown" => MessageKind::Unknown,
                other => panic!("{name}: unknown class {other}"),
            };
            assert_eq!(classify(&bin[at..at + len]), want, "{name} at {at}");
        }
    }
}

#[test]
fn header_vectors() {
    for (name, desc, bin) in vectors("header") {
        let e = &desc["expected"];
        match FrameHeaderRepr::parse(&bin) {
            Ok(h) => assert_eq!(repr_json(&h), expected_header(&e["header"]), "{name}"),
            Err(framing::Error::BadHeaderCrc) => assert_eq!(e["error"], "bad_header_crc", "{name}"),
            Err(framing::Error::UnsupportedVersion {
                version,
                header_len,
                payload_len,
            }) => {
                assert_eq!(e["error"], "unsupported_version", "{name}");
                assert_eq!(e["version"], version, "{name}");
                assert_eq!(e["header_len"], header_len, "{name}");
                assert_eq!(e["payload_len"], payload_len, "{name}");
            }
            Err(other) => panic!("{name}: unexpected {other:?}"),
        }
    }
}
