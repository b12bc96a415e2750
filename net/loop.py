"""The event loop: THE one server module that touches sockets and the selector.

One thread, one ``selectors`` selector, non-blocking sockets. The loop accepts peers, reads
their bytes into each peer's FrameDecoder, hands whole frames to the peer's service, and drains
every peer's outbox as the kernel takes it. Nothing here waits: slow work goes to the worker
bridge (net/workers.py) and comes back as a callback on this thread.

Methods for callers (the composition root):
    listen(host, port, service)     bind a listening socket; returns the real (host, port)
    call_later(delay_s, fn, *args)  run fn on the loop thread later; returns a TimerHandle
    call_soon(fn, *args)            run fn on the next turn of the loop
    add_reader(sock, fn)            call fn() when sock is readable (the worker bridge uses it)
    run()                           serve until stop() or SIGINT/SIGTERM, then shut down
    stop()                          ask run() to shut down (safe from a signal handler)

Methods a service calls on a Peer: see the Peer class below.
"""
from __future__ import annotations

import errno
import heapq
import itertools
import logging
import selectors
import signal
import socket
import ssl
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from net.connection import Connection
from net.framing import KIND_BINARY, KIND_JSON, FramingError, encode_header
from net.messages import (
    STATUSES,
    BadRequest,
    decode_body,
    encode_message,
    masked,
    reply_to,
    valid_id,
)
from net.tls import HANDSHAKE_TIMEOUT_S

log = logging.getLogger(__name__)
trace_log = logging.getLogger("chatroom.trace")

# How much one recv() may take: a quarter of a maximal chunk keeps big uploads at a few
# syscalls per frame while a slow peer's buffer stays small.
RECV_BYTES = 256 * 1024
# Accept at most this many connections per readiness event, so a connection storm on one
# listener cannot starve the peers already being served.
ACCEPT_BATCH = 64
# The kernel's queue of connections not yet accepted: big enough that 50 clients connecting at
# once are never refused (the kernel caps it at net.core.somaxconn).
LISTEN_BACKLOG = 1024
# When the process runs out of file descriptors, stop accepting for this long instead of
# spinning on a listener that stays readable.
EMFILE_PAUSE_S = 0.5
# A peer told to go away (after bad_frame, say) gets this long to read its goodbye.
CLOSE_DRAIN_S = 5.0
# How often idle and draining peers are checked.
SWEEP_INTERVAL_S = 1.0
# SIGINT/SIGTERM: how long shutdown may take before remaining peers are simply dropped
# (SPEC §8 asks for exit within 5 s).
SHUTDOWN_GRACE_S = 3.0

# TLS writes: SSL has no scatter/gather, so small queued chunks are joined up to this much
# per send (a few TLS records), and a larger chunk is sent in slices of this size.
TLS_SEND_BYTES = 64 * 1024

_OUT_OF_FDS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
_HAS_SENDMSG = hasattr(socket.socket, "sendmsg")


class Service:
    """What a listening service does with its peers. Methods you override:

        on_open(peer)                  a peer connected
        on_request(peer, request)      a J frame (a dict with a string 'op')
        on_binary(peer, data)          a B frame; raise FramingError when none is expected
        on_close(peer)                 the peer is gone (exactly once)
        idle_limit_s(peer)             seconds of silence after which the peer is closed
        on_shutdown()                  the server is stopping
    """

    name = "service"
    loop: Any = None  # set by Loop.listen

    def on_open(self, peer: "Peer") -> None:
        pass

    def on_request(self, peer: "Peer", request: Dict[str, Any]) -> None:
        peer.reply(request, "unknown_op")

    def on_binary(self, peer: "Peer", data: bytes) -> None:
        raise FramingError("binary frame outside a transfer")

    def on_close(self, peer: "Peer") -> None:
        pass

    def idle_limit_s(self, peer: "Peer") -> Optional[float]:
        return None

    def on_shutdown(self) -> None:
        pass


class TimerHandle:
    __slots__ = ("when_s", "fn", "args", "cancelled")

    def __init__(self, when_s: float, fn: Callable[..., Any], args: tuple) -> None:
        self.when_s = when_s
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Peer(Connection):
    """A Connection bound to its socket and loop. Methods for services:

        send(message)                  queue an event or reply dict
        send_encoded(frame, message)   queue pre-encoded frame bytes; message for --trace
        push(data)                     queue framed bytes, untraced (the fan-out fast path)
        send_binary(data)              queue one B frame
        reply(request, status, message=None, **fields)
        call(request, lane, fn, *args, then=callback, on_error=None)
                                       run fn(*args) on a worker; then(result) back on the loop.
                                       The peer takes no further request meanwhile; an exception
                                       becomes internal_error for that request.
        pending(request, then)         the same hold-until-done, for work handed elsewhere
        hold() / release()             pause / resume taking frames (upload backpressure)
        close()                        send what is queued, then close
        abort()                        close now, dropping what is queued
    """

    __slots__ = ("loop", "sock", "mask", "dirty", "tls")

    def __init__(self, loop: "Loop", sock: socket.socket, address: Any, service: Service,
                 now_s: float) -> None:
        super().__init__("%s:%s" % (address[0], address[1]), address[0], service,
                         getattr(service, "max_json_bytes", 65536), now_s)
        self.loop = loop
        self.sock = sock
        self.fd = sock.fileno()
        self.mask = 0
        self.dirty = False
        # None: plain TCP. 'handshake' until the TLS handshake is done, then 'open'.
        self.tls: Optional[str] = "handshake" if isinstance(sock, ssl.SSLSocket) else None

    def send(self, message: Dict[str, Any]) -> None:
        self.send_encoded(encode_message(message), message)

    def send_encoded(self, frame: bytes, message: Optional[Dict[str, Any]] = None) -> None:
        if self.loop.trace and not self.closed:
            trace_log.info("%s %s > %s", self.service.name, self.peer,
                           masked(message) if message is not None else "%d bytes" % len(frame))
        self.push(frame)

    def push(self, data: bytes) -> None:
        """Queue bytes that are already framed, without tracing: the fan-out fast path."""
        if self.closed or self.closing == "abort":
            return
        self.queue(data)
        if not self.dirty:
            self.dirty = True
            self.loop._dirty.append(self)

    def send_binary(self, data: bytes) -> None:
        if self.closed or self.closing == "abort":
            return
        if self.loop.trace:
            trace_log.info("%s %s > B %d bytes", self.service.name, self.peer, len(data))
        self.queue(encode_header(KIND_BINARY, len(data)))
        self.queue(data)
        self.loop.mark_dirty(self)

    def reply(self, request: Dict[str, Any], status: str = "ok", message: Optional[str] = None,
              **fields: Any) -> None:
        self.send(reply_to(request, status, message, **fields))

    def call(self, request: Optional[Dict[str, Any]], lane: str, fn: Callable[..., Any],
             *args: Any, then: Callable[[Any], None],
             on_error: Optional[Callable[[], None]] = None) -> None:
        self.loop.workers.submit(lane, fn, args, self.pending(request, then, on_error))

    def pending(self, request: Optional[Dict[str, Any]], then: Callable[[Any], None],
                on_error: Optional[Callable[[], None]] = None) -> Callable[..., None]:
        """Hold this peer until the returned callback(result, error) runs on the loop.
        An error is logged with its traceback and answered with internal_error."""
        self.hold()

        def done(result: Any, error: Optional[BaseException]) -> None:
            self.loop.guard(self, self._finish, request, then, on_error, result, error)
        return done

    def _finish(self, request: Optional[Dict[str, Any]], then: Callable[[Any], None],
                on_error: Optional[Callable[[], None]], result: Any,
                error: Optional[BaseException]) -> None:
        try:
            if self.closed:
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

    def hold(self) -> None:
        self.holds += 1

    def release(self) -> None:
        self.holds -= 1
        if self.holds == 0 and not self.closed:
            # Frames that arrived meanwhile are waiting in the decoder.
            self.loop.call_soon(self.loop.resume_peer, self)

    def close(self) -> None:
        if self.closed or self.closing:
            return
        self.closing = "graceful"
        self.last_seen_s = self.loop.now_s  # the drain deadline counts from here
        self.loop.mark_dirty(self)

    def abort(self) -> None:
        self.loop.close_peer(self)


class Loop:
    def __init__(self, trace: bool = False, tls: Optional[ssl.SSLContext] = None) -> None:
        self.selector = selectors.DefaultSelector()
        self.trace = trace
        self.tls = tls  # every accepted connection speaks TLS from its first byte
        # One receive buffer for every peer: the loop is one thread and each read is copied
        # into its peer's decoder at once, so nothing is allocated per read.
        self._recv_view = memoryview(bytearray(RECV_BYTES))
        self.now_s = time.monotonic()
        self.workers: Any = None  # set by the composition root (net.workers.Workers)
        self.peers: Dict[int, Peer] = {}
        self._listeners: List[Tuple[socket.socket, Service]] = []
        self._listening = True
        self._timers: List[Any] = []
        self._timer_seq = itertools.count()
        self._soon: List[Any] = []
        self._dirty: List[Peer] = []
        self._stop_requested = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.add_reader(self._wake_r, self._drain_wakeups)

    # -- setup ----------------------------------------------------------------------------

    def listen(self, host: str, port: int, service: Service) -> tuple:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: refuse port stealing
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
            else:  # POSIX: rebind at once after a restart (TIME_WAIT)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._listeners.append((sock, service))
        service.loop = self
        self.selector.register(sock, selectors.EVENT_READ, _Acceptor(self, sock, service))
        return sock.getsockname()[:2]

    def add_reader(self, sock: socket.socket, fn: Callable[[], None]) -> None:
        self.selector.register(sock, selectors.EVENT_READ, _Reader(fn))

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> TimerHandle:
        handle = TimerHandle(time.monotonic() + delay_s, fn, args)
        heapq.heappush(self._timers, (handle.when_s, next(self._timer_seq), handle))
        return handle

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self._soon.append((fn, args))

    def stop(self) -> None:
        self._stop_requested = True
        try:
            self._wake_w.send(b"\0")
        except OSError:  # buffer full: a wake-up is already pending
            pass

    # -- running --------------------------------------------------------------------------

    def run(self) -> None:
        previous = {}
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, lambda *_: self.stop())
        except ValueError:  # not the main thread (tests run servers in threads)
            previous = {}
        self.call_later(SWEEP_INTERVAL_S, self._sweep)
        try:
            while not self._stop_requested:
                self._run_once()
            self._shutdown()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _run_once(self, max_wait_s: Optional[float] = None) -> None:
        timeout = None
        if self._soon or self._dirty:
            timeout = 0
        elif self._timers:
            timeout = max(0.0, self._timers[0][0] - time.monotonic())
        if max_wait_s is not None:
            timeout = max_wait_s if timeout is None else min(timeout, max_wait_s)
        events = self.selector.select(timeout)
        self.now_s = time.monotonic()
        for key, mask in events:
            data = key.data
            if data.__class__ is Peer:
                self.guard(data, self._on_peer_event, data, mask)
            else:
                data()
        self._run_timers()
        self._run_soon()
        self._flush_dirty()

    def _run_timers(self) -> None:
        timers = self._timers
        now = self.now_s
        while timers and timers[0][0] <= now:
            handle = heapq.heappop(timers)[2]
            if not handle.cancelled:
                self._run_callback(handle.fn, handle.args)

    def _run_soon(self) -> None:
        # Callbacks queued while running these wait for the next turn: no starvation.
        soon, self._soon = self._soon, []
        for fn, args in soon:
            self._run_callback(fn, args)

    def _run_callback(self, fn: Callable[..., Any], args: tuple) -> None:
        target = args[0] if args and isinstance(args[0], Peer) else None
        if target is not None:
            self.guard(target, fn, *args)
            return
        try:
            fn(*args)
        except Exception:
            log.exception("callback %r failed", fn)

    def guard(self, peer: Peer, fn: Callable[..., Any], *args: Any) -> None:
        """Fault isolation: a bug while serving one peer closes that peer alone."""
        try:
            fn(*args)
        except Exception:
            log.exception("%s %s: error while serving; closing this connection",
                          peer.service.name, peer.peer)
            if not peer.closed:
                peer.send({"op": "error", "status": "internal_error",
                           "message": STATUSES["internal_error"]})
                peer.close()

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    # -- accepting ------------------------------------------------------------------------

    def _accept(self, listener: socket.socket, service: Service) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                sock, address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:  # the client gave up while queued
                continue
            except OSError as exc:
                if exc.errno in _OUT_OF_FDS:
                    self._pause_accepting(exc)
                    return
                raise
            self._add_peer(sock, address, service)

    def _add_peer(self, sock: socket.socket, address: Any, service: Service) -> None:
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.tls is not None:
            # The handshake is driven by the loop (_handshake), never waited for here.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        peer = Peer(self, sock, address, service, self.now_s)
        self.peers[peer.fd] = peer
        peer.mask = selectors.EVENT_READ
        self.selector.register(sock, selectors.EVENT_READ, peer)
        log.debug("%s %s connected", service.name, peer.peer)
        self.guard(peer, service.on_open, peer)

    def _pause_accepting(self, exc: OSError) -> None:
        if not self._listening:
            return
        log.warning("out of file descriptors (%s); not accepting for %.1f s", exc, EMFILE_PAUSE_S)
        self._listening = False
        for listener, _ in self._listeners:
            self.selector.unregister(listener)
        self.call_later(EMFILE_PAUSE_S, self._resume_accepting)

    def _resume_accepting(self) -> None:
        if self._listening or self._stop_requested:
            return
        self._listening = True
        for listener, service in self._listeners:
            self.selector.register(listener, selectors.EVENT_READ,
                                   _Acceptor(self, listener, service))

    # -- reading and dispatch -------------------------------------------------------------

    def _on_peer_event(self, peer: Peer, mask: int) -> None:
        if peer.tls == "handshake":
            self._handshake(peer)
            return
        if mask & selectors.EVENT_WRITE:
            self._flush(peer)
        if mask & selectors.EVENT_READ and not peer.closed:
            self._read(peer)

    def _handshake(self, peer: Peer) -> None:
        """One step of a TLS handshake; the selector calls again when the socket is ready."""
        try:
            peer.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._set_mask(peer, selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self._set_mask(peer, selectors.EVENT_WRITE)
            return
        except (ssl.SSLError, OSError) as exc:  # plain text, a port scan, a bad client
            log.debug("%s %s: TLS handshake failed: %s", peer.service.name, peer.peer, exc)
            self.close_peer(peer)
            return
        peer.tls = "open"
        self._read(peer)  # the client's first request may have come with its last flight

    def _read(self, peer: Peer) -> None:
        budget = RECV_BYTES
        got_data = False
        sock = peer.sock
        view = self._recv_view
        while budget > 0:
            try:
                size = sock.recv_into(view, budget)
            except _WOULD_BLOCK:
                break
            except OSError as exc:  # reset by peer, a broken TLS record: close quietly
                log.debug("%s %s: read failed: %s", peer.service.name, peer.peer, exc)
                self.close_peer(peer)
                return
            if not size:
                if peer.decoder.has_partial:
                    log.debug("%s %s closed in the middle of a frame", peer.service.name,
                              peer.peer)
                self.close_peer(peer)
                return
            got_data = True
            peer.decoder.feed(view[:size])  # the decoder copies: the buffer is reused
            budget -= size
            if peer.tls is None:
                break  # plain TCP: one recv per readiness event is enough
        if got_data:
            peer.last_seen_s = self.now_s
            self._take_frames(peer)
        if peer.tls is not None and not peer.closed and peer.wants_read and sock.pending():
            # Decrypted bytes wait inside the SSL object, where the selector cannot see them.
            self.call_soon(self._read, peer)
        self._update_interest(peer)

    def resume_peer(self, peer: Peer) -> None:
        if not peer.closed:
            self._take_frames(peer)
            if peer.tls == "open" and peer.wants_read and peer.sock.pending():
                self._read(peer)
                return
            self._update_interest(peer)

    def _take_frames(self, peer: Peer) -> None:
        service = peer.service
        while peer.may_take_frame:
            try:
                frame = peer.decoder.next_frame()
                if frame is None:
                    return
                if frame.kind == KIND_JSON:
                    request = decode_body(frame.body)
                    if self.trace:
                        trace_log.info("%s %s < %s", service.name, peer.peer, masked(request))
                    self.dispatch(peer, request)
                else:
                    if self.trace:
                        trace_log.info("%s %s < B %d bytes", service.name, peer.peer,
                                       len(frame.body))
                    service.on_binary(peer, frame.body)
            except FramingError as exc:
                log.info("%s %s: bad frame: %s", service.name, peer.peer, exc)
                peer.send({"op": "error", "status": "bad_frame", "message": str(exc)})
                peer.close()
                return

    def dispatch(self, peer: Peer, request: Dict[str, Any]) -> None:
        """Hand one request to the peer's service; field errors become bad_request. A service
        that held a request back hands it in here again when it is ready for it."""
        if "id" in request and not valid_id(request["id"]):
            peer.reply(request, "bad_request", "'id' must be a number or a string")
            return
        try:
            peer.service.on_request(peer, request)
        except BadRequest as exc:
            peer.reply(request, "bad_request", str(exc))

    # -- writing --------------------------------------------------------------------------

    def mark_dirty(self, peer: Peer) -> None:
        if not peer.dirty:
            peer.dirty = True
            self._dirty.append(peer)

    def _flush_dirty(self) -> None:
        # Corking: everything queued during this turn goes out in one send per peer.
        dirty, self._dirty = self._dirty, []
        for peer in dirty:
            peer.dirty = False
            if not peer.closed:
                self.guard(peer, self._flush, peer)

    def _flush(self, peer: Peer) -> None:
        if peer.outbox_bytes:
            self._send_some(peer)
            if peer.closed:
                return
        if peer.over_cutoff:
            log.warning("%s %s: %d bytes unsent; the peer is not reading, closing it",
                        peer.service.name, peer.peer, peer.outbox_bytes)
            self.close_peer(peer)
            return
        if peer.closing == "graceful" and not peer.outbox_bytes:
            self.close_peer(peer)
            return
        if peer.on_drain is not None and not peer.closing:
            peer.on_drain(peer)  # a download refills its outbox here
        if peer.decoder.buffered_bytes and peer.may_take_frame:
            self._take_frames(peer)  # requests that waited for the outbox to drain
        self._update_interest(peer)

    def _send_some(self, peer: Peer) -> None:
        sock = peer.sock
        while peer.outbox_bytes:
            chunks = peer.pending_chunks()
            try:
                if peer.tls is not None:
                    chunks = [_tls_slice(chunks)]
                    sent = sock.send(chunks[0])
                elif len(chunks) == 1:
                    sent = sock.send(chunks[0])
                elif _HAS_SENDMSG:
                    sent = sock.sendmsg(chunks)
                else:  # Windows: one join is cheaper than one syscall per chunk
                    sent = sock.send(b"".join(chunks))
            except _WOULD_BLOCK:
                return
            except OSError as exc:
                log.debug("%s %s: write failed: %s", peer.service.name, peer.peer, exc)
                self.close_peer(peer)
                return
            peer.consume(sent)
            if sent < sum(map(len, chunks)):
                return  # the kernel buffer is full; wait for EVENT_WRITE

    def _update_interest(self, peer: Peer) -> None:
        if peer.closed or peer.tls == "handshake":
            return
        peer.update_flow()
        mask = 0
        if peer.wants_read:
            mask |= selectors.EVENT_READ
        if peer.outbox_bytes:
            mask |= selectors.EVENT_WRITE
        self._set_mask(peer, mask)

    def _set_mask(self, peer: Peer, mask: int) -> None:
        if mask == peer.mask:
            return
        if peer.mask == 0:
            self.selector.register(peer.sock, mask, peer)
        elif mask == 0:
            self.selector.unregister(peer.sock)
        else:
            self.selector.modify(peer.sock, mask, peer)
        peer.mask = mask

    # -- closing --------------------------------------------------------------------------

    def close_peer(self, peer: Peer) -> None:
        """Drop the peer now; on_close runs exactly once."""
        if peer.closed:
            return
        peer.closed = True
        peer.on_drain = None
        peer.discard_outbox()
        if peer.mask:
            try:
                self.selector.unregister(peer.sock)
            except (KeyError, ValueError):
                pass
            peer.mask = 0
        self.peers.pop(peer.fd, None)
        try:
            peer.sock.close()
        except OSError:
            pass
        log.debug("%s %s closed", peer.service.name, peer.peer)
        try:
            peer.service.on_close(peer)
        except Exception:
            log.exception("%s %s: on_close failed", peer.service.name, peer.peer)

    def _sweep(self) -> None:
        """Close idle peers and peers that will not take their goodbye."""
        now = self.now_s = time.monotonic()
        for peer in list(self.peers.values()):
            if peer.closed:
                continue
            if peer.closing:
                if now - peer.last_seen_s > CLOSE_DRAIN_S:
                    self.close_peer(peer)
                continue
            if peer.tls == "handshake" and now - peer.opened_s > HANDSHAKE_TIMEOUT_S:
                log.info("%s %s: no TLS handshake in %.0f s, closing", peer.service.name,
                         peer.peer, HANDSHAKE_TIMEOUT_S)
                self.close_peer(peer)
                continue
            limit_s = peer.service.idle_limit_s(peer)
            if limit_s is not None and now - peer.last_seen_s > limit_s:
                log.info("%s %s: idle for %.0f s, closing", peer.service.name, peer.peer,
                         now - peer.last_seen_s)
                self.close_peer(peer)
        if not self._stop_requested:
            self.call_later(SWEEP_INTERVAL_S, self._sweep)

    def _shutdown(self) -> None:
        log.info("shutting down")
        for listener, _ in self._listeners:
            if self._listening:
                self.selector.unregister(listener)
            listener.close()
        self._listening = False
        services = {id(service): service for _, service in self._listeners}
        for service in services.values():
            try:
                service.on_shutdown()
            except Exception:
                log.exception("%s: shutdown failed", service.name)
        if self.workers is not None:
            self.workers.run_pending()  # acknowledgements of the last stored messages
        deadline = time.monotonic() + SHUTDOWN_GRACE_S
        # Let pending work (database writes, their acknowledgements) finish, then say goodbye.
        while time.monotonic() < deadline:
            busy = any(peer.holds for peer in self.peers.values())
            if not busy and not self._soon:
                break
            self._run_once(max_wait_s=0.05)
        for peer in list(self.peers.values()):
            peer.close()
        self._flush_dirty()
        while self.peers and time.monotonic() < deadline:
            self._run_once(max_wait_s=0.05)
        for peer in list(self.peers.values()):
            self.close_peer(peer)
        if self.workers is not None:
            self.workers.shutdown()
        self.selector.close()
        self._wake_r.close()
        self._wake_w.close()


def _tls_slice(chunks: List[Any]) -> Any:
    """What one TLS send gets: small chunks joined up to TLS_SEND_BYTES, or the first slice
    of a large chunk. The same outbox always gives the same prefix, as a retried SSL write
    requires."""
    first = chunks[0]
    if len(first) >= TLS_SEND_BYTES or len(chunks) == 1:
        return first[:TLS_SEND_BYTES] if len(first) > TLS_SEND_BYTES else first
    picked, total = [], 0
    for chunk in chunks:
        if total + len(chunk) > TLS_SEND_BYTES:
            break
        picked.append(chunk)
        total += len(chunk)
    return b"".join(picked)


class _Acceptor:
    """Selector data for a listening socket."""

    __slots__ = ("loop", "sock", "service")

    def __init__(self, loop: Loop, sock: socket.socket, service: Service) -> None:
        self.loop = loop
        self.sock = sock
        self.service = service

    def __call__(self) -> None:
        self.loop._accept(self.sock, self.service)


class _Reader:
    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn

    def __call__(self) -> None:
        self.fn()
