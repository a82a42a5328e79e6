//! The `--out DIR` layout, shared by every receiver.
//!
//! ```text
//! DIR/frames.jsonl               one JSON object per written frame, appended
//! DIR/<camera>/<seq>.jpg         the payload (".raw" for non-JPEG formats)
//! ```
//!
//! `<camera>` comes from [`camera_name`] (source + camera id, filesystem
//! safe), `<seq>` is zero-padded to 10 digits so names sort in seq order.
//! Each file is written under a temporary name and renamed, so a reader never
//! sees half a frame; its JSON line is appended only after the rename.
//!
//! Usage from a receiver (any thread; [`Store`] is `Sync`):
//! ```no_run
//! # use img_stream_host::store::{Store, FrameMeta, camera_name};
//! let store = Store::open("out".as_ref())?;
//! let camera = camera_name("192.168.1.7:5000", 0); // "192.168.1.7_5000-cam0"
//! let meta = FrameMeta { seq: 1, timestamp_us: 0, width: 640, height: 480, format: 9 };
//! store.write(&camera, &meta, b"\xff\xd8...")?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use img_stream_core::framing::FrameRepr;

/// The format code for JPEG payloads (protocol v1, header byte 24).
pub const FORMAT_JPEG: u8 = 9;

/// What the JSON line records about a frame besides its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameMeta {
    /// The sender's frame sequence number.
    pub seq: u32,
    /// Capture time on the sender's clock, µs.
    pub timestamp_us: u64,
    /// Width in pixels (0 when unknown, e.g. a raw JPEG over MQTT).
    pub width: u16,
    /// Height in pixels (0 when unknown).
    pub height: u16,
    /// The protocol's format code (9 = JPEG).
    pub format: u8,
}

impl From<&FrameRepr> for FrameMeta {
    fn from(h: &FrameRepr) -> FrameMeta {
        FrameMeta {
            seq: h.seq,
            timestamp_us: h.timestamp_us,
            width: h.width,
            height: h.height,
            format: h.format,
        }
    }
}

/// A filesystem-safe camera name from a source and the header's camera id.
///
/// `source` is whatever identifies the sender: a peer address
/// (`127.0.0.1:54321` → `127.0.0.1_54321-cam0`), an MQTT topic, ... Every
/// byte outside `[A-Za-z0-9._-]` becomes `_`, and brackets of IPv6 addresses
/// are dropped, so the name is one path component on every OS.
pub fn camera_name(source: &str, camera_id: u16) -> String {
    let mut name: String = source
        .chars()
        .filter(|c| !matches!(c, '[' | ']'))
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // "." and ".." alone would escape the output directory.
    if name.chars().all(|c| c == '.') {
        name = name.replace('.', "_");
    }
    format!("{name}-cam{camera_id}")
}

/// Microseconds since the Unix epoch, for `received_unix_us`.
pub fn unix_now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Width and height from a JPEG's start-of-frame marker, if it has one.
///
/// For payloads that arrive without a frame header (MQTT raw mode), so the
/// JSON line can still say how big the picture is.
pub fn jpeg_dimensions(jpeg: &[u8]) -> Option<(u16, u16)> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    loop {
        // Fill bytes (extra 0xFF) may precede a marker.
        while *jpeg.get(at)? == 0xFF && *jpeg.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *jpeg.get(at)? != 0xFF {
            return None;
        }
        let marker = *jpeg.get(at + 1)?;
        let len = u16::from_be_bytes([*jpeg.get(at + 2)?, *jpeg.get(at + 3)?]) as usize;
        // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let h = u16::from_be_bytes([*jpeg.get(at + 5)?, *jpeg.get(at + 6)?]);
            let w = u16::from_be_bytes([*jpeg.get(at + 7)?, *jpeg.get(at + 8)?]);
            return Some((w, h));
        }
        if marker == 0xDA || len < 2 {
            // Scan data before any SOF, or a broken length.
            return None;
        }
        at += 2 + len;
    }
}

/// Writes frames and their JSON lines under one directory.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    // Appends from many connection threads must not interleave.
    index: Mutex<File>,
}

impl Store {
    /// Creates `dir` if needed and opens `dir/frames.jsonl` for appending.
    pub fn open(dir: &Path) -> io::Result<Store> {
        fs::create_dir_all(dir)?;
        let index = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("frames.jsonl"))?;
        Ok(Store {
            dir: dir.to_owned(),
            index: Mutex::new(index),
        })
    }

    /// The output directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path, relative to the output directory, of a frame's file.
    pub fn relative_path(camera: &str, meta: &FrameMeta) -> PathBuf {
        let ext = if meta.format == FORMAT_JPEG {
            "jpg"
        } else {
            "raw"
        };
        Path::new(camera).join(format!("{:010}.{ext}", meta.seq))
    }

    /// Writes one verified frame and appends its JSON line.
    ///
    /// Only call this for frames whose CRCs verified: the line says
    /// `"crc_ok": true`. Returns the file's path relative to the directory.
    pub fn write(&self, camera: &str, meta: &FrameMeta, payload: &[u8]) -> io::Result<PathBuf> {
        let received_unix_us = unix_now_us();
        let rel = Self::relative_path(camera, meta);
        let path = self.dir.join(&rel);
        let cam_dir = self.dir.join(camera);
        fs::create_dir_all(&cam_dir)?;
        let tmp = cam_dir.join(format!(".{:010}.part", meta.seq));
        fs::write(&tmp, payload)?;
        fs::rename(&tmp, &path)?;
        let mut line = serde_json::json!({
            "camera": camera,
            "seq": meta.seq,
            "timestamp_us": meta.timestamp_us,
            "received_unix_us": received_unix_us,
            "size": payload.len(),
            "width": meta.width,
            "height": meta.height,
            "format": meta.format,
            "crc_ok": true,
            "file": rel.to_string_lossy().replace('\\', "/"),
        })
        .to_string();
        line.push('\n');
        // One write_all of the whole line on an O_APPEND file: lines stay whole.
        let mut index = self.index.lock().unwrap_or_else(|e| e.into_inner());
        index.write_all(line.as_bytes())?;
        Ok(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("img-stream-store-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn camera_names_are_one_safe_component() {
        assert_eq!(camera_name("127.0.0.1:54321", 0), "127.0.0.1_54321-cam0");
        assert_eq!(camera_name("[::1]:9000", 7), "__1_9000-cam7");
        assert_eq!(
            camera_name("img_stream/board-1/frame", 2),
            "img_stream_board-1_frame-cam2"
        );
        assert_eq!(camera_name("..", 0), "__-cam0");
        assert_eq!(camera_name("a/../b", 1), "a_.._b-cam1");
    }

    #[test]
    fn writes_file_and_json_line() {
        let dir = temp_dir("write");
        let store = Store::open(&dir).unwrap();
        let meta = FrameMeta {
            seq: 42,
            timestamp_us: 123_456,
            width: 640,
            height: 480,
            format: FORMAT_JPEG,
        };
        let rel = store
            .write("peer-cam0", &meta, b"\xff\xd8jpeg\xff\xd9")
            .unwrap();
        assert_eq!(rel, Path::new("peer-cam0/0000000042.jpg"));
        assert_eq!(fs::read(dir.join(&rel)).unwrap(), b"\xff\xd8jpeg\xff\xd9");
        let text = fs::read_to_string(dir.join("frames.jsonl")).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(v["camera"], "peer-cam0");
        assert_eq!(v["seq"], 42);
        assert_eq!(v["timestamp_us"], 123_456);
        assert_eq!(v["size"], 8);
        assert_eq!(v["width"], 640);
        assert_eq!(v["height"], 480);
        assert_eq!(v["format"], 9);
        assert_eq!(v["crc_ok"], true);
        assert_eq!(v["file"], "peer-cam0/0000000042.jpg");
        assert!(v["received_unix_us"].as_u64().unwrap() > 1_600_000_000_000_000);
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.join("peer-cam0")).unwrap().collect();
        assert_eq!(names.len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn jpeg_dimensions_from_sof() {
        let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/tiny.jpg");
        let tiny = fs::read(tiny).unwrap();
        assert_eq!(jpeg_dimensions(&tiny), Some((16, 8)));
        assert_eq!(jpeg_dimensions(&tiny[..20]), None, "cut before the SOF");
        assert_eq!(jpeg_dimensions(b"not a jpeg"), None);
        // A minimal hand-made one: SOI, APP0 (4 bytes), SOF2 640x480.
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0, 0, 0xFF, 0xFF, 0xC2];
        j.extend([
            0x00, 0x0B, 0x08, 0x01, 0xE0, 0x02, 0x80, 0x01, 0x11, 0x11, 0x00,
        ]);
        assert_eq!(jpeg_dimensions(&j), Some((640, 480)));
    }

    #[test]
    fn raw_formats_are_not_called_jpg() {
        let meta = FrameMeta {
            seq: 3,
            timestamp_us: 0,
            width: 2,
            height: 2,
            format: 8,
        };
        assert_eq!(
            Store::relative_path("c", &meta),
            Path::new("c/0000000003.raw")
        );
    }
}
