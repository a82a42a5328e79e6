"""Type stub for the `img_stream` MicroPython native module.

Send camera frames over sockets, MQTT, HTTP and UDP: JPEG encoding of raw
frames, a documented framing (docs/PROTOCOL.md) and the fiddly I/O, in
native code with bounded, reused memory.
"""
from typing import Any, Optional, Protocol, Union

# Pixel formats (also the wire codes; docs/PROTOCOL.md).
GRAYSCALE: int       # 8-bit luma
RGB565: int          # 16-bit little-endian words, R in the top 5 bits (CanMV/OpenMV)
RGB565_SWAPPED: int  # RGB565 with the bytes of each word swapped
RGB888: int          # R, G, B bytes
BGR888: int          # B, G, R bytes
RGBP888: int         # three full planes R, G, B (CanMV's AI format)
YUV422: int          # packed YUYV, full-range BT.601
NV12: int            # Y plane + interleaved UV at half resolution (CanMV YUV420SP)
JPEG: int            # already encoded

# Encoder engines for the `engine` keyword.
ENGINE_AUTO: int          # the default engine (today ENGINE_FAST, the faster one for every format)
ENGINE_JPEG_ENCODER: int  # the jpeg-encoder crate through an ImageBuffer adapter
ENGINE_FAST: int          # img_stream's own allocation-free encoder

# Limits, from the Rust core (for callers that lay out their own buffers).
FRAME_HEADER_LEN: int     # bytes of a protocol-v1 frame header (40)
CHUNK_HEADER_LEN: int     # bytes of a protocol-v1 chunk header (32)
MJPEG_PART_HEAD_MAX: int  # longest part head mjpeg_head(length) returns (102)
UDP_MIN_MTU: int          # smallest send_udp mtu: chunk + frame header (72)
UDP_MAX_MTU: int          # largest send_udp mtu: the largest IPv4 UDP payload (65507)


class BufferTooSmall(ValueError):
    """The caller's output buffer cannot hold the result (encode_into's `buf`,
    mjpeg_head's `into`); the message states the bytes needed. Catch it by type,
    not by its text."""

Buffer = Union[bytes, bytearray, memoryview]


class ImageLike(Protocol):
    """What img_stream accepts besides Frame and JPEG bytes (CanMV's image.Image
    fits): width(), height(), format() returning one of the constants above,
    and the buffer protocol or a bytearray() method giving the pixels.
    An optional `stride` attribute/method gives bytes per row."""
    def width(self) -> int: ...
    def height(self) -> int: ...
    def format(self) -> int: ...


Image = Union["Frame", ImageLike, Buffer]


class Frame:
    """A zero-copy view of a raw frame in any buffer object.

    Raises ValueError if the buffer is too small for the shape (the message
    states the bytes needed), for zero/odd sizes the format cannot take, or
    for an unknown format; TypeError if `buf` is not a buffer."""
    width: int
    height: int
    format: int
    stride: int
    buffer: Buffer
    def __init__(self, buf: Buffer, width: int, height: int, format: int, *, stride: int = 0) -> None: ...


def encode(img: Image, *, quality: int = 65, subsampling: int = 420, engine: int = 0) -> bytes:
    """Encodes a raw frame as baseline JFIF. JPEG input is returned unchanged.
    quality 1..100; subsampling 444, 422 or 420 (ignored for GRAYSCALE)."""


def encode_into(img: Image, buf: Union[bytearray, memoryview], *, quality: int = 65,
                subsampling: int = 420, engine: int = 0) -> int:
    """Encodes into the caller's buffer without allocating; returns the JPEG's
    length. BufferTooSmall (a ValueError, stating the size needed) if `buf` is
    too small."""


def send_tcp(sock: Any, img: Image, *, quality: int = 65, seq: Optional[int] = None,
             timestamp_us: Optional[int] = None, subsampling: int = 420, engine: int = 0) -> int:
    """Writes one protocol-v1 frame (header + JPEG) to a stream (a connected
    socket). Returns bytes written. Handles short writes, honours the socket's
    timeout, raises OSError with the real errno. `seq` defaults to the module's
    counter, `timestamp_us` to a monotonic microsecond clock (an int
    0..2**64-1 when given; ValueError otherwise, as for every timestamp_us)."""


def publish(client: Any, img: Image, *, topic: Optional[Union[str, bytes]] = None, quality: int = 65,
            qos: int = 0, retain: bool = False, chunked: bool = False, chunk_size: Optional[int] = None,
            subsampling: int = 420, engine: int = 0, seq: Optional[int] = None,
            timestamp_us: Optional[int] = None, puback_timeout: Optional[float] = 5) -> int:
    """Publishes one frame through your MQTT client (umqtt.simple/robust or
    anything with publish(topic, msg, retain, qos)). Raw mode: the payload is
    exactly the JPEG (Home Assistant/Frigate style). chunked=True: protocol-v1
    chunks of at most chunk_size bytes (default 16384). Topic defaults to
    b"img_stream/<client_id>/frame". Returns payload bytes sent. With umqtt's
    own client the PUBLISH packets go straight to client.sock (no Python
    object per frame; QoS 1 messages in a window of 8 on Linux, packet ids from
    client.pid, umqtt.robust's reconnect-and-retry of what was not
    acknowledged); any other client's publish() is called per message. At QoS
    1 a PUBACK missing for puback_timeout seconds raises OSError(ETIMEDOUT).
    ValueError for a raw payload too large (use chunked=True), a chunk_size
    too small for the headers, a topic that is not 1..65535 bytes of UTF-8,
    or qos not 0/1; TypeError for an object without publish(). docs/MQTT.md."""


def send_udp(sock: Any, addr: Any, img: Image, *, quality: int = 65, mtu: int = 1400,
             max_rate: Optional[int] = None, gap_us: Optional[int] = None, seq: Optional[int] = None,
             timestamp_us: Optional[int] = None, subsampling: int = 420, engine: int = 0) -> int:
    """Sends one protocol-v1 frame as chunk datagrams of at most `mtu` bytes
    (headers included) to `addr` (None: `sock` is a connected UDP socket).
    Returns the number of datagrams. No allocation per datagram; optional
    pacing (`max_rate` bytes/s, `gap_us` between datagrams). ValueError for an
    mtu outside UDP_MIN_MTU..UDP_MAX_MTU; OSError with errno if a send fails.
    docs/UDP.md."""


def send_mjpeg(sock: Any, img: Image, *, quality: int = 65, subsampling: int = 420, engine: int = 0,
               boundary: Union[str, bytes] = "img_stream", timestamp_us: Optional[int] = None) -> int:
    """Writes one MJPEG part (boundary line, Content-Type, Content-Length,
    X-Timestamp, the JPEG, and the next boundary line so browsers paint at
    once) to a blocking socket; encodes once, allocates nothing. Returns bytes
    written; OSError with errno on failure (EAGAIN mid-part on a full
    non-blocking socket: use img_stream_http.MjpegServer for those)."""


def mjpeg_head(length: Optional[int] = None, *, boundary: Union[str, bytes] = "img_stream",
               timestamp_us: Optional[int] = None, allow_origin: Optional[Union[str, bytes]] = "*",
               into: Optional[Union[bytearray, memoryview]] = None) -> Union[bytes, int]:
    """Without `length`: the HTTP response head of an MJPEG stream
    (multipart/x-mixed-replace, no-cache, optional Access-Control-Allow-Origin).
    With `length`: the part head for a JPEG of that many bytes (at most
    MJPEG_PART_HEAD_MAX bytes). With `into`: writes the head at the end of that
    buffer and returns its length; BufferTooSmall if it does not fit."""


def buffer_info() -> dict:
    """The reusable encode buffer: {'capacity', 'limit', 'encodes', 'grows'}."""


def set_buffer_limit(n: int) -> None:
    """Caps the reusable encode buffer at n bytes (default 8 MiB). A frame that
    needs more raises ValueError and nothing is sent."""


def release_buffer() -> None:
    """Frees the encode buffer now; it grows again on the next frame."""


def set_camera_id(n: int) -> None:
    """Sets the camera id (0..65535) carried in every frame header."""


def crc32(data: Buffer) -> int:
    """CRC-32 as used on the wire (zlib's)."""
