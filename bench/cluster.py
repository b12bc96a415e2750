"""Many server processes, one database (docs/PROTOCOL.md §13): what crossing processes costs.

    latency    10 senders on process A at 100 msg/s each (1,000 msg/s), receivers on process
               B: the time from the sender's write to a receiver's read, per delivery (one
               monotonic clock, this process's), on SQLite and on a private MariaDB
    fanout     100 clients (10 of them senders, window 50) spread evenly over 1, 2 and 3
               processes on one SQLite file: deliveries/s and the CPU of every server process
               per delivery
    failover   kill -9 of process A under load: how long until the clients on B see A's users
               offline, and the longest pause in B's deliveries meanwhile

    python bench/cluster.py [--quick] [--json OUT]      (bench/run.py --only cluster uses it)

Every load is on 127.0.0.1, bounded in count and in time; every process is stopped by its
own handle (its PID), the MariaDB included.
"""
from __future__ import annotations

import argparse
import json
import os
import selectors
import shutil
import socket
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench import loadgen  # noqa: E402
from bench.servers import OurServer  # noqa: E402

HEADER, HOST, J, WOULD_BLOCK = loadgen.HEADER, loadgen.HOST, loadgen.J, loadgen.WOULD_BLOCK
jframe, percentile, request = loadgen.jframe, loadgen.percentile, loadgen.request
MESSAGE = b'"op":"message"'
PRESENCE = b'"op":"presence"'
# docs/PROTOCOL.md §13: a dead process's users are offline elsewhere within this long.
OFFLINE_WITHIN_S = 15.0
PASSWORD = "bench password 1"


class Cluster:
    """n chatroom processes on one database and one storage folder, each on its own ports."""

    def __init__(self, base: str, db_url: str, n: int) -> None:
        self.servers: List[OurServer] = []
        storage = os.path.join(base, "files")
        try:
            for i in range(n):
                # One after another: the first makes the schema, the others find it.
                self.servers.append(OurServer(os.path.join(base, "proc%d" % i), "--sms", "off",
                                              "--db", db_url, "--storage", storage))
        except BaseException:
            self.stop()
            raise
        self._phones = 0

    def cpu(self) -> float:
        """CPU seconds (user + system, every thread) of the processes still running."""
        return sum(s.cpu() for s in self.servers if s.proc.poll() is None)

    def user(self, name: str) -> str:
        """Register `name` on the first process; its token (valid on every process)."""
        self._phones += 1
        phone = "13%04d%05d" % (os.getpid() % 10000, self._phones)  # each run: a new database
        with socket.create_connection((HOST, self.servers[0].ports["auth"])) as s:
            buf = bytearray()
            reply = request(s, buf, "register", username=name, password=PASSWORD,
                            phone=phone, email="")
            assert reply["status"] == "ok", reply
            reply = request(s, buf, "login", login=name, password=PASSWORD)
            assert reply["status"] == "ok", reply
            return reply["token"]

    def open(self, process: int, token: str) -> socket.socket:
        """An authenticated chat connection to process `process`, non-blocking."""
        s = socket.create_connection((HOST, self.servers[process].ports["chat"]))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reply = request(s, bytearray(), "auth", token=token)
        assert reply["status"] == "ok", reply
        s.setblocking(False)
        return s

    def closed(self, process: int) -> ConnectionError:
        """The error for a connection process `process` closed, with the end of its log."""
        server = self.servers[process]
        state = "running" if server.proc.poll() is None else "exited %s" % server.proc.returncode
        return ConnectionError("process %d (%s) closed a benchmark connection; its log ends:\n%s"
                               % (process, state, server.log()[-3000:]))

    def stop(self) -> None:
        for s in self.servers:
            s.stop()


def drain(socks: List[socket.socket], seconds: float) -> None:
    """Read and forget what arrives for `seconds` (join and presence notices)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for s in socks:
            try:
                while s.recv(1 << 20):
                    pass
            except WOULD_BLOCK:
                pass
        time.sleep(0.02)


def frames(buf: bytearray) -> List[bytes]:
    """Complete JSON frame bodies in buf (consumed)."""
    out = []
    while len(buf) >= 5:
        kind, length = HEADER.unpack_from(buf)
        if len(buf) < 5 + length:
            break
        if kind == J:
            out.append(bytes(buf[5:5 + length]))
        del buf[:5 + length]
    return out


def own_cpu() -> float:
    """This process's CPU seconds (the load generator's)."""
    t = os.times()
    return t.user + t.system


def say(text: str) -> bytes:
    return jframe({"op": "say", "text": text})


# -- latency across processes ----------------------------------------------------------------

def latency(base: str, db_url: str, label: str, seconds: float = 10.0, senders: int = 10,
            rate: float = 100.0, receivers: int = 5) -> Dict[str, Any]:
    """`senders` on process A, each saying `rate` messages a second for `seconds`; every
    delivery to the `receivers` on process B is timed."""
    loadgen.raise_fd_limit()
    cluster = Cluster(base, db_url, 2)
    try:
        tag = "%x" % (time.time_ns() % 0xFFFFFF)
        tokens = [cluster.user("ls%s_%d" % (tag, i)) for i in range(senders)]
        audience = cluster.user("lr%s" % tag)
        out = [cluster.open(0, t) for t in tokens]
        into = [cluster.open(1, audience) for _ in range(receivers)]
        drain(out + into, 0.5)
        per_sender = int(seconds * rate)
        total = per_sender * senders
        sel = selectors.DefaultSelector()
        for s in out:
            sel.register(s, selectors.EVENT_READ, None)
        bufs = {}
        for s in into:
            bufs[s] = bytearray()
            sel.register(s, selectors.EVENT_READ, bufs[s])
        pending = [bytearray() for _ in out]
        sent = [0] * senders
        sent_at: Dict[str, float] = {}
        got = {s: 0 for s in into}
        lat: List[float] = []
        cpu0 = cluster.cpu()
        t0 = time.monotonic()
        deadline = t0 + seconds + 15.0
        step = 1.0 / rate
        while time.monotonic() < deadline:
            now = time.monotonic()
            for i, s in enumerate(out):
                # Sender i's k-th message is due at t0 + k/rate, the senders staggered.
                while sent[i] < per_sender and t0 + (sent[i] + i / senders) * step <= now:
                    text = "%d:%d" % (i, sent[i])
                    pending[i] += say(text)
                    sent_at[text] = now
                    sent[i] += 1
                if pending[i]:
                    try:
                        del pending[i][:s.send(pending[i])]
                    except WOULD_BLOCK:
                        pass
            if all(n == total for n in got.values()):
                break
            for key, _ in sel.select(0.002):
                s, buf = key.fileobj, key.data
                try:
                    data = s.recv(1 << 20)
                except WOULD_BLOCK:
                    continue
                if not data:
                    raise cluster.closed(0 if buf is None else 1)
                if buf is None:  # a sender's own echo: not timed
                    continue
                arrived = time.monotonic()
                buf += data
                for body in frames(buf):
                    if MESSAGE in body:
                        started = sent_at.get(json.loads(body)["text"])
                        if started is not None:
                            lat.append(arrived - started)
                            got[s] += 1
        elapsed = time.monotonic() - t0
        cpu = cluster.cpu() - cpu0
        for s in out + into:
            s.close()
    finally:
        cluster.stop()
    lat.sort()
    received = sum(got.values())
    return {"database": label, "senders": senders, "receivers": receivers,
            "target_msg_per_s": senders * rate, "messages": total,
            "sent_msg_per_s": sum(sent) / min(elapsed, seconds + step),
            "deliveries": received, "expected": total * receivers,
            "lost": total * receivers - received, "seconds": elapsed, "server_cpu_s": cpu,
            "p50_ms": 1000 * percentile(lat, 50), "p99_ms": 1000 * percentile(lat, 99),
            "max_ms": 1000 * (lat[-1] if lat else float("nan"))}


# -- fan-out over 1, 2, 3 processes ----------------------------------------------------------

def fanout(base: str, db_url: str, processes: int, clients: int = 100, senders: int = 10,
           per_sender: int = 1000, window: int = 50, timeout_s: float = 120.0
           ) -> Dict[str, Any]:
    """`clients` members of the lobby, member j on process j % processes, the first
    `senders` of them saying `per_sender` messages with at most `window` not yet seen by
    the observer (the last member, so on the last process)."""
    loadgen.raise_fd_limit()
    cluster = Cluster(base, db_url, processes)
    try:
        tag = "%x" % (time.time_ns() % 0xFFFFFF)
        tokens = [cluster.user("fs%s_%d" % (tag, i)) for i in range(senders)]
        audience = cluster.user("fa%s" % tag)
        socks = [cluster.open(j % processes, tokens[j] if j < senders else audience)
                 for j in range(clients)]
        drain(socks, 0.5)
        observer = socks[-1]
        sel = selectors.DefaultSelector()
        carry: Dict[socket.socket, bytes] = {s: b"" for s in socks}
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        obuf = bytearray()
        pending = [bytearray() for _ in range(senders)]
        sent, seen = [0] * senders, [0] * senders
        expected = senders * per_sender * clients
        delivered = 0
        cpu0, mine0 = cluster.cpu(), own_cpu()
        t0 = time.monotonic()
        deadline = t0 + timeout_s
        while delivered < expected and time.monotonic() < deadline:
            for i in range(senders):
                while sent[i] < per_sender and sent[i] - seen[i] < window:
                    pending[i] += say("%d:%d" % (i, sent[i]))
                    sent[i] += 1
                if pending[i]:
                    try:
                        del pending[i][:socks[i].send(pending[i])]
                    except WOULD_BLOCK:
                        pass
            for key, _ in sel.select(0.05):
                s = key.fileobj
                try:
                    data = s.recv(1 << 20)
                except WOULD_BLOCK:
                    continue
                if not data:
                    raise cluster.closed(socks.index(s) % processes)
                joined = carry[s] + data
                delivered += joined.count(MESSAGE)
                carry[s] = joined[-(len(MESSAGE) - 1):]
                if s is observer:
                    obuf += data
                    for body in frames(obuf):
                        if MESSAGE in body:
                            i_text, k_text = json.loads(body)["text"].split(":")
                            seen[int(i_text)] = max(seen[int(i_text)], int(k_text) + 1)
        elapsed = time.monotonic() - t0
        cpu, mine = cluster.cpu() - cpu0, own_cpu() - mine0
        for s in socks:
            s.close()
    finally:
        cluster.stop()
    return {"processes": processes, "clients": clients, "senders": senders,
            "messages": senders * per_sender, "deliveries": delivered, "expected": expected,
            "lost": expected - delivered, "seconds": elapsed,
            "deliveries_per_s": delivered / elapsed if elapsed else 0.0,
            "server_cpu_s": cpu, "cpu_us_per_delivery": 1e6 * cpu / max(1, delivered),
            "generator_cpu_s": mine,
            # How many of the machine's cores the servers and the generator kept busy.
            "cores_busy": (cpu + mine) / elapsed if elapsed else 0.0}


# -- kill -9 failover ------------------------------------------------------------------------

def failover(base: str, db_url: str, label: str, users_on_a: int = 5, rate: float = 100.0,
             before_s: float = 2.0) -> Dict[str, Any]:
    """Process A holds `users_on_a` users; on process B a sender says `rate` messages a
    second to a watcher. A is killed (SIGKILL) at t0: when does the watcher on B hear each of
    A's users go offline, and what is the longest pause in B's deliveries around it?"""
    cluster = Cluster(base, db_url, 2)
    try:
        tag = "%x" % (time.time_ns() % 0xFFFFFF)
        names = ["fo%s_%d" % (tag, i) for i in range(users_on_a)]
        on_a = [cluster.open(0, cluster.user(n)) for n in names]
        talker = cluster.open(1, cluster.user("fot%s" % tag))
        watcher = cluster.open(1, cluster.user("fow%s" % tag))
        drain(on_a + [talker, watcher], 0.5)
        buf = bytearray()
        deliveries: List[float] = []
        offline: Dict[str, float] = {}
        acks = 0
        sent = 0
        killed_at: Optional[float] = None
        t0 = time.monotonic()
        end = t0 + before_s + OFFLINE_WITHIN_S + 10.0
        settle_until = None
        while time.monotonic() < end:
            now = time.monotonic()
            if killed_at is None and now - t0 >= before_s:
                cluster.servers[0].proc.kill()  # SIGKILL, by its PID
                killed_at = time.monotonic()
            while t0 + sent / rate <= now:
                talker.sendall(jframe({"op": "say", "text": "b%d" % sent, "id": sent}))
                sent += 1
            try:
                while True:
                    data = talker.recv(1 << 20)
                    if not data:
                        raise ConnectionError("process B closed the talker")
                    acks += data.count(b'"status":"ok"')
            except WOULD_BLOCK:
                pass
            try:
                data = watcher.recv(1 << 20)
                if not data:
                    raise ConnectionError("process B closed the watcher")
            except WOULD_BLOCK:
                data = b""
            if data:
                arrived = time.monotonic()
                buf += data
                for body in frames(buf):
                    if MESSAGE in body:
                        deliveries.append(arrived)
                    elif PRESENCE in body:
                        event = json.loads(body)
                        if not event["online"] and event["user"] in names:
                            offline.setdefault(event["user"], arrived)
            if len(offline) == len(names) and settle_until is None:
                settle_until = time.monotonic() + 2.0  # B's deliveries after, for the gap
            if settle_until is not None and time.monotonic() >= settle_until:
                break
            time.sleep(0.002)
        for s in on_a + [talker, watcher]:
            s.close()
    finally:
        cluster.stop()
    assert killed_at is not None
    gaps = [(b - a, a) for a, b in zip(deliveries, deliveries[1:])]
    longest = max(gaps) if gaps else None
    after = [d - killed_at for d in deliveries if d >= killed_at]
    times = sorted(t - killed_at for t in offline.values())
    return {"database": label, "users_on_a": users_on_a, "offline_seen": len(times),
            "first_offline_s": times[0] if times else None,
            "last_offline_s": times[-1] if times else None,
            "b_deliveries": len(deliveries), "b_deliveries_after_kill": len(after),
            "b_acks": acks, "b_sent": sent,
            "b_max_gap_ms": 1000 * longest[0] if longest else None,
            # When B's longest pause began, from the kill (negative: before it).
            "b_max_gap_at_s": longest[1] - killed_at if longest else None,
            "within_limit": bool(times) and len(times) == users_on_a and
            times[-1] <= OFFLINE_WITHIN_S}


# -- all of it -------------------------------------------------------------------------------

def median_of(runs: List[Dict[str, Any]], key: str) -> Dict[str, Any]:
    ordered = sorted(runs, key=lambda r: r[key])
    return dict(ordered[len(ordered) // 2], runs=[r[key] for r in runs])


def failovers(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The run with the median longest pause, and every run's offline time beside it."""
    out = median_of(runs, "b_max_gap_ms")
    out["last_offline_runs"] = [r["last_offline_s"] for r in runs]
    out["within_limit"] = all(r["within_limit"] for r in runs)
    return out


def with_mariadb(base: str, fn: Callable[[Callable[[], str]], Any]) -> Tuple[Any, str]:
    """fn(new_url) on a private MariaDB (tests/procs.py), stopped afterwards."""
    from tests.procs import MariaDB
    db = MariaDB(os.path.join(base, "mariadb"))
    try:
        return fn(db.new_url), db.version()
    finally:
        db.stop()


def run_all(quick: bool = False, notes: Optional[List[str]] = None) -> Dict[str, Any]:
    notes = notes if notes is not None else []
    reps = 1 if quick else 3
    seconds = 3.0 if quick else 10.0
    per_sender = 1000 if quick else 5000
    base = tempfile.mkdtemp(prefix="chatroom-cluster-bench-")
    out: Dict[str, Any] = {"reps": reps}
    counter = [0]

    def fresh() -> str:
        counter[0] += 1
        path = os.path.join(base, "run%d" % counter[0])
        os.makedirs(path)
        return path

    def sqlite(path: str) -> str:
        return "sqlite:///" + os.path.join(path, "shared.db")
    try:
        runs = []
        for _ in range(reps):
            path = fresh()
            runs.append(latency(path, sqlite(path), "sqlite", seconds))
        out["latency"] = {"sqlite": median_of(runs, "p99_ms")}
        out["fanout"] = {}
        for n in (1, 2, 3):
            runs = []
            for _ in range(reps):
                path = fresh()
                runs.append(fanout(path, sqlite(path), n, per_sender=per_sender))
            out["fanout"][str(n)] = median_of(runs, "deliveries_per_s")
        runs = []
        for _ in range(reps):
            path = fresh()
            runs.append(failover(path, sqlite(path), "sqlite"))
        out["failover"] = {"sqlite": failovers(runs)}
        if shutil.which("mariadbd") or os.path.exists("/usr/sbin/mariadbd"):
            try:
                def on_mariadb(new_url: Callable[[], str]) -> Dict[str, Any]:
                    lat = [latency(fresh(), new_url(), "mysql", seconds) for _ in range(reps)]
                    return {"latency": median_of(lat, "p99_ms"),
                            "failover": failovers([failover(fresh(), new_url(), "mysql")
                                                   for _ in range(reps)])}
                got, version = with_mariadb(base, on_mariadb)
                out["latency"]["mysql"] = got["latency"]
                out["failover"]["mysql"] = got["failover"]
                out["mariadb"] = version
            except Exception as exc:  # reported, not fatal: the SQLite figures still stand
                notes.append("cluster benchmark on MariaDB failed: %s" % exc)
        else:
            notes.append("cluster benchmark: no MariaDB here, SQLite only")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="shorter runs, one repetition")
    p.add_argument("--json", default="", help="also write the results to this file")
    p.add_argument("--only", default="", help="latency, fanout or failover (SQLite only)")
    args = p.parse_args()
    notes: List[str] = []
    if args.only:
        base = tempfile.mkdtemp(prefix="chatroom-cluster-bench-")
        try:
            url = "sqlite:///" + os.path.join(base, "shared.db")
            if args.only == "latency":
                result: Any = latency(base, url, "sqlite", 3.0 if args.quick else 10.0)
            elif args.only == "fanout":
                result = [fanout(os.path.join(base, str(n)), "sqlite:///%s/%d.db" % (base, n),
                                 n, per_sender=1000 if args.quick else 5000) for n in (1, 2, 3)]
            else:
                result = failover(base, url, "sqlite")
        finally:
            shutil.rmtree(base, ignore_errors=True)
    else:
        result = run_all(args.quick, notes)
    text = json.dumps({"cluster": result, "notes": notes}, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
