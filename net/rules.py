"""The validation rules of docs/PROTOCOL.md §4-§6 and §10, shared by the server (the
authority) and the clients (quick feedback as you type). Pure: each check returns None when
the value is fine, else the status code that names what is wrong."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

USERNAME_MAX_CHARS = 20
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 64
EMAIL_MAX_CHARS = 254
TEXT_MAX_CHARS = 4000  # one chat message
NAME_MAX_BYTES = 1024  # a shared file's relative path, UTF-8
NAME_PART_MAX_BYTES = 255  # one component: the common file-system limit
TYPE_MAX_CHARS = 255

PHONE_RE = re.compile(r"1[3-9][0-9]{9}\Z")
# local@domain.tld, no spaces, a dot in the domain with something on both sides.
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)*\.[^@\s.]+\Z")
SHA256_RE = re.compile(r"[0-9a-f]{64}\Z")
# docs/PROTOCOL.md §10: a media type as RFC 6838 names it, type/subtype.
TYPE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\Z")


def _is_text(value: str) -> bool:
    """False for lone surrogates (JSON's \\ud800), which no encoder or database accepts."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def normalize_username(username: str) -> str:
    return unicodedata.normalize("NFC", username)


def username_key(username: str) -> str:
    """What uniqueness is judged on: NFC, then case folded (so 'Alice' and 'ALICE' clash)."""
    return normalize_username(username).casefold()


def check_username(username: str) -> Optional[str]:
    """1-20 code points after NFC; no whitespace, no control (Cc) or format (Cf) characters
    (zero-width joiners and bidi controls make look-alike names), no unassigned (Cn) or
    surrogate (Cs) code points; not all digits."""
    if not _is_text(username):
        return "bad_username"
    name = normalize_username(username)
    if not 1 <= len(name) <= USERNAME_MAX_CHARS:
        return "bad_username"
    for ch in name:
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cn", "Cs"):
            return "bad_username"
    if name.isdigit():
        return "bad_username"
    return None


def check_password(password: str) -> Optional[str]:
    if not _is_text(password):
        return "bad_password"
    if not PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS:
        return "bad_password"
    if not any(ch.isalpha() for ch in password):
        return "bad_password"
    if not any(ch in "0123456789" for ch in password):
        return "bad_password"
    return None


def check_phone(phone: str) -> Optional[str]:
    return None if PHONE_RE.match(phone) else "bad_phone"


def check_email(email: str) -> Optional[str]:
    if email == "":
        return None
    if len(email) > EMAIL_MAX_CHARS or not EMAIL_RE.match(email):
        return "bad_email"
    return None


def check_text(text: str) -> Optional[str]:
    """A chat message: 1-4,000 code points, not only whitespace, no control characters
    other than newline and tab."""
    if not 1 <= len(text) <= TEXT_MAX_CHARS or text.isspace() or not _is_text(text):
        return "bad_request"
    if _CONTROL_BUT_NEWLINE_TAB.search(text):
        return "bad_request"
    return None


# Unicode's Cc category is exactly U+0000-U+001F and U+007F-U+009F (and by Unicode's stability
# policy always will be); one regex search is ~100x cheaper than asking unicodedata per
# character, which cost a 4,000-character say 220 µs of loop time.
_CONTROL_BUT_NEWLINE_TAB = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def check_file_name(name: str) -> Optional[str]:
    """A shared file's name: a relative '/'-separated path that can never escape a folder."""
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return "bad_request"
    if not 1 <= len(encoded) <= NAME_MAX_BYTES:
        return "bad_request"
    if "\\" in name or name.startswith("/"):
        return "bad_request"
    for part in name.split("/"):
        if part in ("", ".", ".."):
            return "bad_request"
        if len(part.encode("utf-8")) > NAME_PART_MAX_BYTES:
            return "bad_request"
    for ch in name:
        if unicodedata.category(ch) in ("Cc", "Cf"):  # Cf: bidi overrides disguise names
            return "bad_request"
    return None


def check_type(type_: str) -> Optional[str]:
    """A media type (docs/PROTOCOL.md §10); anything else is replaced by the server's guess."""
    if len(type_) > TYPE_MAX_CHARS or not TYPE_RE.match(type_):
        return "bad_request"
    return None


def check_sha256(digest: str) -> Optional[str]:
    return None if SHA256_RE.match(digest) else "bad_request"
