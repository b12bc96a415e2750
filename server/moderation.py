"""The teacher's controls on the chat service (docs/PROTOCOL.md §11): mute, unmute, kick (with
a ban that survives a restart), quiet, audit, and delete_message (authors and admins).

A mixin of ChatService: these ops use its routing tables (who is online, on which
connections) and its fan-out. Everything that must survive a restart (mutes, bans, quiet
rooms, the audit log, deleted messages) is written to the store first; the loop's copy
(``muted``, ``quiet``) is what the say path reads, so a say never waits on the database to
learn whether its sender may speak.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Set

from db.store import Message, User
from net.messages import BadRequest, opt_int, opt_str, req_int, req_str
from net.rules import username_key
from net.service import PeerAPI

log = logging.getLogger(__name__)

MUTE_MAX_MINUTES = 7 * 24 * 60  # a week
AUDIT_DEFAULT = 50
AUDIT_MAX = 200
LOBBY = 1
ADMIN = "admin"


def audit_entry(entry: Any) -> Dict[str, Any]:
    """docs/PROTOCOL.md §11: one audit entry as the wire carries it."""
    return {"id": entry.id, "ts": entry.ts, "by": entry.by, "action": entry.action,
            "user": entry.user, "detail": entry.detail}


class ModerationOps:
    """Mixed into ChatService (with RoomOps), which provides: store, sessions, fanout,
    by_user, loop, rooms, and the per-connection ChatState (user_id, username, role)."""

    store: Any
    sessions: Any
    fanout: Any
    by_user: Dict[int, List[PeerAPI]]
    loop: Any
    rooms: Dict[int, Any]  # and from server/rooms.py: room_owner, rooms_of, to_room

    def init_moderation(self) -> None:
        self.muted: Dict[int, float] = {}  # user_id -> until (time.time); loaded at auth
        self.quiet: Set[int] = set()  # quiet room ids; loaded at start

    def load_moderation(self) -> Any:
        """Runs on a db worker at start: the quiet rooms."""
        return self.store.quiet_rooms()

    # -- what the say path asks -----------------------------------------------------------

    def muted_for(self, user_id: int) -> int:
        """Seconds this user stays muted (0: not muted)."""
        until = self.muted.get(user_id)
        if until is None:
            return 0
        left = until - time.time()
        if left <= 0:
            del self.muted[user_id]
            return 0
        return max(1, int(left + 0.999))

    def speaking_refusal(self, state: Any, to_role: Optional[str],
                         room: int = LOBBY) -> Optional[tuple]:
        """(status, message, fields) when this connection may not say this now; None if it
        may. ``to_role``: the recipient's role for a private message, None for a room.
        A member may always write to an admin (a student must be able to ask the teacher);
        a room's owner may speak in it while it is quiet."""
        if state.role == ADMIN or to_role == ADMIN:
            return None
        muted_s = self.muted_for(state.user_id)
        if muted_s:
            return ("muted", "you are muted for %d more seconds; you may still write to a "
                    "teacher" % muted_s, {"retry_after": muted_s})
        if room in self.quiet and self.room_owner(room) != state.user_id:
            return ("forbidden", "the room is quiet: only teachers may speak now (you may "
                    "still write to a teacher)", {})
        return None

    def may_pipeline(self, state: Any) -> bool:
        """A say may skip the full checks only when nothing could refuse it."""
        return state.role == ADMIN or not (self.quiet or state.user_id in self.muted)

    # -- the changes, as every process applies them (server/cluster.py) -----------------

    def apply_mute(self, change: Dict[str, Any]) -> None:
        self.sessions.forget_user(change["user_id"])  # (the token cache has the old record)
        self.muted[change["user_id"]] = change["until"]
        self.fanout.to_everyone(change["event"])

    def apply_unmute(self, change: Dict[str, Any]) -> None:
        self.sessions.forget_user(change["user_id"])
        self.muted.pop(change["user_id"], None)
        self.fanout.to_everyone(change["event"])

    def apply_kick(self, change: Dict[str, Any]) -> None:
        self.sessions.forget_user(change["user_id"])
        # Its connections get `kicked` and leave the fan-out (Sessions.on_goodbye), so the
        # `moderation` event reaches everyone else (docs/PROTOCOL.md §11).
        self.sessions.end_user(change["user_id"], change["kicked"], service="chat")
        self.fanout.to_everyone(change["event"])

    def apply_quiet(self, change: Dict[str, Any]) -> None:
        room = change["room"]
        if room not in self.rooms:
            return
        if change["on"]:
            self.quiet.add(room)
        else:
            self.quiet.discard(room)
        self.to_room(room, {"op": "moderation", "action": "quiet", "on": change["on"],
                            "room": room, "by": change["by"]})

    def apply_message_deleted(self, change: Dict[str, Any]) -> None:
        msg_id = change["msg_id"]
        self.fanout.forget(msg_id)
        event = {"op": "message_deleted", "msg_id": msg_id, "by": change["by"]}
        sender_id, recipient_id = change["sender_id"], change["recipient_id"]
        if recipient_id is None:
            if change["room"] in self.rooms:
                self.to_room(change["room"], event)
        else:
            targets = list(self.by_user.get(sender_id, ()))
            if recipient_id != sender_id:
                targets.extend(self.by_user.get(recipient_id, ()))
            self.fanout.to(targets, event)

    # -- admin ops ------------------------------------------------------------------------

    def _admin(self, peer: PeerAPI, request: Dict[str, Any]) -> bool:
        if peer.state.role != ADMIN:
            peer.reply(request, "forbidden", "only a teacher (an admin) may do that")
            return False
        return True

    def _target(self, peer: PeerAPI, request: Dict[str, Any], then: Any) -> None:
        """Look the request's 'user' up (db lane); no_such_user, or forbidden for an admin,
        else then(user)."""
        name = req_str(request, "user")

        def found(user: Optional[User]) -> None:
            if user is None:
                peer.reply(request, "no_such_user")
            elif user.role == ADMIN:
                peer.reply(request, "forbidden", "teachers (admins) cannot be muted or kicked")
            else:
                then(user)
        peer.call(request, "db", self.store.user_by_key, username_key(name), then=found)

    def _record(self, by_id: int, action: str, user_id: Optional[int], detail: str) -> Any:
        """Runs on a db worker: one audit entry."""
        return self.store.add_audit(time.time(), by_id, action, user_id, detail)

    def op_mute(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        if not self._admin(peer, request):
            return
        minutes = req_int(request, "minutes", lo=1, hi=MUTE_MAX_MINUTES)
        by = peer.state

        def mute(user: User) -> None:
            until = round(time.time() + minutes * 60, 3)

            def stored(_: Any) -> None:
                self.share_then(peer, request, "mute",
                                lambda: peer.reply(request, until=until),
                                user_id=user.id, until=until,
                           event={"op": "moderation", "action": "mute", "user": user.username,
                                  "by": by.username, "until": until})
            peer.call(request, "db", self._mute_stored, by.user_id, user.id, until, minutes,
                      then=stored)
        self._target(peer, request, mute)

    def _mute_stored(self, by_id: int, user_id: int, until: float, minutes: int) -> None:
        """Runs on a db worker."""
        self.store.set_muted(user_id, until)
        self._record(by_id, "mute", user_id, "%d minutes" % minutes)

    def op_unmute(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        if not self._admin(peer, request):
            return
        by = peer.state

        def unmute(user: User) -> None:
            def stored(_: Any) -> None:
                self.share_then(peer, request, "unmute", lambda: peer.reply(request),
                                user_id=user.id,
                           event={"op": "moderation", "action": "unmute",
                                  "user": user.username, "by": by.username})
            peer.call(request, "db", self._unmute_stored, by.user_id, user.id, then=stored)
        self._target(peer, request, unmute)

    def _unmute_stored(self, by_id: int, user_id: int) -> None:
        """Runs on a db worker."""
        self.store.set_muted(user_id, 0.0)
        self._record(by_id, "unmute", user_id, "")

    def op_kick(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        if not self._admin(peer, request):
            return
        minutes = req_int(request, "minutes", lo=0, hi=MUTE_MAX_MINUTES)
        reason = opt_str(request, "reason") or ""
        if len(reason) > 500:
            raise BadRequest("'reason' must be at most 500 characters")
        by = peer.state

        def kick(user: User) -> None:
            until = round(time.time() + minutes * 60, 3) if minutes else 0.0

            def stored(_: Any) -> None:
                self.share_then(peer, request, "kick", lambda: peer.reply(request),
                                user_id=user.id,
                           kicked={"op": "kicked", "by": by.username, "reason": reason,
                                   "until": until},
                           event={"op": "moderation", "action": "kick", "user": user.username,
                                  "by": by.username, "until": until})
            peer.call(request, "db", self._kick_stored, by.user_id, user.id, until, minutes,
                      reason, then=stored)
        self._target(peer, request, kick)

    def _kick_stored(self, by_id: int, user_id: int, until: float, minutes: int,
                     reason: str) -> None:
        """Runs on a db worker: the ban and the end of every token, then the record."""
        self.store.ban(user_id, until)
        self._record(by_id, "kick", user_id, ("%d minutes" % minutes) +
                     (": " + reason if reason else ""))

    def op_quiet(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        """Admins anywhere; a room's owner in that room (docs/PROTOCOL.md §12)."""
        on = request.get("on")
        if not isinstance(on, bool):
            raise BadRequest("'on' must be true or false")
        room = opt_int(request, "room", LOBBY)
        by = peer.state
        if room not in self.rooms or (self.rooms[room].private
                                      and by.user_id not in self.rooms[room].members):
            peer.reply(request, "not_found", "there is no such room")
            return
        if by.role != ADMIN and self.room_owner(room) != by.user_id:
            peer.reply(request, "forbidden", "only a teacher or the room's owner may do that")
            return

        def stored(_: Any) -> None:
            self.share_then(peer, request, "quiet", lambda: peer.reply(request),
                            room=room, on=on, by=by.username)
        peer.call(request, "db", self._quiet_stored, by.user_id, room, on, then=stored)

    def _quiet_stored(self, by_id: int, room: int, on: bool) -> None:
        """Runs on a db worker."""
        self.store.set_quiet(room, on, by_id, time.time())
        self._record(by_id, "quiet", None, "room %d %s" % (room, "on" if on else "off"))

    def op_audit(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        if not self._admin(peer, request):
            return
        before = opt_int(request, "before")
        limit = opt_int(request, "limit", AUDIT_DEFAULT, lo=1, hi=AUDIT_MAX)
        peer.call(request, "db", self.store.audit, before, limit,
                  then=lambda entries: peer.reply(request,
                                                  entries=[audit_entry(e) for e in entries]))

    # -- delete_message (authors and admins) ----------------------------------------------

    def op_delete_message(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        msg_id = req_int(request, "msg_id")
        state = peer.state

        def done(result: Any) -> None:
            status, message = result
            if status != "ok":
                peer.reply(request, status)
                return
            self.share_then(peer, request, "message_deleted", lambda: peer.reply(request),
                            msg_id=message.id, by=state.username,
                       room=message.room_id, sender_id=message.sender_id,
                       recipient_id=message.recipient_id)
        owned = frozenset(room.id for room in self.rooms.values()
                          if room.owner_id == state.user_id)
        visible = frozenset(self.rooms_of(state.user_id)) | frozenset(
            room.id for room in self.rooms.values() if not room.private)
        peer.call(request, "db", self._delete_message, state.user_id, state.role == ADMIN,
                  msg_id, owned, visible, then=done)

    def _delete_message(self, user_id: int, is_admin: bool, msg_id: int, owned: frozenset,
                        visible: frozenset) -> tuple:
        """Runs on a db worker: (status, message). A message the caller cannot see is
        not_found, the same as one that does not exist, so its existence is not revealed.
        The author may delete it, an admin, or the owner of its room (docs/PROTOCOL.md §12)."""
        message: Optional[Message] = self.store.message(msg_id)
        if message is None:
            return "not_found", None
        if message.recipient_id is not None and user_id not in (message.sender_id,
                                                                message.recipient_id):
            return "not_found", None
        if message.room_id is not None and message.room_id not in visible:
            return "not_found", None
        if (message.sender_id != user_id and not is_admin
                and message.room_id not in owned):
            return "forbidden", None
        if not self.store.delete_message(msg_id):
            return "not_found", None  # deleted a moment ago
        if message.sender_id != user_id:
            self._record(user_id, "delete", message.sender_id, "message %d" % msg_id)
        return "ok", message
