"""Rate limits that live on the loop thread (docs/PROTOCOL.md §4, §10): the login throttle per
account and address, sliding windows per address and in all, token buckets per user, and the
fair queue in front of the password-hashing lane. Memory is bounded however many names or
addresses are tried.
"""
from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict, deque
from typing import Any, Callable, Deque, Optional, Tuple

LOGIN_MAX_FAILURES = 5
LOGIN_LOCK_S = 60
# Throttle entries kept at most. An entry is a 16-byte digest and two numbers (about 250
# bytes with the dict's own cost), so 32,768 of them stay under the 10 MiB that
# docs/PROTOCOL.md §10 allows however many made-up names are tried.
THROTTLE_MAX_ENTRIES = 32_768
# Addresses remembered by a sliding window at most (the oldest are forgotten first).
WINDOW_MAX_KEYS = 65_536


def _ceil_s(wait_s: float) -> int:
    return max(1, math.ceil(wait_s))


class LoginThrottle:
    """After 5 consecutive failed logins for one account from one address, 60 s of
    rate_limited. An attempt counts as failed from the moment it is let through until its
    password check succeeds (``attempt`` then ``succeeded``), so concurrent attempts cannot
    exceed the limit. Unknown names are counted exactly like accounts."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # digest(account, ip) -> [failures, locked_until]; insertion order = age, for pruning
        self._entries: "OrderedDict[bytes, list]" = OrderedDict()

    @staticmethod
    def key(account: str, ip: str) -> bytes:
        return hashlib.blake2b(("%s\0%s" % (account, ip)).encode("utf-8", "replace"),
                               digest_size=16).digest()

    def attempt(self, key: bytes) -> int:
        """0 and the attempt is counted as failed; else the seconds to wait (refused)."""
        entry = self._entries.get(key)
        now = self.clock()
        if entry is not None and entry[1]:
            if entry[1] > now:
                return _ceil_s(entry[1] - now)
            entry[0], entry[1] = 0, 0.0  # the lock ran out: a fresh start
        if entry is None:
            while len(self._entries) >= THROTTLE_MAX_ENTRIES:
                self._entries.popitem(last=False)
            entry = self._entries[key] = [0, 0.0]
        entry[0] += 1
        if entry[0] >= LOGIN_MAX_FAILURES:
            entry[1] = now + LOGIN_LOCK_S
        return 0

    def succeeded(self, key: bytes) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


class SlidingWindow:
    """At most ``limit`` events per ``window_s`` per key (0 = no limit). ``take`` counts one
    and says 0, or refuses with the seconds until a slot frees; ``give_back`` undoes a take
    whose event did not happen after all."""

    def __init__(self, limit: int, window_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._events: "OrderedDict[Any, Deque[float]]" = OrderedDict()

    def take(self, key: Any = None) -> int:
        if not self.limit:
            return 0
        now = self.clock()
        events = self._events.get(key)
        if events is None:
            while len(self._events) >= WINDOW_MAX_KEYS:
                self._events.popitem(last=False)
            events = self._events[key] = deque(maxlen=self.limit)
        while events and events[0] <= now - self.window_s:
            events.popleft()
        if len(events) >= self.limit:
            return _ceil_s(events[0] + self.window_s - now)
        events.append(now)
        self._events.move_to_end(key)
        return 0

    def give_back(self, key: Any = None) -> None:
        events = self._events.get(key)
        if events:
            events.pop()


class TokenBucket:
    """``rate`` events a second sustained, ``burst`` at once. ``ready(now)`` refills and says
    whether a token is there; ``spend()`` takes it (two steps, so that an event that needs a
    token from two buckets takes both or neither)."""

    __slots__ = ("rate", "burst", "tokens", "at")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.at = now

    def ready(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return self.tokens >= 1.0

    def spend(self) -> None:
        self.tokens -= 1.0


class TokenBuckets:
    """A TokenBucket per key. Keys unused the longest are forgotten first, beyond
    WINDOW_MAX_KEYS: such a key would have a full bucket again anyway, unless that many others
    took tokens within its refill time."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: "OrderedDict[Any, TokenBucket]" = OrderedDict()

    def of(self, key: Any, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            while len(self._buckets) >= WINDOW_MAX_KEYS:
                self._buckets.popitem(last=False)
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, now)
        else:
            self._buckets.move_to_end(key)
        return bucket


class FairQueue:
    """The queue in front of a worker lane that does CPU work (password hashing): at most
    ``depth`` jobs on the lane at once, at most ``max_waiting`` in all (more are refused, so a
    flood cannot delay everyone), and the next job taken from each address in turn, so one
    address's flood cannot push another address's login back by more than one turn."""

    def __init__(self, submit: Callable[[str, Callable[..., Any], tuple, Any], None],
                 lane: str, depth: int, max_waiting: int) -> None:
        self._submit = submit
        self.lane = lane
        self.depth = depth
        self.max_waiting = max_waiting
        self._queues: "OrderedDict[str, Deque[Tuple[Callable[..., Any], tuple, Any]]]" = (
            OrderedDict())
        self.waiting = 0  # queued here or running on the lane
        self._running = 0

    def offer(self, source: str, fn: Callable[..., Any], args: tuple, callback: Any) -> bool:
        """Queue fn(*args) for source; False (nothing queued) when the queue is full."""
        if self.waiting >= self.max_waiting:
            return False
        self.waiting += 1
        self._queues.setdefault(source, deque()).append((fn, args, callback))
        self._dispatch()
        return True

    def drop_all(self) -> None:
        self._queues.clear()

    def _dispatch(self) -> None:
        while self._running < self.depth and self._queues:
            source, jobs = next(iter(self._queues.items()))
            fn, args, callback = jobs.popleft()
            if jobs:
                self._queues.move_to_end(source)  # the next job comes from someone else
            else:
                del self._queues[source]
            self._running += 1
            self._submit(self.lane, fn, args, self._finisher(callback))

    def _finisher(self, callback: Any) -> Callable[[Any, Optional[BaseException]], None]:
        def done(result: Any, error: Optional[BaseException]) -> None:
            self._running -= 1
            self.waiting -= 1
            try:
                callback(result, error)
            finally:
                self._dispatch()
        return done
