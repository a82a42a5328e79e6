//! Instructions per pixel, counted by `valgrind --tool=callgrind`: this
//! binary's `count` mode encodes a frame N times, then once; the difference
//! divided by (N - 1) x pixels is one steady-state encode, with loading and
//! converting the input (identical in both runs) cancelled out. Deterministic,
//! so it holds on a noisy shared machine.
//!
//! On x86-64, rustc vectorises our portable code with SSE2 by itself, which
//! a scalar riscv64gc build (`make cross-lib`) cannot do; the firmware
//! (`make canmv`) is built with RVV, counted on riscv64 by `bench_riscv.sh`.
//! A second build of this binary with LLVM's vectorisers turned off (the
//! "scalar build", made by `run.sh`) counts what a scalar core executes.

use std::path::Path;
use std::process::Command;

use crate::encoders::{Encoder, Runner};
use crate::frames::{Format, Frame};
use crate::turbo::Dct;

/// Encodes per long run (the short run encodes once).
pub const REPS: u32 = 11;
/// The size and quality counted.
pub const SIZE: (u32, u32) = (640, 480);
/// JPEG quality counted.
pub const QUALITY: u8 = 65;
/// Formats, in table order.
pub const FORMATS: [Format; 4] = [Format::Nv12, Format::Rgb565, Format::Rgb888, Format::Gray];
/// One column of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// The encoder.
    pub enc: Encoder,
    /// libjpeg-turbo run with `JSIMD_FORCENONE=1`.
    pub simd_off: bool,
    /// Counted in the scalar build (no LLVM auto-vectorisation).
    pub scalar: bool,
}

const fn column(enc: Encoder, simd_off: bool, scalar: bool) -> Column {
    Column {
        enc,
        simd_off,
        scalar,
    }
}

/// Columns, in table order.
pub const COLUMNS: [Column; 7] = [
    column(Encoder::Generic, false, false),
    column(Encoder::Fast, false, false),
    column(Encoder::Generic, false, true),
    column(Encoder::Fast, false, true),
    column(Encoder::Turbo(Dct::Accurate), false, false),
    column(Encoder::Turbo(Dct::Accurate), true, false),
    column(Encoder::Turbo(Dct::Fast), true, false),
];

/// Where `c` sits in [`COLUMNS`].
pub fn col(c: Column) -> usize {
    COLUMNS.iter().position(|&x| x == c).expect("column exists")
}

impl Column {
    /// Its heading.
    pub fn name(self) -> &'static str {
        match (self.enc, self.simd_off, self.scalar) {
            (Encoder::Generic, _, false) => "Generic",
            (Encoder::Fast, _, false) => "Fast",
            (Encoder::Generic, _, true) => "Generic, scalar build",
            (Encoder::Fast, _, true) => "Fast, scalar build",
            (Encoder::Turbo(Dct::Accurate), false, _) => "turbo SIMD",
            (Encoder::Turbo(Dct::Accurate), true, _) => "turbo portable",
            (Encoder::Turbo(Dct::Fast), false, _) => "turbo SIMD fast-DCT",
            (Encoder::Turbo(Dct::Fast), true, _) => "turbo portable fast-DCT",
        }
    }
}

/// The scalar build's column for an encoder of ours.
pub const FAST_SCALAR: Column = column(Encoder::Fast, false, true);
/// Our Fast engine as built normally.
pub const FAST: Column = column(Encoder::Fast, false, false);
/// Generic as built normally.
pub const GENERIC: Column = column(Encoder::Generic, false, false);
/// libjpeg-turbo's portable path.
pub const TURBO_PORTABLE: Column = column(Encoder::Turbo(Dct::Accurate), true, false);

/// The `count` mode: encode `reps` times and exit.
pub fn count(
    photos: &Path,
    (w, h): (u32, u32),
    format: Format,
    quality: u8,
    enc: Encoder,
    reps: u32,
) -> Result<(), String> {
    let frame = Frame::load(photos, w, h, format)?;
    let mut runner = Runner::new(w, h)?;
    for _ in 0..reps {
        std::hint::black_box(runner.encode(enc, &frame, quality)?.len());
    }
    Ok(())
}

/// Instructions per pixel, indexed like [`FORMATS`] then [`COLUMNS`];
/// `None` where a column could not be counted (no scalar build given).
pub fn measure(
    photos: &Path,
    scratch: &Path,
    scalar_bin: Option<&Path>,
) -> Result<Vec<Vec<Option<f64>>>, String> {
    let this = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut table = Vec::new();
    for format in FORMATS {
        let mut row = Vec::new();
        for c in COLUMNS {
            let exe = match (c.scalar, scalar_bin) {
                (false, _) => this.as_path(),
                (true, Some(bin)) => bin,
                (true, None) => {
                    row.push(None);
                    continue;
                }
            };
            let many = run(exe, photos, scratch, format, c, REPS)?;
            let one = run(exe, photos, scratch, format, c, 1)?;
            let px = f64::from(SIZE.0 * SIZE.1);
            let per_px = many.saturating_sub(one) as f64 / f64::from(REPS - 1) / px;
            eprintln!("  {} {}: {per_px:.1} instr/px", format.name(), c.name());
            row.push(Some(per_px));
        }
        table.push(row);
    }
    Ok(table)
}

/// Total instructions (`Ir`) of one `count` run under callgrind.
fn run(
    exe: &Path,
    photos: &Path,
    scratch: &Path,
    format: Format,
    c: Column,
    reps: u32,
) -> Result<u64, String> {
    let out = scratch.join("callgrind.out");
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .arg("count")
        .arg("--photos")
        .arg(photos)
        .args(["--size", &format!("{}x{}", SIZE.0, SIZE.1)])
        .args(["--format", format.name()])
        .args(["--quality", &QUALITY.to_string()])
        .args(["--encoder", c.enc.name()])
        .args(["--reps", &reps.to_string()]);
    if c.simd_off {
        cmd.env("JSIMD_FORCENONE", "1");
    } else {
        cmd.env_remove("JSIMD_FORCENONE");
    }
    let res = cmd.output().map_err(|e| format!("valgrind: {e}"))?;
    if !res.status.success() {
        return Err(format!(
            "valgrind {} {}: {}",
            format.name(),
            c.name(),
            String::from_utf8_lossy(&res.stderr)
        ));
    }
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    parse_total(&text).ok_or_else(|| format!("{}: no summary line", out.display()))
}

/// The `summary:` (or `totals:`) line of a callgrind output file; its first
/// number is `Ir`, instructions executed.
fn parse_total(text: &str) -> Option<u64> {
    let line = text
        .lines()
        .find(|l| l.starts_with("summary:"))
        .or_else(|| text.lines().find(|l| l.starts_with("totals:")))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ir_from_summary_line() {
        let text = "events: Ir\nfl=(1) a.c\n0 5\ntotals: 1234\nsummary: 98765\n";
        assert_eq!(parse_total(text), Some(98765));
        assert_eq!(parse_total("totals: 7\n"), Some(7));
        assert_eq!(parse_total("events: Ir\n"), None);
    }
}
