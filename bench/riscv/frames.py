"""Writes the benchmark frame in every format, for both encoders:
frames.py PHOTO WIDTH HEIGHT OUTDIR.

The photograph is centre-cropped to the aspect ratio and Lanczos-resized, as
bench/run.sh does; then
  gray.raw     8-bit luma                      (both encoders)
  rgb888.raw   RGB888                          (both)
  rgb565.raw   RGB565 little-endian            (ours)
  rgb565x.rgb  those RGB565 pixels expanded to RGB888 the way our reader
               expands them (libjpeg-turbo has no RGB565 input)
  nv12.raw     NV12, full-range BT.601, chroma the mean of each 2x2 block (ours)
  nv12.yuv     the same samples as planar Y, U, V (libjpeg-turbo's raw input)
"""
import sys

from PIL import Image

photo, w, h, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
im = Image.open(photo).convert("RGB")
sw, sh = im.size
cw, ch = (sh * w // h, sh) if sw * h > sh * w else (sw, sw * h // w)
x0, y0 = (sw - cw) // 2, (sh - ch) // 2
rgb = im.crop((x0, y0, x0 + cw, y0 + ch)).resize((w, h), Image.LANCZOS).tobytes()


def clamp(v):
    return max(0, min(255, int(v + 0.5) if v >= 0 else 0))


def ycc(i):
    r, g, b = rgb[i], rgb[i + 1], rgb[i + 2]
    return (
        0.299 * r + 0.587 * g + 0.114 * b,
        128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
        128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
    )


def write(name, data):
    with open(f"{out}/{name}", "wb") as f:
        f.write(bytes(data))


pix = [ycc(i * 3) for i in range(w * h)]
luma = [clamp(p[0]) for p in pix]
write("gray.raw", luma)
write("rgb888.raw", rgb)

r565, x565 = bytearray(), bytearray()
for i in range(0, len(rgb), 3):
    r, g, b = rgb[i] >> 3, rgb[i + 1] >> 2, rgb[i + 2] >> 3
    r565 += ((r << 11) | (g << 5) | b).to_bytes(2, "little")
    x565 += bytes(((r << 3) | (r >> 2), (g << 2) | (g >> 4), (b << 3) | (b >> 2)))
write("rgb565.raw", r565)
write("rgb565x.rgb", x565)

u, v = [], []
for y in range(0, h, 2):
    for x in range(0, w, 2):
        quad = [pix[(y + dy) * w + x + dx] for dy in (0, 1) for dx in (0, 1)]
        u.append(clamp(sum(p[1] for p in quad) / 4))
        v.append(clamp(sum(p[2] for p in quad) / 4))
write("nv12.raw", luma + [c for pair in zip(u, v) for c in pair])
write("nv12.yuv", luma + u + v)
