# img_stream's CanMV adapter (IMG_STREAM_CANMV) on the unix port, against the
# model of the firmware's `image` module (canmv_stub/py_image_model.c).
# Run by model_test.sh, which builds the port that has both modules.
import image
import img_stream
from checks import raises, is_jpeg
from synthetic_camera import SyntheticCamera

W, H = 64, 48

# image.Image format -> img_stream's code for the same memory layout.
SAME_LAYOUT = (
    (image.GRAYSCALE, img_stream.GRAYSCALE),
    (image.RGB565, img_stream.RGB565),
    (image.RGB888, img_stream.RGB888),
    (image.BGR888, img_stream.BGR888),
    (image.RGBP888, img_stream.RGBP888),
    (image.YUV420, img_stream.NV12),
)


def packed(fmt):
    """The synthetic pattern as a packed frame (rows without padding), as
    the sensor delivers them."""
    cam = SyntheticCamera(W, H, fmt)
    src = cam.snapshot().bytearray()
    rows = H * (3 if fmt == img_stream.RGBP888 else 1) + (H // 2 if fmt == img_stream.NV12 else 0)
    row = W * cam.bpp
    out = bytearray()
    for r in range(rows):
        out += src[r * cam.stride:r * cam.stride + row]
    return out


def test_image_is_a_function_and_its_type_is_hidden():
    img = image.Image(W, H, image.GRAYSCALE, data=bytearray(W * H))
    assert type(img) is not image.Image
    assert type(img).__name__ == "Image"


def test_sensor_style_frames_with_size_zero_encode_like_frames():
    n = 0
    for ifmt, fmt in SAME_LAYOUT:
        buf = packed(fmt)
        img = image.Image(W, H, ifmt, alloc=image.ALLOC_REF, data=buf)
        assert img.format() == ifmt and img.size() == len(buf)
        for ss in (444, 420):
            a = img_stream.encode(img, quality=70, subsampling=ss)
            b = img_stream.encode(img_stream.Frame(buf, W, H, fmt), quality=70, subsampling=ss)
            assert is_jpeg(a) and a == b, (hex(ifmt), ss)
            n += 1
    assert n == 2 * len(SAME_LAYOUT)


def test_yuv420_reads_uv_right_after_y():
    # A grey Y plane with a strongly coloured UV plane: reading the frame as
    # anything but NV12 of exactly w*h*3/2 bytes gives a different JPEG.
    buf = bytearray(b"\x80" * (W * H)) + bytearray(b"\x10\xf0" * (W * H // 4))
    img = image.Image(W, H, image.YUV420, data=buf)
    grey = bytearray(b"\x80" * (W * H * 3 // 2))
    assert img_stream.encode(img) == img_stream.encode(img_stream.Frame(buf, W, H, img_stream.NV12))
    assert img_stream.encode(img) != img_stream.encode(img_stream.Frame(grey, W, H, img_stream.NV12))


def test_jpeg_image_passes_through():
    jpeg = img_stream.encode(img_stream.Frame(packed(img_stream.RGB888), W, H, img_stream.RGB888))
    img = image.Image(W, H, image.JPEG, data=jpeg)
    assert img.size() == len(jpeg)
    assert img_stream.encode(img) == jpeg


def test_wrong_objects_raise_type_error():
    raises(TypeError, img_stream.encode, 42)
    raises(TypeError, img_stream.encode, object())

    class Image:  # same type name as the firmware's, nothing else
        pass
    raises(TypeError, img_stream.encode, Image())


def test_a_python_class_called_image_is_duck_typed():
    buf = packed(img_stream.NV12)

    class Image:
        def width(self):
            return W

        def height(self):
            return H

        def format(self):
            return image.YUV420  # the board's value, not img_stream's

        def bytearray(self):
            return buf
    want = img_stream.encode(img_stream.Frame(buf, W, H, img_stream.NV12))
    assert img_stream.encode(Image()) == want


def test_formats_img_stream_cannot_read_are_refused():
    for ifmt, n in ((image.YUV422, W * H * 2), (image.BAYER, W * H), (image.ARGB8888, W * H * 4),
                    (image.YVU420, W * H * 3 // 2)):
        img = image.Image(W, H, ifmt, data=bytearray(n))
        raises(ValueError, img_stream.encode, img, contains="not supported")


def test_short_image_is_refused_by_the_model():
    raises(ValueError, image.Image, W, H, image.YUV420, data=bytearray(W * H))
