"""Running the `img-stream` receiver in tests: start it, learn its port from
its `listening on ADDR` line, wait for it, read what it wrote."""
import json
import pathlib
import re
import subprocess
import threading
import time

from conftest import IMG_STREAM_BIN, stop_processes


class Receiver:
    """`prefix` runs the receiver through another command (`prlimit ...`),
    which must exec it (so `proc.pid` is the receiver's); `cwd` is its
    working directory."""

    def __init__(self, *args, prefix=(), cwd=None):
        self.args = [*map(str, prefix), str(IMG_STREAM_BIN), *map(str, args)]
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     cwd=cwd)
        self.lines = []
        self._port = None
        self._ready = threading.Event()
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            m = re.search(r"listening on (?:udp )?[^\s]*:(\d+)", line)
            if m and self._port is None:
                self._port = int(m.group(1))
                self._ready.set()
        self._ready.set()

    def port(self, timeout=30):
        assert self._ready.wait(timeout), "receiver did not report its address"
        assert self._port is not None, "receiver exited: " + "\n".join(self.lines)
        return self._port

    def wait(self, timeout=120):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("receiver did not finish:\n" + "\n".join(self.lines[-20:]))
        self._t.join(5)
        return rc

    def stop(self):
        stop_processes(self.proc)
        self._t.join(5)

    def stat(self, name):
        """The last value of counter `name` (e.g. 'crc') in the status lines."""
        pat = re.compile(name + r"[a-z_ ]*?[=:]?\s*(\d+)", re.I)
        for line in reversed(self.lines):
            m = pat.search(line)
            if m:
                return int(m.group(1))
        raise AssertionError(f"no {name} counter in:\n" + "\n".join(self.lines[-10:]))


def frames_jsonl(out_dir):
    p = pathlib.Path(out_dir) / "frames.jsonl"
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]


def wait_for(cond, timeout=30, what="condition"):
    """Polls cond() until it is truthy and returns that value; fails naming
    `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = cond()
        if r:
            return r
        time.sleep(0.02)  # polling interval, not synchronisation
    raise AssertionError(f"timed out waiting for {what}")
