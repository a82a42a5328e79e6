"""Hub benchmark: CAMERAS synthetic cameras (VGA JPEGs, paced to FPS, each its
own TCP connection with its own camera id) into one `img-stream hub`, VIEWERS
MJPEG viewers out (spread evenly over the cameras). Measures, over a window
after a warm-up: hub CPU (% of one core), peak RSS, added latency (hub receive
-> viewer has the whole part, from each part's X-Timestamp; p50/p99) and frames
delivered per viewer against the frames its camera sent in the same window.

The senders replay pre-encoded JPEGs (Pillow) framed by python/img_stream_proto.py,
so the machine's CPU goes to the hub and the viewers, not to encoding.
Usage: bench_hub.py HUB_BIN [CAMERAS VIEWERS FPS SECONDS]"""
import io
import json
import multiprocessing as mp
import os
import re
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
import img_stream_proto  # noqa: E402

WARMUP = 3.0


def jpegs(n=30):
    """n distinct VGA JPEGs (~q65, a moving pattern over noise)."""
    from PIL import Image, ImageDraw, ImageFilter
    # Mild noise, blurred: about the size of a K230 VGA frame at q65.
    base = Image.effect_noise((640, 480), 24).filter(ImageFilter.GaussianBlur(1.2)).convert("RGB")
    out = []
    for i in range(n):
        im = base.copy()
        d = ImageDraw.Draw(im)
        for k in range(8):
            x = (i * 7 + k * 80) % 640
            d.rectangle((x, 40 * k, x + 60, 40 * k + 50), fill=(30 * k, 255 - 20 * k, 8 * i))
        b = io.BytesIO()
        im.save(b, "JPEG", quality=65)
        out.append(b.getvalue())
    return out


def senders(port, cameras, fps, stop_at):
    frames = jpegs()
    def one(cam):
        s = socket.create_connection(("127.0.0.1", port))
        period = 1.0 / fps
        due = time.monotonic()
        seq = 0
        while time.monotonic() < stop_at:
            payload = frames[seq % len(frames)]
            s.sendall(img_stream_proto.build_frame(payload, seq, timestamp_us=int(time.time() * 1e6),
                                                   width=640, height=480, camera_id=cam))
            seq += 1
            due += period
            time.sleep(max(0.0, due - time.monotonic()))  # pacing like a camera
        s.close()
    ts = [threading.Thread(target=one, args=(c,)) for c in range(cameras)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def viewers(http_port, ids, t0, t1, stop_at, q):
    """Reads every stream in `ids`; returns per-viewer frame counts inside
    [t0, t1) and the latencies (s) of those frames."""
    sel = selectors.DefaultSelector()
    state = {}
    for i, cid in enumerate(ids):
        s = socket.create_connection(("127.0.0.1", http_port))
        s.sendall(f"GET /cam/{cid}/stream HTTP/1.0\r\nHost: hub\r\n\r\n".encode())
        s.setblocking(False)
        state[s] = {"buf": bytearray(), "need": None, "ts": None, "n": 0, "cam": cid, "head": True}
        sel.register(s, selectors.EVENT_READ)
    lat = []
    ts_re = re.compile(rb"X-Timestamp: (\d+\.\d+)", re.I)
    cl_re = re.compile(rb"Content-Length: (\d+)", re.I)
    while time.monotonic() < stop_at:
        for key, _ in sel.select(0.2):
            st = state[key.fileobj]
            try:
                data = key.fileobj.recv(1 << 18)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(key.fileobj)
                continue
            now_wall, now = time.time(), time.monotonic()
            buf = st["buf"]
            buf += data
            while True:
                if st["need"] is None:
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    head = bytes(buf[:end])
                    del buf[:end + 4]
                    if st["head"]:  # the HTTP response head
                        st["head"] = False
                        continue
                    m = cl_re.search(head)
                    st["need"] = int(m.group(1))
                    st["ts"] = float(ts_re.search(head).group(1))
                elif len(buf) >= st["need"]:
                    del buf[:st["need"]]
                    st["need"] = None
                    if t0 <= now < t1:
                        st["n"] += 1
                        lat.append(now_wall - st["ts"])
                else:
                    break
    q.put(([(st["cam"], st["n"]) for st in state.values()], lat))


def hub_latency_buckets(http_port):
    """The hub's own added-latency histogram, all cameras: {le: count}."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
    text = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10).read().decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        if fam.name == "img_stream_hub_added_latency_seconds":
            for smp in fam.samples:
                if smp.name.endswith("_bucket"):
                    le = float(smp.labels["le"])
                    out[le] = out.get(le, 0) + smp.value
    return out


def bucket_quantile(b0, b1, q):
    """Upper bound (ms) of the bucket holding quantile q of the counts added
    between two scrapes."""
    les = sorted(b1)
    total = b1[les[-1]] - b0.get(les[-1], 0)
    for le in les:
        if b1[le] - b0.get(le, 0) >= q * total:
            return le * 1000
    return float("inf")


def proc_cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def vm(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def main():
    hub_bin = sys.argv[1]
    cameras, nviewers, fps, seconds = (int(a) for a in (sys.argv[2:6] + ["16", "64", "30", "15"][len(sys.argv[2:6]):]))
    hub = subprocess.Popen([hub_bin, "hub", "--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0",
                            "--max-viewers-per-camera", str(-(-nviewers // cameras))],
                           stderr=subprocess.PIPE, text=True)
    ports = {}
    for line in hub.stderr:
        m = re.match(r"hub: (tcp) on [^\s]*:(\d+)$", line.strip()) or \
            re.match(r"hub: (http)://[^\s]*:(\d+)/$", line.strip())
        if m:
            ports[m.group(1)] = int(m.group(2))
        if len(ports) == 2:
            break
    threading.Thread(target=lambda: [None for _ in hub.stderr], daemon=True).start()
    api = f"http://127.0.0.1:{ports['http']}/api/cameras"

    def cams():
        return {c["id"]: c for c in json.load(urllib.request.urlopen(api, timeout=10))}

    start = time.monotonic()
    t0, t1 = start + WARMUP, start + WARMUP + seconds
    stop_at = t1 + 1.0
    tx = mp.Process(target=senders, args=(ports["tcp"], cameras, fps, stop_at + 1.0))
    tx.start()
    deadline = time.monotonic() + 20
    while len(cams()) < cameras and time.monotonic() < deadline:
        time.sleep(0.05)  # polling until every camera is known
    ids = sorted(cams())
    per = [ids[i % len(ids)] for i in range(nviewers)]
    q = mp.Queue()
    halves = [per[0::2], per[1::2]]
    rx = [mp.Process(target=viewers, args=(ports["http"], h, t0, t1, stop_at, q)) for h in halves]
    for p in rx:
        p.start()
    time.sleep(max(0.0, t0 - time.monotonic()))  # the measurement window starts
    sent0 = {c: v["frames"] for c, v in cams().items()}
    cpu0 = proc_cpu(hub.pid)
    h0 = hub_latency_buckets(ports["http"])
    time.sleep(max(0.0, t1 - time.monotonic()))
    cpu1 = proc_cpu(hub.pid)
    h1 = hub_latency_buckets(ports["http"])
    sent1 = {c: v["frames"] for c, v in cams().items()}
    counts, lat = [], []
    for _ in rx:
        c, l = q.get(timeout=60)
        counts += c
        lat += l
    for p in rx + [tx]:
        p.join(30)
    peak = vm(hub.pid, "VmHWM")
    hub.terminate()
    hub.wait(10)
    sent = {c: sent1[c] - sent0[c] for c in sent1}
    ratios = sorted(n / max(1, sent[c]) for c, n in counts)
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")
    cam_fps = sum(sent.values()) / len(sent) / seconds
    frame_kib = sum(len(j) for j in jpegs()) / 30 / 1024
    print(f"cameras {cameras} x VGA ({frame_kib:.0f} KiB JPEGs) at {fps} fps target "
          f"(measured {cam_fps:.1f} fps per camera), viewers {nviewers}, window {seconds} s")
    print(f"hub CPU             {100 * (cpu1 - cpu0) / seconds:6.1f} % of one core")
    print(f"hub peak RSS        {peak / 2**20:6.1f} MiB")
    print(f"added latency p50   {pct(0.50):6.2f} ms  (viewer-measured: hub receive -> part read by a viewer)")
    print(f"added latency p99   {pct(0.99):6.2f} ms")
    print(f"hub-side latency    p50 <= {bucket_quantile(h0, h1, 0.5):.1f} ms, p99 <= "
          f"{bucket_quantile(h0, h1, 0.99):.1f} ms  (receive -> hand-off to the connection, histogram bucket bound)")
    print(f"frames per viewer   min {100 * ratios[0]:.1f} %, median {100 * ratios[len(ratios) // 2]:.1f} % "
          f"of its camera's ({len(lat)} frames delivered)")


if __name__ == "__main__":
    main()
