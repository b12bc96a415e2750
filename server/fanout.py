"""Delivery of chat events to connections: once per loop turn, in order, exactly once.

Events of one loop turn are collected and delivered together at its end. A run of
consecutive events for everyone is joined once and the same bytes go to every member: one
append per member per run, however many messages the last group commit stored. The latest
deliveries are kept in a ring, so that a connection that authenticates while its history is
being read still gets exactly the messages delivered in between (``welcome``), and a floor
drops the live copies of messages its history already had.

Runs on the loop thread. Knows peers only through net/service.py's PeerAPI.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Set, Tuple

from net.messages import encode_message
from net.service import PeerAPI

log = logging.getLogger(__name__)

# Message events delivered lately, kept so that a connection that authenticates while its
# history is being read still gets the messages delivered in between. A history query takes
# about a millisecond; 4,096 events cover far more than any room sends meanwhile.
RECENT_EVENTS = 4096
# ... and at most this many bytes of them, counted as their encoded frames, the oldest
# forgotten first. A count alone lets 4,096 messages of 4,000 emoji (16 KB each, and their
# decoded text as much again) keep over 100 MB alive (docs/PROTOCOL.md §10). 16 MiB still holds
# 1,024 of the largest messages: a joiner's history read misses none, and an auth from the ring
# falls back to the database when the ring has forgotten too much, whichever cap forgot it.
RECENT_BYTES = 16 * 1024 * 1024

# None: everyone; (a, b): the two user ids of a private message; ("room", id): a room's members
Audience = Optional[Tuple[Any, int]]
Run = List[Tuple[Optional[int], bytes, Dict[str, Any]]]


def _visible(audience: Audience, user_id: int, may_see_room: Callable[[int, int], bool]) -> bool:
    if audience is None:
        return True
    if audience[0] == "room":  # (not "user_id in audience": a user id may equal a room id)
        return may_see_room(user_id, audience[1])
    return user_id in audience


class Fanout:
    """Methods for callers:
        to_everyone(event, msg_id=None)          every member, after the events before it
        to(targets, event, msg_id, audience)     these connections only
        welcome(peer, user_id, newest)           replay what a joiner missed; set its floor
        members                                  the set of connections everyone-events reach
    Every member's ``peer.state`` has a ``floor`` attribute (Optional[int]): messages up to
    that id were in its auth history, so their live copies are dropped; the first newer
    message clears it. (An attribute, not a call: this is read once per delivery.)
    """

    def __init__(self, call_soon: Callable[..., None], trace: Callable[[], bool]) -> None:
        self._call_soon = call_soon
        self._trace = trace
        self.members: Set[PeerAPI] = set()
        # Events of this loop turn: (targets or None for everyone, msg_id, frame, event,
        # audience of a private message).
        self._pending: List[Tuple[Optional[Iterable[PeerAPI]], Optional[int], bytes,
                                  Dict[str, Any], Audience]] = []
        self._recent: Deque[Tuple[int, Audience, bytes, Dict[str, Any]]] = deque()
        self._recent_bytes = 0  # of the frames in _recent
        self._forgot_any = False  # has the ring let go of a message yet (for the warning)
        # Every message with an id from here on is in the ring (or was deleted): set at start
        # to one past the newest message stored before, raised as the ring forgets.
        self.complete_from = 1

    def to_everyone(self, event: Dict[str, Any], msg_id: Optional[int] = None) -> None:
        self.to(None, event, msg_id)

    def to(self, targets: Optional[Iterable[PeerAPI]], event: Dict[str, Any],
           msg_id: Optional[int] = None, audience: Audience = None) -> None:
        if not self._pending:
            self._call_soon(self._deliver_pending)
        self._pending.append((targets, msg_id, encode_message(event), event, audience))

    def welcome(self, peer: PeerAPI, user_id: int, newest: int,
                may_see_room: Callable[[int, int], bool] = lambda user, room: False) -> None:
        """After the auth reply: the messages delivered between the history snapshot (whose
        newest id is ``newest``) and now; later ones arrive live, and live ones the snapshot
        already had are dropped by the floor. So every message reaches the newcomer once."""
        recent = self._recent
        if self._forgot_any and recent and recent[0][0] > newest + 1:
            log.warning("a connection joined %d messages behind; the oldest of them are only "
                        "in its history", recent[0][0] - newest)
        for msg_id, audience, frame, _ in recent:
            if msg_id <= newest:
                continue
            if _visible(audience, user_id, may_see_room):
                peer.send_encoded(frame)
        peer.state.floor = newest

    def history(self, user_id: int, limit: int,
                may_see_room: Callable[[int, int], bool]) -> Optional[List[Dict[str, Any]]]:
        """The latest ``limit`` messages the user may see, oldest first, from the ring alone
        (an auth that needs no database trip); None when older ones may be missing from it."""
        found: List[Dict[str, Any]] = []
        for _, audience, _, event in reversed(self._recent):
            if _visible(audience, user_id, may_see_room):
                found.append(event)
                if len(found) == limit:
                    break
        if len(found) < limit and self.complete_from > 1:
            return None
        found.reverse()
        return found

    def forget(self, msg_id: int) -> None:
        """A deleted message: a connection joining now must not be sent it from the ring."""
        self._recent = deque(entry for entry in self._recent if entry[0] != msg_id)
        self._recent_bytes = sum(len(entry[2]) for entry in self._recent)

    def _remember(self, msg_id: int, audience: Audience, frame: bytes,
                  event: Dict[str, Any]) -> None:
        recent = self._recent
        while recent and (len(recent) >= RECENT_EVENTS
                          or self._recent_bytes + len(frame) > RECENT_BYTES):
            oldest = recent.popleft()
            self._recent_bytes -= len(oldest[2])
            self._forgot_any = True
            self.complete_from = max(self.complete_from, oldest[0] + 1)
        recent.append((msg_id, audience, frame, event))
        self._recent_bytes += len(frame)

    def _deliver_pending(self) -> None:
        pending, self._pending = self._pending, []
        trace = self._trace()
        for _, msg_id, frame, event, audience in pending:
            if msg_id is not None:
                self._remember(msg_id, audience, frame, event)
        i = 0
        while i < len(pending):
            targets, msg_id, frame, event, _ = pending[i]
            if targets is not None:
                for peer in targets:
                    self._deliver(peer, [(msg_id, frame, event)], frame, trace)
                i += 1
                continue
            j = i + 1
            while j < len(pending) and pending[j][0] is None:
                j += 1
            run: Run = [(m, f, e) for _, m, f, e, _ in pending[i:j]]
            data = frame if len(run) == 1 else b"".join(f for _, f, _ in run)
            for peer in self.members:
                self._deliver(peer, run, data, trace)
            i = j

    @staticmethod
    def _deliver(peer: PeerAPI, run: Run, data: bytes, trace: bool) -> None:
        state = peer.state
        if state.floor is not None:  # just joined: skip what its history already had
            floor = state.floor
            for msg_id, frame, event in run:
                if msg_id is not None:
                    if msg_id <= floor:
                        continue
                    state.floor = None
                peer.send_encoded(frame, event)
        elif trace:
            for _, frame, event in run:
                peer.send_encoded(frame, event)
        else:
            peer.push(data)
