//! Rate control: each frame's JPEG quality chosen from the sizes of the
//! last frames, so the stream meets a byte budget per frame
//! (`target_bytes`) and/or a cap on bytes per second (`max_kbps`).
//!
//! The model is the classic one for a quantiser scale: a JPEG's size is
//! about `A · scale(q)^-α`, where `scale(q)` is the IJG quality scaling
//! every baseline encoder uses (`5000/q` below 50, `200 - 2q` above; see
//! `jpeg/fast/tables.rs`), `A` is the scene's complexity and `α` how strongly
//! size reacts to quality. Both live in log2, in Q16 fixed point, so the
//! core needs no float maths library:
//!
//! - after every encode, `A` is re-read from that frame (`log2 size + α·log2
//!   scale`): a changed scene moves it at once;
//! - when a frame lands outside [`RETRY_TOLERANCE`] of its budget (a scene
//!   cut, the first frame), it is encoded once more at the quality the
//!   refreshed model picks, and the two sizes of the same frame measure `α`;
//! - `max_kbps` is a token bucket of rate 3/4 of the cap and depth 1/5 of one
//!   second's bytes, so any 1 s window carries at most 95 % of the cap; a
//!   frame the bucket cannot pay for is re-encoded smaller.
//!
//! Nothing allocates: [`RateControl`] is a few integers.

/// Fixed-point `log2(x)` in Q16 (`x >= 1`), exact to the last bit of the
/// fraction (bit-by-bit squaring).
pub const fn log2_q16(x: u32) -> i32 {
    let x = if x == 0 { 1 } else { x };
    let int = 31 - x.leading_zeros();
    // Mantissa in Q30: 1.0 <= m < 2.0, so m * m fits in 62 bits.
    let mut m: u64 = ((x as u64) << 30) >> int;
    let mut frac: i32 = 0;
    let mut bit = 15;
    loop {
        m = (m * m) >> 30;
        if m >= 2 << 30 {
            m >>= 1;
            frac |= 1 << bit;
        }
        if bit == 0 {
            break;
        }
        bit -= 1;
    }
    ((int as i32) << 16) | frac
}

/// IJG quality scaling (percent of the base tables), at least 1.
pub const fn scale(q: u8) -> u32 {
    let q = if q == 0 {
        1
    } else if q > 100 {
        100
    } else {
        q
    } as u32;
    let s = if q < 50 { 5000 / q } else { 200 - 2 * q };
    if s == 0 {
        1
    } else {
        s
    }
}

/// `log2 scale(q)` in Q16 for q = 0..=100.
const LOG_SCALE: [i32; 101] = {
    let mut t = [0i32; 101];
    let mut q = 0;
    while q <= 100 {
        t[q] = log2_q16(scale(q as u8));
        q += 1;
    }
    t
};

/// A frame more than this far from its budget (as a fraction) is encoded
/// once more. Wider than the ±15 % the tests ask of most frames, so integer
/// quality steps and noise in a steady scene never cost a second encode.
pub const RETRY_TOLERANCE: (u32, u32) = (1, 5);

/// `α` before any frame measured it, and its bounds (Q16). About 0.8 for
/// photographs and the synthetic camera alike.
const ALPHA_START: i32 = 52_429;
const ALPHA_MIN: i32 = 19_661; // 0.3
const ALPHA_MAX: i32 = 131_072; // 2.0

/// Why a configuration is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateError {
    /// Neither `target_bytes` nor `max_kbps` was given (or one is 0).
    NoTarget,
    /// `min_quality`/`max_quality` outside 1..=100 or min > max.
    BadQualityRange,
    /// `fps` is not positive.
    BadFps,
}

impl core::fmt::Display for RateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RateError::NoTarget => "give target_bytes or max_kbps (> 0)",
            RateError::BadQualityRange => "min_quality and max_quality must be 1..100, min <= max",
            RateError::BadFps => "fps must be > 0",
        })
    }
}

impl core::error::Error for RateError {}

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateConfig {
    /// Bytes per frame to aim at; 0: derived from `max_bytes_per_s`.
    pub target_bytes: u32,
    /// Cap on bytes per second (`max_kbps * 125`); 0: no cap.
    pub max_bytes_per_s: u32,
    /// Expected frame interval in µs; 0: measured from the calls.
    pub frame_us: u32,
    /// Lowest quality to use.
    pub min_quality: u8,
    /// Highest quality to use.
    pub max_quality: u8,
}

/// Rate-control state: the configuration, the model and the counters.
#[derive(Clone, Copy, Debug)]
pub struct RateControl {
    cfg: RateConfig,
    /// `log2 A` (Q16); valid once `frames > 0` or `measured`.
    complexity: i32,
    measured: bool,
    alpha: i32,
    quality: u8,
    last_bytes: u32,
    frames: u32,
    retries: u32,
    over_cap: u32,
    /// Token bucket (bytes; may go negative when even `min_quality` was too
    /// large) and when it was last filled.
    tokens: i64,
    now_us: u64,
    last_us: u64,
    /// Measured frame interval (µs), when `frame_us` is 0.
    interval_us: u32,
}

/// What [`RateControl::settle`] decided about a frame just encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Keep this encode.
    Keep,
    /// Encode the same frame once more at this quality.
    Retry(u8),
}

impl RateControl {
    /// A controller for `cfg`, starting halfway between the qualities.
    pub fn new(cfg: RateConfig) -> Result<RateControl, RateError> {
        if cfg.target_bytes == 0 && cfg.max_bytes_per_s == 0 {
            return Err(RateError::NoTarget);
        }
        if cfg.min_quality == 0 || cfg.max_quality > 100 || cfg.min_quality > cfg.max_quality {
            return Err(RateError::BadQualityRange);
        }
        Ok(RateControl {
            cfg,
            complexity: 0,
            measured: false,
            alpha: ALPHA_START,
            quality: cfg.min_quality + (cfg.max_quality - cfg.min_quality) / 2,
            last_bytes: 0,
            frames: 0,
            retries: 0,
            over_cap: 0,
            tokens: i64::from(Self::depth(cfg.max_bytes_per_s)),
            now_us: 0,
            last_us: 0,
            interval_us: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> RateConfig {
        self.cfg
    }
    /// Quality of the last frame kept (before any: the first guess).
    pub fn quality(&self) -> u8 {
        self.quality
    }
    /// Size of the last frame kept.
    pub fn last_bytes(&self) -> u32 {
        self.last_bytes
    }
    /// Frames kept so far.
    pub fn frames(&self) -> u32 {
        self.frames
    }
    /// Frames that needed a second encode.
    pub fn retries(&self) -> u32 {
        self.retries
    }
    /// Frames larger than the bucket allowed even at `min_quality`.
    pub fn over_cap(&self) -> u32 {
        self.over_cap
    }

    /// Token rate: 3/4 of the cap.
    fn fill_rate(max: u32) -> u64 {
        u64::from(max) * 3 / 4
    }
    /// Bucket depth: 1/5 of the cap (one second's bytes).
    fn depth(max: u32) -> u32 {
        max / 5
    }

    /// Starts a frame at `now_us`: fills the bucket for the time since the
    /// last frame and returns the quality to encode with.
    pub fn begin(&mut self, now_us: u64) -> u8 {
        self.now_us = now_us;
        if self.frames > 0 && now_us > self.last_us {
            let dt = (now_us - self.last_us).min(10_000_000);
            // An average over the last ~8 frames, for the per-frame budget.
            let dt32 = dt as u32;
            self.interval_us = if self.interval_us == 0 {
                dt32
            } else {
                ((u64::from(self.interval_us) * 7 + dt) / 8) as u32
            };
            if self.cfg.max_bytes_per_s != 0 {
                let add = (Self::fill_rate(self.cfg.max_bytes_per_s) * dt / 1_000_000) as i64;
                let depth = i64::from(Self::depth(self.cfg.max_bytes_per_s));
                self.tokens = (self.tokens + add).min(depth);
            }
        }
        self.last_us = now_us;
        if self.measured {
            self.quality = self.pick(self.budget());
        }
        self.quality
    }

    /// Bytes this frame should have: the target, or the cap's share of one
    /// frame interval, whichever is smaller.
    pub fn budget(&self) -> u32 {
        let mut b = if self.cfg.target_bytes != 0 {
            self.cfg.target_bytes
        } else {
            u32::MAX
        };
        if self.cfg.max_bytes_per_s != 0 {
            let interval = if self.cfg.frame_us != 0 {
                self.cfg.frame_us
            } else if self.interval_us != 0 {
                self.interval_us
            } else {
                100_000 // 10 fps until measured
            };
            let share = Self::fill_rate(self.cfg.max_bytes_per_s) * u64::from(interval) / 1_000_000;
            b = b.min(share.max(1) as u32);
        }
        b
    }

    /// Most bytes the bucket can pay for now (`u32::MAX` without a cap).
    fn limit(&self) -> u32 {
        if self.cfg.max_bytes_per_s == 0 {
            u32::MAX
        } else {
            self.tokens.clamp(0, i64::from(u32::MAX)) as u32
        }
    }

    /// Predicted `log2 size` (Q16) at quality `q`.
    fn predict(&self, q: u8) -> i32 {
        self.complexity - ((i64::from(self.alpha) * i64::from(LOG_SCALE[q as usize])) >> 16) as i32
    }

    /// The quality whose predicted size is nearest `budget` (in log terms),
    /// without going over what the bucket allows.
    fn pick(&self, budget: u32) -> u8 {
        let want = log2_q16(budget.max(1));
        let cap = log2_q16(self.limit().max(1));
        let mut best = self.cfg.min_quality;
        let mut best_err = i32::MAX;
        for q in self.cfg.min_quality..=self.cfg.max_quality {
            let p = self.predict(q);
            if p > cap && q > self.cfg.min_quality {
                break; // sizes grow with q: the rest are over the cap too
            }
            let err = (p - want).abs();
            if err < best_err {
                best = q;
                best_err = err;
            }
        }
        best
    }

    /// Reads the scene's complexity from a frame of `bytes` at `q`.
    fn learn(&mut self, q: u8, bytes: usize) {
        let l = log2_q16(bytes.clamp(1, u32::MAX as usize) as u32);
        self.complexity =
            l + ((i64::from(self.alpha) * i64::from(LOG_SCALE[q as usize])) >> 16) as i32;
        self.measured = true;
    }

    /// A frame was encoded at `q` into `bytes`: keep it, or encode it once
    /// more (call [`RateControl::settle_retry`] with the second result).
    pub fn settle(&mut self, q: u8, bytes: usize) -> Verdict {
        self.learn(q, bytes);
        let budget = self.budget() as u64;
        let n = bytes as u64;
        let (num, den) = RETRY_TOLERANCE;
        let off = n * u64::from(den) > budget * u64::from(den + num)
            || n * u64::from(den) < budget * u64::from(den - num);
        if off || n > u64::from(self.limit()) {
            let q2 = self.pick(budget as u32);
            if q2 != q {
                return Verdict::Retry(q2);
            }
        }
        self.keep(q, bytes);
        Verdict::Keep
    }

    /// The second encode of a frame (first at `q1` into `bytes1`) came out
    /// at `bytes2` with `q2`: measures `α` from the pair and keeps it.
    pub fn settle_retry(&mut self, q1: u8, bytes1: usize, q2: u8, bytes2: usize) {
        self.retries += 1;
        let ds = LOG_SCALE[q1 as usize] - LOG_SCALE[q2 as usize];
        // A quality step too small says little about the slope.
        if ds.abs() >= 1 << 14 {
            let dl = log2_q16(bytes2.clamp(1, u32::MAX as usize) as u32)
                - log2_q16(bytes1.clamp(1, u32::MAX as usize) as u32);
            let a = ((i64::from(dl) << 16) / i64::from(ds)) as i32;
            let a = a.clamp(ALPHA_MIN, ALPHA_MAX);
            self.alpha = (self.alpha + a) / 2;
        }
        self.learn(q2, bytes2);
        self.keep(q2, bytes2);
    }

    fn keep(&mut self, q: u8, bytes: usize) {
        self.quality = q;
        self.last_bytes = bytes.min(u32::MAX as usize) as u32;
        self.frames += 1;
        if self.cfg.max_bytes_per_s != 0 {
            if bytes as u64 > u64::from(self.limit()) {
                self.over_cap += 1;
            }
            self.tokens -= bytes as i64;
        }
    }

    /// Runs a whole frame: `encode(q)` once, or twice when the first result
    /// misses its budget. `size` reads a result's byte count.
    pub fn encode_with<T, E>(
        &mut self,
        now_us: u64,
        mut encode: impl FnMut(u8) -> Result<T, E>,
        size: impl Fn(&T) -> usize,
    ) -> Result<T, E> {
        let q = self.begin(now_us);
        let first = encode(q)?;
        let n = size(&first);
        match self.settle(q, n) {
            Verdict::Keep => Ok(first),
            Verdict::Retry(q2) => {
                let second = encode(q2)?;
                self.settle_retry(q, n, q2, size(&second));
                Ok(second)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg(target: u32, max: u32) -> RateConfig {
        RateConfig {
            target_bytes: target,
            max_bytes_per_s: max,
            frame_us: 0,
            min_quality: 20,
            max_quality: 90,
        }
    }

    /// A synthetic encoder: `a · scale^-alpha` bytes.
    fn size(a: f64, alpha: f64, q: u8) -> usize {
        (a * (scale(q) as f64).powf(-alpha)) as usize
    }

    #[test]
    fn log2_is_exact() {
        for x in [1u32, 2, 3, 5, 7, 100, 1000, 65_535, 1 << 20, u32::MAX] {
            let want = (x as f64).log2() * 65536.0;
            assert!((log2_q16(x) as f64 - want).abs() <= 1.0, "{x}");
        }
    }

    #[test]
    fn refuses_bad_configs() {
        assert_eq!(RateControl::new(cfg(0, 0)).err(), Some(RateError::NoTarget));
        let mut c = cfg(1000, 0);
        c.min_quality = 95;
        assert_eq!(RateControl::new(c).err(), Some(RateError::BadQualityRange));
        c.min_quality = 0;
        assert_eq!(RateControl::new(c).err(), Some(RateError::BadQualityRange));
    }

    #[test]
    fn converges_through_scene_cuts() {
        let mut rc = RateControl::new(cfg(20_000, 0)).unwrap();
        let mut within = 0;
        let mut counted = 0;
        let mut encodes = 0;
        for i in 0..200u64 {
            // A scene cut every 37 frames: complexity jumps by up to 4x
            // (each scene reachable between min and max quality).
            let a = [2.0e6, 6.0e5, 2.5e6, 1.2e6][(i / 37 % 4) as usize];
            let mut calls = 0;
            let n = rc
                .encode_with(
                    i * 100_000,
                    |q| {
                        calls += 1;
                        Ok::<_, ()>(size(a, 0.9, q))
                    },
                    |n| *n,
                )
                .unwrap();
            assert!(calls <= 2);
            encodes += calls;
            if i >= 10 {
                counted += 1;
                if (n as f64 - 20_000.0).abs() <= 3_000.0 {
                    within += 1;
                }
            }
        }
        assert_eq!(counted, 190);
        assert!(within * 100 >= counted * 90, "{within}/{counted}");
        // Retries only around the cuts, not in the steady scenes.
        assert!(encodes <= 200 + 2 * 6 + 2, "{encodes}");
    }

    proptest! {
        #[test]
        fn cap_holds_over_any_second(
            fit in 0.05f64..0.9,
            alpha in 0.5f64..1.3,
            kbps in 200u32..4000,
            fps in 5u32..30,
        ) {
            let max = kbps * 125;
            let mut rc = RateControl::new(cfg(0, max)).unwrap();
            let frame_us = 1_000_000 / u64::from(fps);
            // A scene whose min-quality frame is `fit` of one frame's share.
            let share = f64::from(max) * 0.75 / f64::from(fps);
            let a = share * fit * 250f64.powf(alpha);
            let mut log = std::vec::Vec::new();
            for i in 0..120u64 {
                let t = i * frame_us;
                let n = rc.encode_with(t, |q| Ok::<_, ()>(size(a, alpha, q)), |n| *n).unwrap();
                log.push((t, n));
            }
            prop_assert_eq!(rc.over_cap(), 0);
            let mut windows = 0;
            for (i, &(t0, _)) in log.iter().enumerate() {
                let sum: usize = log[i..].iter().take_while(|(t, _)| *t < t0 + 1_000_000).map(|(_, n)| n).sum();
                prop_assert!(sum as u64 <= u64::from(max), "{sum} > {max}");
                windows += 1;
            }
            prop_assert_eq!(windows, 120);
        }
    }
}
