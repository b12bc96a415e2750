"""Soak test: honest chat and file traffic against a real server while it is attacked.

    python bench/soak.py                                  60 s against this checkout
    python bench/soak.py --root /tmp/baseline --duration 30
    python bench/soak.py --no-attack                      the same honest load, no attackers
    python bench/soak.py --attack-scale 0.5 --out /tmp/soak.json

It starts `server_main.py` of --root (console SMS, ports picked by the OS), registers --users
honest users and one attacker account, and for --duration seconds runs at the same time:

  honest   every user says a unique message every 0.5 s on its own chat connection and reads
           every event; latency is from `say` sent to `message` received, for every honest
           receiver but the sender; an acknowledged message that the observer (user 0) never
           receives by the end of the grace period is lost. Three users upload, download
           (SHA-256 checked) and delete a 1 MiB random file every 5 s. A probe logs in from
           127.0.0.5 every 2 s.
  attack   one process per source address (127.0.0.2, .3, .4), each running: a connect/reset
           storm, slowloris connections, a flood of wrong logins, malformed frames, and lone
           surrogates / NaN / 1e400 ids from the attacker account.

The server's RSS is sampled every second. Clients, attackers and server share this host's
CPUs, so honest latency includes the attackers' CPU use as well as the server's. Results
are printed and written as JSON (--out). Every loop is bounded in count and in time, only
127.0.0.0/8 is ever contacted, and every process started here is stopped by its PID at the
end (SIGTERM, then SIGKILL).
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import itertools
import json
import multiprocessing
import os
import random
import re
import resource
import selectors
import shutil
import signal
import socket
import string
import struct
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.dirname(HERE)
HOST = "127.0.0.1"
ATTACK_ADDRS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
PROBE_ADDR = "127.0.0.5"
HONEST_ADDR = "127.0.0.1"
J, B = 0x4A, 0x42
HEADER = struct.Struct(">BI")
PASSWORD = "soak password 1"
MAX_DURATION_S = 3600.0
MAX_SCALE = 10.0
SAY_INTERVAL_S = 0.5
FILE_INTERVAL_S = 5.0
FILE_SIZE = 1 << 20
FILE_USERS = 3
FILE_ROUND_TIMEOUT_S = 30.0
PROBE_INTERVAL_S = 2.0
SERVER_START_TIMEOUT_S = 30.0
SERVER_STOP_TIMEOUT_S = 10.0

# Attack rates at --attack-scale 1, per source address.
STORM_PER_S = 100.0
SLOWLORIS_CONNS = 100
SLOWLORIS_BYTE_EVERY_S = 3.0
LOGIN_CONNS = 50
LOGIN_MAX_PER_S = 200.0  # "as fast as the server answers", but never more than this
BAD_FRAMES_PER_S = 20.0
SURROGATES_PER_S = 10.0


# -- frames and a small blocking client -----------------------------------------------------

def raw_jframe(body: bytes) -> bytes:
    return HEADER.pack(J, len(body)) + body


def jframe(obj: Dict[str, Any]) -> bytes:
    # ensure_ascii (the default) writes a lone surrogate as the escape "\ud800", valid JSON.
    return raw_jframe(json.dumps(obj, separators=(",", ":")).encode("ascii"))


def take_frames(buf: bytearray) -> List[Tuple[int, bytes]]:
    """Complete frames at the start of buf (consumed)."""
    out = []
    while len(buf) >= 5:
        kind, length = HEADER.unpack_from(buf)
        if len(buf) < 5 + length:
            break
        out.append((kind, bytes(buf[5:5 + length])))
        del buf[:5 + length]
    return out


def parse_json(body: bytes) -> Optional[Dict[str, Any]]:
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


class Closed(Exception):
    pass


def make_socket(source: Optional[str], timeout_s: float) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout_s)
    if source:
        s.bind((source, 0))
    return s


class Client:
    """Blocking, with deadlines: request() skips events; frames() gives J and B frames."""

    _ids = itertools.count(1)

    def __init__(self, port: int, source: Optional[str] = None, timeout_s: float = 10.0) -> None:
        self.sock = make_socket(source, timeout_s)
        try:
            self.sock.connect((HOST, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout_s = timeout_s
        self.buf = bytearray()
        self.pending: List[Tuple[int, bytes]] = []

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, obj: Dict[str, Any]) -> None:
        self.sock.sendall(jframe(obj))

    def read_frame(self, deadline: float) -> Tuple[int, bytes]:
        while not self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no frame before the deadline")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(1 << 20)
            except socket.timeout:
                raise TimeoutError("no frame before the deadline") from None
            if not data:
                raise Closed("closed by the server")
            self.buf += data
            self.pending.extend(take_frames(self.buf))
        return self.pending.pop(0)

    def wait_json(self, accept: Callable[[Dict[str, Any]], bool],
                  deadline: float) -> Dict[str, Any]:
        while True:
            kind, body = self.read_frame(deadline)
            if kind == J:
                obj = parse_json(body)
                if obj is not None and accept(obj):
                    return obj

    def next_reply(self, deadline: float) -> Dict[str, Any]:
        """The next frame with a status (replies come in request order; events have none)."""
        return self.wait_json(lambda m: "status" in m and m.get("op") != "upload_done", deadline)

    def request(self, op: str, timeout_s: Optional[float] = None, **fields: Any
                ) -> Dict[str, Any]:
        rid = next(self._ids)
        self.send(dict(fields, op=op, id=rid))
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        return self.wait_json(lambda m: m.get("id") == rid and m.get("op") == op
                              and "status" in m, deadline)


def percentile(values: List[float], p: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def summary_ms(values_s: List[float]) -> Dict[str, Any]:
    def ms(v: Optional[float]) -> Optional[float]:
        return None if v is None else round(v * 1000.0, 2)
    return {"count": len(values_s), "p50": ms(percentile(values_s, 50)),
            "p99": ms(percentile(values_s, 99)), "max": ms(max(values_s) if values_s else None)}


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- the server -----------------------------------------------------------------------------

class Server:
    def __init__(self, root: str, work_dir: str) -> None:
        self.data_dir = os.path.join(work_dir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(work_dir, "server.log")
        self._log = open(self.log_path, "ab")
        self.cmd = [sys.executable, os.path.join(root, "server_main.py"),
                    "--data-dir", self.data_dir, "--auth-port", "0", "--chat-port", "0",
                    "--file-port", "0", "--sms", "console"]
        self.proc = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=root)
        self.started = time.monotonic()
        self.stop_s: Optional[float] = None
        deadline = self.started + SERVER_START_TIMEOUT_S
        while True:
            m = re.search(r"listening auth=\S+:(\d+) chat=\S+:(\d+) file=\S+:(\d+)", self.log())
            if m:
                break
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s:\n%s"
                                   % (self.proc.returncode, self.log()[-3000:]))
            if time.monotonic() > deadline:
                raise RuntimeError("no 'listening' line within %.0f s:\n%s"
                                   % (SERVER_START_TIMEOUT_S, self.log()[-3000:]))
            time.sleep(0.02)
        self.ports = {"auth": int(m.group(1)), "chat": int(m.group(2)), "file": int(m.group(3))}

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def sms_code(self, phone: str, timeout_s: float = 10.0) -> str:
        deadline = time.monotonic() + timeout_s
        pattern = re.compile(r"SMS code for %s: (\d+)" % re.escape(phone))
        while True:
            found = pattern.findall(self.log())
            if found:
                return found[-1]
            if time.monotonic() > deadline or not self.alive():
                raise RuntimeError("no SMS code for %s in the server log" % phone)
            time.sleep(0.02)

    def status_field(self, name: str) -> Optional[int]:
        """A kB field of /proc/PID/status (VmRSS, VmHWM, Threads), or None once it is gone."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith(name + ":"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            return None
        return None

    def fds(self) -> Optional[int]:
        try:
            return len(os.listdir("/proc/%d/fd" % self.pid))
        except OSError:
            return None

    def stop(self) -> Optional[int]:
        """SIGTERM by PID, SIGKILL after the deadline; the exit code."""
        if self.proc.poll() is None:
            t = time.monotonic()
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(SERVER_STOP_TIMEOUT_S)
                self.stop_s = time.monotonic() - t
            except subprocess.TimeoutExpired:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode


def log_findings(text: str) -> Dict[str, Any]:
    lines = text.splitlines()
    kinds: collections.Counter = collections.Counter()
    for i, line in enumerate(lines):
        if "Traceback" in line:
            # The exception line: the first line after the traceback that is not indented.
            for follow in lines[i + 1:i + 200]:
                if follow and not follow.startswith(" "):
                    kinds[follow[:200]] += 1
                    break
    return {"traceback_lines": sum("Traceback" in line for line in lines),
            "traceback_exceptions": dict(kinds.most_common(20)),
            "error_lines": sum(" ERROR " in line or "ERROR:" in line for line in lines),
            "warning_lines": sum(" WARNING " in line or "WARNING:" in line for line in lines),
            "log_lines": len(lines)}


# -- accounts -------------------------------------------------------------------------------

def register(server: Server, name: str, phone: str, source: str) -> None:
    with Client(server.ports["auth"], source, timeout_s=20.0) as c:
        reply = c.request("send_code", phone=phone)
        if reply.get("status") != "ok":
            raise RuntimeError("send_code for %s: %s" % (name, reply))
        code = server.sms_code(phone)
        reply = c.request("register", username=name, password=PASSWORD, phone=phone,
                          code=code, email="")
        if reply.get("status") != "ok":
            raise RuntimeError("register %s: %s" % (name, reply))


def login(server: Server, name: str, source: str) -> str:
    with Client(server.ports["auth"], source, timeout_s=20.0) as c:
        reply = c.request("login", login=name, password=PASSWORD)
        if reply.get("status") != "ok":
            raise RuntimeError("login %s: %s" % (name, reply))
        return reply["token"]


def authed(port: int, token: str, source: str, timeout_s: float = 20.0) -> Client:
    c = Client(port, source, timeout_s)
    try:
        reply = c.request("auth", token=token)
    except Exception:
        c.close()
        raise
    if reply.get("status") != "ok":
        c.close()
        raise RuntimeError("auth: %s" % reply)
    return c


# -- honest chat ----------------------------------------------------------------------------

class ChatUser:
    def __init__(self, index: int, name: str, client: Client) -> None:
        self.index = index
        self.name = name
        self.sock = client.sock
        self.sock.setblocking(False)
        self.inbuf = client.buf  # whatever followed the auth reply
        self.early = list(client.pending)
        self.out = bytearray()
        self.seq = 0
        self.next_at = 0.0
        self.closed: Optional[str] = None
        self.pending: Dict[str, str] = {}  # request id -> text


class HonestChat:
    """All honest chat connections on one selectors loop in the main thread."""

    def __init__(self, users: List[ChatUser]) -> None:
        self.users = users
        self.sel = selectors.DefaultSelector()
        for u in users:
            self.sel.register(u.sock, selectors.EVENT_READ, u)
        self.sent_at: Dict[str, float] = {}
        self.sender: Dict[str, int] = {}
        self.acked: Dict[str, float] = {}  # text -> ack time
        self.statuses: collections.Counter = collections.Counter()
        self.received: Dict[str, set] = collections.defaultdict(set)
        self.latencies: List[Tuple[float, float]] = []  # (send time, latency) per receiver
        self.observer_latency: List[float] = []
        self.ack_latency: List[float] = []
        self.errors: collections.Counter = collections.Counter()
        self.t0 = 0.0

    def _close(self, u: ChatUser, why: str) -> None:
        if u.closed is None:
            u.closed = why
            if why != "end of test":
                self.errors["closed: " + why] += 1
            try:
                self.sel.unregister(u.sock)
            except (KeyError, ValueError):
                pass
            u.sock.close()

    def _say(self, u: ChatUser, now: float) -> None:
        u.seq += 1
        text = "soak %s #%d t=%.3f" % (u.name, u.seq, time.time())
        rid = "s%d-%d" % (u.index, u.seq)
        u.pending[rid] = text
        self.sent_at[text] = now
        self.sender[text] = u.index
        u.out += jframe({"op": "say", "id": rid, "text": text})

    def _flush(self, u: ChatUser) -> None:
        if u.closed is not None:
            return
        if u.out:
            try:
                n = u.sock.send(u.out)
                del u.out[:n]
            except BlockingIOError:
                pass
            except OSError as exc:
                self._close(u, "send: %s" % type(exc).__name__)
                return
        want = selectors.EVENT_READ | (selectors.EVENT_WRITE if u.out else 0)
        if self.sel.get_key(u.sock).events != want:
            self.sel.modify(u.sock, want, u)

    def _frames(self, u: ChatUser, frames: List[Tuple[int, bytes]], now: float) -> None:
        for kind, body in frames:
            if kind != J:
                continue
            m = parse_json(body)
            if m is None:
                self.errors["unparsable frame"] += 1
                continue
            op = m.get("op")
            if op == "message":
                text = m.get("text")
                sent = self.sent_at.get(text) if isinstance(text, str) else None
                if sent is None:
                    continue
                got = self.received[text]
                if u.index in got:
                    self.errors["duplicate delivery"] += 1
                    continue
                got.add(u.index)
                if u.index != self.sender[text]:
                    self.latencies.append((sent - self.t0, now - sent))
                if u.index == 0:
                    self.observer_latency.append(now - sent)
            elif op == "say" and "status" in m:
                text = u.pending.pop(m.get("id"), None)
                if text is None:
                    self.errors["say reply with unknown id"] += 1
                    continue
                status = m.get("status")
                self.statuses[status] += 1
                if status == "ok":
                    self.acked[text] = now
                    self.ack_latency.append(now - self.sent_at[text])
            elif op == "error" or ("status" in m and m.get("status") != "ok"):
                self.errors["%s %s" % (op, m.get("status"))] += 1

    def _read(self, u: ChatUser, now: float) -> None:
        try:
            data = u.sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError as exc:
            self._close(u, "recv: %s" % type(exc).__name__)
            return
        if not data:
            self._close(u, "EOF from the server")
            return
        u.inbuf += data
        self._frames(u, take_frames(u.inbuf), now)

    def complete(self) -> bool:
        if any(u.pending for u in self.users if u.closed is None):
            return False
        live = {u.index for u in self.users if u.closed is None}
        return all(live <= self.received.get(text, set()) for text in self.acked)

    def run(self, t0: float, send_until: float, grace_until: float) -> None:
        self.t0 = t0
        n = len(self.users)
        for u in self.users:
            u.next_at = t0 + SAY_INTERVAL_S * u.index / n
            self._frames(u, u.early, t0)
            self._frames(u, take_frames(u.inbuf), t0)
        next_check = 0.0
        while True:
            now = time.monotonic()
            if now >= grace_until:
                break
            if now >= send_until and now >= next_check:
                if self.complete():
                    break
                next_check = now + 0.25
            if now < send_until:
                for u in self.users:
                    # at most one message per turn: a stalled loop does not burst afterwards
                    if u.closed is None and u.next_at <= now:
                        self._say(u, now)
                        u.next_at = max(u.next_at + SAY_INTERVAL_S, now)
            for u in self.users:
                self._flush(u)
            wake = min([u.next_at for u in self.users if u.closed is None] + [now + 0.05])
            timeout = max(0.0, min(wake, grace_until) - now) if now < send_until else 0.05
            for key, mask in self.sel.select(timeout):
                u = key.data
                if mask & selectors.EVENT_READ:
                    self._read(u, time.monotonic())
                if mask & selectors.EVENT_WRITE and u.closed is None:
                    self._flush(u)
        for u in self.users:
            if u.closed is None:
                self._close(u, "end of test")

    def results(self) -> Dict[str, Any]:
        observer_got = sum(1 for text in self.acked if 0 in self.received.get(text, ()))
        lost = [text for text in self.acked if 0 not in self.received.get(text, ())]
        users = len(self.users)
        expected = sum(users - 1 for _ in self.acked)
        delivered_pairs = sum(len(self.received.get(t, set()) - {self.sender[t]})
                              for t in self.acked)
        unanswered = sum(len(u.pending) for u in self.users)
        timeline = []
        if self.latencies:
            bucket_s = 5.0
            buckets: Dict[int, List[float]] = collections.defaultdict(list)
            for sent_rel, lat in self.latencies:
                buckets[int(sent_rel // bucket_s)].append(lat)
            for b in sorted(buckets):
                s = summary_ms(buckets[b])
                timeline.append({"t_s": b * bucket_s, "count": s["count"], "p50_ms": s["p50"],
                                 "p99_ms": s["p99"], "max_ms": s["max"]})
        return {
            "sent": len(self.sent_at), "acked": len(self.acked),
            "say_replies": dict(self.statuses), "unanswered": unanswered,
            "refused": sum(n for status, n in self.statuses.items() if status != "ok"),
            "delivered_to_observer": observer_got, "lost": len(lost),
            "lost_examples": lost[:5],
            "deliveries_expected": expected, "deliveries": delivered_pairs,
            "missing_deliveries": expected - delivered_pairs,
            "latency_ms": summary_ms([lat for _, lat in self.latencies]),
            "observer_latency_ms": summary_ms(self.observer_latency),
            "ack_latency_ms": summary_ms(self.ack_latency),
            "latency_timeline": timeline,
            "connections_closed": sum(1 for u in self.users if u.closed not in (None,
                                                                                "end of test")),
            "errors": dict(self.errors),
        }


# -- honest files and the login probe -------------------------------------------------------

class FileStats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ok = 0
        self.failed = 0
        self.failures: collections.Counter = collections.Counter()
        self.round_trip_s: List[float] = []

    def add(self, ok: bool, why: str = "", elapsed: float = 0.0) -> None:
        with self.lock:
            if ok:
                self.ok += 1
                self.round_trip_s.append(elapsed)
            else:
                self.failed += 1
                self.failures[why] += 1

    def results(self) -> Dict[str, Any]:
        return {"ok": self.ok, "failed": self.failed, "failures": dict(self.failures),
                "round_trip_ms": summary_ms(self.round_trip_s)}


def file_round(c: Client, name: str, deadline: float) -> None:
    data = os.urandom(FILE_SIZE)
    digest = hashlib.sha256(data).hexdigest()
    phase = "upload"
    try:
        rid = next(Client._ids)
        c.send({"op": "upload", "id": rid, "name": name, "size": len(data), "sha256": digest,
                "type": "application/octet-stream"})
        reply = c.wait_json(lambda m: m.get("id") == rid and m.get("op") == "upload"
                            and "status" in m, deadline)
        if reply.get("status") != "ok":
            raise RuntimeError("upload %s" % reply.get("status"))
        phase = "upload data"
        offset = reply.get("offset", 0)
        step = 256 * 1024
        for i in range(offset, len(data), step):
            c.sock.settimeout(max(0.01, deadline - time.monotonic()))
            c.send_raw(HEADER.pack(B, len(data[i:i + step])) + data[i:i + step])
        phase = "upload_done"
        done = c.wait_json(lambda m: m.get("op") == "upload_done" and m.get("id") == rid,
                           deadline)
        if done.get("status") != "ok":
            raise RuntimeError("upload_done %s" % done.get("status"))
        file_id = done["file"]["file_id"]
        phase = "download"
        rid = next(Client._ids)
        c.send({"op": "download", "id": rid, "file_id": file_id})
        reply = c.wait_json(lambda m: m.get("id") == rid and "status" in m, deadline)
        if reply.get("status") != "ok":
            raise RuntimeError("download %s" % reply.get("status"))
        got = bytearray()
        while len(got) < len(data):
            kind, body = c.read_frame(deadline)
            if kind == B:
                got += body
        if hashlib.sha256(bytes(got)).hexdigest() != digest:
            raise RuntimeError("sha256 mismatch")
        phase = "delete"
        reply = c.request("delete", timeout_s=max(0.01, deadline - time.monotonic()),
                          file_id=file_id)
        if reply.get("status") != "ok":
            raise RuntimeError("delete %s" % reply.get("status"))
    except (TimeoutError, socket.timeout):
        raise RuntimeError("timeout in %s" % phase) from None
    except (Closed, OSError) as exc:
        raise RuntimeError("%s in %s" % (type(exc).__name__, phase)) from None


def file_worker(server: Server, name: str, token: str, stats: FileStats, start: float,
                until: float, hard_end: float) -> None:
    c: Optional[Client] = None
    n = 0
    next_at = start
    while True:
        now = time.monotonic()
        if now >= until:
            break
        if next_at > now:
            time.sleep(min(next_at - now, until - now))
            continue
        n += 1
        next_at = max(now, next_at + FILE_INTERVAL_S)
        t = time.monotonic()
        deadline = min(t + FILE_ROUND_TIMEOUT_S, hard_end)
        try:
            if c is None:
                try:
                    c = authed(server.ports["file"], token, HONEST_ADDR,
                               timeout_s=max(0.5, deadline - t))
                except Exception as exc:
                    raise RuntimeError("file auth: %s" % (str(exc)[:60] or type(exc).__name__))
            file_round(c, "soak/%s-%d.bin" % (name, n), deadline)
            stats.add(True, elapsed=time.monotonic() - t)
        except Exception as exc:  # every failure is counted, never raised
            stats.add(False, str(exc)[:80] or type(exc).__name__)
            if c is not None:
                c.close()
                c = None
    if c is not None:
        c.close()


def login_probe(server: Server, name: str, until: float, out: Dict[str, Any]) -> None:
    latencies: List[float] = []
    statuses: collections.Counter = collections.Counter()
    next_at = time.monotonic()
    for _ in range(int(MAX_DURATION_S / PROBE_INTERVAL_S) + 1):
        now = time.monotonic()
        if now >= until:
            break
        if next_at > now:
            time.sleep(min(next_at - now, until - now))
            continue
        next_at += PROBE_INTERVAL_S
        t = time.monotonic()
        try:
            with Client(server.ports["auth"], PROBE_ADDR, timeout_s=10.0) as c:
                reply = c.request("login", login=name, password=PASSWORD)
            statuses[reply.get("status")] += 1
            if reply.get("status") == "ok":
                latencies.append(time.monotonic() - t)
        except (TimeoutError, socket.timeout):
            statuses["timeout"] += 1
        except (Closed, OSError) as exc:
            statuses[type(exc).__name__] += 1
    out.update({"replies": dict(statuses), "latency_ms": summary_ms(latencies),
                "over_1s": sum(1 for v in latencies if v > 1.0)})


def rss_sampler(server: Server, t0: float, stop: threading.Event, out: Dict[str, Any]) -> None:
    samples, fds = [], []
    dead_at: Optional[float] = None
    for _ in range(int(MAX_DURATION_S * 2)):
        t = round(time.monotonic() - t0, 2)
        if not server.alive():
            dead_at = t
            break
        rss = server.status_field("VmRSS")
        if rss is not None:
            samples.append((t, round(rss / 1024.0, 2)))
        n = server.fds()
        if n is not None:
            fds.append((t, n))
        if stop.wait(1.0):
            break
    out.update({"samples": samples, "fd_samples": fds, "dead_at_s": dead_at})


# -- attackers (one process per source address) ---------------------------------------------

def new_stats() -> Dict[str, Any]:
    return {"attempted": 0, "replies": collections.Counter(), "closed_by_server": 0,
            "connect_failed": 0, "timeouts": 0, "errors": collections.Counter()}


def count_replies(stats: Dict[str, Any], buf: bytearray) -> int:
    n = 0
    for kind, body in take_frames(buf):
        m = parse_json(body) if kind == J else None
        if m is not None and "status" in m:
            stats["replies"][m["status"]] += 1
            n += 1
    return n


def rst_close(s: socket.socket) -> None:
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def attack_storm(addr: str, ports: List[int], stop_at: float, scale: float,
                 stats: Dict[str, Any]) -> None:
    """Connect and reset at once (SO_LINGER 1,0); every third sends a hello first."""
    rate = STORM_PER_S * scale
    interval = 1.0 / rate
    limit = int(rate * (stop_at - time.monotonic()) * 1.1) + 1
    hello = jframe({"op": "hello", "id": 1})
    next_t = time.monotonic()
    for n in range(limit):
        if time.monotonic() >= stop_at:
            break
        s = make_socket(addr, 2.0)
        stats["attempted"] += 1
        try:
            s.connect((HOST, ports[n % len(ports)]))
            if n % 3 == 2:
                s.sendall(hello)
                stats["errors"]["reset after hello"] += 1
        except socket.timeout:
            stats["timeouts"] += 1
        except OSError as exc:
            stats["connect_failed"] += 1
            stats["errors"][type(exc).__name__] += 1
        finally:
            rst_close(s)
        next_t += interval
        delay = next_t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1.0:
            next_t = time.monotonic()  # fell behind: do not burst to catch up


def attack_slowloris(addr: str, ports: List[int], stop_at: float, scale: float,
                     stats: Dict[str, Any]) -> None:
    """Keep connections open, each sending one byte of a hello frame every few seconds."""
    keep = max(1, int(SLOWLORIS_CONNS * scale))
    payload = jframe({"op": "hello", "id": 1})
    sel = selectors.DefaultSelector()
    conns: Dict[socket.socket, List[Any]] = {}  # sock -> [bytes sent, next byte at, opened at]
    lifetimes: List[float] = []
    open_max = 0
    opens_left = keep * 20
    n = 0

    def drop(s: socket.socket, by_server: bool) -> None:
        entry = conns.pop(s)
        if by_server:
            stats["closed_by_server"] += 1
            lifetimes.append(time.monotonic() - entry[2])
        sel.unregister(s)
        s.close()

    while time.monotonic() < stop_at:
        now = time.monotonic()
        opened_now = 0
        while len(conns) < keep and opens_left > 0 and opened_now < 20:
            opens_left -= 1
            opened_now += 1
            n += 1
            s = make_socket(addr, 2.0)
            stats["attempted"] += 1
            try:
                s.connect((HOST, ports[n % len(ports)]))
            except socket.timeout:
                stats["timeouts"] += 1
                s.close()
                continue
            except OSError as exc:
                stats["connect_failed"] += 1
                stats["errors"][type(exc).__name__] += 1
                s.close()
                continue
            s.setblocking(False)
            conns[s] = [0, now + random.uniform(0, SLOWLORIS_BYTE_EVERY_S), now]
            sel.register(s, selectors.EVENT_READ)
        open_max = max(open_max, len(conns))
        for s, entry in list(conns.items()):
            if entry[1] <= now:
                try:
                    s.send(payload[entry[0] % len(payload):entry[0] % len(payload) + 1])
                    entry[0] += 1
                    stats["bytes_sent"] = stats.get("bytes_sent", 0) + 1
                except BlockingIOError:
                    pass
                except OSError:
                    drop(s, True)
                    continue
                entry[1] = now + SLOWLORIS_BYTE_EVERY_S
        for key, _ in sel.select(0.2):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                drop(s, True)
                continue
            if not data:
                drop(s, True)
            else:
                count_replies(stats, bytearray(data))
        if opened_now == 0 and len(conns) >= keep:
            time.sleep(0.05)
    stats["open_at_end"] = len(conns)
    for s in list(conns):
        drop(s, False)
    sel.close()
    stats["open_max"] = open_max
    stats["lifetime_s"] = {"count": len(lifetimes),
                           "p50": round(percentile(lifetimes, 50) or 0, 2),
                           "max": round(max(lifetimes) if lifetimes else 0, 2)}


def attack_login_flood(addr: str, port: int, stop_at: float, scale: float,
                       stats: Dict[str, Any]) -> None:
    """Wrong logins with random names on LOGIN_CONNS connections, the next one as soon as the
    reply arrives (capped at LOGIN_MAX_PER_S)."""
    conns_n = max(1, int(LOGIN_CONNS * scale))
    cap_per_s = LOGIN_MAX_PER_S * scale
    sel = selectors.DefaultSelector()
    state: Dict[socket.socket, List[Any]] = {}  # sock -> [inbuf, sent_at or None]
    latencies: List[float] = []
    start = time.monotonic()
    reopens_left = conns_n * 20
    letters = string.ascii_lowercase + string.digits

    def open_one() -> None:
        nonlocal reopens_left
        if reopens_left <= 0:
            return
        reopens_left -= 1
        s = make_socket(addr, 2.0)
        try:
            s.connect((HOST, port))
        except socket.timeout:
            stats["timeouts"] += 1
            s.close()
            return
        except OSError as exc:
            stats["connect_failed"] += 1
            stats["errors"][type(exc).__name__] += 1
            s.close()
            return
        s.setblocking(False)
        state[s] = [bytearray(), None]
        sel.register(s, selectors.EVENT_READ)

    def drop(s: socket.socket) -> None:
        state.pop(s, None)
        sel.unregister(s)
        s.close()

    def fire(s: socket.socket, now: float) -> None:
        name = "".join(random.choice(letters) for _ in range(random.randint(6, 14)))
        try:
            s.send(jframe({"op": "login", "id": stats["attempted"], "login": "x" + name,
                           "password": "wrong password 1"}))
        except OSError:
            stats["closed_by_server"] += 1
            drop(s)
            return
        stats["attempted"] += 1
        state[s][1] = now

    for _ in range(conns_n):
        if time.monotonic() >= stop_at:
            break
        open_one()
    while time.monotonic() < stop_at:
        now = time.monotonic()
        allowed = int(cap_per_s * (now - start)) + conns_n
        for s, st in list(state.items()):
            if st[1] is None and stats["attempted"] < allowed:
                fire(s, now)
        for key, _ in sel.select(0.05):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                stats["closed_by_server"] += 1
                drop(s)
                open_one()
                continue
            st = state[s]
            st[0] += data
            if count_replies(stats, st[0]) and st[1] is not None:
                latencies.append(time.monotonic() - st[1])
                st[1] = None
    stats["unanswered_at_end"] = sum(1 for st in state.values() if st[1] is not None)
    for s in list(state):
        drop(s)
    sel.close()
    stats["reply_latency_ms"] = summary_ms(latencies)


BAD_PAYLOADS: List[Tuple[str, bytes]] = [
    ("garbage", b"\x00" + bytes(random.Random(1).getrandbits(8) for _ in range(63))),
    ("http_get", b"GET / HTTP/1.1\r\nHost: chat\r\n\r\n"),
    ("wrong_kind", HEADER.pack(0x58, 10) + b"0123456789"),
    ("oversize_json", HEADER.pack(J, 65537) + b"{" * 100),
    ("oversize_4g", HEADER.pack(J, 0xFFFFFFFF)),
    ("oversize_binary", HEADER.pack(B, 1048577)),
    ("binary_outside_transfer", HEADER.pack(B, 4) + b"abcd"),
    ("binary_empty", HEADER.pack(B, 0)),
    ("bad_utf8", raw_jframe(b'{"op":"hello","x":"\xff\xfe\xc0"}')),
    ("not_json", raw_jframe(b"{op: hello")),
    ("json_array", raw_jframe(b"[1,2,3]")),
    ("json_string", raw_jframe(b'"hello"')),
    ("json_null", raw_jframe(b"null")),
    ("no_op", raw_jframe(b'{"id":1}')),
    ("op_not_string", raw_jframe(b'{"op":5,"id":1}')),
    ("deep_nesting", raw_jframe(b'{"op":"hello","x":' + b"[" * 30000 + b"]" * 30000 + b"}")),
    ("long_int", raw_jframe(b'{"op":"hello","id":1' + b"0" * 5000 + b"}")),
]


def attack_bad_frames(addr: str, ports: List[int], stop_at: float, scale: float,
                      stats: Dict[str, Any]) -> None:
    """One malformed frame per connection; what came back and whether the server closed."""
    rate = BAD_FRAMES_PER_S * scale
    limit = int(rate * (stop_at - time.monotonic()) * 1.1) + 1
    outcomes: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    next_t = time.monotonic()
    for n in range(limit):
        if time.monotonic() >= stop_at:
            break
        variant, payload = BAD_PAYLOADS[n % len(BAD_PAYLOADS)]
        port = ports[(n // len(BAD_PAYLOADS)) % len(ports)]
        stats["attempted"] += 1
        status, closed = "no_reply", False
        try:
            c = Client(port, addr, timeout_s=2.0)
        except (TimeoutError, socket.timeout):
            stats["timeouts"] += 1
            c, status = None, "connect_timeout"
        except OSError as exc:
            stats["connect_failed"] += 1
            c, status = None, type(exc).__name__
        if c is not None:
            try:
                c.send_raw(payload)
                reply = c.next_reply(time.monotonic() + 1.5)
                status = str(reply.get("status"))
                stats["replies"][status] += 1
                c.wait_json(lambda m: False, time.monotonic() + 1.0)  # then closed?
            except (TimeoutError, socket.timeout):
                if status == "no_reply":
                    stats["timeouts"] += 1
            except (Closed, OSError):
                closed = True
            finally:
                c.close()
        if closed:
            stats["closed_by_server"] += 1
        outcomes[variant]["%s/%s" % (status, "closed" if closed else "open")] += 1
        next_t += 1.0 / rate
        delay = next_t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1.0:
            next_t = time.monotonic()
    stats["by_variant"] = {k: dict(v) for k, v in outcomes.items()}


SURROGATE_CHAT: List[Tuple[str, bytes]] = [
    ("say_lone_surrogate", b'{"op":"say","id":"a1","text":"\\ud800"}'),
    ("say_surrogate_inside", b'{"op":"say","id":"a2","text":"hi \\udfff there"}'),
    ("say_to_surrogate", b'{"op":"say","id":"a3","text":"x","to":"\\ud800"}'),
    ("history_with_surrogate", b'{"op":"history","id":"a4","with":"\\udc00"}'),
    ("ping_id_1e400", b'{"op":"ping","id":1e400}'),
    ("ping_id_nan", b'{"op":"ping","id":NaN}'),
    ("ping_id_infinity", b'{"op":"ping","id":-Infinity}'),
    ("ping_id_huge_int", b'{"op":"ping","id":' + str(2 ** 70).encode() + b"}"),
    ("say_id_1e400", b'{"op":"say","id":1e400,"text":"should not be stored"}'),
    ("say_id_nan", b'{"op":"say","id":NaN,"text":"should not be stored"}'),
]
SURROGATE_AUTH: List[Tuple[str, bytes]] = [
    ("login_surrogate", b'{"op":"login","id":"b1","login":"\\ud800","password":"x\\ud800y12"}'),
    ("register_surrogate", b'{"op":"register","id":"b2","username":"\\ud800x",'
                           b'"password":"abc\\udfff12345","phone":"13900000009","code":"1",'
                           b'"email":""}'),
    ("send_code_surrogate", b'{"op":"send_code","id":"b3","phone":"\\ud800"}'),
    ("hello_id_nan", b'{"op":"hello","id":NaN}'),
    ("login_id_1e400", b'{"op":"login","id":1e400,"login":"nobody","password":"x"}'),
]


def attack_surrogates(addr: str, ports: Dict[str, int], token: str, stop_at: float,
                      scale: float, stats: Dict[str, Any]) -> None:
    """Lone surrogates and non-finite ids from the attacker account, one request at a time,
    alternating chat and auth; a closed connection is reopened (bounded)."""
    rate = SURROGATES_PER_S * scale
    limit = int(rate * (stop_at - time.monotonic()) * 1.1) + 1
    outcomes: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    conns: Dict[str, Optional[Client]] = {"chat": None, "auth": None}
    reopens_left = 200
    next_t = time.monotonic()
    for n in range(limit):
        if time.monotonic() >= stop_at or reopens_left <= 0:
            break
        service = "chat" if n % 3 else "auth"
        table = SURROGATE_CHAT if service == "chat" else SURROGATE_AUTH
        variant, body = table[(n // 3) % len(table)]
        stats["attempted"] += 1
        outcome = "?"
        try:
            if conns[service] is None:
                reopens_left -= 1
                conns[service] = (authed(ports["chat"], token, addr, 5.0) if service == "chat"
                                  else Client(ports["auth"], addr, 5.0))
            c = conns[service]
            c.send_raw(raw_jframe(body))
            reply = c.next_reply(time.monotonic() + 5.0)
            status = str(reply.get("status"))
            stats["replies"][status] += 1
            outcome = status + ("" if "id" in reply else " (no id)")
        except (TimeoutError, socket.timeout):
            stats["timeouts"] += 1
            outcome = "timeout"
        except (Closed, OSError) as exc:
            stats["closed_by_server"] += 1
            outcome = "closed: " + type(exc).__name__
        except RuntimeError as exc:  # auth refused
            stats["errors"][str(exc)[:80]] += 1
            outcome = "auth failed"
        if outcome in ("timeout",) or outcome.startswith("closed") or outcome == "auth failed":
            if conns[service] is not None:
                conns[service].close()
            conns[service] = None
        outcomes[variant][outcome] += 1
        next_t += 1.0 / rate
        delay = next_t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1.0:
            next_t = time.monotonic()
    for c in conns.values():
        if c is not None:
            c.close()
    stats["by_variant"] = {k: dict(v) for k, v in outcomes.items()}


def jsonable_stats(stats: Dict[str, Any]) -> Dict[str, Any]:
    return {k: (dict(v) if isinstance(v, collections.Counter) else v) for k, v in stats.items()}


def attacker_main(addr: str, ports: Dict[str, int], token: str, duration: float,
                  scale: float, out_path: str) -> None:
    """One attacker process: every kind of attack from one source address, in threads."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    raise_fd_limit()
    stop_at = time.monotonic() + duration
    port_list = [ports["auth"], ports["chat"], ports["file"]]
    stats = {kind: new_stats() for kind in
             ("connect_reset", "slowloris", "login_flood", "bad_frames", "surrogates")}
    jobs = [
        ("connect_reset", attack_storm, (addr, port_list, stop_at, scale)),
        ("slowloris", attack_slowloris, (addr, port_list, stop_at, scale)),
        ("login_flood", attack_login_flood, (addr, ports["auth"], stop_at, scale)),
        ("bad_frames", attack_bad_frames, (addr, port_list, stop_at, scale)),
        ("surrogates", attack_surrogates, (addr, ports, token, stop_at, scale)),
    ]

    def guarded(kind: str, fn: Callable[..., None], args: tuple) -> None:
        try:
            fn(*args, stats[kind])
        except Exception as exc:  # an attacker bug must not hide the others' numbers
            stats[kind]["errors"]["attacker crashed: %r" % exc] += 1

    threads = [threading.Thread(target=guarded, args=job, daemon=True) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, stop_at + 15 - time.monotonic()))
    with open(out_path, "w") as f:
        json.dump({k: jsonable_stats(v) for k, v in stats.items()}, f)


def merge_attacks(per_addr: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    merged: Dict[str, Any] = {}
    for kinds in per_addr.values():
        for kind, st in kinds.items():
            m = merged.setdefault(kind, {})
            for key, value in st.items():
                if isinstance(value, bool) or not isinstance(value, (int, float, dict)):
                    continue
                if isinstance(value, dict):
                    if all(isinstance(v, (int, float)) for v in value.values()) \
                            and key not in ("lifetime_s", "reply_latency_ms"):
                        target = m.setdefault(key, {})
                        for k, v in value.items():
                            target[k] = target.get(k, 0) + v
                    elif key == "by_variant":
                        target = m.setdefault(key, {})
                        for variant, outcomes in value.items():
                            t = target.setdefault(variant, {})
                            for k, v in outcomes.items():
                                t[k] = t.get(k, 0) + v
                    else:
                        m.setdefault(key + "_per_address", []).append(value)
                else:
                    m[key] = m.get(key, 0) + value
    return merged


# -- the run --------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> Dict[str, Any]:
    root = os.path.abspath(args.root)
    result: Dict[str, Any] = {
        "config": {"root": root, "duration_s": args.duration, "attack": not args.no_attack,
                   "attack_scale": args.attack_scale, "users": args.users,
                   "grace_s": args.grace, "python": sys.version.split()[0],
                   "started_at": time.strftime("%Y-%m-%dT%H:%M:%S")},
    }
    work = tempfile.mkdtemp(prefix="chatroom-soak-")
    server: Optional[Server] = None
    attackers: List[Tuple[str, Any, str]] = []
    stop_sampler = threading.Event()
    rss: Dict[str, Any] = {}
    sampler: Optional[threading.Thread] = None
    chat_users: List[ChatUser] = []
    alive_after = None
    try:
        server = Server(root, work)
        result["server"] = {"cmd": " ".join(server.cmd), "pid": server.pid,
                            "ports": server.ports}
        t_server = server.started
        sampler = threading.Thread(target=rss_sampler,
                                   args=(server, t_server, stop_sampler, rss), daemon=True)
        sampler.start()

        # Accounts: each registered from its own loopback address (per-IP SMS limits), the
        # honest ones logged in from 127.0.0.1.
        t = time.monotonic()
        names = ["honest%02d" % i for i in range(args.users)]
        for i, name in enumerate(names):
            register(server, name, "1380000%04d" % i, "127.0.1.%d" % (i + 1))
        register(server, "attacker1", "13900000001", "127.0.2.1")
        tokens = {name: login(server, name, HONEST_ADDR) for name in names}
        attacker_token = login(server, "attacker1", "127.0.2.1")
        for i, name in enumerate(names):
            chat_users.append(ChatUser(i, name, authed(server.ports["chat"], tokens[name],
                                                          HONEST_ADDR)))
        result["setup_s"] = round(time.monotonic() - t, 2)

        t0 = time.monotonic()
        send_until = t0 + args.duration
        grace_until = send_until + args.grace
        result["soak_window_s"] = [round(t0 - t_server, 2), round(send_until - t_server, 2)]
        if not args.no_attack:
            ctx = multiprocessing.get_context("spawn")
            for addr in ATTACK_ADDRS:
                out_path = os.path.join(work, "attack-%s.json" % addr)
                p = ctx.Process(target=attacker_main, name="soak-attacker-" + addr,
                                args=(addr, server.ports, attacker_token, args.duration,
                                      args.attack_scale, out_path), daemon=True)
                p.start()
                attackers.append((addr, p, out_path))

        files = FileStats()
        probe: Dict[str, Any] = {}
        workers = [threading.Thread(target=file_worker, args=(server, names[i], tokens[names[i]],
                                                              files, t0 + i, send_until,
                                                              grace_until), daemon=True)
                   for i in range(1, min(FILE_USERS + 1, args.users))]
        workers.append(threading.Thread(target=login_probe, args=(server, names[0], send_until,
                                                                  probe), daemon=True))
        for w in workers:
            w.start()

        chat = HonestChat(chat_users)
        chat.run(t0, send_until, grace_until)
        for w in workers:
            w.join(max(0.1, grace_until + FILE_ROUND_TIMEOUT_S - time.monotonic()))
        result["honest"] = chat.results()
        result["files"] = files.results()
        result["login_probe"] = probe

        per_addr: Dict[str, Any] = {}
        for addr, p, out_path in attackers:
            p.join(max(0.1, send_until + 30 - time.monotonic()))
            if os.path.exists(out_path):
                with open(out_path) as f:
                    per_addr[addr] = json.load(f)
            else:
                per_addr[addr] = {"missing": {"errors": {"no result file": 1}}}
        if attackers:
            result["attacks"] = merge_attacks(per_addr)
            result["attacks_per_address"] = per_addr
        alive_after = server.alive()
    except Exception as exc:
        result["error"] = "%s: %s" % (type(exc).__name__, exc)
    finally:
        for u in chat_users:
            if u.closed is None:
                u.sock.close()
        for _addr, p, _out in attackers:
            if p.is_alive():
                p.terminate()  # SIGTERM by its PID
                p.join(5)
            if p.is_alive():
                p.kill()
                p.join(5)
        stop_sampler.set()
        if sampler is not None:
            sampler.join(5)
        if server is not None:
            peak = server.status_field("VmHWM")
            alive_at_end = server.alive()
            code = server.stop()
            samples = [s[1] for s in rss.get("samples", [])]
            result["rss"] = {"samples": rss.get("samples", []),
                             "min_mib": min(samples) if samples else None,
                             "max_mib": max(samples) if samples else None,
                             "peak_hwm_mib": round(peak / 1024.0, 2) if peak else None,
                             "fd_samples": rss.get("fd_samples", []),
                             "fd_max": max((n for _, n in rss.get("fd_samples", [])),
                                           default=None)}
            result.setdefault("server", {}).update({
                "alive_throughout": bool(alive_at_end and rss.get("dead_at_s") is None
                                         and alive_after is not False),
                "died_at_s": rss.get("dead_at_s"),
                "exit_code": code, "sigterm_to_exit_s": (round(server.stop_s, 2)
                                                         if server.stop_s is not None
                                                         else None),
            })
            result["server"].update(log_findings(server.log()))
            if args.keep:
                result["work_dir"] = work
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return result


def print_summary(r: Dict[str, Any]) -> None:
    cfg = r["config"]
    print("soak: %s, %.0f s, %d users, attack %s" % (
        cfg["root"], cfg["duration_s"], cfg["users"],
        ("x%.2f" % cfg["attack_scale"]) if cfg["attack"] else "off"))
    if "error" in r:
        print("  ERROR: %s" % r["error"])
    h = r.get("honest")
    if h:
        lat = h["latency_ms"]
        print("  honest: sent %d, acked %d, delivered to observer %d, lost %d, unanswered %d, "
              "missing deliveries %d/%d" % (h["sent"], h["acked"], h["delivered_to_observer"],
                                            h["lost"], h["unanswered"], h["missing_deliveries"],
                                            h["deliveries_expected"]))
        print("  honest latency ms: p50 %s, p99 %s, max %s (%d samples); say replies %s"
              % (lat["p50"], lat["p99"], lat["max"], lat["count"], h["say_replies"]))
        if h["errors"]:
            print("  honest errors: %s" % h["errors"])
    f = r.get("files")
    if f:
        print("  files: ok %d, failed %d %s; round trip p50 %s ms, max %s ms"
              % (f["ok"], f["failed"], f["failures"] or "", f["round_trip_ms"]["p50"],
                 f["round_trip_ms"]["max"]))
    p = r.get("login_probe")
    if p:
        print("  login probe: %s; latency p50 %s ms, max %s ms, over 1 s: %d"
              % (p["replies"], p["latency_ms"]["p50"], p["latency_ms"]["max"], p["over_1s"]))
    m = r.get("rss")
    if m:
        print("  server RSS MiB: min %s, max %s (peak %s); open fds max %s"
              % (m["min_mib"], m["max_mib"], m["peak_hwm_mib"], m["fd_max"]))
    for kind, st in sorted(r.get("attacks", {}).items()):
        extra = ""
        if "open_max" in st:
            extra = ", open max %s" % st["open_max"]
        if "unanswered_at_end" in st:
            extra += ", unanswered at end %s" % st["unanswered_at_end"]
        print("  attack %-13s attempted %6d, replies %s, closed by server %d, connect failed "
              "%d, timeouts %d%s" % (kind, st.get("attempted", 0), st.get("replies", {}),
                                     st.get("closed_by_server", 0), st.get("connect_failed", 0),
                                     st.get("timeouts", 0), extra))
    s = r.get("server")
    if s:
        print("  server: alive throughout %s, exit %s after SIGTERM in %s s, tracebacks %s %s"
              % (s.get("alive_throughout"), s.get("exit_code"), s.get("sigterm_to_exit_s"),
                 s.get("traceback_lines"), s.get("traceback_exceptions") or ""))


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=60.0,
                   help="seconds of traffic (default %(default)s, at most 3600)")
    p.add_argument("--attack-scale", type=float, default=1.0,
                   help="multiplies every attack rate and count (default %(default)s, max 10)")
    p.add_argument("--root", default=DEFAULT_ROOT,
                   help="the checkout whose server_main.py runs (default %(default)s)")
    p.add_argument("--out", default=os.path.join(HERE, "soak-results.json"),
                   help="JSON result file (default %(default)s)")
    p.add_argument("--users", type=int, default=20, help="honest users (default %(default)s)")
    p.add_argument("--no-attack", action="store_true", help="honest traffic only (a baseline)")
    p.add_argument("--grace", type=float, default=10.0,
                   help="seconds to wait for outstanding deliveries (default %(default)s)")
    p.add_argument("--keep", action="store_true", help="keep the server's data dir and log")
    args = p.parse_args(argv)
    if not 1 <= args.duration <= MAX_DURATION_S:
        p.error("--duration must be between 1 and %d" % MAX_DURATION_S)
    if not 0 < args.attack_scale <= MAX_SCALE:
        p.error("--attack-scale must be in (0, %g]" % MAX_SCALE)
    if not 2 <= args.users <= 200:
        p.error("--users must be between 2 and 200")
    if not 0 <= args.grace <= 120:
        p.error("--grace must be between 0 and 120")
    if not os.path.isfile(os.path.join(args.root, "server_main.py")):
        p.error("no server_main.py in %s" % args.root)
    raise_fd_limit()
    result = run(args)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print_summary(result)
    print("  results: %s" % args.out)
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
