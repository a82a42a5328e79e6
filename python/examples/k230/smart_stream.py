# K230: one camera, encoded once per frame, to a PC over TCP and to browsers
# (MJPEG on port 8080), at a bandwidth the link can carry, and nothing sent
# while the scene is still (one keep-alive frame every 2 s).
# On the PC:  img-stream recv tcp --listen 0.0.0.0:9000 --out frames/
# Copy this file (and net_up.py, camera_up.py) to the board and set HOST. On the unix port:
#   micropython smart_stream.py HOST PORT [FRAMES [HTTP_PORT]]
import time
import socket

import img_stream
from img_stream_http import MjpegServer
from media.media import CAM_CHN_ID_0
from camera_up import camera_up, camera_down
from net_up import net_up, script_args

HOST = "192.168.1.100"
PORT = 9000
HTTP_PORT = 8080
FRAMES = 0  # 0 = forever
MAX_KBPS = 4000  # what the Wi-Fi link carries with room to spare

HOST, PORT, FRAMES, HTTP_PORT = script_args(HOST, PORT, FRAMES, HTTP_PORT)

print("network:", net_up())
sensor = camera_up(640, 480)

rc = img_stream.RateControl(max_kbps=MAX_KBPS, fps=30)
same = img_stream.SkipSame(keepalive_s=2)
jpg = img_stream.Encoded()  # made once: no allocation per frame
server = MjpegServer(HTTP_PORT)
sock = socket.socket()
sock.connect(socket.getaddrinfo(HOST, PORT)[0][-1])
sock.settimeout(5)

frames = 0
try:
    while FRAMES == 0 or frames < FRAMES:
        img = sensor.snapshot(chn=CAM_CHN_ID_0)
        if jpg.encode(img, quality=rc, skip_same=same):
            img_stream.send_tcp(sock, jpg)  # the header goes in front, in place
            server.push(jpg)  # browsers get the same JPEG
            frames += 1
        else:
            server.poll()  # nothing new: keep serving the browsers
        if frames and frames % 30 == 0:
            print("quality", rc.quality, "bytes", rc.last_bytes, "skipped", same.skipped)
finally:
    print("sent %d frames, %d skipped as unchanged, %d re-encodes" % (frames, same.skipped, rc.retries))
    sock.close()
    server.close()
    camera_down(sensor)
