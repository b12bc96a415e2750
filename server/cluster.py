"""What other server processes did, applied here (docs/PROTOCOL.md §13).

A mixin of ChatService. Every change that other processes must hear is applied here by one
``apply_<kind>`` method, which runs twice in a cluster: on the process where it happened (right
after the store has it), and on every other process when the log writer (db/writer.py) reads
it from the log. ``share(kind, **fields)`` does both halves for a local change: apply here,
then publish. So a room created on one process is a room on all of them, by the same code.

Presence is kept per process: ``by_user`` holds this process's connections, ``elsewhere`` the
users online on other processes (and on which). A ``presence`` event goes to clients only when
a user's first connection anywhere opens, or the last anywhere closes.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Set

from db.cluster import Entry
from net.messages import message_event
from net.service import PeerAPI

log = logging.getLogger(__name__)


class ClusterOps:
    """Mixed into ChatService, which provides: writer, fanout, by_user, sessions, rooms,
    to_room, announce_file, and the apply_* methods of server/rooms.py and moderation.py."""

    writer: Any
    fanout: Any
    sessions: Any
    by_user: Dict[int, List[PeerAPI]]
    rooms: Dict[int, Any]

    def init_cluster(self) -> None:
        self.elsewhere: Dict[int, Set[int]] = {}  # user_id -> nodes where they are online
        self.elsewhere_names: Dict[int, str] = {}
        # Changes other services share (kind -> apply), e.g. the auth service's throttles.
        self.appliers: Dict[str, Callable[[Dict[str, Any]], None]] = {}

    def join_cluster(self) -> None:
        """At start, before the rooms are loaded: become a node; who is online elsewhere."""
        for node, user_id, username in self.writer.join_cluster(self.on_cluster_entries):
            self.elsewhere.setdefault(user_id, set()).add(node)
            self.elsewhere_names[user_id] = username

    def share(self, kind: str, **fields: Any) -> None:
        """A change made here: apply it, and tell the other processes."""
        getattr(self, "apply_" + kind)(fields)
        fields["kind"] = kind
        self.writer.publish(fields)

    def share_then(self, peer: Optional[PeerAPI], request: Optional[Dict[str, Any]],
                   kind: str, answer: Callable[[], None], **fields: Any) -> None:
        """share(), then answer() the request that made the change: in a cluster once the
        change is in the log, so a client that has its answer finds the change on every
        process it asks next (docs/PROTOCOL.md §13). Alone, at once (the answer still goes
        out before the events, which are delivered at the end of the loop's turn)."""
        self.share(kind, **fields)
        if peer is None:
            answer()
        else:
            self.when_current(peer, request, answer)

    def when_current(self, peer: PeerAPI, request: Dict[str, Any],
                     then: Callable[[], None]) -> None:
        """then() once what this process queued for the log is in it and it has applied
        everything the others stored before this request (at once when it is alone): what it
        answers from memory (who is online, the rooms) is then as current as the database,
        and a change it made is known to every process."""
        if not self.writer.clustered:
            then()
            return
        self.writer.sync(peer.pending(request, lambda _: then()))

    # -- presence -------------------------------------------------------------------------

    def is_online(self, user_id: int) -> bool:
        return user_id in self.by_user or user_id in self.elsewhere

    def online_names(self) -> List[str]:
        names = {peers[0].state.username for peers in self.by_user.values() if peers}
        names.update(name for user_id, name in self.elsewhere_names.items()
                     if user_id not in self.by_user and user_id in self.elsewhere)
        return sorted(names, key=str.casefold)

    def online_count(self) -> int:
        return len(self.by_user) + sum(1 for user_id in self.elsewhere
                                       if user_id not in self.by_user)

    def here_first(self, user_id: int, username: str, written: bool = False) -> None:
        """The user's first connection on this process (``written``: the cluster already
        has it)."""
        if user_id not in self.elsewhere:
            self._presence(username, True)
        if not written:
            self.writer.presence(user_id, username, True)

    def here_last(self, user_id: int, username: str) -> None:
        """The user's last connection on this process closed."""
        if user_id not in self.elsewhere:
            self._presence(username, False)
        self.writer.presence(user_id, username, False)

    def _presence(self, username: str, online: bool) -> None:
        # The connections of now: a newcomer gets the online list in its auth reply instead.
        self.fanout.to(list(self.fanout.members),
                       {"op": "presence", "user": username, "online": online})

    def apply_presence(self, event: Dict[str, Any]) -> None:
        user_id, node = event["user_id"], event["node"]
        was_online = self.is_online(user_id)
        if event["online"]:
            self.elsewhere.setdefault(user_id, set()).add(node)
            self.elsewhere_names[user_id] = event["username"]
            if not was_online:
                self._presence(event["username"], True)
            return
        nodes = self.elsewhere.get(user_id)
        if nodes is not None:
            nodes.discard(node)
            if not nodes:
                del self.elsewhere[user_id]
        if was_online and not self.is_online(user_id):
            self._presence(event["username"], False)

    def apply_node_dead(self, event: Dict[str, Any]) -> None:
        if event.get("self"):  # we were thought dead: say again who is here
            for user_id, peers in self.by_user.items():
                if peers:
                    self.writer.presence(user_id, peers[0].state.username, True)
            return
        node = event["node"]
        gone = [user_id for user_id, nodes in self.elsewhere.items() if node in nodes]
        for user_id in gone:
            self.apply_presence({"user_id": user_id, "node": node, "online": False,
                                 "username": self.elsewhere_names.get(user_id, "")})

    # -- the log ----------------------------------------------------------------------------

    def on_cluster_entries(self, entries: List[Entry], error: Optional[BaseException]) -> None:
        """On the loop, in log order: what other processes wrote."""
        for entry in entries:
            try:
                if entry.message is not None:
                    self._remote_message(entry.message)
                else:
                    self._remote_event(entry.event or {})
            except Exception:  # one odd entry must not stop the others
                log.exception("applying a cluster log entry failed: %r", entry)

    def _remote_message(self, m: Any) -> None:
        event = message_event(m.id, m.sender, m.recipient, m.text, m.created_at, m.room_id)
        if m.recipient_id is None:
            if m.room_id in self.rooms:
                self.to_room(m.room_id, event, m.id)
        else:
            self._deliver_private(event, m.id, m.sender_id, m.recipient_id)

    def _remote_event(self, event: Dict[str, Any]) -> None:
        kind = str(event.get("kind"))
        apply = self.appliers.get(kind) or getattr(self, "apply_" + kind, None)
        if apply is None:  # written by a newer version: nothing this one can do with it
            log.debug("ignoring a cluster event of kind %r", event.get("kind"))
            return
        apply(event)

    # -- events other modules share -------------------------------------------------------

    def apply_file(self, event: Dict[str, Any]) -> None:
        self.announce_file(event["event"], event["visibility"], event["owner_id"])

    def apply_logout(self, event: Dict[str, Any]) -> None:
        self.sessions.end_token_hash(event["token_hash"])
