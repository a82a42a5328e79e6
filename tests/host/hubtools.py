"""Running `img-stream hub` and synthetic boards (python/examples/k230/hub_board.py
on the unix port) in tests: start them, learn the hub's ports from its log lines,
read its HTTP endpoints, parse its MJPEG stream."""
import json
import os
import re
import socket
import subprocess
import threading
import urllib.error
import urllib.request

from conftest import IMG_STREAM_BIN, MICROPYPATH, MICROPYTHON, ROOT, stop_processes
from receiver import wait_for

BOARD = ROOT / "python" / "examples" / "k230" / "hub_board.py"
# The hub is PC-side; with the board interpreter under qemu (scale > 1) the
# boards cannot keep the rates these tests assert, and their senders are
# covered under qemu by test_tcp_e2e, test_udp_e2e and test_mqtt.
UNDER_QEMU = float(os.environ.get("IMG_STREAM_TIME_SCALE", "1")) > 1
BOARD_PATH = f"{MICROPYPATH}:{ROOT / 'python' / 'examples' / 'k230'}"


class Hub:
    """`img-stream hub ARGS... --http 127.0.0.1:0`; stderr lines in `lines`."""

    def __init__(self, *args):
        cmd = [str(IMG_STREAM_BIN), "hub", *map(str, args)]
        if "--http" not in args:
            cmd += ["--http", "127.0.0.1:0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.ports = {}
        threading.Thread(target=self._read, daemon=True).start()
        wait_for(lambda: "http" in self.ports or self.proc.poll() is not None, 30, "the hub to serve")
        assert self.proc.poll() is None, "hub exited:\n" + "\n".join(self.lines)

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            m = re.match(r"hub: (tcp|udp) on [^\s]*:(\d+)$", line.strip()) or \
                re.match(r"hub: (http)://[^\s]*:(\d+)/$", line.strip())
            if m:
                self.ports.setdefault(m.group(1), int(m.group(2)))

    def url(self, path):
        return f"http://127.0.0.1:{self.ports['http']}{path}"

    def get(self, path, headers=None, timeout=10):
        """(status, headers (case-insensitive), body); HTTP errors are answers too."""
        req = urllib.request.Request(self.url(path), headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def cameras(self):
        status, _, body = self.get("/api/cameras")
        assert status == 200, status
        return {c["id"]: c for c in json.loads(body)}

    def vm(self, field):
        """A /proc/PID/status field of the hub in bytes (VmRSS, VmHWM)."""
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise AssertionError(field)

    def stop(self):
        stop_processes(self.proc)


def board(mode, port, fps=15, frames=0, size=(320, 240), name="k230", camera_id=0):
    """A synthetic K230 board streaming into 127.0.0.1:port by tcp, udp or mqtt."""
    cmd = [str(MICROPYTHON), "-X", "heapsize=32M", str(BOARD), mode, "127.0.0.1", str(port),
           str(fps), str(frames), str(size[0]), str(size[1]), name, str(camera_id)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, MICROPYPATH=BOARD_PATH))


class StreamReader:
    """A raw HTTP client of /cam/{id}/stream: parses parts, records each
    part's X-Timestamp (the hub's receive time) against its arrival time."""

    def __init__(self, hub, path, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", hub.ports["http"]))
        # HTTP/1.0: the body comes close-delimited, as MJPEG clients of old
        # read it (HTTP/1.1 clients get it chunked).
        self.sock.sendall(f"GET {path} HTTP/1.0\r\nHost: hub\r\n\r\n".encode())
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise EOFError("stream closed")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def head(self):
        status = self._line()
        headers = {}
        while True:
            line = self._line()
            if not line:
                return status, headers
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()

    def part(self):
        """(headers, jpeg) of the next part."""
        headers = {}
        while True:
            line = self._line()
            if not line:
                if headers:
                    break
                continue
            if line.startswith("--") and not headers:
                continue
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        n = int(headers["content-length"])
        while len(self.buf) < n:
            self._fill()
        jpeg, self.buf = self.buf[:n], self.buf[n:]
        return headers, jpeg

    def close(self):
        self.sock.close()
