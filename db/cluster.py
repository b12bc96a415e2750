"""The cluster log: how server processes sharing one database serve one chat
(docs/PROTOCOL.md §13). No process talks to another; each appends to the log and tails it.

The log is one numbering (``cluster_seq``) shared by two tables: ``messages`` (kept: they are
the history) and ``cluster_events`` (presence, files, moderation, rooms, logout; pruned after
a few minutes). A writer takes its numbers by updating the one ``cluster_seq`` row first in
its transaction, which holds the row's lock until the commit; so the numbers become visible in
the order they were given and without gaps, and a reader that sees the row at value V may read
everything up to V knowing nothing below it is still to come.

Processes are rows of ``cluster_nodes`` whose ``beats`` grows every second; the users each one
serves are rows of ``cluster_presence``. A process whose beats stop is declared dead by the
first other process to notice (an UPDATE only one can win), which publishes ``node_dead``.

Every method runs on a worker thread (db/writer.py's), never on the loop.
"""
from __future__ import annotations

import json
import logging
import os
import time
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from db.store import _MESSAGE_SELECT, Message, Store, _message

log = logging.getLogger(__name__)

# Events are read by every live process within a fraction of a second; a few minutes leave
# room for a process that stalls, and keep the table small (docs/PROTOCOL.md §13).
EVENT_KEEP_S = 300.0
# Dead process rows are kept this long for the operator (who served whom), then dropped.
NODE_KEEP_S = 24 * 3600.0
# The most log entries read in one go: bounds the memory a backlog can take at once.
MAX_READ = 2000
# An event for every process, the one that wrote it included (node_dead).
EVERYONE = 0


def pid_runs(pid: int) -> bool:
    """Whether a process with this pid runs on this host (POSIX; elsewhere: assume so)."""
    if os.name != "posix" or pid <= 0:
        return True  # (on Windows, os.kill(pid, 0) would end that process)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it runs, as another user
        return True
    return True


class Entry(NamedTuple):
    """One log entry another process wrote: a message, or an event (a dict from JSON)."""
    seq: int
    message: Optional[Message]
    event: Optional[Dict[str, Any]]


class Item(NamedTuple):
    """What a writer appends: a message row, an event, or a presence change (an event that
    also changes the presence table, in the same transaction)."""
    kind: str  # "message" | "event" | "presence"
    data: Any


class ClusterLog:
    """Methods for the writer thread:
        register(host, pid) -> node        this process joins (a new node id each start)
        position()                         the newest log number
        newest_message()                   the newest message id
        commit(node, items) -> [number]    append messages and events in one transaction
        read(node, after, upto)            what others appended in (after, upto], in order
        heartbeat(node)                    one more beat
        beats()                            {node: beats} of the processes not declared dead
        declare_dead(node) -> bool         True for the one caller that declared it
        online()                           [(node, user_id, username)] of live processes
        prune()                            drop old events and long-dead processes
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def register(self, host: str, pid: int) -> int:
        now = time.time()

        def run(cur: Any) -> int:
            self.store._q(cur, "INSERT INTO cluster_nodes (host, pid, started_at, "
                               "heartbeat_at, beats, dead) VALUES (?, ?, ?, ?, 0, 0)",
                          (host[:255], pid, now, now))
            return int(cur.lastrowid)
        return self.store._write(run)

    def position(self) -> int:
        row = self.store._read(lambda cur: self.store._q(
            cur, "SELECT value FROM cluster_seq WHERE name = 'log'").fetchone())
        return int(row[0]) if row else 0

    def newest_message(self) -> int:
        row = self.store._read(lambda cur: self.store._q(
            cur, "SELECT MAX(id) FROM messages").fetchone())
        return int(row[0] or 0)

    def commit(self, node: int, items: Sequence[Item]) -> List[int]:
        """One transaction: every item gets its log number, in order."""
        store = self.store
        now = time.time()

        def run(cur: Any) -> List[int]:
            numbers: List[int] = []
            i = 0
            while i < len(items):  # runs of messages go in together (one executemany-like loop)
                j = i
                while j < len(items) and items[j].kind == "message":
                    j += 1
                if j > i:
                    numbers.extend(store.insert_messages_in(
                        cur, [item.data for item in items[i:j]], node))
                    i = j
                    continue
                item = items[i]
                seq = store.take_numbers(cur, 1)
                if item.kind == "presence":
                    self._presence_row(cur, item.data)
                store._q(cur, "INSERT INTO cluster_events (seq, origin, body, created_at) "
                              "VALUES (?, ?, ?, ?)",
                         (seq, node, json.dumps(item.data), now))
                numbers.append(seq)
                i += 1
            return numbers
        return store._write(run)

    def _presence_row(self, cur: Any, event: Dict[str, Any]) -> None:
        q = self.store._q
        if event["online"]:
            q(cur, "DELETE FROM cluster_presence WHERE node = ? AND user_id = ?",
              (event["node"], event["user_id"]))
            q(cur, "INSERT INTO cluster_presence (node, user_id, username) VALUES (?, ?, ?)",
              (event["node"], event["user_id"], event["username"]))
        else:
            q(cur, "DELETE FROM cluster_presence WHERE node = ? AND user_id = ?",
              (event["node"], event["user_id"]))

    def read(self, node: int, after: int, upto: int) -> List[Entry]:
        """What other processes appended in (after, upto], in log order (at most MAX_READ
        entries: the caller reads on from the last one it got)."""
        store = self.store

        def run(cur: Any) -> List[Entry]:
            messages = store._q(cur, _MESSAGE_SELECT + "WHERE m.id > ? AND m.id <= ? AND "
                                     "(m.node IS NULL OR m.node <> ?) AND m.deleted = 0 "
                                     "ORDER BY m.id LIMIT ?",
                                (after, upto, node, MAX_READ)).fetchall()
            events = store._q(cur, "SELECT seq, body FROM cluster_events WHERE seq > ? AND "
                                   "seq <= ? AND origin <> ? ORDER BY seq LIMIT ?",
                              (after, upto, node, MAX_READ)).fetchall()
            return [Entry(int(r[0]), _message(r), None) for r in messages] + [
                Entry(int(seq), None, json.loads(body)) for seq, body in events]
        entries = sorted(store._read(run), key=lambda entry: entry.seq)
        return entries[:MAX_READ]

    def heartbeat(self, node: int) -> None:
        self.store._write(lambda cur: self.store._q(
            cur, "UPDATE cluster_nodes SET beats = beats + 1, heartbeat_at = ? WHERE id = ?",
            (time.time(), node)))

    def beats(self) -> Dict[int, int]:
        rows = self.store._read(lambda cur: self.store._q(
            cur, "SELECT id, beats FROM cluster_nodes WHERE dead = 0").fetchall())
        return {int(node): int(beats) for node, beats in rows}

    def gone(self, host: str, before: float) -> List[int]:
        """Processes not declared dead that are gone: on this host, their pid no longer runs;
        anywhere, their last heartbeat (by the wall clock) is older than ``before``. They died
        while nobody watched (this process restarting after a crash)."""
        rows = self.store._read(lambda cur: self.store._q(
            cur, "SELECT id, host, pid, heartbeat_at FROM cluster_nodes WHERE dead = 0"
        ).fetchall())
        return [int(node) for node, where, pid, beat in rows
                if beat < before or (where == host[:255] and not pid_runs(int(pid)))]

    def declare_dead(self, node: int) -> bool:
        """Mark it dead, forget its users and tell everyone, in one transaction; False when
        another process did it first."""
        store = self.store
        now = time.time()

        def run(cur: Any) -> bool:
            store._q(cur, "UPDATE cluster_nodes SET dead = 1 WHERE id = ? AND dead = 0", (node,))
            if cur.rowcount != 1:
                return False
            store._q(cur, "DELETE FROM cluster_presence WHERE node = ?", (node,))
            seq = store.take_numbers(cur, 1)
            store._q(cur, "INSERT INTO cluster_events (seq, origin, body, created_at) "
                          "VALUES (?, ?, ?, ?)",
                     (seq, EVERYONE, json.dumps({"kind": "node_dead", "node": node}), now))
            return True
        return store._write(run)

    def leave(self, node: int) -> None:
        """A clean stop: the same as dying, said at once instead of after the silence."""
        self.declare_dead(node)

    def online(self) -> List[Tuple[int, int, str]]:
        rows = self.store._read(lambda cur: self.store._q(
            cur, "SELECT p.node, p.user_id, p.username FROM cluster_presence p JOIN "
                 "cluster_nodes n ON n.id = p.node WHERE n.dead = 0").fetchall())
        return [(int(node), int(user_id), str(name)) for node, user_id, name in rows]

    def prune(self) -> None:
        now = time.time()

        def run(cur: Any) -> None:
            self.store._q(cur, "DELETE FROM cluster_events WHERE created_at < ?",
                          (now - EVENT_KEEP_S,))
            self.store._q(cur, "DELETE FROM cluster_nodes WHERE dead = 1 AND heartbeat_at < ?",
                          (now - NODE_KEEP_S,))
        self.store._write(run)
