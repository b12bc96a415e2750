"""One peer's state: its frame decoder, its outbox, and what it may do next.

Pure: the loop owns the socket and moves bytes between it and this object. Bytes that arrive
go into ``decoder``; ``next_message()`` turns them into requests (or chunks of file data)
when the peer may be served; what the service answers waits in the outbox (net/outbox.py)
until the loop has sent it. Tests drive all of this without a socket.
"""
from __future__ import annotations

import enum
from typing import Any, Dict, Optional, Union

from net.framing import KIND_JSON, FrameDecoder
from net.messages import decode_body
from net.outbox import Outbox

# Stop reading a peer's requests while this much of its output is unsent: a client that
# pipelines requests but never reads replies then stalls itself, not us.
OUTBOX_HIGH_BYTES = 1024 * 1024
# ...and start again once it has drained to this.
OUTBOX_LOW_BYTES = 256 * 1024
# docs/PROTOCOL.md §5: a peer whose unsent data passes this is not reading; it is cut off so
# that it costs nobody else memory or time.
OUTBOX_CUTOFF_BYTES = 4 * 1024 * 1024
# While a request is in flight, how much more of the peer's input we accept into the decoder:
# one maximal frame, so an upload's next chunk is already here when the disk catches up.
READ_AHEAD_BYTES = 1024 * 1024 + 5

Incoming = Union[Dict[str, Any], bytes]


class Phase(enum.Enum):
    OPEN = "open"
    CLOSING = "closing"  # sending what is queued, then closing; takes no more requests
    CLOSED = "closed"


_OPEN, _CLOSED = Phase.OPEN, Phase.CLOSED


class Connection(Outbox):
    """Everything the loop knows about one peer, without the socket.

    Fields for the loop:
        decoder       FrameDecoder for inbound bytes
        holds         >0 while a request is in flight (or a service asked to pause input):
                      no further frames are taken from the decoder until it is back to 0
        phase         Phase.OPEN, CLOSING (drain the outbox, then close) or CLOSED
        eof           the peer sent its last byte (maybe a half-close): it still gets the
                      replies to what it sent, then the connection closes
        tasks         work in flight that will still answer the peer (a stored say)
        last_seen_s   monotonic time of the last received bytes (idle timer)
        opened_s      monotonic time the connection was accepted
    Fields for the services:
        service       the Service object that owns this connection's meaning
        state         a per-connection object the service keeps (user, transfer, ...)
        host          the peer's IP address (limits are per address)
    """

    __slots__ = ("peer", "host", "service", "state", "decoder", "holds", "phase",
                 "last_seen_s", "opened_s", "reading_paused", "on_drain", "fd", "eof", "tasks")

    def __init__(self, peer: str, host: str, service: Any, max_json_bytes: int,
                 now_s: float) -> None:
        super().__init__()
        self.peer = peer  # "host:port", for logs
        self.host = host
        self.service = service
        self.state: Any = None
        self.decoder = FrameDecoder(max_json_bytes)
        self.holds = 0
        self.phase = _OPEN
        self.last_seen_s = now_s
        self.opened_s = now_s
        self.reading_paused = False
        self.on_drain: Any = None  # callable the file service sets to pump a download
        self.fd = -1
        self.eof = False
        self.tasks = 0

    @property
    def closed(self) -> bool:
        return self.phase is _CLOSED

    @property
    def closing(self) -> bool:
        return self.phase is Phase.CLOSING

    # -- input ----------------------------------------------------------------------------

    def next_message(self) -> Optional[Incoming]:
        """The next thing the peer sent, when it may be served now: a request dict (a J
        frame with a string 'op') or the bytes of a B frame. None when more bytes are needed
        or the peer is paused. Raises FramingError when the peer broke the framing rules."""
        if not self.may_take_frame:
            return None
        frame = self.decoder.next_frame()
        if frame is None:
            return None
        if frame.kind == KIND_JSON:
            return decode_body(frame.body)
        return frame.body

    @property
    def all_answered(self) -> bool:
        """After end of input: nothing left to answer (whatever the decoder still holds is
        an incomplete frame), so the connection may close once its outbox is sent."""
        return (self.eof and not self.holds and not self.tasks and self.phase is _OPEN
                and self.may_take_frame)

    def update_flow(self) -> None:
        """Hysteresis between the water marks, so a peer near the limit does not flap."""
        if self.outbox_bytes > OUTBOX_HIGH_BYTES:
            self.reading_paused = True
        elif self.outbox_bytes <= OUTBOX_LOW_BYTES:
            self.reading_paused = False

    @property
    def may_take_frame(self) -> bool:
        """A peer whose replies pile up unread gets no more requests served until it reads."""
        return (self.holds == 0 and self.phase is _OPEN
                and self.outbox_bytes <= OUTBOX_HIGH_BYTES)

    @property
    def wants_read(self) -> bool:
        """Read from the socket only when we could act on what arrives."""
        if self.phase is not _OPEN or self.reading_paused:
            return False
        # While a request is in flight, or while frames wait for the peer's next turn (the
        # loop serves a few per turn), keep TCP moving up to about one frame's worth; the
        # decoder then holds it until we are ready, and no more.
        return self.decoder.buffered_bytes < READ_AHEAD_BYTES

    # -- output ---------------------------------------------------------------------------

    def queue(self, data: Any) -> None:
        if self.phase is not _CLOSED:
            Outbox.queue(self, data)

    @property
    def over_cutoff(self) -> bool:
        return self.outbox_bytes > OUTBOX_CUTOFF_BYTES
