"""One connection as the services see it: a Connection bound to its socket and its loop.

The methods here are the whole of what a service may do with a peer (net/service.py's
PeerAPI lists them); moving bytes is the loop's job (net/loop.py).
"""
from __future__ import annotations

import enum
import logging
import socket
import ssl
from typing import Any, Callable, Dict, Optional

from net.chaos import Chaos
from net.connection import OUTBOX_HIGH_BYTES, OUTBOX_LOW_BYTES, Connection, Phase
from net.framing import KIND_BINARY, encode_header
from net.messages import encode_message, masked, reply_to
from net.service import Service
from net.tls import HANDSHAKE_TIMEOUT_S

log = logging.getLogger(__name__)
trace_log = logging.getLogger("chatroom.trace")

# A peer told to go away (after bad_frame, say) gets this long to read its goodbye.
CLOSE_DRAIN_S = 5.0


class Transport(enum.Enum):
    PLAIN = "plain"
    TLS_HANDSHAKE = "tls-handshake"  # the loop drives the handshake; no frames yet
    TLS = "tls"


class Peer(Connection):
    __slots__ = ("loop", "sock", "mask", "dirty", "transport", "last_sent_s", "refused",
                 "chaos")

    def __init__(self, loop: Any, sock: socket.socket, address: Any, service: Service,
                 now_s: float) -> None:
        super().__init__("%s:%s" % (address[0], address[1]), address[0], service,
                         service.max_json_bytes, now_s)
        self.loop = loop
        self.sock = sock
        self.fd = sock.fileno()
        self.mask = 0
        self.dirty = False
        self.transport = (Transport.TLS_HANDSHAKE if isinstance(sock, ssl.SSLSocket)
                          else Transport.PLAIN)
        self.last_sent_s = now_s  # the last time the kernel took bytes from us
        self.refused = False  # over the per-address cap: only told so, then closed
        self.chaos: Optional[Chaos] = None  # --chaos: this connection's cuts, else None

    @classmethod
    def accepted(cls, loop: Any, sock: socket.socket, address: Any, service: Service,
                 tls: Optional[ssl.SSLContext], chaos: Any, refused: bool) -> "Peer":
        """A peer for a socket the loop just accepted: no Nagle delay (replies are small and
        ordered), TLS wrapped without waiting for the handshake (the loop drives it), and
        its own chaos stream under --chaos."""
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if tls is not None:
            sock = tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        peer = cls(loop, sock, address, service, loop.now_s)
        peer.refused = refused
        if chaos is not None:
            peer.chaos = chaos.for_connection()
        return peer

    def trace_in(self, message: Any) -> None:
        """--trace: log what arrived (secrets masked)."""
        if message.__class__ is dict:
            trace_log.info("%s %s < %s", self.service.name, self.peer, masked(message))
        else:
            trace_log.info("%s %s < B %d bytes", self.service.name, self.peer, len(message))

    def update_flow(self) -> None:
        """The water marks at work (docs/PROTOCOL.md Part II.5, docs/LABS.md lab 4), logged
        when they turn. Rare: between two such lines a peer has read at least 768 KiB."""
        was_paused = self.reading_paused
        Connection.update_flow(self)
        if self.reading_paused is was_paused:
            return
        if self.reading_paused:
            log.info("%s %s: %d bytes unsent: its requests wait until it reads (high water "
                     "mark %d KiB)", self.service.name, self.peer, self.outbox_bytes,
                     OUTBOX_HIGH_BYTES // 1024)
        else:
            log.info("%s %s: %d bytes unsent: its requests are read again (low water mark "
                     "%d KiB)", self.service.name, self.peer, self.outbox_bytes,
                     OUTBOX_LOW_BYTES // 1024)

    # -- sending --------------------------------------------------------------------------

    def send(self, message: Dict[str, Any]) -> None:
        self.send_encoded(encode_message(message), message)

    def send_encoded(self, frame: bytes, message: Optional[Dict[str, Any]] = None) -> None:
        if self.loop.trace and self.phase is not Phase.CLOSED:
            trace_log.info("%s %s > %s", self.service.name, self.peer,
                           masked(message) if message is not None else "%d bytes" % len(frame))
        self.push(frame)

    def push(self, data: bytes) -> None:
        """Queue bytes that are already framed, without tracing: the fan-out fast path."""
        if self.phase is Phase.CLOSED:
            return
        self.queue(data)
        if not self.dirty:
            self.loop.mark_dirty(self)

    def send_binary(self, data: bytes) -> None:
        if self.phase is Phase.CLOSED:
            return
        if self.loop.trace:
            trace_log.info("%s %s > B %d bytes", self.service.name, self.peer, len(data))
        self.queue(encode_header(KIND_BINARY, len(data)))
        self.push(data)

    def reply(self, request: Dict[str, Any], status: str = "ok", message: Optional[str] = None,
              **fields: Any) -> None:
        self.send(reply_to(request, status, message, **fields))

    # -- work off the loop ----------------------------------------------------------------

    def call(self, request: Optional[Dict[str, Any]], lane: str, fn: Callable[..., Any],
             *args: Any, then: Callable[[Any], None],
             on_error: Optional[Callable[[], None]] = None) -> None:
        self.loop.submit(lane, fn, args, self.pending(request, then, on_error))

    def pending(self, request: Optional[Dict[str, Any]], then: Callable[[Any], None],
                on_error: Optional[Callable[[], None]] = None) -> Callable[..., None]:
        """Hold this peer until the returned callback(result, error) runs on the loop.
        An error is logged with its traceback and answered with internal_error."""
        self.hold()
        self.begin_task()

        def done(result: Any, error: Optional[BaseException]) -> None:
            self.loop.guard(self, self._finish, request, then, on_error, result, error)
        return done

    def _finish(self, request: Optional[Dict[str, Any]], then: Callable[[Any], None],
                on_error: Optional[Callable[[], None]], result: Any,
                error: Optional[BaseException]) -> None:
        try:
            if self.phase is Phase.CLOSED:
                if on_error is not None:
                    on_error()
                return
            if error is None:
                then(result)
                return
            log.error("%s %s: %s", self.service.name, self.peer, error,
                      exc_info=(type(error), error, error.__traceback__)
                      if not getattr(error, "expected", False) else None)
            if request is not None:
                self.reply(request, "internal_error")
            if on_error is not None:
                on_error()
        finally:
            self.release()
            self.end_task()

    def hold(self) -> None:
        self.holds += 1

    def release(self) -> None:
        self.holds -= 1
        if self.holds == 0 and self.phase is not Phase.CLOSED:
            # Frames that arrived meanwhile are waiting in the decoder.
            self.loop.call_soon(self.loop.resume_peer, self)

    def begin_task(self) -> None:
        self.tasks += 1

    def end_task(self) -> None:
        self.tasks -= 1
        if self.eof and not self.tasks:
            self.loop.call_soon(self.loop.resume_peer, self)

    # -- closing --------------------------------------------------------------------------

    def close(self) -> None:
        if self.phase is not Phase.OPEN:
            return
        self.phase = Phase.CLOSING
        self.last_seen_s = self.loop.now_s  # the drain deadline counts from here
        self.loop.mark_dirty(self)

    def abort(self) -> None:
        self.loop.close_peer(self)

    def overdue(self, now_s: float) -> Optional[str]:
        """Why this peer must be closed now, or None: a goodbye not taken in CLOSE_DRAIN_S,
        a TLS handshake not done in HANDSHAKE_TIMEOUT_S, or what its service says."""
        if self.phase is Phase.CLOSING:
            if now_s - self.last_seen_s > CLOSE_DRAIN_S:
                return "did not take its last %d bytes" % self.outbox_bytes
            return None
        if self.transport is Transport.TLS_HANDSHAKE:
            if now_s - self.opened_s > HANDSHAKE_TIMEOUT_S:
                return "no TLS handshake in %.0f s" % HANDSHAKE_TIMEOUT_S
            return None
        try:
            return self.service.timeout_reason(self, now_s)
        except Exception:
            log.exception("%s %s: timeout check failed", self.service.name, self.peer)
            return "a failed timeout check"
