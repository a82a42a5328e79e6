# K230-style loop on any MicroPython board: take a snapshot, encode it to
# JPEG with img_stream, keep a few files, print encode time and fps.
# On the unix port the camera is python/synthetic_camera.py.
#
#   micropython encode_demo.py [OUT_DIR] [FRAMES_PER_FORMAT]
import sys
import time

import img_stream
from synthetic_camera import SyntheticCamera, FORMAT_NAMES

out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
frames = int(sys.argv[2]) if len(sys.argv) > 2 else 30

CASES = [
    (1280, 720, img_stream.NV12),       # the K230's streaming format (YUV420SP)
    (640, 480, img_stream.NV12),
    (640, 480, img_stream.RGB565),
    (640, 480, img_stream.RGB888),
    (320, 240, img_stream.RGBP888),     # the K230's AI format
    (320, 240, img_stream.YUV422),
    (320, 240, img_stream.GRAYSCALE),
    (320, 240, img_stream.BGR888),
]

print("img_stream encode demo: %d frames per format, JPEGs in %s" % (frames, out_dir))
for w, h, fmt in CASES:
    cam = SyntheticCamera(w, h, fmt)
    out = bytearray(w * h * 2)          # reused: encode_into allocates nothing
    total_us = 0
    size = 0
    for i in range(frames):
        img = cam.snapshot()
        t0 = time.ticks_us()
        n = img_stream.encode_into(img, out, quality=65)
        dt = time.ticks_diff(time.ticks_us(), t0)
        total_us += dt
        size = n
        if i < 3:
            name = "%s/%s_%dx%d_%d.jpg" % (out_dir, FORMAT_NAMES[fmt].lower(), w, h, i)
            with open(name, "wb") as f:
                f.write(memoryview(out)[:n])
    avg = total_us / frames
    print("%-9s %4dx%-4d  %6.2f ms/frame  %7.1f fps  %6d bytes/frame" % (
        FORMAT_NAMES[fmt], w, h, avg / 1000, 1e6 / avg, size))
