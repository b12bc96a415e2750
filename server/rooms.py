"""Rooms on the chat service (docs/PROTOCOL.md §12): a class, a project group, a study circle.

A mixin of ChatService. The loop keeps every open room with its members and invitations
(read once at start, then changed by these ops after the store has them), and, per room, the
set of connections of its members: a message to a room of N members costs one encode and N
appends, and never asks the database who is in the room. The lobby (room 1) is everyone's:
its connections are the fan-out's members.

A private room is invisible to non-members everywhere: in ``rooms``, in events, in history,
and in errors (``not_found``, the same answer as for a room that does not exist).
"""
from __future__ import annotations

import time
import unicodedata
from typing import Any, Dict, List, Optional, Set

from db.store import Room
from net.messages import BadRequest, opt_str, req_int, req_str
from net.rules import username_key
from net.service import PeerAPI

LOBBY = 1
# Open rooms one user may own: a class needs a handful; a student scripting create_room in a
# loop must not fill the server's memory and every room list (docs/PROTOCOL.md §12).
MAX_OWNED_ROOMS = 50
# What a refusal at that limit says to wait: the limit lifts only when a room is closed.
ROOM_LIMIT_RETRY_S = 60
ROOM_NAME_MAX_CHARS = 40
TOPIC_MAX_CHARS = 200


def check_room_name(name: str) -> Optional[str]:
    """After NFC, 1-40 code points, no control or format characters, not only whitespace."""
    name = unicodedata.normalize("NFC", name)
    if not 1 <= len(name) <= ROOM_NAME_MAX_CHARS or name.isspace():
        return "bad_room_name"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Cn") for ch in name):
        return "bad_room_name"
    return None


class RoomState:
    """One open room as the loop keeps it."""

    __slots__ = ("id", "name", "topic", "private", "owner_id", "owner", "members", "invited",
                 "peers")

    def __init__(self, room: Room) -> None:
        self.id = room.id
        self.name = room.name
        self.topic = room.topic
        self.private = room.private
        self.owner_id = room.owner_id
        self.owner = room.owner
        self.members: Set[int] = set(room.members)
        self.invited: Set[int] = set(room.invited)
        self.peers: Set[PeerAPI] = set()  # the chat connections of its members

    def record(self, viewer_id: int, member_count: int = 0) -> Dict[str, Any]:
        """docs/PROTOCOL.md §12: the room record, as ``viewer_id`` sees it."""
        lobby = self.id == LOBBY
        return {"room": self.id, "name": self.name, "topic": self.topic,
                "private": self.private, "owner": self.owner,
                "members": member_count if lobby else len(self.members),
                "joined": lobby or viewer_id in self.members}


class RoomOps:
    """Mixed into ChatService, which provides: store, fanout, by_user, names, and the
    per-connection ChatState (user_id, username, role)."""

    store: Any
    fanout: Any
    by_user: Dict[int, List[PeerAPI]]
    quiet: Set[int]  # the quiet rooms' ids (server/moderation.py)

    def init_rooms(self) -> None:
        self.rooms: Dict[int, RoomState] = {}

    def load_rooms(self) -> None:
        """At start, before serving: every open room, its members and invitations."""
        self.rooms = {room.id: RoomState(room) for room in self.store.rooms()}

    # -- what the rest of the chat service asks -------------------------------------------

    def rooms_of(self, user_id: int) -> List[int]:
        return [room_id for room_id, room in self.rooms.items()
                if room_id == LOBBY or user_id in room.members]

    def room_joined(self, peer: PeerAPI) -> None:
        """A chat connection authenticated: it hears its user's rooms from now on."""
        for room in self.rooms.values():
            if peer.state.user_id in room.members:
                room.peers.add(peer)

    def room_left(self, peer: PeerAPI) -> None:
        for room in self.rooms.values():
            room.peers.discard(peer)

    def room_access(self, user_id: int, room_id: int) -> Optional[str]:
        """None when the user is in the room; else not_member (a public room) or not_found
        (no such room, or a private one: the same answer, so it is not revealed)."""
        room = self.rooms.get(room_id)
        if room is None or (room.private and user_id not in room.members):
            return "not_found"
        if room_id != LOBBY and user_id not in room.members:
            return "not_member"
        return None

    def may_see_room(self, user_id: int, room_id: Optional[int]) -> bool:
        """Whether the user may see a message of that room (None: not a room message)."""
        if room_id is None or room_id == LOBBY:
            return True
        room = self.rooms.get(room_id)
        return room is not None and user_id in room.members

    def to_room(self, room_id: int, event: Dict[str, Any], msg_id: Optional[int] = None) -> None:
        """An event for a room's members only (the lobby: everyone)."""
        if room_id == LOBBY:
            self.fanout.to_everyone(event, msg_id)
        else:
            self.fanout.to(list(self.rooms[room_id].peers), event, msg_id, ("room", room_id))

    def room_owner(self, room_id: int) -> Optional[int]:
        room = self.rooms.get(room_id)
        return room.owner_id if room is not None else None

    def _about_room(self, room: RoomState, event: Dict[str, Any], record: bool = False,
                    exclude: Optional[Set[int]] = None) -> None:
        """A room event to its members and, for a public room, to everyone. With ``record``,
        event["room"] becomes the record as each recipient sees it (joined or not)."""
        def shaped(joined: bool) -> Dict[str, Any]:
            if not record:
                return event
            body = room.record(0)
            body["joined"] = joined
            return dict(event, room=body)
        members = [p for p in room.peers if not exclude or p.state.user_id not in exclude]
        self.fanout.to(members, shaped(True))
        if not room.private:
            others = [p for p in self.fanout.members if p.state.user_id not in room.members
                      and (not exclude or p.state.user_id not in exclude)]
            self.fanout.to(others, shaped(False))

    def _room_arg(self, request: Dict[str, Any]) -> int:
        return req_int(request, "room")

    # -- the changes, as every process applies them (server/cluster.py) -----------------
    # Each is safe to apply twice (a process joining reads again what changed while it
    # loaded the rooms) and to apply for a room this process does not know.

    def apply_room_created(self, change: Dict[str, Any]) -> None:
        room_id = change["room"]
        if room_id in self.rooms:
            return
        room = self.rooms[room_id] = RoomState(Room(
            room_id, change["name"], change["topic"], change["private"], change["owner_id"],
            change["owner"], (change["owner_id"],), ()))
        room.peers.update(self.by_user.get(change["owner_id"], ()))
        self._about_room(room, {"op": "room", "room": None}, record=True)

    def apply_joined(self, change: Dict[str, Any]) -> None:
        room, user_id = self.rooms.get(change["room"]), change["user_id"]
        if room is None or user_id in room.members:
            return
        room.members.add(user_id)
        room.invited.discard(user_id)
        room.peers.update(self.by_user.get(user_id, ()))
        self._about_room(room, {"op": "joined", "room": room.id, "user": change["user"]})

    def apply_left(self, change: Dict[str, Any]) -> None:
        room, user_id = self.rooms.get(change["room"]), change["user_id"]
        if room is None or user_id not in room.members:
            return
        self._about_room(room, {"op": "left", "room": room.id, "user": change["user"]})
        room.members.discard(user_id)
        for p in self.by_user.get(user_id, ()):
            room.peers.discard(p)

    def apply_invited(self, change: Dict[str, Any]) -> None:
        room, user_id = self.rooms.get(change["room"]), change["user_id"]
        if room is None:
            return
        room.invited.add(user_id)
        self.fanout.to(list(self.by_user.get(user_id, ())),
                       {"op": "invited", "room": room.record(user_id), "by": change["by"]})

    def apply_room_closed(self, change: Dict[str, Any]) -> None:
        room = self.rooms.get(change["room"])
        if room is None:
            return
        self._about_room(room, {"op": "room_closed", "room": room.id})
        del self.rooms[room.id]
        self.quiet.discard(room.id)

    # -- ops ------------------------------------------------------------------------------

    def quiet_among(self, records: List[Dict[str, Any]]) -> List[int]:
        """Which of these rooms are quiet now: *this implementation* tells a client so beside
        the records (docs/PROTOCOL.md §12), and so the switch and the input show it."""
        return [record["room"] for record in records if record["room"] in self.quiet]

    def op_rooms(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        user_id = peer.state.user_id

        def answer() -> None:
            online = self.online_count()
            records = [room.record(user_id, online) for room in self.rooms.values()
                       if not room.private or user_id in room.members
                       or user_id in room.invited]
            peer.reply(request, rooms=records, quiet_rooms=self.quiet_among(records))
        self.when_current(peer, request, answer)

    def op_create_room(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state = peer.state
        name = req_str(request, "name", invalid="bad_room_name")
        topic = opt_str(request, "topic") or ""
        private = request.get("private", False)
        if not isinstance(private, bool):
            raise BadRequest("'private' must be true or false")
        if len(topic) > TOPIC_MAX_CHARS or any(unicodedata.category(ch) in ("Cc", "Cf")
                                               for ch in topic):
            raise BadRequest("'topic' must be at most 200 characters, without control "
                             "characters")
        if check_room_name(name):
            peer.reply(request, "bad_room_name", "room names are 1 to 40 characters, not only "
                       "spaces, without control characters")
            return
        name = unicodedata.normalize("NFC", name)
        owned = sum(1 for room in self.rooms.values() if room.owner_id == state.user_id)
        if owned >= MAX_OWNED_ROOMS:
            peer.reply(request, "rate_limited", "you own %d rooms; close one before you make "
                       "another" % owned, retry_after=ROOM_LIMIT_RETRY_S)
            return

        def created(room_id: Optional[int]) -> None:
            if room_id is None:
                peer.reply(request, "room_taken", "a room with that name exists")
                return
            self.share_then(peer, request, "room_created",
                            lambda: peer.reply(request,
                                               room=self.rooms[room_id].record(state.user_id)),
                            room=room_id, name=name, topic=topic, private=private,
                            owner_id=state.user_id, owner=state.username)
        peer.call(request, "db", self.store.create_room, name, name.casefold(), topic, private,
                  state.user_id, time.time(), then=created)

    def op_join(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state = peer.state
        room_id = self._room_arg(request)
        room = self.rooms.get(room_id)
        if room is None or (room.private and state.user_id not in room.members
                            and state.user_id not in room.invited):
            peer.reply(request, "not_found", "there is no such room")
            return
        if room_id == LOBBY or state.user_id in room.members:
            peer.reply(request, room=room.record(state.user_id, self.online_count()),
                       quiet=room_id in self.quiet)
            return

        def joined(_: Any) -> None:
            self.share_then(peer, request, "joined",
                            lambda: peer.reply(request, room=room.record(state.user_id),
                                               quiet=room_id in self.quiet),
                            room=room_id, user_id=state.user_id, user=state.username)
        peer.call(request, "db", self.store.join_room, room_id, state.user_id, time.time(),
                  then=joined)

    def op_leave(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state = peer.state
        room_id = self._room_arg(request)
        if room_id == LOBBY:
            raise BadRequest("nobody leaves the lobby")
        room = self.rooms.get(room_id)
        if room is None or state.user_id not in room.members:
            peer.reply(request, "not_member", "you are not in that room")
            return

        def left(_: Any) -> None:
            self.share_then(peer, request, "left", lambda: peer.reply(request),
                            room=room_id, user_id=state.user_id, user=state.username)
        peer.call(request, "db", self.store.leave_room, room_id, state.user_id, then=left)

    def op_invite(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state = peer.state
        room_id = self._room_arg(request)
        name = req_str(request, "user")
        room = self.rooms.get(room_id)
        if room is None or room_id == LOBBY or state.user_id not in room.members:
            peer.reply(request, "not_member", "you are not in that room")
            return

        def found(user: Any) -> None:
            if user is None:
                peer.reply(request, "no_such_user")
                return
            if user.id in room.members:
                peer.reply(request)
                return

            def invited(_: Any) -> None:
                self.share_then(peer, request, "invited", lambda: peer.reply(request),
                                room=room_id, user_id=user.id, by=state.username)
            peer.call(request, "db", self.store.invite, room_id, user.id, state.user_id,
                      time.time(), then=invited)
        peer.call(request, "db", self.store.user_by_key, username_key(name), then=found)

    def op_close_room(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state = peer.state
        room_id = self._room_arg(request)
        if room_id == LOBBY:
            raise BadRequest("the lobby cannot be closed")
        room = self.rooms.get(room_id)
        if room is None or (room.private and state.user_id not in room.members
                            and state.role != "admin"):
            peer.reply(request, "not_found", "there is no such room")
            return
        if room.owner_id != state.user_id and state.role != "admin":
            peer.reply(request, "forbidden", "only the room's owner or a teacher may close it")
            return

        def closed(_: Any) -> None:
            self.share_then(peer, request, "room_closed", lambda: peer.reply(request),
                            room=room_id)
        peer.call(request, "db", self.store.close_room, room_id, then=closed)
