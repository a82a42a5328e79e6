//! Where every receiver hands its good frames: counting, `--out` writing,
//! drop tracking and the `--count` limit, shared by all connection threads;
//! and [`run`], the one skeleton every receiver runs in.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use img_stream_host::{output::{Output, Stop}, status::Stats, store::camera_name, config::OutputConfig};
//! # fn demo(config: &OutputConfig, frame: img_stream_host::stream::ReceivedFrame) -> anyhow::Result<()> {
//! let stats = Stats::new();
//! let (output, stops) = Output::new(config, stats.clone(), 0)?;
//! let output = Arc::new(output);
//! // In a receiving thread, for each verified frame:
//! let camera = camera_name("board-topic", frame.header.camera_id);
//! output.deliver(&camera, &(&frame.header).into(), &frame.payload)?;
//! // In the main thread: returns once --count frames are in, a thread
//! // reported a fatal error with `output.fail(err)`, or on Ctrl-C.
//! match img_stream_host::output::wait_for_stop(&stops) {
//!     Stop::CountReached | Stop::Interrupted => {}
//!     Stop::Fatal(err) => return Err(err),
//! }
//! # Ok(()) }
//! ```

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use img_stream_core::jpeg::info::looks_like_jpeg;
use img_stream_core::pixel::PixelFormat;

use crate::budget::Budget;
use crate::config::OutputConfig;
use crate::status::{SeqTracker, Stats, StatusReporter};
use crate::store::{FrameMeta, Store, Written};

/// How long [`run`] waits, after a stop, for the receiving thread to count
/// what it still holds.
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// Runs one receiver: opens the [`Output`] (with the process's memory
/// budget), starts the status line, runs `receive` on its own thread until
/// `--count` frames, a signal or a fatal error, then lets `receive` finish
/// (it sees `stopping` set) and prints the summary.
///
/// `receive` returns on its own only for a fatal error (or when it sees
/// `stopping`); `reorder_window` is [`SeqTracker::new`]'s.
pub fn run<F>(config: &OutputConfig, reorder_window: u32, receive: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(&Arc<Output>, &AtomicBool) -> anyhow::Result<()> + Send + 'static,
{
    let stats = Stats::new();
    let (output, stops) = Output::new(config, stats.clone(), reorder_window)?;
    let output = Arc::new(output);
    let reporter = StatusReporter::spawn(stats, config.status);
    let stopping = Arc::new(AtomicBool::new(false));
    let (done_tx, done) = mpsc::channel::<()>();
    {
        let (output, stopping) = (output.clone(), stopping.clone());
        std::thread::spawn(move || {
            if let Err(e) = receive(&output, &stopping) {
                output.fail(e);
            }
            let _ = done_tx.send(());
        });
    }
    let stop = wait_for_stop(&stops);
    stopping.store(true, Ordering::SeqCst);
    // Bounded: a receiver blocked in a connect or read is not waited for.
    let _ = done.recv_timeout(DRAIN_WAIT);
    reporter.finish();
    match stop {
        Stop::CountReached | Stop::Interrupted => Ok(ExitCode::SUCCESS),
        Stop::Fatal(err) => Err(err),
    }
}

/// Why the main thread should stop.
#[derive(Debug)]
pub enum Stop {
    /// `--count` frames were delivered.
    CountReached,
    /// A receiving thread hit an error it cannot recover from.
    Fatal(anyhow::Error),
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

/// Blocks the main thread until the run should end.
///
/// Checks for Ctrl-C/SIGTERM ([`crate::signals`]) a few times a second.
pub fn wait_for_stop(stops: &mpsc::Receiver<Stop>) -> Stop {
    loop {
        match stops.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(stop) => return stop,
            Err(mpsc::RecvTimeoutError::Timeout) if crate::signals::requested() => {
                return Stop::Interrupted
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Stop::Fatal(anyhow::anyhow!("all receiving threads ended"))
            }
        }
    }
}

/// What [`Output::deliver`] did with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Counted (and written with `--out`).
    Kept,
    /// Not kept: `--count` frames were already delivered.
    OverLimit,
    /// Not kept: an empty payload, or a JPEG-format payload that is not a
    /// JPEG (counted in `empty` / `not_jpeg`).
    Refused,
    /// Not written again: the same seq with the same payload was already
    /// written (counted in `repeats`).
    Repeat,
}

/// Something that sees every kept frame besides the counters and `--out`
/// (the hub's fan-out). Called on the receiving thread: must not block.
pub trait Tap: Send + Sync {
    /// One verified frame of `camera`; `drops` is the seq gap it closed.
    fn frame(&self, camera: &str, meta: &FrameMeta, payload: &[u8], drops: u64);
}

/// The shared frame sink for one receiver run.
pub struct Output {
    stats: Arc<Stats>,
    budget: Arc<Budget>,
    store: Option<Store>,
    limit: Option<u64>,
    claimed: AtomicU64,
    kept: AtomicU64,
    seqs: Mutex<SeqTracker>,
    stops: Mutex<mpsc::Sender<Stop>>,
    tap: Option<Arc<dyn Tap>>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("store", &self.store)
            .field("limit", &self.limit)
            .field("tap", &self.tap.is_some())
            .finish_non_exhaustive()
    }
}

impl Output {
    /// Opens `--out` (if any) and returns the sink plus the channel the main
    /// thread waits on. `reorder_window` is [`SeqTracker::new`]'s: 0 for TCP.
    pub fn new(
        config: &OutputConfig,
        stats: Arc<Stats>,
        reorder_window: u32,
    ) -> anyhow::Result<(Output, mpsc::Receiver<Stop>)> {
        use anyhow::Context;
        let store = match &config.out {
            Some(dir) => Some(
                Store::open(dir).with_context(|| format!("cannot write to {}", dir.display()))?,
            ),
            None => None,
        };
        let (tx, rx) = mpsc::channel();
        Ok((
            Output {
                stats,
                budget: Budget::new(config.max_memory),
                store,
                limit: config.count,
                claimed: AtomicU64::new(0),
                kept: AtomicU64::new(0),
                seqs: Mutex::new(SeqTracker::new(reorder_window)),
                stops: Mutex::new(tx),
                tap: None,
            },
            rx,
        ))
    }

    /// Also hands every kept frame to `tap`.
    pub fn with_tap(mut self, tap: Arc<dyn Tap>) -> Output {
        self.tap = Some(tap);
        self
    }

    /// The shared counters.
    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// The process's memory budget (`--max-memory`).
    pub fn budget(&self) -> &Arc<Budget> {
        &self.budget
    }

    /// Delivers one verified frame from `camera` (a [`crate::store::camera_name`]).
    ///
    /// Exactly `--count` frames are ever kept, however many threads race
    /// here; the one that keeps the last sends [`Stop::CountReached`].
    /// Empty payloads and JPEG-format payloads that do not start like a
    /// JPEG are counted and never written.
    pub fn deliver(
        &self,
        camera: &str,
        meta: &FrameMeta,
        payload: &[u8],
    ) -> anyhow::Result<Delivered> {
        if payload.is_empty() {
            Stats::add(&self.stats.empty, 1);
            return Ok(Delivered::Refused);
        }
        if meta.format == PixelFormat::Jpeg.code() && !looks_like_jpeg(payload) {
            Stats::add(&self.stats.not_jpeg, 1);
            return Ok(Delivered::Refused);
        }
        if let Some(limit) = self.limit {
            if self.claimed.fetch_add(1, Ordering::SeqCst) >= limit {
                return Ok(Delivered::OverLimit);
            }
        }
        let drops = self
            .seqs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observe(camera, meta.seq);
        Stats::add(&self.stats.drops, drops);
        if let Some(store) = &self.store {
            use anyhow::Context;
            let written = store
                .write(camera, meta, payload)
                .with_context(|| format!("writing a frame to {}", store.dir().display()))?;
            if written == Written::Repeat {
                Stats::add(&self.stats.repeats, 1);
                // Not kept: give back the --count slot claimed above.
                if self.limit.is_some() {
                    self.claimed.fetch_sub(1, Ordering::SeqCst);
                }
                return Ok(Delivered::Repeat);
            }
        }
        if let Some(tap) = &self.tap {
            tap.frame(camera, meta, payload, drops);
        }
        Stats::add(&self.stats.frames, 1);
        Stats::add(&self.stats.bytes, payload.len() as u64);
        let kept = self.kept.fetch_add(1, Ordering::SeqCst) + 1;
        if Some(kept) == self.limit {
            self.send(Stop::CountReached);
        }
        Ok(Delivered::Kept)
    }

    /// Reports an error that should end the run.
    pub fn fail(&self, err: anyhow::Error) {
        self.send(Stop::Fatal(err));
    }

    fn send(&self, stop: Stop) {
        // The receiver is gone only when main already returned.
        let _ = self
            .stops
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(stop);
    }
}
