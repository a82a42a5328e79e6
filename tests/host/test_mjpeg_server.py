"""img_stream_http.MjpegServer end to end: the example script
(python/examples/k230/mjpeg_server.py) runs on the unix port and real clients read
it over loopback: ffmpeg/ffprobe, Pillow, raw sockets, a client that never
reads. Waiting is done by polling conditions against deadlines."""
import base64
import json
import os
import socket
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from io import BytesIO

import pytest
from PIL import Image

from conftest import MICROPYPATH, MICROPYTHON, ROOT, stop_processes
import receiver

EXAMPLE = ROOT / "python" / "examples" / "k230" / "mjpeg_server.py"
BOUNDARY = b"\r\n--img_stream\r\n"


# Under qemu (tests/cross/run.sh) everything interpreted is ~20x slower.
SCALE = float(os.environ.get("IMG_STREAM_TIME_SCALE", "1"))


def wait_for(cond, timeout, what):
    """receiver.wait_for with the deadline stretched under qemu."""
    return receiver.wait_for(cond, timeout * SCALE, what)


class ServerProcess:
    """The example server on a free loopback port; collects its stdout lines
    with arrival times."""

    def __init__(self, **opts):
        for _ in range(5):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
            s.close()
            args = {"host": "127.0.0.1", "port": self.port, **opts}
            cmd = [str(MICROPYTHON), "-X", "heapsize=64M", str(EXAMPLE)]
            cmd += [f"{k}={v}" for k, v in args.items()]
            env = dict(os.environ, MICROPYPATH=MICROPYPATH)
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         env=env, text=True, bufsize=1)
            self.lines = []
            threading.Thread(target=self._collect, daemon=True).start()
            try:
                wait_for(lambda: self.proc.poll() is not None or
                         any(l.startswith("serving") for _, l in self.lines), 20, "server start")
            except AssertionError:
                self.stop()
                raise
            if self.proc.poll() is None:
                return
            err = self.proc.stderr.read()
            if "EADDRINUSE" not in err and "98" not in err:
                raise AssertionError(f"server failed: {err}")
        raise AssertionError("no free port")

    def _collect(self):
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.strip()))

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path, timeout=10):
        with urllib.request.urlopen(self.url(path), timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()

    def stats(self):
        return json.loads(self.get("/stats")[2])

    def stop(self):
        stop_processes(self.proc)


class StreamParser:
    """Incremental multipart parser for our stream: counts parts, checks
    each part's layout and keeps the last JPEG."""

    def __init__(self):
        self.buf = bytearray()
        self.head = None
        self.count = 0
        self.last = None
        self.timestamps = []

    def feed(self, data):
        self.buf += data
        if self.head is None:
            i = self.buf.find(b"\r\n\r\n")
            if i < 0 or len(self.buf) < i + len(BOUNDARY) + 2:
                return
            self.head = bytes(self.buf[:i])
            assert self.buf[i + 2:i + len(BOUNDARY) + 2] == BOUNDARY, self.buf[:i + 40]
            del self.buf[:i + len(BOUNDARY) + 2]
        while True:
            e = self.buf.find(b"\r\n\r\n", 0, 300)
            if e < 0:
                return
            fields = dict(l.split(": ", 1) for l in self.buf[:e].decode().split("\r\n"))
            n = int(fields["Content-Length"])
            end = e + 4 + n + len(BOUNDARY)
            if len(self.buf) < end:
                return
            assert fields["Content-Type"] == "image/jpeg"
            jpeg = bytes(self.buf[e + 4:e + 4 + n])
            assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
            assert self.buf[end - len(BOUNDARY):end] == BOUNDARY
            self.timestamps.append(float(fields["X-Timestamp"]))
            self.last = jpeg
            self.count += 1
            del self.buf[:end]


def open_stream(port, rcvbuf=0, path="/stream"):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: cam\r\n\r\n")
    return s


class Readers:
    """Clients that read /stream as fast as they can, in one thread."""

    def __init__(self, port, n, path="/stream"):
        self.socks = [open_stream(port, path=path) for _ in range(n)]
        self.parsers = [StreamParser() for _ in range(n)]
        self.error = None
        self._stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        import selectors
        sel = selectors.DefaultSelector()
        for s, p in zip(self.socks, self.parsers):
            sel.register(s, selectors.EVENT_READ, p)
        try:
            while not self._stop:
                for key, _ in sel.select(0.1):
                    data = key.fileobj.recv(1 << 20)
                    if not data:
                        raise AssertionError("server closed a reader")
                    key.data.feed(data)
        except Exception as e:  # reported by the test thread
            self.error = e

    def counts(self):
        assert self.error is None, self.error
        return [p.count for p in self.parsers]

    def close(self):
        self._stop = True
        self.t.join(5)
        for s in self.socks:
            s.close()


def raw_request(port, data, read=True):
    """Sends raw bytes, returns the whole response (until the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while read:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out


@pytest.fixture(scope="module")
def server(micropython):
    s = ServerProcess(size="640x480", format="NV12", camera_fps=30, max_clients=4)
    yield s
    s.stop()


def test_ffmpeg_decodes_the_stream(server, tmp_path):
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
         "stream=codec_name,width,height", "-of", "json", server.url("/stream")],
        capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    st = json.loads(probe.stdout)["streams"][0]
    assert (st["codec_name"], st["width"], st["height"]) == ("mjpeg", 640, 480), st
    n = 15
    r = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", server.url("/stream"),
         "-frames:v", str(n), str(tmp_path / "f%03d.png")],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    frames = sorted(tmp_path.glob("f*.png"))
    assert len(frames) == n
    sigs = set()
    for f in frames:
        im = Image.open(f)
        assert im.size == (640, 480)
        sigs.add(im.convert("L").resize((32, 24)).tobytes())
    assert len(sigs) > 1, "the picture should move"


def test_snapshot_decodes_with_pillow(server):
    status, headers, body = server.get("/snapshot")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert int(headers["Content-Length"]) == len(body)
    im = Image.open(BytesIO(body))
    im.load()
    assert im.format == "JPEG" and im.size == (640, 480) and im.mode == "RGB"
    lo, hi = im.convert("L").getextrema()
    assert hi - lo > 100, "a test pattern, not a flat image"


def test_stats_are_json_with_sane_numbers(server):
    readers = Readers(server.port, 1)
    try:
        wait_for(lambda: readers.counts()[0] >= 40, 30, "frames to the reader")
        s = wait_for(lambda: (lambda s: s if s["clients"] and s["clients"][0]["fps"] > 0 else None)(
            server.stats()), 10, "a client rate in /stats")
    finally:
        readers.close()
    # The camera runs at 30 fps; under qemu (SCALE > 1) the interpreter
    # cannot keep that clock, and only a rate at all is asserted.
    assert (15 <= s["fps_captured"] <= 45) if SCALE == 1 else s["fps_captured"] > 0, s
    # One encode per frame while someone watched; none while nobody did.
    assert s["frames_encoded"] == s["frames_captured"] - s["frames_idle"], s
    assert 0 < s["encode_ms"] < 1000 and s["jpeg_bytes"] > 1000, s
    c = s["clients"][0]
    assert 5 <= c["fps"] <= 45 and c["frames"] >= 40 and c["bytes"] > 40 * 1000, c
    assert s["bytes_sent"] >= c["bytes"] and s["parts_sent"] >= c["frames"], s


def test_page_shows_the_stream(server):
    status, headers, body = server.get("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'<img id="cam"' in body and b"'/stream'+q" in body and b"'/stats'+q" in body


def test_bad_requests_and_dropped_clients_do_not_stop_the_server(server):
    readers = Readers(server.port, 1)
    try:
        wait_for(lambda: readers.counts()[0] >= 3, 20, "the reader to start")
        assert raw_request(server.port, b"garbage\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        assert raw_request(server.port, b"\x00\xff" * 100 + b"\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        big = b"GET /" + b"x" * 8000 + b" HTTP/1.1\r\n\r\n"
        assert raw_request(server.port, big).startswith(b"HTTP/1.1 400 ")
        assert raw_request(server.port, b"GET /nope HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404 ")
        # A client that goes away in the middle of a part, with a reset.
        s = open_stream(server.port)
        got = b""
        while got.count(b"Content-Length") < 2:
            got += s.recv(1000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        # A client that connects and never sends its request.
        idle = socket.create_connection(("127.0.0.1", server.port))
        n = readers.counts()[0]
        wait_for(lambda: readers.counts()[0] >= n + 20, 20, "the reader to keep receiving")
        assert server.get("/snapshot")[0] == 200
        s = server.stats()
        assert s["bad_requests"] >= 3, s
        assert len(s["clients"]) == 1, s["clients"]
        idle.close()
    finally:
        readers.close()


def test_over_max_clients_gets_503(server):
    readers = Readers(server.port, 4)
    try:
        wait_for(lambda: min(readers.counts()) >= 2, 20, "four viewers")
        with pytest.raises(urllib.error.HTTPError) as e:
            server.get("/stream")
        assert e.value.code == 503
        assert server.get("/snapshot")[0] == 200  # one-shot requests still served
    finally:
        readers.close()
    # A slot frees up once a viewer has gone.
    wait_for(lambda: len(server.stats()["clients"]) == 0, 10, "viewers to be dropped")
    s = open_stream(server.port)
    try:
        assert s.recv(100).startswith(b"HTTP/1.1 200 OK")
    finally:
        s.close()


def loop_windows(srv, t0, t1):
    """Camera-loop rates (frames/s) of the report windows inside [t0, t1]."""
    out = []
    for t, line in list(srv.lines):
        if line.startswith("loop ") and t0 < t <= t1:
            n, ms = map(int, line.split()[1:])
            # The window covers [t - ms, t]: keep it if it lies inside.
            if t - ms / 1000 >= t0 and ms > 0:
                out.append(n * 1000 / ms)
    return out


@pytest.mark.skipif(SCALE > 1, reason="an fps comparison under qemu measures qemu: the native run covers it")
def test_slow_and_stalled_clients_do_not_slow_the_camera(micropython):
    """A camera at 120 fps (VGA NV12: four times a K230 sensor's usual 30, and
    about a third of this machine's encode rate): the loop's fps with 3 readers
    and one client that never reads stays within 10 % of its fps with no
    client. (Unpaced, the comparison mostly measures the CPU the reader
    threads take from a 2-core machine, not the server.)
    Rounds alternate the two conditions so drifting machine load hits both;
    each condition's rate is its best report window (load from other
    processes only ever slows a window down)."""
    srv = ServerProcess(size="640x480", format="NV12", camera_fps=120, report=30,
                        stall_ms=2000, max_clients=4)
    try:
        quiet, loaded = [], []
        reader_counts = []
        stalled = []
        # Six rounds, and up to six more while the best loaded window still
        # trails: on a busy 2-core machine a round can lose its best window to
        # other processes; a real slowdown shows in every round.
        for rnd in range(12):
            if rnd >= 6 and max(loaded) >= 0.9 * max(quiet):
                break
            t0 = time.monotonic()
            wait_for(lambda: len(loop_windows(srv, t0, time.monotonic())) >= 5, 30, "quiet windows")
            quiet += loop_windows(srv, t0, time.monotonic())
            readers = Readers(srv.port, 3)
            st = open_stream(srv.port, rcvbuf=4096)
            stalled.append(st)
            try:
                wait_for(lambda: min(readers.counts()) >= 3, 20, "readers")
                t0 = time.monotonic()
                c0 = readers.counts()
                wait_for(lambda: len(loop_windows(srv, t0, time.monotonic())) >= 5, 30,
                         "loaded windows")
                loaded += loop_windows(srv, t0, time.monotonic())
                reader_counts.append([b - a for a, b in zip(c0, readers.counts())])
            finally:
                readers.close()
            st.close()
        best_quiet, best_loaded = max(quiet), max(loaded)
        med = lambda v: sorted(v)[len(v) // 2]
        print(f"camera loop fps: no client best {best_quiet:.0f} (median {med(quiet):.0f}), "
              f"3 readers + 1 stalled best {best_loaded:.0f} (median {med(loaded):.0f})")
        assert best_loaded >= 0.9 * best_quiet, (quiet, loaded)
        # The readers kept receiving in every round.
        assert all(min(c) > 0 for c in reader_counts), reader_counts

        # A stalled client is skipped, then dropped; the readers carry on.
        readers = Readers(srv.port, 3)
        st = open_stream(srv.port, rcvbuf=4096)
        try:
            entry = wait_for(lambda: next((c for c in srv.stats()["clients"]
                                           if c["pending"] and c["skipped"] > 10), None),
                             20, "the stalled client to skip frames")
            dropped = srv.stats()["clients_dropped"]
            n = readers.counts()
            wait_for(lambda: srv.stats()["clients_dropped"] > dropped, 20, "the stall drop")
            assert all(b > a for a, b in zip(n, readers.counts())), (n, readers.counts())
            assert len(srv.stats()["clients"]) == 3
            # Its connection is closed: after what was buffered, EOF or reset.
            st.settimeout(10)
            try:
                while st.recv(1 << 16):
                    pass
            except ConnectionResetError:
                pass
            assert entry["skipped"] > 10
        finally:
            readers.close()
            st.close()
        s = srv.stats()
        # One encode per captured frame, however many clients (none between
        # rounds, while nobody watched).
        assert s["frames_encoded"] == s["frames_captured"] - s["frames_idle"], s
    finally:
        srv.stop()


class Slowloris:
    """The slowloris attack as gkbrk/slowloris does it (slowloris.py at 890f72d:
    each round sends a little more of an unfinished request on every socket,
    drops the sockets that failed, then opens new ones to make up the count),
    with a round every second and one byte a round after `GET /stre`: `n`
    connections, in one thread with non-blocking sockets."""

    REQUEST = b"GET /stream HTTP/1.1\r\nHost: cam\r\nX-Slow: " + b"s" * 4000

    def __init__(self, port, n):
        import selectors
        self.port, self.n = port, n
        self.sel = selectors.DefaultSelector()
        self.sent = {}  # socket -> bytes of REQUEST sent
        self.connects = self.closed_by_server = self.rounds = 0
        self.error = None
        self._stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _gone(self, s):
        if s in self.sent:
            self.sel.unregister(s)
            del self.sent[s]
            s.close()
            self.closed_by_server += 1

    def _round(self):
        import selectors
        for s in list(self.sent):
            n = self.sent[s]
            piece = self.REQUEST[n:n + (9 if n == 0 else 1)]  # "GET /stre", then 1 B
            try:
                self.sent[s] = n + s.send(piece)
            except BlockingIOError:
                pass  # still connecting
            except OSError:
                self._gone(s)
        while len(self.sent) < self.n:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.port))
            self.sent[s] = 0
            self.sel.register(s, selectors.EVENT_READ)
            self.connects += 1
        self.rounds += 1

    def _run(self):
        next_round = 0.0
        try:
            while not self._stop:
                # Between rounds, notice the sockets the server closed.
                for key, _ in self.sel.select(max(0.0, next_round - time.monotonic())):
                    try:
                        if not key.fileobj.recv(4096):
                            self._gone(key.fileobj)
                    except OSError:
                        self._gone(key.fileobj)
                if time.monotonic() >= next_round:
                    next_round = time.monotonic() + 1.0
                    self._round()
        except Exception as e:  # reported by the test thread
            self.error = e

    def close(self):
        self._stop = True
        self.t.join(5)
        for s in list(self.sent):
            s.close()
        assert self.error is None, self.error


def test_stats_answer_through_100_slowloris_connections(micropython):
    """100 slowloris connections (max_pending=8 many times over, replaced
    each round as the server closes them): every /stats poll is answered."""
    srv = ServerProcess(size="320x240", format="NV12", camera_fps=30)
    attack = Slowloris(srv.port, 100)
    try:
        # Three rounds: all 100 connected and sending, the closed ones replaced.
        wait_for(lambda: attack.rounds >= 3, 20, "the attack to start")
        # Poll /stats back to back through five more rounds of the attack.
        polls, answered, slowest, errors = 0, 0, 0.0, []
        last = attack.rounds + 5
        while attack.rounds < last or polls < 20:
            polls += 1
            t = time.monotonic()
            try:
                # A long timeout: what counts is being answered (a busy 2-core
                # machine can hold a process back for seconds).
                json.loads(srv.get("/stats", timeout=30)[2])
                answered += 1
            except OSError as e:  # URLError and timeouts included
                errors.append(repr(e))
            slowest = max(slowest, time.monotonic() - t)
        s = srv.stats()
        print(f"/stats answered {answered}/{polls}, slowest {slowest:.2f} s; "
              f"attacker connects {attack.connects}, closed by server {attack.closed_by_server}; "
              f"server requests_pending {s['requests_pending']}, evicted {s['evicted']}, "
              f"timeouts {s['request_timeouts']}")
        assert answered == polls, (answered, polls, errors)
        # The attack was real: the pool was kept full and the server kept closing its oldest.
        assert s["requests_pending"] >= 4 and s["evicted"] >= 50, s
        assert attack.closed_by_server >= 50, attack.closed_by_server
    finally:
        attack.close()
        srv.stop()


class Flood:
    """One client that sends a request line that never ends, as fast as the
    server takes it, and reconnects each time the server closes it."""

    def __init__(self, port):
        self.port = port
        self.connections = 0
        self._stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        chunk = b"GET /" + b"a" * 65536
        while not self._stop:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    self.connections += 1
                    while not self._stop:
                        s.sendall(chunk)
                        chunk = b"a" * 65536
            except OSError:
                pass

    def close(self):
        self._stop = True
        self.t.join(10)


@pytest.mark.skipif(SCALE > 1, reason="a frame rate under qemu measures qemu: native covers it")
def test_endless_request_line_does_not_slow_the_camera(micropython):
    """A client that reconnects and sends an endless request line each time
    (the server used to read it dry after its 400): the camera loop, paced at
    30 fps, keeps its rate."""
    srv = ServerProcess(size="320x240", format="NV12", camera_fps=30, report=10)
    try:
        t0 = time.monotonic()
        wait_for(lambda: len(loop_windows(srv, t0, time.monotonic())) >= 6, 30, "quiet windows")
        quiet = loop_windows(srv, t0, time.monotonic())
        flood = Flood(srv.port)
        try:
            wait_for(lambda: flood.connections >= 3, 20, "the flood to start")
            t1 = time.monotonic()
            wait_for(lambda: len(loop_windows(srv, t1, time.monotonic())) >= 12, 30,
                     "windows under attack")
            loaded = loop_windows(srv, t1, time.monotonic())
            n = flood.connections
        finally:
            flood.close()
        s = srv.stats()
        med = lambda v: sorted(v)[len(v) // 2]
        print(f"camera fps quiet {med(quiet):.1f} (min {min(quiet):.1f}), under the flood "
              f"{med(loaded):.1f} (min {min(loaded):.1f}); flood connections {n}, "
              f"bad_requests {s['bad_requests']}")
        assert n >= 10 and s["bad_requests"] >= 10, (n, s)
        # Medians: other processes on a busy machine stall single windows of
        # both conditions alike.
        assert med(loaded) >= 0.9 * med(quiet), (quiet, loaded)
    finally:
        srv.stop()


USER, PASSWORD, TOKEN = "viewer", "pa55-word", "k230-Token_1"
BASIC = b"Authorization: Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()) + b"\r\n"
PATHS = [(b"/", 200), (b"/stream", 200), (b"/snapshot", 200), (b"/snapshot.jpg", 200),
         (b"/stats", 200), (b"/nope", 404)]


@pytest.fixture(scope="module")
def guarded(micropython):
    s = ServerProcess(size="320x240", format="NV12", camera_fps=30,
                      auth=f"{USER}:{PASSWORD}", token=TOKEN)
    yield s
    s.stop()


def response_head(port, target, headers=b""):
    """Status code and header lines of the response to one GET (the body,
    a stream's included, is not waited for)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: cam\r\n" + headers + b"\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(4096)
            assert chunk, got
            got += chunk
    lines = got.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    return int(lines[0].split()[1]), lines[1:]


def test_auth_every_path_401_without_credentials(guarded):
    wrong = [b"", b"Authorization: Basic " + base64.b64encode(b"viewer:pa55-wore") + b"\r\n",
             b"Authorization: Bearer " + TOKEN.encode()[:-1] + b"\r\n"]
    for path, _ in PATHS:
        for h in wrong:
            code, lines = response_head(guarded.port, path, h)
            assert code == 401, (path, h, code)
            assert 'WWW-Authenticate: Basic realm="img_stream", charset="UTF-8"' in lines, lines
            assert not any(l.startswith("Access-Control-Allow-Origin") for l in lines), lines
        assert response_head(guarded.port, path + b"?token=" + TOKEN.encode() + b"x")[0] == 401


def test_auth_every_path_works_with_credentials(guarded):
    wait_for(lambda: response_head(guarded.port, b"/snapshot", BASIC)[0] == 200, 20, "a frame")
    for path, want in PATHS:
        assert response_head(guarded.port, path, BASIC)[0] == want, path
        assert response_head(guarded.port, path + b"?token=" + TOKEN.encode())[0] == want, path
        bearer = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
        assert response_head(guarded.port, path, bearer)[0] == want, path
    # urllib's own Basic auth handler: it answers the 401 challenge.
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, guarded.url("/"), USER, PASSWORD)
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr))
    with opener.open(guarded.url("/stats"), timeout=10) as r:
        assert r.status == 200 and json.loads(r.read())["frames_encoded"] > 0


def test_stats_show_viewer_addresses_only_to_authenticated_callers(guarded, server):
    cases = ((guarded, b"/stream?token=" + TOKEN.encode(), BASIC, True),
             (server, b"/stream", b"", False))
    for srv, stream, credentials, shown in cases:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as v:
            v.sendall(b"GET " + stream + b" HTTP/1.1\r\n\r\n")
            assert v.recv(100).startswith(b"HTTP/1.1 200 OK")
            request = b"GET /stats HTTP/1.1\r\n" + credentials + b"\r\n"
            entries = wait_for(lambda: json.loads(raw_request(srv.port, request).split(
                b"\r\n\r\n", 1)[1])["clients"], 10, "the viewer in /stats")
        assert all(("addr" in e) == shown for e in entries), entries
        assert not shown or entries[0]["addr"].startswith("127.0.0.1:"), entries


def test_ffmpeg_reads_the_stream_with_a_token_or_basic_auth(guarded, tmp_path):
    def ffmpeg(url, n=5):
        return subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", url, "-frames:v", str(n),
             str(tmp_path / f"f{len(list(tmp_path.iterdir()))}_%02d.png")],
            capture_output=True, text=True, timeout=60)
    r = ffmpeg(guarded.url("/stream?token=" + TOKEN))
    assert r.returncode == 0, r.stderr
    # ffmpeg answers the Basic challenge itself when the URL has user:password.
    r = ffmpeg(f"http://{USER}:{PASSWORD}@127.0.0.1:{guarded.port}/stream")
    assert r.returncode == 0, r.stderr
    r = ffmpeg(guarded.url("/stream"))
    assert r.returncode != 0 and "401" in r.stderr, r.stderr
    frames = list(tmp_path.glob("*.png"))
    assert len(frames) == 10 and all(Image.open(f).size == (320, 240) for f in frames), frames


def metric_families(srv, path="/metrics"):
    """GET /metrics, parsed by prometheus_client's own parser of text format
    0.0.4: {family name: (type, {sample name + labels: value})}."""
    from prometheus_client.parser import text_string_to_metric_families
    status, headers, body = srv.get(path)
    assert status == 200 and headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    out = {}
    for fam in text_string_to_metric_families(body.decode()):
        assert fam.name not in out and fam.documentation, fam
        out[fam.name] = (fam.type, {s.name + "".join(f'{{{k}="{v}"}}' for k, v in
                                                     sorted(s.labels.items())): s.value
                                    for s in fam.samples})
    return out


def test_metrics_parse_as_prometheus_text(server):
    readers = Readers(server.port, 2)
    try:
        wait_for(lambda: min(readers.counts()) >= 10, 20, "frames to the readers")
        a = metric_families(server)
        st = server.stats()
        wait_for(lambda: min(readers.counts()) >= 20, 20, "more frames")
        b = metric_families(server)
    finally:
        readers.close()
    want = {"img_stream_frames_captured": "counter", "img_stream_frames_encoded": "counter",
            "img_stream_frames_not_encoded": "counter", "img_stream_encode_seconds": "summary",
            "img_stream_parts_sent": "counter", "img_stream_sent_bytes": "counter",
            "img_stream_viewer_frames_skipped": "counter", "img_stream_viewers": "gauge",
            "img_stream_viewers_dropped": "counter", "img_stream_requests_refused": "counter",
            "img_stream_quality": "gauge", "img_stream_jpeg_bytes": "gauge"}
    for name, kind in want.items():
        assert a[name][0] == kind, (name, a[name])
    v = lambda m, fam, sample=None: m[fam][1][sample or fam + ("_total" if m[fam][0] == "counter"
                                                                 else "")]
    # Counters only grow; /stats, read in between, lies between the two reads.
    for fam, key in (("img_stream_frames_captured", "frames_captured"),
                     ("img_stream_frames_encoded", "frames_encoded"),
                     ("img_stream_parts_sent", "parts_sent"),
                     ("img_stream_sent_bytes", "bytes_sent")):
        assert v(a, fam) <= st[key] <= v(b, fam), (fam, v(a, fam), st[key], v(b, fam))
    assert v(b, "img_stream_parts_sent") >= v(a, "img_stream_parts_sent") + 10
    assert v(a, "img_stream_viewers") == 2 and v(a, "img_stream_quality") == 65
    enc = v(b, "img_stream_encode_seconds", "img_stream_encode_seconds_count")
    assert enc == v(b, "img_stream_frames_encoded")
    mean_ms = 1000 * v(b, "img_stream_encode_seconds", "img_stream_encode_seconds_sum") / enc
    assert 0.1 < mean_ms < 1000, mean_ms
    idle = v(b, "img_stream_frames_not_encoded", 'img_stream_frames_not_encoded_total{reason="idle"}')
    assert v(b, "img_stream_frames_encoded") == v(b, "img_stream_frames_captured") - idle


def test_idle_server_encodes_only_for_snapshots(micropython):
    """Nobody watching: frames are captured, none encoded; a /snapshot gets a
    frame encoded for it (and decodes); a viewer starts the encoding and its
    leaving stops it."""
    srv = ServerProcess(size="320x240", format="NV12", camera_fps=30)
    try:
        wait_for(lambda: srv.stats()["frames_captured"] >= 30, 20, "30 frames captured")
        assert srv.stats()["frames_encoded"] == 0
        for i in range(3):
            status, _, body = srv.get("/snapshot")
            im = Image.open(BytesIO(body))
            im.load()
            assert status == 200 and im.size == (320, 240)
            # One encode per snapshot, then none: frames go by unencoded.
            n = srv.stats()
            wait_for(lambda: srv.stats()["frames_idle"] >= n["frames_idle"] + 2, 10, "idle frames")
            assert n["frames_encoded"] == srv.stats()["frames_encoded"] == i + 1, n
        s = open_stream(srv.port)
        parser = StreamParser()
        while parser.count < 10:
            parser.feed(s.recv(1 << 16))
        s.close()
        wait_for(lambda: srv.stats()["clients"] == [], 10, "the viewer to be gone")
        n = srv.stats()
        wait_for(lambda: srv.stats()["frames_captured"] >= n["frames_captured"] + 30, 20,
                 "30 more frames")
        s = srv.stats()
        assert s["frames_encoded"] == n["frames_encoded"] >= 13, (n, s)
        assert s["frames_idle"] >= n["frames_idle"] + 30, (n, s)
    finally:
        srv.stop()


def http_code(srv, path):
    try:
        return srv.get(path)[0]
    except urllib.error.HTTPError as e:
        return e.code


def test_control_over_http(guarded):
    """/control on the guarded server: 401 without credentials; with them the
    quality and frame rate change what viewers get; bad values are 400."""
    q = "&token=" + TOKEN
    assert http_code(guarded, "/control?quality=20") == 401
    wait_for(lambda: http_code(guarded, "/snapshot?token=" + TOKEN) == 200, 20, "a frame")
    readers = Readers(guarded.port, 1, "/stream?token=" + TOKEN)
    try:
        wait_for(lambda: readers.counts()[0] >= 5, 20, "the reader")
        first = readers.parsers[0].last
        big = len(first)
        status, _, body = guarded.get("/control?quality=15&fps=10" + q)
        assert status == 200 and json.loads(body) == {"quality": 15, "fps": 10, "idle_fps": 0}
        stats = lambda: json.loads(guarded.get("/stats?token=" + TOKEN)[2])
        s0 = stats()
        wait_for(lambda: stats()["frames_captured"] >= s0["frames_captured"] + 60, 30,
                 "two seconds of frames")
        s1 = stats()
        small = len(readers.parsers[0].last)
        im = Image.open(BytesIO(readers.parsers[0].last))
        im.load()
        # The quality reached the encoder: its quantisation tables are the
        # ones for 15, not the ones the first part had (sizes alone depend on
        # how busy the scene is at that moment).
        dc = lambda jpeg: Image.open(BytesIO(jpeg)).quantization[0][0]
        assert im.size == (320, 240) and dc(readers.parsers[0].last) > 2 * dc(first), (small, big)
        # 10 of the camera's 30 fps are encoded: about a third.
        ratio = (s1["frames_encoded"] - s0["frames_encoded"]) / (
            s1["frames_captured"] - s0["frames_captured"])
        assert 0.2 < ratio < 0.45, (ratio, s0, s1)
        assert s1["frames_limited"] > s0["frames_limited"]
        for bad in ("quality=0", "quality=abc", "fps=-1", "fps=5000", "nope=1", "quality=5&quality=6"):
            assert http_code(guarded, "/control?" + bad + q) == 400, bad
        assert json.loads(guarded.get("/control?token=" + TOKEN)[2])["quality"] == 15
    finally:
        readers.close()
        assert guarded.get("/control?quality=65&fps=0" + q)[0] == 200  # as the other tests expect


def test_prometheus_scrapes_the_guarded_server(guarded, tmp_path):
    """The real Prometheus (Debian's prometheus package) scrapes /metrics
    with the scrape config docs/MJPEG.md shows (a Bearer token), every 1 s:
    the target is up and the series have the values /stats has. promtool's
    linter finds nothing to say about the text."""
    import shutil
    if not shutil.which("prometheus") or not shutil.which("promtool"):
        pytest.fail("prometheus/promtool are not installed (Debian package prometheus)")
    status, _, body = guarded.get("/metrics?token=" + TOKEN)
    lint = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                          timeout=30)
    assert lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(), lint
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: cam\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{guarded.port}']}}]\n"
        f"    authorization: {{credentials: {TOKEN}}}\n")
    prom = subprocess.Popen(
        ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def query(q):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query?query=" +
                                        urllib.parse.quote(q), timeout=5) as r:
                return {tuple(sorted(x["metric"].items())): float(x["value"][1])
                        for x in json.loads(r.read())["data"]["result"]}
        except OSError:
            return {}
    try:
        # Two scrapes of a counter: rate() needs both.
        wait_for(lambda: query('rate(img_stream_frames_captured_total{job="cam"}[5s]) > 0'), 60,
                 "two scrapes")
        up = query('up{job="cam"}')
        assert list(up.values()) == [1.0], up
        captured = list(query("img_stream_frames_captured_total").values())[0]
        st = json.loads(guarded.get("/stats?token=" + TOKEN)[2])
        assert 0 < captured <= st["frames_captured"], (captured, st)
        refused = query("img_stream_requests_refused_total")
        assert {dict(k)["reason"] for k in refused} >= {"busy", "unauthorized", "forbidden"}
        assert list(query("img_stream_quality").values()) == [65.0]
    finally:
        prom.terminate()
        prom.wait(10)
