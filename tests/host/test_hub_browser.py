"""Headless Chromium opens the hub's dashboard with three boards (TCP, UDP,
MQTT) streaming into it: three tiles whose pictures change between two
screenshots; then a camera page whose chart is drawn. Driven over the
DevTools pipe as in test_mjpeg_browser.py."""
import base64
import json
from io import BytesIO

import pytest
from PIL import Image, ImageChops, ImageStat

from conftest import stop_processes
from hubtools import UNDER_QEMU
from receiver import wait_for
from test_hub import IDS, SIZE, three_boards
from test_mjpeg_browser import browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(UNDER_QEMU, reason="PC-side hub; boards under qemu are too slow")


def test_dashboard_tiles_are_live_and_the_chart_draws(broker, browser):
    hub, boards = three_boards(broker, fps=8)
    try:
        wait_for(lambda: set(hub.cameras()) == IDS, 60, "three cameras")
        target = browser.call("Target.createTarget", url=hub.url("/"))["targetId"]
        session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

        def js(expr):
            r = browser.call("Runtime.evaluate", session, expression=expr, returnByValue=True)
            return r["result"].get("value")

        tiles = "[...document.querySelectorAll('.tile')]"
        wait_for(lambda: js(f"{tiles}.filter(t => t.querySelector('img').naturalWidth == {SIZE[0]})"
                            ".length") == 3, 30, "three tiles showing their streams")
        assert set(js(f"{tiles}.map(t => t.dataset.camera)")) == IDS
        rects = json.loads(js(f"JSON.stringify({tiles}.map(t => t.querySelector('img')"
                              ".getBoundingClientRect()))"))

        def shots():
            png = browser.call("Page.captureScreenshot", session, format="png")["data"]
            page = Image.open(BytesIO(base64.b64decode(png))).convert("RGB")
            return [page.crop((int(r["left"]) + 2, int(r["top"]) + 2,
                               int(r["right"]) - 2, int(r["bottom"]) - 2)) for r in rects]

        first = shots()
        for im in first:
            stat = ImageStat.Stat(im.convert("L"))
            assert stat.stddev[0] > 10, stat.stddev  # a picture, not a blank tile
        # Every tile changes (the synthetic pattern moves each frame).
        changed = [False] * 3
        def all_changed():
            for i, im in enumerate(shots()):
                changed[i] |= ImageChops.difference(first[i], im).getbbox() is not None
            return all(changed)
        wait_for(all_changed, 20, "all three tiles to change")
        assert "3 of 3 cameras online" in js("document.getElementById('summary').textContent")

        # The camera page: its chart gets samples and draws lines.
        cid = "tcp-127.0.0.1-cam0"
        browser.call("Page.navigate", session, url=hub.url(f"/cam/{cid}"))
        wait_for(lambda: int(js("document.getElementById('chart').dataset.samples || 0") or 0) >= 3,
                 30, "the chart's samples")
        lit = js("(() => { const c = document.getElementById('chart');"
                 " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                 " let n = 0; for (let i = 0; i < d.length; i += 4)"
                 "   if (d[i + 1] > 150 && d[i] < 150) n++;"  # the green fps line
                 " return n; })()")
        assert lit > 50, lit
        assert js("document.getElementById('live').naturalWidth") == SIZE[0]
        assert f"/cam/{cid}/stream" in js("document.getElementById('urls').textContent")
    finally:
        stop_processes(*boards)
        hub.stop()
