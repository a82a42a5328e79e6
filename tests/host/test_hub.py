"""`img-stream hub` end to end on 127.0.0.1: synthetic K230 boards on the unix
port (python/examples/k230/hub_board.py) stream by TCP, UDP and MQTT (a private
Mosquitto) into one hub; Pillow, ffmpeg and prometheus_client read what it
serves. Browser, stalled-viewer, auth, recording, reconnect and --pull cases
follow."""
import io
import json
import os
import socket
import subprocess
import sys
import time

import pytest
from PIL import Image
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from prometheus_client.parser import text_string_to_metric_families as prometheus_text_families

from conftest import ROOT, stop_processes
from hubtools import UNDER_QEMU, Hub, StreamReader, board
from receiver import wait_for

sys.path.insert(0, str(ROOT / "python"))
import img_stream_proto  # noqa: E402

SIZE = (320, 240)
pytestmark = [pytest.mark.skipif(UNDER_QEMU, reason="PC-side hub; boards under qemu are too slow"),
              pytest.mark.usefixtures("umqtt")]


def three_boards(broker, frames=0, fps=10):
    """A hub with one TCP, one UDP and one MQTT input, a board on each."""
    hub = Hub("--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0",
              "--mqtt", f"127.0.0.1:{broker.port}", "--topic", "img_stream/+/frame")
    wait_for(lambda: any("subscribed to" in l for l in hub.lines), 30, "the hub to subscribe")
    boards = [board("tcp", hub.ports["tcp"], fps, frames, SIZE),
              board("udp", hub.ports["udp"], fps, frames, SIZE),
              board("mqtt", broker.port, fps, frames, SIZE, name="board3")]
    return hub, boards


IDS = {"tcp-127.0.0.1-cam0", "udp-127.0.0.1-cam0", "mqtt-img_stream_board3_frame-cam0"}


def ffmpeg_frames(url, n=5):
    """How many frames ffmpeg decoded from `url` (reading `n`)."""
    p = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", url,
                        "-frames:v", str(n), "-f", "framemd5", "-"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return sum(1 for l in p.stdout.splitlines() if l and not l.startswith("#"))


def metrics(hub):
    status, headers, body = hub.get("/metrics")
    assert status == 200
    text = body.decode()
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    # Prometheus scrapes either format: the classic text parser reads it too.
    classic = {f.name for f in prometheus_text_families(text)}
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {n.removesuffix("_total") for n in classic} >= set(families), (classic, set(families))
    return families


def sample(families, name, **labels):
    for s in families[name].samples:
        if s.name.endswith("_total") or s.name == name:
            if all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise AssertionError(f"no {name} {labels}")


def test_three_boards_into_one_hub(broker):
    frames = 45
    hub, boards = three_boards(broker, frames=frames, fps=10)
    try:
        cams = wait_for(lambda: (lambda c: c if set(c) == IDS and all(x["online"] for x in c.values())
                                 else None)(hub.cameras()), 60, "three live cameras")
        for cid in IDS:
            status, headers, body = hub.get(f"/cam/{cid}/snapshot.jpg")
            assert status == 200 and headers["Content-Type"] == "image/jpeg"
            img = Image.open(io.BytesIO(body))
            img.load()
            assert img.size == SIZE
            assert cams[cid]["width"] == SIZE[0] and cams[cid]["height"] == SIZE[1]
            assert cams[cid]["urls"]["stream"] == f"/cam/{cid}/stream"
        # A foreign client reads the stream while the boards still send.
        assert ffmpeg_frames(hub.url("/cam/tcp-127.0.0.1-cam0/stream"), 5) == 5
        for b in boards:
            out, _ = b.communicate(timeout=60)
            assert f"sent {frames}" in out, out
        # Every frame sent was received: the counters say so in both forms.
        want = {cid: frames for cid in IDS}
        got = wait_for(lambda: (lambda c: c if c == want else None)(
            {cid: int(sample(metrics(hub), "img_stream_hub_frames", camera=cid)) for cid in IDS}),
            20, f"frames_total to reach {frames}")
        assert got == want
        fam = metrics(hub)
        cams = hub.cameras()
        for cid in IDS:
            assert sample(fam, "img_stream_hub_bytes", camera=cid) == cams[cid]["bytes"] > 0
            assert sample(fam, "img_stream_hub_drops", camera=cid) == cams[cid]["drops"] == 0
            assert cams[cid]["frames"] == frames
        assert fam["img_stream_hub_added_latency_seconds"].type == "histogram"
        assert sample(fam, "img_stream_hub_resident_memory_bytes") > 0
        assert all(s.value == 0 for s in fam["img_stream_hub_input_crc_errors"].samples)
        # One frame with a corrupt payload into the TCP input: refused and
        # counted there, the camera's frame count unchanged.
        _, _, jpeg = hub.get("/cam/tcp-127.0.0.1-cam0/snapshot.jpg")
        bad = bytearray(img_stream_proto.build_frame(jpeg, 1000, width=SIZE[0], height=SIZE[1]))
        bad[-10] ^= 0xFF
        with socket.create_connection(("127.0.0.1", hub.ports["tcp"])) as s:
            s.sendall(bytes(bad))
        tcp_input = f"tcp 127.0.0.1:{hub.ports['tcp']}"
        wait_for(lambda: sample(metrics(hub), "img_stream_hub_input_crc_errors", input=tcp_input) == 1,
                 10, "the CRC error to be counted")
        assert hub.cameras()["tcp-127.0.0.1-cam0"]["crc_errors"] == 1
        assert hub.cameras()["tcp-127.0.0.1-cam0"]["frames"] == frames
    finally:
        stop_processes(*boards)
        hub.stop()


def test_stalled_viewer_does_not_slow_a_reading_one():
    hub = Hub("--tcp", "127.0.0.1:0", "--http-idle-timeout", "2")
    cam = board("tcp", hub.ports["tcp"], fps=20, size=(640, 480))
    cid = "tcp-127.0.0.1-cam0"
    stalled = reading = None
    try:
        wait_for(lambda: cid in hub.cameras(), 30, "the camera")
        stalled = StreamReader(hub, f"/cam/{cid}/stream", rcvbuf=4096)
        reading = StreamReader(hub, f"/cam/{cid}/stream")
        assert reading.head()[0].startswith("HTTP/1.0 200")
        reading.part()
        t0, f0 = time.monotonic(), hub.cameras()[cid]["frames"]
        got, latencies = 0, []
        while time.monotonic() - t0 < 5:
            headers, jpeg = reading.part()
            assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
            latencies.append(time.time() - float(headers["x-timestamp"]))
            got += 1
        sent = hub.cameras()[cid]["frames"] - f0
        assert sent >= 60, sent
        # Full rate for the reader, whatever the stalled one does.
        assert got >= 0.95 * sent, (got, sent)
        latencies.sort()
        assert latencies[len(latencies) // 2] < 0.05, latencies
        assert hub.cameras()[cid]["viewers"] == 2
        # The stalled viewer holds at most a frame or two, never a queue.
        assert hub.vm("VmHWM") < 64 << 20, hub.vm("VmHWM")
        # Once its buffers are full and nothing moves for 2 s, it is closed
        # and its slot freed; the reader goes on.
        t = time.monotonic()
        while hub.cameras()[cid]["viewers"] != 1:
            assert time.monotonic() - t < 30, "the stalled viewer was never closed"
            reading.part()
        for _ in range(10):
            reading.part()
    finally:
        for r in (stalled, reading):
            if r:
                r.close()
        stop_processes(cam)
        hub.stop()


def test_viewer_caps_answer_503():
    hub = Hub("--tcp", "127.0.0.1:0", "--max-viewers-per-camera", "2")
    cam = board("tcp", hub.ports["tcp"], fps=10)
    cid = "tcp-127.0.0.1-cam0"
    readers = []
    try:
        wait_for(lambda: cid in hub.cameras(), 30, "the camera")
        for _ in range(2):
            readers.append(StreamReader(hub, f"/cam/{cid}/stream"))
            assert readers[-1].head()[0].startswith("HTTP/1.0 200")
        third = StreamReader(hub, f"/cam/{cid}/stream")
        readers.append(third)
        assert third.head()[0].startswith("HTTP/1.0 503")
        assert hub.get("/cam/nope/stream")[0] == 404
        readers[0].close()
        wait_for(lambda: hub.cameras()[cid]["viewers"] == 1, 10, "the slot to free")
        again = StreamReader(hub, f"/cam/{cid}/stream")
        readers.append(again)
        assert again.head()[0].startswith("HTTP/1.0 200")
    finally:
        for r in readers:
            r.close()
        stop_processes(cam)
        hub.stop()


def test_idle_connections_are_capped_and_closed():
    # --max-viewers 1: 1 + 64 spare HTTP connections (hub::HTTP_SPARE_CONNECTIONS).
    hub = Hub("--tcp", "127.0.0.1:0", "--max-viewers", "1", "--http-idle-timeout", "2")
    idle = []
    try:
        for _ in range(65):
            idle.append(socket.create_connection(("127.0.0.1", hub.ports["http"])))
        assert hub.get("/api/cameras")[0] == 503
        # Clients that send nothing are closed after 2 s; then there is room.
        for s in idle:
            s.settimeout(10)
            assert s.recv(1) == b""
        assert hub.get("/api/cameras")[0] == 200
    finally:
        for s in idle:
            s.close()
        hub.stop()


ENDPOINTS = ["/", "/cam/{cid}", "/cam/{cid}/snapshot.jpg", "/api/cameras",
             "/api/cameras/{cid}/history", "/metrics", "/assets/app.js", "/assets/style.css"]


def test_auth_token_and_basic():
    cid = "tcp-127.0.0.1-cam0"
    hub = Hub("--tcp", "127.0.0.1:0", "--token", "s3cret-T0ken")
    cam = board("tcp", hub.ports["tcp"], fps=10)
    try:
        ok = {"Authorization": "Bearer s3cret-T0ken"}
        wait_for(lambda: hub.get("/api/cameras", ok)[2].count(b'"id"') == 1, 30, "the camera")
        for path in ENDPOINTS + ["/cam/{cid}/stream"]:
            p = path.format(cid=cid)
            assert hub.get(p)[0] == 401, p
            assert hub.get(p, {"Authorization": "Bearer wrong"})[0] == 401, p
            assert hub.get(p + "?token=s3cret-T0ke")[0] == 401, p
            if not p.endswith("/stream"):
                assert hub.get(p, ok)[0] == 200, p
                assert hub.get(p + "?token=s3cret-T0ken")[0] == 200, p
        # The page links its assets with the token it was opened with.
        body = hub.get("/?token=s3cret-T0ken")[2].decode()
        assert "/assets/app.js?token=s3cret-T0ken" in body
        assert ffmpeg_frames(hub.url(f"/cam/{cid}/stream?token=s3cret-T0ken"), 3) == 3
    finally:
        stop_processes(cam)
        hub.stop()
    hub = Hub("--tcp", "127.0.0.1:0", "--auth", "alice:pa55")
    try:
        import base64
        good = {"Authorization": "Basic " + base64.b64encode(b"alice:pa55").decode()}
        bad = {"Authorization": "Basic " + base64.b64encode(b"alice:pa56").decode()}
        status, headers, _ = hub.get("/api/cameras")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
        assert hub.get("/api/cameras", bad)[0] == 401
        assert hub.get("/api/cameras", good)[0] == 200
        assert hub.get("/metrics", good)[0] == 200
    finally:
        hub.stop()


def dir_bytes(d):
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except FileNotFoundError:
                pass  # deleted by retention between listing and stat
    return total


def test_recording_stays_under_keep_bytes(tmp_path):
    rec = tmp_path / "rec"
    keep = 400_000
    hub = Hub("--tcp", "127.0.0.1:0", "--record", rec, "--keep-bytes", keep)
    cam = board("tcp", hub.ports["tcp"], fps=25, size=(640, 480))
    cid = "tcp-127.0.0.1-cam0"
    try:
        wait_for(lambda: cid in hub.cameras(), 30, "the camera")
        first = None
        peak = 0
        deadline = time.monotonic() + 30
        # Keep sampling the directory while frames arrive, until the first
        # segment has been deleted to make room (retention at work).
        while time.monotonic() < deadline:
            peak = max(peak, dir_bytes(rec))
            segs = sorted((rec / cid).glob("*.mjpeg")) if (rec / cid).exists() else []
            if first is None and segs:
                first = segs[0]
            if first is not None and not first.exists() and hub.cameras()[cid]["bytes"] > 3 * keep:
                break
            time.sleep(0.01)  # sampling interval, not synchronisation
        else:
            raise AssertionError("retention never deleted a segment")
        assert peak <= keep, peak
        assert peak > keep // 2, peak
        # Stopped, the hub deletes nothing more; every segment but the last
        # was closed whole.
        stop_processes(cam)
        hub.stop()
        assert dir_bytes(rec) <= keep
        segs = sorted((rec / cid).glob("*.mjpeg"))
        assert len(segs) >= 2 and all(s.with_suffix(".idx").exists() for s in segs)
        # A closed segment plays, frame for frame as its index says.
        seg = segs[0]
        index = seg.with_suffix(".idx").read_text().splitlines()
        n = ffmpeg_frames(str(seg), 10_000)
        assert n == len(index) > 0, (n, len(index))
    finally:
        stop_processes(cam)
        hub.stop()


def test_board_reconnect_keeps_its_camera():
    hub = Hub("--tcp", "127.0.0.1:0")
    cid = "tcp-127.0.0.1-cam0"
    try:
        for round_ in (1, 2):
            b = board("tcp", hub.ports["tcp"], fps=30, frames=20)
            out, _ = b.communicate(timeout=60)
            assert "sent 20" in out, out
            wait_for(lambda: hub.cameras().get(cid, {}).get("frames") == 20 * round_, 20,
                     f"{20 * round_} frames on one camera")
        # Two connections from two source ports: still one camera.
        assert list(hub.cameras()) == [cid]
        assert sum("connection from" in l for l in hub.lines) == 2
    finally:
        hub.stop()


def test_quiet_camera_goes_offline_then_is_forgotten():
    # --forget-after 4: offline after 2 s (half of it), gone after 4 s.
    hub = Hub("--tcp", "127.0.0.1:0", "--forget-after", "4")
    cid = "tcp-127.0.0.1-cam0"
    try:
        b = board("tcp", hub.ports["tcp"], fps=30, frames=30)
        wait_for(lambda: hub.cameras().get(cid, {}).get("online"), 30, "the camera online")
        viewer = StreamReader(hub, f"/cam/{cid}/stream")
        viewer.head()
        viewer.part()
        assert "sent 30" in b.communicate(timeout=60)[0]
        # Listed, but offline (one answer, so no race with forgetting).
        wait_for(lambda: hub.cameras().get(cid, {}).get("online") is False, 10, "offline")
        wait_for(lambda: cid not in hub.cameras(), 10, "the camera forgotten")
        assert hub.get(f"/cam/{cid}/snapshot.jpg")[0] == 404
        # Its series went with it (an empty family is not even listed).
        fam = metrics(hub)
        frames = fam["img_stream_hub_frames"].samples if "img_stream_hub_frames" in fam else []
        assert not [s for s in frames if s.labels.get("camera") == cid]
        # Its viewer's stream ended.
        with pytest.raises(EOFError):
            while True:
                viewer.part()
        viewer.close()
    finally:
        hub.stop()


def test_two_hubs_share_one_subscription(broker):
    """--share: Mosquitto gives each raw frame to one hub of the group."""
    hubs = [Hub("--mqtt", f"127.0.0.1:{broker.port}", "--share", "hubs") for _ in range(2)]
    try:
        for h in hubs:
            wait_for(lambda: any("subscribed to $share/hubs/" in l for l in h.lines), 30,
                     "the hub to subscribe")
        b = board("mqtt", broker.port, fps=20, frames=40, name="shared")
        assert "sent 40" in b.communicate(timeout=60)[0]
        cid = "mqtt-img_stream_shared_frame-cam0"

        def counts():
            return [h.cameras().get(cid, {}).get("frames", 0) for h in hubs]
        wait_for(lambda: sum(counts()) == 40, 20, "40 frames between the two hubs")
        assert all(n > 0 for n in counts()), counts()
    finally:
        for h in hubs:
            h.stop()


def test_tcp_connect_to_a_board_that_serves():
    """--tcp-connect: the hub dials a board listening on TCP (here a CPython
    stand-in writing protocol-v1 frames built by python/img_stream_proto.py)."""
    jpeg = (ROOT / "tests" / "vectors" / "tiny.jpg").read_bytes()
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    hub = Hub("--tcp-connect", f"127.0.0.1:{port}")
    try:
        server.settimeout(30)
        conn, _ = server.accept()
        with conn:
            for seq in range(10):
                conn.sendall(img_stream_proto.build_frame(jpeg, seq, width=16, height=8, camera_id=2))
            cams = wait_for(lambda: (lambda c: c if c.get("tcp-127.0.0.1-cam2", {}).get("frames") == 10
                                     else None)(hub.cameras()), 20, "10 frames from the board")
        assert cams["tcp-127.0.0.1-cam2"]["input"] == f"tcp-connect 127.0.0.1:{port}"
        assert hub.get("/cam/tcp-127.0.0.1-cam2/snapshot.jpg")[2] == jpeg
    finally:
        hub.stop()
        server.close()


def test_pull_from_a_board_mjpeg_server():
    from test_mjpeg_server import ServerProcess
    srv = ServerProcess(size="320x240", format="NV12", camera_fps=10)
    hub = Hub("--pull", srv.url("/stream"))
    try:
        cams = wait_for(lambda: (lambda c: c if c and list(c.values())[0]["frames"] >= 5 else None)(
            hub.cameras()), 30, "pulled frames")
        (cid, c), = cams.items()
        assert cid.startswith("pull-127.0.0.1_") and c["width"] == 320
        status, _, body = hub.get(f"/cam/{cid}/snapshot.jpg")
        assert status == 200 and Image.open(io.BytesIO(body)).size == (320, 240)
    finally:
        hub.stop()
        srv.stop()
