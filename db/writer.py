"""The log writer: one thread that stores chat messages in batches (group commit) and, when
this process is one of several on the database, tails what the others store
(docs/PROTOCOL.md §13).

A commit costs about the same for one row as for a hundred, so the writer takes every message
that queued up while the previous commit ran and stores them all in one transaction. Each
message's callback then runs (through ``post``, on the loop thread) with its new id, in id
order. A message is acknowledged only after its batch has committed.

In a cluster the same thread keeps the log in order for its loop: everything the loop hears,
its own messages and what other processes wrote, is posted in log order. Before the acks of
a batch are posted, whatever other processes numbered just below it is read and posted
first; between batches, the log is polled every ``TAIL_POLL_S``. It also beats this process's
heartbeat and declares processes whose heartbeat stopped dead. One thread does all of it, so
there is no ordering to arrange between threads.
"""
from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from db.cluster import ClusterLog, Entry, Item
from db.errors import StoreUnavailable

log = logging.getLogger(__name__)

# A bound on one transaction, so a flood cannot make one commit (and its acks) arbitrarily late.
MAX_BATCH_MESSAGES = 500
# How often the log is read for what other processes wrote: the largest part of a message's
# delay to another process's clients (docs/PROTOCOL.md §13 allows 250 ms at p99).
TAIL_POLL_S = 0.02
# Heartbeats, and how long a silent process lives on in the others' eyes. Its users go offline
# on the other processes within DEAD_AFTER_S + HEARTBEAT_S (§13: 15 s).
HEARTBEAT_S = 1.0
DEAD_AFTER_S = 10.0
PRUNE_EVERY_S = 60.0
# After a failed database call, the next try of the periodic work waits this long.
RETRY_S = 1.0


class MessageRefused(Exception):
    """This one message cannot be stored (the sender gets bad_request, nobody else notices)."""

    refused = True
    expected = True


Row = Tuple[Any, ...]
Callback = Callable[[Any, Optional[BaseException]], None]
Post = Callable[[Callback, Any, Optional[BaseException]], None]
OnEntries = Callable[[List[Entry], Optional[BaseException]], None]
_TICK = object()


class MessageWriter:
    """Methods for callers (the loop thread):
        submit(row, callback)     queue (sender_id, recipient_id, text, created_at[, room]);
                                  later post(callback, msg_id, None) or (callback, None, error)
        publish(event)            an event for the other processes (a JSON-able dict)
        presence(user_id, username, online)   this process's first/last connection of a user
        sync(callback)            post callback(None, None) once everything queued before it is
                                  stored and everything others stored before then is posted
        join_cluster(on_entries)  (before serving) register this process; from now on what
                                  others write is posted to on_entries(entries, None) in order
        stop()                    store what is queued, leave the cluster, end the thread
    """

    def __init__(self, store: Any, post: Post) -> None:
        self._store = store
        self._log = ClusterLog(store)
        self._post = post
        self._queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self.batches = 0  # for benchmarks: how many commits served how many messages
        self.messages = 0
        self.node: Optional[int] = None  # this process's cluster_nodes id, once joined
        self.newest_message = 0  # the newest message id stored before this process joined
        self._on_entries: Optional[OnEntries] = None
        self._seen = 0  # every log number up to this has been posted (or was our own)
        self._watch: Dict[int, Tuple[int, float]] = {}  # node -> (beats, unchanged since)
        self._next_poll = self._next_beat = self._next_prune = 0.0
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="message-writer", daemon=True)
        self._thread.start()

    # -- the loop's side ------------------------------------------------------------------

    def join_cluster(self, on_entries: OnEntries) -> List[Tuple[int, int, str]]:
        """Called once before serving (it may block): this process becomes a node; returns
        who is online on the others. The position is read before the caller loads its state
        (rooms, quiet rooms), so what changes meanwhile is read again, never missed."""
        self.node = self._log.register(socket.gethostname(), os.getpid())
        # Processes that died while nobody was watching (this one restarting after a crash)
        # would otherwise keep their users online for DEAD_AFTER_S.
        for node in self._log.gone(socket.gethostname(), time.time() - DEAD_AFTER_S):
            self._log.declare_dead(node)
        self._seen = self._log.position()
        now = time.monotonic()
        self._watch = {node: (beats, now) for node, beats in self._log.beats().items()
                       if node != self.node}
        # Those already serving learn of this process from the log, at once: from now on
        # they must wait for it when they answer an auth (sync).
        self._log.commit(self.node, [Item("event", {"kind": "node_up", "node": self.node})])
        self._seen = max(self._seen, self._log.position())
        self.newest_message = self._log.newest_message()
        self._on_entries = on_entries
        return [row for row in self._log.online() if row[0] != self.node]

    @property
    def clustered(self) -> bool:
        """Whether other processes serve this chat now (as far as this one knows: a process
        that starts says so in the log, which is read every TAIL_POLL_S)."""
        return self._on_entries is not None and bool(self._watch)

    def submit(self, row: Row, callback: Callback) -> None:
        self._queue.put((Item("message", row), callback))

    def publish(self, event: Dict[str, Any]) -> None:
        if self._on_entries is not None:
            self._queue.put((Item("event", event), None))

    def presence(self, user_id: int, username: str, online: bool) -> None:
        if self._on_entries is not None:
            self._queue.put((Item("presence", {"kind": "presence", "user_id": user_id,
                                               "username": username, "online": online}), None))

    def sync(self, callback: Callback) -> None:
        self._queue.put((Item("sync", None), callback))

    def stop(self, timeout_s: float = 2.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout_s)

    # -- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            timeout = None
            if self._on_entries is not None:
                timeout = max(0.0, self._next_poll - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = _TICK
            stopping = item is None
            batch: List[Any] = [] if stopping or item is _TICK else [item]
            while len(batch) < MAX_BATCH_MESSAGES and not stopping:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            if batch:
                self._store_batch(batch)
            if self._on_entries is not None and (stopping or time.monotonic() >= self._next_poll):
                self._periodic()
            if stopping:
                self._leave()
                return

    def _store_batch(self, batch: List[Any]) -> None:
        syncs = [callback for item, callback in batch if item.kind == "sync"]
        if syncs:
            batch = [(item, callback) for item, callback in batch if item.kind != "sync"]
        error = self._store_work(batch) if batch else None
        if syncs:
            self._answer_syncs(syncs, error)

    def _answer_syncs(self, syncs: List[Callback], error: Optional[BaseException]) -> None:
        """What the others stored up to now is posted before the callbacks (only when there
        are others: alone, what this process stored is all there is)."""
        if error is None and self._watch:
            try:
                position = self._log.position()
            except Exception as exc:
                error = exc
            else:
                if not self._read_upto(position):
                    error = StoreUnavailable("reading the cluster log failed")
        for callback in syncs:
            self._post(callback, None, error)

    def _store_work(self, batch: List[Any]) -> Optional[BaseException]:
        """Store the batch; the database's error when it is away (after telling each item's
        callback)."""
        try:
            numbers = self._commit([item for item, _ in batch])
        except StoreUnavailable as exc:  # the database is away: every sender hears so
            for _, callback in batch:
                if callback is not None:
                    self._post(callback, None, exc)
            return exc
        except Exception:  # one bad row must not fail the others: store them one by one
            log.warning("a batch of %d messages failed; storing them one at a time", len(batch))
            for item, callback in batch:
                self._store_one(item, callback)
            return None
        self._acknowledge(batch, numbers)
        return None

    def _store_one(self, item: Item, callback: Optional[Callback]) -> None:
        try:
            numbers = self._commit([item])
        except StoreUnavailable as exc:
            if callback is not None:
                self._post(callback, None, exc)
        except Exception as exc:  # this row alone is at fault: refused, not a server failure
            log.warning("a message could not be stored and was refused: %s", exc)
            if callback is not None:
                self._post(callback, None, MessageRefused(str(exc)))
        else:
            self._acknowledge([(item, callback)], numbers)

    def _commit(self, items: List[Item]) -> List[int]:
        for item in items:
            if item.kind == "presence":
                item.data["node"] = self.node
        if self.node is None:  # not in a cluster (tests, benchmarks): messages only
            return self._store.insert_messages([item.data for item in items])
        return self._log.commit(self.node, items)

    def _acknowledge(self, batch: List[Any], numbers: List[int]) -> None:
        """Post the acks, after whatever other processes numbered just below this batch
        (so that every connection hears messages in id order)."""
        if self._on_entries is not None and numbers:
            if self._read_upto(numbers[0] - 1) and self._seen == numbers[0] - 1:
                self._seen = numbers[-1]
        messages = 0
        for (item, callback), number in zip(batch, numbers):
            if callback is not None:
                self._post(callback, number, None)
            messages += item.kind == "message"
        self.batches += 1
        self.messages += messages

    def _read_upto(self, upto: int) -> bool:
        """Post what others wrote in (seen, upto]; False if the database failed us."""
        try:
            while self._seen < upto:
                entries = self._log.read(self.node, self._seen, upto)
                if not entries:
                    self._seen = upto
                    break
                self._seen = upto if len(entries) < 2000 else entries[-1].seq
                self._deliver(entries)
        except Exception as exc:
            self._complain("reading the cluster log failed: %s" % exc)
            return False
        return True

    def _deliver(self, entries: List[Entry]) -> None:
        for entry in entries:
            event = entry.event
            if event is not None and event.get("kind") == "node_up":
                self._watch.setdefault(event["node"], (-1, time.monotonic()))
            if event is not None and event.get("kind") == "node_dead" \
                    and event.get("node") == self.node:
                # Others thought this process dead (it could not reach the database for a
                # while): it comes back as a new node, and the loop says again who is here.
                event["self"] = True
                self.node = self._log.register(socket.gethostname(), os.getpid())
                log.warning("the other processes declared this one dead; rejoined as node %d",
                            self.node)
        assert self._on_entries is not None
        self._post(self._on_entries, entries, None)

    def _periodic(self) -> None:
        now = time.monotonic()
        self._next_poll = now + TAIL_POLL_S
        try:
            position = self._log.position()
            if position > self._seen and not self._read_upto(position):
                raise StoreUnavailable("reading the log failed")
            if now >= self._next_beat:
                self._next_beat = now + HEARTBEAT_S
                self._log.heartbeat(self.node)
                self._watch_others(now)
            if now >= self._next_prune:
                self._next_prune = now + PRUNE_EVERY_S
                self._log.prune()
        except Exception as exc:
            self._complain("cluster bookkeeping failed: %s" % exc)
            self._watch.clear()  # silence others showed while we could not look is no proof
            self._next_poll = now + RETRY_S
            return
        if self._failing:
            self._failing = False
            log.info("the database answers again: the cluster log is read again")

    def _watch_others(self, now: float) -> None:
        beats = self._log.beats()
        for node in list(self._watch):
            if node not in beats:
                del self._watch[node]
        for node, count in beats.items():
            if node == self.node:
                continue
            seen = self._watch.get(node)
            if seen is None or seen[0] != count:
                self._watch[node] = (count, now)
            elif now - seen[1] >= DEAD_AFTER_S:
                del self._watch[node]
                if self._log.declare_dead(node):
                    log.warning("server process %d stopped beating for %.0f s: declared dead, "
                                "its users are offline", node, now - seen[1])

    def _complain(self, message: str) -> None:
        if not self._failing:
            self._failing = True
            log.error("%s", message)

    def _leave(self) -> None:
        if self.node is None:
            return
        try:
            self._log.leave(self.node)
        except Exception as exc:  # the others will notice the silence instead
            log.warning("could not say goodbye to the other processes: %s", exc)
