"""A small blocking test client, written independently of net/ (struct + json directly), so
the tests check the server against docs/PROTOCOL.md, not against our own encoder."""
from __future__ import annotations

import hashlib
import itertools
import json
import socket
import ssl
import struct
import time
from typing import Any, Dict, List, Optional

J, B = 0x4A, 0x42
DEFAULT_TIMEOUT_S = 10.0


def frame(kind: int, body: bytes) -> bytes:
    return struct.pack(">BI", kind, len(body)) + body


def jframe(obj: Dict[str, Any]) -> bytes:
    return frame(J, json.dumps(obj).encode("utf-8"))


class Closed(Exception):
    pass


class WireClient:
    """request(op, **fields) -> reply dict; events that arrive meanwhile are kept in .events."""

    _ids = itertools.count(1)

    def __init__(self, port: int, host: str = "127.0.0.1",
                 timeout_s: float = DEFAULT_TIMEOUT_S, tls: bool = False) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
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
        self.sock.sendall(data)

    def send(self, obj: Dict[str, Any]) -> None:
        self.sock.sendall(jframe(obj))

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no frame before the deadline")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(1 << 20)
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
