# K230: stream the camera over TCP, always the newest frame: on a slow link
# the camera loop keeps its rate and frames are skipped instead of queued.
# On the PC:  img-stream recv tcp --listen 0.0.0.0:9000 --out frames/
# Copy this file (and net_up.py, camera_up.py) to the board and set HOST. On the unix port:
#   micropython stream_latest.py HOST PORT [FRAMES]
import time
import socket
import select

import img_stream
from media.media import CAM_CHN_ID_0
from camera_up import camera_up, camera_down
from net_up import net_up, script_args

HOST = "192.168.1.100"
PORT = 9000
FRAMES = 0  # camera frames to take; 0 = forever

HOST, PORT, FRAMES = script_args(HOST, PORT, FRAMES)

print("network:", net_up())
sensor = camera_up(640, 480)

sock = socket.socket()
sock.connect(socket.getaddrinfo(HOST, PORT)[0][-1])
# TcpSender makes the socket non-blocking. sndbuf bounds the kernel's queue
# where the stack allows it (stats()["sndbuf"] is None where it does not:
# CanMV's lwIP sizes its TCP send buffer when the firmware is built).
tx = img_stream.TcpSender(sock, sndbuf=8192)
taken = 0
t0 = time.ticks_ms()
try:
    while FRAMES == 0 or taken < FRAMES:
        img = sensor.snapshot(chn=CAM_CHN_ID_0)
        tx.send(img, quality=70)  # False: the previous frame is still going out
        taken += 1
        if taken % 30 == 0:
            dt = time.ticks_diff(time.ticks_ms(), t0)
            t0 = time.ticks_ms()
            print("%.1f fps, %s" % (30 * 1000 / max(dt, 1), tx.stats()))
    # Finish the frame in flight: wait until the socket takes more, not a
    # fixed time.
    p = select.poll()
    p.register(sock, select.POLLOUT)
    while tx.pump():
        p.poll(100)
finally:
    st = tx.stats()
    tx.close()
    sock.close()
    camera_down(sensor)
print("sent", st["sent"], "skipped", st["skipped"])
