"""Benchmark scenarios beyond the chat room: pipelined pings against asyncio, logins with
password hashing, chat latency while logins and a hung SMS gateway are in progress, file
transfers against a plain socket pair, and group commit against one commit per message.
All loopback, all bounded in count and time."""
from __future__ import annotations

import hashlib
import os
import selectors
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

from bench.loadgen import HOST, Ours, jframe, percentile, request
from bench.upload_reference import loopback_sender

HEADER = struct.Struct(">BI")
CHUNK = 1024 * 1024


def pipelined_pings(port: int, connections: int, seconds: float, window: int = 64,
                    auth_token: str = "") -> Dict[str, Any]:
    """Round trips per second with `window` pings in flight on each connection."""
    ping = jframe({"op": "ping"}) * window
    marker = b'"status":"ok"'
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(connections):
        s = socket.create_connection((HOST, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if auth_token:
            request(s, bytearray(), "auth", token=auth_token)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, [0, b""])
        socks.append(s)
    for s in socks:
        s.sendall(ping)
    done = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        for key, _ in sel.select(0.05):
            state = key.data
            data = key.fileobj.recv(1 << 20)
            joined = state[1] + data
            n = joined.count(marker)
            state[1] = joined[-(len(marker) - 1):]
            state[0] += n
            done += n
            while state[0] >= window:  # a whole window answered: send the next one
                state[0] -= window
                key.fileobj.sendall(ping)
    elapsed = time.perf_counter() - t0
    for s in socks:
        s.close()
    return {"connections": connections, "round_trips_per_s": done / elapsed}


def logins(driver: Ours, in_flight: int, seconds: float) -> Dict[str, Any]:
    """Password logins per second (each costs one scrypt hash on the server)."""
    driver.user("loginbench")
    frame = jframe({"op": "login", "id": 1, "login": "loginbench",
                    "password": "bench password 1"})
    socks = [socket.create_connection((HOST, driver.auth_port)) for _ in range(in_flight)]
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, [b""])
        s.sendall(frame)
    done = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for key, _ in sel.select(0.05):
            state = key.data
            state[0] += key.fileobj.recv(65536)
            while len(state[0]) >= 5:
                _, n = HEADER.unpack_from(state[0])
                if len(state[0]) < 5 + n:
                    break
                state[0] = state[0][5 + n:]
                done += 1
                key.fileobj.sendall(frame)
    elapsed = time.perf_counter() - t0
    for s in socks:
        s.close()
    return {"in_flight": in_flight, "logins_per_s": done / elapsed}


class HangingGateway:
    """An HTTP server that answers the SMS gateway's path by never answering (bounded)."""

    def __init__(self) -> None:
        release = self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                release.wait(30)

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://%s:%d" % (HOST, self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def stall(driver: Ours, messages: int = 200) -> Dict[str, Any]:
    """Chat round-trip latency while 20 password logins and 3 SMS sends to a hung gateway
    are in progress (the server must run with --sms netease --sms-url <hanging gateway>)."""
    a, b = driver.open("stall_a"), driver.open("stall_b")
    a.setblocking(True)
    b.setblocking(True)
    hung = []
    for i in range(3):
        s = socket.create_connection((HOST, driver.auth_port))
        s.sendall(jframe({"op": "send_code", "id": 1, "phone": "1390000%04d" % i}))
        hung.append(s)
    storm = []
    driver.user("stall_login")
    latencies: List[float] = []
    buf = bytearray()
    for i in range(messages):
        if i % 10 == 0:  # keep about 20 logins in progress the whole time
            for s in storm:
                s.close()
            storm = []
            for _ in range(20):
                s = socket.create_connection((HOST, driver.auth_port))
                s.sendall(jframe({"op": "login", "id": 1, "login": "stall_login",
                                  "password": "bench password 1"}))
                storm.append(s)
        t0 = time.perf_counter()
        a.sendall(jframe({"op": "say", "id": i, "text": "stall %d" % i}))
        while True:
            got = driver.texts(buf)
            if "stall %d" % i in got:
                break
            buf += b.recv(65536)
        latencies.append(time.perf_counter() - t0)
    for s in storm + hung + [a, b]:
        s.close()
    latencies.sort()
    return {"messages": messages, "p50_ms": 1000 * percentile(latencies, 50),
            "p99_ms": 1000 * percentile(latencies, 99), "max_ms": 1000 * latencies[-1]}


def _block(seed: int) -> bytes:
    return hashlib.sha256(b"%d" % seed).digest() * (CHUNK // 32)


def plain_pair(total_bytes: int) -> Dict[str, Any]:
    """The physical limit here: one Python process sends `total_bytes` over loopback TCP to
    another, which receives into a buffer."""
    conn, pid = loopback_sender(total_bytes, 0)
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    got = 0
    t0 = time.perf_counter()
    while got < total_bytes:
        n = conn.recv_into(view)
        if not n:
            break
        got += n
    elapsed = time.perf_counter() - t0
    conn.close()
    os.waitpid(pid, 0)
    return {"bytes": got, "seconds": elapsed, "mb_per_s": got / elapsed / 1e6}


def upload_download(driver: Ours, server: Any, total_bytes: int) -> Dict[str, Any]:
    """Upload then download `total_bytes` through the file service; MB/s and server RSS."""
    token = driver.user("filebench")
    block = _block(1)
    hasher = hashlib.sha256()
    for _ in range(total_bytes // CHUNK):
        hasher.update(block)
    digest = hasher.hexdigest()
    s = driver.connect(server.ports["file"])
    buf = bytearray()
    assert request(s, buf, "auth", token=token)["status"] == "ok"
    rss_idle = server.rss()
    name = "bench-%d.bin" % time.time_ns()
    reply = request(s, buf, "upload", name=name, size=total_bytes, sha256=digest)
    assert reply["status"] == "ok", reply
    header = HEADER.pack(0x42, CHUNK)
    peak = rss_idle
    t0 = time.perf_counter()
    for i in range(total_bytes // CHUNK):
        if driver.tls is not None:  # SSL sockets have no sendmsg
            s.sendall(header)
            s.sendall(block)
        else:
            s.sendmsg([header, block])
        if i % 64 == 0:
            peak = max(peak, server.rss())
    while True:  # upload_done
        from bench.loadgen import read_json_blocking
        done = read_json_blocking(s, buf)
        if done.get("op") == "upload_done":
            break
    up_s = time.perf_counter() - t0
    assert done["status"] == "ok", done
    file_id = done["file"]["file_id"]
    s.sendall(jframe({"op": "download", "id": "d", "file_id": file_id}))
    from bench.loadgen import read_json_blocking as read_json
    assert read_json(s, buf)["status"] == "ok"
    got = len(buf)
    recv_buf = bytearray(4 * CHUNK)
    view = memoryview(recv_buf)
    want = total_bytes + 5 * (total_bytes // CHUNK)  # data plus one header per chunk
    t0 = time.perf_counter()
    i = 0
    while got < want:
        n = s.recv_into(view)
        if not n:
            break
        got += n
        i += 1
        if i % 256 == 0:
            peak = max(peak, server.rss())
    down_s = time.perf_counter() - t0
    s.close()
    return {"bytes": total_bytes, "upload_mb_per_s": total_bytes / up_s / 1e6,
            "download_mb_per_s": total_bytes / down_s / 1e6, "rss_idle_kib": rss_idle,
            "rss_peak_kib": peak, "rss_growth_mib": (peak - rss_idle) / 1024.0}


def group_commit(url: str, count: int) -> Dict[str, Any]:
    """Messages stored per second through the group-commit writer, and with one commit per
    message, on the same database in the same run."""
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from db import open_store
    from db.writer import MessageWriter
    store = open_store(url)
    name = "gc%d" % (time.time_ns() % 10 ** 9)  # usernames are at most 20 characters
    uid = store.create_user(name, name, "h",
                            "1%010d" % (time.time_ns() % 10 ** 10), "", time.time())
    done = threading.Event()
    acked = [0]

    def post(callback: Any, result: Any, error: Any) -> None:
        callback(result, error)

    def ack(result: Any, error: Any) -> None:
        acked[0] += 1
        if acked[0] == count:
            done.set()
    writer = MessageWriter(store, post)
    t0 = time.perf_counter()
    for i in range(count):
        writer.submit((uid, None, "group %d" % i, float(i)), ack)
    done.wait(300)
    grouped_s = time.perf_counter() - t0
    writer.stop()
    t0 = time.perf_counter()
    single = min(count, 2000)  # one commit each is slow: bounded
    for i in range(single):
        store.insert_messages([(uid, None, "single %d" % i, float(i))])
    single_s = time.perf_counter() - t0
    store.close()
    return {"database": url.split(":")[0], "messages": count,
            "group_commit_per_s": count / grouped_s, "batches": writer.batches,
            "one_commit_per_s": single / single_s,
            "ratio": (count / grouped_s) / (single / single_s)}
