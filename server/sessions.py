"""Who is connected as whom: the authenticated chat and file connections, by user and by
token. Lives on the loop thread and is shared by the chat and file services, so that a
per-user connection cap counts both (docs/PROTOCOL.md §10) and ``logout`` can end every
connection its token opened (docs/PROTOCOL.md §5).
"""
from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from net.service import PeerAPI

LOGGED_OUT_EVENT = {"op": "logged_out"}
# Tokens whose user this process looked up lately, so that a reconnect (or a client's file
# connection after its chat connection) needs no database trip to authenticate. Logout,
# kick, mute and password changes drop entries at once, on every process (they come through
# the cluster log, docs/PROTOCOL.md §13); an entry is trusted this long at most, which is also
# as long as an expired session can outlive its expiry here.
TOKEN_CACHE_TTL_S = 60.0
# Entries at most (each a user record and a time: a few hundred bytes).
TOKEN_CACHE_MAX = 10_000


def _note_now(times: "OrderedDict[Any, float]", key: Any) -> None:
    """times[key] = now, newest last; at most TOKEN_CACHE_MAX of them (a lookup in flight
    takes seconds at most, and the oldest go first)."""
    times.pop(key, None)
    times[key] = time.monotonic()
    while len(times) > TOKEN_CACHE_MAX:
        times.popitem(last=False)


def token_hash(token: str) -> str:
    """Tokens are stored hashed: a copy of the database does not let anyone log in."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Sessions:
    """Methods for callers (the loop thread only):
        may_add(user_id)             False when the user is at the per-user cap
        add(peer, user_id, token)    an authenticated connection
        remove(peer)                 it closed (idempotent)
        end_token(token)             logout: every connection of that token gets logged_out
                                     and is closed
        end_user(user_id, event, service)   kick: every connection of that user is closed
        token_of(peer)               the hashed token a connection authenticated with
        end_user_but(user_id, keep_token_hash, event)   a password change: the user's
                                     connections of every other token get event and close
    """

    def __init__(self, max_per_user: int) -> None:
        self.max_per_user = max_per_user  # 0 = no cap
        # Tells the other server processes (db/writer.py MessageWriter.publish); set by the
        # composition root. Alone on a database, nobody listens.
        self.publish: Callable[[Dict[str, Any]], None] = lambda event: None
        # Told of each connection that got its last word (logged_out, kicked, a password
        # change) and is closing: set by the chat service, so that it gets no event after it
        # (docs/PROTOCOL.md §11: the kicked user gets `kicked`, not the `moderation` after).
        self.on_goodbye: Callable[[PeerAPI], None] = lambda peer: None
        self._by_user: Dict[int, Set[PeerAPI]] = {}
        self._by_token: Dict[str, Set[PeerAPI]] = {}
        self._keys: Dict[PeerAPI, tuple] = {}
        self._known: "OrderedDict[str, Tuple[Any, float]]" = OrderedDict()  # hash -> (user, at)
        # When a token ended here (logout) and when a user last changed (kick, mute, a
        # password): an auth whose database lookup was asked before then may have read the
        # old row, and must ask again (changed_since), or a logged-out token would be let
        # in, and cached, by a lookup that was in flight when it ended.
        self._ended_at: "OrderedDict[str, float]" = OrderedDict()
        self._changed_at: "OrderedDict[int, float]" = OrderedDict()

    def may_add(self, user_id: int) -> bool:
        if not self.max_per_user:
            return True
        return len(self._by_user.get(user_id, ())) < self.max_per_user

    def add(self, peer: PeerAPI, user_id: int, token: str) -> None:
        key = token_hash(token)
        self._by_user.setdefault(user_id, set()).add(peer)
        self._by_token.setdefault(key, set()).add(peer)
        self._keys[peer] = (user_id, key)

    def remove(self, peer: PeerAPI) -> None:
        keys = self._keys.pop(peer, None)
        if keys is None:
            return
        user_id, key = keys
        for table, k in ((self._by_user, user_id), (self._by_token, key)):
            peers = table.get(k)
            if peers is not None:
                peers.discard(peer)
                if not peers:
                    del table[k]

    def end_user(self, user_id: int, event: Dict[str, Any], service: str) -> None:
        """A kick: that user's connections of ``service`` get ``event``, then all of the
        user's connections close."""
        for peer in list(self._by_user.get(user_id, ())):
            self._goodbye(peer, event if peer.service.name == service else None)

    def _goodbye(self, peer: PeerAPI, event: Optional[Dict[str, Any]]) -> None:
        """Its last word (if any), then it closes: it is no longer one of the user's."""
        if event is not None:
            peer.send(event)
        peer.close()
        self.remove(peer)
        self.on_goodbye(peer)

    def token_of(self, peer: PeerAPI) -> Optional[str]:
        """The hash of the token peer authenticated with (None: it has not)."""
        keys = self._keys.get(peer)
        return keys[1] if keys is not None else None

    def end_user_but(self, user_id: int, keep_token_hash: str, event: Dict[str, Any]) -> int:
        """A password change: every connection of the user opened with another token gets
        ``event`` and is closed; those of ``keep_token_hash`` stay. How many were closed."""
        peers = [peer for peer in self._by_user.get(user_id, ())
                 if self._keys[peer][1] != keep_token_hash]
        for peer in peers:
            self._goodbye(peer, event)
        return len(peers)

    def end_token(self, token: str) -> int:
        """Logout here; the other processes hear of it through the cluster log
        (docs/PROTOCOL.md §13) and end their connections of that token too."""
        key = token_hash(token)
        self.publish({"kind": "logout", "token_hash": key})
        return self.end_token_hash(key)

    # -- the token cache -------------------------------------------------------------------

    def known_user(self, token: str) -> Any:
        """The user a token authenticated lately on this process, or None (ask the store)."""
        key = token_hash(token)
        entry = self._known.get(key)
        if entry is None:
            return None
        user, at = entry
        if time.monotonic() - at > TOKEN_CACHE_TTL_S:
            del self._known[key]
            return None
        return user

    def remember(self, token: str, user: Any) -> None:
        key = token_hash(token)
        self._known.pop(key, None)
        while len(self._known) >= TOKEN_CACHE_MAX:
            self._known.popitem(last=False)
        self._known[key] = (user, time.monotonic())

    def forget_user(self, user_id: int) -> None:
        """Something about the user changed (muted, kicked, a password): look them up again."""
        for key in [k for k, (user, _) in self._known.items() if user.id == user_id]:
            del self._known[key]
        _note_now(self._changed_at, user_id)

    def changed_since(self, token: str, user_id: int, since: float) -> bool:
        """The token ended, or its user changed, at or after ``since`` (time.monotonic())."""
        ended = self._ended_at.get(token_hash(token))
        changed = self._changed_at.get(user_id)
        return (ended is not None and ended >= since) or (changed is not None and
                                                          changed >= since)

    def end_token_hash(self, key: str) -> int:
        self._known.pop(key, None)
        _note_now(self._ended_at, key)
        peers: List[PeerAPI] = list(self._by_token.get(key, ()))
        for peer in peers:
            self._goodbye(peer, LOGGED_OUT_EVENT)
        return len(peers)
