"""A small blocking test client, written independently of net/ (struct + json directly), so
the tests check the server against docs/PROTOCOL.md, not against our own encoder.

With CHATROOM_CHAOS=SEED in the environment (./test.sh sets it for its chaos run) every
WireClient cuts its own writes and caps its reads at random, as the server does with --chaos
(tests/procs.py gives every server the option): the end-to-end tests then run with frames
split and stuck together on both ends. Its chaos is its own (Cutter), not net/chaos.py's.
A blocking client cannot hold bytes back for later without a thread (a test that writes on
one client and then waits on another would wait for ever), so where the server holds a write
back, this client pauses in the middle of one."""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import socket
import ssl
import struct
import time
from typing import Any, Dict, List, Optional

J, B = 0x4A, 0x42
DEFAULT_TIMEOUT_S = 10.0
# How much one read asks for without chaos.
RECV_BYTES = 1 << 20


def chaos_seed_from_env() -> Optional[int]:
    text = os.environ.get("CHATROOM_CHAOS", "").strip()
    return int(text) if text else None


CHAOS_SEED = chaos_seed_from_env()


def frame(kind: int, body: bytes) -> bytes:
    return struct.pack(">BI", kind, len(body)) + body


def jframe(obj: Dict[str, Any]) -> bytes:
    return frame(J, json.dumps(obj).encode("utf-8"))


class Closed(Exception):
    pass


class Cutter:
    """The test client's chaos: writes cut into pieces of 1 byte to 4 KiB, one write in eight
    paused for a few milliseconds after one of its pieces, reads capped at the same sizes.
    Deterministic: the n-th Cutter of a run draws from (seed, n)."""

    _streams = itertools.count(1)

    def __init__(self, seed: int) -> None:
        self.random = random.Random("wire:%d:%d" % (seed, next(self._streams)))

    def piece_bytes(self) -> int:
        r = self.random
        roll = r.random()
        if roll < 0.25:
            return r.randint(1, 8)
        if roll < 0.75:
            return r.randint(9, 1460)
        return r.randint(1461, 4096)

    def pause_s(self) -> float:
        """0.0, or how long this write pauses after its first piece."""
        if self.random.random() >= 0.125:
            return 0.0
        return self.random.uniform(0.001, 0.003)


class WireClient:
    """request(op, **fields) -> reply dict; events that arrive meanwhile are kept in .events."""

    _ids = itertools.count(1)
    cutter: Optional[Cutter] = None  # chaos (a subclass that skips __init__ has none)

    def __init__(self, port: int, host: str = "127.0.0.1",
                 timeout_s: float = DEFAULT_TIMEOUT_S, tls: bool = False,
                 chaos_seed: Optional[int] = CHAOS_SEED) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.cutter = Cutter(chaos_seed) if chaos_seed is not None else None
        if self.cutter is not None:  # each piece its own TCP segment
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:  # the tests check the certificate themselves where it matters
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            self.sock = context.wrap_socket(self.sock)
        self.timeout_s = timeout_s
        self.buf = bytearray()
        self.events: List[Dict[str, Any]] = []
        self.binary: List[bytes] = []

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "WireClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        if self.cutter is None:
            self.sock.sendall(data)
            return
        pause_s, offset = self.cutter.pause_s(), 0
        while offset < len(data):
            size = self.cutter.piece_bytes()
            try:
                self.sock.sendall(data[offset:offset + size])
            except (BrokenPipeError, ConnectionResetError):
                # The server closed (after a bad frame, say) while pieces were still going:
                # one whole sendall would have left them in the kernel instead. The next
                # read sees the close, as it would have.
                return
            offset += size
            if pause_s:
                time.sleep(pause_s)
                pause_s = 0.0

    def send(self, obj: Dict[str, Any]) -> None:
        self.send_raw(jframe(obj))

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no frame before the deadline")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(RECV_BYTES if self.cutter is None else
                                  self.cutter.piece_bytes())
        except (socket.timeout, ssl.SSLWantReadError):  # socket.timeout is not yet an alias
            # of TimeoutError on Python 3.8 and 3.9
            raise TimeoutError("no frame before the deadline") from None
        if not data:
            raise Closed("server closed the connection")
        self.buf += data

    def read_frame(self, timeout_s: Optional[float] = None) -> Any:
        """The next frame: a dict for J, bytes for B."""
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            if len(self.buf) >= 5:
                kind, length = struct.unpack_from(">BI", self.buf)
                if len(self.buf) >= 5 + length:
                    body = bytes(self.buf[5:5 + length])
                    del self.buf[:5 + length]
                    return json.loads(body) if kind == J else body
            self._fill(deadline)

    def read_json(self, timeout_s: Optional[float] = None) -> Dict[str, Any]:
        while True:
            item = self.read_frame(timeout_s)
            if isinstance(item, dict):
                return item
            self.binary.append(item)

    def request(self, op: str, timeout_s: Optional[float] = None, **fields: Any) -> Dict[str, Any]:
        rid = next(self._ids)
        self.send(dict(fields, op=op, id=rid))
        return self.wait_reply(rid, timeout_s)

    def wait_reply(self, rid: Any, timeout_s: Optional[float] = None) -> Dict[str, Any]:
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            message = self.read_json(max(0.001, deadline - time.monotonic()))
            if "status" in message and message.get("id") == rid and message["op"] != "upload_done":
                return message
            self.events.append(message)

    def next_event(self, op: Optional[str] = None, timeout_s: Optional[float] = None
                   ) -> Dict[str, Any]:
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            for i, event in enumerate(self.events):
                if op is None or event.get("op") == op:
                    return self.events.pop(i)
            self.events.append(self.read_json(max(0.001, deadline - time.monotonic())))

    def expect_closed(self, timeout_s: float = 5.0) -> List[Dict[str, Any]]:
        """Read until the server closes; returns the JSON frames seen on the way."""
        seen = []
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                item = self.read_frame(max(0.001, deadline - time.monotonic()))
                if isinstance(item, dict):
                    seen.append(item)
        except (Closed, ConnectionResetError, ssl.SSLError):
            return seen

    # -- file helpers ---------------------------------------------------------------------

    def upload(self, name: str, data: bytes, chunk: int = 65536, **extra: Any) -> Dict[str, Any]:
        rid = next(self._ids)
        self.send(dict(extra, op="upload", id=rid, name=name, size=len(data),
                       sha256=extra.pop("sha256", None) or hashlib.sha256(data).hexdigest()))
        reply = self.wait_reply(rid)
        if reply["status"] != "ok":
            return reply
        for i in range(reply["offset"], len(data), chunk):
            self.send_raw(frame(B, data[i:i + chunk]))
        return self.next_event("upload_done")

    def download(self, file_id: int, offset: int = 0) -> bytes:
        reply = self.request("download", file_id=file_id, offset=offset)
        assert reply["status"] == "ok", reply
        want = reply["file"]["size"] - offset
        got = bytearray()
        while len(got) < want:
            item = self.read_frame()
            if isinstance(item, bytes):
                got += item
            else:
                self.events.append(item)
        return bytes(got)
