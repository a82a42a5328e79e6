"""The K230 scripts in python/examples/k230/ run unchanged on the unix port
(media.sensor emulated) and their frames reach the real receivers."""
import io
import pathlib

from PIL import Image

from conftest import ROOT, run_micropython
from receiver import Receiver, frames_jsonl
from test_mqtt import Broker, mqtt_receiver

K230 = ROOT / "python" / "examples" / "k230"


def check(out, n, size):
    rows = frames_jsonl(out)
    assert len(rows) == n and all(r["crc_ok"] for r in rows)
    for r in rows:
        im = Image.open(io.BytesIO((pathlib.Path(out) / r["file"]).read_bytes()))
        assert im.size == size


def test_stream_tcp(tmp_path, micropython):
    rx = Receiver("recv", "tcp", "--listen", "127.0.0.1:0", "--out", tmp_path, "--count", 5)
    try:
        run_micropython(K230 / "stream_tcp.py", "127.0.0.1", rx.port(), 5, 320, 240, "RGB565", cwd=K230)
        assert rx.wait() == 0
    finally:
        rx.stop()
    check(tmp_path, 5, (320, 240))


def test_stream_udp(tmp_path, micropython):
    rx = Receiver("recv", "udp", "--listen", "127.0.0.1:0", "--out", tmp_path, "--count", 5)
    try:
        p = run_micropython(K230 / "stream_udp.py", "127.0.0.1", rx.port(), 5, cwd=K230)
        assert "sent 5" in p.stdout
        assert rx.wait() == 0
    finally:
        rx.stop()
    check(tmp_path, 5, (640, 480))


def test_publish_mqtt(tmp_path, micropython):
    broker = Broker(tmp_path)
    try:
        rx = mqtt_receiver(broker.port, "--topic", "img_stream/+/frame", "--out", tmp_path / "out",
                           "--count", 5)
        try:
            p = run_micropython(K230 / "publish_mqtt.py", "127.0.0.1", broker.port, 5, cwd=K230,
                                env={"MICROPYPATH": f"{ROOT / 'python'}:{ROOT / 'build' / 'umqtt'}"})
            assert "published 5" in p.stdout
            assert rx.wait() == 0
        finally:
            rx.stop()
    finally:
        broker.stop()
    check(tmp_path / "out", 5, (640, 480))
