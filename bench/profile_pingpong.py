"""Where the server's CPU goes on the unbatched path (issue 22): one message in flight.

Runs the ping-pong of bench/loadgen.py (one sender, one receiver, the next message sent when
the last one arrived) against a server on SQLite or on a private MariaDB, and measures inside
the server process:

    threads   CPU of each server thread over the run, from /proc/PID/task/TID/schedstat
              (nanoseconds; no profiler in the way), per message
    cprofile  every thread under its own cProfile (bench/profiling/sitecustomize.py): call
              counts per message (commits, hand-offs, wake-ups, JSON) and where the time goes
              (inflated by the profiler: use it for shares, the threads figure for totals)
    cpuprofile  the same with each thread's CPU clock: a system call's own time is the CPU
              it took (kernel included), waiting is not counted; ~0.7 µs more per call
    perf      `perf record` of the server process: which binary the CPU is in (interpreter,
              libsqlite3, the kernel, ...)
    strace    `strace -c -f`: system calls per message
    floor     the commit alone: one row in one transaction, on SQLite (WAL,
              synchronous=NORMAL) and on MariaDB (PyMySQL, InnoDB defaults), on this machine

    python bench/profile_pingpong.py --db sqlite --mode threads,cpuprofile,perf,strace,floor

Prints one JSON report; bench/profile.md is written by hand from it.

Loopback only; every process it starts is stopped by its id.
"""
from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import loadgen  # noqa: E402
from bench.servers import OurServer  # noqa: E402

HOOK_DIR = os.path.join(ROOT, "bench", "profiling")
WARM = 200  # messages before the measured ones (a profile counts them too)


def thread_cpu_ns(pid: int, tids: Dict[int, str]) -> Dict[str, int]:
    """CPU time of each named thread (threads of one kind summed: db-0..db-3 -> db)."""
    out: Dict[str, int] = {}
    for tid, name in tids.items():
        try:
            with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
                ns = int(f.read().split()[0])
        except OSError:
            continue
        kind = name.rsplit("-", 1)[0] if name[-1:].isdigit() else name
        out[kind] = out.get(kind, 0) + ns
    return out


def read_tids(out_dir: str, pid: int) -> Dict[int, str]:
    tids: Dict[int, str] = {}
    with open(os.path.join(out_dir, "threads-%d.txt" % pid)) as f:
        for line in f:
            name, tid = line.rsplit(" ", 1)
            tids[int(tid)] = name
    return tids


class Hooked:
    """Our server with the profiling hook (bench/profiling/sitecustomize.py) in its process."""

    def __init__(self, data_dir: str, out_dir: str, mode: str, *extra: str) -> None:
        saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "CHATROOM_PROFILE_DIR",
                                                 "CHATROOM_PROFILE_MODE")}
        os.environ["PYTHONPATH"] = HOOK_DIR + os.pathsep + ROOT
        os.environ["CHATROOM_PROFILE_DIR"] = out_dir
        os.environ["CHATROOM_PROFILE_MODE"] = mode
        try:
            self.server = OurServer(data_dir, "--sms", "off", *extra)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def start_sidecar(kind: str, pid: int, out_dir: str) -> Optional[subprocess.Popen]:
    if kind == "perf" and shutil.which("perf"):
        return subprocess.Popen(["perf", "record", "-F", "4999", "-g", "-p", str(pid), "-o",
                                 os.path.join(out_dir, "perf.data")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kind == "strace" and shutil.which("strace"):
        return subprocess.Popen(["strace", "-c", "-f", "-p", str(pid), "-o",
                                 os.path.join(out_dir, "strace.txt")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return None


def stop_sidecar(proc: Optional[subprocess.Popen]) -> None:
    if proc is None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def pingpong_run(db_extra: Tuple[str, ...], modes: List[str], count: int,
                 out_dir: str) -> Dict[str, Any]:
    data = tempfile.mkdtemp(prefix="pp-data-")
    hook_mode = next((m for m in modes if m in ("cprofile", "cpuprofile")), "tids")
    hooked = Hooked(data, out_dir, hook_mode, *db_extra)
    server = hooked.server
    sidecar = None
    try:
        driver = loadgen.Ours(server.ports["auth"], server.ports["chat"])
        loadgen.pingpong(driver, server, WARM, "warm")  # connections, caches, statements
        a, b = driver.open("ppa"), driver.open("ppb")  # logins and auths before the clock
        for kind in ("perf", "strace"):
            if kind in modes:
                sidecar = start_sidecar(kind, server.pid, out_dir)
                time.sleep(1.0)  # attached before the clock starts
        tids = read_tids(out_dir, server.pid)
        result = one_in_flight(driver, server, a, b, count, tids)
        a.close()
        b.close()
        stop_sidecar(sidecar)
        sidecar = None
    finally:
        stop_sidecar(sidecar)
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    return result


def one_in_flight(driver: Any, server: Any, a: Any, b: Any, count: int,
                  tids: Dict[int, str]) -> Dict[str, Any]:
    """a says a message; when b has it and a has its echo, the next: bench/loadgen.py's
    pingpong, with nothing but the messages inside the measured stretch."""
    a.setblocking(True)
    b.setblocking(True)
    marker = driver.marker
    frames = [driver.say("pp:%d" % i) for i in range(count)]
    latencies = []
    before = thread_cpu_ns(server.pid, tids)
    cpu0 = server.cpu()
    t0 = time.perf_counter()
    for frame in frames:
        sent = time.perf_counter()
        a.sendall(frame)
        for sock in (b, a):  # the receiver's copy, then the sender's ack and echo
            seen = b""
            while marker not in seen:
                seen = seen[-len(marker):] + sock.recv(65536)
            if sock is b:
                latencies.append(time.perf_counter() - sent)
    wall = time.perf_counter() - t0
    cpu = server.cpu() - cpu0
    after = thread_cpu_ns(server.pid, tids)
    latencies.sort()
    threads = {k: (after.get(k, 0) - before.get(k, 0)) / 1e3 / count for k in after}
    return {"messages": count, "p50_ms": 1000 * loadgen.percentile(latencies, 50),
            "p99_ms": 1000 * loadgen.percentile(latencies, 99), "wall_s": wall,
            "cpu_us_per_message": 1e6 * cpu / count,
            "thread_us_per_message": {k: round(v, 1) for k, v in sorted(threads.items()) if v},
            "thread_us_total": round(sum(threads.values()), 1)}


COUNTED = {  # what to count per message: (label, function-name suffix in pstats keys)
    "loop turns (selector.select calls)": ("selectors.py", "select"),
    "peer reads (Loop._read)": ("loop.py", "_read"),
    "requests dispatched (Loop.dispatch)": ("loop.py", "dispatch"),
    "loop -> writer hand-offs (MessageWriter.submit)": ("writer.py", "submit"),
    "writer batches (MessageWriter._store_batch)": ("writer.py", "_store_batch"),
    "transactions (Store._write_once)": ("store.py", "_write_once"),
    "sqlite3/pymysql execute calls": ("~", "execute"),
    "writer -> loop hand-offs (Workers.post)": ("workers.py", "post"),
    "loop wake-ups by a worker (Workers._run_done)": ("workers.py", "_run_done"),
    "JSON decodes (json.loads)": ("__init__.py", "loads"),
    "JSON encodes (json.dumps)": ("__init__.py", "dumps"),
    "encode_message calls": ("messages.py", "encode_message"),
    "send calls (socket.send)": ("~", "send"),
    "recv_into calls": ("~", "recv_into"),
    "writer tail polls (MessageWriter._periodic)": ("writer.py", "_periodic"),
}


def cprofile_report(out_dir: str, pid: int, count: int, top: int = 60) -> Dict[str, Any]:
    """Per thread: the functions with the most own time, per message, and call counts. The
    profile covers the whole process life: per message is per measured + warm-up message
    (logins and setup are a few calls, spread thin)."""
    count += WARM
    report: Dict[str, Any] = {"counts_per_message": {}, "threads": {}}
    files = [f for f in os.listdir(out_dir) if f.endswith("-%d.prof" % pid)]
    counts: Dict[str, float] = {}
    for name in sorted(files):
        stats = pstats.Stats(os.path.join(out_dir, name))
        rows = []
        for (path, _line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():
            where = "%s:%s" % (os.path.basename(path), func) if path != "~" else func
            rows.append((tt, nc, ct, where))
            for label, (p_suffix, f_name) in COUNTED.items():
                if (os.path.basename(path) == p_suffix or path == p_suffix) and \
                        (func == f_name or func.endswith("." + f_name) or
                         func.endswith(" '" + f_name + "'") or
                         func.startswith("<method '%s' " % f_name)):
                    counts[label] = counts.get(label, 0) + nc
        rows.sort(reverse=True)
        report["threads"][name[:-len("-%d.prof" % pid)]] = [
            {"fn": where, "calls_per_msg": round(nc / count, 2),
             "own_us_per_msg": round(1e6 * tt / count, 2),
             "cum_us_per_msg": round(1e6 * ct / count, 2)} for tt, nc, ct, where in rows[:top]]
    report["counts_per_message"] = {k: round(v / count, 2) for k, v in counts.items()}
    return report


def perf_report(out_dir: str) -> str:
    path = os.path.join(out_dir, "perf.data")
    if not os.path.exists(path):
        return "(no perf data)"
    done = subprocess.run(["perf", "report", "-i", path, "--no-children", "--sort", "dso",
                           "--stdio", "-g", "none"], capture_output=True, text=True, timeout=300)
    out = done.stdout
    done = subprocess.run(["perf", "report", "-i", path, "--no-children", "--sort", "dso,sym",
                           "--stdio", "-g", "none"], capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.strip() and
             not line.startswith("#")][:60]
    return out + "\n".join(lines)


def commit_floor_sqlite(directory: str, count: int = 3000) -> Dict[str, float]:
    """One row per transaction, as the server's single message would be: the bare INSERT and
    COMMIT, and the same plus the cluster numbering (UPDATE + SELECT of one row) that every
    stored message takes (db/store.py take_numbers)."""
    path = os.path.join(directory, "floor.db")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, sender_id INTEGER, recipient_id "
                 "INTEGER, text TEXT, created_at REAL, room_id INTEGER, node INTEGER)")
    conn.execute("CREATE TABLE seq (name TEXT PRIMARY KEY, value INTEGER)")
    conn.execute("INSERT INTO seq VALUES ('log', 0)")
    out = {}
    for label, numbered in (("insert_commit_us", False), ("numbered_insert_commit_us", True)):
        t0 = time.perf_counter()
        c0 = time.process_time()
        for i in range(count):
            conn.execute("BEGIN IMMEDIATE")
            if numbered:
                conn.execute("UPDATE seq SET value = value + ? WHERE name = 'log'", (1,))
                conn.execute("SELECT value FROM seq WHERE name = 'log'").fetchone()
            conn.execute("INSERT INTO m (sender_id, recipient_id, text, created_at, room_id, "
                         "node) VALUES (?, ?, ?, ?, ?, ?)", (1, None, "floor %d" % i,
                                                              time.time(), 1, 1))
            conn.execute("COMMIT")
        out[label] = 1e6 * (time.perf_counter() - t0) / count
        out[label.replace("_us", "_cpu_us")] = 1e6 * (time.process_time() - c0) / count
    conn.close()
    out.update(store_floor("sqlite:///" + os.path.join(directory, "store-floor.db"), count))
    return out


def store_floor(url: str, count: int) -> Dict[str, float]:
    """The server's own storage code, one message per transaction: Store.insert_messages in
    a hot loop on this thread; then MessageWriter (db/writer.py) with one message in flight,
    its acknowledgement handed back to this thread (a queue and a wake-up each way, as in the
    server, without the loop)."""
    import threading

    from db import open_store
    from db.writer import MessageWriter
    store = open_store(url)
    name = "fl%d" % (time.time_ns() % 10 ** 9)
    uid = store.create_user(name, name, "h", "1%010d" % (time.time_ns() % 10 ** 10), "",
                            time.time())
    out: Dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(count):
        store.insert_messages([(uid, None, "store floor %d" % i, time.time(), 1)], 1)
    out["store_insert_messages_us"] = 1e6 * (time.perf_counter() - t0) / count
    out["store_insert_messages_cpu_us"] = 1e6 * (time.process_time() - c0) / count
    done = threading.Event()

    def post(callback: Any, result: Any, error: Any) -> None:
        done.set()
    writer = MessageWriter(store, post)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(count):
        done.clear()
        writer.submit((uid, None, "writer floor %d" % i, time.time(), 1), post)
        if not done.wait(10):
            raise TimeoutError("the writer did not acknowledge within 10 s")
    out["writer_round_trip_us"] = 1e6 * (time.perf_counter() - t0) / count
    out["writer_round_trip_cpu_us"] = 1e6 * (time.process_time() - c0) / count
    writer.stop()
    store.close()
    out.update(handoff_floor(count))
    return out


def handoff_floor(count: int) -> Dict[str, float]:
    """The server's two hand-offs with no work between them: this thread puts an item on a
    SimpleQueue (loop -> writer); the other thread takes it and sends one byte on a
    socketpair (writer -> loop, net/workers.py); this thread waits for it in epoll, as the
    loop does. CPU of both threads per round trip."""
    import queue
    import selectors
    import socket
    import threading
    q: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
    r, w = socket.socketpair()
    r.setblocking(False)

    def other() -> None:
        while q.get() is not None:
            w.send(b"\0")
    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    sel = selectors.DefaultSelector()
    sel.register(r, selectors.EVENT_READ)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(count):
        q.put(1)
        while not sel.select(10):
            pass
        r.recv(4096)
    out = {"handoff_round_trip_us": 1e6 * (time.perf_counter() - t0) / count,
           "handoff_round_trip_cpu_us": 1e6 * (time.process_time() - c0) / count}
    q.put(None)
    thread.join(5)
    sel.close()
    r.close()
    w.close()
    return out


def commit_floor_mysql(url: str, count: int = 1000) -> Dict[str, float]:
    from urllib.parse import urlparse

    import pymysql
    u = urlparse(url)
    conn = pymysql.connect(host=u.hostname, port=u.port or 3306, user=u.username,
                           password=u.password, autocommit=True)
    cur = conn.cursor()
    cur.execute("CREATE DATABASE IF NOT EXISTS `%s`" % u.path.lstrip("/"))
    cur.execute("USE `%s`" % u.path.lstrip("/"))
    cur.execute("CREATE TABLE floor_m (id BIGINT AUTO_INCREMENT PRIMARY KEY, sender_id INT, "
                "text TEXT, created_at DOUBLE) ENGINE=InnoDB")
    t0 = time.perf_counter()
    c0 = time.process_time()
    for i in range(count):
        cur.execute("BEGIN")
        cur.execute("INSERT INTO floor_m (sender_id, text, created_at) VALUES (%s, %s, %s)",
                    (1, "floor %d" % i, time.time()))
        cur.execute("COMMIT")
    out = {"insert_commit_us": 1e6 * (time.perf_counter() - t0) / count,
           "insert_commit_client_cpu_us": 1e6 * (time.process_time() - c0) / count}
    cur.execute("DROP TABLE floor_m")
    conn.close()
    out.update(store_floor(url, count))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default="sqlite", choices=["sqlite", "mysql"])
    p.add_argument("--mode", default="threads,cprofile",
                   help="comma-separated: threads, cprofile, perf, strace, floor")
    p.add_argument("--count", type=int, default=3000)
    p.add_argument("--out", default=tempfile.mkdtemp(prefix="pp-profile-"))
    args = p.parse_args()
    modes = args.mode.split(",")
    os.makedirs(args.out, exist_ok=True)
    mariadb = None
    db_extra: Tuple[str, ...] = ()
    report: Dict[str, Any] = {"db": args.db, "count": args.count, "out": args.out}
    try:
        if args.db == "mysql":
            from tests.procs import MariaDB
            mariadb = MariaDB(os.path.join(args.out, "mariadb"))
            db_extra = ("--db", mariadb.new_url())
        if "floor" in modes:
            report["floor"] = (commit_floor_mysql(mariadb.new_url()) if mariadb else
                               commit_floor_sqlite(args.out))
        runs = [m for m in modes if m in ("threads", "cprofile", "cpuprofile", "perf", "strace")]
        for kind in runs:
            # Each kind in its own server process: a profiler must not inflate the others.
            sub = os.path.join(args.out, kind)
            os.makedirs(sub, exist_ok=True)
            result = pingpong_run(db_extra, [kind],
                                  args.count, sub)
            pid_files = [f for f in os.listdir(sub) if f.startswith("threads-")]
            pid = int(pid_files[0][len("threads-"):-len(".txt")])
            entry: Dict[str, Any] = {"pingpong": result}
            if kind in ("cprofile", "cpuprofile"):
                entry.update(cprofile_report(sub, pid, args.count))
            if kind == "perf":
                entry["perf"] = perf_report(sub)
            if kind == "strace":
                with open(os.path.join(sub, "strace.txt")) as f:
                    entry["strace"] = f.read()
            report[kind] = entry
    finally:
        if mariadb is not None:
            mariadb.stop()
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
