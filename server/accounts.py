"""Accounts: registration checks, logins, sessions and SMS codes, over the Store.

Every method of Accounts blocks (database, hashing) and runs on a worker thread; the
throttles that guard them live on the loop (server/throttles.py). Statuses are returned as
strings so that the auth service can answer with them directly.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from typing import Any, FrozenSet, List, Optional, Tuple

from db import PhoneTaken, UsernameTaken
from db.store import User
from net.rules import PHONE_RE, username_key
from server.passwords import DUMMY_HASH, hash_password, verify_password
from server.sessions import token_hash

TOKEN_BYTES = 32  # 256 random bits; docs/PROTOCOL.md §4 asks for at least 128
TOKEN_LIFETIME_S = 7 * 24 * 3600
CODE_LIFETIME_S = 5 * 60
CODE_RESEND_S = 60
CODE_MAX_FAILURES = 5


def code_hash(phone: str, code: str) -> str:
    return hashlib.sha256(("%s:%s" % (phone, code)).encode("utf-8")).hexdigest()


class Accounts:
    def __init__(self, store: Any, clock: Any = time.time,
                 admins: FrozenSet[str] = frozenset()) -> None:
        self.store = store
        self.clock = clock
        # --admin USERNAME (as username keys): admins from the start, or when they register.
        self.admins = admins

    def grant_admins(self) -> List[str]:
        """At startup: the --admin users that exist become admins. Their names."""
        granted = []
        for key in sorted(self.admins):
            user = self.store.set_role(key, "admin")
            if user is not None:
                granted.append(user.username)
        return granted

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
        """The code, then that the username and phone are free (docs/PROTOCOL.md §4 order)."""
        if code is not None:
            # Every check spends one of the code's attempts before it is compared, in one
            # statement, so 5 guesses arriving at once are 5 guesses, never more.
            if not self.store.spend_code_attempt(phone, CODE_MAX_FAILURES):
                return "bad_code"
            row = self.store.sms_code(phone)
            if (row is None or row.used or self.clock() - row.sent_at > CODE_LIFETIME_S
                    or not hmac.compare_digest(row.code_hash, code_hash(phone, code))):
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
            key = username_key(username)
            user_id = self.store.create_user(username, key, password_hash, phone, email,
                                             self.clock(),
                                             use_code_of=phone if code_used else None,
                                             role="admin" if key in self.admins else "member")
        except UsernameTaken:
            return "username_taken", 0
        except PhoneTaken:
            return "phone_taken", 0
        return None, user_id

    # -- login and sessions ---------------------------------------------------------------

    def find_login(self, login: str) -> Optional[User]:
        """Runs on a db worker: the account a login name (username or phone) names."""
        if PHONE_RE.match(login):
            return self.store.user_by_phone(login)
        return self.store.user_by_key(username_key(login))

    def login(self, user: Optional[User], password: str
              ) -> Tuple[Optional[User], Optional[str], int]:
        """Runs on the hash lane: (user, token, 0) on success, (None, None, 0) on bad
        credentials, (user, None, seconds) for a banned user with the right password. Costs
        one password hash either way, so a missing name looks exactly like a wrong password.
        The user is read again after the hash: a kick or a role change made meanwhile counts."""
        good = verify_password(password, user.password_hash if user else DUMMY_HASH)
        if user is None or not good:
            return None, None, 0
        user = self.store.user_by_key(username_key(user.username)) or user
        now = self.clock()
        if user.banned_until > now:
            return user, None, max(1, math.ceil(user.banned_until - now))
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self.store.create_session(token_hash(token), user.id, now, now + TOKEN_LIFETIME_S)
        return user, token, 0

    def user_for_token(self, token: str) -> Optional[User]:
        return self.store.session_user(token_hash(token), self.clock())

    def logout(self, token: str) -> bool:
        return self.store.delete_session(token_hash(token), self.clock())

    # -- passwords (docs/PROTOCOL.md §5: change_password, reset_password) -----------------

    def change_password(self, user_id: int, old: str, new: str,
                        keep_token_hash: str) -> bool:
        """Runs on the hash lane: False when ``old`` is not the user's password; else the
        new one is stored and every other session of the user ends (the one of
        ``keep_token_hash`` stays)."""
        user = self.store.user_by_id(user_id)
        if not verify_password(old, user.password_hash if user else DUMMY_HASH) or user is None:
            return False
        self.store.set_password(user_id, hash_password(new), keep_token_hash)
        return True

    def reset_password(self, user_id: int, new: str, by_id: int) -> None:
        """Runs on the hash lane: an admin set the user's password; every session of the
        user ends, and the audit log says who did it."""
        self.store.set_password(user_id, hash_password(new), None)
        self.store.add_audit(self.clock(), by_id, "reset_password", user_id, "")
