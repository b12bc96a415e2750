"""The auth service (docs/PROTOCOL.md §4): hello, send_code, register, login, logout.

Each request is checked on the loop for everything that needs no I/O (field types, the
syntax rules, the throttles of §10); the rest runs on the worker bridge in steps, and the
reply is sent from the last step. Check order follows docs/PROTOCOL.md §4.

Password hashing is the expensive step a flood aims at: it goes through a FairQueue (bounded,
one address at a time), never straight onto the hash lane.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import Any, Callable, Deque, Dict, Optional, Set

from db.store import User
from net.messages import opt_str, req_str
from net.rules import (
    EMAIL_MAX_CHARS,
    check_email,
    check_password,
    check_phone,
    check_username,
    normalize_username,
    username_key,
)
from net.service import PeerAPI
from server.accounts import CODE_RESEND_S, Accounts
from server.base import BaseService
from server.config import ServerConfig
from server.sessions import Sessions
from server.sms import SmsFailed, SmsProvider, SmsRateLimited
from server.throttles import FairQueue, LoginThrottle, SlidingWindow

log = logging.getLogger(__name__)

# docs/PROTOCOL.md §10: password checks waiting for the CPU at most; more are refused.
MAX_QUEUED_HASHES = 32
# Jobs on the hash lane at once: one per hash thread keeps the queue's order ours.
HASH_LANE_DEPTH = 2
CODES_WINDOW_S = 600  # --codes-per-ip counts codes in 10 minutes
SMS_WINDOW_S = 3600  # --sms-hourly
LOGIN_WINDOW_S = 60  # --logins-per-ip
# Registrations waiting to have their code checked, per phone; more are refused.
MAX_QUEUED_CODE_CHECKS = 16
BUSY = "The server is busy checking passwords; try again in a moment."


# The throttle operations other processes may ask this one to count.
_SHARED_OPS = {("codes_per_ip", "take"), ("codes_per_ip", "give_back"),
               ("codes_in_all", "take"), ("codes_in_all", "give_back"),
               ("logins_per_ip", "take"), ("throttle", "attempt"), ("throttle", "succeeded")}


class AuthService(BaseService):
    name = "auth"

    def __init__(self, config: ServerConfig, accounts: Accounts, sms: SmsProvider,
                 sessions: Sessions) -> None:
        super().__init__(config, sms.name)
        self.accounts = accounts
        self.sms = sms
        self.sessions = sessions
        self.throttle = LoginThrottle()
        self.logins_per_ip = SlidingWindow(config.logins_per_ip, LOGIN_WINDOW_S)
        self.codes_per_ip = SlidingWindow(config.codes_per_ip, CODES_WINDOW_S)
        self.codes_in_all = SlidingWindow(config.sms_hourly, SMS_WINDOW_S)
        self.hashing: Any = None  # FairQueue; needs the loop: made in start()
        # Tells the other server processes (db/writer.py); set by the composition root.
        self.publish: Callable[[Dict[str, Any]], None] = lambda event: None
        # then() once what was published is in the cluster log (server/cluster.py
        # when_current); set by the composition root.
        self.when_current: Callable[..., None] = lambda peer, request, then: then()
        self._sending: Set[str] = set()  # phones with a send_code under way
        self._code_checks: Dict[str, Deque[Any]] = {}  # phone -> checks waiting their turn

    # -- throttles, counted across processes (docs/PROTOCOL.md §13) -----------------------

    def _count(self, name: str, op: str, key: Any = None) -> int:
        """One operation on a throttle here; when it counted, the other processes count it
        too (through the cluster log), so N processes do not give N times the attempts."""
        wait_s = getattr(getattr(self, name), op)(key)
        if not wait_s:
            self.publish({"kind": "throttle", "name": name, "op": op,
                          "key": key.hex() if isinstance(key, bytes) else key})
        return wait_s or 0

    def apply_throttle(self, event: Dict[str, Any]) -> None:
        """Another process counted: count it here as well (its answer does not matter)."""
        name, op, key = event.get("name"), event.get("op"), event.get("key")
        if (name, op) not in _SHARED_OPS:
            return
        try:
            getattr(getattr(self, name), op)(bytes.fromhex(key) if name == "throttle" else key)
        except (TypeError, ValueError):  # not what this version writes: not counted
            log.debug("ignoring a throttle event %r", event)

    def start(self) -> None:
        self.hashing = FairQueue(self.loop.submit, "hash", HASH_LANE_DEPTH, MAX_QUEUED_HASHES)

    def on_shutdown(self) -> None:
        if self.hashing is not None:
            self.hashing.drop_all()  # queued logins are dropped (docs/PROTOCOL.md §10)

    def _hash(self, peer: PeerAPI, request: Dict[str, Any], fn: Any, *args: Any,
              then: Any) -> None:
        """fn(*args) through the fair queue, holding the peer like peer.call does."""
        if self.hashing.waiting >= self.hashing.max_waiting:
            peer.reply(request, "rate_limited", BUSY, retry_after=1)
            return
        self.hashing.offer(peer.host, fn, args, peer.pending(request, then))

    # -- send_code ------------------------------------------------------------------------

    def op_send_code(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        phone = req_str(request, "phone", invalid="bad_phone")
        if check_phone(phone):
            peer.reply(request, "bad_phone")
            return
        if phone in self._sending:  # two clicks at once: one SMS, not two
            peer.reply(request, "rate_limited", retry_after=CODE_RESEND_S)
            return
        wait_s = self._count("codes_per_ip", "take", peer.host)
        if not wait_s:
            wait_s = self._count("codes_in_all", "take")
            if wait_s:
                self._count("codes_per_ip", "give_back", peer.host)
        if wait_s:
            peer.reply(request, "rate_limited", "Too many verification codes were asked for; "
                       "try again later.", retry_after=wait_s)
            return
        self._sending.add(phone)

        def not_sent() -> None:  # the slots taken above go back: no SMS left
            self._sending.discard(phone)
            self._count("codes_per_ip", "give_back", peer.host)
            self._count("codes_in_all", "give_back")

        def checked(result: Any) -> None:
            status, retry_after = result
            if status == "rate_limited":
                not_sent()
                peer.reply(request, status, retry_after=retry_after)
            elif status:
                not_sent()
                peer.reply(request, status)
            elif self.sms.name == "off":
                not_sent()
                peer.reply(request, "sms_failed",
                           "SMS verification is off on this server: register without a code.")
            else:
                peer.call(request, "sms", self._send, phone, then=sent, on_error=not_sent)

        def sent(result: Any) -> None:
            code, status = result
            if status:
                not_sent()
                if status == "rate_limited":
                    peer.reply(request, status, retry_after=CODE_RESEND_S)
                else:
                    peer.reply(request, status)
                return
            peer.call(request, "db", self.accounts.save_code, phone, code, then=saved,
                      on_error=lambda: self._sending.discard(phone))

        def saved(retry_after: int) -> None:
            self._sending.discard(phone)
            peer.reply(request, retry_after=retry_after)

        peer.call(request, "db", self.accounts.code_status, phone, then=checked,
                  on_error=not_sent)

    def _send(self, phone: str) -> tuple:
        """Runs on the sms lane."""
        try:
            return self.sms.send_code(phone), None
        except SmsRateLimited:
            return None, "rate_limited"
        except SmsFailed as exc:
            log.warning("SMS to a phone failed: %s", exc)
            return None, "sms_failed"

    # -- register -------------------------------------------------------------------------

    def op_register(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        username = req_str(request, "username", invalid="bad_username")
        password = req_str(request, "password", invalid="bad_password")
        phone = req_str(request, "phone", invalid="bad_phone")
        email = opt_str(request, "email", invalid="bad_email") or ""
        verifying = self.sms.name != "off"
        code: Optional[str] = req_str(request, "code", invalid="bad_code") if verifying else None
        status = (check_username(username) or check_password(password) or check_phone(phone)
                  or check_email(email))
        if status:
            peer.reply(request, status)
            return
        username = normalize_username(username)

        def checked(status: Optional[str]) -> None:
            if status:
                peer.reply(request, status)
                return
            self._hash(peer, request, self.accounts.create_user, username, password, phone,
                       email, verifying, then=created)

        def created(result: Any) -> None:
            status, user_id = result
            if status:
                peer.reply(request, status)
            else:
                log.info("registered user %d %r", user_id, username)
                peer.reply(request, user_id=user_id)

        if code is None:
            peer.call(request, "db", self.accounts.check_registration, username, phone, None,
                      then=checked)
            return
        if len(self._code_checks.get(phone, ())) >= MAX_QUEUED_CODE_CHECKS:
            peer.reply(request, "rate_limited", retry_after=1)
            return

        def check(done: Callable[[], None]) -> None:
            def then(status: Optional[str]) -> None:
                done()
                checked(status)
            peer.release()  # held while it waited its turn; peer.call holds it again
            peer.call(request, "db", self.accounts.check_registration, username, phone, code,
                      then=then, on_error=done)
        peer.hold()
        self._in_turn(phone, check)

    def _in_turn(self, phone: str, start: Callable[[Callable[[], None]], None]) -> None:
        """Code checks for one phone run one at a time, in the order they arrived, so that
        5 wrong codes arriving at once are the 5 attempts the code had (docs/PROTOCOL.md
        §10), whatever order the database workers would have taken them in."""
        waiting = self._code_checks.get(phone)
        if waiting is not None:
            waiting.append(start)
            return
        self._code_checks[phone] = deque()
        start(lambda: self._next_check(phone))

    def _next_check(self, phone: str) -> None:
        waiting = self._code_checks.get(phone)
        if waiting:
            waiting.popleft()(lambda: self._next_check(phone))
        else:
            self._code_checks.pop(phone, None)

    # -- login / logout -------------------------------------------------------------------

    def op_login(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        login = req_str(request, "login", invalid="bad_credentials")
        password = req_str(request, "password", invalid="bad_credentials")
        wait_s = self._count("logins_per_ip", "take", peer.host)
        if wait_s:
            peer.reply(request, "rate_limited", "Too many logins from your address; wait a "
                       "little.", retry_after=wait_s)
            return
        if len(login) > EMAIL_MAX_CHARS:  # no account has such a name; nothing to remember
            peer.reply(request, "bad_credentials")
            return

        def found(user: Optional[User]) -> None:
            # The username and the phone of one account are one throttle; a name that is
            # no account is throttled by itself, the same way.
            account = "#%d" % user.id if user is not None else username_key(login)
            key = self.throttle.key(account, peer.host)
            wait_s = self._count("throttle", "attempt", key)
            if wait_s:
                peer.reply(request, "rate_limited", retry_after=wait_s)
                return

            def done(result: Any) -> None:
                user, token, banned_s = result
                if user is None:
                    peer.reply(request, "bad_credentials")
                    return
                self._count("throttle", "succeeded", key)
                if token is None:
                    peer.reply(request, "banned", "you were removed from this chat for a while",
                               retry_after=banned_s)
                    return
                peer.reply(request, token=token, user_id=user.id, username=user.username,
                           role=user.role, services=dict(self.config.ports))
            self._hash(peer, request, self.accounts.login, user, password, then=done)

        peer.call(request, "db", self.accounts.find_login, login, then=found)

    def op_logout(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        token = req_str(request, "token", invalid="unauthorized")

        def done(found: bool) -> None:
            if not found:
                peer.reply(request, "unauthorized")
                return
            self.sessions.end_token(token)  # (and tells the other processes)
            self.when_current(peer, request, lambda: peer.reply(request))
        peer.call(request, "db", self.accounts.logout, token, then=done)
