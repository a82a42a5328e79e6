//! `img-stream recv mqtt`: frames from an MQTT broker.
//!
//! One subscription (any filter, `img_stream/+/frame` for many cameras),
//! optionally shared (`$share/GROUP/...`, so several receivers split one
//! stream). Every message goes to a [`MessageHandler`]: raw JPEG, whole
//! frames and chunks are told apart by their first bytes, chunks are
//! reassembled per topic, and what is delivered goes to the same `--out`
//! layout and status line as `recv tcp`. The source of a frame is its topic.
//!
//! The MQTT client is `rumqttc`: it reconnects by itself when polled again
//! after an error; we resubscribe after every CONNACK (the session is
//! clean) and pace reconnection attempts.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use img_stream_core::chunk::ChunkHeaderRepr;
use rumqttc::{Client, ConnectionError, Event, MqttOptions, Packet, QoS, RecvTimeoutError};

use crate::config::MqttConfig;
use crate::messages::MessageHandler;
use crate::output::Output;
use crate::reassembly::{classify, Config, MessageKind};
use crate::status::{log, Stats};

/// How long one poll waits before stale partial frames are checked.
const TICK: Duration = Duration::from_millis(200);
/// First and longest wait between connection attempts.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Runs the receiver until `--count` frames, a signal or a fatal error.
pub fn run(config: MqttConfig) -> anyhow::Result<ExitCode> {
    // Messages of several cameras interleave and QoS 1 redelivers: allow
    // some reordering before a seq gap counts as a drop.
    let output = config.output.clone();
    crate::output::run(&output, 16, move |output, stopping| {
        receive(&config, output, stopping)
    })
}

/// Subscribes and delivers until `stopping` or a fatal error (refused, closed).
pub fn receive(
    config: &MqttConfig,
    output: &Arc<Output>,
    stopping: &AtomicBool,
) -> anyhow::Result<()> {
    let max_payload = config.output.max_payload;
    let client_id = format!("img-stream-{}", std::process::id());
    let mut options = MqttOptions::new(client_id, config.host.clone(), config.port);
    options.set_keep_alive(Duration::from_secs(10));
    options.set_clean_session(true);
    // Room for the largest accepted frame plus the PUBLISH header and topic.
    let largest = (max_payload as usize).saturating_add(64 * 1024);
    options.set_max_packet_size(largest, 64 * 1024);
    let (client, mut connection) = Client::new(options, 16);
    let filter = config.filter();
    let addr = format!("{}:{}", config.host, config.port);
    // A broker carries whole MQTT messages: no MTU below the frame limit.
    let reasm = Config {
        max_chunk_data: largest,
        ..Config::with_max_payload(max_payload)
    };
    let mut handler: MessageHandler<String> = MessageHandler::new(output.clone(), reasm, true);
    let mut backoff = BACKOFF_MIN;
    let mut last_error = String::new();
    let mut subscribed_once = false;
    let mut warned_share = false;
    while !stopping.load(Ordering::SeqCst) {
        match connection.recv_timeout(TICK) {
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                Stats::add(&output.stats().connections, 1);
                backoff = BACKOFF_MIN;
                last_error.clear();
                client
                    .try_subscribe(filter.as_str(), QoS::AtLeastOnce)
                    .context("subscribing")?;
            }
            Ok(Ok(Event::Incoming(Packet::SubAck(ack)))) => {
                if ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
                {
                    bail!("broker {addr} refused the subscription to {filter}");
                }
                // Tests and scripts wait for this exact line.
                if !subscribed_once {
                    log(format_args!("subscribed to {filter} on {addr}"));
                    subscribed_once = true;
                } else {
                    log(format_args!("resubscribed to {filter} on {addr}"));
                }
            }
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                if config.share.is_some() && !warned_share && splits_frames(&p.payload) {
                    warned_share = true;
                    log(format_args!(
                        "note: frames chunked into several messages are split between shared \
                         subscribers and cannot be reassembled: publish raw, or with a chunk_size \
                         above the frame size"
                    ));
                }
                handler.handle(&p.topic, &p.topic, &p.payload, Instant::now())?;
            }
            Ok(Ok(_)) => handler.tick(Instant::now()),
            Ok(Err(e)) => {
                if let ConnectionError::ConnectionRefused(code) = e {
                    bail!("broker {addr} refused the connection: {code:?}");
                }
                // One line per kind of failure, not one per attempt.
                let msg = e.to_string();
                if msg != last_error {
                    log(format_args!("mqtt {addr}: {msg}; reconnecting"));
                    last_error = msg;
                }
                handler.tick(Instant::now());
                // Pace reconnection attempts; rumqttc retries on the next poll.
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
            Err(RecvTimeoutError::Timeout) => handler.tick(Instant::now()),
            Err(RecvTimeoutError::Disconnected) => bail!("mqtt client closed"),
        }
    }
    handler.finish(Instant::now());
    Ok(())
}

/// Whether a message is one chunk of a frame cut into several.
fn splits_frames(message: &[u8]) -> bool {
    classify(message) == MessageKind::Chunk
        && ChunkHeaderRepr::parse(message).is_ok_and(|c| c.count > 1)
}
