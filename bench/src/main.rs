//! `img-stream-bench`: img_stream's encoders next to libjpeg-turbo, on the
//! same pixels in the same run. `bench/run.sh` (what `make bench` runs)
//! prepares the photographs and calls the `all` mode; the other modes are
//! its building blocks.
//!
//! ```text
//! img-stream-bench all          --photos DIR --scratch DIR --scalar-bin BIN   markdown on stdout
//! img-stream-bench throughput   --photos DIR --scalar-bin BIN
//! img-stream-bench instructions --photos DIR --scratch DIR [--scalar-bin BIN]
//! img-stream-bench count        --photos DIR --size WxH --format F --quality Q --encoder E --reps N
//! img-stream-bench worker       --photos DIR                 (internal: JSIMD_FORCENONE child)
//! ```
//! `DIR` holds `photo_WxH.rgb` (raw RGB888) for 320x240, 640x480, 1280x720.
//! `BIN`: this program built without LLVM's vectorisers, for the scalar
//! instruction counts (see `instructions`).

mod encoders;
mod frames;
mod instructions;
mod quality;
mod report;
mod throughput;
mod turbo;

use std::path::PathBuf;
use std::process::ExitCode;

use encoders::Encoder;
use frames::Format;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("img-stream-bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// `--name value` options after the mode.
struct Opts(Vec<(String, String)>);

impl Opts {
    fn parse(args: &[String]) -> Result<Opts, String> {
        let mut v = Vec::new();
        let mut it = args.iter();
        while let Some(k) = it.next() {
            let name = k
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {k}"))?;
            let val = it.next().ok_or_else(|| format!("{k} needs a value"))?;
            v.push((name.to_string(), val.clone()));
        }
        Ok(Opts(v))
    }

    fn get(&self, name: &str) -> Result<&str, String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("missing --{name}"))
    }

    fn path(&self, name: &str) -> Result<PathBuf, String> {
        self.get(name).map(PathBuf::from)
    }

    fn num<T: std::str::FromStr>(&self, name: &str) -> Result<T, String> {
        let v = self.get(name)?;
        v.parse().map_err(|_| format!("--{name}: bad number {v}"))
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, rest) = args
        .split_first()
        .ok_or("usage: img-stream-bench MODE [--opt value]...")?;
    let o = Opts::parse(rest)?;
    match mode.as_str() {
        "all" => {
            let photos = o.path("photos")?;
            eprintln!("throughput (every encoder alternating, same pixels):");
            let scalar = o.path("scalar-bin")?;
            let rows = throughput::measure(&photos, &scalar)?;
            eprintln!("instructions (callgrind):");
            let instr = instructions::measure(&photos, &o.path("scratch")?, Some(&scalar))?;
            print!(
                "{}\n{}\n{}\n{}\n{}",
                report::targets(&rows, &instr),
                report::legend(),
                report::throughput(&rows),
                report::preparation(&rows),
                report::instructions(&instr)
            );
        }
        "throughput" => {
            let rows = throughput::measure(&o.path("photos")?, &o.path("scalar-bin")?)?;
            print!(
                "{}\n{}\n{}",
                report::legend(),
                report::throughput(&rows),
                report::preparation(&rows)
            );
        }
        "instructions" => {
            let scalar = o.path("scalar-bin").ok();
            let instr =
                instructions::measure(&o.path("photos")?, &o.path("scratch")?, scalar.as_deref())?;
            print!("{}", report::instructions(&instr));
        }
        "count" => {
            let size = o.get("size")?;
            let (w, h) = size
                .split_once('x')
                .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
                .ok_or_else(|| format!("--size: expected WxH, got {size}"))?;
            let format = Format::parse(o.get("format")?).ok_or("--format: unknown")?;
            let enc = Encoder::parse(o.get("encoder")?).ok_or("--encoder: unknown")?;
            instructions::count(
                &o.path("photos")?,
                (w, h),
                format,
                o.num("quality")?,
                enc,
                o.num("reps")?,
            )?;
        }
        "worker" => throughput::worker(&o.path("photos")?)?,
        other => return Err(format!("unknown mode {other}")),
    }
    Ok(())
}
