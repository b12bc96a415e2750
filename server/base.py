"""What every service shares: the handler table, hello, ping and the limits it announces;
and, for the chat and file services, the gate that lets only authenticated peers in."""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, Optional, Tuple

from db.store import User
from net.messages import MAX_CHUNK_BYTES, MAX_CLIENT_JSON_BYTES, BadRequest, is_text
from net.rules import TEXT_MAX_CHARS
from net.service import PeerAPI, Service
from server.accounts import Accounts
from server.config import PROTOCOL, VERSION, ServerConfig
from server.sessions import Sessions

log = logging.getLogger(__name__)

Handler = Callable[[PeerAPI, Dict[str, Any]], None]

# docs/PROTOCOL.md §10: a chat or file connection that has not authenticated this long after
# it opened is closed, whatever it sends meanwhile: it holds a socket for nothing.
UNAUTHENTICATED_LIMIT_S = 30.0
# A refused connection may try again after this long (someone may have closed one by then).
REFUSED_RETRY_S = 5
TOO_MANY_CONNECTIONS = ("You have too many connections open; close some (other windows or "
                        "devices) and try again.")


class BaseService(Service):
    """A service whose ops are methods named ``op_<name>``; unknown ops get unknown_op."""

    max_json_bytes = MAX_CLIENT_JSON_BYTES

    def __init__(self, config: ServerConfig, sms_name: str) -> None:
        self.config = config
        self.sms_name = sms_name
        self._handlers: Dict[str, Handler] = {
            name[3:]: getattr(self, name) for name in dir(self) if name.startswith("op_")}

    def on_request(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        handler = self._handlers.get(request["op"])
        if handler is None:
            peer.reply(request, "unknown_op", "the %s service has no operation %r"
                       % (self.name, request["op"]))
            return
        handler(peer, request)

    def op_hello(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        peer.reply(request, protocol=PROTOCOL, service=self.name, server="chatroom " + VERSION,
                   services=dict(self.config.ports), sms=self.sms_name,
                   limits={"max_json": MAX_CLIENT_JSON_BYTES, "max_chunk": MAX_CHUNK_BYTES,
                           "max_file_size": self.config.max_file_size,
                           "max_text": TEXT_MAX_CHARS})

    def op_ping(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        peer.reply(request)

    def idle_limit_s(self, peer: PeerAPI) -> Optional[float]:
        return self.config.idle_timeout_s


class AuthenticatedService(BaseService):
    """A service whose first request is ``auth`` (docs/PROTOCOL.md §5, §6): before it, only
    hello is answered; anything else is unauthorized and closes the connection, as does a
    failed auth. Subclasses override ``load_user`` (worker) and ``welcome`` (loop)."""

    def __init__(self, config: ServerConfig, accounts: Accounts, sessions: Sessions,
                 sms_name: str) -> None:
        super().__init__(config, sms_name)
        self.accounts = accounts
        self.store = accounts.store
        self.sessions = sessions

    def on_request(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        if peer.state is None and request["op"] not in ("hello", "auth"):
            peer.reply(request, "unauthorized",
                       "the first request on the %s service is auth" % self.name)
            peer.close()
            return
        super().on_request(peer, request)

    def op_auth(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        if peer.state is not None:
            peer.reply(request, "bad_request", "this connection is already authenticated")
            return
        token = request.get("token")
        if not isinstance(token, str):
            raise BadRequest("'token' must be a string")
        if not is_text(token):  # no token looks like that: a failed auth
            peer.reply(request, "unauthorized", "the token is unknown, expired or logged out")
            peer.close()
            return

        def verified(result: Tuple[Optional[User], Any]) -> None:
            user, extra = result
            if user is None:
                peer.reply(request, "unauthorized", "the token is unknown, expired or logged out")
                peer.close()
                return
            if not self.sessions.may_add(user.id):
                # docs/PROTOCOL.md §10: the refused connection is told so in an error frame
                # (as a connection over the per-address cap is), and its auth gets its reply.
                peer.send({"op": "error", "status": "rate_limited",
                           "message": TOO_MANY_CONNECTIONS, "retry_after": REFUSED_RETRY_S})
                peer.reply(request, "rate_limited", TOO_MANY_CONNECTIONS,
                           retry_after=REFUSED_RETRY_S)
                peer.close()
                return
            self.sessions.add(peer, user.id, token)
            self.welcome(peer, request, user, extra)

        known = self.sessions.known_user(token)
        if known is not None:
            loaded = self.load_from_memory(known)
            if loaded is not None:
                verified(loaded)
                return

        asked_at = time.monotonic()

        def looked_up(result: Tuple[Optional[User], Any], again: bool = False) -> None:
            user = result[0]
            if user is not None and not again and \
                    self.sessions.changed_since(token, user.id, asked_at):
                # A logout (here or elsewhere), a kick or a password change came while the
                # database was read: that read may predate it. Once more, from now on.
                peer.call(request, "db", self.load_user, token,
                          then=lambda fresh: looked_up(fresh, again=True), on_error=peer.close)
                return
            if user is not None:
                self.sessions.remember(token, user)
            verified(result)
        peer.call(request, "db", self.load_user, token, then=looked_up, on_error=peer.close)

    def load_from_memory(self, user: User) -> Optional[Tuple[User, Any]]:
        """On the loop, for a token this process knows: (user, whatever welcome needs), or
        None when that needs the database after all."""
        return user, None

    def load_user(self, token: str) -> Tuple[Optional[User], Any]:
        """Runs on a db worker: (the token's user or None, whatever welcome needs)."""
        return self.accounts.user_for_token(token), None

    def welcome(self, peer: PeerAPI, request: Dict[str, Any], user: User, extra: Any) -> None:
        """On the loop: set peer.state and send the auth reply."""
        raise NotImplementedError

    def on_close(self, peer: PeerAPI) -> None:
        self.sessions.remove(peer)

    def timeout_reason(self, peer: PeerAPI, now_s: float) -> Optional[str]:
        if peer.state is None and now_s - peer.opened_s > UNAUTHENTICATED_LIMIT_S:
            return "not authenticated %.0f s after connecting" % UNAUTHENTICATED_LIMIT_S
        return super().timeout_reason(peer, now_s)
