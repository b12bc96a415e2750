"""The floor of a stored chat message (issue 22): the simplest Python server that does the work
chatroom does for one `say`, and nothing else, to set the ping-pong against.

    python bench/pingpong_reference.py PORT DB_PATH loop      commit on the loop thread
    python bench/pingpong_reference.py PORT DB_PATH writer    commit on a writer thread
    python bench/pingpong_reference.py PORT DB_PATH memory    store nothing (a counter)

Both read our framing (docs/PROTOCOL.md §2), decode the JSON, store the message in SQLite the
way chatroom does (WAL, synchronous=NORMAL; the same `messages` table with its three indexes;
the id taken from the `cluster_seq` row in the same transaction), then send the `ok` reply and
the `message` event to every connection. `register`, `login` and `auth` are answered `ok` at
once, so bench/loadgen.py's client for chatroom drives this server unchanged (auth and chat
on the one port). No validation, no limits, no rooms, no flow control: only the per-message
work any design must do.

- ``loop``: one thread does everything, the commit included. What CPython and SQLite cost per
  message with no hand-off at all. chatroom may not work this way (the loop never waits for
  the database).
- ``writer``: chatroom's shape and no more. The loop hands the message to a writer thread on
  a SimpleQueue; the writer commits and wakes the loop with one byte on a socketpair; the loop
  sends. The floor of any server that keeps database work off its event loop.
- ``memory``: no database at all, ids from a counter: what the Python around the message
  costs (framing, JSON, two sends), as in miniircd, which stores nothing either.

Loopback only; it runs until SIGTERM.
"""
from __future__ import annotations

import collections
import json
import os
import queue
import selectors
import signal
import socket
import sqlite3
import struct
import sys
import threading
import time
from typing import Any, Deque, Dict, Optional, Tuple

HEADER = struct.Struct(">BI")
KIND_JSON = 0x4A
HOST = "127.0.0.1"

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, sender_id INTEGER NOT NULL, "
    "recipient_id INTEGER, text TEXT NOT NULL, created_at REAL NOT NULL, room_id INTEGER, "
    "node INTEGER, deleted INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS messages_room ON messages (room_id, id)",
    "CREATE INDEX IF NOT EXISTS messages_sender ON messages (sender_id, id)",
    "CREATE INDEX IF NOT EXISTS messages_recipient ON messages (recipient_id, id)",
    "CREATE TABLE IF NOT EXISTS cluster_seq (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO cluster_seq VALUES ('log', 0)",
]

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def frame(message: Dict[str, Any]) -> bytes:
    body = _encoder.encode(message).encode("utf-8")
    return HEADER.pack(KIND_JSON, len(body)) + body


def open_db(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for statement in SCHEMA:
        db.execute(statement)
    return db


def store(db: sqlite3.Connection, sender_id: int, text: str, ts: float) -> int:
    """One message in one transaction, numbered like chatroom's (db/cluster.py)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        msg_id = db.execute("UPDATE cluster_seq SET value = value + 1 WHERE name = 'log' "
                            "RETURNING value").fetchone()[0]
        db.execute("INSERT INTO messages (id, sender_id, recipient_id, text, created_at, "
                   "room_id, node) VALUES (?, ?, NULL, ?, ?, 1, NULL)",
                   (msg_id, sender_id, text, ts))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return msg_id


class Conn:
    __slots__ = ("sock", "inbox", "outbox", "user_id", "writing")

    def __init__(self, sock: socket.socket, user_id: int) -> None:
        self.sock = sock
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.user_id = user_id
        self.writing = False


class Server:
    def __init__(self, port: int, db_path: str, mode: str) -> None:
        self.db = open_db(db_path)
        self.mode = mode
        self.selector = selectors.DefaultSelector()
        self.listener = socket.create_server((HOST, port))
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.conns: Dict[socket.socket, Conn] = {}
        self.next_user = 1
        self.next_msg = 0
        if mode == "writer":
            self.jobs: "queue.SimpleQueue[Tuple[Conn, Dict[str, Any], float]]" = \
                queue.SimpleQueue()
            self.done: Deque[Tuple[Conn, Dict[str, Any], float, int]] = collections.deque()
            self.wake_r, self.wake_w = socket.socketpair()
            self.wake_r.setblocking(False)
            self.woken = threading.Event()
            self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
            threading.Thread(target=self.write_forever, daemon=True).start()

    # -- the loop -------------------------------------------------------------------------

    def serve_forever(self) -> None:
        while True:
            for key, mask in self.selector.select():
                if key.data is None:
                    self.accept()
                elif key.data == "wake":
                    self.drain_done()
                else:
                    conn = key.data
                    if mask & selectors.EVENT_READ:
                        self.read(conn)
                    if mask & selectors.EVENT_WRITE and conn.sock in self.conns:
                        self.flush(conn)

    def accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Conn(sock, self.next_user)
        self.next_user += 1
        self.conns[sock] = conn
        self.selector.register(sock, selectors.EVENT_READ, conn)

    def read(self, conn: Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close(conn)
            return
        conn.inbox += data
        while len(conn.inbox) >= HEADER.size:
            _, length = HEADER.unpack_from(conn.inbox)
            if len(conn.inbox) < HEADER.size + length:
                break
            body = bytes(conn.inbox[HEADER.size:HEADER.size + length])
            del conn.inbox[:HEADER.size + length]
            self.request(conn, json.loads(body))

    def request(self, conn: Conn, request: Dict[str, Any]) -> None:
        if request.get("op") != "say":
            self.send(conn, frame({"op": request.get("op"), "id": request.get("id"),
                                   "status": "ok", "token": "t"}))
            return
        ts = time.time()
        if self.mode == "memory":
            self.next_msg += 1
            self.stored(conn, request, ts, self.next_msg)
        elif self.mode == "loop":
            self.stored(conn, request, ts, store(self.db, conn.user_id, request["text"], ts))
        else:
            self.jobs.put((conn, request, ts))

    def stored(self, conn: Conn, request: Dict[str, Any], ts: float, msg_id: int) -> None:
        reply: Dict[str, Any] = {"op": "say", "status": "ok", "msg_id": msg_id, "ts": ts}
        if "id" in request:
            reply["id"] = request["id"]
        self.send(conn, frame(reply))
        event = frame({"op": "message", "msg_id": msg_id, "from": "u%d" % conn.user_id,
                       "to": None, "text": request["text"], "ts": ts})
        for other in list(self.conns.values()):
            self.send(other, event)

    def send(self, conn: Conn, data: bytes) -> None:
        if conn.outbox:
            conn.outbox += data
            return
        try:
            sent = conn.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.close(conn)
            return
        if sent < len(data):
            conn.outbox += data[sent:]
            conn.writing = True
            self.selector.modify(conn.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)

    def flush(self, conn: Conn) -> None:
        try:
            sent = conn.sock.send(conn.outbox)
        except BlockingIOError:
            return
        except OSError:
            self.close(conn)
            return
        del conn.outbox[:sent]
        if not conn.outbox and conn.writing:
            conn.writing = False
            self.selector.modify(conn.sock, selectors.EVENT_READ, conn)

    def close(self, conn: Conn) -> None:
        if self.conns.pop(conn.sock, None) is not None:
            self.selector.unregister(conn.sock)
            conn.sock.close()

    def drain_done(self) -> None:
        try:
            self.wake_r.recv(4096)
        except BlockingIOError:
            pass
        self.woken.clear()
        while self.done:
            conn, request, ts, msg_id = self.done.popleft()
            if conn.sock in self.conns:
                self.stored(conn, request, ts, msg_id)

    # -- the writer thread (mode "writer") --------------------------------------------------

    def write_forever(self) -> None:
        while True:
            conn, request, ts = self.jobs.get()
            msg_id = store(self.db, conn.user_id, request["text"], ts)
            self.done.append((conn, request, ts, msg_id))
            if not self.woken.is_set():  # one wake-up byte until the loop has drained
                self.woken.set()
                self.wake_w.send(b"x")


def main(argv: Optional[list] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[2] not in ("loop", "writer", "memory"):
        print(__doc__, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    Server(int(args[0]), args[1], args[2]).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
