# encode()/encode_into()/Frame: every pixel format, and every bad input.
import gc
import img_stream
from checks import raises, is_jpeg
from synthetic_camera import SyntheticCamera, FORMAT_NAMES

FORMATS = (
    img_stream.GRAYSCALE, img_stream.RGB565, img_stream.RGB565_SWAPPED, img_stream.RGB888,
    img_stream.BGR888, img_stream.RGBP888, img_stream.YUV422, img_stream.NV12,
)
BPP = {1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 6: 3, 7: 2, 8: 1.5}


def frame_bytes(w, h, fmt):
    return int(w * h * BPP[fmt])


def test_constants_are_distinct():
    codes = set(FORMATS) | {img_stream.JPEG}
    assert len(codes) == 9


def test_every_format_and_subsampling_encodes():
    for fmt in FORMATS:
        cam = SyntheticCamera(64, 48, fmt)
        img = cam.snapshot()
        for ss in (444, 422, 420):
            for engine in (0, 1, 2):
                j = img_stream.encode(img, quality=70, subsampling=ss, engine=engine)
                assert is_jpeg(j), (FORMAT_NAMES[fmt], ss, engine)


def test_frame_view_and_attributes():
    buf = bytearray(frame_bytes(322, 242, img_stream.NV12))
    f = img_stream.Frame(buf, 322, 242, img_stream.NV12)
    assert (f.width, f.height, f.format) == (322, 242, img_stream.NV12)
    assert is_jpeg(img_stream.encode(f))
    # A view with a stride larger than the row.
    buf = bytearray(100 * 10)
    f = img_stream.Frame(buf, 30, 10, img_stream.RGB888, stride=100)
    assert repr(f) == "<Frame 30x10 rgb888>", repr(f)
    assert is_jpeg(img_stream.encode(f, quality=90))


def test_jpeg_passes_through():
    j = img_stream.encode(img_stream.Frame(bytearray(16 * 16), 16, 16, img_stream.GRAYSCALE))
    assert img_stream.encode(j) is j
    assert img_stream.encode(bytearray(j)) == j
    out = bytearray(len(j))
    assert img_stream.encode_into(memoryview(j), out) == len(j) and out == j


def test_encode_into_fits_and_reports_size_needed():
    f = SyntheticCamera(64, 48, img_stream.RGB565).snapshot()
    ref = img_stream.encode(f, quality=80)
    out = bytearray(len(ref) + 10)
    n = img_stream.encode_into(f, out, quality=80)
    assert n == len(ref) and out[:n] == ref
    small = bytearray(100)
    # A distinct type (a ValueError) callers catch instead of reading the text.
    assert issubclass(img_stream.BufferTooSmall, ValueError)
    e = raises(img_stream.BufferTooSmall, img_stream.encode_into, f, small, quality=80, contains="need")
    assert str(len(ref)) in str(e), str(e)
    # A bad frame is a plain ValueError, not a too-small output buffer.
    try:
        img_stream.encode_into(img_stream.Frame(bytearray(64), 8, 8, 1), bytearray(0), quality=0)
    except img_stream.BufferTooSmall:
        raise AssertionError("bad quality reported as BufferTooSmall")
    except ValueError:
        pass
    # encode_into writes into a memoryview slice too.
    mv = memoryview(out)[5:]
    assert img_stream.encode_into(f, mv, quality=80) == len(ref)
    assert bytes(out[5:5 + n]) == ref


def test_encode_into_allocates_nothing():
    f = img_stream.Frame(bytearray(64 * 48 * 2), 64, 48, img_stream.YUV422)
    out = bytearray(20000)
    img_stream.encode_into(f, out)
    gc.collect()
    before = gc.mem_alloc()
    for _ in range(20):
        img_stream.encode_into(f, out)
    assert gc.mem_alloc() - before < 64, gc.mem_alloc() - before


def test_bad_sizes_raise_value_error():
    raises(ValueError, img_stream.Frame, bytearray(10), 4, 4, img_stream.RGB888, contains="need 48")
    raises(ValueError, img_stream.Frame, bytearray(100), 0, 4, img_stream.GRAYSCALE)
    raises(ValueError, img_stream.Frame, bytearray(100), 4, 70000, img_stream.GRAYSCALE)
    raises(ValueError, img_stream.Frame, bytearray(100), 3, 2, img_stream.NV12, contains="even")
    raises(ValueError, img_stream.Frame, bytearray(100), 4, 3, img_stream.NV12, contains="even")
    raises(ValueError, img_stream.Frame, bytearray(100), 3, 2, img_stream.YUV422, contains="even")
    raises(ValueError, img_stream.Frame, bytearray(100), 4, 2, img_stream.RGB888, stride=5)
    raises(ValueError, img_stream.Frame, bytearray(100), 4, 2, 42, contains="format")
    raises(ValueError, img_stream.Frame, bytearray(100), 4, 2, 0, contains="format")
    # Every range is Rust's (is_frame_from_parts): values C used to narrow first.
    raises(ValueError, img_stream.Frame, bytearray(100), 4, 2, -1, contains="format")
    raises(ValueError, img_stream.Frame, bytearray(100), 4, 2, 256 + 1, contains="format")
    raises(ValueError, img_stream.Frame, bytearray(100), -4, 2, img_stream.GRAYSCALE, contains="1..65535")
    raises(ValueError, img_stream.Frame, bytearray(100), 4, 2, img_stream.RGB888, stride=-1,
           contains="stride")


def test_bad_options_raise_value_error():
    f = img_stream.Frame(bytearray(64), 8, 8, img_stream.GRAYSCALE)
    raises(ValueError, img_stream.encode, f, quality=0)
    raises(ValueError, img_stream.encode, f, quality=101)
    raises(ValueError, img_stream.encode, f, subsampling=411)
    raises(ValueError, img_stream.encode_into, f, bytearray(10), quality=-5)
    # Rust owns the ranges: the message quotes its limits.
    raises(ValueError, img_stream.encode, f, quality=101, contains="1..100")
    # Wider than the ABI's int32: refused, never wrapped into a valid value.
    raises(ValueError, img_stream.encode, f, quality=2 ** 32 + 65)
    raises(ValueError, img_stream.encode, f, subsampling=2 ** 32 + 420)
    for engine in (-1, 3, 2 ** 32 + 1):
        raises(ValueError, img_stream.encode, f, engine=engine, contains="engine")
    for engine in (img_stream.ENGINE_AUTO, img_stream.ENGINE_JPEG_ENCODER, img_stream.ENGINE_FAST):
        assert is_jpeg(img_stream.encode(f, engine=engine))


def test_exported_limits_match_the_wire():
    # Independent values: docs/PROTOCOL.md and RFC 768 over IPv4.
    assert (img_stream.FRAME_HEADER_LEN, img_stream.CHUNK_HEADER_LEN) == (40, 32)
    assert (img_stream.UDP_MIN_MTU, img_stream.UDP_MAX_MTU) == (72, 65507)
    # The longest part head fits the limit, and one byte less is too small.
    longest = img_stream.mjpeg_head(2 ** 62, timestamp_us=2 ** 64 - 1)
    assert len(longest) <= img_stream.MJPEG_PART_HEAD_MAX, len(longest)
    into = bytearray(len(longest) - 1)
    raises(img_stream.BufferTooSmall, img_stream.mjpeg_head, 2 ** 62, timestamp_us=2 ** 64 - 1,
           into=into, contains="need")


def test_wrong_types_raise_type_error():
    raises(TypeError, img_stream.encode, 42)
    raises(TypeError, img_stream.encode, None)
    raises(TypeError, img_stream.encode, b"not a jpeg at all", contains="JPEG")
    raises(TypeError, img_stream.Frame, 12, 4, 4, img_stream.GRAYSCALE)
    f = img_stream.Frame(bytearray(64), 8, 8, img_stream.GRAYSCALE)
    raises(TypeError, img_stream.encode_into, f, b"read-only bytes")

    class NoFormat:
        def width(self):
            return 8

        def height(self):
            return 8
    raises(TypeError, img_stream.encode, NoFormat(), contains="format")


def test_shrunk_buffer_is_caught():
    buf = bytearray(64)
    f = img_stream.Frame(buf, 8, 8, img_stream.GRAYSCALE)
    buf[:] = b""  # the Frame's buffer shrinks under it
    raises(ValueError, img_stream.encode, f, contains="need 64")


def test_module_still_works_after_errors():
    f = img_stream.Frame(bytearray(64 * 64 * 3), 64, 64, img_stream.RGB888)
    for _ in range(3):
        raises(ValueError, img_stream.encode, f, quality=0)
        raises(TypeError, img_stream.encode, 3.5)
        assert is_jpeg(img_stream.encode(f))


def test_duck_typed_image_object():
    class Img:
        def __init__(self):
            self.buf = bytearray(32 * 16 * 2)

        def width(self):
            return 32

        def height(self):
            return 16

        def format(self):
            return img_stream.RGB565

        def bytearray(self):
            return self.buf
    assert is_jpeg(img_stream.encode(Img()))


def test_buffer_info_and_limit():
    img_stream.encode(SyntheticCamera(32, 32, img_stream.GRAYSCALE).snapshot())
    info = img_stream.buffer_info()
    assert info["capacity"] > 0 and info["limit"] >= info["capacity"], info
    f = SyntheticCamera(160, 120, img_stream.RGB888).snapshot()
    img_stream.set_buffer_limit(2000)
    try:
        raises(ValueError, img_stream.encode, f, quality=95, contains="limit")
        assert img_stream.buffer_info()["capacity"] <= 2000
    finally:
        img_stream.set_buffer_limit(8 * 1024 * 1024)
    assert is_jpeg(img_stream.encode(f, quality=95))
    raises(ValueError, img_stream.set_buffer_limit, -1)


def test_crc32_matches_zlib_check_value():
    assert img_stream.crc32(b"123456789") == 0xCBF43926
