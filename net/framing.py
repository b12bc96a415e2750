"""The 5-byte frame header and a decoder that turns any byte stream into whole frames.

Pure: no sockets, no JSON. The decoder follows h11/wsproto: bytes go in with ``feed``,
``next_frame`` hands back one whole frame or ``None`` ("need more data" is an ordinary
answer, not an exception), and the declared length is checked the moment the five header
bytes are in, before any of the body is waited for.

    offset  size  field
    0       1     kind    0x4A 'J' = JSON body, 0x42 'B' = binary data
    1       4     length  unsigned big-endian, number of body bytes that follow
    5       N     body
"""
from __future__ import annotations

import struct
from typing import NamedTuple, Optional

KIND_JSON = 0x4A  # 'J'
KIND_BINARY = 0x42  # 'B'

HEADER = struct.Struct(">BI")
HEADER_BYTES = HEADER.size  # 5

# docs/PROTOCOL.md §2. A client's JSON request is small (a chat line is at most 4,000 code
# points, which is at most 16,000 bytes of UTF-8 plus escaping); 64 KiB leaves room and bounds
# what one peer can make us buffer before we parse anything.
MAX_CLIENT_JSON_BYTES = 65536
# A page of history (200 messages of up to 4,000 code points, escaped) can be large.
MAX_SERVER_JSON_BYTES = 16 * 1024 * 1024
# One chunk of file data. 1 MiB is large enough that per-frame overhead vanishes at loopback
# speed and small enough that a paused peer pins little memory.
MAX_CHUNK_BYTES = 1024 * 1024


class FramingError(Exception):
    """The peer broke the framing rules; the connection cannot be trusted any further."""


class Frame(NamedTuple):
    kind: int
    body: bytes


def encode_header(kind: int, length: int) -> bytes:
    return HEADER.pack(kind, length)


def encode_frame(kind: int, body: bytes) -> bytes:
    """One frame as a single bytes object (the header and body joined once)."""
    return HEADER.pack(kind, len(body)) + body


class FrameDecoder:
    """Accumulates received bytes and yields complete frames.

    Methods for callers:
        feed(data)       append received bytes (any size, any split)
        next_frame()     the next complete Frame, or None when more bytes are needed;
                         raises FramingError on a bad kind byte or an oversize length
        buffered_bytes   how many received bytes are waiting (for flow control)
        has_partial      True when a frame has started but is not complete (EOF check)

    The buffer never holds more than the current frame plus what one ``feed`` added: the
    I/O shell stops reading while a complete frame is waiting to be handled.
    """

    __slots__ = ("_buf", "_pos", "_max_json", "_max_chunk")

    def __init__(self, max_json_bytes: int = MAX_CLIENT_JSON_BYTES,
                 max_chunk_bytes: int = MAX_CHUNK_BYTES) -> None:
        self._buf = bytearray()
        self._pos = 0  # start of unread data in _buf; compacted lazily to avoid memmoves
        self._max_json = max_json_bytes
        self._max_chunk = max_chunk_bytes

    @property
    def buffered_bytes(self) -> int:
        return len(self._buf) - self._pos

    @property
    def has_partial(self) -> bool:
        return self.buffered_bytes > 0

    def feed(self, data: "bytes | memoryview") -> None:
        if self._pos and self._pos == len(self._buf):
            # Everything was consumed: start over instead of growing the old buffer.
            self._buf.clear()
            self._pos = 0
        self._buf += data

    def next_frame(self) -> Optional[Frame]:
        available = len(self._buf) - self._pos
        if available < HEADER_BYTES:
            if available and self._buf[self._pos] not in (KIND_JSON, KIND_BINARY):
                # A stray HTTP request, or junk: refused at its first byte, not after five.
                raise FramingError("unknown frame kind 0x%02x" % self._buf[self._pos])
            return None
        kind, length = HEADER.unpack_from(self._buf, self._pos)
        self._check_header(kind, length)
        end = self._pos + HEADER_BYTES + length
        if len(self._buf) < end:
            return None
        with memoryview(self._buf) as view:  # one copy, where a bytearray slice makes two
            body = bytes(view[self._pos + HEADER_BYTES:end])
        self._pos = end
        if self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        elif self._pos > 65536 and self._pos * 2 > len(self._buf):
            # Drop the consumed prefix once it is the larger part, so the buffer stays bounded
            # by about one frame without paying a memmove per small frame.
            del self._buf[:self._pos]
            self._pos = 0
        return Frame(kind, body)

    def _check_header(self, kind: int, length: int) -> None:
        if kind == KIND_JSON:
            if length > self._max_json:
                raise FramingError(
                    "JSON frame of %d bytes is over the limit of %d" % (length, self._max_json))
        elif kind == KIND_BINARY:
            if length == 0:
                raise FramingError("binary frame of length 0")
            if length > self._max_chunk:
                raise FramingError(
                    "binary frame of %d bytes is over the limit of %d" % (length, self._max_chunk))
        else:
            raise FramingError("unknown frame kind 0x%02x" % kind)
