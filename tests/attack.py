"""Tools for the hostile-network tests (tests/test_hostile.py): clients from chosen loopback
addresses, raw sockets that reset or never read, and what can be seen of the server process
from outside (its memory, its side of a TCP connection). Loopback only: 127.0.0.0/8."""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
import ssl
import struct
import time
from typing import Any, Dict, List, Optional

from tests.wire import Closed, J, WireClient, frame

# Different client addresses on loopback (Linux routes all of 127.0.0.0/8 to lo). Attack
# traffic comes from ADDR; users are registered from ENROLL (rotating), so that no test's own
# set-up runs into the per-address limits of docs/PROTOCOL.md §10.
ADDR = ["127.0.0.%d" % i for i in range(2, 60)]
ENROLL = ["127.0.0.%d" % i for i in range(100, 200)]
PASSWORD = "correct horse 1"
_numbers = itertools.count(1)
_enroll = itertools.cycle(ENROLL)


def connect(port: int, source: Optional[str] = None, rcvbuf: Optional[int] = None,
            timeout_s: float = 10.0) -> socket.socket:
    """A plain TCP connection to the server on 127.0.0.1, from `source` when given. A small
    rcvbuf (set before connecting, so the window stays small) makes a peer that reads slowly
    look slow to the server at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout_s)
        if source is not None:
            sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


def reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Client(WireClient):
    """WireClient from a chosen source address (and optionally a small receive buffer)."""

    def __init__(self, port: int, source: Optional[str] = None,
                 timeout_s: float = 10.0, tls: bool = False,
                 rcvbuf: Optional[int] = None) -> None:
        sock = connect(port, source, rcvbuf, timeout_s)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            sock = context.wrap_socket(sock)
        self.sock = sock
        self.timeout_s = timeout_s
        self.buf = bytearray()
        self.events: List[Dict[str, Any]] = []
        self.binary: List[bytes] = []

    def read_status(self, timeout_s: Optional[float] = None) -> Dict[str, Any]:
        """The next frame that has a status (a reply, or an error event), whatever its id."""
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            message = self.read_json(max(0.001, deadline - time.monotonic()))
            if "status" in message and message.get("op") != "upload_done":
                return message
            self.events.append(message)

    def auth(self, token: str) -> Dict[str, Any]:
        return self.request("auth", token=token)


def raw_request(body: str) -> bytes:
    """A J frame whose body is given as JSON text, so it may hold what json.dumps would not
    write (NaN, 1e400, escaped lone surrogates)."""
    return frame(J, body.encode("utf-8"))


def body(op: str, **fields: Any) -> str:
    return json.dumps(dict(fields, op=op))


def rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def tcp_kib() -> int:
    """Memory of all TCP socket buffers of this host (network namespace), in KiB. Data a
    server queued to a client that does not read sits here once the kernel took it, so the
    server's cost is its RSS plus (the growth of) this."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                fields = line.split()
                return int(fields[fields.index("mem") + 1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    raise RuntimeError("no TCP line in /proc/net/sockstat")


_TCP_ESTABLISHED = "01"


def _hex_endpoint(host: str, port: int) -> str:
    packed = socket.inet_aton(host)
    return "%08X:%04X" % (struct.unpack("<I", packed)[0], port)


def server_side_tcp_state(server_port: int, client: socket.socket) -> Optional[str]:
    """The state (hex, as in /proc/net/tcp) of the server's end of this client's connection,
    or None when the server's socket is gone. '01' is ESTABLISHED; after the server closes
    it, it is FIN_WAIT1 ('04') or later, even while unsent data waits in its buffers."""
    host, port = client.getsockname()[:2]
    local = _hex_endpoint("127.0.0.1", server_port)
    remote = _hex_endpoint(host, port)
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                return fields[3]
    return None


def server_closed(server_port: int, client: socket.socket) -> bool:
    return server_side_tcp_state(server_port, client) != _TCP_ESTABLISHED


def read_until_closed(sock: socket.socket, timeout_s: float) -> int:
    """Read and count bytes until EOF or reset; raises TimeoutError at the deadline."""
    deadline = time.monotonic() + timeout_s
    total = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("still open after %.1f s (%d bytes read)" % (timeout_s, total))
        sock.settimeout(remaining)
        try:
            data = sock.recv(1 << 20)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return total
        if not data:
            return total
        total += len(data)


def sync(port: int) -> None:
    """One hello round trip on a new connection. Bytes other clients sent before this call
    were already in the server's sockets when it answers, so the loop has read them."""
    with WireClient(port) as c:
        assert c.request("hello")["status"] == "ok"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def start_partial(port: int, token: str, name: str, size: int, part: bytes,
                  sha256: Optional[str] = None) -> int:
    """Start an upload, send `part` of it, make sure the server took it (a ping answered
    after it), then drop the connection: an unfinished upload. Returns the ok's offset."""
    with WireClient(port) as c:
        assert c.request("auth", token=token)["status"] == "ok"
        reply = c.request("upload", name=name, size=size, sha256=sha256 or "ab" * 32)
        assert reply["status"] == "ok", reply
        if part:
            c.send_raw(frame(0x42, part))
        assert c.request("ping")["status"] == "ok"
        return reply["offset"]


def closed_quietly(client: WireClient, timeout_s: float) -> List[Dict[str, Any]]:
    """JSON frames seen until the server closed the connection; TimeoutError (naming what
    came meanwhile) if it did not close it within timeout_s."""
    seen: List[Dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            item = client.read_frame(max(0.001, deadline - time.monotonic()))
        except (Closed, ConnectionResetError, BrokenPipeError, ssl.SSLError):
            return seen
        except TimeoutError:
            raise TimeoutError("still open after %.1f s; it sent %s" % (timeout_s, seen))
        if isinstance(item, dict):
            seen.append(item)


def identity() -> tuple:
    """A fresh (username, phone): unique in this process, valid for docs/PROTOCOL.md §4."""
    n = next(_numbers)
    pid = os.getpid() % 100000
    return "h%d_%d" % (pid, n), "15%09d" % (pid * 10000 + n)


def enroll(srv: Any, source: Optional[str] = None, password: str = PASSWORD) -> Dict[str, Any]:
    """Register and log in a new user through the real protocol (the console SMS code is read
    from the server log), from a rotating loopback address unless `source` is given."""
    username, phone = identity()
    with Client(srv.auth, source=source or next(_enroll)) as c:
        sent = c.request("send_code", phone=phone)
        assert sent["status"] == "ok", sent
        reply = c.request("register", username=username, password=password, phone=phone,
                          code=srv.sms_code(phone), email="")
        assert reply["status"] == "ok", reply
        login = c.request("login", login=username, password=password)
        assert login["status"] == "ok", login
    return {"username": username, "phone": phone, "user_id": reply["user_id"],
            "token": login["token"], "password": password}


def login(srv: Any, user: Dict[str, Any], source: Optional[str] = None) -> str:
    """Another token for the user (another session)."""
    with Client(srv.auth, source=source or next(_enroll)) as c:
        reply = c.request("login", login=user["username"], password=user["password"])
        assert reply["status"] == "ok", reply
        return reply["token"]


def authed(port: int, token: str, source: Optional[str] = None,
           rcvbuf: Optional[int] = None) -> Client:
    """A chat or file connection that has authenticated with token."""
    c = Client(port, source=source, rcvbuf=rcvbuf)
    try:
        reply = c.request("auth", token=token)
        assert reply["status"] == "ok", reply
    except BaseException:
        c.close()
        raise
    c.auth_reply = reply
    return c
