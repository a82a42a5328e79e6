# K230: how fast is img_stream on this board, next to the firmware's own
# img.compress(), measured fairly. Copy to the board and run; on the unix port
# the camera is the emulated media.sensor and only img_stream is measured.
#
#   micropython measure_encode.py [quality [frames [check_yuv [dump_dir]]]]
#
# Fair means: the same frames, the same quality and the same chroma
# subsampling on both sides. The stock encoder (software only in the current
# firmware, OMV_HARDWARE_JPEG 0) picks its subsampling from the quality
# (port/omv/imlib/jpeg.c: 4:2:0 at q <= 35, 4:2:2 below 60, 4:4:4 from 60),
# so img_stream is given the same; the copy compress() needs (it works in
# place) is made outside the timed region. The stock encoder turns RGB888
# into RGB565 before encoding; that is part of its time.
# check_yuv=1 also writes both encoders' JPEG of one YUV420SP frame to files:
# the stock encoder treats YUV420 as packed YUV422 (and reads past the
# frame), so its picture is expected to be wrong. Opt-in: the over-read is
# on the board's memory.
# dump_dir (e.g. /sdcard/frames) is the libjpeg-turbo comparison: one frame
# of each case is written there raw, img_stream encodes that frame FRAMES
# times at 4:2:0, and the script prints the command that has
# bench/riscv/board/turbo_measure (libjpeg-turbo with its RVV SIMD, run from
# the RT-Smart shell: docs/CANMV.md) encode the same file the same way and
# print the same kind of line.
import sys
import time

import img_stream
from media.sensor import *
from media.media import MediaManager

argv = getattr(sys, "argv", [])
QUALITY = int(argv[1]) if len(argv) > 1 else 65
FRAMES = int(argv[2]) if len(argv) > 2 else 50
CHECK_YUV = len(argv) > 3 and argv[3] == "1"
DUMP_DIR = argv[4] if len(argv) > 4 else None


def stock_subsampling(q):
    return 420 if q <= 35 else (422 if q < 60 else 444)


SS = stock_subsampling(QUALITY)
CASES = [  # one sensor channel each; the last field is turbo_measure's name of the layout
    ("YUV420SP 1280x720", 1280, 720, Sensor.YUV420SP, "nv12"),
    ("RGB565 320x240", 320, 240, Sensor.RGB565, "rgb565"),
    ("RGB888 640x480", 640, 480, Sensor.RGB888, "rgb888"),
]

sensor = Sensor()
sensor.reset()
for chn, (name, w, h, fmt, _) in enumerate(CASES):
    sensor.set_framesize(width=w, height=h, chn=chn)
    sensor.set_pixformat(fmt, chn=chn)
MediaManager.init()
sensor.run()

out = bytearray(1280 * 720 * 2)


def line(name, encoder, us, frames, size):
    # The format bench/riscv/board/turbo_measure.c prints too.
    return "%-18s %-10s %7.2f ms %6.1f fps %7d B" % (
        name, encoder, us / frames / 1000, frames * 1e6 / max(us, 1), size)


print("quality %d, subsampling %d on both sides, %d frames" % (QUALITY, SS, FRAMES))
for chn, (name, w, h, fmt, _) in enumerate(CASES):
    img = sensor.snapshot(chn=chn)
    t_ours = 0
    n = 0
    for _ in range(FRAMES):
        img = sensor.snapshot(chn=chn)
        t0 = time.ticks_us()
        n = img_stream.encode_into(img, out, quality=QUALITY, subsampling=SS)
        t_ours += time.ticks_diff(time.ticks_us(), t0)
    row = line(name, "img_stream", t_ours, FRAMES, n)
    if hasattr(img, "compress") and fmt != Sensor.YUV420SP:
        t_stock = 0
        size = 0
        for _ in range(max(1, FRAMES // 5)):
            c = sensor.snapshot(chn=chn).copy()  # outside the timer
            t0 = time.ticks_us()
            c.compress(quality=QUALITY)
            t_stock += time.ticks_diff(time.ticks_us(), t0)
            size = c.size()
        row += " | img.compress() %7.2f ms %7d B" % (t_stock / max(1, FRAMES // 5) / 1000, size)
    elif fmt == Sensor.YUV420SP:
        row += " | img.compress(): not compared (mis-encodes YUV420, see check_yuv)"
    print(row)

if DUMP_DIR:
    print("vs libjpeg-turbo: one frame per case, %d encodes, quality %d, 4:2:0" % (FRAMES, QUALITY))
    commands = []
    for chn, (name, w, h, fmt, layout) in enumerate(CASES):
        img = sensor.snapshot(chn=chn)
        path = "%s/%s_%dx%d.raw" % (DUMP_DIR, layout, w, h)
        with open(path, "wb") as f:
            f.write(img.bytearray())
        img_stream.encode_into(img, out, quality=QUALITY, subsampling=420)  # as turbo_measure warms up
        t = 0
        for _ in range(FRAMES):
            t0 = time.ticks_us()
            n = img_stream.encode_into(img, out, quality=QUALITY, subsampling=420)
            t += time.ticks_diff(time.ticks_us(), t0)
        print(line(name, "img_stream", t, FRAMES, n))
        commands.append("turbo_measure %s %d %d %s %d %d %s" % (path, w, h, layout, QUALITY, FRAMES, name))
    print("then, from the RT-Smart shell (docs/CANMV.md), for the same lines from libjpeg-turbo:")
    for c in commands:
        print("  " + c)

if CHECK_YUV:
    img = sensor.snapshot(chn=0)
    n = img_stream.encode_into(img, out, quality=QUALITY, subsampling=SS)
    with open("img_stream_yuv420.jpg", "wb") as f:
        f.write(memoryview(out)[:n])
    print("wrote img_stream_yuv420.jpg (%d B)" % n)
    if hasattr(img, "compress"):
        c = img.copy()
        c.compress(quality=QUALITY)
        with open("stock_yuv420.jpg", "wb") as f:
            f.write(c.bytearray())
        print("wrote stock_yuv420.jpg (%d B): compare the two pictures" % c.size())
    else:
        print("no img.compress() here (emulated sensor): nothing to compare")
sensor.stop()
MediaManager.deinit()
