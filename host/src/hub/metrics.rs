//! `/metrics`: the hub's Prometheus registry (prometheus-client encodes the
//! text format; nothing here formats it by hand).
//!
//! Per camera: frames, bytes, drops, viewers, added latency. Per input: CRC
//! errors and other refusals the receiver counted. Per process: resident
//! memory and its peak, cameras refused for a full table.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::cameras::Camera;
use crate::status::Stats;

/// Labels of per-camera series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CameraLabels {
    /// The camera id.
    pub camera: String,
}

/// Labels of per-input series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InputLabels {
    /// The input as given (`tcp 127.0.0.1:5000`).
    pub input: String,
}

/// Labels of per-input refusals.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// The input as given.
    pub input: String,
    /// The receiver's counter (`oversize`, `not_jpeg`, ...).
    pub reason: String,
}

type HistogramFamily = Family<CameraLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.1 ms .. ~0.4 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 13))
}

/// The registry and its metric families.
pub struct Metrics {
    registry: Registry,
    frames: Family<CameraLabels, Counter>,
    bytes: Family<CameraLabels, Counter>,
    drops: Family<CameraLabels, Counter>,
    viewers: Family<CameraLabels, Gauge>,
    latency: HistogramFamily,
    crc_errors: Family<InputLabels, Counter>,
    refused_input: Family<RefusalLabels, Counter>,
    refused_cameras: Counter,
    rss: Gauge,
    peak_rss: Gauge,
    inputs: Mutex<Vec<(String, Arc<Stats>)>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn labels(camera: &Camera) -> CameraLabels {
    CameraLabels {
        camera: camera.id.clone(),
    }
}

impl Metrics {
    /// A registry with every family registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("img_stream_hub");
        let m = Metrics {
            frames: Family::default(),
            bytes: Family::default(),
            drops: Family::default(),
            viewers: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            crc_errors: Family::default(),
            refused_input: Family::default(),
            refused_cameras: Counter::default(),
            rss: Gauge::default(),
            peak_rss: Gauge::default(),
            inputs: Mutex::new(Vec::new()),
            registry: Registry::default(),
        };
        registry.register("frames", "Frames received", m.frames.clone());
        registry.register("bytes", "Payload bytes received", m.bytes.clone());
        registry.register("drops", "Frames missing by seq gaps", m.drops.clone());
        registry.register("viewers", "Stream viewers now", m.viewers.clone());
        registry.register(
            "added_latency_seconds",
            "Hub receive to hand-off to a viewer's connection",
            m.latency.clone(),
        );
        registry.register(
            "input_crc_errors",
            "Frames refused for a bad payload CRC",
            m.crc_errors.clone(),
        );
        registry.register(
            "input_refused",
            "Frames or messages the receivers refused, by reason",
            m.refused_input.clone(),
        );
        registry.register(
            "refused_camera_frames",
            "Frames refused because the camera table was full",
            m.refused_cameras.clone(),
        );
        registry.register("resident_memory_bytes", "Resident set size", m.rss.clone());
        registry.register(
            "peak_resident_memory_bytes",
            "Peak resident set size",
            m.peak_rss.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Registers an input whose receiver counters are exported.
    pub fn add_input(&self, input: &str, stats: Arc<Stats>) {
        self.inputs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((input.to_owned(), stats));
    }

    pub(super) fn frame(&self, camera: &Camera, len: usize, drops: u64) {
        let l = labels(camera);
        self.frames.get_or_create(&l).inc();
        self.bytes.get_or_create(&l).inc_by(len as u64);
        self.drops.get_or_create(&l).inc_by(drops);
    }

    pub(super) fn set_viewers(&self, camera: &Camera) {
        self.viewers
            .get_or_create(&labels(camera))
            .set(camera.viewers() as i64);
    }

    /// One frame handed to a viewer `seconds` after the hub received it.
    pub fn observe_latency(&self, camera: &Camera, seconds: f64) {
        self.latency.get_or_create(&labels(camera)).observe(seconds);
        camera.observe_latency(seconds);
    }

    pub(super) fn forget(&self, camera: &Camera) {
        let l = labels(camera);
        self.frames.remove(&l);
        self.bytes.remove(&l);
        self.drops.remove(&l);
        self.viewers.remove(&l);
        self.latency.remove(&l);
    }

    /// The text exposition, with process and input values read now.
    pub fn encode(&self, refused_cameras: &AtomicU64) -> String {
        mirror(&self.refused_cameras, refused_cameras.load(Relaxed));
        for (input, stats) in self.inputs.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let l = InputLabels {
                input: input.clone(),
            };
            let s = stats.snapshot();
            mirror(&self.crc_errors.get_or_create(&l), s.crc_errors);
            for (reason, n) in [
                ("bad_header", s.bad_headers),
                ("oversize", s.oversize),
                ("unsupported", s.unsupported),
                ("truncated", s.truncated),
                ("chunk_corrupt", s.chunk_corrupt),
                ("chunk_incomplete", s.chunk_incomplete),
                ("over_budget", s.over_budget),
                ("empty", s.empty),
                ("not_jpeg", s.not_jpeg),
                ("evicted", s.evicted),
            ] {
                let l = RefusalLabels {
                    input: input.clone(),
                    reason: reason.to_owned(),
                };
                mirror(&self.refused_input.get_or_create(&l), n);
            }
        }
        if let Some((rss, peak)) = memory() {
            self.rss.set(rss as i64);
            self.peak_rss.set(peak as i64);
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// Raises a counter to a total kept elsewhere (counters only go up).
fn mirror(counter: &Counter, total: u64) {
    let have = counter.get();
    if total > have {
        counter.inc_by(total - have);
    }
}

/// (VmRSS, VmHWM) in bytes, from /proc/self/status.
pub fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
