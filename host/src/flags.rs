//! Command-line arguments, in two stages (as ripgrep does): clap parses the
//! words into the low-level [`Cli`], then [`Cli::validate`] checks them and
//! produces a [`Command`] the receivers run without further checks.
//!
//! This is the only place that checks what the user typed; the validated
//! types live in the dependency-free [`crate::config`].
//!
//! Adding a transport (`recv mqtt`, `recv udp`): a variant in `Recv` with
//! its own args struct that flattens `OutputArgs` (so `--out`, `--count`,
//! `--max-payload`, `--max-memory` and `--status` mean the same everywhere),
//! its checks here, a validated config in a [`Command`] variant, and one
//! match arm in `crate::run`.

use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use img_stream_core::framing;

use crate::config::{
    Command, MqttConfig, OutputConfig, StatusMode, TcpConfig, TcpMode, UdpConfig,
    DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_MEMORY,
};

/// Receive, verify and save camera frames sent by img_stream boards.
#[derive(Debug, Parser)]
#[command(name = "img-stream", version)]
pub struct Cli {
    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
    /// Receive frames from boards.
    #[command(subcommand)]
    Recv(Recv),
}

#[derive(Debug, Subcommand)]
enum Recv {
    /// Over TCP: boards connect to us (--listen), or we connect to a board
    /// (--connect) and reconnect whenever it closes or restarts.
    Tcp(TcpArgs),
    /// From an MQTT broker: subscribe to a topic filter (img_stream/+/frame
    /// for many cameras); raw JPEG and chunked payloads are auto-detected.
    Mqtt(MqttArgs),
    /// Over UDP: chunk datagrams from img_stream.send_udp, reassembled per
    /// sender; a frame missing a datagram is dropped and counted.
    Udp(UdpArgs),
}

#[derive(Debug, Args)]
struct UdpArgs {
    /// Receive on ADDR (e.g. 0.0.0.0:5000; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    listen: String,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct MqttArgs {
    /// The broker, HOST:PORT (port 1883 when omitted).
    #[arg(long, value_name = "HOST:PORT")]
    broker: String,
    /// Topic filter to subscribe to; wildcards allowed.
    #[arg(long, value_name = "FILTER", default_value = "img_stream/+/frame")]
    topic: String,
    /// Shared subscription ($share/GROUP/FILTER): receivers in one group
    /// split the messages between them.
    #[arg(long, value_name = "GROUP")]
    share: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
#[group(id = "mode", required = true, multiple = false)]
struct TcpArgs {
    /// Accept boards on ADDR (e.g. 0.0.0.0:5000; port 0 picks a free port).
    #[arg(long, value_name = "ADDR", group = "mode")]
    listen: Option<String>,
    /// Connect to a board listening on ADDR (HOST:PORT).
    #[arg(long, value_name = "ADDR", group = "mode")]
    connect: Option<String>,
    /// Most boards connected at once (--listen); one more evicts the
    /// connection idle longest.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Close a connection that sends nothing for this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs_f64())]
    idle_timeout: f64,
    #[command(flatten)]
    output: OutputArgs,
}

/// Options every receiver shares.
#[derive(Debug, Args)]
struct OutputArgs {
    /// Write frames to DIR/<camera>/<seq>.jpg and DIR/frames.jsonl.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Exit (status 0) after N good frames in total.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Refuse frames with a larger payload (suffixes K, M, KiB, MiB...).
    #[arg(long, value_name = "BYTES", default_value = "16MiB")]
    max_payload: String,
    /// Memory budget for everything received and not yet written (partial
    /// frames, connections, per-sender bookkeeping); when it is full the
    /// oldest partial work is dropped and counted. At least 2 × --max-payload.
    #[arg(long, value_name = "BYTES", value_parser = size_arg,
          default_value_t = DEFAULT_MAX_MEMORY as u64)]
    max_memory: u64,
    /// Status on stderr: a live line on a terminal, periodic lines otherwise.
    #[arg(long, value_enum, default_value_t = StatusArg::Auto)]
    status: StatusArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StatusArg {
    /// Live on a terminal, else lines every 2 s.
    Auto,
    /// One line rewritten in place.
    Live,
    /// A plain line every 2 s.
    Lines,
    /// Only the final summary.
    Quiet,
}

/// Largest payload a v1 header can describe inside a u32 frame length.
const MAX_MAX_PAYLOAD: u64 = u32::MAX as u64 - framing::HEADER_LEN as u64;

impl Cli {
    /// Checks the parsed arguments and turns them into a [`Command`].
    pub fn validate(self) -> anyhow::Result<Command> {
        match self.command {
            CliCommand::Recv(Recv::Tcp(args)) => {
                let mode = match (args.listen, args.connect) {
                    (Some(addr), None) => TcpMode::Listen(resolve_one(&addr)?),
                    (None, Some(addr)) => {
                        // Check the shape now; resolution is retried later.
                        if !addr.contains(':') {
                            bail!("--connect {addr}: expected HOST:PORT");
                        }
                        TcpMode::Connect(addr)
                    }
                    _ => bail!("give exactly one of --listen and --connect"),
                };
                if args.max_connections == 0 {
                    bail!("--max-connections must be at least 1");
                }
                if !(args.idle_timeout.is_finite() && args.idle_timeout > 0.0) {
                    bail!("--idle-timeout must be a positive number of seconds");
                }
                Ok(Command::RecvTcp(TcpConfig {
                    mode,
                    max_connections: args.max_connections,
                    idle_timeout: Duration::from_secs_f64(args.idle_timeout.min(1e9)),
                    output: args.output.validate()?,
                }))
            }
            CliCommand::Recv(Recv::Mqtt(args)) => Ok(Command::RecvMqtt(mqtt_config(
                &args.broker,
                &args.topic,
                args.share,
                args.output.validate()?,
            )?)),
            CliCommand::Recv(Recv::Udp(args)) => Ok(Command::RecvUdp(UdpConfig {
                listen: resolve_one(&args.listen)?,
                output: args.output.validate()?,
            })),
        }
    }
}

impl OutputArgs {
    fn validate(self) -> anyhow::Result<OutputConfig> {
        if self.count == Some(0) {
            bail!("--count must be at least 1");
        }
        let max_payload = parse_size(&self.max_payload)
            .with_context(|| format!("--max-payload {}", self.max_payload))?;
        if max_payload > MAX_MAX_PAYLOAD {
            bail!("--max-payload must be at most {MAX_MAX_PAYLOAD} bytes");
        }
        let max_memory = self.max_memory;
        // Room for the largest frame twice: its pieces and the reassembled copy.
        let least = 2 * max_payload + (1 << 20);
        if max_memory < least {
            bail!("--max-memory must be at least 2 x --max-payload + 1 MiB ({least} bytes)");
        }
        let status = match self.status {
            StatusArg::Auto if std::io::stderr().is_terminal() => StatusMode::Live,
            StatusArg::Auto => StatusMode::Periodic(Duration::from_secs(2)),
            StatusArg::Live => StatusMode::Live,
            StatusArg::Lines => StatusMode::Periodic(Duration::from_secs(2)),
            StatusArg::Quiet => StatusMode::Quiet,
        };
        Ok(OutputConfig {
            out: self.out,
            count: self.count,
            max_payload: max_payload as u32,
            max_memory: usize::try_from(max_memory).unwrap_or(usize::MAX),
            status,
        })
    }
}

/// Checks `--broker`, `--topic` and `--share` of `recv mqtt`.
fn mqtt_config(
    broker: &str,
    topic: &str,
    share: Option<String>,
    output: OutputConfig,
) -> anyhow::Result<MqttConfig> {
    let (host, port) = match broker.rsplit_once(':') {
        Some((h, p)) => (
            h.trim_start_matches('[').trim_end_matches(']'),
            p.parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .with_context(|| format!("--broker {broker}: bad port"))?,
        ),
        None => (broker, 1883),
    };
    if host.is_empty() {
        bail!("--broker {broker}: expected HOST:PORT");
    }
    if topic.is_empty() || topic.starts_with("$share/") {
        bail!("--topic must be a non-empty filter (use --share GROUP for shared subscriptions)");
    }
    if let Some(g) = &share {
        if g.is_empty() || g.contains(['/', '+', '#']) {
            bail!("--share GROUP must be non-empty, without '/', '+' or '#'");
        }
    }
    Ok(MqttConfig {
        host: host.to_owned(),
        port,
        topic: topic.to_owned(),
        share,
        output,
    })
}

fn resolve_one(addr: &str) -> anyhow::Result<SocketAddr> {
    addr.to_socket_addrs()
        .with_context(|| format!("bad address {addr:?} (expected HOST:PORT)"))?
        .next()
        .with_context(|| format!("{addr} resolves to no address"))
}

/// [`parse_size`] for clap.
fn size_arg(text: &str) -> Result<u64, String> {
    parse_size(text).map_err(|e| format!("{e:#}"))
}

/// Parses a byte count: `4096`, `64K`/`64KB` (×1000), `64KiB` (×1024), same
/// for M/MiB and G/GiB. Case-insensitive.
pub fn parse_size(text: &str) -> anyhow::Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        bail!("expected a number of bytes");
    }
    let n: u64 = digits.parse().context("number too large")?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "ki" | "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mi" | "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gi" | "gib" => 1 << 30,
        other => bail!("unknown unit {other:?}"),
    };
    n.checked_mul(mult).context("number too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Command> {
        let mut words = vec!["img-stream"];
        words.extend(args);
        Cli::try_parse_from(words)?.validate()
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("16MiB").unwrap(), 16 << 20);
        assert_eq!(parse_size("2k").unwrap(), 2000);
        assert_eq!(parse_size("1 GiB").unwrap(), 1 << 30);
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("99999999999999999999").is_err());
    }

    #[test]
    fn listen_with_defaults() {
        let Command::RecvTcp(c) = parse(&[
            "recv",
            "tcp",
            "--listen",
            "127.0.0.1:0",
            "--status",
            "quiet",
        ])
        .unwrap() else {
            unreachable!()
        };
        assert_eq!(c.mode, TcpMode::Listen("127.0.0.1:0".parse().unwrap()));
        assert_eq!(c.output.max_payload, 16 << 20);
        assert_eq!(c.output.max_memory, DEFAULT_MAX_MEMORY);
        assert_eq!(c.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(c.idle_timeout, DEFAULT_IDLE_TIMEOUT);
        assert_eq!(c.output.count, None);
        assert_eq!(c.output.status, StatusMode::Quiet);
    }

    #[test]
    fn connect_with_options() {
        let Command::RecvTcp(c) = parse(&[
            "recv",
            "tcp",
            "--connect",
            "board.local:5000",
            "--out",
            "d",
            "--count",
            "3",
            "--max-payload",
            "1MiB",
        ])
        .unwrap() else {
            unreachable!()
        };
        assert_eq!(c.mode, TcpMode::Connect("board.local:5000".into()));
        assert_eq!(c.output.out, Some(PathBuf::from("d")));
        assert_eq!(c.output.count, Some(3));
        assert_eq!(c.output.max_payload, 1 << 20);
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(parse(&["recv", "tcp"]).is_err(), "a mode is required");
        assert!(parse(&[
            "recv",
            "tcp",
            "--listen",
            "127.0.0.1:0",
            "--connect",
            "127.0.0.1:1"
        ])
        .is_err());
        assert!(parse(&["recv", "tcp", "--listen", "nonsense"]).is_err());
        assert!(parse(&["recv", "tcp", "--connect", "noport"]).is_err());
        assert!(parse(&["recv", "tcp", "--listen", "127.0.0.1:0", "--count", "0"]).is_err());
        assert!(parse(&[
            "recv",
            "tcp",
            "--listen",
            "127.0.0.1:0",
            "--max-payload",
            "5GiB"
        ])
        .is_err());
        assert!(
            parse(&[
                "recv",
                "udp",
                "--listen",
                "127.0.0.1:0",
                "--max-memory",
                "16MiB"
            ])
            .is_err(),
            "budget below twice the payload limit"
        );
        assert!(parse(&[
            "recv",
            "tcp",
            "--listen",
            "127.0.0.1:0",
            "--max-connections",
            "0"
        ])
        .is_err());
        assert!(parse(&[
            "recv",
            "tcp",
            "--listen",
            "127.0.0.1:0",
            "--idle-timeout",
            "0"
        ])
        .is_err());
    }

    #[test]
    fn broker_topic_and_share() {
        let output = || OutputConfig::quiet(1 << 20);
        let c = mqtt_config("127.0.0.1:1884", "img_stream/+/frame", None, output()).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 1884));
        assert_eq!(c.filter(), "img_stream/+/frame");
        let c = mqtt_config("broker", "a/#", Some("rx".into()), output()).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("broker", 1883));
        assert_eq!(c.filter(), "$share/rx/a/#");
        let c = mqtt_config("[::1]:1883", "t", None, output()).unwrap();
        assert_eq!(c.host, "::1");
        for (broker, topic, share) in [
            ("127.0.0.1:0", "t", None),
            ("127.0.0.1:x", "t", None),
            (":1883", "t", None),
            ("h:1", "", None),
            ("h:1", "$share/g/t", None),
            ("h:1", "t", Some("a/b")),
            ("h:1", "t", Some("")),
        ] {
            assert!(
                mqtt_config(broker, topic, share.map(Into::into), output()).is_err(),
                "{broker} {topic} {share:?}"
            );
        }
    }
}
