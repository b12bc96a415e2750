"""The message writer: one thread that stores chat messages in batches (group commit).

A commit costs about the same for one row as for a hundred, so the writer takes every message
that queued up while the previous commit ran and stores them all in one transaction. Each
message's callback then runs (through ``post``, on the loop thread) with its new id, in id
order. A message is acknowledged only after its batch has committed.
"""
from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Callable, List, Optional, Tuple

from db.errors import StoreUnavailable

log = logging.getLogger(__name__)

# A bound on one transaction, so a flood cannot make one commit (and its acks) arbitrarily late.
MAX_BATCH_MESSAGES = 500



class MessageRefused(Exception):
    """This one message cannot be stored (the sender gets bad_request, nobody else notices)."""

    refused = True
    expected = True


Row = Tuple[int, Optional[int], str, float]
Callback = Callable[[Any, Optional[BaseException]], None]
Post = Callable[[Callback, Any, Optional[BaseException]], None]


class MessageWriter:
    """Methods for callers:
        submit(row, callback)   queue (sender_id, recipient_id, text, created_at); later
                                post(callback, msg_id, None) or post(callback, None, error)
        stop()                  store what is queued, then end the thread
    """

    def __init__(self, store: Any, post: Post) -> None:
        self._store = store
        self._post = post
        self._queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self.batches = 0  # for benchmarks: how many commits served how many messages
        self.messages = 0
        self._thread = threading.Thread(target=self._run, name="message-writer", daemon=True)
        self._thread.start()

    def submit(self, row: Row, callback: Callback) -> None:
        self._queue.put((row, callback))

    def stop(self, timeout_s: float = 2.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            stopping = item is None
            batch: List[Any] = [] if stopping else [item]
            while len(batch) < MAX_BATCH_MESSAGES:
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
            if stopping:
                return

    def _store_batch(self, batch: List[Any]) -> None:
        try:
            ids = self._store.insert_messages([row for row, _ in batch])
        except StoreUnavailable as exc:  # the database is away: every sender hears so
            for _, callback in batch:
                self._post(callback, None, exc)
            return
        except Exception:  # one bad row must not fail the others: store them one by one
            log.warning("a batch of %d messages failed; storing them one at a time", len(batch))
            for row, callback in batch:
                self._store_one(row, callback)
            return
        self.batches += 1
        self.messages += len(batch)
        for (_, callback), msg_id in zip(batch, ids):
            self._post(callback, msg_id, None)

    def _store_one(self, row: Row, callback: Callback) -> None:
        try:
            (msg_id,) = self._store.insert_messages([row])
        except StoreUnavailable as exc:
            self._post(callback, None, exc)
        except Exception as exc:  # this row alone is at fault: refused, not a server failure
            log.warning("a message could not be stored and was refused: %s", exc)
            self._post(callback, None, MessageRefused(str(exc)))
        else:
            self.batches += 1
            self.messages += 1
            self._post(callback, msg_id, None)
