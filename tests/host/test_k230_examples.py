"""The K230 scripts in python/examples/k230/ run unchanged on the unix port
(media.sensor emulated, python/media/) under both CanMV port APIs the
emulation models (IMG_STREAM_K230_API: the current port and the 2024 one),
their frames reach the real receivers, and the emulation behaves like the
board's media.sensor where scripts can tell."""
import io
import pathlib

import pytest
from PIL import Image

from conftest import ROOT, run_micropython
from receiver import Receiver, frames_jsonl
from mosquitto import Broker
from test_mqtt import mqtt_receiver

K230 = ROOT / "python" / "examples" / "k230"
APIS = ("current", "2024")


def check(out, n, size):
    rows = frames_jsonl(out)
    assert len(rows) == n and all(r["crc_ok"] for r in rows)
    for r in rows:
        im = Image.open(io.BytesIO((pathlib.Path(out) / r["file"]).read_bytes()))
        assert im.size == size


def api_env(api):
    return {"IMG_STREAM_K230_API": api}


def deprecated_lines(p, api):
    # The current port's MediaManager.init()/deinit() only print this.
    n = p.stdout.count("deprecated function")
    assert n == (2 if api == "current" else 0), p.stdout


@pytest.mark.parametrize("api", APIS)
def test_stream_tcp(tmp_path, micropython, api):
    rx = Receiver("recv", "tcp", "--listen", "127.0.0.1:0", "--out", tmp_path, "--count", 5)
    try:
        p = run_micropython(K230 / "stream_tcp.py", "127.0.0.1", rx.port(), 5, 320, 240, "RGB565", cwd=K230,
                            env=api_env(api))
        assert rx.wait() == 0
    finally:
        rx.stop()
    check(tmp_path, 5, (320, 240))
    deprecated_lines(p, api)


@pytest.mark.parametrize("api", APIS)
def test_smart_stream(tmp_path, micropython, api):
    from conftest import free_port
    rx = Receiver("recv", "tcp", "--listen", "127.0.0.1:0", "--out", tmp_path, "--count", 5)
    try:
        p = run_micropython(K230 / "smart_stream.py", "127.0.0.1", rx.port(), 5, free_port(), cwd=K230,
                            env=api_env(api))
        assert rx.wait() == 0
    finally:
        rx.stop()
    check(tmp_path, 5, (640, 480))
    assert "sent 5 frames" in p.stdout, p.stdout
    deprecated_lines(p, api)


@pytest.mark.parametrize("api", APIS)
def test_stream_udp(tmp_path, micropython, api):
    rx = Receiver("recv", "udp", "--listen", "127.0.0.1:0", "--out", tmp_path, "--count", 5)
    try:
        p = run_micropython(K230 / "stream_udp.py", "127.0.0.1", rx.port(), 5, cwd=K230, env=api_env(api))
        assert "sent 5" in p.stdout
        assert rx.wait() == 0
    finally:
        rx.stop()
    check(tmp_path, 5, (640, 480))
    deprecated_lines(p, api)


def via_mqtt(tmp_path, script, args, env, done, size):
    """Runs a K230 script that publishes 5 frames to a private Mosquitto,
    received by img-stream recv mqtt; returns the script's process."""
    broker = Broker(tmp_path)
    try:
        rx = mqtt_receiver(broker.port, "--topic", "img_stream/+/frame", "--out", tmp_path / "out",
                           "--count", 5)
        try:
            p = run_micropython(script, *args(broker.port), cwd=K230, env=env)
            assert done in p.stdout
            assert rx.wait() == 0
        finally:
            rx.stop()
    finally:
        broker.stop()
    check(tmp_path / "out", 5, size)
    return p


@pytest.mark.parametrize("api", APIS)
def test_publish_mqtt(tmp_path, micropython, api):
    env = {"MICROPYPATH": f"{ROOT / 'python'}:{ROOT / 'build' / 'umqtt'}", **api_env(api)}
    p = via_mqtt(tmp_path, K230 / "publish_mqtt.py", lambda port: ("127.0.0.1", port, 5), env,
                 "published 5", (640, 480))
    deprecated_lines(p, api)


# The emulation itself, as scripts see it (board behaviour: Canaan's
# canmv_k230 port/builtin_py/media/sensor.py at 738f17f, media.py there and
# at 4b8cae1 for the 2024 port).
EMULATION = r"""
import sys
import image
import img_stream
from media.sensor import *
from media.media import MediaManager

def raises(exc, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except exc as e:
        return str(e)
    raise AssertionError("%s not raised by %r" % (exc.__name__, fn))

checks = 0
def ok(cond, what):
    global checks
    assert cond, what
    checks += 1

ok((Sensor.YUV420SP, Sensor.RGB565, Sensor.RGB888, Sensor.RGBP888, Sensor.GRAYSCALE) == (31, 2, 3, 46, 303),
   "constants")
raises(TypeError, Sensor, 2)  # keyword arguments only
s = Sensor(id=2, width=1280, height=720)
ok("already inited" in raises(OSError, Sensor, id=2), "second Sensor on a CSI")
Sensor(id=2, force=True)
raises(AssertionError, s.set_framesize, width=320, height=240)  # before reset()
s.reset()
raises(AssertionError, s.set_framesize, width=48, height=240)
raises(AssertionError, s.set_framesize, width=1296, height=720)  # wider than the sensor window
raises(AssertionError, s.set_framesize, width=320, height=724)
s.set_framesize(Sensor.QVGA, CAM_CHN_ID_1)  # chn is the second positional argument
ok(s.get_framesize(CAM_CHN_ID_1) == (320, 240), "framesize by constant")
s.set_framesize(width=100, height=64)  # widths align up to 16
ok(s.get_framesize() == (112, 64), "width aligned")
s.set_framesize(width=320, height=240)
s.set_pixformat(Sensor.YUV420SP)
s.set_pixformat(Sensor.GRAYSCALE, chn=CAM_CHN_ID_1)
s.set_framesize(width=320, height=240, chn=CAM_CHN_ID_2)
MediaManager.init()
if API2024:
    ok("initialized" in raises(AssertionError, MediaManager.init), "second init")
    # size and format now complete chn 2: its buffers cannot be reserved any more
    raises(AssertionError, s.set_pixformat, Sensor.RGB888, chn=CAM_CHN_ID_2)
s.run()
a = s.snapshot(chn=CAM_CHN_ID_0)
ok((a.width(), a.height(), a.format(), a.size()) == (320, 240, image.YUV420, 320 * 240 * 3 // 2), "yuv420")
g = s.snapshot(chn=CAM_CHN_ID_1)
ok((g.format(), g.size()) == (image.GRAYSCALE, 320 * 240), "grayscale is the Y plane")
ja = img_stream.encode(a)
b = s.snapshot(chn=CAM_CHN_ID_0)  # releases a, not g
ok("released" in raises(OSError, img_stream.encode, a), "stale image refused")
ok("released" in raises(OSError, a.bytearray), "stale bytearray refused")
img_stream.encode(g)
ok(img_stream.encode(b) != ja, "the camera moves")
s.stop()
raises(OSError, img_stream.encode, b)
raises(OSError, img_stream.encode, g)
MediaManager.deinit()
Sensor(id=2)  # stop() freed the CSI
print("emulation checks", checks)
"""


@pytest.mark.parametrize("api", APIS)
def test_emulation_behaves_like_the_board(micropython, api):
    p = run_micropython(EMULATION.replace("API2024", str(api == "2024")), env=api_env(api))
    assert f"emulation checks {10 if api == '2024' else 9}" in p.stdout, p.stdout


def test_2024_port_needs_media_manager_before_run(micropython):
    script = ("from media.sensor import *\ns = Sensor()\ns.reset()\n"
              "s.set_framesize(width=320, height=240)\ns.set_pixformat(Sensor.YUV420SP)\n"
              "try:\n    s.run()\nexcept RuntimeError as e:\n    print('refused:', e)\n")
    p = run_micropython(script, env=api_env("2024"))
    assert "refused:" in p.stdout and "MediaManager.init()" in p.stdout
    p = run_micropython(script, env=api_env("current"))
    assert "refused:" not in p.stdout


# venc_stream.py: the sensor bound to (emulated) VENC, packets sent as JPEG.
VENC = K230 / "venc_stream.py"


@pytest.mark.parametrize("mode", ("tcp", "udp"))
def test_venc_stream_socket(tmp_path, micropython, mode):
    rx = Receiver("recv", mode, "--listen", "127.0.0.1:0", "--out", tmp_path, "--count", 5)
    try:
        p = run_micropython(VENC, mode, "127.0.0.1", rx.port(), 5, 320, 240, cwd=K230)
        assert "sent 5" in p.stdout
        assert rx.wait() == 0
    finally:
        rx.stop()
    check(tmp_path, 5, (320, 240))


def test_venc_stream_mqtt(tmp_path, micropython):
    via_mqtt(tmp_path, VENC, lambda port: ("mqtt", "127.0.0.1", port, 5, 320, 240), api_env("2024"),
             "sent 5", (320, 240))


def test_venc_stream_http(micropython):
    import os
    import subprocess
    import urllib.request
    from conftest import MICROPYPATH, free_port
    port = free_port()
    p = subprocess.Popen([str(micropython), "-X", "heapsize=64M", str(VENC), "http", "127.0.0.1", str(port),
                          "0", "320", "240"], cwd=K230, env=dict(os.environ, MICROPYPATH=MICROPYPATH),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        while "serving" not in line:  # the script prints this once it listens
            line = p.stdout.readline()
            assert line, "server exited"
        jpeg = urllib.request.urlopen(f"http://127.0.0.1:{port}/snapshot", timeout=20).read()
        assert Image.open(io.BytesIO(jpeg)).size == (320, 240)
    finally:
        p.kill()
        p.wait()


def test_every_sensor_format_has_the_board_layout(micropython):
    script = r"""
import image, img_stream
from media.sensor import *
s = Sensor(); s.reset()
W, H = 64, 64
cases = ((Sensor.YUV420SP, image.YUV420, W * H * 3 // 2), (Sensor.GRAYSCALE, image.GRAYSCALE, W * H),
         (Sensor.RGB565, image.RGB565, W * H * 2), (Sensor.RGB888, image.RGB888, W * H * 3),
         (Sensor.RGBP888, image.RGBP888, W * H * 3))
for sfmt, ifmt, size in cases:
    s.set_framesize(width=W, height=H); s.set_pixformat(sfmt); s.run()
    img = s.snapshot()
    assert (img.format(), img.size(), len(img.bytearray())) == (ifmt, size, size), (sfmt, img.size())
    assert len(img_stream.encode(img)) > 100
    print("layout ok", sfmt)
"""
    p = run_micropython(script)
    assert p.stdout.count("layout ok") == 5, p.stdout


def test_measure_encode_runs_on_the_pc(tmp_path, micropython):
    p = run_micropython(K230 / "measure_encode.py", 50, 3, 1, cwd=tmp_path,
                        env={"MICROPYPATH": f"{ROOT / 'python'}:{K230}"})
    assert "subsampling 422 on both sides" in p.stdout  # the stock encoder's choice at q=50
    assert p.stdout.count(" img_stream ") == 3, p.stdout
    jpeg = (tmp_path / "img_stream_yuv420.jpg").read_bytes()
    assert Image.open(io.BytesIO(jpeg)).size == (1280, 720)
    assert "nothing to compare" in p.stdout


def test_measure_encode_dumps_frames_for_libjpeg_turbo(tmp_path, micropython):
    """dump_dir: one raw frame per case for bench/riscv/board/turbo_measure,
    and the command that encodes each the same way."""
    dump = tmp_path / "frames"
    dump.mkdir()
    p = run_micropython(K230 / "measure_encode.py", 50, 3, 0, dump, cwd=tmp_path,
                        env={"MICROPYPATH": f"{ROOT / 'python'}:{K230}"})
    sizes = {f.name: f.stat().st_size for f in dump.iterdir()}
    assert sizes == {"nv12_1280x720.raw": 1280 * 720 * 3 // 2, "rgb565_320x240.raw": 320 * 240 * 2,
                     "rgb888_640x480.raw": 640 * 480 * 3}, sizes
    commands = [line.split() for line in p.stdout.splitlines() if line.strip().startswith("turbo_measure ")]
    assert sorted(pathlib.Path(c[1]).name for c in commands) == sorted(sizes), p.stdout
    # The RGB888 frame is the picture img_stream encoded: a real image, not zeros.
    px = (dump / "rgb888_640x480.raw").read_bytes()
    assert len(set(px[::997])) > 50


@pytest.mark.parametrize("api", APIS)
def test_mjpeg_server_starts_and_stops_under_both_apis(micropython, api):
    # Its serving is tested in test_mjpeg_server.py; here: the board-side setup.
    from conftest import free_port
    p = run_micropython(K230 / "mjpeg_server.py", f"port={free_port()}", "host=127.0.0.1", "size=320x240",
                        "seconds=1", cwd=K230, env=api_env(api))
    assert "serving http://127.0.0.1:" in p.stdout and "done:" in p.stdout
    deprecated_lines(p, api)
