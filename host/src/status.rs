//! Counters shared by every receiver, sequence-gap tracking, and the status
//! line on stderr.
//!
//! - [`Stats`]: lock-free counters that any connection thread bumps.
//! - [`SeqTracker`]: turns the seq numbers of each camera into a drop count.
//! - [`StatusReporter`]: a thread that prints [`Stats`] on stderr, as one
//!   rewritten line on a terminal or as plain periodic lines otherwise, and a
//!   final summary line when stopped.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::budget::SourceMap;
use crate::config::StatusMode;
use crate::reassembly::Counters;

/// Counters for one receiver run, shared by all its threads.
///
/// Stream-level fields are bumped with [`Stats::add`]; the chunk fields mirror
/// a [`crate::reassembly::Reassembler`]'s counters through
/// [`Stats::set_chunk_counters`].
#[derive(Debug, Default)]
pub struct Stats {
    /// Good frames delivered (written, or counted when there is no `--out`).
    pub frames: AtomicU64,
    /// Payload bytes of those frames.
    pub bytes: AtomicU64,
    /// Frames missing according to sequence-number gaps.
    pub drops: AtomicU64,
    /// Frames whose payload CRC did not match (never delivered).
    pub crc_errors: AtomicU64,
    /// Headers rejected: bad length or bad header CRC.
    pub bad_headers: AtomicU64,
    /// Frames refused because their length exceeds the configured maximum.
    pub oversize: AtomicU64,
    /// Frames skipped because of an unknown protocol version.
    pub unsupported: AtomicU64,
    /// Bytes skipped while searching for the next frame.
    pub garbage_bytes: AtomicU64,
    /// Frames cut off by the end of a connection.
    pub truncated: AtomicU64,
    /// Connections accepted or established so far.
    pub connections: AtomicU64,
    /// Chunk messages rejected as garbage (message transports).
    pub chunk_garbage: AtomicU64,
    /// Duplicate chunks ignored (message transports).
    pub chunk_duplicates: AtomicU64,
    /// Chunks that arrived for a frame already finished or dropped.
    pub chunk_late: AtomicU64,
    /// Frames dropped as corrupt after or during reassembly.
    pub chunk_corrupt: AtomicU64,
    /// Incomplete frames dropped (timeout, superseded, end of input).
    pub chunk_incomplete: AtomicU64,
    /// Partial frames dropped because the memory budget was full (chunks
    /// or TCP connections mid-frame).
    pub evicted: AtomicU64,
    /// Messages or reads refused because the budget stayed full.
    pub over_budget: AtomicU64,
    /// Verified frames with an empty payload (counted, not written).
    pub empty: AtomicU64,
    /// Verified JPEG-format frames whose payload is not a JPEG (counted,
    /// not written).
    pub not_jpeg: AtomicU64,
    /// Frames re-sent under a seq already written with the same payload
    /// (not written again).
    pub repeats: AtomicU64,
    /// TCP connections closed for silence (idle timeout).
    pub idle_closed: AtomicU64,
    /// TCP connections closed to admit a new one (connection cap).
    pub conn_evicted: AtomicU64,
    /// Failed `accept` calls (EMFILE, ENFILE, ENOMEM...).
    pub accept_errors: AtomicU64,
}

impl Stats {
    /// New zeroed counters, ready to share.
    pub fn new() -> Arc<Stats> {
        Arc::new(Stats::default())
    }

    /// Adds `n` to one counter (all counters are independent, so `Relaxed`).
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// Copies a reassembler's cumulative counters into the chunk fields.
    ///
    /// A receiver with one reassembler calls this after each message; the
    /// fields are overwritten, not added, because the counters are totals.
    /// `oversize`, `unsupported`, `bad_headers` and `crc_errors` go to the
    /// shared fields of the same names, so a message receiver counts those
    /// only through this.
    pub fn set_chunk_counters(&self, c: &Counters) {
        self.chunk_garbage.store(c.garbage, Relaxed);
        self.chunk_duplicates.store(c.duplicates, Relaxed);
        self.chunk_late.store(c.late, Relaxed);
        self.chunk_corrupt.store(c.corrupt, Relaxed);
        self.chunk_incomplete.store(c.incomplete, Relaxed);
        self.evicted.store(c.evicted, Relaxed);
        self.over_budget.store(c.over_budget, Relaxed);
        self.bad_headers.store(c.bad_headers, Relaxed);
        self.oversize.store(c.oversize, Relaxed);
        self.unsupported.store(c.unsupported, Relaxed);
        self.crc_errors.store(c.crc_errors, Relaxed);
    }

    /// A consistent-enough copy for printing.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            frames: self.frames.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            drops: self.drops.load(Relaxed),
            crc_errors: self.crc_errors.load(Relaxed),
            bad_headers: self.bad_headers.load(Relaxed),
            oversize: self.oversize.load(Relaxed),
            unsupported: self.unsupported.load(Relaxed),
            garbage_bytes: self.garbage_bytes.load(Relaxed),
            truncated: self.truncated.load(Relaxed),
            connections: self.connections.load(Relaxed),
            chunk_garbage: self.chunk_garbage.load(Relaxed),
            chunk_duplicates: self.chunk_duplicates.load(Relaxed),
            chunk_late: self.chunk_late.load(Relaxed),
            chunk_corrupt: self.chunk_corrupt.load(Relaxed),
            chunk_incomplete: self.chunk_incomplete.load(Relaxed),
            evicted: self.evicted.load(Relaxed),
            over_budget: self.over_budget.load(Relaxed),
            empty: self.empty.load(Relaxed),
            not_jpeg: self.not_jpeg.load(Relaxed),
            repeats: self.repeats.load(Relaxed),
            idle_closed: self.idle_closed.load(Relaxed),
            conn_evicted: self.conn_evicted.load(Relaxed),
            accept_errors: self.accept_errors.load(Relaxed),
        }
    }
}

/// Plain copy of [`Stats`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Snapshot {
    pub frames: u64,
    pub bytes: u64,
    pub drops: u64,
    pub crc_errors: u64,
    pub bad_headers: u64,
    pub oversize: u64,
    pub unsupported: u64,
    pub garbage_bytes: u64,
    pub truncated: u64,
    pub connections: u64,
    pub chunk_garbage: u64,
    pub chunk_duplicates: u64,
    pub chunk_late: u64,
    pub chunk_corrupt: u64,
    pub chunk_incomplete: u64,
    pub evicted: u64,
    pub over_budget: u64,
    pub empty: u64,
    pub not_jpeg: u64,
    pub repeats: u64,
    pub idle_closed: u64,
    pub conn_evicted: u64,
    pub accept_errors: u64,
}

impl Snapshot {
    /// The status line: rates over `elapsed` since `prev`, then totals.
    ///
    /// The always-present fields come first in a fixed order so scripts can
    /// parse them; rarer counters appear only once non-zero.
    pub fn line(&self, prev: &Snapshot, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let fps = (self.frames - prev.frames) as f64 / secs;
        let kbps = (self.bytes - prev.bytes) as f64 / secs / 1000.0;
        let mut s = format!(
            "frames {} | {:.1} fps | {:.1} kB/s | drops {} | crc errors {} | bad headers {}",
            self.frames, fps, kbps, self.drops, self.crc_errors, self.bad_headers
        );
        let extra = [
            ("oversize", self.oversize),
            ("unsupported", self.unsupported),
            ("garbage bytes", self.garbage_bytes),
            ("truncated", self.truncated),
            ("chunk garbage", self.chunk_garbage),
            ("duplicates", self.chunk_duplicates),
            ("late", self.chunk_late),
            ("corrupt", self.chunk_corrupt),
            ("incomplete", self.chunk_incomplete),
            ("evicted", self.evicted),
            ("over budget", self.over_budget),
            ("empty", self.empty),
            ("not jpeg", self.not_jpeg),
            ("repeats", self.repeats),
            ("idle closed", self.idle_closed),
            ("connections evicted", self.conn_evicted),
            ("accept errors", self.accept_errors),
        ];
        for (name, n) in extra {
            if n != 0 {
                s.push_str(&format!(" | {name} {n}"));
            }
        }
        s
    }
}

/// Counts frames missing from each camera's sequence numbers.
///
/// Keyed by any camera name. `reorder_window` is how far back a seq may
/// arrive without being taken as a sender restart: 0 for TCP (order is
/// guaranteed, so any step back is a restart), a few frames for UDP.
///
/// Bounded like all per-source state: at most [`SEQ_SOURCES`] cameras, each
/// forgotten after [`SEQ_TTL`] without a frame.
#[derive(Debug)]
pub struct SeqTracker {
    last: SourceMap<String, u32>,
    reorder_window: u32,
}

/// Cameras a [`SeqTracker`] follows at most (the idlest is forgotten).
pub const SEQ_SOURCES: usize = 16_384;
/// A camera silent this long starts afresh.
pub const SEQ_TTL: Duration = Duration::from_secs(300);

/// A forward jump at least this large is a restart, not a loss.
const RESTART_JUMP: u32 = 1 << 20;

impl SeqTracker {
    /// A tracker that treats steps back within `reorder_window` as reordering.
    pub fn new(reorder_window: u32) -> SeqTracker {
        SeqTracker {
            last: SourceMap::new(SEQ_SOURCES, SEQ_TTL),
            reorder_window,
        }
    }

    /// Records `seq` for `camera`; returns how many frames the gap says were lost.
    pub fn observe(&mut self, camera: &str, seq: u32) -> u64 {
        let now = Instant::now();
        self.last.expire(now);
        let Some(last) = self.last.get_mut(camera, now) else {
            self.last.insert(camera.to_owned(), seq, now);
            return 0;
        };
        let ahead = seq.wrapping_sub(*last);
        if ahead == 0 {
            return 0;
        }
        if ahead < RESTART_JUMP {
            *last = seq;
            return u64::from(ahead - 1);
        }
        let behind = last.wrapping_sub(seq);
        if behind > self.reorder_window {
            // The sender restarted its counter.
            *last = seq;
        }
        0
    }
}

/// Set while a live status line is on screen, so [`log`] clears it first.
static LIVE_LINE: AtomicBool = AtomicBool::new(false);

/// Prints one message line on stderr without tangling it with a live
/// status line (which is redrawn below it at the next tick).
pub fn log(message: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    if LIVE_LINE.load(Relaxed) {
        let _ = write!(err, "\r\x1b[2K");
    }
    let _ = writeln!(err, "{message}");
}

/// The running status thread; [`StatusReporter::finish`] prints the summary.
pub struct StatusReporter {
    stop: mpsc::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl StatusReporter {
    /// Starts printing `stats` on stderr in `mode`.
    pub fn spawn(stats: Arc<Stats>, mode: StatusMode) -> StatusReporter {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || report(&stats, mode, &stopped));
        StatusReporter {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the thread and prints the final summary line.
    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for StatusReporter {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

fn report(stats: &Stats, mode: StatusMode, stopped: &mpsc::Receiver<()>) {
    let start = Instant::now();
    let interval = match mode {
        StatusMode::Live => Duration::from_millis(250),
        StatusMode::Periodic(d) => d,
        StatusMode::Quiet => Duration::MAX,
    };
    let mut prev = stats.snapshot();
    let mut prev_at = start;
    let mut live_drawn = false;
    // Waiting on the channel (not sleeping) lets `finish` end us at once.
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
        let now = Instant::now();
        let snap = stats.snapshot();
        let line = snap.line(&prev, now - prev_at);
        let mut err = std::io::stderr().lock();
        // Errors writing status are not worth stopping a receiver for.
        let _ = match mode {
            StatusMode::Live => {
                live_drawn = true;
                LIVE_LINE.store(true, Relaxed);
                write!(err, "\r\x1b[2K{line}")
            }
            _ => writeln!(err, "{line}"),
        };
        let _ = err.flush();
        prev = snap;
        prev_at = now;
    }
    let snap = stats.snapshot();
    let line = snap.line(&Snapshot::default(), start.elapsed());
    let mut err = std::io::stderr().lock();
    if live_drawn {
        LIVE_LINE.store(false, Relaxed);
        let _ = write!(err, "\r\x1b[2K");
    }
    let _ = writeln!(err, "summary: {line} | connections {}", snap.connections);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_gaps_count_missing_frames() {
        let mut t = SeqTracker::new(0);
        assert_eq!(t.observe("a", 5), 0);
        assert_eq!(t.observe("a", 6), 0);
        assert_eq!(t.observe("a", 9), 2);
        assert_eq!(t.observe("b", 100), 0, "cameras are independent");
        assert_eq!(t.observe("a", 9), 0, "repeat is no loss");
    }

    #[test]
    fn seq_wraps_without_loss() {
        let mut t = SeqTracker::new(0);
        t.observe("a", u32::MAX);
        assert_eq!(t.observe("a", 0), 0);
        assert_eq!(t.observe("a", 2), 1);
    }

    #[test]
    fn restart_is_not_a_loss() {
        let mut t = SeqTracker::new(0);
        t.observe("a", 500);
        assert_eq!(t.observe("a", 0), 0, "counter restarted");
        assert_eq!(t.observe("a", 1), 0, "and is followed from there");
        assert_eq!(t.observe("a", 3_000_000), 0, "huge jump is a restart");
        assert_eq!(t.observe("a", 3_000_001), 0);
    }

    #[test]
    fn reordering_within_window_is_ignored() {
        let mut t = SeqTracker::new(8);
        t.observe("a", 10);
        assert_eq!(t.observe("a", 12), 1);
        assert_eq!(t.observe("a", 11), 0, "late frame: no restart");
        assert_eq!(t.observe("a", 13), 0, "still following 12");
    }

    #[test]
    fn line_shows_rates_and_nonzero_extras() {
        let prev = Snapshot::default();
        let now = Snapshot {
            frames: 20,
            bytes: 40_000,
            crc_errors: 1,
            chunk_duplicates: 3,
            ..Snapshot::default()
        };
        let line = now.line(&prev, Duration::from_secs(2));
        assert_eq!(
            line,
            "frames 20 | 10.0 fps | 20.0 kB/s | drops 0 | crc errors 1 | bad headers 0 | duplicates 3"
        );
    }
}
