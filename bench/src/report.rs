//! Markdown tables for docs/BENCHMARKS.md.

use std::fmt::Write;

use crate::encoders::Encoder;
use crate::frames::Format;
use crate::instructions;
use crate::throughput::{self, Place, Row};
use crate::turbo::Dct;

fn column_name(enc: Encoder, place: Place) -> &'static str {
    match (enc, place) {
        (Encoder::Generic, Place::Scalar) => "Generic, scalar build",
        (Encoder::Generic, _) => "Generic",
        (Encoder::Fast, Place::Scalar) => "Fast, scalar build",
        (Encoder::Fast, _) => "Fast",
        (Encoder::Turbo(Dct::Accurate), Place::TurboPortable) => "turbo portable",
        (Encoder::Turbo(Dct::Accurate), _) => "turbo SIMD",
        (Encoder::Turbo(Dct::Fast), Place::TurboPortable) => "turbo portable fast-DCT",
        (Encoder::Turbo(Dct::Fast), _) => "turbo SIMD fast-DCT",
    }
}

fn col(enc: Encoder, place: Place) -> usize {
    throughput::COLUMNS
        .iter()
        .position(|&c| c == (enc, place))
        .expect("column exists")
}

const PORTABLE: (Encoder, Place) = (Encoder::Turbo(Dct::Accurate), Place::TurboPortable);
const PORTABLE_FAST: (Encoder, Place) = (Encoder::Turbo(Dct::Fast), Place::TurboPortable);
const SIMD: (Encoder, Place) = (Encoder::Turbo(Dct::Accurate), Place::Here);

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The legend: who is who and what each peer is given.
pub fn legend() -> String {
    let mut s = String::new();
    s.push_str(
        "Columns: **Generic** = `Engine::Generic` (jpeg-encoder 0.7 through our `ImageBuffer` \
         adapters); **Fast** = `Engine::Fast` (img_stream's own encoder; `Engine::default()`, \
         what `ENGINE_AUTO` picks), built by `cargo build --release`, which lets LLVM \
         auto-vectorise it for x86-64's baseline SSE2; **Fast, scalar build** = the same code built with LLVM's loop \
         and SLP vectorisers off (`-C llvm-args=-vectorize-loops=false -C \
         llvm-args=-vectorize-slp=false`), run in a second child process: what the code \
         gets with no vector unit (like a scalar rv64gc build; the firmware is built with RVV, \
         see the riscv64 section for counts of both); **turbo** = libjpeg-turbo via TurboJPEG `tjCompress2`/`tjCompressFromYUVPlanes` \
         with `TJFLAG_ACCURATEDCT` (islow: as accurate as our encoders' DCTs, which the PSNR \
         columns check), **SIMD** as \
         the library picks it, **portable** with `JSIMD_FORCENONE=1` (its C path: the fair peer \
         for the in-order RISC-V board); **fast-DCT** = `TJFLAG_FASTDCT` (ifast, TurboJPEG's \
         default when compressing). All 4:2:0 (GRAYSCALE: one component), output into a reused \
         buffer, no allocation in the timed call on the peer's side (`TJFLAG_NOREALLOC`).\n\n",
    );
    s.push_str("What libjpeg-turbo is given, per format (its conversion is not timed):\n\n");
    for f in Format::ALL {
        let note = match f {
            Format::Rgb565 => {
                " — libjpeg-turbo has no RGB565 input; it gets the same pixels expanded to \
                 RGB888 (what you would do otherwise)"
            }
            Format::Nv12 => {
                " via `tjCompressFromYUVPlanes`; de-interleaving NV12's UV plane is done \
                 once beforehand and **excluded** from its time (in its favour)"
            }
            _ => "",
        };
        let _ = writeln!(s, "- {}: {}{}", f.name(), f.peer_input(), note);
    }
    s
}

/// Throughput, ratios, bytes and PSNR.
pub fn throughput(rows: &[Row]) -> String {
    let mut s = String::new();
    s.push_str("#### Throughput, MP/s (median), and ratios\n\n");
    s.push_str(
        "MP/s from each encoder's median time. Ratios are medians of the per-round ratios \
         (both encoders of a pair ran within milliseconds of each other), so they can differ \
         a little from dividing the MP/s columns. *spread*: the widest interquartile range of \
         the row's encoders, relative to its median (large = the machine was busy).\n\n",
    );
    s.push('|');
    s.push_str(" size | format | q |");
    for &(enc, p) in &throughput::COLUMNS {
        let _ = write!(s, " {} |", column_name(enc, p));
    }
    s.push_str(
        " Fast ÷ turbo portable | Fast scalar ÷ turbo portable | Fast ÷ turbo SIMD | Generic ÷ turbo portable | rounds | spread |\n",
    );
    s.push_str("|---|---|---|");
    for _ in throughput::COLUMNS {
        s.push_str("---:|");
    }
    s.push_str("---:|---:|---:|---:|---:|---:|\n");
    let (fast, generic) = (
        col(Encoder::Fast, Place::Here),
        col(Encoder::Generic, Place::Here),
    );
    let scalar = col(Encoder::Fast, Place::Scalar);
    let (port, simd) = (col(PORTABLE.0, PORTABLE.1), col(SIMD.0, SIMD.1));
    for r in rows {
        let _ = write!(s, "| {} | {} | {} |", r.size, r.format.name(), r.quality);
        for f in &r.figures {
            let _ = write!(s, " {:.1} |", f.mps);
        }
        let _ = writeln!(
            s,
            " {:.2}× | {:.2}× | {:.2}× | {:.2}× | {} | {:.0} % |",
            r.speedup(fast, port),
            r.speedup(scalar, port),
            r.speedup(fast, simd),
            r.speedup(generic, port),
            r.rounds(),
            100.0 * r.spread()
        );
    }
    s.push_str(
        "\n#### Cross-check on on-CPU time, MP/s (median)\n\n\
         The same encodes timed with `CLOCK_THREAD_CPUTIME_ID`, which leaves out time the \
         kernel gave other processes mid-encode (not cache pollution from them). Where the \
         wall-time *spread* above is large, trust these rows more.\n\n| size | format | q |",
    );
    for &(enc, p) in &throughput::COLUMNS {
        let _ = write!(s, " {} |", column_name(enc, p));
    }
    s.push_str(
        " Fast ÷ turbo portable | Fast scalar ÷ turbo portable | Fast ÷ turbo SIMD | Generic ÷ turbo portable |\n|---|---|---|",
    );
    for _ in throughput::COLUMNS {
        s.push_str("---:|");
    }
    s.push_str("---:|---:|---:|---:|\n");
    for r in rows {
        let _ = write!(s, "| {} | {} | {} |", r.size, r.format.name(), r.quality);
        for c in 0..throughput::COLUMNS.len() {
            let _ = write!(s, " {:.1} |", r.mps_cpu(c));
        }
        let _ = writeln!(
            s,
            " {:.2}× | {:.2}× | {:.2}× | {:.2}× |",
            r.speedup_cpu(fast, port),
            r.speedup_cpu(scalar, port),
            r.speedup_cpu(fast, simd),
            r.speedup_cpu(generic, port)
        );
    }
    s.push_str(
        "\n#### Output bytes and PSNR (dB, decoded with `jpeg-decoder`, against the photograph)\n\n\
         PSNR over all channels of the decoded RGB (GRAYSCALE: luma) against the 8-bit RGB \
         photograph the frame was made from, so RGB565's 5-6-5 rounding and NV12's halved \
         chroma count alike for every encoder of a row.\n\n",
    );
    s.push_str("| size | format | q |");
    let scored: Vec<usize> = (0..throughput::COLUMNS.len())
        .filter(|&c| c != simd)
        .collect();
    for &c in &scored {
        let (enc, p) = throughput::COLUMNS[c];
        let _ = write!(
            s,
            " bytes {} |",
            column_name(enc, p).replace(" portable", "")
        );
    }
    for &c in &scored {
        let (enc, p) = throughput::COLUMNS[c];
        let _ = write!(
            s,
            " PSNR {} |",
            column_name(enc, p).replace(" portable", "")
        );
    }
    s.push_str("\n|---|---|---|");
    for _ in 0..2 * scored.len() {
        s.push_str("---:|");
    }
    s.push('\n');
    for r in rows {
        let _ = write!(s, "| {} | {} | {} |", r.size, r.format.name(), r.quality);
        for &c in &scored {
            let _ = write!(s, " {} |", thousands(r.figures[c].bytes));
        }
        for &c in &scored {
            let _ = write!(s, " {:.2} |", r.figures[c].psnr);
        }
        s.push('\n');
    }
    let differing: Vec<String> = rows
        .iter()
        .filter(|r| r.figures[port].bytes != r.figures[simd].bytes)
        .map(|r| {
            format!(
                "{} {} q{} ({} vs {} bytes)",
                r.size,
                r.format.name(),
                r.quality,
                r.figures[simd].bytes,
                r.figures[port].bytes
            )
        })
        .collect();
    if differing.is_empty() {
        s.push_str(
            "\nlibjpeg-turbo's SIMD and portable paths produced the same number of bytes in \
             every row; the turbo columns stand for both.\n",
        );
    } else {
        let _ = writeln!(
            s,
            "\nlibjpeg-turbo's SIMD and portable outputs differ in size for: {} (the turbo \
             columns show the portable path).",
            differing.join(", ")
        );
    }
    s
}

/// What preparing the peer's input would add to its time.
pub fn preparation(rows: &[Row]) -> String {
    let mut s = String::from(
        "#### What the peer's input preparation costs (excluded above)\n\n\
         A libjpeg-turbo user with RGB565 must expand it to RGB888 first, and with NV12 must \
         split the UV plane. Timed here with a plain loop, in the same rounds, and left out of \
         the peer's figures above; this is what counting it would change.\n\n\
         | size | format | q | preparation, µs (median) | turbo portable MP/s, excl. → incl. | \
         turbo SIMD MP/s, excl. → incl. |\n|---|---|---|---:|---:|---:|\n",
    );
    let (port, simd) = (col(PORTABLE.0, PORTABLE.1), col(SIMD.0, SIMD.1));
    for r in rows.iter().filter(|r| !r.prep.is_empty()) {
        let prep = throughput::median(&r.prep) as f64;
        let px = f64::from(r.width * r.height);
        let with = |c: usize| {
            let t = throughput::median(&r.times[c]) as f64;
            format!("{:.1} → {:.1}", px / t * 1e3, px / (t + prep) * 1e3)
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.0} | {} | {} |",
            r.size,
            r.format.name(),
            r.quality,
            prep / 1e3,
            with(port),
            with(simd)
        );
    }
    s
}

/// A count, or a dash where it was not measured.
fn count(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.1}"))
}

/// Instructions per pixel.
pub fn instructions(table: &[Vec<Option<f64>>]) -> String {
    let (w, h) = instructions::SIZE;
    let mut s = format!(
        "#### Instructions per pixel, {w}x{h} q{} 4:2:0 (callgrind: ({} encodes − 1 encode) / {} / pixels)\n\n",
        instructions::QUALITY,
        instructions::REPS,
        instructions::REPS - 1
    );
    s.push_str(
        "*Generic*/*Fast* are this binary as `cargo build --release` makes it: portable Rust \
         that LLVM auto-vectorises with x86-64's baseline SSE2. The *scalar build* is the same \
         code compiled with `-C llvm-args=-vectorize-loops=false -C \
         llvm-args=-vectorize-slp=false`: closer to what a scalar rv64gc build executes, though \
         RISC-V and x86-64 instruction counts are not one-to-one (the riscv64 section counts \
         real riscv64 builds, scalar and with RVV). libjpeg-turbo's portable path is Debian's build (GCC `-O2`). Under \
         valgrind, the *turbo SIMD* column uses whatever instruction set valgrind's virtual CPU \
         reports.\n\n| format |",
    );
    for c in instructions::COLUMNS {
        let _ = write!(s, " {} |", c.name());
    }
    s.push_str("\n|---|");
    for _ in instructions::COLUMNS {
        s.push_str("---:|");
    }
    s.push('\n');
    for (f, row) in instructions::FORMATS.iter().zip(table) {
        let _ = write!(s, "| {} |", f.name());
        for &v in row {
            let _ = write!(s, " {} |", count(v));
        }
        s.push('\n');
    }
    s
}

/// The "measured" and "met" cells of a "column `a` at least 2× column `b`"
/// target: wall and on-CPU speedups with the MP/s behind them, and a verdict
/// for each.
fn speedup_cells(r: &Row, a: usize, b: usize) -> (String, String) {
    let (wall, cpu) = (r.speedup(a, b), r.speedup_cpu(a, b));
    let verdict = |x: f64| if x >= 2.0 { "yes" } else { "**no**" };
    (
        format!(
            "wall time {wall:.2}× ({:.1} vs {:.1} MP/s), on-CPU time {cpu:.2}× ({:.1} vs {:.1} MP/s)",
            r.figures[a].mps,
            r.figures[b].mps,
            r.mps_cpu(a),
            r.mps_cpu(b),
        ),
        format!("wall: {}, on-CPU: {}", verdict(wall), verdict(cpu)),
    )
}

/// The targets, each with the measured figure and a verdict.
pub fn targets(rows: &[Row], instr: &[Vec<Option<f64>>]) -> String {
    let mut s =
        String::from("#### Targets (issue 2)\n\n| target | measured | met |\n|---|---|---|\n");
    let fast = col(Encoder::Fast, Place::Here);
    let scalar = col(Encoder::Fast, Place::Scalar);
    let generic = col(Encoder::Generic, Place::Here);
    let (port, port_fast) = (
        col(PORTABLE.0, PORTABLE.1),
        col(PORTABLE_FAST.0, PORTABLE_FAST.1),
    );
    for format in [Format::Rgb565, Format::Nv12] {
        let Some(r) = rows
            .iter()
            .find(|r| (r.width, r.height, r.format, r.quality) == (640, 480, format, 65))
        else {
            continue;
        };
        let (measured, met) = speedup_cells(r, fast, port);
        let _ = writeln!(
            s,
            "| Fast ≥ 2× libjpeg-turbo portable, {} VGA q65 | {measured}; against its fast DCT {:.2}× (on-CPU); Generic {:.2}× (on-CPU) | {met} |",
            format.name(),
            r.speedup_cpu(fast, port_fast),
            r.speedup_cpu(generic, port),
        );
        let (measured, met) = speedup_cells(r, scalar, port);
        let _ = writeln!(
            s,
            "| … the same, Fast as a scalar build (no auto-vectorisation: a core without vector unit) | {measured} | {met} |",
        );
    }
    let nv12 = instructions::FORMATS
        .iter()
        .position(|&f| f == Format::Nv12)
        .and_then(|i| instr.get(i));
    if let Some(row) = nv12 {
        let at = |c| row[instructions::col(c)];
        let verdict = |v: Option<f64>| match v {
            Some(v) if v <= 60.0 => "yes",
            Some(_) => "**no**",
            None => "not measured",
        };
        let (fast, scalar) = (at(instructions::FAST), at(instructions::FAST_SCALAR));
        let _ = writeln!(
            s,
            "| ≤ 60 instructions/pixel, NV12 VGA q65 (Fast) | {} as built (SSE2 auto-vectorised), {} scalar build (Generic {}, libjpeg-turbo portable {}) | as built: {}, scalar: {} |",
            count(fast),
            count(scalar),
            count(at(instructions::GENERIC)),
            count(at(instructions::TURBO_PORTABLE)),
            verdict(fast),
            verdict(scalar)
        );
    }
    s
}
