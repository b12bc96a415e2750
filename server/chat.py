"""The chat service (SPEC §5): auth, say, history, users, ping, and the pushed events.

Routing lives here, on the loop thread: which connections belong to which user, who is
online, and who gets a message. A message goes to the group-commit writer first; when its
batch has committed, the sender gets its ``ok`` and the event is encoded ONCE and the same
bytes are queued to every recipient. Acknowledgements come back from the writer in id order,
so every connection sees events in msg_id order.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Set, Tuple

from db.store import Message, User
from net.loop import Peer
from net.messages import BadRequest, encode_message, opt_int, opt_str, req_str
from net.rules import check_text, username_key
from server.accounts import Accounts
from server.base import BaseService
from server.config import ServerConfig

log = logging.getLogger(__name__)

# Messages in the history that comes with a successful auth (SPEC §5).
AUTH_HISTORY_MESSAGES = 50
HISTORY_DEFAULT = 50
HISTORY_MAX = 200
# A connection that has not authenticated within this time is closed: it holds a socket and
# a file descriptor for nothing.
UNAUTHENTICATED_LIMIT_S = 30.0
# Says one connection may have at the writer at once. Pipelining them is what lets a busy
# sender's messages share one commit and one fan-out; the bound keeps a flood finite.
MAX_PIPELINED_SAYS = 64
# Flood control: the bucket holds this many seconds' worth of the per-second limit (SPEC §5:
# "a burst of twice the limit is allowed").
FLOOD_BURST_FACTOR = 2.0
# Message events delivered lately, kept so that a connection that authenticates while its
# history is being read still gets the messages delivered in between. A history query takes
# about a millisecond; 4,096 events cover far more than any room sends meanwhile.
RECENT_EVENTS = 4096


class ChatState:
    """What the chat service knows about one authenticated connection."""

    __slots__ = ("user_id", "username", "tokens", "refilled_s", "floor", "in_flight",
                 "deferred")

    def __init__(self, user: User, burst: float, now_s: float) -> None:
        self.user_id = user.id
        self.username = user.username
        self.tokens = burst
        self.refilled_s = now_s
        # Messages up to this id were in the auth reply's history: if one of them is
        # delivered live afterwards (stored before the snapshot, acknowledged after), it is
        # dropped rather than shown twice. Cleared by the first newer message.
        self.floor: Optional[int] = None
        self.in_flight = 0  # says handed to the writer, not yet stored
        self.deferred: Optional[Dict[str, Any]] = None  # a request waiting for them


class ChatService(BaseService):
    name = "chat"

    def __init__(self, config: ServerConfig, accounts: Accounts, writer: Any,
                 sms_name: str) -> None:
        super().__init__(config, sms_name)
        self.accounts = accounts
        self.store = accounts.store
        self.writer = writer
        self.members: Set[Peer] = set()  # every authenticated connection
        self.by_user: Dict[int, List[Peer]] = {}  # user_id -> that user's connections
        self.names: Dict[str, int] = {}  # username_key -> user_id, for online users
        # Events of this loop turn, in order, delivered together at its end (_deliver_pending):
        # (targets or None for everyone, msg_id, frame, event, audience of a private message).
        self._pending: List[Tuple[Optional[List[Peer]], Optional[int], bytes, Dict[str, Any],
                                  Optional[Tuple[int, int]]]] = []
        # (msg_id, audience or None when public, frame) of the latest delivered messages.
        self._recent: Deque[Tuple[int, Optional[Tuple[int, int]], bytes]] = deque(
            maxlen=RECENT_EVENTS)

    # -- the connection's life ------------------------------------------------------------

    def on_request(self, peer: Peer, request: Dict[str, Any]) -> None:
        state = peer.state
        if state is None and request["op"] not in ("hello", "auth"):
            peer.reply(request, "unauthorized", "the first request on the chat service is auth")
            peer.close()
            return
        if isinstance(state, ChatState) and state.in_flight:
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

    def _pipeline_say(self, peer: Peer, state: ChatState, request: Dict[str, Any]) -> bool:
        """Store a say now if nothing about it needs a reply other than its ack."""
        text, to = request.get("text"), request.get("to")
        if state.in_flight >= MAX_PIPELINED_SAYS or not isinstance(text, str) or check_text(text):
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
        self._store(peer, request, state, to_id, to_name, text)
        return True

    def idle_limit_s(self, peer: Peer) -> float:
        if peer.state is not None:
            return self.config.idle_timeout_s
        return min(UNAUTHENTICATED_LIMIT_S, self.config.idle_timeout_s)

    def on_close(self, peer: Peer) -> None:
        state = peer.state
        if not isinstance(state, ChatState):
            return
        self.members.discard(peer)
        peers = self.by_user.get(state.user_id, [])
        if peer in peers:
            peers.remove(peer)
        if not peers:
            self.by_user.pop(state.user_id, None)
            self.names.pop(username_key(state.username), None)
            self.broadcast({"op": "presence", "user": state.username, "online": False})

    def on_shutdown(self) -> None:
        self.writer.stop()

    # -- auth -----------------------------------------------------------------------------

    def op_auth(self, peer: Peer, request: Dict[str, Any]) -> None:
        if peer.state is not None:
            peer.reply(request, "bad_request", "this connection is already authenticated")
            return
        token = req_str(request, "token")

        def verified(result: Tuple[Optional[User], List[Message]]) -> None:
            user, messages = result
            if user is None:
                peer.reply(request, "unauthorized", "the token is unknown, expired or logged out")
                peer.close()
                return
            self._join(peer, user)
            self._welcome(peer, request, messages)

        # One trip to a worker for both the token and the history: a connection costs one
        # database round trip to join.
        peer.call(request, "db", self._load_session, token, then=verified, on_error=peer.close)

    def _load_session(self, token: str) -> Tuple[Optional[User], List[Message]]:
        user = self.accounts.user_for_token(token)
        if user is None:
            return None, []
        return user, self.store.history(user.id, None, AUTH_HISTORY_MESSAGES)

    def _join(self, peer: Peer, user: User) -> None:
        burst = self.config.flood_limit * FLOOD_BURST_FACTOR
        peer.state = ChatState(user, burst, time.monotonic())
        first = user.id not in self.by_user
        if first:  # everyone but the newcomer, who gets the online list in its auth reply
            self._enqueue(list(self.members), None,
                          {"op": "presence", "user": user.username, "online": True})
        self.by_user.setdefault(user.id, []).append(peer)
        self.names[username_key(user.username)] = user.id
        self.members.add(peer)

    def _welcome(self, peer: Peer, request: Dict[str, Any], messages: List[Message]) -> None:
        """The auth reply, then the messages delivered between the history snapshot and this
        join (from _recent); later ones arrive live, and live ones the snapshot already had
        are dropped by the floor. So every message reaches the newcomer exactly once."""
        state: ChatState = peer.state
        peer.reply(request, user_id=state.user_id, username=state.username,
                   online=self.online(), history=[m.event() for m in messages])
        newest = messages[-1].id if messages else 0
        recent = self._recent
        if len(recent) == RECENT_EVENTS and recent[0][0] > newest + 1:
            log.warning("a connection joined %d messages behind; the oldest of them are only "
                        "in its history", recent[0][0] - newest)
        for msg_id, audience, frame in recent:
            if msg_id > newest and (audience is None or state.user_id in audience):
                peer.send_encoded(frame)
        state.floor = newest

    def online(self) -> List[str]:
        names = [peers[0].state.username for peers in self.by_user.values() if peers]
        return sorted(names, key=str.casefold)

    # -- say ------------------------------------------------------------------------------

    def op_say(self, peer: Peer, request: Dict[str, Any]) -> None:
        state: ChatState = peer.state
        text = req_str(request, "text")
        to = opt_str(request, "to")
        if check_text(text):
            raise BadRequest("'text' must be 1 to 4000 characters, not only spaces, "
                             "without control characters")
        if not self._take_token(state):
            peer.reply(request, "rate_limited", "you are sending too fast; slow down")
            return
        if to is None:
            self._store(peer, request, state, None, None, text)
            return
        to_id = self.names.get(username_key(to))
        if to_id is not None:
            self._store(peer, request, state, to_id, self.by_user[to_id][0].state.username, text)
            return

        def found(user: Optional[User]) -> None:
            if user is None:
                peer.reply(request, "no_such_user")
            else:
                self._store(peer, request, state, user.id, user.username, text)
        peer.call(request, "db", self.store.user_by_key, username_key(to), then=found)

    def _take_token(self, state: ChatState) -> bool:
        limit = self.config.flood_limit
        if limit <= 0:
            return True
        now = time.monotonic()
        burst = limit * FLOOD_BURST_FACTOR
        state.tokens = min(burst, state.tokens + (now - state.refilled_s) * limit)
        state.refilled_s = now
        if state.tokens < 1.0:
            return False
        state.tokens -= 1.0
        return True

    def _store(self, peer: Peer, request: Dict[str, Any], state: ChatState,
               to_id: Optional[int], to_name: Optional[str], text: str) -> None:
        ts = round(time.time(), 3)

        def stored(msg_id: Optional[int], error: Optional[BaseException]) -> None:
            state.in_flight -= 1
            if error is not None:
                log.error("storing a message failed: %s", error,
                          exc_info=None if getattr(error, "expected", False) else
                          (type(error), error, error.__traceback__))
                peer.reply(request, "internal_error")
            else:
                peer.reply(request, msg_id=msg_id, ts=ts)
                # Stored means delivered, even if the sender has gone meanwhile.
                event = {"op": "message", "msg_id": msg_id, "from": state.username,
                         "to": to_name, "text": text, "ts": ts}
                if to_id is None:
                    self.broadcast(event, msg_id)
                else:
                    self._deliver_private(event, msg_id, state.user_id, to_id)
            if state.deferred is not None and not peer.closed:
                request_waiting, state.deferred = state.deferred, None
                peer.release()
                self.loop.dispatch(peer, request_waiting)

        state.in_flight += 1
        self.writer.submit((state.user_id, to_id, text, ts),
                           lambda msg_id, error: self.loop.guard(peer, stored, msg_id, error))

    def _deliver_private(self, event: Dict[str, Any], msg_id: int, sender_id: int,
                         recipient_id: int) -> None:
        targets = list(self.by_user.get(sender_id, ()))
        if recipient_id != sender_id:
            targets.extend(self.by_user.get(recipient_id, ()))
        self._enqueue(targets, msg_id, event, (sender_id, recipient_id))

    def broadcast(self, event: Dict[str, Any], msg_id: Optional[int] = None) -> None:
        """Every authenticated chat connection gets this event, after those before it."""
        self._enqueue(None, msg_id, event)

    def _enqueue(self, targets: Optional[List[Peer]], msg_id: Optional[int],
                 event: Dict[str, Any], audience: Optional[Tuple[int, int]] = None) -> None:
        if not self._pending:
            self.loop.call_soon(self._deliver_pending)
        self._pending.append((targets, msg_id, encode_message(event), event, audience))

    def _deliver_pending(self) -> None:
        """Deliver this turn's events in order. A run of consecutive public events is joined
        once and the same bytes go to every member: one append per member per run, however
        many messages the last group commit stored."""
        pending, self._pending = self._pending, []
        trace = self.loop.trace
        recent = self._recent
        for _, msg_id, frame, _, audience in pending:
            if msg_id is not None:
                recent.append((msg_id, audience, frame))
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
            run = [(m, f, e) for _, m, f, e, _ in pending[i:j]]
            data = frame if len(run) == 1 else b"".join(f for _, f, _ in run)
            for peer in self.members:
                self._deliver(peer, run, data, trace)
            i = j

    @staticmethod
    def _deliver(peer: Peer, run: List[Tuple[Optional[int], bytes, Dict[str, Any]]],
                 data: bytes, trace: bool) -> None:
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

    # -- history, users -------------------------------------------------------------------

    def op_history(self, peer: Peer, request: Dict[str, Any]) -> None:
        state: ChatState = peer.state
        before = opt_int(request, "before")
        limit = opt_int(request, "limit", HISTORY_DEFAULT, lo=1, hi=HISTORY_MAX)
        with_name = opt_str(request, "with")

        def send(messages: List[Message]) -> None:
            peer.reply(request, messages=[m.event() for m in messages])

        if with_name is None:
            peer.call(request, "db", self.store.history, state.user_id, before, limit, then=send)
            return

        def found(user: Optional[User]) -> None:
            if user is None:
                peer.reply(request, "no_such_user")
            else:
                peer.call(request, "db", self.store.history, state.user_id, before, limit,
                          user.id, then=send)
        peer.call(request, "db", self.store.user_by_key, username_key(with_name), then=found)

    def op_users(self, peer: Peer, request: Dict[str, Any]) -> None:
        peer.reply(request, online=self.online())
