"""The auth service (SPEC §4): hello, send_code, register, login, logout.

Each request is checked on the loop for everything that needs no I/O (field types, the
syntax rules, the login throttle); the rest runs on the worker bridge in steps, and the reply
is sent from the last step. Check order follows SPEC §4 exactly.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Set

from net.loop import Peer
from net.messages import opt_str, req_str
from net.rules import check_email, check_password, check_phone, check_username, normalize_username
from server.accounts import CODE_RESEND_S, Accounts, LoginThrottle
from server.base import BaseService
from server.config import ServerConfig
from server.sms import SmsFailed, SmsProvider, SmsRateLimited

log = logging.getLogger(__name__)


class AuthService(BaseService):
    name = "auth"

    def __init__(self, config: ServerConfig, accounts: Accounts, sms: SmsProvider) -> None:
        super().__init__(config, sms.name)
        self.accounts = accounts
        self.sms = sms
        self.throttle = LoginThrottle()
        self._sending: Set[str] = set()  # phones with a send_code under way

    # -- send_code ------------------------------------------------------------------------

    def op_send_code(self, peer: Peer, request: Dict[str, Any]) -> None:
        phone = req_str(request, "phone")
        if check_phone(phone):
            peer.reply(request, "bad_phone")
            return
        if phone in self._sending:  # two clicks at once: one SMS, not two
            peer.reply(request, "rate_limited", retry_after=CODE_RESEND_S)
            return
        self._sending.add(phone)

        def checked(result: Any) -> None:
            status, retry_after = result
            if status == "rate_limited":
                self._sending.discard(phone)
                peer.reply(request, status, retry_after=retry_after)
            elif status:
                self._sending.discard(phone)
                peer.reply(request, status)
            elif self.sms.name == "off":
                self._sending.discard(phone)
                peer.reply(request, "sms_failed",
                           "SMS verification is off on this server: register without a code.")
            else:
                peer.call(request, "sms", self._send, phone, then=sent)

        def sent(result: Any) -> None:
            code, status = result
            if status:
                self._sending.discard(phone)
                if status == "rate_limited":
                    peer.reply(request, status, retry_after=CODE_RESEND_S)
                else:
                    peer.reply(request, status)
                return
            peer.call(request, "db", self.accounts.save_code, phone, code, then=saved)

        def saved(retry_after: int) -> None:
            self._sending.discard(phone)
            peer.reply(request, retry_after=retry_after)

        peer.call(request, "db", self.accounts.code_status, phone, then=checked,
                  on_error=lambda: self._sending.discard(phone))

    def _send(self, phone: str) -> tuple:
        try:
            return self.sms.send_code(phone), None
        except SmsRateLimited:
            return None, "rate_limited"
        except SmsFailed as exc:
            log.warning("SMS to a phone failed: %s", exc)
            return None, "sms_failed"

    # -- register -------------------------------------------------------------------------

    def op_register(self, peer: Peer, request: Dict[str, Any]) -> None:
        username = req_str(request, "username")
        password = req_str(request, "password")
        phone = req_str(request, "phone")
        email = opt_str(request, "email") or ""
        verifying = self.sms.name != "off"
        code: Optional[str] = req_str(request, "code") if verifying else None
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
            peer.call(request, "hash", self.accounts.create_user, username, password, phone,
                      email, verifying, then=created)

        def created(result: Any) -> None:
            status, user_id = result
            if status:
                peer.reply(request, status)
            else:
                log.info("registered user %d %r", user_id, username)
                peer.reply(request, user_id=user_id)

        peer.call(request, "db", self.accounts.check_registration, username, phone, code,
                  then=checked)

    # -- login / logout -------------------------------------------------------------------

    def op_login(self, peer: Peer, request: Dict[str, Any]) -> None:
        login = req_str(request, "login")
        password = req_str(request, "password")
        key = self.throttle.key(login, peer.host)
        retry_after = self.throttle.retry_after(key)
        if retry_after:
            peer.reply(request, "rate_limited", retry_after=retry_after)
            return

        def done(result: Any) -> None:
            user, token = result
            if user is None:
                self.throttle.failed(key)
                peer.reply(request, "bad_credentials")
                return
            self.throttle.succeeded(key)
            peer.reply(request, token=token, user_id=user.id, username=user.username,
                       services=dict(self.config.ports))

        # One step on the hash lane: look-up, hash check and new session together.
        peer.call(request, "hash", self.accounts.login, login, password, then=done)

    def op_logout(self, peer: Peer, request: Dict[str, Any]) -> None:
        token = req_str(request, "token")
        peer.call(request, "db", self.accounts.logout, token,
                  then=lambda found: peer.reply(request) if found
                  else peer.reply(request, "unauthorized"))
