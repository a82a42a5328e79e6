"""img_stream_http: the board as an MJPEG web camera, for many viewers at once.

    import img_stream_http
    server = img_stream_http.MjpegServer(8080)
    while True:
        img = sensor.snapshot()
        server.push(img)          # encodes once, serves every client, never blocks

Endpoints: ``/`` (a page with the stream and live stats), ``/stream`` (MJPEG,
``multipart/x-mixed-replace``), ``/snapshot`` (the newest frame as one JPEG),
``/stats`` (JSON).

How it stays fast with slow viewers (the µStreamer model, no threads):

- ``push()`` encodes the frame **once**, into one of a few reused buffers,
  with the part head written right in front of the JPEG and the next boundary
  right after it, so a part is one contiguous slice that every client is sent.
- Sockets are non-blocking and watched with ``select.poll``. A client writes
  as much of its current part as the kernel takes; the rest waits for the
  next ``push()``/``poll()``. A part is always finished before the client's
  next one starts (the stream stays valid), and the next one is always the
  newest frame: a slow client skips frames instead of slowing anyone down.
- A client whose part has made no progress for ``stall_timeout_ms`` is
  dropped, and so is one that never finishes its request. Over
  ``max_clients`` streams a new viewer gets ``503``; a malformed or oversized
  request gets ``400``; the server keeps serving the others.
"""

import json
import select
import socket
import struct

import img_stream

from time import ticks_ms, ticks_us, ticks_diff

# Room for the part head in front of each JPEG: the longest head img_stream writes.
_HEADROOM = img_stream.MJPEG_PART_HEAD_MAX
_REQUEST_MAX = 2048
_POLLIN = select.POLLIN
_POLLOUT = select.POLLOUT
_POLLBAD = select.POLLERR | select.POLLHUP

# Client states.
_READ = 0  # reading the request
_STREAM = 1  # /stream: parts, forever
_ONCE = 2  # one response, then close

_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>img_stream camera</title>
<style>body{font-family:sans-serif;background:#111;color:#ddd;margin:1em}
img{max-width:100%;background:#000;display:block}pre{font-size:12px}</style></head>
<body><img id="cam" src="/stream" alt="camera stream">
<pre id="stats">...</pre>
<script>
async function tick(){
  try{
    const s=await (await fetch('/stats',{cache:'no-store'})).json();
    document.getElementById('stats').textContent=
      'captured '+s.fps_captured.toFixed(1)+' fps, sent '+s.fps_sent.toFixed(1)+
      ' fps, encode '+s.encode_ms.toFixed(1)+' ms, '+s.jpeg_bytes+' B/frame\\n'+
      s.clients.map(c=>c.addr+': '+c.fps.toFixed(1)+' fps, '+c.frames+' frames, '+
        c.skipped+' skipped').join('\\n');
  }catch(e){}
  setTimeout(tick,1000);
}
tick();
</script></body></html>
"""


def _response(status, ctype, body=b"", extra=b""):
    """A complete small response (head and body) as bytes."""
    head = "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n" % (status, ctype, len(body))
    return (head.encode() + b"Cache-Control: no-store\r\nConnection: close\r\n" + extra +
            b"\r\n" + body)


class _Frame:
    """One encoded frame, laid out as one ready-to-send part:
    ``buf[start:end]`` = part head, JPEG (at ``_HEADROOM``), tail."""

    def __init__(self, size, tail_len):
        self.buf = bytearray(size)
        mv = memoryview(self.buf)
        self.head = mv[:_HEADROOM]
        self.room = mv[_HEADROOM:size - tail_len]
        self.start = self.end = self.jpeg_len = 0
        self.seq = 0
        self.users = 0  # clients sending it, plus one while it is the newest


class _Client:
    def __init__(self, sock, addr, now):
        self.sock = sock
        self.addr = addr
        self.state = _READ
        self.req = None
        self.req_len = 0
        self.since = now  # last progress (request bytes or sent bytes)
        self.born = now
        # What is being written: buf[off:end], then `after` (buf, off, end).
        self.buf = None
        self.off = self.end = 0
        self.after = None
        self.frame = None  # the _Frame being sent (holds one of its users)
        self.ev = 0  # what poll reported this round
        self.mask = _POLLIN  # what poll is asked for
        self.sent_seq = -1
        self.frames = self.skipped = self.bytes = 0
        self.fps = 0.0
        self._frames_then = 0

    def pending(self):
        """A write is unfinished (the kernel's buffer was full)."""
        return self.buf is not None


class MjpegServer:
    """An MJPEG HTTP server driven from the camera loop: call ``push(img)``
    after each snapshot (and ``poll()`` when there is no new frame)."""

    def __init__(self, port=8080, *, host="0.0.0.0", max_clients=4, quality=65,
                 fps_limit=None, subsampling=420, boundary="img_stream", allow_origin="*",
                 stall_timeout_ms=10000, request_timeout_ms=5000):
        if max_clients < 1:
            raise ValueError("max_clients must be >= 1")
        self.quality = quality
        self.subsampling = subsampling
        self.fps_limit = fps_limit
        self.max_clients = max_clients
        self.stall_timeout_ms = stall_timeout_ms
        self.request_timeout_ms = request_timeout_ms
        self._boundary = boundary
        self._stream_head = img_stream.mjpeg_head(boundary=boundary, allow_origin=allow_origin)
        self._tail = b"\r\n--" + boundary.encode() + b"\r\n"
        self._tail_fmt = "%ds" % len(self._tail)
        self._cors = (b"Access-Control-Allow-Origin: " + allow_origin.encode() + b"\r\n"
                      if allow_origin else b"")
        self._frames = []
        self._frame_size = 0
        self._latest = None
        self._seq = 0
        self._clients = {}  # socket -> _Client, to look up what poll reports
        self._order = []  # the same clients, iterated without copying
        self._scratch = bytearray(256)
        self._streams = 0
        self._poll = select.poll()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(socket.getaddrinfo(host, port)[0][-1])
        s.listen(max_clients + 4)
        s.setblocking(False)
        self._lsock = s
        self._poll.register(s, _POLLIN)
        self._accept_ready = False
        # Counters for /stats.
        now = ticks_ms()
        self._t0 = self._rate_t = self._last_encode = now
        self.captured = self.encoded = self.parts_sent = 0
        self.bytes_sent = self.frames_dropped = 0
        self.clients_dropped = self.rejected = self.bad_requests = 0
        self.encode_us = 0
        self._fps_captured = self._fps_sent = 0.0
        self._captured_then = self._parts_then = 0

    # --- the camera loop's side ------------------------------------------------

    def push(self, img):
        """Encodes ``img`` (any img_stream input; a JPEG passes through) once
        and hands it to every client; returns False when ``fps_limit``
        skipped it. Never blocks."""
        now = ticks_ms()
        self.captured += 1
        encoded = False
        if not self.fps_limit or ticks_diff(now, self._last_encode) * self.fps_limit >= 1000:
            self._encode(img, now)
            encoded = True
        self._service(now)
        return encoded

    def poll(self, timeout_ms=0):
        """Serves clients without a new frame, waiting up to ``timeout_ms``."""
        if timeout_ms:
            for _ in self._poll.ipoll(timeout_ms):
                break
        self._service(ticks_ms())

    def close(self):
        """Closes every connection and the listening socket."""
        for c in self._order:
            self._drop(c, count=False)
        self._poll.unregister(self._lsock)
        self._lsock.close()

    def stats(self):
        """The numbers /stats serves, as a dict."""
        clients = []
        newest = self._latest.seq if self._latest else 0
        for c in self._clients.values():
            if c.state == _STREAM:
                # Frames that went by while this client was busy, counting
                # those passing by right now.
                behind = newest - c.sent_seq - 1 if c.sent_seq >= 0 else 0
                clients.append({"addr": c.addr, "fps": c.fps, "frames": c.frames,
                                "bytes": c.bytes, "skipped": c.skipped + max(0, behind),
                                "pending": c.pending()})
        return {
            "uptime_s": ticks_diff(ticks_ms(), self._t0) / 1000,
            "frames_captured": self.captured, "frames_encoded": self.encoded,
            "fps_captured": self._fps_captured, "fps_sent": self._fps_sent,
            "encode_ms": self.encode_us / 1000,
            "jpeg_bytes": self._latest.jpeg_len if self._latest else 0,
            "parts_sent": self.parts_sent, "bytes_sent": self.bytes_sent,
            "frames_dropped": self.frames_dropped, "clients": clients,
            "clients_dropped": self.clients_dropped, "rejected": self.rejected,
            "bad_requests": self.bad_requests, "buffers": len(self._frames),
        }

    # --- encoding ----------------------------------------------------------------

    def _free_frame(self):
        for f in self._frames:
            if f.users == 0 and len(f.buf) >= self._frame_size:
                return f
        for i, f in enumerate(self._frames):
            if f.users == 0:  # too small since the frames grew: replace it
                f = _Frame(self._frame_size, len(self._tail))
                self._frames[i] = f
                return f
        f = _Frame(self._frame_size, len(self._tail))
        self._frames.append(f)
        return f

    def _encode(self, img, now):
        t = ticks_us()
        if not self._frame_size:
            self._frame_size = _HEADROOM + len(self._tail) + 32 * 1024
        f = self._free_frame()
        try:
            n = img_stream.encode_into(img, f.room, quality=self.quality,
                                       subsampling=self.subsampling)
        except img_stream.BufferTooSmall:
            # Rare (first frames, a detailed scene): grow every buffer later.
            j = img_stream.encode(img, quality=self.quality, subsampling=self.subsampling)
            n = len(j)
            self._frame_size = _HEADROOM + n + n // 4 + len(self._tail)
            f = self._free_frame()
            f.room[:n] = j
        self.encode_us = ticks_diff(ticks_us(), t)
        self.encoded += 1
        self._last_encode = now
        h = img_stream.mjpeg_head(n, into=f.head, boundary=self._boundary)
        f.start = _HEADROOM - h
        f.jpeg_len = n
        e = _HEADROOM + n
        f.end = e + len(self._tail)
        struct.pack_into(self._tail_fmt, f.buf, e, self._tail)  # no slice object
        self._seq += 1
        f.seq = self._seq
        f.users += 1
        if self._latest is not None:
            self._latest.users -= 1
        self._latest = f

    # --- serving -----------------------------------------------------------------

    def _service(self, now):
        # Note what poll reports first: registering or dropping sockets
        # while iterating ipoll() would disturb it.
        for obj, ev in self._poll.ipoll(0):
            if obj is self._lsock:
                self._accept_ready = True
            else:
                c = self._clients.get(obj)
                if c is not None:
                    c.ev = ev
        if self._accept_ready:
            self._accept_ready = False
            self._accept(now)
        latest = self._latest
        dropped = False
        for c in self._order:
            if c.sock is None:
                dropped = True  # dropped earlier in this loop
                continue
            ev = c.ev
            c.ev = 0
            try:
                if ev & _POLLIN:
                    self._readable(c, now)
                elif ev & _POLLBAD:
                    self._drop(c)
                if c.sock is None:
                    continue
                if c.buf is not None and ev & _POLLOUT:
                    self._flush(c, now)
                if c.state == _STREAM and c.buf is None and latest is not None \
                        and latest.seq > c.sent_seq:
                    self._start_part(c, latest)
                    self._flush(c, now)
                if c.sock is not None:
                    self._watch(c)
            except OSError:
                self._drop(c)
                continue
            if c.sock is None:
                continue
            if c.state == _READ:
                if ticks_diff(now, c.born) > self.request_timeout_ms:
                    self._drop(c)
            elif c.buf is not None and ticks_diff(now, c.since) > self.stall_timeout_ms:
                self._drop(c)
        if dropped or len(self._order) != len(self._clients):
            self._order = [c for c in self._order if c.sock is not None]
        if ticks_diff(now, self._rate_t) >= 1000:
            self._update_rates(now)

    def _update_rates(self, now):
        dt = ticks_diff(now, self._rate_t) / 1000
        self._fps_captured = (self.captured - self._captured_then) / dt
        self._fps_sent = (self.parts_sent - self._parts_then) / dt
        self._captured_then = self.captured
        self._parts_then = self.parts_sent
        for c in self._clients.values():
            c.fps = (c.frames - c._frames_then) / dt
            c._frames_then = c.frames
        self._rate_t = now

    def _accept(self, now):
        while True:
            try:
                s, addr = self._lsock.accept()
            except OSError:
                return  # EAGAIN: no more waiting connections
            s.setblocking(False)
            c = _Client(s, _addr_str(addr), now)
            if len(self._clients) >= self.max_clients + 4:
                # Not even room to read the request: answer and hang up.
                self.rejected += 1
                try:
                    s.write(_response("503 Service Unavailable", "text/plain",
                                      b"too many clients\n", b"Retry-After: 2\r\n"))
                except OSError:
                    pass
                s.close()
                continue
            self._clients[s] = c
            self._order.append(c)
            self._poll.register(s, _POLLIN)

    def _watch(self, c):
        # Ask poll for POLLOUT only while a write is unfinished: an idle
        # socket is always writable and would make poll() return at once.
        mask = _POLLIN | _POLLOUT if c.buf is not None else _POLLIN
        if mask != c.mask:
            self._poll.modify(c.sock, mask)
            c.mask = mask

    def _readable(self, c, now):
        if c.state != _READ:
            # Nothing is expected after the request: EOF means the client
            # left; anything else is read and ignored.
            if c.sock.readinto(self._scratch) == 0:
                self._drop(c)
            return
        if c.req is None:
            c.req = bytearray(_REQUEST_MAX)
        n = c.sock.readinto(memoryview(c.req)[c.req_len:])
        if n is None:
            return
        if n == 0:
            self._drop(c)
            return
        c.req_len += n
        c.since = now
        end = bytes(c.req[:c.req_len]).find(b"\r\n\r\n")
        if end < 0:
            if c.req_len >= _REQUEST_MAX:
                self._bad(c, "request too large")
            return
        self._route(c, bytes(c.req[:end]))

    def _bad(self, c, why):
        self.bad_requests += 1
        self._send_once(c, _response("400 Bad Request", "text/plain", why.encode() + b"\n"))

    def _route(self, c, head):
        c.req = None
        line = head.split(b"\r\n", 1)[0]
        parts = line.split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or not parts[1].startswith(b"/"):
            self._bad(c, "malformed request")
            return
        if parts[0] != b"GET":
            self._send_once(c, _response("405 Method Not Allowed", "text/plain", b"GET only\n",
                                         b"Allow: GET\r\n"))
            return
        path = parts[1].split(b"?", 1)[0]
        if path == b"/stream":
            if self._streams >= self.max_clients:
                self.rejected += 1
                self._send_once(c, _response("503 Service Unavailable", "text/plain",
                                             b"too many viewers\n", b"Retry-After: 2\r\n"))
                return
            self._streams += 1
            c.state = _STREAM
            c.buf, c.off, c.end = self._stream_head, 0, len(self._stream_head)
            self._flush(c, ticks_ms())
        elif path == b"/snapshot" or path == b"/snapshot.jpg":
            f = self._latest
            if f is None:
                self._send_once(c, _response("503 Service Unavailable", "text/plain",
                                             b"no frame yet\n", b"Retry-After: 1\r\n"))
                return
            head = ("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n"
                    % f.jpeg_len).encode() + b"Cache-Control: no-store\r\nConnection: close\r\n"
            f.users += 1
            c.frame = f
            c.after = (f.buf, _HEADROOM, _HEADROOM + f.jpeg_len)
            self._send_once(c, head + self._cors + b"\r\n")
        elif path == b"/stats":
            body = json.dumps(self.stats()).encode()
            self._send_once(c, _response("200 OK", "application/json", body, self._cors))
        elif path == b"/" or path == b"/index.html":
            self._send_once(c, _response("200 OK", "text/html; charset=utf-8", _PAGE))
        else:
            self._send_once(c, _response("404 Not Found", "text/plain", b"not found\n"))

    def _send_once(self, c, data):
        c.state = _ONCE
        c.buf, c.off, c.end = data, 0, len(data)
        self._flush(c, ticks_ms())

    def _start_part(self, c, f):
        if c.sent_seq >= 0:
            skipped = f.seq - c.sent_seq - 1
            c.skipped += skipped
            self.frames_dropped += skipped
        c.sent_seq = f.seq
        f.users += 1
        c.frame = f
        c.buf, c.off, c.end = f.buf, f.start, f.end

    def _flush(self, c, now):
        while c.buf is not None:
            n = c.sock.write(c.buf, c.off, c.end - c.off)
            if not n:
                return  # the kernel's buffer is full: go on next time
            c.off += n
            c.bytes += n
            self.bytes_sent += n
            c.since = now
            if c.off < c.end:
                continue
            if c.after is not None:
                c.buf, c.off, c.end = c.after
                c.after = None
                continue
            c.buf = None
            if c.frame is not None:
                if c.state == _STREAM:
                    c.frames += 1
                    self.parts_sent += 1
                c.frame.users -= 1
                c.frame = None
        if c.state == _ONCE:
            # Read what the client sent beyond its request first: closing
            # with unread input makes the kernel send a reset, which can
            # destroy the response before the client has read it.
            try:
                while c.sock.readinto(self._scratch):
                    pass
            except OSError:
                pass
            self._drop(c, count=False)

    def _drop(self, c, count=True):
        if c.sock is None:
            return
        if count and c.state == _STREAM:
            self.clients_dropped += 1
        if c.state == _STREAM:
            self._streams -= 1
        if c.frame is not None:
            c.frame.users -= 1
            c.frame = None
        c.buf = c.after = None
        del self._clients[c.sock]
        try:
            self._poll.unregister(c.sock)
        except (OSError, KeyError):
            pass
        c.sock.close()
        c.sock = None


def _addr_str(addr):
    if isinstance(addr, tuple):  # ports whose accept() gives (host, port)
        return "%s:%s" % addr[:2]
    try:
        return "%s:%d" % (socket.inet_ntop(socket.AF_INET, addr[4:8]),
                          (addr[2] << 8) | addr[3])
    except Exception:
        return str(addr)
