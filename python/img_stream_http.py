"""img_stream_http: the board as an MJPEG web camera, for many viewers at once.

    import img_stream_http
    server = img_stream_http.MjpegServer(8080, auth="viewer:secret")
    while True:
        img = sensor.snapshot()
        server.push(img)          # encodes once, serves every client, never blocks

Endpoints: ``/`` (a page with the stream and live stats), ``/stream`` (MJPEG,
``multipart/x-mixed-replace``), ``/snapshot`` (the newest frame as one JPEG),
``/stats`` (JSON), ``/metrics`` (Prometheus text) and ``/control?quality=&fps=``
(changes settings).

Nothing is encoded while nobody watches: with no viewer, ``push()`` encodes
at most ``idle_fps`` frames a second (0: none), and a ``/snapshot`` that
finds no current frame waits for the next ``push()``, which encodes it.

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
  dropped. Over ``max_clients`` streams a new viewer gets ``503``.

How it stays up under abuse (each ``push()``/``poll()`` does bounded work):

- Connections still sending their request are a separate pool of at most
  ``max_pending``; a new connection over the cap closes the oldest of them.
  A request head must be complete within ``request_timeout_ms`` and
  ``_REQUEST_MAX`` bytes. One call accepts at most ``max_pending``
  connections and reads each connection at most once.
- An error response (``400``, ``401``, ``404``, ``405``, ``503``) is written
  and the connection closed at once; the server never reads an abusive
  socket dry. A client that sends anything after its request head is dropped.
- ``auth="user:password"`` (HTTP Basic) and/or ``token=`` (``?token=`` or
  ``Authorization: Bearer``) guard every path, compared in constant time.
"""
import binascii
import errno
import json
import select
import socket
import struct

import img_stream

from time import ticks_ms, ticks_us, ticks_diff

# Room for the part head in front of each JPEG: the longest head img_stream writes.
_HEADROOM = img_stream.MJPEG_PART_HEAD_MAX
# A request head (request line and headers) must fit in this many bytes.
_REQUEST_MAX = 2048
# How long a new connection has to send its request before a newer one may
# close it to make room (a client on the LAN sends it with the handshake).
_GRACE_MS = 50
# Characters a token may use: URL-safe without escaping (RFC 3986 "unreserved"),
# so ?token= needs no percent-decoding.
_TOKEN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_POLLIN = select.POLLIN
_POLLOUT = select.POLLOUT
_POLLBAD = select.POLLERR | select.POLLHUP

# Client states; each indexes MjpegServer._count.
_READ = 0  # reading the request
_STREAM = 1  # /stream: parts, forever
_ONCE = 2  # one response, then close
_WAIT = 3  # /snapshot: waiting for the next push() to encode a frame

# /control's settings: (name, lowest, highest); 0 turns fps and idle_fps off.
_CONTROLS = ((b"quality", 1, 100), (b"fps", 0, 1000), (b"idle_fps", 0, 1000))

# /metrics, one family a row: (name, type, help, samples). Samples is the
# /stats key of its one value, or ((suffix, /stats key), ...) for a family
# with several (labels, or a summary's _sum and _count).
_METRICS = (
    ("img_stream_frames_captured_total", "counter", "Frames the camera loop pushed.",
     "frames_captured"),
    ("img_stream_frames_encoded_total", "counter", "Frames encoded (a JPEG input counts).",
     "frames_encoded"),
    ("img_stream_frames_not_encoded_total", "counter",
     "Frames pushed but not encoded: nobody watched (idle) or fps_limit.",
     (('{reason="idle"}', "frames_idle"), ('{reason="fps_limit"}', "frames_limited"))),
    ("img_stream_encode_seconds", "summary", "Time spent encoding frames.",
     (("_sum", "encode_s_total"), ("_count", "frames_encoded"))),
    ("img_stream_encode_last_seconds", "gauge", "Encode time of the newest frame.", "encode_s"),
    ("img_stream_jpeg_bytes", "gauge", "Size of the newest JPEG.", "jpeg_bytes"),
    ("img_stream_parts_sent_total", "counter", "Frames sent to viewers, all viewers together.",
     "parts_sent"),
    ("img_stream_sent_bytes_total", "counter", "Bytes written to clients.", "bytes_sent"),
    ("img_stream_viewer_frames_skipped_total", "counter",
     "Frames a viewer skipped because it was still receiving an older one.", "frames_dropped"),
    ("img_stream_viewers", "gauge", "Open /stream viewers.", "viewers"),
    ("img_stream_viewers_max", "gauge", "max_clients: viewers allowed at once.", "max_clients"),
    ("img_stream_viewers_dropped_total", "counter",
     "Viewers dropped: stalled, reset, or sent after their request.", "clients_dropped"),
    ("img_stream_requests_pending", "gauge", "Connections still sending their request.",
     "requests_pending"),
    ("img_stream_snapshots_waiting", "gauge", "Snapshot requests waiting for a frame.",
     "snapshots_waiting"),
    ("img_stream_requests_refused_total", "counter", "Requests refused or connections closed.",
     (('{reason="busy"}', "rejected"), ('{reason="bad_request"}', "bad_requests"),
      ('{reason="unauthorized"}', "unauthorized"), ('{reason="forbidden"}', "forbidden"),
      ('{reason="evicted"}', "evicted"), ('{reason="request_timeout"}', "request_timeouts"))),
    ("img_stream_accept_errors_total", "counter", "Failed accept() calls.", "accept_errors"),
    ("img_stream_quality", "gauge", "JPEG quality in use.", "quality"),
    ("img_stream_fps_limit", "gauge", "fps_limit while viewers watch (0: none).", "fps_limit"),
    ("img_stream_idle_fps", "gauge", "Frames a second encoded while nobody watches.",
     "idle_fps"),
    ("img_stream_uptime_seconds", "gauge", "Seconds since the server started.", "uptime_s"),
)

# The page passes its own query (?token=...) on to /stream and /stats.
_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>img_stream camera</title>
<style>body{font-family:sans-serif;background:#111;color:#ddd;margin:1em}
img{max-width:100%;background:#000;display:block}pre{font-size:12px}</style></head>
<body><img id="cam" alt="camera stream">
<pre id="stats">...</pre>
<script>
const q=location.search;
document.getElementById('cam').src='/stream'+q;
async function tick(){
  try{
    const s=await (await fetch('/stats'+q,{cache:'no-store'})).json();
    document.getElementById('stats').textContent=
      'captured '+s.fps_captured.toFixed(1)+' fps, sent '+s.fps_sent.toFixed(1)+
      ' fps, encode '+s.encode_ms.toFixed(1)+' ms, '+s.jpeg_bytes+' B/frame\\n'+
      s.clients.map(c=>(c.addr?c.addr+': ':'')+c.fps.toFixed(1)+' fps, '+c.frames+
        ' frames, '+c.skipped+' skipped').join('\\n');
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


def _same(given, secret):
    """``given == secret`` in a time that depends only on their lengths (the
    loop always runs over the whole secret), so the answer's timing tells an
    attacker nothing about how much of a guess was right."""
    n = len(given)
    diff = n ^ len(secret)
    for i in range(len(secret)):
        diff |= secret[i] ^ (given[i] if i < n else 0)
    return diff == 0


class _Part:
    """One HTTP part buffer: an encoded image laid out ready to send:
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
        self.part = None  # the _Part being sent (holds one of its users)
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
                 fps_limit=None, subsampling=420, boundary="img_stream", allow_origin=None,
                 stall_timeout_ms=10000, request_timeout_ms=5000, max_pending=8,
                 auth=None, token=None, idle_fps=0, skip_same=False, keepalive_s=2):
        if max_clients < 1:
            raise ValueError("max_clients must be >= 1")
        if max_pending < 1:
            raise ValueError("max_pending must be >= 1")
        self.quality = quality  # an int or an img_stream.RateControl
        # Unchanged frames are neither encoded nor served (a keep-alive part
        # goes out every keepalive_s); a SkipSame may also be passed.
        if skip_same is True:
            skip_same = img_stream.SkipSame(keepalive_s=keepalive_s)
        self.skip_same = skip_same or None
        self.subsampling = subsampling
        self.fps_limit = fps_limit
        # An int: _due() multiplies it with every idle push, and a float would
        # box a new object each time.
        if not isinstance(idle_fps, int) or idle_fps < 0:
            raise ValueError("idle_fps must be an int >= 0")
        self.idle_fps = idle_fps
        self.max_clients = max_clients
        self.max_pending = max_pending
        self.stall_timeout_ms = stall_timeout_ms
        self.request_timeout_ms = request_timeout_ms
        self._basic, self._token, self._challenge = _credentials(auth, token)
        guarded = self._challenge is not None
        if allow_origin is None:
            # Any page may read an open camera; a guarded one names its origin.
            allow_origin = "" if guarded else "*"
        elif allow_origin == "*" and guarded:
            raise ValueError("allow_origin '*' with auth or token: name the origin")
        self._boundary = boundary
        self._stream_head = img_stream.mjpeg_head(boundary=boundary, allow_origin=allow_origin)
        self._tail = b"\r\n--" + boundary.encode() + b"\r\n"
        self._tail_fmt = "%ds" % len(self._tail)
        self._cors = (b"Access-Control-Allow-Origin: " + allow_origin.encode() + b"\r\n"
                      if allow_origin else b"")
        self._origin = allow_origin.encode()
        self._parts = []
        self._part_size = 0
        self._latest = None
        self._stale = False  # push()es went by, not encoded, since _latest
        self._seq = 0
        self._clients = {}  # socket -> _Client, to look up what poll reports
        self._order = []  # the same clients, oldest first, iterated without copying
        self._count = [0, 0, 0, 0]  # clients in each state (_READ, _STREAM, _ONCE, _WAIT)
        self._req_bufs = []  # request buffers given back, reused (at most max_pending)
        self._poll = select.poll()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(socket.getaddrinfo(host, port)[0][-1])
        s.listen(4 * max_pending)  # kernel memory, not the heap: room for a burst
        s.setblocking(False)
        self._lsock = s
        self._poll.register(s, _POLLIN)
        self._accept_ready = self._paused = False
        # Counters for /stats.
        now = ticks_ms()
        self._t0 = self._rate_t = self._last_encode = now
        self.captured = self.encoded = self.parts_sent = 0
        self.frames_idle = self.frames_limited = 0
        self.bytes_sent = self.frames_dropped = 0
        self.clients_dropped = self.rejected = self.bad_requests = 0
        self.unauthorized = self.evicted = self.request_timeouts = self.accept_errors = 0
        self.forbidden = 0
        self.encode_us = self.encode_us_total = 0
        self._fps_captured = self._fps_sent = 0.0
        self._captured_then = self._parts_then = 0

    # --- the camera loop's side ------------------------------------------------

    def push(self, img):
        """Encodes ``img`` (any img_stream input; a JPEG or an
        ``img_stream.Encoded`` passes through) once and hands it to every
        client; returns False when it was not encoded (``fps_limit``, nobody
        watching: ``idle_fps``, or an unchanged scene: ``skip_same``). Never
        blocks."""
        now = ticks_ms()
        self.captured += 1
        encoded = False
        if self._due(now):
            encoded = self._encode(img, now)
        self._service(now)
        return encoded

    def _due(self, now):
        """This push() encodes: a snapshot waits for it, or a viewer watches
        and ``fps_limit`` allows it, or nobody watches and ``idle_fps`` does.
        Counts the frames it passes over."""
        if self._count[_WAIT]:
            return True
        since = ticks_diff(now, self._last_encode)
        if self._count[_STREAM]:
            if not self.fps_limit or since * self.fps_limit >= 1000:
                return True
            self.frames_limited += 1
            return False
        if self.idle_fps and since * self.idle_fps >= 1000:
            return True
        self.frames_idle += 1
        self._stale = True
        return False

    def poll(self, timeout_ms=0):
        """Serves clients without a new frame, waiting up to ``timeout_ms``."""
        if timeout_ms:
            if self._paused:  # new connections wait: look again soon
                timeout_ms = min(timeout_ms, _GRACE_MS)
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
        """The numbers /stats serves, as a dict (with every viewer's address)."""
        return self._stats(True)

    def _stats(self, addrs):
        clients = []
        newest = self._latest.seq if self._latest else 0
        for c in self._clients.values():
            if c.state == _STREAM:
                # Frames that went by while this client was busy, counting
                # those passing by right now.
                behind = newest - c.sent_seq - 1 if c.sent_seq >= 0 else 0
                e = {"fps": c.fps, "frames": c.frames, "bytes": c.bytes,
                     "skipped": c.skipped + max(0, behind), "pending": c.pending()}
                if addrs:
                    e["addr"] = c.addr
                clients.append(e)
        return {
            "uptime_s": ticks_diff(ticks_ms(), self._t0) / 1000,
            "frames_captured": self.captured, "frames_encoded": self.encoded,
            "frames_idle": self.frames_idle, "frames_limited": self.frames_limited,
            "frames_unchanged": self.skip_same.skipped if self.skip_same else 0,
            "fps_captured": self._fps_captured, "fps_sent": self._fps_sent,
            "encode_ms": self.encode_us / 1000,
            "jpeg_bytes": self._latest.jpeg_len if self._latest else 0,
            "parts_sent": self.parts_sent, "bytes_sent": self.bytes_sent,
            "frames_dropped": self.frames_dropped, "clients": clients,
            "clients_dropped": self.clients_dropped, "rejected": self.rejected,
            "bad_requests": self.bad_requests, "unauthorized": self.unauthorized,
            "requests_pending": self._count[_READ], "evicted": self.evicted,
            "request_timeouts": self.request_timeouts, "accept_errors": self.accept_errors,
            "forbidden": self.forbidden, "snapshots_waiting": self._count[_WAIT],
            "buffers": len(self._parts),
        }

    def _settings(self):
        q = self.quality
        # A rate controller in place of a number shows the quality it chose.
        return {"quality": q if isinstance(q, int) else q.quality, "fps": self.fps_limit or 0,
                "idle_fps": self.idle_fps}

    def _metrics(self):
        """/metrics: the numbers /stats serves, as Prometheus text format 0.0.4."""
        s = self._stats(False)
        s.update(self._settings())
        s["fps_limit"] = s["fps"]
        s["viewers"] = self._count[_STREAM]
        s["max_clients"] = self.max_clients
        s["encode_s"] = self.encode_us / 1e6
        s["encode_s_total"] = self.encode_us_total / 1e6
        out = []
        for name, kind, text, samples in _METRICS:
            out.append("# HELP %s %s\n# TYPE %s %s\n" % (name, text, name, kind))
            if not isinstance(samples, tuple):
                samples = (("", samples),)
            for suffix, key in samples:
                v = s[key]
                out.append("%s%s %s\n" % (name, suffix,
                                          ("%d" % v) if isinstance(v, int) else ("%.6f" % v)))
        return "".join(out).encode()

    def _control(self, c, lines, query):
        """/control: checks every value given before it changes any, then
        answers the settings in force as JSON."""
        if self._cross_site(lines):
            self.forbidden += 1
            self._send_once(c, _response("403 Forbidden", "text/plain",
                                         b"cross-site request\n"))
            return
        new = [None] * len(_CONTROLS)
        for item in query.split(b"&"):
            key, _, value = item.partition(b"=")
            if not item or key == b"token":
                continue
            for i, (name, lo, hi) in enumerate(_CONTROLS):
                if key == name:
                    break
            else:
                self._bad(c, "unknown setting; known: quality, fps, idle_fps")
                return
            if new[i] is not None:
                self._bad(c, "%s given twice" % name.decode())
                return
            # Digits only (no sign, space or exponent), and few enough that
            # int() stays small.
            if not value.isdigit() or len(value) > 4 or not lo <= int(value) <= hi:
                self._bad(c, "%s must be an integer %d..%d" % (name.decode(), lo, hi))
                return
            new[i] = int(value)
        quality, fps, idle_fps = new
        if quality is not None:
            self.quality = quality
        if fps is not None:
            self.fps_limit = fps or None
        if idle_fps is not None:
            self.idle_fps = idle_fps
        body = json.dumps(self._settings()).encode()
        self._send_once(c, _response("200 OK", "application/json", body, self._cors))

    def _cross_site(self, lines):
        """A browser marks the request as sent by another site's page (Fetch
        Metadata ``Sec-Fetch-Site``), from an origin other than
        ``allow_origin``: such a page must not change the camera with the
        viewer's cached credentials."""
        site = origin = None
        for line in lines:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"sec-fetch-site":
                site = value.strip()
            elif name == b"origin":
                origin = value.strip()
        if site is None or site == b"same-origin" or site == b"none":
            return False
        return not self._origin or self._origin == b"*" or origin != self._origin

    # --- encoding ----------------------------------------------------------------

    def _free_frame(self):
        for f in self._parts:
            if f.users == 0 and len(f.buf) >= self._part_size:
                return f
        for i, f in enumerate(self._parts):
            if f.users == 0:  # too small since the frames grew: replace it
                f = _Part(self._part_size, len(self._tail))
                self._parts[i] = f
                return f
        f = _Part(self._part_size, len(self._tail))
        self._parts.append(f)
        return f

    def _encode(self, img, now):
        t = ticks_us()
        if not self._part_size:
            self._part_size = _HEADROOM + len(self._tail) + 32 * 1024
        f = self._free_frame()
        try:
            n = img_stream.encode_into(img, f.room, quality=self.quality,
                                       subsampling=self.subsampling, skip_same=self.skip_same)
            if not n:
                # The same as the last part: clients keep it, and it shows the
                # scene now, so a waiting /snapshot or new viewer may have it.
                self._stale = False
                return False
        except img_stream.BufferTooSmall:
            # Rare (first frames, a detailed scene): grow every buffer later.
            j = img_stream.encode(img, quality=self.quality, subsampling=self.subsampling)
            n = len(j)
            self._part_size = _HEADROOM + n + n // 4 + len(self._tail)
            f = self._free_frame()
            f.room[:n] = j
        self.encode_us = ticks_diff(ticks_us(), t)
        self.encode_us_total += self.encode_us
        self.encoded += 1
        self._last_encode = now
        self._stale = False
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
        return True

    # --- serving -----------------------------------------------------------------

    def _service(self, now):
        # Listen again after a pause: _accept pauses again if still no room.
        self._listen(True)
        # Note what poll reports first: registering or dropping sockets
        # while iterating ipoll() would disturb it.
        for obj, ev in self._poll.ipoll(0):
            if obj is self._lsock:
                self._accept_ready = True
            else:
                c = self._clients.get(obj)
                if c is not None:
                    c.ev = ev
        latest = self._latest
        # Known connections first, then new ones: a request that arrived is
        # read before new connections can push its sender out of the pool.
        for c in self._order:
            if c.sock is None:
                continue  # dropped earlier in this loop
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
                # (A frame from before an idle spell is not sent: a new viewer
                # waits for the next push.)
                if c.state == _STREAM and c.buf is None and latest is not None \
                        and latest.seq > c.sent_seq and not self._stale:
                    self._start_part(c, latest)
                    self._flush(c, now)
                elif c.state == _WAIT:
                    self._wait_snapshot(c, now)
                if c.sock is not None:
                    self._watch(c)
            except OSError:
                self._drop(c)
                continue
            if c.sock is None:
                continue
            if c.state == _READ:
                if ticks_diff(now, c.born) > self.request_timeout_ms:
                    self.request_timeouts += 1
                    self._drop(c)
            elif c.buf is not None and ticks_diff(now, c.since) > self.stall_timeout_ms:
                self._drop(c)
        if self._accept_ready:
            self._accept_ready = False
            self._accept(now)
        if len(self._order) != len(self._clients):  # some were dropped
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
        # At most half the pool per call, so a flood of connections cannot
        # hold the camera loop.
        for _ in range(self.max_pending // 2 or 1):
            if not self._room(now):
                self._listen(False)  # the kernel's backlog holds the rest meanwhile
                return
            try:
                s, addr = self._lsock.accept()
            except OSError as e:
                if e.errno != errno.EAGAIN:
                    # Out of sockets or memory: try again next call, not in a spin.
                    self.accept_errors += 1
                    self._listen(False)
                return
            s.setblocking(False)
            c = _Client(s, _addr_str(addr), now)
            self._clients[s] = c
            self._order.append(c)
            self._count[_READ] += 1
            self._poll.register(s, _POLLIN)
            # Most clients send their request with the connection: serve it now.
            try:
                self._readable(c, now)
                if c.sock is not None:
                    self._watch(c)
            except OSError:
                self._drop(c)
        self._accept_ready = True  # more may be waiting: next call

    def _listen(self, on):
        """Lets poll report new connections, or (while the pool is full of
        connections too new to close) not, so poll() does not spin."""
        if self._paused == on:
            self._poll.modify(self._lsock, _POLLIN if on else 0)
            self._paused = not on

    def _room(self, now):
        """Room in the pool of connections still sending their request: the
        oldest one is closed when it has had ``_GRACE_MS``; False when every
        one is newer."""
        if self._count[_READ] < self.max_pending:
            return True
        c = self._oldest(_READ)
        if ticks_diff(now, c.born) < _GRACE_MS:
            return False
        # A last read first: a request that has arrived since is served
        # instead, which makes room too.
        try:
            self._readable(c, now)
        except OSError:
            self._drop(c)
        if c.sock is not None and c.state == _READ:
            self.evicted += 1
            self._drop(c)
        return True

    def _oldest(self, state):
        for c in self._order:
            if c.sock is not None and c.state == state:
                return c

    def _watch(self, c):
        # Ask poll for POLLOUT only while a write is unfinished: an idle
        # socket is always writable and would make poll() return at once.
        mask = _POLLIN | _POLLOUT if c.buf is not None else _POLLIN
        if mask != c.mask:
            self._poll.modify(c.sock, mask)
            c.mask = mask

    def _readable(self, c, now):
        if c.state != _READ:
            # Nothing may follow the request: EOF means the client left, and
            # a client that sends more is dropped rather than read forever.
            self._drop(c)
            return
        if c.req is None:
            c.req = self._req_bufs.pop() if self._req_bufs else bytearray(_REQUEST_MAX)
        n = c.sock.readinto(memoryview(c.req)[c.req_len:])
        if n is None:
            return
        if n == 0:
            self._drop(c)
            return
        # Look for the end of the head only where it can be: in the new bytes,
        # or straddling the old and the new.
        start = c.req_len - 3 if c.req_len > 3 else 0
        c.req_len += n
        c.since = now
        end = c.req.find(b"\r\n\r\n", start, c.req_len)
        if end < 0:
            if c.req_len >= _REQUEST_MAX:
                self._bad(c, "request too large")
            return
        head = bytes(c.req[:end])
        self._give_back(c)
        self._route(c, head)

    def _give_back(self, c):
        if c.req is not None:
            self._req_bufs.append(c.req)
            c.req = None
            c.req_len = 0

    def _bad(self, c, why):
        self.bad_requests += 1
        self._send_once(c, _response("400 Bad Request", "text/plain", why.encode() + b"\n"))

    def _authorized(self, lines, query):
        """The request carries valid credentials (Basic, Bearer or ?token=)."""
        ok = False
        for line in lines:
            name, _, value = line.partition(b":")
            if name.strip().lower() != b"authorization":
                continue
            scheme, _, cred = value.strip().partition(b" ")
            scheme = scheme.lower()
            cred = cred.strip()
            if scheme == b"basic" and self._basic:
                ok |= _same(cred, self._basic)
            elif scheme == b"bearer" and self._token:
                ok |= _same(cred, self._token)
        if self._token:
            for item in query.split(b"&"):
                key, _, value = item.partition(b"=")
                if key == b"token":
                    ok |= _same(value, self._token)
        return ok

    def _route(self, c, head):
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or not parts[1].startswith(b"/"):
            self._bad(c, "malformed request")
            return
        path, _, query = parts[1].partition(b"?")
        authed = False
        if self._challenge is not None:
            authed = self._authorized(lines[1:], query)
            if not authed:
                self.unauthorized += 1
                self._send_once(c, _response("401 Unauthorized", "text/plain",
                                             b"unauthorized\n", self._challenge))
                return
        if parts[0] != b"GET":
            self._send_once(c, _response("405 Method Not Allowed", "text/plain", b"GET only\n",
                                         b"Allow: GET\r\n"))
            return
        if path == b"/stream":
            if self._count[_STREAM] >= self.max_clients:
                self.rejected += 1
                self._send_once(c, _response("503 Service Unavailable", "text/plain",
                                             b"too many viewers\n", b"Retry-After: 2\r\n"))
                return
            self._set_state(c, _STREAM)
            c.buf, c.off, c.end = self._stream_head, 0, len(self._stream_head)
            self._flush(c, ticks_ms())
        elif path == b"/snapshot" or path == b"/snapshot.jpg":
            if self._latest is not None and (self.idle_fps or not self._stale):
                self._snapshot(c, self._latest)
                return
            # No current frame: the next push() encodes one for it.
            if self._count[_WAIT] >= self.max_pending:
                self.evicted += 1
                self._no_frame(self._oldest(_WAIT))
            self._set_state(c, _WAIT)
            c.since = ticks_ms()
        elif path == b"/metrics":
            self._send_once(c, _response("200 OK", "text/plain; version=0.0.4; charset=utf-8",
                                         self._metrics(), self._cors))
        elif path == b"/control":
            self._control(c, lines[1:], query)
        elif path == b"/stats":
            # Viewers' addresses only to a caller who proved who they are.
            body = json.dumps(self._stats(authed)).encode()
            self._send_once(c, _response("200 OK", "application/json", body, self._cors))
        elif path == b"/" or path == b"/index.html":
            self._send_once(c, _response("200 OK", "text/html; charset=utf-8", _PAGE))
        else:
            self._send_once(c, _response("404 Not Found", "text/plain", b"not found\n"))

    def _snapshot(self, c, f):
        head = ("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n"
                % f.jpeg_len).encode() + b"Cache-Control: no-store\r\nConnection: close\r\n"
        f.users += 1
        c.part = f
        c.after = (f.buf, _HEADROOM, _HEADROOM + f.jpeg_len)
        self._send_once(c, head + self._cors + b"\r\n")

    def _no_frame(self, c):
        self._send_once(c, _response("503 Service Unavailable", "text/plain",
                                     b"no frame yet\n", b"Retry-After: 1\r\n"))

    def _wait_snapshot(self, c, now):
        """A waiting /snapshot gets the frame push() encoded for it, or a
        503 when no push() came within ``request_timeout_ms``."""
        if self._latest is not None and not self._stale:
            self._snapshot(c, self._latest)
        elif ticks_diff(now, c.since) > self.request_timeout_ms:
            self._no_frame(c)

    def _set_state(self, c, state):
        self._count[c.state] -= 1
        self._count[state] += 1
        c.state = state

    def _send_once(self, c, data):
        if self._count[_ONCE] >= self.max_pending:
            # Responses the kernel could not take at once hold a socket (and a
            # snapshot a frame buffer): the oldest one makes room.
            self.evicted += 1
            self._drop(self._oldest(_ONCE))
        self._set_state(c, _ONCE)
        c.buf, c.off, c.end = data, 0, len(data)
        self._flush(c, ticks_ms())

    def _start_part(self, c, f):
        if c.sent_seq >= 0:
            skipped = f.seq - c.sent_seq - 1
            c.skipped += skipped
            self.frames_dropped += skipped
        c.sent_seq = f.seq
        f.users += 1
        c.part = f
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
            if c.part is not None:
                if c.state == _STREAM:
                    c.frames += 1
                    self.parts_sent += 1
                c.part.users -= 1
                c.part = None
        if c.state == _ONCE:
            # Close at once, unread input or not: reading a socket dry would
            # let its sender hold the camera loop. (Linux still delivers the
            # response the client has received before the reset.)
            self._drop(c, count=False)

    def _drop(self, c, count=True):
        if c.sock is None:
            return
        if count and c.state == _STREAM:
            self.clients_dropped += 1
        self._count[c.state] -= 1
        if c.part is not None:
            c.part.users -= 1
            c.part = None
        self._give_back(c)
        c.buf = c.after = None
        del self._clients[c.sock]
        try:
            self._poll.unregister(c.sock)
        except (OSError, KeyError):
            pass
        c.sock.close()
        c.sock = None


def _credentials(auth, token):
    """What requests must carry: the base64 of ``auth`` ("user:password",
    RFC 7617), the token, and the 401's WWW-Authenticate lines (None when
    the server is open)."""
    basic = tok = None
    challenge = b""
    if auth is not None:
        auth = auth.encode() if isinstance(auth, str) else bytes(auth)
        if auth.find(b":") < 1:
            raise ValueError("auth must be 'user:password'")
        basic = binascii.b2a_base64(auth, newline=False)
        challenge += b'WWW-Authenticate: Basic realm="img_stream", charset="UTF-8"\r\n'
    if token is not None:
        tok = token.encode() if isinstance(token, str) else bytes(token)
        if not tok or any(ch not in _TOKEN_CHARS for ch in tok):
            raise ValueError("token must be 1 or more of A-Z a-z 0-9 - . _ ~")
        challenge += b'WWW-Authenticate: Bearer realm="img_stream"\r\n'
    return basic, tok, challenge or None


def _addr_str(addr):
    if isinstance(addr, tuple):  # ports whose accept() gives (host, port)
        return "%s:%s" % addr[:2]
    try:
        return "%s:%d" % (socket.inet_ntop(socket.AF_INET, addr[4:8]),
                          (addr[2] << 8) | addr[3])
    except Exception:
        return str(addr)
