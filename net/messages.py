"""JSON bodies <-> dicts, request field checks, and the table of status codes.

Pure: no sockets. Every status code of SPEC §7 and its default sentence live in STATUSES,
the one place a client or the server looks them up.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

from net.framing import KIND_JSON, FramingError, encode_frame

# SPEC §7, with the sentence an error reply carries when the handler has nothing better to say.
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
    "forbidden": "Only the owner may do that.",
    "too_large": "The file is larger than this server accepts.",
    "busy": "A transfer is already running on this connection; open another one.",
    "storage_full": "The server's disk is full.",
    "checksum_mismatch": "The data did not match its SHA-256; it was discarded.",
}


class BadRequest(Exception):
    """A request field is missing or ill-typed (status bad_request, connection stays open)."""


def decode_body(body: bytes) -> Dict[str, Any]:
    """A J frame body as a request dict; raises FramingError when it breaks SPEC §2."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise FramingError("body is not valid UTF-8") from None
    try:
        message = json.loads(text)
    except ValueError:  # json.JSONDecodeError, and RecursionError's cousin for deep nesting
        raise FramingError("body is not valid JSON") from None
    except RecursionError:
        raise FramingError("body nests too deeply") from None
    if not isinstance(message, dict):
        raise FramingError("body is not a JSON object")
    if not isinstance(message.get("op"), str):
        raise FramingError("body has no string 'op'")
    return message


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_body(message: Dict[str, Any]) -> bytes:
    return _encoder.encode(message).encode("utf-8")


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

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def req_str(request: Dict[str, Any], name: str) -> str:
    value = request.get(name)
    if not isinstance(value, str):
        raise BadRequest("'%s' must be a string" % name)
    return value


def opt_str(request: Dict[str, Any], name: str) -> Optional[str]:
    value = request.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest("'%s' must be a string" % name)
    return value


def req_int(request: Dict[str, Any], name: str, lo: Optional[int] = None,
            hi: Optional[int] = None) -> int:
    value = request.get(name)
    if not _is_int(value):
        raise BadRequest("'%s' must be an integer" % name)
    return _in_range(name, value, lo, hi)


def opt_int(request: Dict[str, Any], name: str, default: Optional[int] = None,
            lo: Optional[int] = None, hi: Optional[int] = None) -> Optional[int]:
    value = request.get(name)
    if value is None:
        return default
    if not _is_int(value):
        raise BadRequest("'%s' must be an integer" % name)
    return _in_range(name, value, lo, hi)


def _in_range(name: str, value: int, lo: Optional[int], hi: Optional[int]) -> int:
    if lo is not None and value < lo:
        raise BadRequest("'%s' must be at least %d" % (name, lo))
    if hi is not None and value > hi:
        raise BadRequest("'%s' must be at most %d" % (name, hi))
    return value


def valid_id(value: Any) -> bool:
    """SPEC §3: a request id is any JSON number or string."""
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


# Secrets that --trace must never print (SPEC §8).
SECRET_FIELDS = frozenset({"password", "code", "token"})


def masked(message: Dict[str, Any]) -> Dict[str, Any]:
    if SECRET_FIELDS.isdisjoint(message):
        return message
    return {k: ("***" if k in SECRET_FIELDS else v) for k, v in message.items()}
