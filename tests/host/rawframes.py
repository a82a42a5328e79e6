"""Turning photographs into raw camera frames (every img_stream pixel format)
and computing PSNR, for the quality tests. CPython + Pillow + numpy."""
import pathlib

import numpy as np
from PIL import Image

PHOTOS = pathlib.Path(__file__).resolve().parents[1] / "data" / "photos"

GRAYSCALE, RGB565, RGB565_SWAPPED, RGB888, BGR888, RGBP888, YUV422, NV12 = range(1, 9)
NAMES = {GRAYSCALE: "GRAYSCALE", RGB565: "RGB565", RGB565_SWAPPED: "RGB565_SWAPPED",
         RGB888: "RGB888", BGR888: "BGR888", RGBP888: "RGBP888", YUV422: "YUV422", NV12: "NV12"}


def photo(name, width, height):
    """A natural photograph resized to width x height, as an RGB array."""
    im = Image.open(PHOTOS / f"{name}.png").convert("RGB").resize((width, height), Image.LANCZOS)
    return np.asarray(im, dtype=np.uint8)


def _ycbcr(rgb):
    return np.asarray(Image.fromarray(rgb, "RGB").convert("YCbCr"), dtype=np.uint8)


def make_frame(rgb, fmt):
    """Returns (raw bytes, reference image, truth array) for format `fmt`.

    The reference image is what libjpeg-turbo (through Pillow) is given: the
    same pixels, in the same colour space. `truth` is what the decoded output
    is compared against (RGB, or L for grayscale)."""
    h, w, _ = rgb.shape
    if fmt == GRAYSCALE:
        y = _ycbcr(rgb)[:, :, 0]
        return y.tobytes(), Image.fromarray(y, "L"), y
    if fmt in (RGB565, RGB565_SWAPPED):
        r = rgb[:, :, 0].astype(np.uint16) >> 3
        g = rgb[:, :, 1].astype(np.uint16) >> 2
        b = rgb[:, :, 2].astype(np.uint16) >> 3
        word = (r << 11) | (g << 5) | b
        raw = word.astype("<u2" if fmt == RGB565 else ">u2").tobytes()
        # What the 5-6-5 samples mean in 8 bits (top bits replicated).
        r8 = (r << 3) | (r >> 2)
        g8 = (g << 2) | (g >> 4)
        b8 = (b << 3) | (b >> 2)
        truth = np.stack([r8, g8, b8], axis=2).astype(np.uint8)
        return raw, Image.fromarray(truth, "RGB"), truth
    if fmt == RGB888:
        return rgb.tobytes(), Image.fromarray(rgb, "RGB"), rgb
    if fmt == BGR888:
        return rgb[:, :, ::-1].tobytes(), Image.fromarray(rgb, "RGB"), rgb
    if fmt == RGBP888:
        return np.transpose(rgb, (2, 0, 1)).tobytes(), Image.fromarray(rgb, "RGB"), rgb
    ycc = _ycbcr(rgb).astype(np.int32)
    if fmt == YUV422:
        cb = (ycc[:, 0::2, 1] + ycc[:, 1::2, 1] + 1) // 2
        cr = (ycc[:, 0::2, 2] + ycc[:, 1::2, 2] + 1) // 2
        packed = np.empty((h, w * 2), np.uint8)
        packed[:, 0::4] = ycc[:, 0::2, 0]
        packed[:, 1::4] = cb
        packed[:, 2::4] = ycc[:, 1::2, 0]
        packed[:, 3::4] = cr
        full = np.stack([ycc[:, :, 0], np.repeat(cb, 2, axis=1), np.repeat(cr, 2, axis=1)], axis=2)
        raw = packed.tobytes()
    elif fmt == NV12:
        def sub(c):
            return (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2] + 2) // 4
        cb, cr = sub(ycc[:, :, 1]), sub(ycc[:, :, 2])
        uv = np.empty((h // 2, w), np.uint8)
        uv[:, 0::2] = cb
        uv[:, 1::2] = cr
        raw = ycc[:, :, 0].astype(np.uint8).tobytes() + uv.tobytes()
        up = lambda c: np.repeat(np.repeat(c, 2, axis=0), 2, axis=1)  # noqa: E731
        full = np.stack([ycc[:, :, 0], up(cb), up(cr)], axis=2)
    else:
        raise ValueError(fmt)
    ref = Image.fromarray(full.astype(np.uint8), "YCbCr")
    truth = np.asarray(ref.convert("RGB"), dtype=np.uint8)
    return raw, ref, truth


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def decode(jpeg_bytes, gray):
    import io
    im = Image.open(io.BytesIO(jpeg_bytes))
    im.load()
    return np.asarray(im.convert("L" if gray else "RGB"), dtype=np.uint8), im
