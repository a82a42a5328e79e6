//! The receive loop body every message transport shares (MQTT, UDP).
//!
//! A transport only has to produce `(source, message)` pairs; a
//! [`MessageHandler`] does the rest: auto-detection ([`classify`]), chunk
//! reassembly ([`Reassembler`]), delivery to the shared [`Output`] (counts,
//! `--out`, `--count`) and the status counters.
//!
//! ```no_run
//! # use std::{net::{SocketAddr, UdpSocket}, sync::Arc, time::{Duration, Instant}};
//! # use img_stream_host::{messages::MessageHandler, output::Output, reassembly::Config};
//! # fn demo(sock: UdpSocket, output: Arc<Output>, max_payload: u32) -> anyhow::Result<()> {
//! let mut handler: MessageHandler<SocketAddr> =
//!     MessageHandler::new(output, Config::with_max_payload(max_payload), false);
//! sock.set_read_timeout(Some(Duration::from_millis(200)))?;
//! let mut buf = vec![0u8; 65536];
//! loop {
//!     match sock.recv_from(&mut buf) {
//!         Ok((n, peer)) => {
//!             handler.handle(&peer, &peer.to_string(), &buf[..n], Instant::now())?;
//!         }
//!         // Quiet network: still drop stale partial frames.
//!         Err(_) => handler.tick(Instant::now()),
//!     }
//! }
//! # }
//! ```
//!
//! For MQTT, `source` is the topic (`String`, and `name` the same string);
//! pass `accept_raw = true` so bare JPEG payloads (raw mode) are kept too.

use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use img_stream_core::jpeg::info;
use img_stream_core::pixel::PixelFormat;

use crate::budget::SourceMap;
use crate::output::{Delivered, Output};
use crate::reassembly::{classify, Config, MessageKind, Outcome, Reassembler};
use crate::store::{camera_name, FrameMeta};

/// Sources whose raw-JPEG numbering is kept at most (the idlest is
/// forgotten and starts again at 0, in a new file name: nothing is
/// overwritten).
const RAW_SOURCES: usize = 4096;
/// A raw source silent this long is forgotten.
const RAW_TTL: Duration = Duration::from_secs(300);

/// Reassembles and delivers messages from any number of sources.
#[derive(Debug)]
pub struct MessageHandler<S> {
    reasm: Reassembler<S>,
    output: Arc<Output>,
    accept_raw: bool,
    /// Raw JPEGs carry no seq: numbered per source in arrival order.
    raw_seq: SourceMap<S, u32>,
}

impl<S: Hash + Eq + Clone> MessageHandler<S> {
    /// A handler delivering to `output`, drawing on its memory budget.
    /// With `accept_raw`, a message that starts with FF D8 and ends with
    /// FF D9 is a whole JPEG of camera 0.
    pub fn new(output: Arc<Output>, config: Config, accept_raw: bool) -> MessageHandler<S> {
        MessageHandler {
            reasm: Reassembler::with_budget(config, output.budget().clone()),
            output,
            accept_raw,
            raw_seq: SourceMap::new(RAW_SOURCES, RAW_TTL),
        }
    }

    /// Handles one message from `source`; `name` is the source as text,
    /// used for the camera name (peer address, topic).
    ///
    /// Returns what became of a frame it completed, if any. An error is a
    /// failure to write (fatal for the run), never a bad message.
    pub fn handle(
        &mut self,
        source: &S,
        name: &str,
        message: &[u8],
        now: Instant,
    ) -> anyhow::Result<Option<Delivered>> {
        let delivered = if self.accept_raw && classify(message) == MessageKind::RawJpeg {
            self.raw(source, name, message)?
        } else {
            match self.reasm.push(source, message, now) {
                Outcome::Frame(frame) => {
                    let camera = camera_name(name, frame.header.camera_id);
                    Some(
                        self.output
                            .deliver(&camera, &(&frame.header).into(), &frame.payload)?,
                    )
                }
                _ => None,
            }
        };
        self.sync_stats();
        Ok(delivered)
    }

    /// Drops timed-out partial frames; call when no message came for a while.
    pub fn tick(&mut self, now: Instant) {
        self.reasm.expire(now);
        self.sync_stats();
    }

    /// End of input: drops (and counts) every partial frame.
    pub fn finish(&mut self, now: Instant) {
        self.reasm.drop_all(now);
        self.sync_stats();
    }

    /// The reassembler, for its counters.
    pub fn reassembler(&self) -> &Reassembler<S> {
        &self.reasm
    }

    fn raw(&mut self, source: &S, name: &str, jpeg: &[u8]) -> anyhow::Result<Option<Delivered>> {
        if !jpeg.ends_with(&[0xFF, 0xD9]) {
            // No CRC to check; a JPEG without its end marker is cut short.
            crate::status::Stats::add(&self.output.stats().truncated, 1);
            return Ok(None);
        }
        let now = Instant::now();
        self.raw_seq.expire(now);
        let seq = match self.raw_seq.get_mut(source, now) {
            Some(seq) => seq,
            None => {
                self.raw_seq.insert(source.clone(), 0, now);
                self.raw_seq.get_mut(source, now).expect("just inserted")
            }
        };
        let (width, height) = info::parse(jpeg).map_or((0, 0), |i| (i.width, i.height));
        let meta = FrameMeta {
            seq: *seq,
            timestamp_us: 0,
            width,
            height,
            format: PixelFormat::Jpeg.code(),
        };
        *seq = seq.wrapping_add(1);
        Ok(Some(self.output.deliver(
            &camera_name(name, 0),
            &meta,
            jpeg,
        )?))
    }

    fn sync_stats(&self) {
        self.output
            .stats()
            .set_chunk_counters(self.reasm.counters());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OutputConfig;
    use crate::status::Stats;
    use img_stream_core::chunk;
    use img_stream_core::crc32::crc32;
    use img_stream_core::framing::{FrameHeaderRepr, HEADER_LEN};
    use std::sync::atomic::Ordering::Relaxed;

    fn output(dir: &std::path::Path, count: Option<u64>) -> Arc<Output> {
        let config = OutputConfig {
            out: Some(dir.to_owned()),
            count,
            ..OutputConfig::quiet(1 << 20)
        };
        Arc::new(Output::new(&config, Stats::new(), 4).unwrap().0)
    }

    fn chunked(seq: u32, payload: &[u8]) -> Vec<Vec<u8>> {
        let repr = FrameHeaderRepr {
            flags: 0,
            seq,
            timestamp_us: 5,
            width: 16,
            height: 8,
            format: 9,
            camera_id: 3,
            payload_len: payload.len() as u32,
            payload_crc: crc32(payload),
        };
        let mut msg = vec![0; HEADER_LEN];
        repr.emit(&mut msg);
        msg.extend_from_slice(payload);
        let plan = chunk::plan(msg.len(), 64).unwrap();
        plan.iter()
            .map(|c| {
                let mut m = vec![0; chunk::HEADER_LEN];
                plan.repr(&c, seq, 3).emit(&mut m);
                m.extend_from_slice(&msg[c.range()]);
                m
            })
            .collect()
    }

    #[test]
    fn chunks_raw_jpegs_and_garbage() {
        let dir = std::env::temp_dir().join(format!("img-stream-messages-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = output(&dir, None);
        let mut h: MessageHandler<String> =
            MessageHandler::new(out.clone(), Config::with_max_payload(1 << 20), true);
        let t = Instant::now();
        let topic = "img_stream/board1/frame".to_owned();
        // JPEG-format payloads must look like a JPEG to be written.
        let mut payload = vec![0x55; 300];
        payload[..2].copy_from_slice(&[0xFF, 0xD8]);
        let parts = chunked(9, &payload);
        for p in parts.iter().rev() {
            h.handle(&topic, &topic, p, t).unwrap();
        }
        h.handle(&topic, &topic, &parts[0], t).unwrap();
        let tiny = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/tiny.jpg"),
        )
        .unwrap();
        assert_eq!(
            h.handle(&topic, &topic, &tiny, t).unwrap(),
            Some(Delivered::Kept)
        );
        assert_eq!(h.handle(&topic, &topic, &tiny[..50], t).unwrap(), None);
        assert_eq!(h.handle(&topic, &topic, b"hello", t).unwrap(), None);
        let stats = out.stats();
        assert_eq!(stats.frames.load(Relaxed), 2);
        assert_eq!(stats.chunk_duplicates.load(Relaxed), 1);
        assert_eq!(stats.chunk_garbage.load(Relaxed), 1);
        assert_eq!(stats.truncated.load(Relaxed), 1);
        let cam = dir.join("img_stream_board1_frame-cam3");
        assert_eq!(std::fs::read(cam.join("0000000009.jpg")).unwrap(), payload);
        let raw = dir.join("img_stream_board1_frame-cam0/0000000000.jpg");
        assert_eq!(std::fs::read(raw).unwrap(), tiny);
        let index = std::fs::read_to_string(dir.join("frames.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = index
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let raw_line = &lines[1];
        assert_eq!(raw_line["camera"], "img_stream_board1_frame-cam0");
        assert_eq!(
            (raw_line["width"].as_u64(), raw_line["height"].as_u64()),
            (Some(16), Some(8))
        );
        assert_eq!(raw_line["size"].as_u64(), Some(tiny.len() as u64));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn raw_jpeg_dimensions_come_from_core() {
        // A minimal hand-made JPEG: SOI, APP0 (4 bytes), fill byte, SOF2 640x480.
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0, 0, 0xFF, 0xFF, 0xC2];
        j.extend([
            0x00, 0x0B, 0x08, 0x01, 0xE0, 0x02, 0x80, 0x01, 0x11, 0x11, 0x00,
        ]);
        let i = info::parse(&j).unwrap();
        assert_eq!((i.width, i.height), (640, 480));
    }

    #[test]
    fn tick_and_finish_count_incomplete_frames() {
        let dir = std::env::temp_dir().join(format!("img-stream-messages2-{}", std::process::id()));
        let out = output(&dir, None);
        let mut h: MessageHandler<u8> =
            MessageHandler::new(out.clone(), Config::with_max_payload(1 << 20), false);
        let t = Instant::now();
        let a = chunked(1, &[1; 200]);
        let b = chunked(2, &[2; 200]);
        h.handle(&0, "x", &a[0], t).unwrap();
        h.handle(&0, "x", &b[0], t).unwrap();
        h.tick(t + std::time::Duration::from_secs(60));
        assert_eq!(out.stats().chunk_incomplete.load(Relaxed), 2);
        h.handle(
            &0,
            "x",
            &chunked(3, &[3; 200])[0],
            t + std::time::Duration::from_secs(61),
        )
        .unwrap();
        h.finish(t + std::time::Duration::from_secs(61));
        assert_eq!(out.stats().chunk_incomplete.load(Relaxed), 3);
        assert_eq!(h.reassembler().in_flight(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
