"""The second fan-out load pattern (issue 22): senders with no in-flight window.

bench/loadgen.py's ``fanout`` lets each sender keep at most 50 messages not yet seen by an
observer, so the server always sees a steady trickle it can batch. Here each of the S senders
writes all of its M messages as fast as the socket takes them (the server runs with
``--flood-limit 0``), and every one of the N members reads whatever arrives, as fast as it
can, counting deliveries with bytes.count() on the driver's marker. Nothing is parsed, so the
generator costs as little as it can; the figure that compares servers fairly on two shared
cores is the server's CPU per delivery (utime + stime of the whole process, from /proc).

Bounded in count (S x M messages) and in time (``timeout_s``); loopback only.
"""
from __future__ import annotations

import os
import selectors
import sqlite3
import time
from typing import Any, Dict, List, Tuple

from bench.loadgen import WOULD_BLOCK, Member, Ours, raise_fd_limit


def flood(driver: Any, server: Any, clients: int = 100, senders: int = 10,
          per_sender: int = 3000, timeout_s: float = 120.0, tag: str = "",
          per_send: int = 1) -> Dict[str, Any]:
    """N members in one room; S of them send M messages each with no window, ``per_send``
    messages per send() call (1: each message its own write, as a client writes a line).
    The senders run in a child process, the readers here, so neither waits for the other.
    Returns deliveries/s, losses and server CPU per delivery."""
    raise_fd_limit()
    names = ["f%s%d" % (tag, i) for i in range(senders)] + \
        ["g%s%d" % (tag, i) for i in range(clients - senders)]
    if isinstance(driver, Ours):  # receivers share one account: registration is not measured
        members = [Member(driver.open(n if i < senders else "floodaud" + tag))
                   for i, n in enumerate(names)]
    else:
        members = [Member(driver.open(n)) for n in names]
    time.sleep(0.3)  # let join notices settle, then drain them so they are not counted
    for m in members:
        try:
            while m.sock.recv(1 << 20):
                pass
        except WOULD_BLOCK:
            pass
    # Every frame of a sender is made before the clock starts: the generator only copies.
    frames = [[driver.say("%s:%d:%d" % (tag, i, k)) for k in range(per_sender)]
              for i in range(senders)]
    total = senders * per_sender
    per_member = [total if (driver.echoes_to_sender or i >= senders) else total - per_sender
                  for i in range(clients)]
    expected = sum(per_member)
    read_here = sum(per_member[senders:])
    results_r, results_w = os.pipe()
    cpu0 = server.cpu()
    t0 = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    child = os.fork()
    if child == 0:  # the senders (they also read what reaches them, their echoes included)
        try:
            os.close(results_r)
            got, done_at = _send_all(members[:senders], frames, per_send, driver.marker,
                                     sum(per_member[:senders]), deadline)
            os.write(results_w, ("%d %.9f" % (got, done_at)).encode())
        finally:
            os._exit(0)
    os.close(results_w)
    delivered, done_at = _read_all(members[senders:], driver.marker, read_here, deadline)
    with os.fdopen(results_r, "rb") as f:
        answer = f.read().split()  # the child's end: it wrote, or it died (then nothing)
    os.waitpid(child, 0)
    if answer:
        delivered += int(answer[0])
        done_at = max(done_at, float(answer[1]))
    elapsed = done_at - t0
    cpu = server.cpu() - cpu0
    for m in members:
        m.sock.close()
    return {"server": driver.name, "clients": clients, "senders": senders,
            "per_send": per_send, "messages": total, "deliveries": delivered,
            "expected": expected, "lost": expected - delivered, "seconds": elapsed,
            "deliveries_per_s": delivered / elapsed if elapsed else 0.0,
            "cpu_s": cpu, "cpu_us_per_delivery": 1e6 * cpu / max(1, delivered),
            "cpu_us_per_message": 1e6 * cpu / max(1, total)}


def _count(m: Member, data: bytes, marker: bytes) -> int:
    joined = m.carry + data
    n = joined.count(marker)
    m.count += n
    m.carry = joined[-(len(marker) - 1):]
    return n


def _read_all(members: List[Member], marker: bytes, expected: int,
              deadline: float) -> Tuple[int, float]:
    """Read whatever arrives on these members until ``expected`` deliveries (or the
    deadline); (deliveries, perf_counter at the last one)."""
    sel = selectors.DefaultSelector()
    for m in members:
        sel.register(m.sock, selectors.EVENT_READ, m)
    delivered = 0
    while delivered < expected and time.monotonic() < deadline:
        for key, _ in sel.select(0.05):
            m = key.data
            try:
                data = m.sock.recv(1 << 20)
            except WOULD_BLOCK:
                continue
            if not data:
                raise ConnectionError("the server closed a member connection")
            delivered += _count(m, data, marker)
    sel.close()
    return delivered, time.perf_counter()


def _send_all(senders: List[Member], frames: List[List[bytes]], per_send: int, marker: bytes,
              expected: int, deadline: float) -> Tuple[int, float]:
    """Each sender writes its frames, ``per_send`` per send() call, round robin, as fast as
    its socket takes them; between rounds, whatever reached the senders is read."""
    payloads = [memoryview(b"".join(f)) for f in frames]
    ends = []
    for f in frames:
        at, mine = 0, []
        for frame in f:
            at += len(frame)
            mine.append(at)
        ends.append(mine)
    offset = [0] * len(senders)
    nxt = [0] * len(senders)  # the first frame not yet wholly sent
    pending = list(range(len(senders)))
    sel = selectors.DefaultSelector()
    for m in senders:
        sel.register(m.sock, selectors.EVENT_READ, m)
    delivered = 0
    while (pending or delivered < expected) and time.monotonic() < deadline:
        for i in pending:
            target = ends[i][min(nxt[i] + per_send, len(ends[i])) - 1]
            try:
                offset[i] += senders[i].sock.send(payloads[i][offset[i]:target])
            except WOULD_BLOCK:
                continue
            while nxt[i] < len(ends[i]) and ends[i][nxt[i]] <= offset[i]:
                nxt[i] += 1
        pending = [i for i in pending if offset[i] < len(payloads[i])]
        for key, _ in sel.select(0 if pending else 0.05):
            m = key.data
            try:
                data = m.sock.recv(1 << 20)
            except WOULD_BLOCK:
                continue
            if not data:
                raise ConnectionError("the server closed a sender connection")
            delivered += _count(m, data, marker)
    sel.close()
    return delivered, time.perf_counter()


def stored(server: Any, tag: str) -> int:
    """How many of one flood run's messages our server's SQLite database holds (read-only,
    after the run: a message is acknowledged and delivered only once it is stored)."""
    path = os.path.join(os.path.dirname(server.log_path), "chatroom.db")
    conn = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        (count,) = conn.execute("SELECT COUNT(*) FROM messages WHERE text LIKE ?",
                                (tag + ":%",)).fetchone()
    finally:
        conn.close()
    return int(count)


def compare(ours: Any, mini: Any, reps: int, per_sender: int, make_ours_driver: Any,
            make_irc_driver: Any, per_send: int = 1) -> Dict[str, List[Dict[str, Any]]]:
    """Alternate the two servers, rep by rep (so both see the same noise of a shared machine);
    every run of ours is checked against the database."""
    runs: Dict[str, List[Dict[str, Any]]] = {"chatroom": [], "miniircd": []}
    for rep in range(reps):
        tag = "fl%d" % rep
        result = flood(make_ours_driver(ours), ours, per_sender=per_sender, tag=tag,
                       per_send=per_send)
        result["stored"] = stored(ours, tag)
        runs["chatroom"].append(result)
        if mini is not None:
            runs["miniircd"].append(flood(make_irc_driver(mini), mini, per_sender=per_sender,
                                          tag=tag, per_send=per_send))
    return runs
