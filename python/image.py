# Emulation of CanMV's `image` module for the unix port: the pixel-format
# constants image.Image.format() returns on the board (imlib's pixfmt words,
# Canaan's canmv_k230 port/omv/imlib/imlib.h at 738f17f; img_stream's C
# adapter accepts the same words, checked against that header at compile
# time), and the images the emulated media.sensor hands out. Never frozen
# into firmware: the board has the real module.
from synthetic_camera import ImageGeometry

GRAYSCALE = 0x08020001
RGB565 = 0x0C030002
RGB888 = 0x0C090003
BGR888 = 0x0C090103
RGBP888 = 0x0C090203
YUV420 = 0x1C0A0023
JPEG = 0x06060000

# Bytes per pixel, as imlib's image_size() counts them (YUV420: 3/2).
_SIZE = {GRAYSCALE: (1, 1), RGB565: (2, 1), RGB888: (3, 1), BGR888: (3, 1), RGBP888: (3, 1),
         YUV420: (3, 2)}


def image_size(w, h, fmt):
    num, den = _SIZE[fmt]
    return w * h * num // den


class Image(ImageGeometry):
    """A packed frame in a video buffer, like sensor.snapshot()'s image:
    width(), height(), format(), size(), bytearray() (a zero-copy view).
    The buffer goes back to the sensor at the next snapshot() of its
    channel or at stop(); after that every access raises OSError, where the
    board would read an unmapped (or reused) buffer."""

    def __init__(self, w, h, fmt, data):
        super().__init__(w, h, fmt)
        self._data = data

    def _live(self):
        if self._data is None:
            raise OSError("image released: its buffer went back to the sensor (take a new snapshot)")
        return self._data

    def size(self):
        return len(self._live())

    def bytearray(self):
        return self._live()

    def _release(self):
        self._data = None
