"""Pre-fork workers: the parent binds the ports, N child processes serve them
(docs/PROTOCOL.md §13, ``--workers N``).

One Python process uses one core. Every child inherits the three listening sockets and runs
its own event loop on them; the kernel hands each new connection to whichever child accepts
it first. The children never talk to each other: they serve one chat through the database,
as processes on different hosts do. The parent does nothing but watch:

    parent:  bind -> fork N -> wait until each says "ready" -> log one "listening" line
             -> restart a child that dies -> on SIGTERM/SIGINT stop them all, exit 0
    child:   run_worker(index, ready) -> exit with its code

Forking is done while the parent has no other thread and no database connection open, which
is what makes it safe. Where there is no fork (Windows), ``SUPPORTED`` is False and the caller
refuses ``--workers`` above 1.
"""
from __future__ import annotations

import logging
import os
import select
import signal
import sys
import time
from typing import Callable, Dict, List, Optional

log = logging.getLogger(__name__)

SUPPORTED = hasattr(os, "fork") and sys.platform != "win32"
# docs/PROTOCOL.md §8: a server stops within 5 s of SIGTERM; §13: all workers within 10 s.
# A child still running after this long is killed.
STOP_GRACE_S = 8.0
# How long the children may take to start serving (open the database, bind nothing).
READY_TIMEOUT_S = 60.0
# A child that dies sooner than this after its start is failing to start: wait before the
# next try, doubling up to RESTART_MAX_DELAY_S, instead of forking in a tight loop.
FAST_DEATH_S = 2.0
RESTART_MAX_DELAY_S = 30.0

RunWorker = Callable[[int, Callable[[], None]], int]


class Worker:
    __slots__ = ("index", "pid", "started", "delay_s", "restart_at")

    def __init__(self, index: int) -> None:
        self.index = index
        self.pid = 0
        self.started = 0.0
        self.delay_s = 0.0  # the wait before the next restart, after fast deaths
        self.restart_at: Optional[float] = None


class Supervisor:
    """Methods for the caller (the parent process):
        run(on_ready) -> exit code     start the workers; on_ready() once all serve; return
                                       after SIGTERM/SIGINT, when all have stopped
    """

    def __init__(self, count: int, run_worker: RunWorker) -> None:
        self.workers = [Worker(i) for i in range(count)]
        self._run_worker = run_worker
        self._ready_r, self._ready_w = os.pipe()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._stopping = False

    def run(self, on_ready: Callable[[], None]) -> int:
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for worker in self.workers:
                self._start(worker)
            if not self._wait_ready():
                self._stop_all()
                return 2
            on_ready()
            self._watch()
            self._stop_all()
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # -- the parent -----------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        self._stopping = True
        try:
            os.write(self._wake_w, b"x")
        except OSError:  # a wake-up is pending already
            pass

    def _start(self, worker: Worker) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._child(worker.index)  # never returns
        worker.pid, worker.started, worker.restart_at = pid, time.monotonic(), None
        log.info("worker %d started (pid %d)", worker.index, pid)

    def _child(self, index: int) -> None:
        code = 1
        try:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)  # until the worker's loop takes them
            os.close(self._ready_r)
            os.close(self._wake_r)
            os.close(self._wake_w)
            code = self._run_worker(index, lambda: os.write(self._ready_w, bytes([index])))
        except BaseException:  # the worker's own failure: logged, and the parent restarts it
            log.exception("worker %d failed", index)
        finally:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _wait_ready(self) -> bool:
        pending = {worker.index for worker in self.workers}
        deadline = time.monotonic() + READY_TIMEOUT_S
        while pending:
            if self._stopping or time.monotonic() > deadline:
                log.error("the workers did not start in time" if not self._stopping
                          else "stopped while starting")
                return False
            readable, _, _ = select.select([self._ready_r, self._wake_r], [], [], 0.2)
            if self._ready_r in readable:
                for index in os.read(self._ready_r, 64):
                    pending.discard(index)
            if self._wake_r in readable:
                os.read(self._wake_r, 64)
            for worker, status in self._reap():
                log.error("worker %d exited while starting (%s)", worker.index,
                          describe(status))
                return False
        return True

    def _watch(self) -> None:
        while not self._stopping:
            readable, _, _ = select.select([self._ready_r, self._wake_r], [], [], 0.2)
            for fd in readable:
                os.read(fd, 64)  # a restarted worker's "ready", or a signal's wake-up
            now = time.monotonic()
            for worker, status in self._reap():
                fast = now - worker.started < FAST_DEATH_S
                worker.delay_s = min(RESTART_MAX_DELAY_S, worker.delay_s * 2 or 1.0) \
                    if fast else 0.0
                worker.restart_at = now + worker.delay_s
                log.warning("worker %d (pid %d) %s; restarting it%s", worker.index, worker.pid,
                            describe(status), " in %.0f s" % worker.delay_s
                            if worker.delay_s else "")
                worker.pid = 0
            for worker in self.workers:
                if not worker.pid and worker.restart_at is not None and now >= worker.restart_at:
                    self._start(worker)

    def _reap(self) -> List[tuple]:
        """(worker, wait status) of every child that has ended."""
        ended = []
        by_pid: Dict[int, Worker] = {w.pid: w for w in self.workers if w.pid}
        while by_pid:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            worker = by_pid.pop(pid, None)
            if worker is not None:
                ended.append((worker, status))
        return ended

    def _stop_all(self) -> None:
        running = {w.pid: w for w in self.workers if w.pid}
        for pid in running:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE_S
        while running and time.monotonic() < deadline:
            for worker, _ in self._reap():
                running.pop(worker.pid, None)
                worker.pid = 0
            if running:
                time.sleep(0.05)
        for pid, worker in running.items():
            log.warning("worker %d (pid %d) did not stop in %.0f s: killed", worker.index, pid,
                        STOP_GRACE_S)
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            worker.pid = 0


def describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = str(number)
        return "was killed by %s" % name
    return "exited with code %d" % os.WEXITSTATUS(status)
