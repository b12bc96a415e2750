"""The bridge to blocking work: thread pools in, results back to the loop through a socketpair.

The loop must never wait on password hashing, the SMS gateway or the database. A service
submits ``fn(*args)`` to a *lane* (a small pool of threads with its own queue, so a hung SMS
gateway can occupy only the SMS lane), and the callback runs later on the loop thread with
``(result, error)``. Completion order on the loop is the order the threads finished.

    worker thread:  result = fn(*args); done.append(...); wake the loop (one byte, at most
                    one pending)
    loop thread:    socketpair readable -> drain the byte -> run each finished callback
"""
from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, Optional, Tuple

log = logging.getLogger(__name__)

Callback = Callable[[Any, Optional[BaseException]], None]

# Threads per lane. Password hashing is CPU work (scrypt releases the GIL), so about one per
# core; database calls mostly wait on I/O; SMS calls may hang for their whole timeout, so
# they get their own lane and never hold up a login; uploads write on "disk" while their
# SHA-256 is computed on "digest" at the same time (both release the GIL).
DEFAULT_LANES: Dict[str, int] = {"db": 4, "hash": 2, "sms": 4, "disk": 2, "digest": 2}


class Workers:
    """Methods for callers:
        submit(lane, fn, args, callback)   from the loop thread
        post(callback, result, error)      from any thread: run callback on the loop
        shutdown()                         finish queued work, stop the threads
    """

    def __init__(self, loop: Any, lanes: Optional[Dict[str, int]] = None) -> None:
        self._done: Deque[Tuple[Callback, Any, Optional[BaseException]]] = deque()
        self._wake_lock = threading.Lock()
        self._wake_pending = False
        self._recv_sock, self._send_sock = socket.socketpair()
        self._recv_sock.setblocking(False)
        self._send_sock.setblocking(False)
        loop.add_reader(self._recv_sock, self._run_done)
        self._queues: Dict[str, "queue.SimpleQueue[Any]"] = {}
        self._threads = []
        for lane, count in (lanes or DEFAULT_LANES).items():
            q: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
            self._queues[lane] = q
            for i in range(count):
                thread = threading.Thread(target=self._work, args=(q,),
                                          name="%s-%d" % (lane, i), daemon=True)
                thread.start()
                self._threads.append(thread)

    def submit(self, lane: str, fn: Callable[..., Any], args: tuple, callback: Callback) -> None:
        self._queues[lane].put((fn, args, callback))

    def post(self, callback: Callback, result: Any, error: Optional[BaseException]) -> None:
        self._done.append((callback, result, error))
        with self._wake_lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self._send_sock.send(b"\0")
        except OSError:  # closed during shutdown, or full: a wake-up is pending anyway
            pass

    def _work(self, q: "queue.SimpleQueue[Any]") -> None:
        while True:
            item = q.get()
            if item is None:
                return
            fn, args, callback = item
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the loop, which logs and answers
                self.post(callback, None, exc)
            else:
                self.post(callback, result, None)

    def _run_done(self) -> None:
        try:
            self._recv_sock.recv(4096)
        except OSError:
            pass
        with self._wake_lock:
            self._wake_pending = False
        done = self._done
        # Only what is here now: a callback that submits more work must not starve the loop.
        for _ in range(len(done)):
            callback, result, error = done.popleft()
            try:
                callback(result, error)
            except Exception:
                log.exception("worker callback failed")

    def drop_queued(self) -> int:
        """Forget the jobs no thread has started (at shutdown: queued logins and the like
        are dropped, so stopping never waits for a flood to be worked off)."""
        dropped = 0
        for q in self._queues.values():
            while True:
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    dropped += 1
        if dropped:
            log.info("dropped %d queued jobs", dropped)
        return dropped

    def run_pending(self) -> None:
        """Run finished callbacks now (used while shutting down)."""
        self._run_done()

    def shutdown(self, timeout_s: float = 1.5) -> None:
        """Stop the threads: what is running finishes (within timeout_s in all; a thread
        stuck in a hung call is a daemon and dies with the process)."""
        for q in self._queues.values():
            for _ in range(len(self._threads)):
                q.put(None)
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._run_done()
        self._recv_sock.close()
        self._send_sock.close()
