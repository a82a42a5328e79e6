//! Wall-time throughput: every encoder on the same pixels, alternating within
//! each round, medians over many rounds after a warm-up.
//!
//! libjpeg-turbo's portable path needs `JSIMD_FORCENONE=1` at library init,
//! so it runs in a child process (this binary's `worker` mode) that this
//! process drives over a pipe, one encode per request. The child times its
//! own encode; while it works this process waits, so the two never compete
//! for a core, and the rounds alternate across both processes. A second
//! child, the scalar build of this program, runs our Fast engine as it
//! would be compiled for a core without vector unit.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::encoders::{Encoder, Runner};
use crate::frames::{Format, Frame};
use crate::quality::psnr;
use crate::turbo::Dct;

/// Rounds before measuring (caches, branch predictors, page faults).
const WARMUP: usize = 5;
/// At least this many measured rounds per case...
const MIN_ROUNDS: usize = 41;
/// ...and at most this many...
const MAX_ROUNDS: usize = 101;
/// ...stopping early once a case has taken this long.
const BUDGET: Duration = Duration::from_secs(3);

/// Frame sizes, in table order.
pub const SIZES: [(u32, u32, &str); 3] =
    [(320, 240, "QVGA"), (640, 480, "VGA"), (1280, 720, "720p")];
/// Qualities, in table order.
pub const QUALITIES: [u8; 2] = [65, 90];

/// Which process runs an encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// This process (libjpeg-turbo with SIMD).
    Here,
    /// The child started with `JSIMD_FORCENONE=1`: libjpeg-turbo's portable path.
    TurboPortable,
    /// A child running the scalar build of this program (no LLVM
    /// auto-vectorisation; see `run.sh`).
    Scalar,
}

/// The columns of the table.
pub const COLUMNS: [(Encoder, Place); 6] = [
    (Encoder::Generic, Place::Here),
    (Encoder::Fast, Place::Here),
    (Encoder::Fast, Place::Scalar),
    (Encoder::Turbo(Dct::Accurate), Place::Here),
    (Encoder::Turbo(Dct::Accurate), Place::TurboPortable),
    (Encoder::Turbo(Dct::Fast), Place::TurboPortable),
];

/// One encoder's figures for one case.
#[derive(Clone, Copy, Debug)]
pub struct Figures {
    /// Megapixels per second, from the median time.
    pub mps: f64,
    /// JPEG size in bytes.
    pub bytes: usize,
    /// PSNR against the photograph, dB.
    pub psnr: f64,
}

/// One row: size, format, quality and a figure per [`COLUMNS`] entry.
pub struct Row {
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Size label ("VGA").
    pub size: &'static str,
    /// Input format.
    pub format: Format,
    /// JPEG quality.
    pub quality: u8,
    /// Indexed like [`COLUMNS`].
    pub figures: Vec<Figures>,
    /// Nanoseconds to prepare the peer's input from ours (RGB565, NV12),
    /// one sample per round; not part of the peer's times.
    pub prep: Vec<u64>,
    /// Nanoseconds per encode, indexed like [`COLUMNS`], then by round: the
    /// i-th sample of every column comes from the same round.
    pub times: Vec<Vec<u64>>,
    /// The same encodes' on-CPU time (`CLOCK_THREAD_CPUTIME_ID`): what the
    /// wall time would be had no other process taken the core meanwhile.
    pub cpu: Vec<Vec<u64>>,
}

impl Row {
    /// Measured rounds.
    pub fn rounds(&self) -> usize {
        self.times[0].len()
    }

    /// How many times faster column `a` is than column `b`: the median of
    /// the per-round ratios, so load that changes between rounds (a shared
    /// machine) cancels out.
    pub fn speedup(&self, a: usize, b: usize) -> f64 {
        paired(&self.times, a, b)
    }

    /// [`Row::speedup`] on on-CPU time.
    pub fn speedup_cpu(&self, a: usize, b: usize) -> f64 {
        paired(&self.cpu, a, b)
    }

    /// MP/s of column `c` from its median on-CPU time.
    pub fn mps_cpu(&self, c: usize) -> f64 {
        f64::from(self.width * self.height) / median(&self.cpu[c]) as f64 * 1e3
    }

    /// The largest interquartile range over the row's columns, relative to
    /// that column's median: how much to trust the row.
    pub fn spread(&self) -> f64 {
        self.times
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.sort_unstable();
                let q = |p: usize| t[(t.len() - 1) * p / 4] as f64;
                (q(3) - q(1)) / q(2)
            })
            .fold(0.0, f64::max)
    }
}

/// A child process that encodes on request.
struct Worker {
    child: Child,
    tx: ChildStdin,
    rx: BufReader<ChildStdout>,
}

impl Worker {
    fn spawn(exe: &Path, photos: &Path, simd_off: bool) -> Result<Worker, String> {
        let mut cmd = Command::new(exe);
        if simd_off {
            cmd.env("JSIMD_FORCENONE", "1");
        }
        let mut child = cmd
            .arg("worker")
            .arg("--photos")
            .arg(photos)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn worker: {e}"))?;
        let tx = child.stdin.take().ok_or("worker stdin")?;
        let rx = BufReader::new(child.stdout.take().ok_or("worker stdout")?);
        Ok(Worker { child, tx, rx })
    }

    fn ask(&mut self, verb: &str, frame: &Frame, q: u8, enc: Encoder) -> Result<String, String> {
        writeln!(
            self.tx,
            "{verb} {} {} {} {q} {}",
            frame.width,
            frame.height,
            frame.format.name(),
            enc.name()
        )
        .and_then(|_| self.tx.flush())
        .map_err(|e| format!("worker: {e}"))?;
        let mut line = String::new();
        self.rx
            .read_line(&mut line)
            .map_err(|e| format!("worker: {e}"))?;
        match line.trim().strip_prefix("ok ") {
            Some(rest) => Ok(rest.to_string()),
            None => Err(format!("worker: {}", line.trim())),
        }
    }

    /// Wall and on-CPU nanoseconds for one encode in the child.
    fn time(&mut self, frame: &Frame, q: u8, enc: Encoder) -> Result<(u64, u64), String> {
        let reply = self.ask("time", frame, q, enc)?;
        let mut it = reply.split_whitespace().map(|s| s.parse().ok());
        match (it.next(), it.next()) {
            (Some(Some(wall)), Some(Some(cpu))) => Ok((wall, cpu)),
            _ => Err(format!("worker: bad reply {reply}")),
        }
    }

    /// Bytes and PSNR of the child's output.
    fn score(&mut self, frame: &Frame, q: u8, enc: Encoder) -> Result<(usize, f64), String> {
        let reply = self.ask("score", frame, q, enc)?;
        let mut it = reply.split_whitespace();
        let bytes = it.next().and_then(|s| s.parse().ok());
        let db = it.next().and_then(|s| s.parse().ok());
        bytes
            .zip(db)
            .ok_or_else(|| format!("worker: bad reply {reply}"))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing stdin ends the worker's loop.
        let _ = writeln!(self.tx, "quit");
        let _ = self.child.wait();
    }
}

/// The child side: answers `time|score W H FORMAT Q ENCODER` lines.
pub fn worker(photos: &Path) -> Result<(), String> {
    let (mw, mh, _) = SIZES[SIZES.len() - 1];
    let mut runner = Runner::new(mw, mh)?;
    let mut frames: Vec<Frame> = Vec::new();
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.first() == Some(&"quit") {
            break;
        }
        let reply = (|| -> Result<String, String> {
            let [verb, w, h, fmt, q, enc] = f[..] else {
                return Err(format!("bad request {line}"));
            };
            let (w, h): (u32, u32) = (w.parse().map_err(|_| "w")?, h.parse().map_err(|_| "h")?);
            let fmt = Format::parse(fmt).ok_or("format")?;
            let q: u8 = q.parse().map_err(|_| "q")?;
            let enc = Encoder::parse(enc).ok_or("encoder")?;
            let i = match frames
                .iter()
                .position(|x| (x.width, x.height, x.format) == (w, h, fmt))
            {
                Some(i) => i,
                None => {
                    frames.push(Frame::load(photos, w, h, fmt)?);
                    frames.len() - 1
                }
            };
            let frame = &frames[i];
            match verb {
                "time" => {
                    let (wall, cpu) = timed(|| runner.encode(enc, frame, q).map(|j| j.len()))?;
                    Ok(format!("{wall} {cpu}"))
                }
                "score" => {
                    let jpeg = runner.encode(enc, frame, q)?;
                    Ok(format!("{} {}", jpeg.len(), psnr(jpeg, &frame.reference)?))
                }
                _ => Err(format!("bad verb {verb}")),
            }
        })();
        match reply {
            Ok(r) => writeln!(out, "ok {r}"),
            Err(e) => writeln!(out, "err {e}"),
        }
        .and_then(|_| out.flush())
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Measures every case; progress goes to stderr.
pub fn measure(photos: &Path, scalar_bin: &Path) -> Result<Vec<Row>, String> {
    if std::env::var_os("JSIMD_FORCENONE").is_some() {
        return Err("unset JSIMD_FORCENONE: this process measures libjpeg-turbo with SIMD".into());
    }
    let (mw, mh, _) = SIZES[SIZES.len() - 1];
    let mut runner = Runner::new(mw, mh)?;
    let this = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut portable = Worker::spawn(&this, photos, true)?;
    let mut scalar = Worker::spawn(scalar_bin, photos, false)?;
    let mut scratch = Vec::with_capacity(mw as usize * mh as usize * 3);
    let mut rows = Vec::new();
    for &(w, h, size) in &SIZES {
        for format in Format::ALL {
            let frame = Frame::load(photos, w, h, format)?;
            for quality in QUALITIES {
                let mut times: Vec<Vec<u64>> = vec![Vec::new(); COLUMNS.len()];
                let mut cpu: Vec<Vec<u64>> = vec![Vec::new(); COLUMNS.len()];
                let mut prep = Vec::new();
                let start = Instant::now();
                let mut round = 0;
                loop {
                    // Start each round at a different encoder so none is
                    // always the one that runs on a cold cache.
                    for k in 0..COLUMNS.len() {
                        let c = (round + k) % COLUMNS.len();
                        let (enc, place) = COLUMNS[c];
                        let (wall, on_cpu) = match place {
                            Place::Here => {
                                timed(|| runner.encode(enc, &frame, quality).map(|j| j.len()))?
                            }
                            Place::TurboPortable => portable.time(&frame, quality, enc)?,
                            Place::Scalar => scalar.time(&frame, quality, enc)?,
                        };
                        if round >= WARMUP {
                            times[c].push(wall);
                            cpu[c].push(on_cpu);
                        }
                    }
                    let t = Instant::now();
                    let prepared = frame.prepare_peer(&mut scratch);
                    let ns = t.elapsed().as_nanos() as u64;
                    if prepared && round >= WARMUP {
                        prep.push(std::hint::black_box(ns));
                    }
                    round += 1;
                    let measured = round.saturating_sub(WARMUP);
                    if measured >= MAX_ROUNDS
                        || (measured >= MIN_ROUNDS && start.elapsed() >= BUDGET)
                    {
                        break;
                    }
                }
                let mut figures = Vec::new();
                for (c, &(enc, place)) in COLUMNS.iter().enumerate() {
                    let (bytes, db) = match place {
                        Place::Here => {
                            let jpeg = runner.encode(enc, &frame, quality)?;
                            (jpeg.len(), psnr(jpeg, &frame.reference)?)
                        }
                        Place::TurboPortable => portable.score(&frame, quality, enc)?,
                        Place::Scalar => scalar.score(&frame, quality, enc)?,
                    };
                    let mps = frame.pixels() as f64 / median(&times[c]) as f64 * 1e3;
                    figures.push(Figures {
                        mps,
                        bytes,
                        psnr: db,
                    });
                }
                let rounds = times[0].len();
                eprintln!(
                    "  {size} {} q{quality}: {rounds} rounds, {:.1} s",
                    format.name(),
                    start.elapsed().as_secs_f64()
                );
                rows.push(Row {
                    width: w,
                    height: h,
                    size,
                    format,
                    quality,
                    figures,
                    prep,
                    times,
                    cpu,
                });
            }
        }
    }
    Ok(rows)
}

/// Runs `f` once; returns its wall and on-CPU nanoseconds.
fn timed(f: impl FnOnce() -> Result<usize, String>) -> Result<(u64, u64), String> {
    let (t, c) = (Instant::now(), thread_cpu_ns());
    let len = f()?;
    let (wall, cpu) = (t.elapsed().as_nanos() as u64, thread_cpu_ns() - c);
    std::hint::black_box(len);
    Ok((wall, cpu))
}

/// `struct timespec` on 64-bit Linux.
#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// Linux's `CLOCK_THREAD_CPUTIME_ID`.
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

/// Nanoseconds this thread has spent on a CPU.
fn thread_cpu_ns() -> u64 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The median of per-round speed ratios of column `a` over column `b`.
fn paired(times: &[Vec<u64>], a: usize, b: usize) -> f64 {
    let mut r: Vec<f64> = times[a]
        .iter()
        .zip(&times[b])
        .map(|(&ta, &tb)| tb as f64 / ta as f64)
        .collect();
    r.sort_by(f64::total_cmp);
    r[r.len() / 2]
}

/// The median of `v` (upper one for even lengths).
pub fn median(v: &[u64]) -> u64 {
    let mut v = v.to_vec();
    v.sort_unstable();
    v[v.len() / 2]
}
