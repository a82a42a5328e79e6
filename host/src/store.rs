//! The `--out DIR` layout, shared by every receiver.
//!
//! ```text
//! DIR/frames.jsonl               one JSON object per written frame, appended
//! DIR/<camera>/<seq>.jpg         the payload (".raw" for non-JPEG formats)
//! ```
//!
//! `<camera>` comes from [`camera_name`] (source + camera id, filesystem
//! safe, at most [`MAX_SOURCE_NAME`] characters of source), `<seq>` is
//! zero-padded to 10 digits so names sort in seq order. Each file is written
//! under a temporary name and linked into place, so a reader never sees half
//! a frame; its JSON line is appended only after that.
//!
//! A file is never overwritten (docs/PROTOCOL.md section 3.4): a frame whose
//! `<seq>.jpg` exists already (a sender that restarted, or re-sent a seq
//! with other content) is written as `<seq>-<payload_crc>.jpg` (8 hex
//! digits), and one whose that name exists too carries the same bytes: it
//! is a repeat, not written again ([`Written::Repeat`]).
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

use img_stream_core::crc32::crc32;
use img_stream_core::framing::FrameHeaderRepr;
use img_stream_core::pixel::PixelFormat;

/// Characters of a source kept in a camera name; a longer source is cut
/// and ends in `~` and the CRC-32 of the whole source (8 hex digits), so
/// cut names stay unique and every path component stays far below the
/// usual 255-byte limit.
pub const MAX_SOURCE_NAME: usize = 64;

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

impl From<&FrameHeaderRepr> for FrameMeta {
    fn from(h: &FrameHeaderRepr) -> FrameMeta {
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
/// character outside `[A-Za-z0-9._-]` becomes `_`, and brackets of IPv6
/// addresses are dropped, so the name is one path component on every OS;
/// past [`MAX_SOURCE_NAME`] characters it is cut and gets a hash suffix.
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
    if name.len() > MAX_SOURCE_NAME {
        // All ASCII by now, so any byte index is a char boundary.
        name.truncate(MAX_SOURCE_NAME - 9);
        name.push_str(&format!("~{:08x}", crc32(source.as_bytes())));
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

/// What [`Store::write`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    /// Written to this path, relative to the output directory.
    New(PathBuf),
    /// The same seq with the same payload was written before; nothing
    /// written.
    Repeat,
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

    /// The path, relative to the output directory, of a frame's file;
    /// `resent` names the second copy of a seq (`<seq>-<crc>`).
    pub fn relative_path(camera: &str, meta: &FrameMeta, resent: Option<u32>) -> PathBuf {
        let ext = if meta.format == PixelFormat::Jpeg.code() {
            "jpg"
        } else {
            "raw"
        };
        match resent {
            None => Path::new(camera).join(format!("{:010}.{ext}", meta.seq)),
            Some(crc) => Path::new(camera).join(format!("{:010}-{crc:08x}.{ext}", meta.seq)),
        }
    }

    /// Writes one verified frame and appends its JSON line; never replaces
    /// a file (see the module docs).
    ///
    /// Only call this for frames whose CRCs verified: the line says
    /// `"crc_ok": true`.
    pub fn write(&self, camera: &str, meta: &FrameMeta, payload: &[u8]) -> io::Result<Written> {
        let received_unix_us = unix_now_us();
        let cam_dir = self.dir.join(camera);
        fs::create_dir_all(&cam_dir)?;
        let tmp = cam_dir.join(format!(".{:010}.part", meta.seq));
        fs::write(&tmp, payload)?;
        let mut rel = Self::relative_path(camera, meta, None);
        // A hard link fails when the name exists, where rename would replace.
        let mut linked = fs::hard_link(&tmp, self.dir.join(&rel));
        if matches!(&linked, Err(e) if e.kind() == io::ErrorKind::AlreadyExists) {
            rel = Self::relative_path(camera, meta, Some(crc32(payload)));
            linked = fs::hard_link(&tmp, self.dir.join(&rel));
        }
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(Written::Repeat),
            Err(e) => return Err(e),
        }
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
        Ok(Written::New(rel))
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
        // Long sources are cut, and stay apart by their hash suffix.
        let long_a = format!("img_stream/{}/frame", "a".repeat(300));
        let long_b = format!("img_stream/{}/frame", "a".repeat(301));
        let (a, b) = (camera_name(&long_a, 0), camera_name(&long_b, 0));
        assert!(a.len() <= MAX_SOURCE_NAME + "-cam65535".len(), "{a}");
        assert_ne!(a, b);
        assert!(a.contains('~'));
        let odd = camera_name(&"é".repeat(100), 1);
        assert!(odd.is_ascii() && odd.len() <= MAX_SOURCE_NAME + 5, "{odd}");
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
            format: PixelFormat::Jpeg.code(),
        };
        let Written::New(rel) = store
            .write("peer-cam0", &meta, b"\xff\xd8jpeg\xff\xd9")
            .unwrap()
        else {
            panic!("not written")
        };
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
        // The same seq with other bytes goes beside it; the same bytes again
        // are a repeat; the first file is never replaced.
        let other = b"\xff\xd8other\xff\xd9";
        let crc = crc32(other);
        assert_eq!(
            store.write("peer-cam0", &meta, other).unwrap(),
            Written::New(PathBuf::from(format!("peer-cam0/0000000042-{crc:08x}.jpg")))
        );
        assert_eq!(
            store.write("peer-cam0", &meta, other).unwrap(),
            Written::Repeat
        );
        assert_eq!(fs::read(dir.join(&rel)).unwrap(), b"\xff\xd8jpeg\xff\xd9");
        let lines = fs::read_to_string(dir.join("frames.jsonl")).unwrap();
        assert_eq!(lines.lines().count(), 2, "one line per file written");
        assert_eq!(fs::read_dir(dir.join("peer-cam0")).unwrap().count(), 2);
        fs::remove_dir_all(&dir).unwrap();
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
            Store::relative_path("c", &meta, None),
            Path::new("c/0000000003.raw")
        );
    }
}
