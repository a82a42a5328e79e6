//! Instructions per pixel, counted by `valgrind --tool=callgrind`: this
//! binary's `count` mode encodes a frame N times, then once; the difference
//! divided by (N - 1) x pixels is one steady-state encode, with loading and
//! converting the input (identical in both runs) cancelled out. Deterministic,
//! so it holds on a noisy shared machine.

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
/// Columns: (encoder, libjpeg-turbo's SIMD turned off).
pub const COLUMNS: [(Encoder, bool); 5] = [
    (Encoder::Generic, false),
    (Encoder::Fast, false),
    (Encoder::Turbo(Dct::Accurate), false),
    (Encoder::Turbo(Dct::Accurate), true),
    (Encoder::Turbo(Dct::Fast), true),
];

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

/// Instructions per pixel, indexed like [`FORMATS`] then [`COLUMNS`].
pub fn measure(photos: &Path, scratch: &Path) -> Result<Vec<Vec<f64>>, String> {
    let mut table = Vec::new();
    for format in FORMATS {
        let mut row = Vec::new();
        for (enc, portable) in COLUMNS {
            let many = run(photos, scratch, format, enc, portable, REPS)?;
            let one = run(photos, scratch, format, enc, portable, 1)?;
            let px = f64::from(SIZE.0 * SIZE.1);
            let per_px = many.saturating_sub(one) as f64 / f64::from(REPS - 1) / px;
            eprintln!(
                "  {} {}{}: {per_px:.1} instr/px",
                format.name(),
                enc.name(),
                if portable { " (JSIMD_FORCENONE=1)" } else { "" }
            );
            row.push(per_px);
        }
        table.push(row);
    }
    Ok(table)
}

/// Total instructions (`Ir`) of one `count` run under callgrind.
fn run(
    photos: &Path,
    scratch: &Path,
    format: Format,
    enc: Encoder,
    portable: bool,
    reps: u32,
) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
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
        .args(["--encoder", enc.name()])
        .args(["--reps", &reps.to_string()]);
    if portable {
        cmd.env("JSIMD_FORCENONE", "1");
    } else {
        cmd.env_remove("JSIMD_FORCENONE");
    }
    let res = cmd.output().map_err(|e| format!("valgrind: {e}"))?;
    if !res.status.success() {
        return Err(format!(
            "valgrind {} {}: {}",
            format.name(),
            enc.name(),
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
