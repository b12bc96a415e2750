"""The write path: put out what the kernel will take from a peer's outbox, now.

Following asyncio's selector transport: try to send, keep the unsent tail in the outbox (a
``memoryview``, no copy), and let the loop ask for write readiness only while something is
queued. Plain TCP hands the kernel many queued chunks in one ``sendmsg``; TLS has no
scatter/gather, so small chunks are joined into one record-sized slice (net/tls.py), and a
retried SSL write is offered the same bytes. With ``--chaos`` the bytes leave in pieces of
random sizes (net/chaos.py). Called by the loop only (net/loop.py ``_send_some``).
"""
from __future__ import annotations

import logging
import socket
import ssl

from net.chaos import Chaos, cut
from net.peer import Peer, Transport
from net.tls import tls_send_slice

log = logging.getLogger(__name__)

_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
_HAS_SENDMSG = hasattr(socket.socket, "sendmsg")


def send_some(peer: Peer, now_s: float) -> bool:
    """Send until the outbox is empty or the kernel's buffer is full. False: the connection
    failed (reset, broken pipe) and the caller closes it."""
    sock = peer.sock
    while peer.outbox_bytes:
        chunks = peer.pending_chunks()
        try:
            if peer.transport is Transport.TLS:
                chunks = [tls_send_slice(chunks)]
                sent = sock.send(chunks[0])
            elif len(chunks) == 1:
                sent = sock.send(chunks[0])
            elif _HAS_SENDMSG:
                sent = sock.sendmsg(chunks)
            else:  # Windows: one join is cheaper than one syscall per chunk
                sent = sock.send(b"".join(chunks))
        except _WOULD_BLOCK:
            return True
        except OSError as exc:
            log.debug("%s %s: write failed: %s", peer.service.name, peer.peer, exc)
            return False
        peer.consume(sent)
        peer.last_sent_s = now_s
        if peer.outbox_bytes and sent < sum(map(len, chunks)):
            return True  # the kernel buffer is full; wait for EVENT_WRITE
    return True


def send_in_pieces(peer: Peer, chaos: Chaos, now_s: float) -> bool:
    """--chaos: send_some, one piece of a random size per send call (the loop has already
    decided not to hold everything back this time). False: the connection failed."""
    sock = peer.sock
    tls = peer.transport is Transport.TLS
    while peer.outbox_bytes:
        pieces = cut(peer.pending_chunks(), chaos.send_bytes())
        offered = sum(map(len, pieces))
        try:
            if len(pieces) > 1 and _HAS_SENDMSG and not tls:
                sent = sock.sendmsg(pieces)
            else:
                sent = sock.send(pieces[0] if len(pieces) == 1 else b"".join(pieces))
        except _WOULD_BLOCK:
            # An SSL write must be retried with the same bytes: the outbox keeps them at its
            # head, and the retry asks for as many.
            chaos.retry_bytes = offered if tls else 0
            return True
        except OSError as exc:
            log.debug("%s %s: write failed: %s", peer.service.name, peer.peer, exc)
            return False
        chaos.retry_bytes = 0
        chaos.count_out(sent)
        peer.consume(sent)
        peer.last_sent_s = now_s
        if sent < offered:
            return True
    return True
