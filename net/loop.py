"""The event loop: THE one server module that touches sockets and the selector.

One thread, one ``selectors`` selector, non-blocking sockets. The loop accepts peers, reads
their bytes into each peer's decoder, hands whole messages to the peer's service, and drains
every peer's outbox as the kernel takes it. Nothing here waits: slow work goes to the worker
bridge (net/workers.py) and comes back as a callback on this thread. Whatever goes wrong with
one connection (accept, handshake, read, write, a service bug) closes that connection alone.

Methods for callers (the composition root):
    listen(host, port, service)     bind a listening socket; returns the real (host, port)
    add_reader(sock, fn)            call fn() when sock is readable (the worker bridge uses it)
    run()                           serve until stop() or SIGINT/SIGTERM, then shut down
    stop()                          ask run() to shut down (safe from a signal handler)
Methods for services: net/service.py's LoopAPI (call_soon, call_later, submit, guard,
dispatch); and for peers (net/peer.py): mark_dirty, resume_peer, close_peer.
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

from net.connection import Phase
from net.framing import FramingError
from net.messages import STATUSES, BadRequest, encode_message, masked, valid_id
from net.peer import Peer, Transport
from net.service import Service, TimerHandle
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
# (docs/PROTOCOL.md §8 asks for exit within 5 s; the workers and the writer need the rest).
SHUTDOWN_GRACE_S = 2.5
# TLS writes: SSL has no scatter/gather, so small queued chunks are joined up to this much
# per send (a few TLS records), and a larger chunk is sent in slices of this size.
TLS_SEND_BYTES = 64 * 1024

_OUT_OF_FDS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
_HAS_SENDMSG = hasattr(socket.socket, "sendmsg")
_TOO_MANY = encode_message({"op": "error", "status": "rate_limited",
                           "message": "Too many connections from your address; close some "
                                      "and try again."})


class Loop:
    def __init__(self, trace: bool = False, tls: Optional[ssl.SSLContext] = None,
                 max_conns_per_ip: int = 0) -> None:
        self.selector = selectors.DefaultSelector()
        self.trace = trace
        self.tls = tls  # every accepted connection speaks TLS from its first byte
        # docs/PROTOCOL.md §10: one address may not hold every descriptor we have; 0 = no cap.
        self.max_conns_per_ip = max_conns_per_ip
        # One receive buffer for every peer: the loop is one thread and each read is copied
        # into its peer's decoder at once, so nothing is allocated per read.
        self._recv_view = memoryview(bytearray(RECV_BYTES))
        self.now_s = time.monotonic()
        self.workers: Any = None  # set by the composition root (net.workers.Workers)
        self.peers: Dict[int, Peer] = {}
        self._per_host: Dict[str, int] = {}
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

    # -- the API for services (net/service.py LoopAPI) ------------------------------------

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> TimerHandle:
        handle = TimerHandle(time.monotonic() + delay_s, fn, args)
        heapq.heappush(self._timers, (handle.when_s, next(self._timer_seq), handle))
        return handle

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self._soon.append((fn, args))

    def submit(self, lane: str, fn: Callable[..., Any], args: tuple, callback: Any) -> None:
        self.workers.submit(lane, fn, args, callback)

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

    def dispatch(self, peer: Peer, request: Dict[str, Any]) -> None:
        """Hand one request to the peer's service; field errors become bad_request. A service
        that held a request back hands it in here again when it is ready for it."""
        if "id" in request and not valid_id(request["id"]):
            # docs/PROTOCOL.md §3: the reply cannot carry an id it could not echo safely.
            del request["id"]
            peer.reply(request, "bad_request", "'id' must be a string of at most 128 "
                       "characters or a finite number of magnitude at most 2^53")
            return
        try:
            peer.service.on_request(peer, request)
        except BadRequest as exc:
            peer.reply(request, exc.status, str(exc))

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
                self._run_callback(data, ())
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
        if args and args[0].__class__ is Peer:
            self.guard(args[0], fn, *args)
            return
        try:
            fn(*args)
        except Exception:  # a bug in a timer or a listener: log it, keep serving everyone
            log.exception("callback %r failed", fn)

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
            except OSError as exc:
                if exc.errno in _OUT_OF_FDS:
                    self._pause_accepting(exc)
                    return
                # ECONNABORTED, EPROTO, EPERM (a firewall): that one connection failed.
                log.debug("%s: accept failed: %s", service.name, exc)
                continue
            try:
                self._add_peer(sock, address, service)
            except OSError as exc:  # reset before we could set it up (or wrap it in TLS)
                log.debug("%s %s: dropped while accepting: %s", service.name, address, exc)
                sock.close()

    def _add_peer(self, sock: socket.socket, address: Any, service: Service) -> None:
        sock.setblocking(False)
        host = address[0]
        count = self._per_host.get(host, 0)
        if self.max_conns_per_ip and count >= self.max_conns_per_ip:
            self._refuse(sock, host, service)
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.tls is not None:
            # The handshake is driven by the loop (_handshake), never waited for here.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        peer = Peer(self, sock, address, service, self.now_s)
        self._per_host[host] = count + 1
        self.peers[peer.fd] = peer
        peer.mask = selectors.EVENT_READ
        self.selector.register(sock, selectors.EVENT_READ, peer)
        log.debug("%s %s connected", service.name, peer.peer)
        self.guard(peer, service.on_open, peer)

    def _refuse(self, sock: socket.socket, host: str, service: Service) -> None:
        """Over the per-address cap: say why in one frame when the kernel takes it at once
        (plain TCP), and close. With TLS the goodbye would need a handshake first; a refused
        connection gets none of our time, so it is simply closed."""
        log.info("%s: refusing a connection from %s (%d open)", service.name, host,
                 self._per_host.get(host, 0))
        if self.tls is None:
            try:
                sock.send(_TOO_MANY)
            except OSError:
                pass
        sock.close()

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
        if peer.transport is Transport.TLS_HANDSHAKE:
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
        except (ssl.SSLError, OSError) as exc:  # plain text, a port scan, a reset
            log.debug("%s %s: TLS handshake failed: %s", peer.service.name, peer.peer, exc)
            self.close_peer(peer)
            return
        peer.transport = Transport.TLS
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
                # The peer sent its last byte (a half-close, or a close we cannot yet tell
                # from one): it still gets the replies to what it sent (_take_frames closes).
                peer.eof = True
                break
            got_data = True
            peer.decoder.feed(view[:size])  # the decoder copies: the buffer is reused
            budget -= size
            if peer.transport is Transport.PLAIN:
                break  # plain TCP: one recv per readiness event is enough
        if got_data:
            peer.last_seen_s = self.now_s
        self._take_frames(peer)
        if (peer.transport is Transport.TLS and peer.wants_read and not peer.eof
                and sock.pending()):
            # Decrypted bytes wait inside the SSL object, where the selector cannot see them.
            self.call_soon(self._read, peer)
        self._update_interest(peer)


    def resume_peer(self, peer: Peer) -> None:
        if peer.closed:
            return
        self._take_frames(peer)
        if (peer.transport is Transport.TLS and peer.wants_read and not peer.eof
                and peer.sock.pending()):
            self._read(peer)
            return
        self._update_interest(peer)

    def _take_frames(self, peer: Peer) -> None:
        service = peer.service
        trace = self.trace
        try:
            while True:
                message = peer.next_message()
                if message is None:
                    break
                if message.__class__ is dict:
                    if trace:
                        trace_log.info("%s %s < %s", service.name, peer.peer, masked(message))
                    self.dispatch(peer, message)
                else:
                    if trace:
                        trace_log.info("%s %s < B %d bytes", service.name, peer.peer,
                                       len(message))
                    service.on_binary(peer, message)
        except FramingError as exc:
            log.info("%s %s: bad frame: %s", service.name, peer.peer, exc)
            peer.send({"op": "error", "status": "bad_frame", "message": str(exc)})
            peer.close()
            return
        if peer.eof and not peer.holds and not peer.tasks and peer.phase is Phase.OPEN:
            if not peer.may_take_frame:
                return  # paused by flow control: frames may be left, taken after a drain
            if peer.decoder.has_partial:
                log.debug("%s %s closed in the middle of a frame", service.name, peer.peer)
            peer.close()  # everything it asked is answered: send that, then close

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
        if peer.outbox_bytes and peer.transport is not Transport.TLS_HANDSHAKE:
            self._send_some(peer)
            if peer.closed:
                return
        if peer.over_cutoff:
            log.warning("%s %s: %d bytes unsent; the peer is not reading, closing it",
                        peer.service.name, peer.peer, peer.outbox_bytes)
            self.close_peer(peer)
            return
        if peer.closing:
            if not peer.outbox_bytes:
                self.close_peer(peer)
            return
        if peer.on_drain is not None:
            peer.on_drain(peer)  # a download refills its outbox here
        if peer.decoder.buffered_bytes and peer.may_take_frame:
            self._take_frames(peer)  # requests that waited for the outbox to drain
        self._update_interest(peer)

    def _send_some(self, peer: Peer) -> None:
        sock = peer.sock
        while peer.outbox_bytes:
            chunks = peer.pending_chunks()
            try:
                if peer.transport is Transport.TLS:
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
            peer.last_sent_s = self.now_s
            if sent < sum(map(len, chunks)):
                return  # the kernel buffer is full; wait for EVENT_WRITE

    def _update_interest(self, peer: Peer) -> None:
        if peer.closed or peer.transport is Transport.TLS_HANDSHAKE:
            return
        peer.update_flow()
        mask = 0
        if peer.wants_read and not peer.eof:
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
        peer.phase = Phase.CLOSED
        peer.on_drain = None
        peer.discard_outbox()
        if peer.mask:
            try:
                self.selector.unregister(peer.sock)
            except (KeyError, ValueError):
                pass
            peer.mask = 0
        if self.peers.pop(peer.fd, None) is not None:
            left = self._per_host[peer.host] - 1
            if left:
                self._per_host[peer.host] = left
            else:
                del self._per_host[peer.host]
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
        """Close peers past a deadline: draining, handshaking, or as their service says."""
        now = self.now_s = time.monotonic()
        for peer in list(self.peers.values()):
            if peer.closed:
                continue
            if peer.closing:
                if now - peer.last_seen_s > CLOSE_DRAIN_S:
                    self.close_peer(peer)
                continue
            if peer.transport is Transport.TLS_HANDSHAKE:
                if now - peer.opened_s > HANDSHAKE_TIMEOUT_S:
                    log.info("%s %s: no TLS handshake in %.0f s, closing", peer.service.name,
                             peer.peer, HANDSHAKE_TIMEOUT_S)
                    self.close_peer(peer)
                continue
            try:
                reason = peer.service.timeout_reason(peer, now)
            except Exception:
                log.exception("%s %s: timeout check failed", peer.service.name, peer.peer)
                reason = "a failed check"
            if reason:
                log.info("%s %s: %s, closing", peer.service.name, peer.peer, reason)
                self.close_peer(peer)
        if not self._stop_requested:
            self.call_later(SWEEP_INTERVAL_S, self._sweep)

    def _shutdown(self) -> None:
        log.info("shutting down")
        deadline = time.monotonic() + SHUTDOWN_GRACE_S
        for listener, _ in self._listeners:
            if self._listening:
                self.selector.unregister(listener)
            listener.close()
        self._listening = False
        if self.workers is not None:
            self.workers.drop_queued()  # queued logins and the like: nobody will wait for them
        services = {id(service): service for _, service in self._listeners}
        for service in services.values():
            try:
                service.on_shutdown()
            except Exception:
                log.exception("%s: shutdown failed", service.name)
        if self.workers is not None:
            self.workers.run_pending()  # acknowledgements of the last stored messages
        # Let running work (database writes, their acknowledgements) finish, then say goodbye.
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
