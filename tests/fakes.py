"""A loop and peers without sockets, for unit tests of the services (server/) and the fan-out:
they implement net/service.py's LoopAPI and PeerAPI, and record what a peer was sent."""
from __future__ import annotations

import json
import queue
import struct
from typing import Any, Callable, Dict, List, Optional


def decode_frames(data: bytes) -> List[Any]:
    """Split bytes into frames, independently of net/ (struct + json)."""
    out = []
    while data:
        kind, length = struct.unpack_from(">BI", data)
        body = data[5:5 + length]
        out.append(json.loads(body) if kind == 0x4A else body)
        data = data[5 + length:]
    return out


class FakeLoop:
    """Worker jobs run when the test says (run_jobs), or at once with eager=True; results
    posted from other threads (the message writer) wait in a queue until pump()."""

    def __init__(self, eager: bool = True) -> None:
        self.eager = eager
        self.trace = False
        self.now_s = 0.0
        self.soon: List[Any] = []
        self.jobs: List[Any] = []
        self.posted: "queue.Queue[Any]" = queue.Queue()

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self.soon.append((fn, args))

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> None:
        pass

    def submit(self, lane: str, fn: Callable[..., Any], args: tuple, callback: Any) -> None:
        self.jobs.append((lane, fn, args, callback))
        if self.eager:
            self.run_jobs()

    def run_jobs(self, lane: Optional[str] = None) -> int:
        ran = 0
        for job in list(self.jobs):
            if lane is not None and job[0] != lane:
                continue
            self.jobs.remove(job)
            _, fn, args, callback = job
            try:
                result = fn(*args)
            except Exception as exc:
                callback(None, exc)
            else:
                callback(result, None)
            ran += 1
        return ran

    def post(self, callback: Any, result: Any, error: Any) -> None:  # any thread
        self.posted.put((callback, result, error))

    def pump(self, timeout_s: float = 5.0, until: Optional[Callable[[], bool]] = None) -> None:
        """Run posted results and soon-callbacks until nothing is left (or until())."""
        while True:
            while self.soon:
                soon, self.soon = self.soon, []
                for fn, args in soon:
                    fn(*args)
            if until is None or until():
                if self.posted.empty():
                    return
            callback, result, error = self.posted.get(timeout=timeout_s)
            callback(result, error)

    def guard(self, peer: Any, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)

    def dispatch(self, peer: Any, request: Dict[str, Any]) -> None:
        peer.service.on_request(peer, request)


class FakePeer:
    def __init__(self, loop: FakeLoop, service: Any = None, host: str = "127.0.0.9") -> None:
        self.loop = loop
        self.service = service
        self.host = host
        self.peer = host + ":1"
        self.state: Any = None
        self.sent = bytearray()
        self.outbox_bytes = 0
        self.opened_s = self.last_seen_s = self.last_sent_s = 0.0
        self.on_drain: Any = None
        self.holds = 0
        self.tasks = 0
        self.closed = False
        self.closing = False

    # what it was sent
    def frames(self) -> List[Any]:
        return decode_frames(bytes(self.sent))

    def messages(self, op: Optional[str] = None) -> List[Dict[str, Any]]:
        return [f for f in self.frames() if isinstance(f, dict) and op in (None, f["op"])]

    # PeerAPI
    def push(self, data: bytes) -> None:
        if not self.closed:
            self.sent += data

    def send_encoded(self, frame: bytes, message: Any = None) -> None:
        self.push(frame)

    def send(self, message: Dict[str, Any]) -> None:
        body = json.dumps(message).encode("utf-8")
        self.push(struct.pack(">BI", 0x4A, len(body)) + body)

    def send_binary(self, data: bytes) -> None:
        self.push(struct.pack(">BI", 0x42, len(data)) + data)

    def reply(self, request: Dict[str, Any], status: str = "ok", message: Any = None,
              **fields: Any) -> None:
        reply = {"op": request["op"], "status": status}
        if "id" in request:
            reply["id"] = request["id"]
        if message:
            reply["message"] = message
        reply.update(fields)
        self.send(reply)

    def call(self, request: Any, lane: str, fn: Callable[..., Any], *args: Any, then: Any,
             on_error: Any = None) -> None:
        self.loop.submit(lane, fn, args, self.pending(request, then, on_error))

    def pending(self, request: Any, then: Any, on_error: Any = None) -> Any:
        self.holds += 1

        def done(result: Any, error: Any) -> None:
            self.holds -= 1
            if error is not None:
                raise error
            then(result)
        return done

    def hold(self) -> None:
        self.holds += 1

    def release(self) -> None:
        self.holds -= 1

    def begin_task(self) -> None:
        self.tasks += 1

    def end_task(self) -> None:
        self.tasks -= 1

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closed = True
