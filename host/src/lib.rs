//! `img-stream`: host-side receivers for img_stream boards.
//!
//! The binary (`src/main.rs`) only maps [`run`]'s result to an exit code.
//! Building blocks, each reusable by every transport:
//! - [`stream`]: incremental decoder for a byte stream of frames (TCP);
//! - [`reassembly`]: chunk reassembly for message transports (MQTT, UDP);
//! - [`messages`]: the whole receive-loop body for message transports;
//! - [`store`]: the `--out DIR` layout (`<camera>/<seq>.jpg`, `frames.jsonl`);
//! - [`status`]: shared counters, seq-gap drops and the stderr status line;
//! - [`output`]: the per-run frame sink (counting, writing, `--count`) and
//!   [`output::run`], the skeleton every receiver runs in;
//! - [`budget`]: the process's memory budget and bounded per-source maps;
//! - [`config`]: validated configurations (plain data, no dependencies);
//! - [`flags`]: command-line parsing and all validation;
//! - [`signals`]: Ctrl-C/SIGTERM end a run with its summary line.
//!
//! Receivers: [`recv_tcp`], [`recv_mqtt`], [`recv_udp`]; [`hub`] re-serves
//! what they receive over HTTP.
#![deny(missing_docs)]

pub mod budget;
pub mod config;
pub mod flags;
pub mod hub;
pub mod messages;
pub mod output;
pub mod reassembly;
pub mod recv_mqtt;
pub mod recv_tcp;
pub mod recv_udp;
pub mod signals;
pub mod status;
pub mod store;
pub mod stream;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Parses `args` (program name first) and runs the command.
///
/// `--help`/`--version` and argument errors are printed here (exit 0 and
/// 2); other errors are returned for `main` to print.
pub fn run(args: impl IntoIterator<Item = OsString>) -> anyhow::Result<ExitCode> {
    let cli = match flags::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return Ok(ExitCode::from(code));
        }
    };
    let command = cli.validate()?;
    signals::install();
    match command {
        config::Command::RecvTcp(config) => recv_tcp::run(config),
        config::Command::RecvMqtt(config) => recv_mqtt::run(config),
        config::Command::RecvUdp(config) => recv_udp::run(config),
        config::Command::Hub(config) => hub::run(config),
    }
}
