"""One peer's state: its frame decoder, its outbox, and what it may do next.

Pure: the loop owns the socket and moves bytes between it and this object. Following h2 and
asyncio, the outbox only accumulates data; the I/O shell drains it. Queued chunks are kept as
they were given (never concatenated), so one encoded chat event can sit in a thousand outboxes
as the same bytes object.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Deque, List, Optional, Union

from net.framing import FrameDecoder

Buffer = Union[bytes, memoryview]

# Stop reading a peer's requests while this much of its output is unsent: a client that
# pipelines requests but never reads replies then stalls itself, not us.
OUTBOX_HIGH_BYTES = 1024 * 1024
# ...and start again once it has drained to this.
OUTBOX_LOW_BYTES = 256 * 1024
# SPEC §5: a peer whose unsent data passes this is not reading; it is cut off so that it
# costs nobody else memory or time.
OUTBOX_CUTOFF_BYTES = 4 * 1024 * 1024
# How many queued chunks one sendmsg() call hands the kernel (IOV_MAX is 1024 on Linux).
SEND_BATCH_CHUNKS = 512
# While a request is in flight, how much more of the peer's input we accept into the decoder:
# one maximal frame, so an upload's next chunk is already here when the disk catches up.
READ_AHEAD_BYTES = 1024 * 1024 + 5


class Connection:
    """Everything the loop knows about one peer, without the socket.

    Fields for the loop:
        decoder       FrameDecoder for inbound bytes
        holds         >0 while a request is in flight (or a service asked to pause input):
                      no further frames are taken from the decoder until it is back to 0
        closing       'graceful' (drain the outbox, then close) or 'abort'; None while open
        last_seen_s   monotonic time of the last received bytes (idle timer)
    Fields for the services:
        service       the Service object that owns this connection's meaning
        state         a per-connection object the service keeps (user, transfer, ...)
    """

    __slots__ = ("peer", "host", "service", "state", "decoder", "_chunks", "outbox_bytes",
                 "holds", "closing", "last_seen_s", "opened_s", "reading_paused", "closed",
                 "on_drain", "fd")

    def __init__(self, peer: str, host: str, service: Any, max_json_bytes: int,
                 now_s: float) -> None:
        self.peer = peer  # "host:port", for logs
        self.host = host  # the peer's IP address (login throttling is per address)
        self.service = service
        self.state: Any = None
        self.decoder = FrameDecoder(max_json_bytes)
        self._chunks: Optional[Deque[Buffer]] = None  # created on first use: idle peers are cheap
        self.outbox_bytes = 0
        self.holds = 0
        self.closing: Optional[str] = None
        self.last_seen_s = now_s
        self.opened_s = now_s
        self.reading_paused = False
        self.closed = False
        self.on_drain: Any = None  # callable the file service sets to pump a download
        self.fd = -1

    # -- outbox ---------------------------------------------------------------------------

    def queue(self, data: Buffer) -> None:
        if self.closing == "abort" or self.closed or not data:
            return
        if self._chunks is None:
            self._chunks = deque()
        self._chunks.append(data)
        self.outbox_bytes += len(data)

    def pending_chunks(self) -> List[Buffer]:
        """Up to SEND_BATCH_CHUNKS queued chunks, oldest first, for one send call."""
        chunks = self._chunks
        if not chunks:
            return []
        if len(chunks) <= SEND_BATCH_CHUNKS:
            return list(chunks)
        return [chunks[i] for i in range(SEND_BATCH_CHUNKS)]

    def consume(self, sent_bytes: int) -> None:
        """Forget the first sent_bytes of the outbox; a partly sent chunk keeps its tail."""
        chunks = self._chunks
        if sent_bytes == self.outbox_bytes:  # the common case: everything went out
            self._chunks = None
            self.outbox_bytes = 0
            return
        self.outbox_bytes -= sent_bytes
        while sent_bytes and chunks:
            head = chunks[0]
            if len(head) <= sent_bytes:
                sent_bytes -= len(head)
                chunks.popleft()
            else:
                chunks[0] = memoryview(head)[sent_bytes:]
                sent_bytes = 0
        if chunks is not None and not chunks:
            self._chunks = None  # an idle connection gives its deque back

    def discard_outbox(self) -> None:
        self._chunks = None
        self.outbox_bytes = 0

    @property
    def wants_write(self) -> bool:
        return self.outbox_bytes > 0

    @property
    def over_cutoff(self) -> bool:
        return self.outbox_bytes > OUTBOX_CUTOFF_BYTES

    # -- input gating ---------------------------------------------------------------------

    def update_flow(self) -> None:
        """Hysteresis between the water marks, so a peer near the limit does not flap."""
        if self.outbox_bytes > OUTBOX_HIGH_BYTES:
            self.reading_paused = True
        elif self.outbox_bytes <= OUTBOX_LOW_BYTES:
            self.reading_paused = False

    @property
    def may_take_frame(self) -> bool:
        """A peer whose replies pile up unread gets no more requests served until it reads."""
        return (self.holds == 0 and self.closing is None and not self.closed
                and self.outbox_bytes <= OUTBOX_HIGH_BYTES)

    @property
    def wants_read(self) -> bool:
        """Read from the socket only when we could act on what arrives."""
        if self.closing is not None or self.closed or self.reading_paused:
            return False
        if self.holds:
            # While a request is in flight, keep TCP moving up to about one frame's worth;
            # the decoder then holds it until we are ready, and no more.
            return self.decoder.buffered_bytes < READ_AHEAD_BYTES
        return True
