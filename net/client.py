"""The client side of the wire: one non-blocking connection to one service, and ``poll()``.

``poll()`` never waits: it finishes a pending connect, sends what the kernel will take, reads
what has arrived, and returns the frames that are not replies someone is waiting for. A GUI
calls it from a timer (Tk's ``after``), a terminal client or a load generator from its own
loop. No threads, no tkinter.

    conn = ClientConnection("127.0.0.1", 9999)
    conn.request("hello", callback=lambda reply: print(reply["server"]))
    while True:
        for item in conn.poll():      # events (dicts) and B-frame payloads (bytes)
            ...
        if conn.closed: break
        time.sleep(0.01)              # or: select on conn.fileno(), or Tk's after()
"""
from __future__ import annotations

import enum
import errno
import itertools
import logging
import select
import socket
import ssl
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple, Union

from net.chaos import Chaos, cut, is_loopback
from net.framing import (
    HEADER_BYTES,
    KIND_BINARY,
    KIND_JSON,
    MAX_SERVER_JSON_BYTES,
    FrameDecoder,
    FramingError,
    encode_header,
)
from net.messages import decode_body, encode_message
from net.outbox import Outbox
from net.tls import fingerprint

log = logging.getLogger(__name__)

Reply = Dict[str, Any]
Incoming = Union[Dict[str, Any], bytes]
ReplyCallback = Callable[[Reply], None]

# A client gives up connecting after this long (a wrong address on a LAN can hang for minutes).
CONNECT_TIMEOUT_S = 5.0
# Read at most this much per poll, so one poll is a bounded amount of work for a GUI tick.
POLL_READ_BYTES = 4 * 1024 * 1024
RECV_BYTES = 256 * 1024
# An SSL socket has no sendmsg and copies what it is given into TLS records: hand it at most
# this much per send call, so one large upload chunk does not become one huge copy.
TLS_SEND_BYTES = RECV_BYTES

_ids = itertools.count(1)
_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
# Windows sockets have no sendmsg: there the outbox leaves one chunk per send call.
_HAS_SENDMSG = hasattr(socket.socket, "sendmsg")


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"    # the TCP connect is in progress
    HANDSHAKING = "handshaking"  # connected; the TLS handshake is in progress
    OPEN = "open"                # requests and replies flow
    CLOSED = "closed"            # for good: `error` says why (None after close())


class Direction(enum.Enum):
    IN = "in"    # from the server
    OUT = "out"  # to the server


# observer(conn, direction, kind, body, message, reads): one frame, queued to be sent or just
# received. body: its bytes (a view; copy what you keep); message: the decoded dict of a J
# frame (secrets not masked), None for B; reads: how many recv() calls carried its bytes (0
# for a frame going out). The frame inspector (ui/presenters/inspector.py) is one.
FrameObserver = Callable[["ClientConnection", Direction, int, Any, Optional[Dict[str, Any]],
                          int], None]


class _ReadMarks:
    """Which recv() calls carried each frame that arrives: the stream offsets where the
    reads ended, and where the next frame starts. Kept only while an observer watches."""

    __slots__ = ("ends", "total", "start")

    def __init__(self, buffered_bytes: int) -> None:
        # Bytes already in the decoder when watching began count as one read.
        self.ends: Deque[int] = deque([buffered_bytes] if buffered_bytes else [])
        self.total = buffered_bytes
        self.start = 0

    def read(self, size: int) -> None:
        self.total += size
        self.ends.append(self.total)

    def frame(self, size: int) -> int:
        start, end = self.start, self.start + size
        self.start = end
        ends = self.ends
        while ends and ends[0] <= start:
            ends.popleft()
        reads = 0
        for read_end in ends:
            reads += 1
            if read_end >= end:
                break
        return reads


class TlsOptions:
    """How a client speaks TLS: the context (net/tls.client_context) and, when no CA checks
    the certificate, a check(host, port, fingerprint) that returns None to accept or a
    sentence saying why not (fingerprint pinning, ui/pins.py)."""

    def __init__(self, context: ssl.SSLContext,
                 check: Optional[Callable[[str, int, str], Optional[str]]] = None) -> None:
        self.context = context
        self.check = check


class ClientConnection:
    """Methods for callers:
        request(op, callback=None, **fields) -> id    queue a request; callback(reply) later
        send_binary(data)                             queue one B frame (an upload chunk)
        poll() -> [incoming]                          do whatever I/O is possible now
        close()
    Fields: state (a ConnectionState), closed (state is CLOSED), error (why it closed, or
    None), last_word (the server's `error` frame when it closed the connection with one,
    docs/PROTOCOL.md §3: a refused connection's `rate_limited`, say), outbox_bytes (unsent
    bytes: an uploader keeps this small), wants_write (unsent bytes that may go now),
    fingerprint (the server certificate's SHA-256, with TLS), service (a label its owner
    gives it: "auth", "chat", "file"), observer (a FrameObserver shown every frame in and
    out, or None: the default, which costs one check per read and per request).

    A J frame with a "status" whose (id, op) is a pending request's is that request's reply
    and goes to its callback; every other frame (events, `upload_done`, which carries its
    upload's id but is no reply, and the server's last-word errors) is returned by poll().
    When the connection closes, every pending callback gets a "disconnected" reply, which
    also carries the server's last word, when there was one, as "last_word".
    """

    def __init__(self, host: str, port: int, connect_timeout_s: float = CONNECT_TIMEOUT_S,
                 tls: Optional[TlsOptions] = None, chaos: Optional[Chaos] = None) -> None:
        self.host, self.port = host, port
        self.tls = tls
        self.chaos = chaos  # --chaos: reads and writes cut at random (net/chaos.py)
        self.service = ""
        self._observer: Optional[FrameObserver] = None
        self._marks: Optional[_ReadMarks] = None
        self.fingerprint: Optional[str] = None
        self.state = ConnectionState.CONNECTING
        self.error: Optional[str] = None
        self.last_word: Optional[Reply] = None
        # A plain connection the server closed before sending a single byte: what a server
        # that speaks only TLS does with our frames (it resets the connection, no alert).
        # Session asks a TLS connection to tell (ui/session.py, "tls_required").
        self.unanswered = False
        self._heard = False  # a byte has arrived
        # A send that failed (the server closed first) closes the connection only after one
        # more read: the server's last word may be waiting in the kernel (docs/PROTOCOL.md §3).
        self._send_failure: Optional[str] = None
        self._decoder = FrameDecoder(MAX_SERVER_JSON_BYTES)
        self._outbox = Outbox()
        # id -> (op, callback) of each request whose reply is awaited
        self._pending: Dict[int, Tuple[str, ReplyCallback]] = {}
        self._deadline = time.monotonic() + connect_timeout_s
        self.sock: Optional[socket.socket] = None
        try:
            infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except OSError as exc:
            self._fail("cannot resolve %s: %s" % (host, exc))
            return
        family, _, _, _, address = infos[0]
        if chaos is not None and not chaos.anywhere and not is_loopback(address[0]):
            self._fail("--chaos disturbs only connections to this machine; %s is not one "
                       "(add --chaos-anywhere if you mean it)" % host)
            return
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        code = sock.connect_ex(address)
        self.sock = sock
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN,
                        getattr(errno, "WSAEWOULDBLOCK", -1)):
            self._fail(_describe_connect_error(code, host, port))

    @property
    def closed(self) -> bool:
        return self.state is ConnectionState.CLOSED

    @property
    def outbox_bytes(self) -> int:
        return self._outbox.outbox_bytes

    @property
    def wants_write(self) -> bool:
        """Bytes wait and may be sent now (not held back by --chaos)."""
        if not self._outbox.outbox_bytes:
            return False
        return self.chaos is None or self.chaos.held_until_s <= time.monotonic()

    def fileno(self) -> int:
        return self.sock.fileno() if self.sock is not None else -1

    @property
    def observer(self) -> Optional[FrameObserver]:
        return self._observer

    @observer.setter
    def observer(self, observer: Optional[FrameObserver]) -> None:
        if observer is not None and self._observer is None:
            self._marks = _ReadMarks(self._decoder.buffered_bytes)
        elif observer is None:
            self._marks = None
        self._observer = observer

    # -- sending --------------------------------------------------------------------------

    def request(self, op: str, callback: Optional[ReplyCallback] = None, **fields: Any) -> int:
        rid = next(_ids)
        message = dict(fields, op=op, id=rid)
        if self.state is ConnectionState.CLOSED and self.error is not None:
            # Never opened (a server name not found) or lost: whoever waits gets its answer
            # now, or a login would say "connecting…" for ever (issue 20). After close(),
            # requests are dropped unanswered, as before.
            if callback is not None:
                callback({"op": op, "id": rid, "status": "disconnected",
                          "message": self.error or "closed"})
            return rid
        if callback is not None:
            self._pending[rid] = (op, callback)
        frame = encode_message(message)
        if self._observer is not None and not self.closed:
            self._show(Direction.OUT, KIND_JSON, memoryview(frame)[HEADER_BYTES:], message, 0)
        self._queue(frame)
        return rid

    def send_binary(self, data: bytes) -> None:
        if self._observer is not None and not self.closed:
            self._show(Direction.OUT, KIND_BINARY, data, None, 0)
        self._queue(encode_header(KIND_BINARY, len(data)))
        self._queue(data)

    def _queue(self, data: bytes) -> None:
        if self.state is not ConnectionState.CLOSED:
            self._outbox.queue(data)

    # -- polling --------------------------------------------------------------------------

    def poll(self, max_read_bytes: int = POLL_READ_BYTES) -> List[Incoming]:
        """Send what can be sent, read at most max_read_bytes (the rest waits in the
        kernel for the next poll: a GUI spreads a burst over several ticks)."""
        if self.state is ConnectionState.CONNECTING:
            self._finish_connect()
        if self.state is ConnectionState.HANDSHAKING:
            self._handshake()
        if self.state is not ConnectionState.OPEN:
            return []
        self._send_some()
        items = self._read_some(max_read_bytes)
        if self._send_failure is not None and self.state is ConnectionState.OPEN:
            self.unanswered = self.tls is None and not self._heard
            self._fail(self._send_failure)
        return items

    def _finish_connect(self) -> None:
        _, writable, failed = select.select([], [self.sock], [self.sock], 0)
        if writable or failed:
            code = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                self._fail(_describe_connect_error(code, self.host, self.port))
            elif self.tls is not None:
                server_name = self.host if self.tls.context.check_hostname else None
                self.sock = self.tls.context.wrap_socket(
                    self.sock, server_hostname=server_name, do_handshake_on_connect=False)
                self.state = ConnectionState.HANDSHAKING
            else:
                self.state = ConnectionState.OPEN
        elif time.monotonic() > self._deadline:
            self._fail("no answer from %s:%d (timed out)" % (self.host, self.port))

    def _handshake(self) -> None:
        try:
            self.sock.do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            if time.monotonic() > self._deadline + CONNECT_TIMEOUT_S:
                self._fail("the TLS handshake with %s:%d timed out" % (self.host, self.port))
            return
        except ssl.SSLCertVerificationError as exc:
            self._fail("the server's certificate is not valid: %s" % exc.verify_message)
            return
        except (ssl.SSLError, OSError) as exc:
            self._fail("TLS with %s:%d failed (is it a TLS server?): %s"
                       % (self.host, self.port, exc))
            return
        self.fingerprint = fingerprint(self.sock.getpeercert(binary_form=True))
        if self.tls.check is not None:
            refusal = self.tls.check(self.host, self.port, self.fingerprint)
            if refusal:
                self._fail(refusal)
                return
        self.state = ConnectionState.OPEN

    def _send_some(self) -> None:
        """Hand the kernel what it takes now; the unsent tail stays in the outbox."""
        if self.chaos is not None:
            self._send_in_pieces(self.chaos)
            return
        outbox = self._outbox
        gather = _HAS_SENDMSG and self.tls is None
        while outbox.outbox_bytes and self._send_failure is None:
            chunks = outbox.pending_chunks()
            try:
                if gather:
                    offered = sum(len(chunk) for chunk in chunks)
                    sent = self.sock.sendmsg(chunks)
                else:
                    offered = min(len(chunks[0]), TLS_SEND_BYTES)
                    sent = self.sock.send(chunks[0][:offered])
            except _WOULD_BLOCK:
                return
            except OSError as exc:
                self._send_failure = "connection lost: %s" % exc
                return
            outbox.consume(sent)
            if sent < offered:
                return  # the kernel's buffer is full: the rest waits for the next poll

    def _send_in_pieces(self, chaos: Chaos) -> None:
        """--chaos: _send_some, one piece of a random size per send call, or now and then
        nothing for a few milliseconds (what waits leaves merged with what comes next)."""
        outbox = self._outbox
        if not outbox.outbox_bytes or chaos.held_until_s > time.monotonic():
            return
        hold_s = chaos.hold_s()
        if hold_s:
            chaos.held_until_s = time.monotonic() + hold_s
            return
        while outbox.outbox_bytes and self._send_failure is None:
            pieces = cut(outbox.pending_chunks(), chaos.send_bytes())
            offered = sum(len(piece) for piece in pieces)
            try:
                if len(pieces) > 1 and _HAS_SENDMSG and self.tls is None:
                    sent = self.sock.sendmsg(pieces)
                else:
                    sent = self.sock.send(pieces[0] if len(pieces) == 1 else b"".join(pieces))
            except _WOULD_BLOCK:
                # An SSL write must be retried with the same bytes (they stay at the head of
                # the outbox), and as many of them.
                chaos.retry_bytes = offered if self.tls is not None else 0
                return
            except OSError as exc:
                self._send_failure = "connection lost: %s" % exc
                return
            chaos.retry_bytes = 0
            chaos.count_out(sent)
            outbox.consume(sent)
            if sent < offered:
                return

    def _read_some(self, budget: int) -> List[Incoming]:
        items: List[Incoming] = []
        chaos = self.chaos
        while budget > 0 and self.state is ConnectionState.OPEN:
            want = min(RECV_BYTES, budget)
            try:
                data = self.sock.recv(want if chaos is None else chaos.recv_bytes(want))
            except _WOULD_BLOCK:
                break
            except OSError as exc:
                self.unanswered = self.tls is None and not self._heard
                self._fail("connection lost: %s" % exc)
                break
            if not data:
                self.unanswered = self.tls is None and not self._heard
                self._fail("the server closed the connection")
                break
            self._heard = True
            budget -= len(data)
            if chaos is not None:
                chaos.count_in(len(data))
            if self._marks is not None:
                self._marks.read(len(data))
            self._decoder.feed(data)
            try:
                while True:
                    frame = self._decoder.next_frame()
                    if frame is None:
                        break
                    message = decode_body(frame.body) if frame.kind == KIND_JSON else None
                    if self._observer is not None:
                        self._observe_in(frame.kind, frame.body, message)
                    if message is not None:
                        self._dispatch(message, items)
                    else:
                        items.append(frame.body)
            except FramingError as exc:
                self._fail("the server broke the protocol: %s" % exc)
        return items

    def _observe_in(self, kind: int, body: bytes, message: Optional[Dict[str, Any]]) -> None:
        reads = self._marks.frame(HEADER_BYTES + len(body)) if self._marks is not None else 0
        self._show(Direction.IN, kind, body, message, reads)

    def _show(self, direction: Direction, kind: int, body: Any,
              message: Optional[Dict[str, Any]], reads: int) -> None:
        try:
            self._observer(self, direction, kind, body, message, reads)
        except Exception:  # a broken inspector must not break the connection it watches
            log.exception("the frame observer failed; it is unhooked")
            self.observer = None

    def _dispatch(self, message: Dict[str, Any], items: List[Incoming]) -> None:
        rid = message.get("id")
        if message.get("op") == "error" and rid is None:
            self.last_word = message  # the server closes the connection after this frame
        pending = self._pending.get(rid) if "status" in message else None
        if pending is not None and pending[0] == message.get("op"):
            del self._pending[rid]
            pending[1](message)
        else:
            items.append(message)

    # -- closing --------------------------------------------------------------------------

    def _fail(self, reason: str) -> None:
        if self.state is ConnectionState.CLOSED:
            return
        self.state = ConnectionState.CLOSED
        if self.last_word is not None:
            reason = "the server closed the connection: %s" % self.last_word.get(
                "message", self.last_word.get("status"))
        self.error = reason
        self._outbox.discard_outbox()
        if self.sock is not None:
            self.sock.close()
        # Whoever waits for a reply gets one, so no caller is left hanging.
        pending, self._pending = self._pending, {}
        for rid, (op, callback) in pending.items():
            reply: Reply = {"op": op, "id": rid, "status": "disconnected", "message": reason}
            if self.last_word is not None:
                reply["last_word"] = self.last_word
            if self.unanswered:
                reply["unanswered"] = True
            callback(reply)

    def close(self) -> None:
        self._fail("closed")
        self.error = None


def chaotic(chaos: Chaos) -> Callable[..., ClientConnection]:
    """A connect function (ui/session.py Session's `connect`) for --chaos: each connection
    it opens cuts its reads and writes with a generator of its own from `chaos`."""
    def connect(host: str, port: int, **options: Any) -> ClientConnection:
        return ClientConnection(host, port, chaos=chaos.for_connection(), **options)
    return connect


def _describe_connect_error(code: int, host: str, port: int) -> str:
    if code == errno.ECONNREFUSED:
        return "nothing is listening on %s:%d (is the server running?)" % (host, port)
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "%s is unreachable from here" % host
    if code == errno.ETIMEDOUT:
        return "no answer from %s:%d (timed out)" % (host, port)
    return "cannot connect to %s:%d: %s" % (host, port, errno.errorcode.get(code, code))


def wait_readable(connections: List[ClientConnection], timeout_s: float) -> None:
    """For terminal clients and tests: sleep until a socket has news or timeout_s passes."""
    waiting = (ConnectionState.CONNECTING, ConnectionState.HANDSHAKING)
    read = [c.sock for c in connections
            if c.sock is not None and c.state is ConnectionState.OPEN]
    write = [c.sock for c in connections if c.sock is not None and
             (c.state in waiting or c.wants_write)]
    now = time.monotonic()
    held = [c.chaos.held_until_s for c in connections if c.chaos is not None and
            c.outbox_bytes and not c.closed and c.chaos.held_until_s > now]
    if held:  # --chaos holds bytes back: wake up when the first hold ends
        timeout_s = min(timeout_s, min(held) - now)
    if read or write:
        select.select(read, write, [], timeout_s)
    else:
        time.sleep(timeout_s)
