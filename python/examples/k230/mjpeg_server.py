# K230: the camera as an MJPEG web camera. Open http://<board>:8080/ in a
# browser (or point VLC, ffmpeg, OpenCV or Home Assistant at
# http://<board>:8080/stream; Prometheus at http://<board>:8080/metrics).
# Change quality or frame rate while it runs:
#   curl 'http://<board>:8080/control?quality=40&fps=15'
# While nobody watches, nothing is encoded (idle_fps=0): a /snapshot waits for
# the next frame. Copy this file, camera_up.py and img_stream_http.py to the
# board once its network is up. On the unix port the sensor is emulated
# (python/media/ over python/synthetic_camera.py).
#
#   micropython mjpeg_server.py [key=value ...]
#     port=8080 host=0.0.0.0 size=640x480 format=YUV420SP quality=65
#     camera_fps=30   unix port: pace the emulated sensor (0: as fast as it encodes)
#     fps_limit=0 max_clients=4 stall_ms=10000 seconds=0 (0: forever)
#     idle_fps=0      frames a second encoded while nobody watches
#     report=0        print "loop <frames> <ms>" every N frames (the load test reads it)
#     auth=user:password  HTTP Basic auth; token=...  ?token= / Bearer (both off when empty)
import sys
import time

import img_stream
import img_stream_http
from media.sensor import Sensor
from media.media import CAM_CHN_ID_0
from camera_up import camera_up, camera_down

opts = {"port": "8080", "host": "0.0.0.0", "size": "640x480", "format": "YUV420SP",
        "quality": "65", "camera_fps": "30", "fps_limit": "0", "max_clients": "4",
        "stall_ms": "10000", "seconds": "0", "report": "0", "auth": "", "token": "",
        "idle_fps": "0"}
for arg in sys.argv[1:]:
    k, _, v = arg.partition("=")
    if k not in opts:
        raise SystemExit("unknown option %r; known: %s" % (k, " ".join(sorted(opts))))
    opts[k] = v
width, height = (int(x) for x in opts["size"].split("x"))
camera_fps = int(opts["camera_fps"])
seconds = int(opts["seconds"])
report = int(opts["report"])

# The board's camera API (sensor formats only); on the unix port python/media/
# emulates it over the synthetic camera, so this script runs unchanged in both
# places.
# NV12 is img_stream's name for the sensor's YUV420SP.
fmt = getattr(Sensor, {"NV12": "YUV420SP"}.get(opts["format"], opts["format"]))
sensor = camera_up(width, height, fmt)
# A real sensor paces the loop; the emulated one delivers at once.
paced = camera_fps > 0 and sys.platform == "linux"

server = img_stream_http.MjpegServer(
    int(opts["port"]), host=opts["host"], max_clients=int(opts["max_clients"]),
    quality=int(opts["quality"]), fps_limit=int(opts["fps_limit"]) or None,
    stall_timeout_ms=int(opts["stall_ms"]), auth=opts["auth"] or None,
    token=opts["token"] or None, idle_fps=int(opts["idle_fps"]))
print("serving http://%s:%s/ (stream: /stream, snapshot: /snapshot, stats: /stats, "
      "metrics: /metrics, settings: /control)" % (
    "127.0.0.1" if opts["host"] == "0.0.0.0" else opts["host"], opts["port"]))

start = last = time.ticks_ms()
frames = 0
period_ms = 1000 // camera_fps if paced else 0
next_due = start
while not seconds or time.ticks_diff(time.ticks_ms(), start) < seconds * 1000:
    if period_ms:
        # Wait for the "sensor" while serving clients: poll() sleeps in select.
        while True:
            wait = time.ticks_diff(next_due, time.ticks_ms())
            if wait <= 0:
                break
            server.poll(wait)
        next_due = time.ticks_add(next_due, period_ms)
        if time.ticks_diff(time.ticks_ms(), next_due) > period_ms:
            next_due = time.ticks_ms()  # fell behind: no burst to catch up
    server.push(sensor.snapshot(chn=CAM_CHN_ID_0))
    frames += 1
    if report and frames % report == 0:
        now = time.ticks_ms()
        print("loop %d %d" % (report, time.ticks_diff(now, last)))
        last = now
s = server.stats()
print("done: %d frames captured, %d encoded, %d parts sent, %d dropped clients" % (
    s["frames_captured"], s["frames_encoded"], s["parts_sent"], s["clients_dropped"]))
server.close()
# Give the sensor and the video buffers back (the 2024 port's next
# MediaManager.init() needs it).
camera_down(sensor)
