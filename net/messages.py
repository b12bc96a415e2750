"""JSON bodies <-> dicts, request field checks, and the table of status codes.

Pure: no sockets. Every status code of docs/PROTOCOL.md §7 and its default sentence live in
STATUSES, the one place a client or the server looks them up. Every wire shape the server
sends (a message event, a file record, upload_done) is built here, once.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

from net.framing import (  # noqa: F401  (re-exported: the wire limits services announce)
    KIND_JSON,
    MAX_CHUNK_BYTES,
    MAX_CLIENT_JSON_BYTES,
    FramingError,
    encode_frame,
)

# docs/PROTOCOL.md §7, with the sentence an error reply carries when the handler has nothing
# better to say.
STATUSES: Dict[str, str] = {
    "ok": "OK.",
    "bad_frame": "The frame broke the protocol; the connection is closed.",
    "bad_request": "A field is missing or has the wrong type.",
    "unknown_op": "This service does not know that operation.",
    "unauthorized": "Authenticate first with a valid token.",
    "rate_limited": "Too many attempts; wait a little and try again.",
    "internal_error": "The server failed to do that; try again later.",
    "bad_username": "Usernames are 1 to 20 characters, without spaces, and not only digits.",
    "bad_password": "Passwords are 8 to 64 characters with at least one letter and one digit.",
    "bad_phone": "That is not a mainland China mobile number (11 digits starting with 13-19).",
    "bad_email": "That email address is not valid.",
    "bad_code": "The verification code is wrong or has expired.",
    "username_taken": "That username is already taken.",
    "phone_taken": "That phone number is already registered.",
    "sms_failed": "The SMS could not be sent; try again later.",
    "bad_credentials": "Wrong username/phone or password.",
    "no_such_user": "There is no user with that name.",
    "not_found": "There is no such file.",
    "forbidden": "You are not allowed to do that.",
    "too_large": "The file is larger than this server accepts.",
    "busy": "A transfer is already running on this connection; open another one.",
    "storage_full": "The server's disk is full.",
    "checksum_mismatch": "The data did not match its SHA-256; it was discarded.",
    "quota_exceeded": "You have no room left for files; delete some of yours first.",
    "muted": "You are muted for now; you may still write to a teacher (an admin).",
    "banned": "You were removed from this chat for a while.",
    "not_member": "You are not in that room; join it first.",
    "room_taken": "A room with that name exists.",
    "bad_room_name": "Room names are 1 to 40 characters, not only spaces.",
}


class BadRequest(Exception):
    """A request field is missing or ill-typed: the reply is ``status`` (bad_request unless
    the field has a status of its own, such as bad_username) and the connection stays open."""

    def __init__(self, message: str, status: str = "bad_request") -> None:
        super().__init__(message)
        self.status = status


# Stands for an integer too long to convert: valid JSON, so the request is answered as one
# with an out-of-range number (bad_request, docs/PROTOCOL.md §3), not as a broken frame. Small
# enough to print in a log line, far beyond every range a field allows.
_TOO_LONG_INT = 10 ** 100


def _bounded_int(digits: str) -> int:
    if len(digits) <= 1000:
        return int(digits)
    return -_TOO_LONG_INT if digits.startswith("-") else _TOO_LONG_INT


def decode_body(body: bytes) -> Dict[str, Any]:
    """A J frame body as a request dict; raises FramingError when it breaks docs/PROTOCOL.md §2."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise FramingError("body is not valid UTF-8") from None
    try:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            raise
        except ValueError:  # Python 3.11+: an integer of more than 4,300 digits
            message = json.loads(text, parse_int=_bounded_int)
    except ValueError:  # json.JSONDecodeError, and RecursionError's cousin for deep nesting
        raise FramingError("body is not valid JSON") from None
    except RecursionError:
        raise FramingError("body nests too deeply") from None
    if not isinstance(message, dict):
        raise FramingError("body is not a JSON object")
    op = message.get("op")
    if not isinstance(op, str):
        raise FramingError("body has no string 'op'")
    if not is_text(op):  # answered as an unknown op, under a name we can send back
        message["op"] = op.encode("utf-8", "backslashreplace").decode("utf-8")
    return message


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
# JSONEncoder.encode makes a new C encoder for every call, which costs about as much as
# encoding a chat event (issue 22). This one is made once, as JSONEncoder.iterencode makes it,
# but without a check for cycles (check_circular=False): every message is a tree built here or
# in a service. Where the C encoder is missing, JSONEncoder.encode does the same work.
_c_encoder = None if json.encoder.c_make_encoder is None else json.encoder.c_make_encoder(
    None, _encoder.default, json.encoder.encode_basestring, _encoder.indent,
    _encoder.key_separator, _encoder.item_separator, _encoder.sort_keys, _encoder.skipkeys,
    _encoder.allow_nan)


def encode_body(message: Dict[str, Any]) -> bytes:
    if _c_encoder is None:
        return _encoder.encode(message).encode("utf-8")
    return "".join(_c_encoder(message, 0)).encode("utf-8")


def encode_message(message: Dict[str, Any]) -> bytes:
    """A whole J frame: encode once, then the same bytes can go to any number of peers."""
    return encode_frame(KIND_JSON, encode_body(message))


def reply_to(request: Dict[str, Any], status: str = "ok", message: Optional[str] = None,
             **fields: Any) -> Dict[str, Any]:
    """The reply dict for a request: same op, same id, a status, and a sentence on error."""
    reply: Dict[str, Any] = {"op": request.get("op")}
    if "id" in request:
        reply["id"] = request["id"]
    reply["status"] = status
    if status != "ok":
        reply["message"] = message or STATUSES[status]
    reply.update(fields)
    return reply


# Field readers: each returns the value or raises BadRequest naming the field.

# docs/PROTOCOL.md §3: every integer field is a JSON integer from 0 to 2^63 - 1, the range of a
# signed 64-bit database column, so no number a client sends can overflow a query.
INT_MAX = 2 ** 63 - 1
# docs/PROTOCOL.md §3: request ids. A string id is echoed back, so it is short; a number id
# must survive a round trip through any JSON parser (a double holds integers up to 2^53).
ID_MAX_CHARS = 128
ID_MAX_MAGNITUDE = 2 ** 53


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_text(value: str) -> bool:
    """False for a string that is not valid Unicode text: JSON's \\ud800 escapes can carry
    lone surrogates, which no database, file system or UTF-8 encoder accepts."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def req_str(request: Dict[str, Any], name: str, invalid: str = "bad_request") -> str:
    """A string field (missing or ill-typed: bad_request). ``invalid`` is the status for
    one that is not valid Unicode text: a field with a validation status of its own, such
    as bad_username, passes it here (docs/PROTOCOL.md §3)."""
    value = request.get(name)
    if not isinstance(value, str):
        raise BadRequest("'%s' must be a string" % name)
    if not is_text(value):
        raise BadRequest("'%s' is not valid Unicode text" % name, invalid)
    return value


def opt_str(request: Dict[str, Any], name: str, invalid: str = "bad_request") -> Optional[str]:
    if request.get(name) is None:
        return None
    return req_str(request, name, invalid)


def req_int(request: Dict[str, Any], name: str, lo: int = 0, hi: int = INT_MAX) -> int:
    value = request.get(name)
    if not _is_int(value):
        raise BadRequest("'%s' must be an integer" % name)
    return _in_range(name, value, lo, hi)


def opt_int(request: Dict[str, Any], name: str, default: Optional[int] = None,
            lo: int = 0, hi: int = INT_MAX) -> Optional[int]:
    if request.get(name) is None:
        return default
    return req_int(request, name, lo, hi)


def _in_range(name: str, value: int, lo: int, hi: int) -> int:
    if value < lo:
        raise BadRequest("'%s' must be at least %d" % (name, lo))
    if value > hi:
        raise BadRequest("'%s' must be at most %d" % (name, hi))
    return value


def valid_id(value: Any) -> bool:
    """docs/PROTOCOL.md §3: a string of at most 128 characters, or a finite number of
    magnitude at most 2^53 (so NaN, Infinity and 1e400, which Python's json reads as floats,
    are refused)."""
    if isinstance(value, str):
        return len(value) <= ID_MAX_CHARS and is_text(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return -ID_MAX_MAGNITUDE <= value <= ID_MAX_MAGNITUDE  # False for NaN; inf is out


def check_id(request: Dict[str, Any]) -> None:
    """Raise BadRequest when the request's id breaks docs/PROTOCOL.md §3; the id is removed
    first, since a reply cannot echo an id it could not send back safely."""
    if "id" in request and not valid_id(request["id"]):
        del request["id"]
        raise BadRequest("'id' must be a string of at most 128 characters or a finite "
                         "number of magnitude at most 2^53")


# Secrets that --trace must never print (docs/PROTOCOL.md §8).
SECRET_FIELDS = frozenset({"password", "code", "token", "old_password", "new_password"})


def masked(message: Dict[str, Any]) -> Dict[str, Any]:
    if SECRET_FIELDS.isdisjoint(message):
        return message
    return {k: ("***" if k in SECRET_FIELDS else v) for k, v in message.items()}


# -- wire shapes: every event and record the server sends is built here, once ------------

def message_event(msg_id: int, sender: str, recipient: Optional[str], text: str,
                  ts: float, room: Optional[int] = 1) -> Dict[str, Any]:
    """docs/PROTOCOL.md §5, §12: a chat message, live or in a history page; ``room`` is the
    room's id, or None for a private message."""
    return {"op": "message", "msg_id": msg_id, "from": sender, "to": recipient, "text": text,
            "ts": ts, "room": room}


def file_record(file_id: int, name: str, owner: str, size: int, sha256: str, type_: str,
                uploaded_at: float, visibility: str = "all") -> Dict[str, Any]:
    """docs/PROTOCOL.md §6, §11: a shared file as clients see it ("admins": a hand-in)."""
    return {"file_id": file_id, "name": name, "owner": owner, "size": size, "sha256": sha256,
            "type": type_, "uploaded_at": uploaded_at, "visibility": visibility}


def upload_done(request: Dict[str, Any], status: str,
                record: Optional[Dict[str, Any]] = None, message: Optional[str] = None
                ) -> Dict[str, Any]:
    """docs/PROTOCOL.md §6: the end of an upload, with the upload request's id."""
    done = reply_to({"op": "upload_done", "id": request["id"]} if "id" in request
                    else {"op": "upload_done"}, status, message)
    if record is not None:
        done["file"] = record
    return done


def member_record(username: str, online: bool, role: str) -> Dict[str, Any]:
    """docs/PROTOCOL.md §5 (members): one registered user in the member directory."""
    return {"user": username, "online": online, "role": role}


def conversation_record(peer: str, last_msg_id: int, last_ts: float,
                        unread: int) -> Dict[str, Any]:
    """docs/PROTOCOL.md §5 (conversations): a private conversation and its unread count."""
    return {"with": peer, "last_msg_id": last_msg_id, "last_ts": last_ts, "unread": unread}


def room_unread_record(room: int, last_msg_id: int, last_ts: float,
                       unread: int) -> Dict[str, Any]:
    """docs/PROTOCOL.md §5 (conversations): a room the caller is in and its unread count
    (last_msg_id 0: no message yet)."""
    return {"room": room, "last_msg_id": last_msg_id, "last_ts": last_ts, "unread": unread}


def logged_out_event(reason: str, by: Optional[str] = None) -> Dict[str, Any]:
    """docs/PROTOCOL.md §5: the session ended; ``reason`` says why (password_changed,
    password_reset), ``by`` who reset the password."""
    event: Dict[str, Any] = {"op": "logged_out", "reason": reason}
    if by is not None:
        event["by"] = by
    return event
