"""The chat service (docs/PROTOCOL.md §5): auth, say, history, users, ping, and the pushed
events.

Routing lives here, on the loop thread: which connections belong to which user, who is
online, and who gets a message. A message goes to the group-commit writer first; when its
batch has committed, the sender gets its ``ok`` and the event goes to the fan-out
(server/fanout.py), which encodes it once for every recipient. Acknowledgements come back
from the writer in id order, so every connection sees events in msg_id order.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Tuple

from db.store import Message, User
from net.messages import (
    BadRequest,
    encode_message,
    message_event,
    opt_int,
    opt_str,
    reply_to,
    req_str,
    valid_id,
)
from net.rules import check_text, username_key
from net.service import PeerAPI
from server.accounts import Accounts
from server.base import AuthenticatedService
from server.cluster import ClusterOps
from server.config import ServerConfig
from server.directory import DirectoryOps
from server.fanout import Fanout
from server.moderation import LOBBY, ModerationOps
from server.rooms import RoomOps
from server.sessions import Sessions
from server.throttles import TokenBucket, TokenBuckets

log = logging.getLogger(__name__)

# Messages in the history that comes with a successful auth (docs/PROTOCOL.md §5).
AUTH_HISTORY_MESSAGES = 50
HISTORY_DEFAULT = 50
HISTORY_MAX = 200
# Says one connection may have at the writer at once. Pipelining them is what lets a busy
# sender's messages share one commit and one fan-out; the bound keeps a flood finite.
MAX_PIPELINED_SAYS = 64
# Flood control: the bucket holds this many seconds' worth of the per-second limit
# (docs/PROTOCOL.md §5: "a burst of twice the limit is allowed").
FLOOD_BURST_FACTOR = 2.0
# ... and all connections of one user together, this many times the per-connection limit
# (docs/PROTOCOL.md §5, §10). Otherwise one user on 16 connections stores 16 times a
# connection's flood, and classmates who cannot read that fast are cut off as slow readers.
USER_FLOOD_FACTOR = 2.0
BAD_TEXT = ("'text' must be 1 to 4000 characters, not only spaces, without control "
            "characters")


def history_events(messages: List[Message]) -> List[Dict[str, Any]]:
    return [message_event(m.id, m.sender, m.recipient, m.text, m.created_at, m.room_id)
            for m in messages]


class ChatState:
    """What the chat service knows about one authenticated connection."""

    __slots__ = ("user_id", "username", "role", "says", "floor", "in_flight", "deferred")

    def __init__(self, user: User, says: TokenBucket) -> None:
        self.user_id = user.id
        self.username = user.username
        self.role = user.role  # as of this auth: a role change counts from the next one
        self.says = says  # flood control of this connection (docs/PROTOCOL.md §5)
        self.floor: Optional[int] = None  # see server/fanout.py
        self.in_flight = 0  # says handed to the writer, not yet stored
        self.deferred: Optional[Dict[str, Any]] = None  # a request waiting for them


class ChatService(RoomOps, ModerationOps, DirectoryOps, ClusterOps, AuthenticatedService):
    name = "chat"

    def __init__(self, config: ServerConfig, accounts: Accounts, sessions: Sessions,
                 writer: Any, sms_name: str) -> None:
        super().__init__(config, accounts, sessions, sms_name)
        self.writer = writer
        self.by_user: Dict[int, List[PeerAPI]] = {}  # user_id -> that user's connections
        self.names: Dict[str, int] = {}  # username_key -> user_id, for online users
        self.fanout: Any = None  # needs the loop: made in start()
        user_limit = config.flood_limit * USER_FLOOD_FACTOR
        self.user_says = TokenBuckets(user_limit, user_limit * FLOOD_BURST_FACTOR)
        self.init_moderation()
        self.init_rooms()
        self.init_cluster()

    def start(self) -> None:
        """Called once the service is listening (the loop is known), before it serves: the
        one read of the database this thread ever makes. Joining the cluster comes first, so
        that a change other processes make while the rooms are read is read again, not lost
        (docs/PROTOCOL.md §13)."""
        self.fanout = Fanout(self.loop.call_soon, lambda: self.loop.trace)
        self.sessions.on_goodbye = self.fanout.members.discard  # told goodbye: no more events
        self.join_cluster()
        # The ring of recent messages holds every message from now on (server/fanout.py).
        self.fanout.complete_from = self.writer.newest_message + 1
        self.quiet = set(self.load_moderation())
        self.load_rooms()

    # -- the connection's life ------------------------------------------------------------

    def on_request(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state = peer.state
        if state is not None and state.in_flight:
            # Says of this connection are at the writer. Another say that can go straight
            # to the writer joins them (the writer is first in, first out, so its reply and
            # event stay in order); anything else waits until they are stored, so that
            # replies keep the order of the requests.
            if request["op"] == "say" and self._pipeline_say(peer, state, request):
                return
            state.deferred = request
            peer.hold()
            return
        super().on_request(peer, request)

    def _pipeline_say(self, peer: PeerAPI, state: ChatState, request: Dict[str, Any]) -> bool:
        """Store a say now if nothing about it needs a reply other than its ack."""
        text, to = request.get("text"), request.get("to")
        if state.in_flight >= MAX_PIPELINED_SAYS or not isinstance(text, str) or check_text(text):
            return False
        room = request.get("room")
        if room is None:
            room = LOBBY
        elif (room.__class__ is not int or to is not None
              or (room != LOBBY and self.room_access(state.user_id, room) is not None)):
            return False  # op_say gives the reason (a room's say pipelines only for members)
        if not self.may_pipeline(state):
            return False
        if "id" in request and not valid_id(request["id"]):
            return False
        if to is None:
            to_id, to_name = None, None
        elif isinstance(to, str) and username_key(to) in self.names:
            to_id = self.names[username_key(to)]
            to_name = self.by_user[to_id][0].state.username
        else:
            return False
        if not self._take_token(state):
            return False
        self._store(peer, request, state, to_id, to_name, text, None if to_id else room)
        return True

    def on_close(self, peer: PeerAPI) -> None:
        super().on_close(peer)
        state = peer.state
        if state is None:
            return
        self.fanout.members.discard(peer)
        self.room_left(peer)
        peers = self.by_user.get(state.user_id, [])
        if peer in peers:
            peers.remove(peer)
        if not peers:
            self.by_user.pop(state.user_id, None)
            self.names.pop(username_key(state.username), None)
            self.here_last(state.user_id, state.username)

    def on_shutdown(self) -> None:
        self.writer.stop()

    # -- auth -----------------------------------------------------------------------------

    def load_user(self, token: str) -> Tuple[Optional[User], List[Dict[str, Any]]]:
        """Runs on a db worker: one trip for the token and the history of every room the
        user is in with their private messages (docs/PROTOCOL.md §12)."""
        user = self.accounts.user_for_token(token)
        if user is None:
            return None, []
        rooms = self.store.user_rooms(user.id)
        return user, history_events(self.store.history(user.id, None, AUTH_HISTORY_MESSAGES,
                                                       rooms=rooms))

    def load_from_memory(self, user: User) -> Optional[Tuple[User, Any]]:
        """A token this process knows: the history from the fan-out's ring of recent
        messages, when it holds enough of them (no database trip at all)."""
        history = self.fanout.history(user.id, AUTH_HISTORY_MESSAGES, self.may_see_room)
        return None if history is None else (user, history)

    def welcome(self, peer: PeerAPI, request: Dict[str, Any], user: User,
                history: List[Dict[str, Any]]) -> None:
        if not self.writer.clustered:
            self._welcome(peer, request, user, history)
            return
        # docs/PROTOCOL.md §13: the reply says who is online anywhere. So the other processes
        # learn of this user (when this is their first connection here) before the reply
        # goes out, and this process hears everything the others stored before it does.
        if user.id not in self.by_user:
            self.writer.presence(user.id, user.username, True)

        def abandoned() -> None:  # closed while waiting: take the presence back if need be
            if user.id not in self.by_user:
                self.writer.presence(user.id, user.username, False)

        def synced(_: Any) -> None:
            if peer.closed or peer.closing:  # e.g. logged out elsewhere meanwhile
                abandoned()
            else:
                self._welcome(peer, request, user, history, written=True)
        self.writer.sync(peer.pending(request, synced, on_error=abandoned))

    def _welcome(self, peer: PeerAPI, request: Dict[str, Any], user: User,
                 history: List[Dict[str, Any]], written: bool = False) -> None:
        limit = self.config.flood_limit
        state = peer.state = ChatState(user, TokenBucket(limit, limit * FLOOD_BURST_FACTOR,
                                                         time.monotonic()))
        if user.muted_until > time.time():
            self.muted[user.id] = user.muted_until
        if user.id not in self.by_user:  # everyone else; the newcomer gets the online list
            self.here_first(user.id, user.username, written)
        self.by_user.setdefault(user.id, []).append(peer)
        self.names[username_key(user.username)] = user.id
        self.fanout.members.add(peer)
        self.room_joined(peer)
        online = self.online_count()
        muted_s = self.muted_for(user.id)
        rooms = [self.rooms[r].record(user.id, online) for r in self.rooms_of(user.id)]
        peer.reply(request, user_id=state.user_id, username=state.username, role=state.role,
                   quiet=LOBBY in self.quiet,
                   muted_until=self.muted[user.id] if muted_s else 0, online=self.online(),
                   rooms=rooms, quiet_rooms=self.quiet_among(rooms), history=history)
        self.fanout.welcome(peer, user.id, history[-1]["msg_id"] if history else 0,
                            self.may_see_room)

    def online(self) -> List[str]:
        """Users online on any process (docs/PROTOCOL.md §13)."""
        return self.online_names()

    # -- say ------------------------------------------------------------------------------

    def op_say(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state: ChatState = peer.state
        text = req_str(request, "text")
        to = opt_str(request, "to")
        room = opt_int(request, "room")
        if check_text(text):
            raise BadRequest(BAD_TEXT)
        if room is not None and to is not None:
            raise BadRequest("a message goes to a 'room' or 'to' a user, not both")
        if room is not None and room != LOBBY:
            status = self.room_access(state.user_id, room)
            if status:
                peer.reply(request, status)
                return
        if not self._take_token(state):
            peer.reply(request, "rate_limited", "you are sending too fast; slow down",
                       retry_after=1)
            return
        if to is None:
            room = room or LOBBY
            if self._may_speak(peer, request, state, None, room):
                self._store(peer, request, state, None, None, text, room)
            return
        to_id = self.names.get(username_key(to))
        if to_id is not None:
            recipient = self.by_user[to_id][0].state
            if self._may_speak(peer, request, state, recipient.role):
                self._store(peer, request, state, to_id, recipient.username, text, None)
            return

        def found(user: Optional[User]) -> None:
            if user is None:
                peer.reply(request, "no_such_user")
            elif self._may_speak(peer, request, state, user.role):
                self._store(peer, request, state, user.id, user.username, text, None)
        peer.call(request, "db", self.store.user_by_key, username_key(to), then=found)

    def _may_speak(self, peer: PeerAPI, request: Dict[str, Any], state: ChatState,
                   to_role: Optional[str], room: int = LOBBY) -> bool:
        refusal = self.speaking_refusal(state, to_role, room)
        if refusal is None:
            return True
        status, message, fields = refusal
        peer.reply(request, status, message, **fields)
        return False

    def _take_token(self, state: ChatState) -> bool:
        limit = self.config.flood_limit
        if limit <= 0:
            return True
        now = time.monotonic()
        user = self.user_says.of(state.user_id, now)
        if not (state.says.ready(now) and user.ready(now)):
            return False
        state.says.spend()
        user.spend()
        return True

    def _store(self, peer: PeerAPI, request: Dict[str, Any], state: ChatState,
               to_id: Optional[int], to_name: Optional[str], text: str,
               room: Optional[int]) -> None:
        ts = round(time.time(), 3)

        def stored(msg_id: Optional[int], error: Optional[BaseException]) -> None:
            state.in_flight -= 1
            if error is not None:
                if getattr(error, "refused", False):  # this message alone could not be stored
                    peer.reply(request, "bad_request", "this message cannot be stored")
                else:
                    log.error("storing a message failed: %s", error,
                              exc_info=None if getattr(error, "expected", False) else
                              (type(error), error, error.__traceback__))
                    peer.reply(request, "internal_error")
            else:
                peer.reply(request, msg_id=msg_id, ts=ts)
                # Stored means delivered, even if the sender has gone meanwhile.
                event = message_event(msg_id, state.username, to_name, text, ts, room)
                if to_id is None:
                    if room in self.rooms:  # (a room closed meanwhile hears nothing)
                        self.to_room(room, event, msg_id)
                else:
                    self._deliver_private(event, msg_id, state.user_id, to_id)
            if state.deferred is not None and not peer.closed:
                request_waiting, state.deferred = state.deferred, None
                peer.release()
                self.loop.dispatch(peer, request_waiting)
            peer.end_task()

        state.in_flight += 1
        peer.begin_task()
        self.writer.submit((state.user_id, to_id, text, ts, room),
                           lambda msg_id, error: self.loop.guard(peer, stored, msg_id, error))

    def _deliver_private(self, event: Dict[str, Any], msg_id: int, sender_id: int,
                         recipient_id: int) -> None:
        targets = list(self.by_user.get(sender_id, ()))
        if recipient_id != sender_id:
            targets.extend(self.by_user.get(recipient_id, ()))
        self.fanout.to(targets, event, msg_id, (sender_id, recipient_id))

    def broadcast(self, event: Dict[str, Any]) -> None:
        """Every authenticated chat connection gets this event (file_added, ...)."""
        self.fanout.to_everyone(event)

    def announce_file(self, event: Dict[str, Any], visibility: str, owner_id: int) -> None:
        """file_added / file_removed to every chat connection that may see the file: all of
        them, or for a hand-in its owner's and the admins' (docs/PROTOCOL.md §11)."""
        if visibility == "all":
            self.fanout.to_everyone(event)
            return
        targets = [peer for peer in self.fanout.members
                   if peer.state.user_id == owner_id or peer.state.role == "admin"]
        self.fanout.to(targets, event)

    # -- history, users -------------------------------------------------------------------

    def op_history(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state: ChatState = peer.state
        before = opt_int(request, "before")
        limit = opt_int(request, "limit", HISTORY_DEFAULT, lo=1, hi=HISTORY_MAX)
        with_name = opt_str(request, "with")
        room = opt_int(request, "room")

        def send(reply: Tuple[bytes, Dict[str, Any]]) -> None:
            peer.send_encoded(*reply)

        if room is not None and with_name is not None:
            raise BadRequest("a history is of a 'room' or 'with' a user, not both")
        if room is not None:
            status = self.room_access(state.user_id, room)
            if status:
                peer.reply(request, status)
                return
            peer.call(request, "db", self._history_reply, request, state.user_id, before,
                      limit, None, room, then=send)
            return
        if with_name is None:
            peer.call(request, "db", self._history_reply, request, state.user_id, before,
                      limit, then=send)
            return

        def found(user: Optional[User]) -> None:
            if user is None:
                peer.reply(request, "no_such_user")
            else:
                peer.call(request, "db", self._history_reply, request, state.user_id, before,
                          limit, user.id, then=send)
        peer.call(request, "db", self.store.user_by_key, username_key(with_name), then=found)

    def _history_reply(self, request: Dict[str, Any], user_id: int, before: Optional[int],
                       limit: int, with_user_id: Optional[int] = None,
                       room_id: Optional[int] = None) -> Tuple[bytes, Dict[str, Any]]:
        """Runs on a db worker: the query, and its reply already encoded, as for search
        (server/directory.py): 200 messages of 4,000 characters are 3 MB of JSON, too long
        an encode for the loop when one user asks for it on 16 connections at once."""
        reply = reply_to(request, messages=history_events(
            self.store.history(user_id, before, limit, with_user_id, room_id)))
        return encode_message(reply), reply

    def op_users(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        self.when_current(peer, request, lambda: peer.reply(request, online=self.online()))
