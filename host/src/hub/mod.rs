//! `img-stream hub`: takes every board's stream and re-serves it over HTTP
//! (dashboard, MJPEG and snapshot URLs, JSON, Prometheus), optionally
//! recording with bounded retention. See docs/HUB.md.
//!
//! Data flow: inputs ([`inputs`], the receivers' own loops on their threads)
//! → [`cameras::Cameras`] (the newest frame of each camera, held once) →
//! viewers ([`http`], tokio tasks, latest-frame-wins) and [`record`].

pub mod auth;
pub mod cameras;
pub mod conn;
pub mod http;
pub mod inputs;
pub mod metrics;
pub mod pull;
pub mod record;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;

use self::auth::Auth;
use self::cameras::Cameras;
use self::record::Recorder;
use crate::config::HubConfig;
use crate::status::log;

/// HTTP connections allowed beyond `--max-viewers` (dashboard, API, metrics).
pub const HTTP_SPARE_CONNECTIONS: usize = 64;

/// Runs the hub until Ctrl-C or SIGTERM.
pub fn run(config: HubConfig) -> anyhow::Result<ExitCode> {
    let cameras = Cameras::new(config.limits);
    let recorder = match &config.record {
        Some(r) => Some(
            Recorder::start(r.clone())
                .with_context(|| format!("cannot record to {}", r.dir.display()))?,
        ),
        None => None,
    };
    for input in &config.inputs {
        inputs::start(input, &config, &cameras, recorder.clone())?;
    }
    // Two workers: this is a 2-core board-side companion, not a server farm,
    // and viewers only ever copy refcounts.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.http)
            .await
            .with_context(|| format!("cannot listen on {}", config.http))?;
        let local = listener.local_addr()?;
        // Tests and scripts read the real port from this exact line.
        log(format_args!("hub: http://{local}/"));
        let ticker = cameras.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                ticker.tick(Instant::now(), crate::store::unix_now_us() / 1_000_000);
            }
        });
        let app = http::router(cameras, Auth::new(&config.access));
        // Every viewer slot, plus room for pages, API and metrics clients.
        let max_connections = config.limits.max_viewers + HTTP_SPARE_CONNECTIONS;
        let listener = conn::Guarded::new(listener, max_connections, config.http_idle_timeout);
        // Not a graceful shutdown: streams never end by themselves.
        tokio::select! {
            served = axum::serve(listener, app) => served?,
            _ = async {
                while !crate::signals::requested() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            } => log(format_args!("hub: stopping")),
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
