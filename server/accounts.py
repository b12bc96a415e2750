"""Accounts: registration checks, logins, sessions and SMS codes, over the Store.

The functions of Accounts block (database, hashing) and run on worker threads; the
LoginThrottle lives on the loop thread. Statuses are returned as strings so that the
auth service can answer with them directly.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from typing import Any, Dict, Optional, Tuple

from db import PhoneTaken, UsernameTaken
from db.store import User
from net.rules import PHONE_RE, username_key
from server.passwords import DUMMY_HASH, hash_password, verify_password

TOKEN_BYTES = 32  # 256 random bits; SPEC asks for at least 128
TOKEN_LIFETIME_S = 7 * 24 * 3600
CODE_LIFETIME_S = 5 * 60
CODE_RESEND_S = 60
CODE_MAX_FAILURES = 5
LOGIN_MAX_FAILURES = 5
LOGIN_LOCK_S = 60
# Throttle entries kept at most: a flood of made-up names must not grow memory without end.
THROTTLE_MAX_ENTRIES = 100_000


def token_hash(token: str) -> str:
    """Tokens are stored hashed: a copy of the database does not let anyone log in."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def code_hash(phone: str, code: str) -> str:
    return hashlib.sha256(("%s:%s" % (phone, code)).encode("utf-8")).hexdigest()


class Accounts:
    def __init__(self, store: Any, clock: Any = time.time) -> None:
        self.store = store
        self.clock = clock

    # -- SMS codes ------------------------------------------------------------------------

    def code_status(self, phone: str) -> Tuple[Optional[str], int]:
        """Before sending: (phone_taken | rate_limited | None, retry_after seconds)."""
        if self.store.phone_taken(phone):
            return "phone_taken", 0
        last = self.store.sms_code(phone)
        if last is not None:
            wait_s = CODE_RESEND_S - (self.clock() - last.sent_at)
            if wait_s > 0:
                return "rate_limited", max(1, math.ceil(wait_s))
        return None, 0

    def save_code(self, phone: str, code: str) -> int:
        self.store.save_sms_code(phone, code_hash(phone, code), self.clock())
        return CODE_RESEND_S

    # -- registration ---------------------------------------------------------------------

    def check_registration(self, username: str, phone: str, code: Optional[str]) -> Optional[str]:
        """The code, then that the username and phone are free (SPEC §4 order)."""
        if code is not None:
            row = self.store.sms_code(phone)
            if (row is None or row.used or row.attempts >= CODE_MAX_FAILURES
                    or self.clock() - row.sent_at > CODE_LIFETIME_S):
                return "bad_code"
            if not hmac.compare_digest(row.code_hash, code_hash(phone, code)):
                self.store.count_code_failure(phone)
                return "bad_code"
        if self.store.username_taken(username_key(username)):
            return "username_taken"
        if self.store.phone_taken(phone):
            return "phone_taken"
        return None

    def create_user(self, username: str, password: str, phone: str, email: str,
                    code_used: bool) -> Tuple[Optional[str], int]:
        """Hash the password and insert the user: (None, user_id) or (status, 0)."""
        password_hash = hash_password(password)
        try:
            user_id = self.store.create_user(username, username_key(username), password_hash,
                                             phone, email, self.clock(),
                                             use_code_of=phone if code_used else None)
        except UsernameTaken:
            return "username_taken", 0
        except PhoneTaken:
            return "phone_taken", 0
        return None, user_id

    # -- login and sessions ---------------------------------------------------------------

    def login(self, login: str, password: str) -> Tuple[Optional[User], Optional[str]]:
        """(user, token) on success, (None, None) on bad credentials. Costs one password
        hash either way, so a missing name looks exactly like a wrong password."""
        if PHONE_RE.match(login):
            user = self.store.user_by_phone(login)
        else:
            user = self.store.user_by_key(username_key(login))
        good = verify_password(password, user.password_hash if user else DUMMY_HASH)
        if user is None or not good:
            return None, None
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self.clock()
        self.store.create_session(token_hash(token), user.id, now, now + TOKEN_LIFETIME_S)
        return user, token

    def user_for_token(self, token: str) -> Optional[User]:
        return self.store.session_user(token_hash(token), self.clock())

    def logout(self, token: str) -> bool:
        return self.store.delete_session(token_hash(token), self.clock())


class LoginThrottle:
    """SPEC §4: after 5 consecutive failures for one (login, IP), 60 s of rate_limited.
    Lives on the loop thread; unknown names are counted exactly like known ones."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self._entries: Dict[Tuple[str, str], list] = {}  # key -> [failures, locked_until]

    @staticmethod
    def key(login: str, ip: str) -> Tuple[str, str]:
        return username_key(login), ip

    def retry_after(self, key: Tuple[str, str]) -> int:
        """Seconds until this key may try again; 0 when it may try now."""
        entry = self._entries.get(key)
        if entry is None:
            return 0
        wait_s = entry[1] - self.clock()
        if wait_s > 0:
            return max(1, math.ceil(wait_s))
        if entry[1]:  # the lock ran out: a fresh start
            del self._entries[key]
        return 0

    def failed(self, key: Tuple[str, str]) -> None:
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= THROTTLE_MAX_ENTRIES:
                self._prune()
            entry = self._entries[key] = [0, 0.0]
        entry[0] += 1
        if entry[0] >= LOGIN_MAX_FAILURES:
            entry[1] = self.clock() + LOGIN_LOCK_S

    def succeeded(self, key: Tuple[str, str]) -> None:
        self._entries.pop(key, None)

    def _prune(self) -> None:
        now = self.clock()
        for key in [k for k, e in self._entries.items() if e[1] and e[1] <= now]:
            del self._entries[key]
        if len(self._entries) >= THROTTLE_MAX_ENTRIES:  # still full: forget the oldest half
            for key in list(self._entries)[:THROTTLE_MAX_ENTRIES // 2]:
                del self._entries[key]
