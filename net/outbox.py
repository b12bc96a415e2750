"""An outbox: bytes waiting to be sent, kept as the chunks they were given.

Pure: no socket. Following h2 and asyncio, the outbox only accumulates data and forgets what
the I/O shell reports as sent. Chunks are never concatenated, so one encoded chat event can
sit in a thousand outboxes as the same bytes object; a partly sent chunk keeps its tail as a
``memoryview`` (no copy). The server's connections (net/connection.py) and the client's
(net/client.py) both send through one.

Methods for callers:
    queue(data)             append bytes (empty data is ignored)
    pending_chunks()        up to SEND_BATCH_CHUNKS chunks, oldest first, for one send call
    consume(sent_bytes)     forget what the kernel took
    discard_outbox()        drop everything (an aborted connection)
    outbox_bytes            how many bytes wait
"""
from __future__ import annotations

from collections import deque
from typing import Deque, List, Optional, Union

Buffer = Union[bytes, memoryview]

# How many queued chunks one sendmsg() call hands the kernel (IOV_MAX is 1024 on Linux).
SEND_BATCH_CHUNKS = 512


class Outbox:
    __slots__ = ("_chunks", "outbox_bytes")

    def __init__(self) -> None:
        self._chunks: Optional[Deque[Buffer]] = None  # created on first use: idle peers are cheap
        self.outbox_bytes = 0

    def queue(self, data: Buffer) -> None:
        if not data:
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
