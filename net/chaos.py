"""Chaos mode (``--chaos SEED``): TCP splitting and merging frames on purpose, so a student
can watch the framing hold (docs/LABS.md, lab 2; docs/PROTOCOL.md Part II.3).

A ``Chaos`` object decides, for one connection, how many bytes the next ``recv`` may take,
how many bytes the next ``send`` may put out, and when to hold what is queued back for a few
milliseconds (so that it leaves merged with what is queued next). Only the two I/O shells ask
it: the server's loop (net/loop.py ``_read``, ``_send_some``) and the client's connection
(net/client.py). With chaos off they hold ``None`` and pay one ``is None`` check per call;
the framing, the messages and the services never know.

Deterministic: the n-th connection of a process draws from a generator seeded with
(seed, n), so the same seed cuts a connection's bytes the same way every time it meets the
same sequence of reads and writes.

    chaos = Chaos(7)                  # one per process, from --chaos 7
    conn_chaos = chaos.for_connection()
    n = conn_chaos.recv_bytes(65536)  # this recv may take n bytes (1 <= n <= 65536)
    hold_s = conn_chaos.hold_s()      # 0.0: send now; else hold everything back this long
    n = conn_chaos.send_bytes()       # this send may put out n bytes (1 byte to a few KiB)
"""
from __future__ import annotations

import ipaddress
import itertools
import random
from typing import List, Sequence, Union

Buffer = Union[bytes, bytearray, memoryview]

# A piece is 1 byte to a few KiB. A quarter of them are tiny (a 5-byte header cut inside its
# length field is the case the original program got wrong), half are up to an Ethernet
# frame's payload, a quarter are a few KiB (several small frames stuck together).
TINY_PIECE_BYTES = 8
PACKET_PIECE_BYTES = 1460
PIECE_MAX_BYTES = 4096
# Sometimes (one write in eight) everything queued waits a few milliseconds, and leaves
# merged with whatever is queued meanwhile. Long enough to merge, short enough that the whole
# test suite still runs under chaos in CI.
HOLD_CHANCE = 0.125
HOLD_MIN_S = 0.001
HOLD_MAX_S = 0.005


def is_loopback(host: str) -> bool:
    """True for this machine's own addresses: chaos mode may only hurt its own user unless
    told otherwise (--chaos-anywhere)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cut(chunks: Sequence[Buffer], limit: int) -> List[Buffer]:
    """The first `limit` bytes of `chunks` (an outbox's pending chunks), as the chunks or
    slices of them, without copying. The same chunks and limit always give the same bytes,
    as a retried TLS write needs."""
    pieces: List[Buffer] = []
    for chunk in chunks:
        if limit <= 0:
            break
        if len(chunk) <= limit:
            pieces.append(chunk)
            limit -= len(chunk)
        else:
            pieces.append(memoryview(chunk)[:limit])
            limit = 0
    return pieces


class Chaos:
    """One connection's misfortune (or, from Chaos(seed), the source of every connection's).

    Methods for the I/O shells:
        for_connection() -> Chaos    a new connection's own generator
        recv_bytes(budget) -> int    how much this recv may take
        send_bytes() -> int          how much this send may put out (the same again after a
                                     TLS write that must be retried: retry_bytes)
        hold_s() -> float            0.0, or how long to hold everything queued back
        count_in(n), count_out(n)    what moved, for summary()
    Fields the shells keep here: holding (the loop: a hold's timer is pending),
    held_until_s (the client: no send before this monotonic time), retry_bytes (TLS).
    """

    def __init__(self, seed: int, anywhere: bool = False, stream: int = 0) -> None:
        self.seed = seed
        self.anywhere = anywhere  # --chaos-anywhere: also towards non-loopback addresses
        self.stream = stream
        # A string seed is hashed with SHA-512 by random: the same on every run and Python.
        self._random = random.Random("chaos:%d:%d" % (seed, stream))
        self._streams = itertools.count(1)
        self.holding = False
        self.held_until_s = 0.0
        self.retry_bytes = 0
        self.bytes_in = self.reads_in = 0
        self.bytes_out = self.pieces_out = self.holds = 0

    def for_connection(self) -> "Chaos":
        return Chaos(self.seed, self.anywhere, next(self._streams))

    def _piece_bytes(self) -> int:
        r = self._random
        roll = r.random()
        if roll < 0.25:
            return r.randint(1, TINY_PIECE_BYTES)
        if roll < 0.75:
            return r.randint(TINY_PIECE_BYTES + 1, PACKET_PIECE_BYTES)
        return r.randint(PACKET_PIECE_BYTES + 1, PIECE_MAX_BYTES)

    def recv_bytes(self, budget: int) -> int:
        return min(budget, self._piece_bytes())

    def send_bytes(self) -> int:
        if self.retry_bytes:
            return self.retry_bytes
        return self._piece_bytes()

    def hold_s(self) -> float:
        if self.retry_bytes or self._random.random() >= HOLD_CHANCE:
            return 0.0
        self.holds += 1
        return self._random.uniform(HOLD_MIN_S, HOLD_MAX_S)

    def count_in(self, size: int) -> None:
        self.reads_in += 1
        self.bytes_in += size

    def count_out(self, size: int) -> None:
        self.pieces_out += 1
        self.bytes_out += size

    def summary(self) -> str:
        return ("sent %d bytes in %d pieces (held back %d times), received %d bytes in %d "
                "reads" % (self.bytes_out, self.pieces_out, self.holds, self.bytes_in,
                           self.reads_in))
