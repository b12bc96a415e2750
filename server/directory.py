"""The member directory, message search, conversations with unread counts, and passwords, on
the chat service (docs/PROTOCOL.md §5, "Directory, search, unread, passwords").

A mixin of ChatService. Everything here reads or writes the store on a worker; the loop only
checks the request, decides what the caller may see (its rooms come from the loop's own
tables, server/rooms.py) and shapes the reply. Whether a user is online is asked of one
method, ChatService's ``is_online`` (cluster-wide presence, server/cluster.py).
Password hashing goes through a FairQueue onto the hash lane, as logins do (server/auth.py):
the loop never waits on it.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Tuple

from db.store import Message, User
from net.messages import (
    BadRequest,
    conversation_record,
    encode_message,
    logged_out_event,
    member_record,
    message_event,
    opt_int,
    opt_str,
    reply_to,
    req_int,
    req_str,
    room_unread_record,
)
from net.rules import PASSWORD_MAX_CHARS, USERNAME_MAX_CHARS, check_password, username_key
from net.service import PeerAPI
from server.throttles import FairQueue, LoginThrottle

log = logging.getLogger(__name__)

LOBBY = 1
ADMIN = "admin"
MEMBERS_DEFAULT = 100
MEMBERS_MAX = 200
# Users the directory reads per request at most, by name, to put the online ones first:
# several classes' worth. With more matching names than this, the online ones among the rest
# are not brought forward (the reply says "more"; a longer query narrows it).
MEMBERS_SCAN = 5000
SEARCH_DEFAULT = 50
SEARCH_MAX = 200
SEARCH_TEXT_MAX_CHARS = 200
# Private conversations a `conversations` reply lists at most, the most recent first.
CONVERSATIONS_MAX = 200
# A room's unread count looks at this many of its messages after the read mark at most, so
# that a user who never read the lobby costs what a regular does; the count is capped one
# below, so a client can show "999+" for 999.
UNREAD_SCAN = 1000
UNREAD_MAX = UNREAD_SCAN - 1
# Password checks (change_password, reset_password) waiting for the hash lane at most; more
# get rate_limited. One at a time on the lane: logins (server/auth.py) keep the other thread.
MAX_QUEUED_PASSWORD_CHECKS = 16
PASSWORD_LANE_DEPTH = 1
BUSY = "The server is busy checking passwords; try again in a moment."
LIKE_ESCAPE = "!"


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own % and _ taken literally."""
    escaped = "".join(LIKE_ESCAPE + ch if ch in "%_" + LIKE_ESCAPE else ch for ch in text)
    return "%" + escaped + "%"


def _events(messages: List[Message]) -> List[Dict[str, Any]]:
    return [message_event(m.id, m.sender, m.recipient, m.text, m.created_at, m.room_id)
            for m in messages]


class DirectoryOps:
    """Mixed into ChatService (with RoomOps), which provides: store, accounts, sessions, loop,
    is_online, rooms_of, room_access, and the per-connection ChatState (user_id, username,
    role)."""

    store: Any
    accounts: Any
    sessions: Any
    loop: Any

    is_online: Any  # (user_id) -> bool: presence, on any process (server/cluster.py)

    _password_queue: Optional[FairQueue] = None
    _password_throttle: Optional[LoginThrottle] = None

    # -- members ----------------------------------------------------------------------------

    def op_members(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        query = (opt_str(request, "query") or "").strip()
        if len(query) > USERNAME_MAX_CHARS:
            raise BadRequest("'query' must be at most %d characters" % USERNAME_MAX_CHARS)
        limit = opt_int(request, "limit", MEMBERS_DEFAULT, lo=1, hi=MEMBERS_MAX)

        def found(rows: List[Tuple[int, str, str]]) -> None:
            online = [row for row in rows if self.is_online(row[0])]
            offline = [row for row in rows if not self.is_online(row[0])]
            ordered = online + offline
            peer.reply(request, members=[member_record(name, self.is_online(user_id), role)
                                         for user_id, name, role in ordered[:limit]],
                       more=len(ordered) > limit or len(rows) >= MEMBERS_SCAN)
        self.when_current(peer, request, lambda: peer.call(
            request, "db", self.store.members, like_pattern(username_key(query)),
            MEMBERS_SCAN, then=found))

    # -- search -----------------------------------------------------------------------------

    def op_search(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state = peer.state
        text = req_str(request, "text")
        if not 1 <= len(text) <= SEARCH_TEXT_MAX_CHARS:
            raise BadRequest("'text' must be 1 to %d characters" % SEARCH_TEXT_MAX_CHARS)
        limit = opt_int(request, "limit", SEARCH_DEFAULT, lo=1, hi=SEARCH_MAX)
        before = opt_int(request, "before")
        room = opt_int(request, "room")
        with_name = opt_str(request, "with")
        if room is not None and with_name is not None:
            raise BadRequest("a search is in a 'room' or 'with' a user, not both")
        pattern = like_pattern(text.lower())

        def send(reply: Tuple[bytes, Dict[str, Any]]) -> None:
            peer.send_encoded(*reply)

        if room is not None:
            status = self.room_access(state.user_id, room)
            if status:
                peer.reply(request, status)
                return
            peer.call(request, "db", self._search_reply, request, limit, state.user_id,
                      pattern, before, (), None, room, then=send)
            return
        if with_name is None:
            peer.call(request, "db", self._search_reply, request, limit, state.user_id,
                      pattern, before, tuple(self.rooms_of(state.user_id)), then=send)
            return

        def found(user: Optional[User]) -> None:
            if user is None:
                peer.reply(request, "no_such_user")
            else:
                peer.call(request, "db", self._search_reply, request, limit, state.user_id,
                          pattern, before, (), user.id, then=send)
        peer.call(request, "db", self.store.user_by_key, username_key(with_name), then=found)

    def _search_reply(self, request: Dict[str, Any], limit: int, user_id: int, pattern: str,
                      before: Optional[int], rooms: Tuple[int, ...],
                      with_user_id: Optional[int] = None, room_id: Optional[int] = None
                      ) -> Tuple[bytes, Dict[str, Any]]:
        """Runs on a db worker: the query, and its reply already encoded. A reply can hold
        200 messages of 4,000 characters (3 MB of JSON); encoded on the loop, a user who keeps
        searching on 16 connections stalls everyone's chat (docs/PROTOCOL.md §10)."""
        messages = self.store.search_messages(user_id, pattern, before, limit + 1, rooms,
                                              with_user_id, room_id)
        reply = reply_to(request, messages=_events(messages[:limit]),
                         more=len(messages) > limit)
        return encode_message(reply), reply

    # -- conversations and read marks -------------------------------------------------------

    def op_conversations(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state = peer.state
        rooms = tuple(self.rooms_of(state.user_id))

        def send(result: Tuple[List[Any], List[Any]]) -> None:
            private, rooms_read = result
            peer.reply(request,
                       private=[conversation_record(name, last_id, last_ts,
                                                    min(unread, UNREAD_MAX))
                                for name, last_id, last_ts, unread in private],
                       rooms=[room_unread_record(room, last_id, last_ts, min(unread, UNREAD_MAX))
                              for room, last_id, last_ts, unread in rooms_read])
        peer.call(request, "db", self._conversations, state.user_id, rooms, then=send)

    def _conversations(self, user_id: int, rooms: Tuple[int, ...]) -> Tuple[List[Any], List[Any]]:
        """Runs on a db worker."""
        return (self.store.private_conversations(user_id, CONVERSATIONS_MAX),
                self.store.room_unread(user_id, rooms, UNREAD_SCAN))

    def op_mark_read(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state = peer.state
        msg_id = req_int(request, "msg_id")
        room = opt_int(request, "room")
        with_name = opt_str(request, "with")
        if (room is None) == (with_name is None):
            raise BadRequest("mark_read takes a 'room' or 'with' a user (one of them)")
        if room is not None:
            status = self.room_access(state.user_id, room)
            if status:
                peer.reply(request, status)
                return
            peer.call(request, "db", self.store.mark_read, state.user_id, 0, room, msg_id,
                      then=lambda _: peer.reply(request))
            return

        def found(user: Optional[User]) -> None:
            if user is None:
                peer.reply(request, "no_such_user")
            else:
                peer.call(request, "db", self.store.mark_read, state.user_id, user.id, 0,
                          msg_id, then=lambda _: peer.reply(request))
        peer.call(request, "db", self.store.user_by_key, username_key(with_name), then=found)

    # -- passwords --------------------------------------------------------------------------

    def _hash(self, peer: PeerAPI, request: Dict[str, Any], fn: Any, *args: Any,
              then: Any) -> None:
        """fn(*args) on the hash lane, through a fair queue (one address at a time)."""
        if self._password_queue is None:
            self._password_queue = FairQueue(self.loop.submit, "hash", PASSWORD_LANE_DEPTH,
                                             MAX_QUEUED_PASSWORD_CHECKS)
        queue = self._password_queue
        if queue.waiting >= queue.max_waiting:
            peer.reply(request, "rate_limited", BUSY, retry_after=1)
            return
        queue.offer(peer.host, fn, args, peer.pending(request, then))

    def op_change_password(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state = peer.state
        old = req_str(request, "old_password", invalid="bad_credentials")
        new = req_str(request, "new_password", invalid="bad_password")
        if check_password(new):
            peer.reply(request, "bad_password")
            return
        if self._password_throttle is None:
            self._password_throttle = LoginThrottle()
        throttle = self._password_throttle
        # Per account, from anywhere: a stolen token must not become a way to guess the
        # password it was issued for.
        key = throttle.key("#%d" % state.user_id, "")
        wait_s = throttle.attempt(key)
        if wait_s:
            peer.reply(request, "rate_limited", retry_after=wait_s)
            return
        keep = self.sessions.token_of(peer)
        if len(old) > PASSWORD_MAX_CHARS or keep is None:
            peer.reply(request, "bad_credentials", "the current password is wrong")
            return

        def done(changed: bool) -> None:
            if not changed:
                peer.reply(request, "bad_credentials", "the current password is wrong")
                return
            throttle.succeeded(key)
            log.info("user %d changed their password", state.user_id)
            # On every process (docs/PROTOCOL.md §13): the user's other logins end.
            self.share_then(peer, request, "password_changed", lambda: peer.reply(request),
                            user_id=state.user_id, keep=keep,
                            event=logged_out_event("password_changed"))
        self._hash(peer, request, self.accounts.change_password, state.user_id, old, new, keep,
                   then=done)

    def apply_password_changed(self, change: Dict[str, Any]) -> None:
        """(server/cluster.py) Every login of the user but the one that changed it ends."""
        self.sessions.forget_user(change["user_id"])
        self.sessions.end_user_but(change["user_id"], change["keep"], change["event"])

    def apply_password_reset(self, change: Dict[str, Any]) -> None:
        self.sessions.forget_user(change["user_id"])
        self.sessions.end_user(change["user_id"], change["event"], service="chat")

    def op_reset_password(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        by = peer.state
        if by.role != ADMIN:
            peer.reply(request, "forbidden", "only a teacher (an admin) may do that")
            return
        name = req_str(request, "user")
        new = req_str(request, "new_password", invalid="bad_password")
        if check_password(new):
            peer.reply(request, "bad_password")
            return

        def found(user: Optional[User]) -> None:
            if user is None:
                peer.reply(request, "no_such_user")
                return
            if user.role == ADMIN:
                peer.reply(request, "forbidden", "a teacher's password is changed by that "
                           "teacher (change_password), never reset")
                return

            def done(_: Any) -> None:
                log.info("admin %d reset the password of user %d", by.user_id, user.id)
                self.share_then(peer, request, "password_reset", lambda: peer.reply(request),
                                user_id=user.id,
                                event=logged_out_event("password_reset", by.username))
            self._hash(peer, request, self.accounts.reset_password, user.id, new, by.user_id,
                       then=done)
        peer.call(request, "db", self.store.user_by_key, username_key(name), then=found)
