# K230: how fast is img_stream on this board? Prints encode time and fps for
# the camera's own formats, next to the firmware's img.compress() where the
# image has one. Copy to the board and run; on the unix port the camera is
# the emulated media.sensor.
import time

import img_stream
from media.sensor import *
from media.media import MediaManager

CASES = [
    ("YUV420SP 1280x720", 1280, 720, Sensor.YUV420SP),
    ("RGB565 320x240", 320, 240, Sensor.RGB565),
    ("RGB888 640x480", 640, 480, Sensor.RGB888),
    ("GRAYSCALE 640x480", 640, 480, Sensor.GRAYSCALE),
]
FRAMES = 50

sensor = Sensor()
sensor.reset()
for i, (name, w, h, fmt) in enumerate(CASES):
    sensor.set_framesize(width=w, height=h, chn=i % CAM_CHN_ID_MAX)
    sensor.set_pixformat(fmt, chn=i % CAM_CHN_ID_MAX)
    if i == CAM_CHN_ID_MAX - 1:
        break
MediaManager.init()
sensor.run()

out = bytearray(1280 * 720)
for i, (name, w, h, fmt) in enumerate(CASES[:CAM_CHN_ID_MAX]):
    chn = i % CAM_CHN_ID_MAX
    img = sensor.snapshot(chn=chn)
    t_ours = 0
    n = 0
    for _ in range(FRAMES):
        img = sensor.snapshot(chn=chn)
        t0 = time.ticks_us()
        n = img_stream.encode_into(img, out, quality=65)
        t_ours += time.ticks_diff(time.ticks_us(), t0)
    line = "%-18s img_stream %6.2f ms %6.1f fps %6d B" % (name, t_ours / FRAMES / 1000, FRAMES * 1e6 / t_ours, n)
    if hasattr(img, "compress"):
        t0 = time.ticks_us()
        for _ in range(FRAMES // 5):
            img.copy().compress(quality=65) if hasattr(img, "copy") else img.compress(quality=65)
        dt = time.ticks_diff(time.ticks_us(), t0) / (FRAMES // 5)
        line += " | img.compress() %6.2f ms" % (dt / 1000)
    print(line)
sensor.stop()
MediaManager.deinit()
