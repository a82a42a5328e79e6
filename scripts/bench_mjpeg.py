"""MJPEG server benchmark (make bench): python/examples/k230/mjpeg_server.py on the
unix port, VGA NV12 q65, with 0, 1 and 4 clients reading /stream over
loopback as fast as they can.

For each setting it reports, from the server's /stats counters over the
measuring interval: frames captured per second (the camera loop), encode
calls per second (must equal captured: one encode per frame however many
clients; 0 without clients, as nothing is encoded while nobody watches), parts sent per second in total and per client. Two camera modes:
unpaced (the loop runs as fast as it encodes) and paced at 30 fps like a
sensor. Settings are interleaved over several rounds; medians are printed.

    python3 scripts/bench_mjpeg.py [--seconds S] [--rounds R] [--write]
"""
import argparse
import json
import pathlib
import socket
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "host"))
from test_mjpeg_server import ServerProcess, wait_for  # noqa: E402

# /stats lists viewers' addresses (which match them up between two reads)
# only to an authenticated caller.
TOKEN = "bench"


def stats(srv):
    return json.loads(srv.get("/stats?token=" + TOKEN)[2])


class Drain:
    """A client that reads /stream and throws the bytes away."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(b"GET /stream?token=%s HTTP/1.1\r\nHost: bench\r\n\r\n"
                          % TOKEN.encode())
        self.bytes = 0
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        buf = bytearray(1 << 20)
        while not self.stop:
            n = self.sock.recv_into(buf)
            if not n:
                return
            self.bytes += n

    def close(self):
        self.stop = True
        self.sock.close()
        self.t.join(5)


def measure(srv, clients, seconds):
    drains = [Drain(srv.port) for _ in range(clients)]
    try:
        if clients:
            wait_for(lambda: all(d.bytes > 0 for d in drains), 20, "clients to start")
        a = stats(srv)
        t0 = time.monotonic()
        time.sleep(seconds)  # the measuring interval itself, not synchronisation
        b = stats(srv)
        dt = time.monotonic() - t0
    finally:
        for d in drains:
            d.close()
    per = {}
    for c in b["clients"]:
        old = next((o for o in a["clients"] if o["addr"] == c["addr"]), None)
        if old:
            per[c["addr"]] = (c["frames"] - old["frames"]) / dt
    return {
        "captured": (b["frames_captured"] - a["frames_captured"]) / dt,
        "encoded": (b["frames_encoded"] - a["frames_encoded"]) / dt,
        "sent": (b["parts_sent"] - a["parts_sent"]) / dt,
        "per_client": min(per.values()) if per else 0.0,
        "jpeg": b["jpeg_bytes"],
    }


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = ap.parse_args()
    rows = []
    for camera_fps in (0, 30):
        srv = ServerProcess(size="640x480", format="NV12", quality=65, camera_fps=camera_fps,
                            max_clients=4, token=TOKEN)
        try:
            results = {0: [], 1: [], 4: []}
            for _ in range(args.rounds):
                for n in results:
                    results[n].append(measure(srv, n, args.seconds))
        finally:
            srv.stop()
        for n, rs in results.items():
            m = {k: median([r[k] for r in rs]) for k in rs[0]}
            rows.append((camera_fps, n, m))
    table = ["| camera | clients | captured fps | encode calls/s | parts sent/s (all) "
             "| slowest client fps | JPEG bytes |",
             "|---|---|---|---|---|---|---|"]
    for camera_fps, n, m in rows:
        table.append("| %s | %d | %.0f | %.0f | %.0f | %s | %d |" % (
            "unpaced" if camera_fps == 0 else "%d fps" % camera_fps, n, m["captured"],
            m["encoded"], m["sent"], "%.0f" % m["per_client"] if n else "-", m["jpeg"]))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    load = open("/proc/loadavg").read().split()[0]
    cmd = "python3 scripts/bench_mjpeg.py --seconds %g --rounds %d" % (args.seconds, args.rounds)
    section = "\n".join([
        "<!-- mjpeg:begin -->",
        "## MJPEG over HTTP: `img_stream_http.MjpegServer`",
        "",
        "VGA (640x480) NV12, quality 65, synthetic camera (python/examples/k230/mjpeg_server.py on the",
        "unix port), clients on 127.0.0.1 reading `/stream` as fast as they can (CPython threads).",
        "Counters from `/stats` over %gs intervals; medians of %d interleaved rounds; %s, %d cores, %s,"
        % (args.seconds, args.rounds, time.strftime("%Y-%m-%d", time.gmtime()),
           len(open("/proc/cpuinfo").read().split("processor\t")) - 1, cpu),
        "load average %s at the start. Command: `%s`." % (load, cmd),
        "",
        *table,
        "",
        "Encode calls per second equal captured frames per second with 4 clients as with 1:",
        "each frame is encoded once and the same bytes go to every client. A client that cannot",
        "keep up gets the newest frame when it is ready for one; it never slows the loop.",
        "With no client nothing is encoded (`idle_fps=0`), so the unpaced loop runs at the",
        "synthetic camera's own rate.",
        "<!-- mjpeg:end -->",
    ])
    print(section)
    if args.write:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "put_section.py"),
                        str(ROOT / "docs" / "BENCHMARKS.md"), "mjpeg", section], check=True)


if __name__ == "__main__":
    main()
