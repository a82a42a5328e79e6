//! `--pull URL`: the hub as a client of a board's `MjpegServer` `/stream`
//! (python/img_stream_http.py), for boards that serve rather than send.
//!
//! Reads the `multipart/x-mixed-replace` response part by part: each part
//! must carry `Content-Length` (MjpegServer's do, as src/mjpeg.rs writes
//! them), no larger than `--max-payload`; anything else ends the connection,
//! which is retried with backoff like `--tcp-connect`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::output::Output;
use crate::status::{log, Stats};
use img_stream_core::jpeg::info;
use img_stream_core::pixel::PixelFormat;

use crate::store::{camera_name, FrameMeta};

/// Longest header line or response head accepted.
const MAX_HEAD: usize = 8 * 1024;
/// A board that sends nothing for this long is reconnected.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// `http://HOST:PORT/PATH` split into (`HOST:PORT`, `/PATH`).
pub fn split_url(url: &str) -> anyhow::Result<(String, String)> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("--pull {url}: only http:// URLs"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        bail!("--pull {url}: expected http://HOST[:PORT]/PATH");
    }
    let authority = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.contains(']'))
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.to_owned()))
}

/// Pulls `url` forever, reconnecting with backoff.
pub fn run(url: &str, output: &Output, max_payload: u32) {
    let Ok((authority, path)) = split_url(url) else {
        return;
    };
    let camera = camera_name(&format!("{authority}{path}"), 0);
    let mut backoff = BACKOFF_MIN;
    let mut last_error = String::new();
    loop {
        let mut frames = 0u64;
        match pull(&authority, &path, &camera, output, max_payload, &mut frames) {
            Ok(()) => log(format_args!("pull {url}: closed")),
            Err(e) => {
                let msg = format!("{e:#}");
                if msg != last_error {
                    log(format_args!("pull {url}: {msg}; retrying"));
                    last_error = msg;
                }
            }
        }
        if frames > 0 {
            backoff = BACKOFF_MIN;
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

fn pull(
    authority: &str,
    path: &str,
    camera: &str,
    output: &Output,
    max_payload: u32,
    frames: &mut u64,
) -> anyhow::Result<()> {
    let mut stream =
        TcpStream::connect(authority).with_context(|| format!("connect {authority}"))?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: img-stream-hub\r\n\r\n"
    )?;
    Stats::add(&output.stats().connections, 1);
    let mut r = BufReader::new(stream);
    let status = line(&mut r)?;
    if !status.starts_with("HTTP/1.") || status.split(' ').nth(1) != Some("200") {
        bail!("answered {status:?}");
    }
    let mut multipart = false;
    loop {
        let h = line(&mut r)?;
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-type") {
                multipart = v
                    .trim()
                    .to_ascii_lowercase()
                    .starts_with("multipart/x-mixed-replace");
            }
        }
    }
    if !multipart {
        bail!("not a multipart/x-mixed-replace stream");
    }
    let mut jpeg = Vec::new();
    let mut seq = 0u32;
    loop {
        // Boundary and blank lines up to the part's headers, then the headers.
        let mut len: Option<usize> = None;
        let mut in_headers = false;
        loop {
            let h = line(&mut r)?;
            if h.is_empty() {
                if in_headers {
                    break;
                }
                continue;
            }
            if h.starts_with("--") && !in_headers {
                continue;
            }
            in_headers = true;
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().ok();
                }
            }
        }
        let Some(len) = len else {
            Stats::add(&output.stats().bad_headers, 1);
            bail!("a part without Content-Length");
        };
        if len > max_payload as usize {
            Stats::add(&output.stats().oversize, 1);
            bail!("a part of {len} bytes, over --max-payload");
        }
        // Grows with bytes received, never past the cap.
        jpeg.clear();
        (&mut r).take(len as u64).read_to_end(&mut jpeg)?;
        if jpeg.len() < len {
            Stats::add(&output.stats().truncated, 1);
            return Ok(());
        }
        let (width, height) = info::parse(&jpeg).map_or((0, 0), |i| (i.width, i.height));
        let meta = FrameMeta {
            seq,
            timestamp_us: 0,
            width,
            height,
            format: PixelFormat::Jpeg.code(),
        };
        seq = seq.wrapping_add(1);
        output.deliver(camera, &meta, &jpeg)?;
        *frames += 1;
    }
}

/// One CRLF-terminated line, at most [`MAX_HEAD`] bytes.
fn line(r: &mut impl BufRead) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    let n = r.take(MAX_HEAD as u64).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
    }
    if !buf.ends_with(b"\n") {
        bail!("header line too long");
    }
    Ok(String::from_utf8_lossy(&buf).trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            split_url("http://10.0.0.5:8080/stream").unwrap(),
            ("10.0.0.5:8080".into(), "/stream".into())
        );
        assert_eq!(
            split_url("http://board.local").unwrap(),
            ("board.local:80".into(), "/".into())
        );
        assert!(split_url("https://x/stream").is_err());
        assert!(split_url("http:///stream").is_err());
    }
}
