//! The hub's state: one [`Camera`] per board camera, each holding only its
//! newest [`Frame`] (shared by every viewer through an `Arc`), its counters
//! and a short history for the dashboard chart.
//!
//! Inputs call [`Cameras::publish`] from their receiving threads; viewers
//! hold a `watch::Receiver`, so a slow viewer simply finds a newer frame
//! when it is ready again (latest-frame-wins) and never holds up the input.
//! The number of cameras is capped; a camera that goes quiet is shown as
//! offline after `HubLimits::offline_after` and forgotten after
//! `HubLimits::forget_after`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::watch;

use super::metrics::Metrics;
use crate::config::HubLimits;
use crate::status::Stats;

/// One received frame, held once whatever the number of viewers.
#[derive(Debug)]
pub struct Frame {
    /// The JPEG.
    pub jpeg: Bytes,
    /// The sender's seq.
    pub seq: u32,
    /// Width in pixels (0 when unknown).
    pub width: u16,
    /// Height in pixels (0 when unknown).
    pub height: u16,
    /// When the hub had it whole.
    pub received: Instant,
    /// The same moment on the wall clock (µs since the Unix epoch), sent to
    /// viewers as `X-Timestamp` so they can measure the hub's added latency.
    pub received_unix_us: u64,
}

/// Seconds of history kept for the camera page's chart.
pub const HISTORY_SECS: usize = 300;
/// Frames over which fps and kB/s are averaged.
const RATE_WINDOW: usize = 32;

/// One second of a camera's history.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sample {
    /// Seconds since the Unix epoch.
    pub unix_s: u64,
    /// Frames per second received.
    pub fps: f32,
    /// Mean added latency of frames handed to viewers, ms.
    pub latency_ms: f32,
}

#[derive(Debug, Default)]
struct Live {
    /// Receive times and sizes of the last frames, for fps and kB/s.
    recent: VecDeque<(Instant, usize)>,
    last_seen: Option<Instant>,
    history: VecDeque<Sample>,
    frames_at_last_sample: u64,
    latency_sum_s: f64,
    latency_n: u64,
}

/// One camera of one board.
#[derive(Debug)]
pub struct Camera {
    /// URL-safe key: `<transport>-<address or topic>-cam<N>`.
    pub id: String,
    /// The input it arrives on (`tcp 127.0.0.1:5000`...).
    pub input: String,
    input_stats: Arc<Stats>,
    latest: watch::Sender<Option<Arc<Frame>>>,
    viewers: AtomicUsize,
    frames: AtomicU64,
    bytes: AtomicU64,
    drops: AtomicU64,
    live: Mutex<Live>,
}

/// What [`Camera::rates`] and the JSON API report.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Frames per second over the last frames (0 when offline).
    pub fps: f64,
    /// Payload kB/s over the same frames.
    pub kbps: f64,
    /// How long ago the last frame came, if any.
    pub last_seen: Option<Duration>,
    /// Mean added latency over the last second with viewers, ms.
    pub latency_ms: f64,
}

impl Camera {
    /// Frames received.
    pub fn frames(&self) -> u64 {
        self.frames.load(Relaxed)
    }

    /// Payload bytes received.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Relaxed)
    }

    /// Frames missing by seq gaps.
    pub fn drops(&self) -> u64 {
        self.drops.load(Relaxed)
    }

    /// CRC errors of the camera's input (a frame whose payload fails its
    /// CRC is not attributed further than the input that received it).
    pub fn crc_errors(&self) -> u64 {
        self.input_stats.crc_errors.load(Relaxed)
    }

    /// Viewers now.
    pub fn viewers(&self) -> usize {
        self.viewers.load(Relaxed)
    }

    /// The newest frame.
    pub fn latest(&self) -> Option<Arc<Frame>> {
        self.latest.borrow().clone()
    }

    /// A receiver of new frames for one viewer.
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<Frame>>> {
        self.latest.subscribe()
    }

    /// fps, kB/s, last seen and latency now.
    pub fn summary(&self, now: Instant) -> Summary {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let last_seen = live.last_seen.map(|t| now.saturating_duration_since(t));
        let (mut fps, mut kbps) = (0.0, 0.0);
        if let (Some((first, _)), Some((last, _))) = (live.recent.front(), live.recent.back()) {
            let span = last.saturating_duration_since(*first).as_secs_f64();
            // Quiet for longer than the window took: the rate is stale.
            let quiet = now.saturating_duration_since(*last).as_secs_f64();
            if span > 0.0 && quiet < span.max(1.0) {
                let n = (live.recent.len() - 1) as f64;
                fps = n / span;
                let bytes: usize = live.recent.iter().skip(1).map(|(_, b)| b).sum();
                kbps = bytes as f64 / span / 1000.0;
            }
        }
        let latency_ms = live.history.back().map_or(0.0, |s| s.latency_ms as f64);
        Summary {
            fps,
            kbps,
            last_seen,
            latency_ms,
        }
    }

    /// The chart's samples, oldest first.
    pub fn history(&self) -> Vec<Sample> {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.history.iter().copied().collect()
    }

    /// Adds one viewer's added latency (hub receive to hand-off) to the
    /// current second's mean.
    pub fn observe_latency(&self, seconds: f64) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.latency_sum_s += seconds;
        live.latency_n += 1;
    }

    fn sample(&self, unix_s: u64) {
        let frames = self.frames();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let fps = frames.saturating_sub(live.frames_at_last_sample) as f32;
        let latency_ms = if live.latency_n > 0 {
            (live.latency_sum_s / live.latency_n as f64 * 1000.0) as f32
        } else {
            0.0
        };
        live.frames_at_last_sample = frames;
        live.latency_sum_s = 0.0;
        live.latency_n = 0;
        if live.history.len() == HISTORY_SECS {
            live.history.pop_front();
        }
        live.history.push_back(Sample {
            unix_s,
            fps,
            latency_ms,
        });
    }
}

/// A viewer's claim on a slot; frees it when dropped.
#[derive(Debug)]
pub struct ViewerSlot {
    camera: Arc<Camera>,
    cameras: Arc<Cameras>,
}

impl ViewerSlot {
    /// The camera being viewed.
    pub fn camera(&self) -> &Arc<Camera> {
        &self.camera
    }
}

impl Drop for ViewerSlot {
    fn drop(&mut self) {
        self.camera.viewers.fetch_sub(1, Relaxed);
        self.cameras.viewers.fetch_sub(1, Relaxed);
        self.cameras.metrics.set_viewers(&self.camera);
    }
}

/// Why a viewer was turned away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// No such camera.
    Unknown,
    /// The camera or the hub has its most viewers.
    Full,
}

/// Every camera the hub knows.
#[derive(Debug)]
pub struct Cameras {
    limits: HubLimits,
    table: Mutex<HashMap<String, Arc<Camera>>>,
    viewers: AtomicUsize,
    /// Frames refused because the camera table was full.
    pub refused_frames: AtomicU64,
    /// The Prometheus registry and its families.
    pub metrics: Metrics,
}

impl Cameras {
    /// An empty table.
    pub fn new(limits: HubLimits) -> Arc<Cameras> {
        Arc::new(Cameras {
            limits,
            table: Mutex::new(HashMap::new()),
            viewers: AtomicUsize::new(0),
            refused_frames: AtomicU64::new(0),
            metrics: Metrics::new(),
        })
    }

    /// The caps in force.
    pub fn limits(&self) -> &HubLimits {
        &self.limits
    }

    /// Makes `frame` camera `id`'s newest, creating the camera if there is
    /// room. Returns false when it was refused (table full).
    pub fn publish(
        &self,
        id: &str,
        input: &str,
        input_stats: &Arc<Stats>,
        frame: Frame,
        drops: u64,
    ) -> bool {
        let camera = {
            let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
            match table.get(id) {
                Some(c) => c.clone(),
                None => {
                    if table.len() >= self.limits.max_cameras {
                        self.refused_frames.fetch_add(1, Relaxed);
                        return false;
                    }
                    let camera = Arc::new(Camera {
                        id: id.to_owned(),
                        input: input.to_owned(),
                        input_stats: input_stats.clone(),
                        latest: watch::Sender::new(None),
                        viewers: AtomicUsize::new(0),
                        frames: AtomicU64::new(0),
                        bytes: AtomicU64::new(0),
                        drops: AtomicU64::new(0),
                        live: Mutex::new(Live::default()),
                    });
                    table.insert(id.to_owned(), camera.clone());
                    crate::status::log(format_args!("hub: new camera {id} on {input}"));
                    camera
                }
            }
        };
        let len = frame.jpeg.len();
        let received = frame.received;
        camera.frames.fetch_add(1, Relaxed);
        camera.bytes.fetch_add(len as u64, Relaxed);
        camera.drops.fetch_add(drops, Relaxed);
        self.metrics.frame(&camera, len, drops);
        {
            let mut live = camera.live.lock().unwrap_or_else(|e| e.into_inner());
            if live.recent.len() == RATE_WINDOW {
                live.recent.pop_front();
            }
            live.recent.push_back((received, len));
            live.last_seen = Some(received);
        }
        // Replaces the previous frame; viewers still writing it keep their Arc.
        camera.latest.send_replace(Some(Arc::new(frame)));
        true
    }

    /// One camera by id.
    pub fn get(&self, id: &str) -> Option<Arc<Camera>> {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Every camera, sorted by id.
    pub fn list(&self) -> Vec<Arc<Camera>> {
        let mut v: Vec<_> = self
            .table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Viewers now, all cameras.
    pub fn viewers(&self) -> usize {
        self.viewers.load(Relaxed)
    }

    /// Claims a viewer slot of camera `id`.
    pub fn open_viewer(self: &Arc<Cameras>, id: &str) -> Result<ViewerSlot, Refused> {
        let camera = self.get(id).ok_or(Refused::Unknown)?;
        let total = self.viewers.fetch_add(1, Relaxed);
        let mine = camera.viewers.fetch_add(1, Relaxed);
        let slot = ViewerSlot {
            camera,
            cameras: self.clone(),
        };
        // The slot's Drop gives both back when refused.
        if total >= self.limits.max_viewers || mine >= self.limits.max_viewers_per_camera {
            return Err(Refused::Full);
        }
        self.metrics.set_viewers(&slot.camera);
        Ok(slot)
    }

    /// Once a second: history samples, and cameras quiet for too long
    /// forgotten (their viewers' streams end when the last `Arc` goes).
    pub fn tick(&self, now: Instant, unix_s: u64) {
        let mut forgotten = Vec::new();
        {
            let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
            table.retain(|_, c| {
                let quiet = c.summary(now).last_seen.unwrap_or_default();
                let keep = quiet < self.limits.forget_after;
                if !keep {
                    forgotten.push(c.clone());
                }
                keep
            });
        }
        for c in &forgotten {
            crate::status::log(format_args!("hub: forgot camera {}", c.id));
            self.metrics.forget(c);
            // Ends every viewer's stream: they wait on this sender.
            c.latest.send_replace(None);
        }
        for c in self.list() {
            c.sample(unix_s);
        }
    }

    /// Whether `camera` had a frame within `HubLimits::offline_after`.
    pub fn online(&self, camera: &Camera, now: Instant) -> bool {
        camera
            .summary(now)
            .last_seen
            .is_some_and(|d| d < self.limits.offline_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u32, at: Instant) -> Frame {
        Frame {
            jpeg: Bytes::from(vec![seq as u8; 100]),
            seq,
            width: 8,
            height: 8,
            received: at,
            received_unix_us: 0,
        }
    }

    #[test]
    fn latest_wins_caps_and_forgetting() {
        let limits = HubLimits {
            max_cameras: 2,
            max_viewers_per_camera: 2,
            max_viewers: 3,
            offline_after: Duration::from_secs(1),
            forget_after: Duration::from_secs(10),
        };
        let cams = Cameras::new(limits);
        let stats = Stats::new();
        let t = Instant::now();
        assert!(cams.publish("a", "tcp", &stats, frame(1, t), 0));
        let a = cams.get("a").unwrap();
        let mut rx = a.subscribe();
        assert!(cams.publish("a", "tcp", &stats, frame(2, t), 0));
        assert!(cams.publish("a", "tcp", &stats, frame(3, t), 1));
        // A viewer that was busy sees only the newest frame.
        assert!(rx.has_changed().unwrap());
        assert_eq!(rx.borrow_and_update().as_ref().unwrap().seq, 3);
        assert_eq!((a.frames(), a.bytes(), a.drops()), (3, 300, 1));
        assert!(cams.publish("b", "udp", &stats, frame(1, t), 0));
        assert!(!cams.publish("c", "udp", &stats, frame(1, t), 0));
        assert_eq!(cams.refused_frames.load(Relaxed), 1);

        let v1 = cams.open_viewer("a").unwrap();
        let _v2 = cams.open_viewer("a").unwrap();
        assert_eq!(cams.open_viewer("a").unwrap_err(), Refused::Full);
        let _v3 = cams.open_viewer("b").unwrap();
        assert_eq!(cams.open_viewer("b").unwrap_err(), Refused::Full);
        assert_eq!(cams.open_viewer("zz").unwrap_err(), Refused::Unknown);
        assert_eq!(cams.viewers(), 3);
        drop(v1);
        assert_eq!((cams.viewers(), a.viewers()), (2, 1));

        assert!(cams.online(&a, t));
        assert!(!cams.online(&a, t + Duration::from_secs(2)));
        cams.tick(t + Duration::from_secs(11), 0);
        assert!(cams.list().is_empty());
        // Viewers of a forgotten camera see the end of its stream.
        assert!(rx.borrow_and_update().is_none());
    }
}
