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

import logging
import selectors
import signal
import socket
import ssl
import time
from typing import Any, Callable, Dict, List, Optional

from net.chaos import Chaos
from net.connection import OUTBOX_HIGH_BYTES, Phase
from net.framing import FramingError
from net.listeners import TOO_MANY_FRAME, Listeners
from net.messages import STATUSES, BadRequest, check_id
from net.peer import Peer, Transport
from net.sending import send_in_pieces, send_some
from net.service import Service, TimerHandle
from net.timers import Timers

log = logging.getLogger(__name__)

# How much one recv() may take: a quarter of a maximal chunk keeps big uploads at a few
# syscalls per frame while a slow peer's buffer stays small.
RECV_BYTES = 256 * 1024
# How many frames of one peer are served in one loop turn. The rest wait in its decoder for
# the next turn, after every other peer's events (docs/PROTOCOL.md §10): a client pipelining
# thousands of tiny requests, or an upload in one-byte frames, gets its share of the loop, not
# all of it. 32 requests are well under a millisecond.
FRAMES_PER_TURN = 32
# How often idle and draining peers are checked.
SWEEP_INTERVAL_S = 1.0
# SIGINT/SIGTERM: how long shutdown may take before remaining peers are simply dropped
# (docs/PROTOCOL.md §8 asks for exit within 5 s; the workers and the writer need the rest).
SHUTDOWN_GRACE_S = 2.5

_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
_READ, _WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
_CLOSING, _CLOSED, _TLS_HANDSHAKE = Phase.CLOSING, Phase.CLOSED, Transport.TLS_HANDSHAKE


class Loop:
    def __init__(self, trace: bool = False, tls: Optional[ssl.SSLContext] = None,
                 max_conns_per_ip: int = 0, chaos: Optional[Chaos] = None) -> None:
        self.selector = selectors.DefaultSelector()
        self.trace = trace
        self.chaos = chaos  # --chaos: every peer's reads and writes cut at random (net/chaos.py)
        self.tls = tls  # every accepted connection speaks TLS from its first byte
        # One receive buffer for every peer: the loop is one thread and each read is copied
        # into its peer's decoder at once, so nothing is allocated per read.
        self._recv_view = memoryview(bytearray(RECV_BYTES))
        self.now_s = time.monotonic()
        self.workers: Any = None  # set by the composition root (net.workers.Workers)
        self.peers: Dict[int, Peer] = {}
        self._timers = Timers()
        self._dirty: List[Peer] = []
        self._stop_requested = False
        self._signals: Optional[Dict[int, Any]] = None
        # docs/PROTOCOL.md §10: one address may not hold every descriptor we have; 0 = no cap.
        self._listeners = Listeners(self.selector, self._admit, self.call_later,
                                    max_conns_per_ip, tls is not None)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.add_reader(self._wake_r, self._drain_wakeups)

    # -- setup ----------------------------------------------------------------------------

    def listen(self, host: str, port: int, service: Service) -> tuple:
        service.loop = self
        return self._listeners.listen(host, port, service)

    def adopt(self, sock: socket.socket, service: Service) -> tuple:
        service.loop = self
        return self._listeners.adopt(sock, service)

    def add_reader(self, sock: socket.socket, fn: Callable[[], None]) -> None:
        self.selector.register(sock, selectors.EVENT_READ, fn)

    # -- the API for services (net/service.py LoopAPI) ------------------------------------

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> TimerHandle:
        return self._timers.call_later(delay_s, fn, *args)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self._timers.call_soon(fn, *args)

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
        try:
            check_id(request)
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

    def handle_signals(self) -> None:
        """From now on SIGINT/SIGTERM stop the loop. The composition root calls this before
        it says 'listening', so a signal sent the moment it does is not lost; run() calls it
        too. Only the main thread may (tests run servers in threads)."""
        if self._signals is not None:
            return
        self._signals = {}
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._signals[signum] = signal.signal(signum, lambda *_: self.stop())
        except ValueError:
            pass

    def run(self) -> None:
        self.handle_signals()
        self.call_later(SWEEP_INTERVAL_S, self._sweep)
        try:
            while not self._stop_requested:
                self._run_once()
            self._shutdown()
        finally:
            for signum, handler in (self._signals or {}).items():
                signal.signal(signum, handler)

    def _run_once(self, max_wait_s: Optional[float] = None) -> None:
        timeout = self._timers.timeout_s(bool(self._dirty))
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
        self._timers.run_due(self.now_s, self._run_callback)
        self._flush_dirty()

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

    # -- admitting ----------------------------------------------------------------------

    def _admit(self, sock: socket.socket, address: Any, service: Service, refused: bool) -> None:
        """A new connection from the listeners. ``refused``: a TLS connection over the
        per-address cap, told why once its handshake is done, then closed."""
        peer = Peer.accepted(self, sock, address, service, self.tls, self.chaos, refused)
        if not refused:
            self._listeners.opened(peer.host)
        self.peers[peer.fd] = peer
        peer.mask = selectors.EVENT_READ
        self.selector.register(peer.sock, selectors.EVENT_READ, peer)
        log.debug("%s %s connected", service.name, peer.peer)
        if not refused:
            self.guard(peer, service.on_open, peer)

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
        if peer.refused:
            peer.push(TOO_MANY_FRAME)
            peer.close()
            return
        self._read(peer)  # the client's first request may have come with its last flight

    def _read(self, peer: Peer) -> None:
        budget = RECV_BYTES
        got_data = False
        sock = peer.sock
        view = self._recv_view
        chaos = peer.chaos
        while budget > 0:
            try:
                size = sock.recv_into(view, budget if chaos is None else chaos.recv_bytes(budget))
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
            if chaos is not None:
                chaos.count_in(size)
            peer.decoder.feed(view[:size])  # the decoder copies: the buffer is reused
            budget -= size
            if peer.transport is Transport.PLAIN:
                break  # plain TCP: one recv per readiness event is enough
        if got_data:
            peer.last_seen_s = self.now_s
        self.resume_peer(peer)

    def resume_peer(self, peer: Peer) -> None:
        """Serve what the decoder holds, then wait for the socket again."""
        if peer.closed:
            return
        self._take_frames(peer)
        if (peer.transport is Transport.TLS and peer.wants_read and not peer.eof
                and peer.sock.pending()):
            # Decrypted bytes wait inside the SSL object, where the selector cannot see them.
            self.call_soon(self._read, peer)
        self._update_interest(peer)

    def _take_frames(self, peer: Peer) -> None:
        service = peer.service
        trace = self.trace
        try:
            for _ in range(FRAMES_PER_TURN):
                message = peer.next_message()
                if message is None:
                    break
                if trace:
                    peer.trace_in(message)
                if message.__class__ is dict:
                    self.dispatch(peer, message)
                else:
                    service.on_binary(peer, message)
            else:  # its turn is used up: the rest of what it sent waits for the next one
                if peer.decoder.buffered_bytes and peer.phase is Phase.OPEN:
                    self.call_soon(self.resume_peer, peer)
                return
        except FramingError as exc:
            log.info("%s %s: bad frame: %s", service.name, peer.peer, exc)
            peer.send({"op": "error", "status": "bad_frame", "message": str(exc)})
            peer.close()
            return
        if peer.all_answered:  # it half-closed: send the replies, then close
            peer.close()

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
            if peer.phase is not _CLOSED:
                self.guard(peer, self._flush, peer)

    def _flush(self, peer: Peer) -> None:
        if peer.outbox_bytes and peer.transport is not _TLS_HANDSHAKE:
            self._send_some(peer)
            if peer.phase is _CLOSED:
                return
        if peer.over_cutoff:
            log.warning("%s %s: %d bytes unsent; the peer is not reading, closing it",
                        peer.service.name, peer.peer, peer.outbox_bytes)
            self.close_peer(peer)
            return
        if peer.phase is _CLOSING:
            if not peer.outbox_bytes:
                self.close_peer(peer)
            return
        if peer.on_drain is not None:
            peer.on_drain(peer)  # a download refills its outbox here
        if peer.decoder.buffered_bytes and peer.may_take_frame:
            self._take_frames(peer)  # requests that waited for the outbox to drain
        self._update_interest(peer)

    def _send_some(self, peer: Peer) -> None:
        """Put out what the kernel takes (net/sending.py); a failed write closes the peer."""
        chaos = peer.chaos
        if chaos is None:
            ok = send_some(peer, self.now_s)
        else:  # --chaos: sometimes everything waits a few ms, then leaves merged
            if chaos.holding:
                return
            hold_s = chaos.hold_s()
            if hold_s:
                chaos.holding = True  # write interest is off meanwhile: no spinning
                self.call_later(hold_s, self._end_hold, peer)
                return
            ok = send_in_pieces(peer, chaos, self.now_s)
        if not ok:
            self.close_peer(peer)

    def _end_hold(self, peer: Peer) -> None:
        if peer.chaos is not None:
            peer.chaos.holding = False
        if not peer.closed:
            self._flush(peer)

    def _update_interest(self, peer: Peer) -> None:
        if peer.phase is _CLOSED or peer.transport is _TLS_HANDSHAKE:
            return
        if peer.reading_paused or peer.outbox_bytes > OUTBOX_HIGH_BYTES:
            peer.update_flow()  # below the high water mark an unpaused peer stays unpaused
        mask = 0
        if peer.wants_read and not peer.eof:
            mask = _READ
        if peer.outbox_bytes and (peer.chaos is None or not peer.chaos.holding):
            mask |= _WRITE
        if mask != peer.mask:
            self._set_mask(peer, mask)

    def _set_mask(self, peer: Peer, mask: int) -> None:
        if mask == peer.mask:
            return
        if peer.mask == 0:
            self.selector.register(peer.sock, mask, peer)
        elif mask == 0:
            try:
                self.selector.unregister(peer.sock)
            except (KeyError, ValueError):  # the socket is already gone
                pass
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
            self._set_mask(peer, 0)
        if self.peers.pop(peer.fd, None) is not None:
            self._listeners.closed(peer.host, peer.refused)
        try:
            peer.sock.close()
        except OSError:
            pass
        log.debug("%s %s closed", peer.service.name, peer.peer)
        if peer.chaos is not None:  # what TCP would have done to it (docs/LABS.md, lab 2)
            log.info("%s %s: chaos: %s", peer.service.name, peer.peer, peer.chaos.summary())
        try:
            peer.service.on_close(peer)
        except Exception:
            log.exception("%s %s: on_close failed", peer.service.name, peer.peer)

    def _sweep(self) -> None:
        """Close every peer past one of its deadlines (net/peer.py overdue)."""
        now = self.now_s = time.monotonic()
        for peer in list(self.peers.values()):
            reason = None if peer.closed else peer.overdue(now)
            if reason:
                log.info("%s %s: %s; closing", peer.service.name, peer.peer, reason)
                self.close_peer(peer)
        if not self._stop_requested:
            self.call_later(SWEEP_INTERVAL_S, self._sweep)

    def _shutdown(self) -> None:
        log.info("shutting down")
        deadline = time.monotonic() + SHUTDOWN_GRACE_S
        self._listeners.close()
        if self.workers is not None:
            self.workers.drop_queued()  # queued logins and the like: nobody will wait for them
        for service in self._listeners.services:
            try:
                service.on_shutdown()
            except Exception:
                log.exception("%s: shutdown failed", service.name)
        if self.workers is not None:
            self.workers.run_pending()  # acknowledgements of the last stored messages
        # Let running work (database writes, their acknowledgements) finish, then say goodbye.
        while time.monotonic() < deadline:
            busy = any(peer.holds for peer in self.peers.values())
            if not busy and not self._timers.has_soon:
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
