//! The hub's HTTP connections: capped in number, and closed when they make
//! no progress either way for `--http-idle-timeout`.
//!
//! A viewer that stops reading fills its socket buffers, then every write
//! stays pending; a client that opens a connection and sends nothing keeps
//! every read pending. Either would hold a slot forever and, enough of them,
//! starve good clients. Here each connection's reads and writes share one
//! idle timer, reset by any byte moved: a streaming viewer moves bytes with
//! every frame, a stalled one is closed (and its viewer slot freed).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::status::log;

/// Accepts at most `max` connections at once; one more gets a bare `503`.
pub struct Guarded {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    idle: Duration,
}

impl Guarded {
    /// Wraps a bound listener.
    pub fn new(listener: TcpListener, max: usize, idle: Duration) -> Guarded {
        Guarded {
            listener,
            permits: Arc::new(Semaphore::new(max)),
            idle,
        }
    }
}

const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 5\r\nConnection: close\r\n\r\n";

impl axum::serve::Listener for Guarded {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        loop {
            let (tcp, addr) = match self.listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // EMFILE and the like: back off instead of spinning.
                    log(format_args!("hub: accept: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                // Best effort, never waits: the socket buffer takes it or not.
                let _ = tcp.try_write(BUSY);
                continue;
            };
            // Parts are written as soon as they are handed over.
            let _ = tcp.set_nodelay(true);
            let conn = Conn {
                tcp,
                _permit: permit,
                idle: self.idle,
                timer: Box::pin(tokio::time::sleep(self.idle)),
            };
            return (conn, addr);
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// One accepted connection with its slot and idle timer.
pub struct Conn {
    tcp: TcpStream,
    _permit: OwnedSemaphorePermit,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
}

impl Conn {
    fn progress(&mut self) {
        let at = Instant::now() + self.idle;
        self.timer.as_mut().reset(at);
    }

    /// After a write: progress when it went through, else the idle check.
    fn wrote<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match r {
            Poll::Pending => self.check(cx),
            ready => {
                self.progress();
                ready
            }
        }
    }

    /// For a pending read or write: an error once the timer ran out.
    fn check<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no progress for --http-idle-timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.tcp).poll_read(cx, buf) {
            Poll::Pending => self.check(cx),
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.progress();
                }
                Poll::Ready(r)
            }
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.tcp).poll_write(cx, buf);
        self.wrote(cx, r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        self.wrote(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
