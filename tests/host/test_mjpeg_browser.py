"""A real browser renders the live stream: headless Chromium opens the
server's page and two screenshots some frames apart show a non-blank image
area that changed.

Chromium is driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages separated by NUL bytes on the
browser's fds 3 and 4), so no WebSocket client library is needed."""
import base64
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from io import BytesIO

import pytest
from PIL import Image, ImageChops, ImageStat

from test_mjpeg_server import ServerProcess, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=800,700", "--hide-scrollbars", "--mute-audio"]


class Browser:
    """Chromium with a DevTools pipe; `call` sends a command and returns its
    result (events are skipped)."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="mjpeg-chromium-")
        to_browser_r, self._w = os.pipe()
        self._r, from_browser_w = os.pipe()
        # The browser reads commands on fd 3 and writes replies on fd 4.
        cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
               "about:blank"]
        shell = 'exec "$@" 3<&%d 4>&%d' % (to_browser_r, from_browser_w)
        self.proc = subprocess.Popen(["bash", "-c", shell, "chromium", *cmd],
                                     pass_fds=(to_browser_r, from_browser_w),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buf = b""
        self._id = 0

    def call(self, method, session=None, timeout=30, **params):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        end = time.monotonic() + timeout
        while True:
            while b"\0" not in self._buf:
                if time.monotonic() > end:
                    raise AssertionError(f"no reply to {method}")
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise AssertionError("chromium closed its DevTools pipe")
                self._buf += chunk
            line, self._buf = self._buf.split(b"\0", 1)
            reply = json.loads(line)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply["result"]

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except (AssertionError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed (Debian package chromium)")
    b = Browser()
    yield b
    b.close()


def test_chromium_renders_the_live_stream(micropython, browser):
    srv = ServerProcess(size="640x480", format="NV12", camera_fps=30)
    try:
        renders_live_stream(browser, srv, "/")
        assert srv.stats()["parts_sent"] > 0
    finally:
        srv.stop()


def test_chromium_renders_the_stream_with_a_token(micropython, browser):
    """A guarded server opened as /?token=...: the page hands the token on to
    /stream and /stats."""
    srv = ServerProcess(size="640x480", format="NV12", camera_fps=30, token="tok-9")
    try:
        renders_live_stream(browser, srv, "/?token=tok-9")
        assert srv.get("/stats?token=tok-9")[0] == 200
    finally:
        srv.stop()


def test_chromium_cross_site_page_cannot_use_control(micropython, browser):
    """A page from another site (http://localhost:P/; the camera is
    127.0.0.1) loads <img src=".../control?quality=5">: Chromium marks the
    request Sec-Fetch-Site: cross-site and the server refuses it, so no page
    can change the camera with the viewer's cached credentials. The same URL
    typed into the address bar (Sec-Fetch-Site: none) works."""
    srv = ServerProcess(size="320x240", format="NV12", camera_fps=30)
    page = f'<!doctype html><img src="{srv.url("/control?quality=5")}">'.encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        browser.call("Target.createTarget", url=f"http://localhost:{other.server_port}/")
        quality = lambda: json.loads(srv.get("/control")[2])["quality"]
        s = wait_for(lambda: (lambda s: s if s["forbidden"] or quality() != 65 else None)(
            srv.stats()), 30, "the page's request to reach the camera")
        assert s["forbidden"] == 1 and s["bad_requests"] == 0 and quality() == 65, s
        browser.call("Target.createTarget", url=srv.url("/control?quality=33"))
        wait_for(lambda: quality() == 33, 30, "the typed URL to change the quality")
        assert srv.stats()["forbidden"] == 1
    finally:
        other.shutdown()
        other.server_close()
        srv.stop()


def renders_live_stream(browser, srv, path):
    """The page at `path` shows a live, changing 640x480 stream and fills in
    its stats line."""
    target = browser.call("Target.createTarget", url=srv.url(path))["targetId"]
    session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def js(expr):
        r = browser.call("Runtime.evaluate", session, expression=expr, returnByValue=True)
        return r["result"].get("value")

    # The <img> has decoded a frame of the stream.
    wait_for(lambda: js("document.getElementById('cam').naturalWidth") == 640, 30,
             "the stream to show in the page")
    rect = js("JSON.stringify(document.getElementById('cam').getBoundingClientRect())")
    rect = json.loads(rect)
    box = (int(rect["left"]) + 2, int(rect["top"]) + 2,
           int(rect["left"] + rect["width"]) - 2, int(rect["top"] + rect["height"]) - 2)

    def shot():
        png = browser.call("Page.captureScreenshot", session, format="png")["data"]
        return Image.open(BytesIO(base64.b64decode(png))).convert("RGB").crop(box)

    first = shot()
    stat = ImageStat.Stat(first.convert("L"))
    assert stat.stddev[0] > 20 and 20 < stat.mean[0] < 235, (stat.mean, stat.stddev)
    # Later frames differ (the pattern moves 2 px a frame and repeats
    # every 32 frames, so wait for a difference instead of sleeping).
    changed = wait_for(lambda: (lambda im: im if ImageChops.difference(first, im).getbbox()
                                else None)(shot()), 20, "the picture to change")
    diff = ImageStat.Stat(ImageChops.difference(first, changed).convert("L"))
    assert diff.mean[0] > 1, diff.mean
    # And the page's stats script filled in live numbers from /stats.
    wait_for(lambda: "fps" in (js("document.getElementById('stats').textContent") or ""), 20,
             "the stats line")
