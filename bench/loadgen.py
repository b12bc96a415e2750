"""The load generator: stdlib only, one selectors loop, pluggable protocol drivers.

Drivers know how to open an authenticated room member and how to say something:
    Ours  our framing (register, login, chat auth; `say`; events counted by '"op":"message"')
    Irc   NICK/USER/JOIN #bench; PRIVMSG; events counted by ' PRIVMSG '
Every receiver counts deliveries with bytes.count() on the driver's marker (C speed, so the
generator is not what we measure); one *observer* parses everything to time each message and
to bound the senders' in-flight window. Every run is bounded in count and in time, and only
ever talks to 127.0.0.1.
"""
from __future__ import annotations

import json
import resource
import selectors
import socket
import ssl
import struct
import time
from typing import Any, Dict, List, Optional, Tuple

HOST = "127.0.0.1"
J = 0x4A
WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


def tls_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
HEADER = struct.Struct(">BI")


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def jframe(obj: Dict[str, Any]) -> bytes:
    body = json.dumps(obj, separators=(",", ":")).encode()
    return HEADER.pack(J, len(body)) + body


def read_json_blocking(sock: socket.socket, buf: bytearray) -> Dict[str, Any]:
    while True:
        if len(buf) >= 5:
            kind, length = HEADER.unpack_from(buf)
            if len(buf) >= 5 + length:
                body = bytes(buf[5:5 + length])
                del buf[:5 + length]
                if kind == J:
                    return json.loads(body)
                continue
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        buf += data


def request(sock: socket.socket, buf: bytearray, op: str, **fields: Any) -> Dict[str, Any]:
    sock.sendall(jframe(dict(fields, op=op, id=op)))
    while True:
        reply = read_json_blocking(sock, buf)
        if reply.get("id") == op and "status" in reply:
            return reply


class Ours:
    name = "chatroom"
    marker = b'"op":"message"'
    echoes_to_sender = True

    def __init__(self, auth_port: int, chat_port: int, tls: bool = False) -> None:
        self.auth_port, self.chat_port = auth_port, chat_port
        self.tokens: Dict[str, str] = {}
        self.tls = tls_context() if tls else None
        if tls:
            self.name = "chatroom+TLS"

    def connect(self, port: int) -> socket.socket:
        s = socket.create_connection((HOST, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.tls.wrap_socket(s) if self.tls is not None else s

    def user(self, name: str) -> str:
        """A token for `name` (registered on first use; the bench server runs --sms off)."""
        if name not in self.tokens:
            with self.connect(self.auth_port) as s:
                buf = bytearray()
                phone = "13%09d" % (abs(hash(name)) % 10 ** 9)
                request(s, buf, "register", username=name, password="bench password 1",
                        phone=phone, email="")
                reply = request(s, buf, "login", login=name, password="bench password 1")
                assert reply["status"] == "ok", reply
                self.tokens[name] = reply["token"]
        return self.tokens[name]

    def open(self, name: str) -> socket.socket:
        token = self.user(name)
        s = self.connect(self.chat_port)
        buf = bytearray()
        reply = request(s, buf, "auth", token=token)
        assert reply["status"] == "ok", reply
        s.setblocking(False)
        return s

    def say(self, text: str, to: Optional[str] = None, room: Optional[int] = None) -> bytes:
        frame: Dict[str, Any] = {"op": "say", "text": text}
        if to is not None:
            frame["to"] = to
        if room is not None:
            frame["room"] = room
        return jframe(frame)

    @staticmethod
    def enter_room(sock: socket.socket, name: str, room: Optional[int] = None) -> int:
        """Over the wire: `create_room` `name` (room None) or `join` `room`; its id."""
        sock.setblocking(True)
        buf = bytearray()
        if room is None:
            reply = request(sock, buf, "create_room", name=name)
        else:
            reply = request(sock, buf, "join", room=room)
        assert reply["status"] == "ok", reply
        sock.setblocking(False)
        return int(reply["room"]["room"])

    @staticmethod
    def texts(buf: bytearray) -> List[str]:
        """Complete message events in buf (consumed), as their texts."""
        out = []
        while len(buf) >= 5:
            kind, length = HEADER.unpack_from(buf)
            if len(buf) < 5 + length:
                break
            if kind == J and buf.find(b'"op":"message"', 5, 5 + length) >= 0:
                out.append(json.loads(bytes(buf[5:5 + length]))["text"])
            del buf[:5 + length]
        return out


class Irc:
    marker = b" PRIVMSG "
    echoes_to_sender = False

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.port = port

    def open(self, nick: str) -> socket.socket:
        s = socket.create_connection((HOST, self.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        nick = nick[:20]
        s.sendall(("NICK %s\r\nUSER %s 0 * :%s\r\n" % (nick, nick, nick)).encode())
        self._wait(s, b" 001 ")
        s.sendall(b"JOIN #bench\r\n")
        self._wait(s, b" 366 ")
        s.setblocking(False)
        return s

    @staticmethod
    def _wait(s: socket.socket, token: bytes) -> None:
        data = b""
        deadline = time.monotonic() + 30
        s.settimeout(30)
        while token not in data:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("IRC server closed during registration")
            data += chunk
            for line in data.split(b"\r\n"):
                if line.startswith(b"PING"):
                    s.sendall(b"PONG" + line[4:] + b"\r\n")
        s.settimeout(None)

    def say(self, text: str, to: Optional[str] = None) -> bytes:
        return ("PRIVMSG %s :%s\r\n" % (to or "#bench", text)).encode()

    @staticmethod
    def texts(buf: bytearray) -> List[str]:
        out = []
        end = buf.rfind(b"\r\n")
        if end < 0:
            return out
        for line in bytes(buf[:end]).split(b"\r\n"):
            if b" PRIVMSG " in line:
                out.append(line.split(b" :", 1)[1].decode())
        del buf[:end + 2]
        return out


class Member:
    __slots__ = ("sock", "out", "carry", "count", "buf")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.out = bytearray()
        self.carry = b""
        self.count = 0
        self.buf = bytearray()


def percentile(sorted_values: List[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def fanout(driver: Any, server: Any, clients: int, senders: int, per_sender: int,
           window: int, timeout_s: float = 120.0, tag: str = "",
           rooms: int = 1) -> Dict[str, Any]:
    """N members in one room, S of them sending M messages each with at most `window` not
    yet seen by the observer. Returns deliveries/s, losses, latency and server CPU.

    rooms > 1 (ours only): the members are split into `rooms` rooms, member i in room
    i % rooms (so sender i in room i % rooms); each room's first sender makes it with
    `create_room`, every other member `join`s it over the wire, the senders say into their
    room, and each room has its own observer (its last member) for the window and latency."""
    raise_fd_limit()
    assert rooms == 1 or (isinstance(driver, Ours) and senders >= rooms), "rooms: ours only"
    names = ["s%s%d" % (tag, i) for i in range(senders)] + \
        ["r%s%d" % (tag, i) for i in range(clients - senders)]
    room_of = [i % rooms for i in range(clients)]
    if isinstance(driver, Ours):  # receivers share one account (per room): registration is
        # not measured; with rooms each room needs its own, as membership is per user
        members = [Member(driver.open(n if i < senders else "audience" + tag +
                                      ("" if rooms == 1 else "r%d" % room_of[i])))
                   for i, n in enumerate(names)]
    else:
        members = [Member(driver.open(n)) for n in names]
    room_ids: List[Optional[int]] = [None] * rooms
    if rooms > 1:
        for i, m in enumerate(members):  # senders come first: room k is made by sender k
            k = room_of[i]
            room_ids[k] = Ours.enter_room(m.sock, "fan%s-%d" % (tag, k), room_ids[k])
    observers = {max(i for i in range(clients) if room_of[i] == k): k for k in range(rooms)}
    observer_members = {id(members[i]) for i in observers}
    sel = selectors.DefaultSelector()
    for m in members:
        sel.register(m.sock, selectors.EVENT_READ, m)
    # Let join notices settle, then drain them so they are not counted.
    time.sleep(0.3)
    for m in members:
        try:
            while m.sock.recv(1 << 20):
                pass
        except WOULD_BLOCK:
            pass
    marker = driver.marker
    carry_len = len(marker) - 1
    total = senders * per_sender
    room_messages = [per_sender * sum(1 for i in range(senders) if room_of[i] == k)
                     for k in range(rooms)]
    per_member = [room_messages[room_of[i]] if (driver.echoes_to_sender or i >= senders)
                  else room_messages[room_of[i]] - per_sender for i in range(clients)]
    expected = sum(per_member)
    sent = [0] * senders
    seen = [0] * senders
    send_times: Dict[Tuple[int, int], float] = {}
    latencies: List[float] = []
    cpu0 = server.cpu()
    t0 = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    delivered = 0
    while delivered < expected and time.monotonic() < deadline:
        now = time.perf_counter()
        for i in range(senders):
            m = members[i]
            while sent[i] < per_sender and sent[i] - seen[i] < window:
                send_times[(i, sent[i])] = now
                m.out += (driver.say("%d:%d:x" % (i, sent[i])) if rooms == 1 else
                          driver.say("%d:%d:x" % (i, sent[i]), room=room_ids[room_of[i]]))
                sent[i] += 1
            if m.out:
                try:
                    n = m.sock.send(m.out)
                    del m.out[:n]
                except WOULD_BLOCK:
                    pass
        for key, _ in sel.select(0.05):
            m = key.data
            try:
                data = m.sock.recv(1 << 20)
                if getattr(m.sock, "pending", None) and m.sock.pending():
                    data += m.sock.recv(m.sock.pending())
            except WOULD_BLOCK:
                continue
            if not data:
                raise ConnectionError("%s closed a member connection" % driver.name)
            joined = m.carry + data
            n = joined.count(marker)
            m.count += n
            delivered += n
            m.carry = joined[-carry_len:]
            if id(m) in observer_members:
                m.buf += data
                now = time.perf_counter()
                for text in driver.texts(m.buf):
                    i_text, seq_text, _ = text.split(":", 2)
                    i, seq = int(i_text), int(seq_text)
                    seen[i] = max(seen[i], seq + 1)
                    started = send_times.pop((i, seq), None)
                    if started is not None:
                        latencies.append(now - started)
    elapsed = time.perf_counter() - t0
    cpu = server.cpu() - cpu0
    for m in members:
        m.sock.close()
    latencies.sort()
    return {"server": driver.name, "clients": clients, "senders": senders, "rooms": rooms,
            "messages": total, "deliveries": delivered, "expected": expected,
            "lost": expected - delivered, "seconds": elapsed,
            "deliveries_per_s": delivered / elapsed if elapsed else 0.0,
            "cpu_s": cpu, "cpu_us_per_delivery": 1e6 * cpu / max(1, delivered),
            "p50_ms": 1000 * percentile(latencies, 50), "p99_ms": 1000 * percentile(latencies, 99),
            "max_ms": 1000 * (latencies[-1] if latencies else float("nan"))}


def pingpong(driver: Any, server: Any, count: int, tag: str = "") -> Dict[str, Any]:
    """One sender, one receiver, one message in flight: the round trip through the server."""
    result = fanout(driver, server, clients=2, senders=1, per_sender=count, window=1,
                    timeout_s=60, tag="pp" + tag)
    out = {k: result[k] for k in ("server", "messages", "lost", "p50_ms", "p99_ms", "max_ms",
                                  "cpu_s")}
    out["cpu_us_per_message"] = 1e6 * result["cpu_s"] / max(1, count)  # issue 22
    return out


def idle(driver: Any, server: Any, count: int, tag: str = "",
         timeout_s: float = 120.0) -> Dict[str, Any]:
    """Hold `count` authenticated members; server RSS per connection."""
    raise_fd_limit()
    if isinstance(driver, Ours):
        driver.user("idle" + tag)
    base = server.rss()
    socks = []
    t0 = time.perf_counter()
    try:
        for i in range(count):
            if time.perf_counter() - t0 > timeout_s:
                raise TimeoutError("only %d connections set up in %.0f s" % (i, timeout_s))
            socks.append(driver.open("idle" + tag if isinstance(driver, Ours)
                                     else "i%s%d" % (tag, i)))
        time.sleep(1.0)
        held = server.rss()
        alive = server.proc.poll() is None
    except (OSError, ConnectionError, TimeoutError) as exc:
        return {"server": driver.name, "connections": count, "held": len(socks),
                "error": str(exc)[:80], "alive": server.proc.poll() is None}
    finally:
        for s in socks:
            s.close()
    return {"server": driver.name, "connections": count, "held": len(socks), "alive": alive,
            "rss_base_kib": base, "rss_kib": held,
            "bytes_per_connection": 1024.0 * (held - base) / count,
            "setup_s": time.perf_counter() - t0}


def listen_overflows() -> int:
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:]))
            return int(table.get("ListenOverflows", 0))
    return 0


def handshakes(driver: Any, server: Any, in_flight: int, seconds: float) -> Dict[str, Any]:
    """Connect + authenticate (ours: token auth; IRC: NICK/USER until 001), then close,
    with `in_flight` at once, for `seconds`."""
    overflows0 = listen_overflows()
    sel = selectors.DefaultSelector()
    token = driver.user("hs") if isinstance(driver, Ours) else None
    port = driver.chat_port if isinstance(driver, Ours) else driver.port
    done = 0
    counter = [0]

    def start() -> None:
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((HOST, port))
        counter[0] += 1
        if token is not None:
            hello = jframe({"op": "auth", "id": 1, "token": token})
            want = b'"status":"ok"'
        else:
            nick = "h%d" % counter[0]
            hello = ("NICK %s\r\nUSER %s 0 * :%s\r\n" % (nick, nick, nick)).encode()
            want = b" 001 "
        sel.register(s, selectors.EVENT_WRITE, [hello, want, b""])

    for _ in range(in_flight):
        start()
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        for key, mask in sel.select(0.05):
            s, state = key.fileobj, key.data
            if mask & selectors.EVENT_WRITE:
                try:
                    s.send(state[0])
                except OSError:
                    sel.unregister(s)
                    s.close()
                    start()
                    continue
                sel.modify(s, selectors.EVENT_READ, state)
                continue
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            state[2] += data
            if state[1] in state[2] or not data:
                if data:
                    done += 1
                sel.unregister(s)
                s.close()
                start()
    elapsed = time.perf_counter() - t0
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    return {"server": driver.name, "in_flight": in_flight, "handshakes": done,
            "per_s": done / elapsed, "listen_overflows": listen_overflows() - overflows0}
