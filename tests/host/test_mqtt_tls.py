"""MQTT over TLS: umqtt.simple with ssl=True on the unix port (built with
mbedTLS, as the board's firmware has ssl), img_stream.publish() unchanged,
against a Mosquitto listener that speaks only TLS, with a CA and a server
certificate made here by openssl. A paho-mqtt subscriber (also over TLS)
receives the frames."""
import subprocess
import threading

import pytest

from conftest import MICROPYTHON, ROOT, run_micropython
from mosquitto import Broker
from test_mqtt import SCALE, decoded
from receiver import wait_for


def make_certificates(d):
    """A CA, and a server certificate for localhost/127.0.0.1 that it signed."""
    def ssl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=img_stream test CA",
        "-keyout", "ca.key", "-out", "ca.pem")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key",
        "-out", "server.csr")
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "san.ext", "-out", "server.pem")
    ssl("x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der")
    # A second CA that signed nothing here: trusting it must fail the handshake.
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other CA",
        "-keyout", "other.key", "-out", "other.pem")
    ssl("x509", "-in", "other.pem", "-outform", "DER", "-out", "other.der")


# The board script, as on a K230 (the firmware's ssl takes the same keywords).
BOARD = """
import sys, ssl, img_stream
from umqtt.simple import MQTTClient
from synthetic_camera import SyntheticCamera
port, ca, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(ca, "rb") as f:
    cadata = f.read()
c = MQTTClient(b"tlscam", "127.0.0.1", port, ssl=True,
               ssl_params={"server_hostname": "localhost", "cert_reqs": ssl.CERT_REQUIRED, "cadata": cadata})
try:
    c.connect()
except Exception as e:
    print("connect failed:", type(e).__name__, e)
    raise SystemExit(3)
cam = SyntheticCamera(320, 240, img_stream.NV12)
for i in range(3):
    img = cam.snapshot()
    n = img_stream.publish(c, img, quality=70, qos=i % 2)
    with open("%s/%d.jpg" % (out, i), "wb") as f:
        f.write(img_stream.encode(img, quality=70))
c.disconnect()
print("published 3 over", type(c.sock).__name__)
"""

PLAIN = """
import sys
from umqtt.simple import MQTTClient
c = MQTTClient(b"plain", "127.0.0.1", int(sys.argv[1]))
try:
    c.connect()
    print("plain connected")
except Exception as e:
    print("plain refused:", type(e).__name__)
"""


def test_publish_over_tls_reaches_a_tls_subscriber(tmp_path, micropython):
    import paho.mqtt.client as paho

    has_tls = run_micropython("import tls\nprint('tls')", check=False).stdout.strip() == "tls"
    if not has_tls and MICROPYTHON != ROOT / "build" / "micropython":
        # The riscv64 interpreter is built without mbedTLS: the chroot has no
        # riscv64 libmbedtls (docs/MQTT.md). The x86 build must have it.
        pytest.skip("this interpreter is built without TLS (riscv64)")
    assert has_tls, "build/micropython lacks the tls module"

    certs = tmp_path / "certs"
    certs.mkdir()
    make_certificates(certs)
    # Started as root, Mosquitto would drop to its own user, which cannot read
    # pytest's private temporary directory: "user root" keeps it as it is.
    broker = Broker(tmp_path, listener_options=["user root", f"cafile {certs / 'ca.pem'}",
                                                f"certfile {certs / 'server.pem'}",
                                                f"keyfile {certs / 'server.key'}"])
    got = []
    subscribed = threading.Event()
    sub = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="tls-sub")
    sub.tls_set(ca_certs=str(certs / "ca.pem"))
    sub.on_connect = lambda c, *a: c.subscribe("img_stream/+/frame", 1)
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_message = lambda c, u, m: got.append((m.topic, bytes(m.payload)))
    try:
        sub.connect("localhost", broker.port)
        sub.loop_start()
        assert subscribed.wait(10 * SCALE)
        p = run_micropython(BOARD, broker.port, certs / "ca.der", tmp_path, timeout=120 * SCALE)
        assert "published 3 over" in p.stdout, p.stdout
        wait_for(lambda: len(got) == 3, 20 * SCALE, "3 messages at the TLS subscriber")

        # The listener speaks only TLS: a plain MQTT CONNECT gets no CONNACK.
        plain = run_micropython(PLAIN, broker.port, check=False, timeout=60 * SCALE)
        assert "plain connected" not in plain.stdout, plain.stdout
        # Verification is on: a board that trusts another CA cannot connect.
        wrong = run_micropython(BOARD, broker.port, certs / "other.der", tmp_path, check=False,
                                timeout=60 * SCALE)
        assert wrong.returncode == 3 and "connect failed" in wrong.stdout, (wrong.stdout, wrong.stderr)
    finally:
        sub.loop_stop()
        sub.disconnect()
        broker.stop()
    for i, (topic, payload) in enumerate(got):
        assert topic == "img_stream/tlscam/frame"
        assert payload == (tmp_path / f"{i}.jpg").read_bytes()
        assert decoded(payload).size == (320, 240)
