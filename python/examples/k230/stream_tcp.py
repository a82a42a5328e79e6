# K230: stream the camera to a PC over TCP with img_stream.
# On the PC:  img-stream recv tcp --listen 0.0.0.0:9000 --out frames/
# Copy this file (and net_up.py, camera_up.py) to the board and set HOST. On the unix port:
#   micropython stream_tcp.py HOST PORT [FRAMES] [WIDTH HEIGHT FORMAT]
import time
import socket

import img_stream
from media.sensor import Sensor
from media.media import CAM_CHN_ID_0
from camera_up import camera_up, camera_down
from net_up import net_up, script_args

HOST = "192.168.1.100"
PORT = 9000
FRAMES = 0  # 0 = forever
WIDTH, HEIGHT, FORMAT = 1280, 720, "YUV420SP"  # a Sensor pixel format's name

HOST, PORT, FRAMES, WIDTH, HEIGHT, FORMAT = script_args(HOST, PORT, FRAMES, WIDTH, HEIGHT, FORMAT)
FORMAT = getattr(Sensor, FORMAT)

print("network:", net_up())
sensor = camera_up(WIDTH, HEIGHT, FORMAT)


def connect():
    s = socket.socket()
    s.connect(socket.getaddrinfo(HOST, PORT)[0][-1])
    s.settimeout(5)  # a stalled PC raises OSError(ETIMEDOUT) instead of hanging
    return s


sock = connect()
sent = 0
t0 = time.ticks_ms()
try:
    while FRAMES == 0 or sent < FRAMES:
        img = sensor.snapshot(chn=CAM_CHN_ID_0)
        try:
            img_stream.send_tcp(sock, img, quality=65)
        except OSError as e:
            print("send failed (%s), reconnecting" % e)
            sock.close()
            time.sleep_ms(500)
            sock = connect()
            continue
        sent += 1
        if sent % 30 == 0:
            dt = time.ticks_diff(time.ticks_ms(), t0)
            t0 = time.ticks_ms()
            print("%d frames, %.1f fps" % (sent, 30 * 1000 / max(dt, 1)))
finally:
    sock.close()
    camera_down(sensor)
