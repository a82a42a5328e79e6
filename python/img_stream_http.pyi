"""Type stub for `img_stream_http` (python/img_stream_http.py): the board as an
MJPEG web camera, driven from the camera loop. docs/MJPEG.md has the details."""
from typing import Any, Optional, Union

from img_stream import Image, RateControl, SkipSame


class MjpegServer:
    """Serves `/` (a page), `/stream` (MJPEG), `/snapshot` (one JPEG),
    `/stats` (JSON), `/metrics` (Prometheus text format 0.0.4) and
    `/control?quality=&fps=&idle_fps=` (changes those settings, 400 on a bad
    value, 403 to another site's page) to many clients without threads: call
    `push(img)` after each snapshot and `poll()` when there is no new frame.

    While no viewer is on `/stream`, `push()` encodes at most `idle_fps`
    frames a second (0: none); a `/snapshot` that finds no current frame
    waits for the next `push()` (at most `request_timeout_ms`, then 503).

    `max_clients` caps open streams; `max_pending` caps connections still
    sending their request (the oldest is closed first), which must finish
    within `request_timeout_ms`. `auth="user:password"` (HTTP Basic) and/or
    `token` (`?token=` or `Authorization: Bearer`; A-Z a-z 0-9 - . _ ~) guard
    every path with a 401; without TLS both are readable on the network.
    `allow_origin=None`: `*` on an open server, no CORS header with auth;
    `"*"` with auth raises ValueError. `quality` may be an
    `img_stream.RateControl`; `skip_same=True` (or an `img_stream.SkipSame`)
    neither encodes nor serves a frame equal to the last part, but sends one
    every `keepalive_s`; /stats counts them as `frames_unchanged`."""

    quality: Union[int, RateControl]
    skip_same: Optional[SkipSame]
    subsampling: int
    fps_limit: Optional[int]
    idle_fps: int
    max_clients: int
    max_pending: int
    stall_timeout_ms: int
    request_timeout_ms: int

    def __init__(self, port: int = 8080, *, host: str = "0.0.0.0", max_clients: int = 4,
                 quality: Union[int, RateControl] = 65, fps_limit: Optional[int] = None, subsampling: int = 420,
                 boundary: str = "img_stream", allow_origin: Optional[str] = None,
                 stall_timeout_ms: int = 10000, request_timeout_ms: int = 5000,
                 max_pending: int = 8, auth: Optional[str] = None,
                 token: Optional[str] = None, idle_fps: int = 0,
                 skip_same: Union[bool, SkipSame] = False, keepalive_s: float = 2) -> None: ...

    def push(self, img: Image) -> bool:
        """Encodes `img` once for every client and serves them (a JPEG or an
        `img_stream.Encoded` is copied into a part buffer, not re-encoded);
        False when it was not encoded (`fps_limit`, nobody watching, or
        `skip_same` found the scene unchanged). Never blocks."""

    def poll(self, timeout_ms: int = 0) -> None:
        """Serves clients without a new frame, waiting up to `timeout_ms`."""

    def stats(self) -> dict[str, Any]:
        """What /stats serves, with every viewer's `addr`."""

    def close(self) -> None:
        """Closes every connection and the listening socket."""
