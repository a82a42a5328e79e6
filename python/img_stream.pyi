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


Image = Union["Frame", ImageLike, Buffer, "Encoded"]
# Wherever a quality goes: an int 1..100 or a RateControl choosing per frame.
Quality = Union[int, "RateControl"]


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


class RateControl:
    """Picks each frame's quality from the sizes of the last frames; pass it
    as `quality=rc` to any encoding call. Aims at `target_bytes` per frame
    and/or keeps every second under `max_kbps` (a token bucket at 3/4 of the
    cap, 1/5 s deep: any 1 s window carries at most 95 % of it); `fps` is the
    expected frame rate (None: measured). A frame more than 20 % off its
    budget (a scene cut) is encoded once more; never more than once, and not
    in a steady scene. No allocation per frame. ValueError for no target,
    negative numbers, fps <= 0 or a quality range outside 1..100."""
    quality: int      # quality of the last frame (before any: the first guess)
    last_bytes: int   # JPEG bytes of the last frame
    frames: int       # frames encoded under it
    retries: int      # frames that took the one extra encode
    over_cap: int     # frames over the max_kbps bucket even at min_quality
    budget: int       # the next frame's byte budget
    def __init__(self, *, target_bytes: Optional[int] = None, max_kbps: Optional[int] = None,
                 fps: Optional[float] = None, min_quality: int = 20, max_quality: int = 90) -> None: ...


class SkipSame:
    """Skips frames whose pixels equal the last frame sent (a signature of
    about 16x16 cells of sampled pixels, each byte of a pixel apart; a cell
    mean moving by more than `threshold` is a change, so sensor noise is
    not, and a changed region about width/128 pixels across is); pass it as
    `skip_same=` to encode/encode_into/Encoded.encode/send_tcp/send_udp/
    send_mjpeg/publish. A skipped call returns 0 (None for encode, False for
    Encoded.encode), encodes nothing and takes no sequence number; at least
    every `keepalive_s` a frame goes out anyway. JPEG input is always sent.
    A send that fails makes the next frame go out."""
    sent: int        # frames let through (keep-alives included)
    skipped: int     # frames skipped as unchanged
    keepalives: int  # unchanged frames sent because keepalive_s had passed
    def __init__(self, *, keepalive_s: float = 2, threshold: int = 2) -> None: ...


class Encoded:
    """One frame's JPEG, encoded once and held in the module's buffer, that
    every transport (send_tcp, send_udp, publish, send_mjpeg, encode_into,
    MjpegServer.push) takes as is: no copy into the buffer, no allocation per
    frame. Valid until the next call that uses the buffer for another frame
    (encoding or sending anything else, chunked publish); after that any use
    raises ValueError instead of sending other bytes. Make one and reuse it."""
    width: int
    height: int
    valid: bool   # the buffer still holds this JPEG
    def __init__(self) -> None: ...
    def encode(self, img: Image, *, quality: Quality = 65, subsampling: int = 420, engine: int = 0,
               skip_same: Optional[SkipSame] = None) -> bool:
        """Encodes `img` (JPEG input is copied in once); False when
        `skip_same` skipped it (the previous JPEG stays)."""
    def tobytes(self) -> bytes:
        """A copy of the JPEG (allocates)."""
    def __len__(self) -> int: ...


def encode(img: Image, *, quality: Quality = 65, subsampling: int = 420, engine: int = 0,
           skip_same: Optional[SkipSame] = None) -> Optional[bytes]:
    """Encodes a raw frame as baseline JFIF. JPEG input is returned unchanged.
    quality 1..100 or a RateControl; subsampling 444, 422 or 420 (ignored for
    GRAYSCALE). None when `skip_same` skipped the frame."""


def encode_into(img: Image, buf: Union[bytearray, memoryview], *, quality: Quality = 65,
                subsampling: int = 420, engine: int = 0, skip_same: Optional[SkipSame] = None) -> int:
    """Encodes into the caller's buffer without allocating; returns the JPEG's
    length (0: skipped by `skip_same`). BufferTooSmall (a ValueError, stating the size needed) if `buf` is
    too small."""


def send_tcp(sock: Any, img: Image, *, quality: Quality = 65, seq: Optional[int] = None,
             timestamp_us: Optional[int] = None, subsampling: int = 420, engine: int = 0,
             skip_same: Optional[SkipSame] = None) -> int:
    """Writes one protocol-v1 frame (header + JPEG) to a stream (a connected
    socket). Returns bytes written. Handles short writes, honours the socket's
    timeout, raises OSError with the real errno. `seq` defaults to the module's
    counter, `timestamp_us` to a monotonic microsecond clock (an int
    0..2**64-1 when given; ValueError otherwise, as for every timestamp_us)."""


class TcpSender:
    """Latest-frame-wins sending over a TCP socket: `send` never waits for the
    link. The socket is made non-blocking; one frame (header + JPEG) is in
    flight at a time in the sender's own buffer (capped by set_buffer_limit);
    frames never interleave, and a frame cut short (peer gone) is never
    followed by another, so a receiver never takes a partial frame as
    complete. `sndbuf` (bytes, default 8192; 0 leaves the socket alone) is
    set as SO_SNDBUF where the stack accepts it, bounding what the kernel
    queues unsent (Linux otherwise grows it to megabytes). The frame in
    flight moves only when `send`/`pump` is called, each call adding about
    what the send buffer has room for: the ceiling is roughly sndbuf x calls
    per second, so raise sndbuf on fast links."""

    skipped: int  # images not taken because a frame was still going out

    def __init__(self, sock: Any, *, sndbuf: int = 8192) -> None: ...

    def send(self, img: Image, *, quality: Quality = 65, subsampling: int = 420, engine: int = 0,
             seq: Optional[int] = None, timestamp_us: Optional[int] = None,
             skip_same: Optional[SkipSame] = None) -> bool:
        """Pushes more of the frame in flight; if it is out, encodes `img` and
        starts sending it (True). If it is still going out, `img` is not
        encoded and is counted in `skipped` (False). Skipped images take no
        sequence number. `quality` is an int or a RateControl (it sees only
        the frames encoded); with `skip_same` (a SkipSame) an unchanged image
        is not encoded either (False, counted by the SkipSame). Bad options or images raise ValueError/TypeError
        before anything is written; socket failures raise OSError with the
        errno, and after a failure mid-frame every call raises
        OSError(ENOTCONN)."""

    def pump(self) -> int:
        """Pushes the frame in flight without taking a new image; returns the
        bytes still unsent (0: idle). For the end of a stream: poll the socket
        for POLLOUT and pump until 0."""

    def stats(self) -> dict:
        """`sent` (frames written whole), `skipped`, `bytes` (written, headers
        included), `in_flight` (bytes of the current frame not yet written),
        `sndbuf` (the SO_SNDBUF set, or None)."""

    def close(self) -> None:
        """Frees the sender's buffer (the socket stays yours); further calls
        raise ValueError. Also done when the sender is garbage-collected."""


def publish(client: Any, img: Image, *, topic: Optional[Union[str, bytes]] = None, quality: Quality = 65,
            qos: int = 0, retain: bool = False, chunked: bool = False, chunk_size: Optional[int] = None,
            subsampling: int = 420, engine: int = 0, seq: Optional[int] = None,
            timestamp_us: Optional[int] = None, puback_timeout: Optional[float] = 5,
            skip_same: Optional[SkipSame] = None) -> int:
    """Publishes one frame through your MQTT client (umqtt.simple/robust or
    anything with publish(topic, msg, retain, qos)). Raw mode: the payload is
    exactly the JPEG (Home Assistant/Frigate style). chunked=True: protocol-v1
    chunks of at most chunk_size bytes (default 16384). Topic defaults to
    b"img_stream/<client_id>/frame". Returns payload bytes sent. With umqtt's
    own client the PUBLISH packets go straight to client.sock (no Python
    object per frame; QoS 1 messages in a window of 8 on Linux, packet ids from
    client.pid, umqtt.robust's reconnect-and-retry of what was not
    acknowledged); any other client's publish() is called per message. At QoS
    1 a PUBACK missing for puback_timeout seconds raises OSError(ETIMEDOUT);
    afterwards client.sock blocks without a timeout, as umqtt leaves it.
    ValueError for a raw payload too large (use chunked=True), a chunk_size
    too small for the headers, a topic that is not 1..65535 bytes of UTF-8,
    or qos not 0/1; TypeError for an object without publish(). docs/MQTT.md."""


def send_udp(sock: Any, addr: Any, img: Image, *, quality: Quality = 65, mtu: int = 1400,
             max_rate: Optional[int] = None, gap_us: Optional[int] = None, seq: Optional[int] = None,
             timestamp_us: Optional[int] = None, subsampling: int = 420, engine: int = 0,
             skip_same: Optional[SkipSame] = None) -> int:
    """Sends one protocol-v1 frame as chunk datagrams of at most `mtu` bytes
    (headers included) to `addr` (None: `sock` is a connected UDP socket).
    Returns the number of datagrams. No allocation per datagram; optional
    pacing (`max_rate` bytes/s, `gap_us` between datagrams). ValueError for an
    mtu outside UDP_MIN_MTU..UDP_MAX_MTU; OSError with errno if a send fails.
    docs/UDP.md."""


def send_mjpeg(sock: Any, img: Image, *, quality: Quality = 65, subsampling: int = 420, engine: int = 0,
               boundary: Union[str, bytes] = "img_stream", timestamp_us: Optional[int] = None,
               skip_same: Optional[SkipSame] = None) -> int:
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
