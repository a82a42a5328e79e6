//! `--record DIR`: per-camera segments with retention enforced while
//! writing.
//!
//! ```text
//! DIR/<camera>/<start unix ms>.mjpeg   concatenated JPEGs (ffmpeg -i, VLC)
//! DIR/<camera>/<start unix ms>.idx     one line per frame: offset size unix_us seq
//! ```
//!
//! A segment is closed after [`SEGMENT_AGE`] or when it reaches a quarter of
//! `--keep-bytes`, so that deleting the oldest segment always frees room.
//! Before every write the recorder deletes the oldest segments (any camera)
//! until the write fits: the files under DIR never add up to more than
//! `--keep-bytes`. Segments older than `--keep-age` are deleted too. Frames
//! come through a bounded queue from the receiving threads; when the disk is
//! slower than the cameras, frames are skipped and counted, inputs never wait.

use std::collections::{HashMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::config::RecordConfig;
use crate::status::log;

/// Longest a segment stays open.
pub const SEGMENT_AGE: Duration = Duration::from_secs(60);
/// Frames waiting for the disk, all cameras.
const QUEUE: usize = 64;

struct Job {
    camera: String,
    jpeg: Bytes,
    seq: u32,
}

/// The handle the inputs offer frames to.
#[derive(Debug)]
pub struct Recorder {
    queue: Mutex<SyncSender<Job>>,
    /// Frames skipped because the queue was full or the frame too big.
    pub skipped: AtomicU64,
    /// Frames written.
    pub written: AtomicU64,
}

impl Recorder {
    /// Opens DIR (accounting for segments already there) and starts the
    /// writing thread.
    pub fn start(config: RecordConfig) -> anyhow::Result<std::sync::Arc<Recorder>> {
        fs::create_dir_all(&config.dir)?;
        let mut disk = Disk::open(config)?;
        let (tx, rx) = mpsc::sync_channel::<Job>(QUEUE);
        let recorder = std::sync::Arc::new(Recorder {
            queue: Mutex::new(tx),
            skipped: AtomicU64::new(0),
            written: AtomicU64::new(0),
        });
        let r = recorder.clone();
        std::thread::spawn(move || loop {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(job) => match disk.write(&job.camera, &job.jpeg, job.seq) {
                    Ok(true) => {
                        r.written.fetch_add(1, Relaxed);
                    }
                    Ok(false) => {
                        r.skipped.fetch_add(1, Relaxed);
                    }
                    Err(e) => {
                        r.skipped.fetch_add(1, Relaxed);
                        log(format_args!("hub: recording: {e}"));
                    }
                },
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = disk.expire(now_ms()) {
                        log(format_args!("hub: recording: {e}"));
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        });
        Ok(recorder)
    }

    /// Queues a frame for writing; skips it when the disk is behind.
    pub fn offer(&self, camera: &str, jpeg: Bytes, seq: u32) {
        let job = Job {
            camera: camera.to_owned(),
            jpeg,
            seq,
        };
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = queue.try_send(job) {
            self.skipped.fetch_add(1, Relaxed);
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A segment on disk: `<base>.mjpeg` and `<base>.idx`.
#[derive(Debug)]
struct Segment {
    camera: String,
    base: PathBuf,
    start_ms: u64,
    bytes: u64,
}

struct Open {
    jpegs: File,
    index: File,
    start_ms: u64,
    bytes: u64,
    offset: u64,
}

/// The recording directory: every segment, oldest first, and the total.
struct Disk {
    config: RecordConfig,
    segments: VecDeque<Segment>,
    open: HashMap<String, Open>,
    total: u64,
}

impl Disk {
    fn open(config: RecordConfig) -> io::Result<Disk> {
        let mut segments = Vec::new();
        for cam in fs::read_dir(&config.dir)? {
            let cam = cam?;
            if !cam.file_type()?.is_dir() {
                continue;
            }
            let camera = cam.file_name().to_string_lossy().into_owned();
            let mut by_base: HashMap<PathBuf, (u64, u64)> = HashMap::new();
            for f in fs::read_dir(cam.path())? {
                let f = f?;
                let path = f.path();
                let Some(start) = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .and_then(|s| s.parse::<u64>().ok())
                else {
                    continue;
                };
                if !matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("mjpeg" | "idx")
                ) {
                    continue;
                }
                let e = by_base.entry(path.with_extension("")).or_insert((start, 0));
                e.1 += f.metadata()?.len();
            }
            for (base, (start_ms, bytes)) in by_base {
                segments.push(Segment {
                    camera: camera.clone(),
                    base,
                    start_ms,
                    bytes,
                });
            }
        }
        segments.sort_by_key(|s| s.start_ms);
        let total = segments.iter().map(|s| s.bytes).sum();
        let mut disk = Disk {
            config,
            segments: segments.into(),
            open: HashMap::new(),
            total,
        };
        // A smaller --keep-bytes than last time applies at once.
        disk.make_room(0)?;
        Ok(disk)
    }

    fn segment_cap(&self) -> u64 {
        (self.config.keep_bytes / 4).max(1)
    }

    /// Writes one frame; false when it cannot fit at all.
    fn write(&mut self, camera: &str, jpeg: &[u8], seq: u32) -> io::Result<bool> {
        let now = now_ms();
        self.expire(now)?;
        let unix_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let rotate = match self.open.get(camera) {
            Some(o) => {
                let line = index_line(o.offset, jpeg.len(), unix_us, seq).len() as u64;
                now.saturating_sub(o.start_ms) >= SEGMENT_AGE.as_millis() as u64
                    || o.bytes + jpeg.len() as u64 + line > self.segment_cap()
            }
            None => false,
        };
        if rotate {
            self.open.remove(camera);
        }
        let offset = self.open.get(camera).map_or(0, |o| o.offset);
        let line = index_line(offset, jpeg.len(), unix_us, seq);
        let need = (jpeg.len() + line.len()) as u64;
        if need > self.segment_cap() {
            return Ok(false);
        }
        self.make_room(need)?;
        if !self.open.contains_key(camera) {
            let dir = self.config.dir.join(camera);
            fs::create_dir_all(&dir)?;
            // Two segments of one camera within a millisecond get distinct names.
            let start_ms = self
                .segments
                .iter()
                .filter(|s| s.camera == camera)
                .map(|s| s.start_ms + 1)
                .max()
                .unwrap_or(0)
                .max(now);
            let base = dir.join(start_ms.to_string());
            let create = |ext: &str| {
                OpenOptions::new()
                    .create_new(true)
                    .append(true)
                    .open(base.with_extension(ext))
            };
            let open = Open {
                jpegs: create("mjpeg")?,
                index: create("idx")?,
                start_ms,
                bytes: 0,
                offset: 0,
            };
            self.segments.push_back(Segment {
                camera: camera.to_owned(),
                base,
                start_ms,
                bytes: 0,
            });
            self.open.insert(camera.to_owned(), open);
        }
        let Some(o) = self.open.get_mut(camera) else {
            return Ok(false);
        };
        o.jpegs.write_all(jpeg)?;
        o.index.write_all(line.as_bytes())?;
        o.offset += jpeg.len() as u64;
        o.bytes += need;
        let start = o.start_ms;
        if let Some(s) = self
            .segments
            .iter_mut()
            .rev()
            .find(|s| s.camera == camera && s.start_ms == start)
        {
            s.bytes += need;
        }
        self.total += need;
        Ok(true)
    }

    /// Deletes the oldest segments until `need` more bytes fit.
    fn make_room(&mut self, need: u64) -> io::Result<()> {
        while self.total + need > self.config.keep_bytes {
            let Some(oldest) = self.segments.pop_front() else {
                break;
            };
            self.delete(oldest)?;
        }
        Ok(())
    }

    /// Closes segments open for [`SEGMENT_AGE`] (cameras that went quiet
    /// keep no file open) and deletes segments older than `--keep-age`.
    fn expire(&mut self, now_ms: u64) -> io::Result<()> {
        let open_for = SEGMENT_AGE.as_millis() as u64;
        self.open
            .retain(|_, o| now_ms.saturating_sub(o.start_ms) < open_for);
        let age = self.config.keep_age.as_millis() as u64;
        while let Some(s) = self.segments.front() {
            // Judged by its start: a segment spans at most SEGMENT_AGE.
            if now_ms.saturating_sub(s.start_ms) <= age {
                break;
            }
            let s = self.segments.pop_front().expect("front exists");
            self.delete(s)?;
        }
        Ok(())
    }

    fn delete(&mut self, s: Segment) -> io::Result<()> {
        if self
            .open
            .get(&s.camera)
            .is_some_and(|o| o.start_ms == s.start_ms)
        {
            self.open.remove(&s.camera);
        }
        for ext in ["mjpeg", "idx"] {
            match fs::remove_file(s.base.with_extension(ext)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        self.total -= s.bytes.min(self.total);
        if let Some(dir) = s.base.parent() {
            // Only succeeds once the camera has no segment left.
            let _ = fs::remove_dir(dir);
        }
        Ok(())
    }
}

fn index_line(offset: u64, len: usize, unix_us: u64, seq: u32) -> String {
    format!("{offset} {len} {unix_us} {seq}\n")
}

/// Sum of file sizes under `dir` (tests and the bench check the cap with it).
pub fn dir_bytes(dir: &Path) -> io::Result<u64> {
    let mut total = 0;
    for e in fs::read_dir(dir)? {
        let e = e?;
        let m = e.metadata()?;
        total += if m.is_dir() {
            dir_bytes(&e.path())?
        } else {
            m.len()
        };
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_over_the_cap_and_old_segments_go() {
        let dir = std::env::temp_dir().join(format!("img-stream-record-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let config = RecordConfig {
            dir: dir.clone(),
            keep_bytes: 40_000,
            keep_age: Duration::from_secs(3600),
        };
        let mut disk = Disk::open(config.clone()).unwrap();
        let jpeg = vec![0xAB; 3000];
        let mut deleted_some = false;
        for i in 0..200u32 {
            let cam = if i % 3 == 0 { "a" } else { "b" };
            assert!(disk.write(cam, &jpeg, i).unwrap());
            let on_disk = dir_bytes(&dir).unwrap();
            assert!(on_disk <= config.keep_bytes, "{on_disk} after frame {i}");
            assert_eq!(on_disk, disk.total);
            deleted_some |= disk.segments.len() < disk.open.len() + (i as usize);
        }
        assert!(deleted_some);
        // Too big for any segment: refused, not written.
        assert!(!disk.write("a", &vec![0; 20_000], 0).unwrap());
        // A restart counts what is there.
        drop(disk);
        let mut again = Disk::open(config).unwrap();
        assert_eq!(again.total, dir_bytes(&dir).unwrap());
        again.expire(now_ms() + 7_200_000).unwrap();
        assert_eq!(dir_bytes(&dir).unwrap(), 0);
        let _ = fs::remove_dir_all(&dir);
    }
}
