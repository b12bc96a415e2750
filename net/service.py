"""The contract between the loop and a service: what a service implements, and the small API
it may call. A service (server/) knows only this module, the messages and the rules; it never
sees a socket or the selector.

Methods a service overrides (Service):
    on_open(peer)                  a peer connected
    on_request(peer, request)      a J frame (a dict with a string 'op')
    on_binary(peer, data)          a B frame; raise FramingError when none is expected
    on_close(peer)                 the peer is gone (exactly once)
    idle_limit_s(peer)             seconds of silence after which the peer is closed
    timeout_reason(peer, now_s)    why the peer is to be closed now, or None (checked each
                                   second; by default from idle_limit_s)
    on_shutdown()                  the server is stopping

What a service may call on a peer: see PeerAPI. On the loop (``self.loop``): see LoopAPI.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from net.framing import FramingError

try:  # typing.Protocol is in the standard library from 3.8; keep a fallback for tools
    from typing import Protocol
except ImportError:  # pragma: no cover
    Protocol = object  # type: ignore[assignment,misc]

Request = Dict[str, Any]
WorkerCallback = Callable[[Any, Optional[BaseException]], None]


class TimerHandle:
    """A call scheduled with call_later; cancel() makes it a no-op."""

    __slots__ = ("when_s", "fn", "args", "cancelled")

    def __init__(self, when_s: float, fn: Callable[..., Any], args: tuple) -> None:
        self.when_s = when_s
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class PeerAPI(Protocol):
    """One connection as a service sees it (implemented by net/peer.py's Peer).

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
        begin_task() / end_task()      work that will still answer the peer (a stored say):
                                       a peer that half-closed waits for it before closing
        close()                        send what is queued, then close
        abort()                        close now, dropping what is queued
    Fields: state (the service's per-connection object), service (its Service), host (the
    peer's IP address),
    peer ("host:port", for logs), closed, closing (close() was called: only what is queued
    still goes out), outbox_bytes, opened_s, last_seen_s, on_drain.
    """

    state: Any
    service: Any
    host: str
    peer: str
    outbox_bytes: int
    opened_s: float
    last_seen_s: float
    on_drain: Any

    @property
    def closed(self) -> bool: ...

    @property
    def closing(self) -> bool: ...

    def send(self, message: Request) -> None: ...

    def send_encoded(self, frame: bytes, message: Optional[Request] = None) -> None: ...

    def push(self, data: bytes) -> None: ...

    def send_binary(self, data: bytes) -> None: ...

    def reply(self, request: Request, status: str = "ok", message: Optional[str] = None,
              **fields: Any) -> None: ...

    def call(self, request: Optional[Request], lane: str, fn: Callable[..., Any], *args: Any,
             then: Callable[[Any], None],
             on_error: Optional[Callable[[], None]] = None) -> None: ...

    def pending(self, request: Optional[Request], then: Callable[[Any], None],
                on_error: Optional[Callable[[], None]] = None) -> WorkerCallback: ...

    def hold(self) -> None: ...

    def release(self) -> None: ...

    def begin_task(self) -> None: ...

    def end_task(self) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class LoopAPI(Protocol):
    """What a service may ask of the loop (implemented by net/loop.py's Loop).

        call_soon(fn, *args)           run fn on the next turn
        call_later(delay_s, fn, *args) run fn later; returns a TimerHandle
        submit(lane, fn, args, callback)  run fn(*args) on a worker lane; callback(result,
                                       error) later on the loop (work tied to no request)
        guard(peer, fn, *args)         run fn; an exception closes that peer alone
        dispatch(peer, request)        hand a request the service held back to it again
        trace                          True when every frame is logged (--trace)
        now_s                          the loop's clock (time.monotonic) at this turn
    """

    trace: bool
    now_s: float

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None: ...

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> TimerHandle: ...

    def submit(self, lane: str, fn: Callable[..., Any], args: tuple,
               callback: WorkerCallback) -> None: ...

    def guard(self, peer: Any, fn: Callable[..., Any], *args: Any) -> None: ...

    def dispatch(self, peer: Any, request: Request) -> None: ...


class Service:
    """What a listening service does with its peers; override what you need."""

    name = "service"
    max_json_bytes = 65536
    loop: LoopAPI  # set by Loop.listen

    def on_open(self, peer: PeerAPI) -> None:
        pass

    def on_request(self, peer: PeerAPI, request: Request) -> None:
        peer.reply(request, "unknown_op")

    def on_binary(self, peer: PeerAPI, data: bytes) -> None:
        raise FramingError("binary frame outside a transfer")

    def on_close(self, peer: PeerAPI) -> None:
        pass

    def idle_limit_s(self, peer: PeerAPI) -> Optional[float]:
        return None

    def timeout_reason(self, peer: PeerAPI, now_s: float) -> Optional[str]:
        """Asked about every open peer once a second: a sentence saying why the peer is to be
        closed now, or None. By default: silent for longer than idle_limit_s."""
        limit_s = self.idle_limit_s(peer)
        if limit_s is not None and now_s - peer.last_seen_s > limit_s:
            return "silent for %.0f s" % (now_s - peer.last_seen_s)
        return None

    def on_shutdown(self) -> None:
        pass
