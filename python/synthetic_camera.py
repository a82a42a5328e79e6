"""A synthetic camera for the unix port: a moving test pattern in any
img_stream pixel format, produced without per-frame pixel loops.

The pattern is built once, a little wider than the frame; each snapshot is a
zero-copy window into it, shifted a few pixels, plus a small block whose
brightness encodes the frame number. Works on MicroPython and CPython.

    cam = SyntheticCamera(640, 480, img_stream.NV12)
    img = cam.snapshot()        # has width(), height(), format(), bytearray()
"""

try:
    import img_stream
    GRAYSCALE, RGB565, RGB565_SWAPPED = img_stream.GRAYSCALE, img_stream.RGB565, img_stream.RGB565_SWAPPED
    RGB888, BGR888, RGBP888 = img_stream.RGB888, img_stream.BGR888, img_stream.RGBP888
    YUV422, NV12 = img_stream.YUV422, img_stream.NV12
except ImportError:  # CPython: same codes as the module
    GRAYSCALE, RGB565, RGB565_SWAPPED, RGB888, BGR888, RGBP888, YUV422, NV12 = 1, 2, 3, 4, 5, 6, 7, 8

FORMAT_NAMES = {
    GRAYSCALE: "GRAYSCALE", RGB565: "RGB565", RGB565_SWAPPED: "RGB565_SWAPPED",
    RGB888: "RGB888", BGR888: "BGR888", RGBP888: "RGBP888", YUV422: "YUV422", NV12: "NV12",
}

# Eight colour bars (R, G, B), like a broadcast test card.
_BARS = (
    (235, 235, 235), (235, 235, 16), (16, 235, 235), (16, 235, 16),
    (235, 16, 235), (235, 16, 16), (16, 16, 235), (40, 40, 40),
)

_PAD = 64  # how far the window can slide, in pixels


def _ycc(r, g, b):
    # Full-range BT.601 (JFIF), integer.
    y = (77 * r + 150 * g + 29 * b) >> 8
    cb = ((-43 * r - 85 * g + 128 * b) >> 8) + 128
    cr = ((128 * r - 107 * g - 21 * b) >> 8) + 128
    return y, max(0, min(255, cb)), max(0, min(255, cr))


def _colour_at(x, y, w, h):
    # Bars in the top two thirds, a grey ramp below: smooth and sharp edges.
    if y < (h * 2) // 3:
        r, g, b = _BARS[(x * 8 // w) % 8]
        # A diagonal sheen so the image is not flat inside each bar.
        s = ((x + y) % 64) - 32
        return (max(0, min(255, r + s)), max(0, min(255, g + s)), max(0, min(255, b + s)))
    v = (x * 255) // max(1, w - 1)
    return v, v, v


class ImageGeometry:
    """width(), height(), format() of an image whose geometry is fixed: the
    part of the duck-typed image interface shared by these snapshots and the
    emulated CanMV image.Image (python/image.py)."""

    def __init__(self, width, height, fmt):
        self._w, self._h, self._fmt = width, height, fmt

    def width(self):
        return self._w

    def height(self):
        return self._h

    def format(self):
        return self._fmt


class SyntheticImage(ImageGeometry):
    """One snapshot: the duck-typed image interface img_stream accepts."""

    def __init__(self, view, width, height, fmt, stride):
        super().__init__(width, height, fmt)
        self._view = view
        self.stride = stride

    def bytearray(self):
        return self._view

    def frame(self):
        """The same pixels as an img_stream.Frame (keeps the stride)."""
        return img_stream.Frame(self._view, self._w, self._h, self._fmt, stride=self.stride)


class SyntheticCamera:
    """A camera whose snapshots slide across a precomputed test pattern."""

    def __init__(self, width, height, fmt):
        if fmt in (YUV422, NV12) and width % 2:
            raise ValueError("width must be even for this format")
        if fmt == NV12 and height % 2:
            raise ValueError("height must be even for NV12")
        self.width = width
        self.height = height
        self.format = fmt
        self.count = 0
        self._bw = width + _PAD
        self._build()

    def _row_pixels(self, y):
        w, h = self._bw, self.height
        return [_colour_at(x, y, w, h) for x in range(w)]

    def _build(self):
        fmt, w, h = self.format, self._bw, self.height
        # Rows repeat in bands, so build a few distinct rows and copy them.
        band = 8
        rows = {}
        for y in range(0, h, band):
            rows[y] = self._row_pixels(y)
        bpp = {GRAYSCALE: 1, RGB565: 2, RGB565_SWAPPED: 2, RGB888: 3, BGR888: 3,
               RGBP888: 1, YUV422: 2, NV12: 1}[fmt]
        self.bpp = bpp
        self.stride = w * bpp
        planes = 3 if fmt == RGBP888 else 1
        total_rows = h * planes + (h // 2 if fmt == NV12 else 0)
        buf = bytearray(self.stride * total_rows)
        encoded = {}
        for y0, px in rows.items():
            encoded[y0] = self._encode_row(px, fmt)
        for y in range(h):
            parts = encoded[y - y % band]
            buf[y * self.stride:(y + 1) * self.stride] = parts[0]
            if fmt == RGBP888:
                for p in (1, 2):
                    off = (p * h + y) * self.stride
                    buf[off:off + self.stride] = parts[p]
            if fmt == NV12 and y % 2 == 0:
                off = (h + y // 2) * self.stride
                buf[off:off + self.stride] = parts[1]
        self._buf = buf
        self._mv = memoryview(buf)

    def _encode_row(self, px, fmt):
        if fmt == GRAYSCALE:
            return (bytes(_ycc(r, g, b)[0] for r, g, b in px),)
        if fmt in (RGB888, BGR888):
            out = bytearray()
            for r, g, b in px:
                out.extend(bytes((r, g, b)) if fmt == RGB888 else bytes((b, g, r)))
            return (bytes(out),)
        if fmt == RGBP888:
            return (bytes(p[0] for p in px), bytes(p[1] for p in px), bytes(p[2] for p in px))
        if fmt in (RGB565, RGB565_SWAPPED):
            out = bytearray()
            for r, g, b in px:
                v = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
                out.extend(bytes((v & 255, v >> 8)) if fmt == RGB565 else bytes((v >> 8, v & 255)))
            return (bytes(out),)
        ycc = [_ycc(r, g, b) for r, g, b in px]
        if fmt == YUV422:
            out = bytearray()
            for i in range(0, len(ycc), 2):
                y0, u, v = ycc[i]
                y1 = ycc[i + 1][0]
                out.extend(bytes((y0, u, y1, v)))
            return (bytes(out),)
        # NV12: a Y row and the interleaved UV row shared by two lines.
        yrow = bytes(c[0] for c in ycc)
        uv = bytearray()
        for i in range(0, len(ycc), 2):
            uv.extend(bytes((ycc[i][1], ycc[i][2])))
        return (yrow, bytes(uv))

    def snapshot(self):
        """The next frame: the window slides 2 pixels per frame."""
        shift = (self.count * 2) % _PAD
        self.count += 1
        off = shift * self.bpp
        if self.format == YUV422:
            off = (shift & ~1) * 2
        view = self._mv[off:]
        return SyntheticImage(view, self.width, self.height, self.format, self.stride)
