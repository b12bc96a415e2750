"""The loop's clock work: callbacks to run later (a heap of deadlines) and on the next turn.

Pure bookkeeping, no I/O: the loop asks how long it may sleep (``timeout_s``) and hands each
due callback to its own runner (so a failing one is isolated like any other callback).
"""
from __future__ import annotations

import heapq
import itertools
import time
from typing import Any, Callable, List, Optional, Tuple

from net.service import TimerHandle

Runner = Callable[[Callable[..., Any], tuple], None]


class Timers:
    """Methods for the loop:
        call_later(delay_s, fn, *args) -> TimerHandle
        call_soon(fn, *args)
        timeout_s(busy)        how long select() may wait: 0 when something is due or busy
        run_due(now_s, run)    run(fn, args) for each due timer, then for each soon callback
                               queued before this turn (later ones wait: no starvation)
    """

    def __init__(self) -> None:
        self._heap: List[Tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self._soon: List[Tuple[Callable[..., Any], tuple]] = []

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> TimerHandle:
        handle = TimerHandle(time.monotonic() + delay_s, fn, args)
        heapq.heappush(self._heap, (handle.when_s, next(self._seq), handle))
        return handle

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self._soon.append((fn, args))

    @property
    def has_soon(self) -> bool:
        return bool(self._soon)

    def timeout_s(self, busy: bool) -> Optional[float]:
        if self._soon or busy:
            return 0
        if self._heap:
            return max(0.0, self._heap[0][0] - time.monotonic())
        return None

    def run_due(self, now_s: float, run: Runner) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now_s:
            handle = heapq.heappop(heap)[2]
            if not handle.cancelled:
                run(handle.fn, handle.args)
        soon, self._soon = self._soon, []
        for fn, args in soon:
            run(fn, args)
