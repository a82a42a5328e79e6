//! The hub's HTTP side (axum on tokio):
//!
//! | path | what |
//! | --- | --- |
//! | `/` | dashboard: every camera, live |
//! | `/cam/{id}` | camera page: live view, fps/latency chart, URLs |
//! | `/cam/{id}/stream` | MJPEG (`multipart/x-mixed-replace`) |
//! | `/cam/{id}/snapshot.jpg` | the newest frame |
//! | `/api/cameras` | JSON, one object per camera |
//! | `/api/cameras/{id}/history` | JSON, the chart's samples |
//! | `/metrics` | Prometheus text |
//! | `/assets/*` | the dashboard's script and style (no CDN) |
//!
//! Every path is behind [`Auth`] when one is configured.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};

use super::auth::Auth;
use super::cameras::{Camera, Cameras, Frame, Refused, ViewerSlot};

macro_rules! boundary {
    () => {
        "img_stream_hub"
    };
}
/// The multipart boundary of `/cam/{id}/stream`.
pub const BOUNDARY: &str = boundary!();

const INDEX_HTML: &str = include_str!("assets/index.html");
const CAMERA_HTML: &str = include_str!("assets/camera.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

#[derive(Clone)]
struct Hub {
    cameras: Arc<Cameras>,
    auth: Arc<Auth>,
}

/// The router, for `axum::serve`.
pub fn router(cameras: Arc<Cameras>, auth: Auth) -> Router {
    let hub = Hub {
        cameras,
        auth: Arc::new(auth),
    };
    Router::new()
        .route("/", get(index))
        .route("/cam/{id}", get(camera_page))
        .route("/cam/{id}/stream", get(stream))
        .route("/cam/{id}/snapshot.jpg", get(snapshot))
        .route("/api/cameras", get(api_cameras))
        .route("/api/cameras/{id}/history", get(api_history))
        .route("/metrics", get(metrics))
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/assets/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .layer(axum::middleware::from_fn_with_state(hub.clone(), guard))
        .with_state(hub)
}

async fn guard(State(hub): State<Hub>, request: Request, next: Next) -> Response {
    if hub.auth.allows(request.headers(), request.uri().query()) {
        next.run(request).await
    } else {
        hub.auth.challenge()
    }
}

/// A page, its asset links carrying the token when the request did.
fn html(hub: &Hub, template: &'static str, query: Option<&str>) -> Response {
    let body = template.replace("{{q}}", &hub.auth.page_query(query));
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

async fn index(State(hub): State<Hub>, uri: Uri) -> Response {
    html(&hub, INDEX_HTML, uri.query())
}

fn asset(ctype: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "max-age=60"),
        ],
        body,
    )
        .into_response()
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache, must-revalidate, max-age=0"),
    );
    r
}

fn refuse(why: Refused) -> Response {
    match why {
        Refused::Unknown => (StatusCode::NOT_FOUND, "no such camera\n").into_response(),
        Refused::Full => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "too many viewers\n",
        )
            .into_response(),
    }
}

async fn camera_page(State(hub): State<Hub>, Path(id): Path<String>, uri: Uri) -> Response {
    match hub.cameras.get(&id) {
        Some(_) => html(&hub, CAMERA_HTML, uri.query()),
        None => refuse(Refused::Unknown),
    }
}

async fn snapshot(State(hub): State<Hub>, Path(id): Path<String>) -> Response {
    let Some(camera) = hub.cameras.get(&id) else {
        return refuse(Refused::Unknown);
    };
    match camera.latest() {
        Some(frame) => no_store(
            (
                [(header::CONTENT_TYPE, "image/jpeg")],
                // A refcount, not a copy.
                frame.jpeg.clone(),
            )
                .into_response(),
        ),
        None => (StatusCode::SERVICE_UNAVAILABLE, "no frame yet\n").into_response(),
    }
}

/// One part's head: the same layout as the board's MjpegServer, with
/// `X-Timestamp` the hub's receive time so viewers can measure added latency.
fn part_head(frame: &Frame) -> Bytes {
    let us = frame.received_unix_us;
    Bytes::from(format!(
        "Content-Type: image/jpeg\r\nContent-Length: {}\r\nX-Timestamp: {}.{:06}\r\n\r\n",
        frame.jpeg.len(),
        us / 1_000_000,
        us % 1_000_000
    ))
}

struct Viewer {
    rx: tokio::sync::watch::Receiver<Option<Arc<Frame>>>,
    slot: ViewerSlot,
    cameras: Arc<Cameras>,
    /// The rest of the part being sent (JPEG, then the next boundary).
    rest: Vec<Bytes>,
}

impl Viewer {
    /// The next piece of the body; `None` ends it (camera forgotten).
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Viewer)> {
        if let Some(b) = self.rest.pop() {
            return Some((Ok(b), self));
        }
        // Wakes for the newest frame only: frames that came while this
        // viewer was busy are skipped, never queued.
        self.rx.changed().await.ok()?;
        let frame = self.rx.borrow_and_update().clone()?;
        let camera: &Camera = self.slot.camera();
        let added = Instant::now().saturating_duration_since(frame.received);
        self.cameras
            .metrics
            .observe_latency(camera, added.as_secs_f64());
        self.rest = vec![
            Bytes::from_static(concat!("\r\n--", boundary!(), "\r\n").as_bytes()),
            frame.jpeg.clone(),
        ];
        Some((Ok(part_head(&frame)), self))
    }
}

async fn stream(State(hub): State<Hub>, Path(id): Path<String>) -> Response {
    let slot = match hub.cameras.open_viewer(&id) {
        Ok(s) => s,
        Err(why) => return refuse(why),
    };
    let mut rx = slot.camera().subscribe();
    // Start with the newest frame rather than waiting for the next.
    if rx.borrow().is_some() {
        rx.mark_changed();
    }
    let viewer = Viewer {
        rx,
        slot,
        cameras: hub.cameras.clone(),
        rest: vec![Bytes::from(format!("--{BOUNDARY}\r\n"))],
    };
    let body = Body::from_stream(futures_util::stream::unfold(viewer, Viewer::next));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(concat!("multipart/x-mixed-replace;boundary=", boundary!())),
    );
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    no_store((headers, body).into_response())
}

fn camera_json(hub: &Hub, camera: &Camera, now: Instant) -> Value {
    let s = camera.summary(now);
    let frame = camera.latest();
    let id = &camera.id;
    json!({
        "id": id,
        "input": camera.input,
        "online": hub.cameras.online(camera, now),
        "width": frame.as_ref().map_or(0, |f| f.width),
        "height": frame.as_ref().map_or(0, |f| f.height),
        "seq": frame.as_ref().map(|f| f.seq),
        "fps": (s.fps * 10.0).round() / 10.0,
        "kbps": (s.kbps * 10.0).round() / 10.0,
        "frames": camera.frames(),
        "bytes": camera.bytes(),
        "drops": camera.drops(),
        "crc_errors": camera.crc_errors(),
        "viewers": camera.viewers(),
        "last_seen_ms": s.last_seen.map(|d| d.as_millis() as u64),
        "latency_ms": (s.latency_ms * 100.0).round() / 100.0,
        "urls": {
            "page": format!("/cam/{id}"),
            "stream": format!("/cam/{id}/stream"),
            "snapshot": format!("/cam/{id}/snapshot.jpg"),
        },
    })
}

async fn api_cameras(State(hub): State<Hub>) -> Response {
    let now = Instant::now();
    let list: Vec<Value> = hub
        .cameras
        .list()
        .iter()
        .map(|c| camera_json(&hub, c, now))
        .collect();
    no_store(axum::Json(list).into_response())
}

async fn api_history(State(hub): State<Hub>, Path(id): Path<String>) -> Response {
    let Some(camera) = hub.cameras.get(&id) else {
        return refuse(Refused::Unknown);
    };
    let samples: Vec<Value> = camera
        .history()
        .iter()
        .map(|s| json!({"t": s.unix_s, "fps": s.fps, "latency_ms": s.latency_ms}))
        .collect();
    no_store(
        axum::Json(json!({
            "camera": camera_json(&hub, &camera, Instant::now()),
            "samples": samples,
        }))
        .into_response(),
    )
}

async fn metrics(State(hub): State<Hub>) -> Response {
    let text = hub.cameras.metrics.encode(&hub.cameras.refused_frames);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
