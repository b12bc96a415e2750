"""LAN discovery without a socket (docs/PROTOCOL.md §14): the probe and the answer as bytes,
what a server checks before it answers, the rate limits on answers, and the client's
collection of the answers it gets. Pure: bytes in, bytes or values out. The UDP sockets are
net/datagrams.py's.

    probe = encode_probe(nonce)                   client: one datagram, >= 512 bytes
    answer = responder.answer(probe, "10.0.0.7", now_s)   server: bytes to send back, or None
    found = collector.feed(answer, "10.0.0.1")    client: a Found, or None (not for us, or seen)

A datagram that is not a whole, valid probe (short, oversized, not UTF-8, not JSON, not the
right object, a nonce too long) is ignored without a word: on UDP nobody can be told, and an
answer to garbage would be a free reflector.
"""
from __future__ import annotations

import json
import secrets
import unicodedata
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, List, Optional

VERSION = 1
PROBE_OP = "discover"
ANSWER_OP = "here"
# §14: a probe is padded to at least this many bytes, and an answer is never larger than the
# probe it answers. So a forged source address earns its victim no more bytes than the forger
# sent: discovery cannot be used to amplify a flood.
PROBE_MIN_BYTES = 512
# The most one Ethernet frame carries (1500 - 20 IP - 8 UDP): a probe is one unfragmented
# datagram. Anything larger is not a probe, and the server reads no more than this plus one
# byte (to tell "larger" from "exactly this").
PROBE_MAX_BYTES = 1472
NONCE_MAX_CHARS = 64  # §14
# A server's name: long enough for "Room 204 — Mr Wang's Python class", short enough that an
# answer with a 64-character nonce still fits in a minimal probe.
NAME_MAX_CHARS = 64
# §14: answers at most this many per second to one source address, and in all. The second
# bounds what a flood of forged sources can make the server send to anyone.
ANSWERS_PER_SOURCE_PER_S = 10
ANSWERS_PER_S = 100
RATE_WINDOW_S = 1.0
# §14: how long a client collects answers after sending its probes.
COLLECT_S = 1.5
SERVICES = ("auth", "chat", "file")

_decoder = json.JSONDecoder()
# Characters never shown in a name: controls, and format characters (bidi overrides, zero
# width joiners) that could make one server's name look like another's.
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def new_nonce() -> str:
    """128 random bits as 32 hex characters: no answer meant for someone else matches."""
    return secrets.token_hex(16)


def _encode(obj: Dict[str, Any]) -> bytes:
    # Names are sent as UTF-8, not \\u escapes: a Chinese name costs 3 bytes a character, not 6.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _read_object(data: bytes) -> Optional[Dict[str, Any]]:
    """One UTF-8 JSON object, with nothing but spaces (the padding) around it."""
    try:
        text = data.decode("utf-8").strip(" ")
        value, end = _decoder.raw_decode(text)
    except ValueError:  # not UTF-8 (UnicodeDecodeError is a ValueError), or not JSON
        return None
    if end != len(text) or not isinstance(value, dict):
        return None
    return value


def _is_version(value: Any) -> bool:
    return type(value) is int and value == VERSION  # not True, not 1.0


def _is_text(value: Any) -> bool:
    """A str that is valid Unicode text (no lone surrogates from a "\\ud800" escape)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_nonce(value: Any) -> bool:
    return _is_text(value) and len(value) <= NONCE_MAX_CHARS


# -- the probe ------------------------------------------------------------------------------

def encode_probe(nonce: str) -> bytes:
    """{"op":"discover","v":1,"nonce":...} padded with spaces to PROBE_MIN_BYTES."""
    if not _is_nonce(nonce):
        raise ValueError("a nonce is text of at most %d characters" % NONCE_MAX_CHARS)
    data = _encode({"op": PROBE_OP, "v": VERSION, "nonce": nonce})
    return data + b" " * (PROBE_MIN_BYTES - len(data))


def read_probe(data: bytes) -> Optional[str]:
    """The nonce of a valid probe; None for anything else (to be ignored)."""
    if not PROBE_MIN_BYTES <= len(data) <= PROBE_MAX_BYTES:
        return None
    probe = _read_object(data)
    if probe is None or probe.get("op") != PROBE_OP or not _is_version(probe.get("v")):
        return None
    nonce = probe.get("nonce")
    return nonce if _is_nonce(nonce) else None


# -- the answer ----------------------------------------------------------------------------

def display_name(text: str) -> str:
    """A name as it may be shown: no control or format characters, runs of white space as
    one space, at most NAME_MAX_CHARS characters."""
    kept = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or unicodedata.category(ch) not in _HIDDEN_CATEGORIES)
    return " ".join(kept.split())[:NAME_MAX_CHARS]


def check_server_name(text: str) -> Optional[str]:
    """Why `text` cannot be a server's --name, or None when it can."""
    if not text.strip():
        return "the name is empty"
    if len(text) > NAME_MAX_CHARS:
        return "the name is longer than %d characters" % NAME_MAX_CHARS
    if display_name(text) != text.strip() or text != text.strip():
        return "the name has control or format characters, or extra spaces"
    return None


def encode_answer(nonce: str, name: str, services: Dict[str, int], fingerprint: Optional[str],
                  users_online: int, limit_bytes: int) -> Optional[bytes]:
    """The answer, at most limit_bytes long (the size of the probe). When it would be longer
    the name is shortened; when even no name would fit (a nonce of 64 characters that each
    need a 6-byte escape), None: no answer rather than one larger than the probe."""
    answer = {"op": ANSWER_OP, "v": VERSION, "nonce": nonce, "name": name,
              "services": {key: services[key] for key in SERVICES},
              "tls": fingerprint is not None, "fingerprint": fingerprint,
              "users_online": users_online}
    data = _encode(answer)
    if len(data) <= limit_bytes:
        return data
    answer["name"] = ""
    bare = _encode(answer)
    room = limit_bytes - len(bare)
    if room < 0:
        return None
    kept = []
    for ch in name:
        cost = len(_encode({"": ch})) - len(_encode({"": ""}))  # ch as it is escaped in JSON
        if cost > room:
            break
        kept.append(ch)
        room -= cost
    answer["name"] = "".join(kept)
    return _encode(answer)


class AnswerLimiter:
    """At most per_source answers to one address and total answers in all, in any window of
    window_s seconds. A sliding log, not a token bucket: a bucket of 10 lets 19 through in
    one second (10 at once, then the refill), the contract says 10.

    Memory is bounded by the limits, not by the flood: an address is kept only while one of
    its answers is inside the window, so at most `total` addresses, each with at most
    `per_source` times."""

    def __init__(self, per_source: int = ANSWERS_PER_SOURCE_PER_S,
                 total: int = ANSWERS_PER_S, window_s: float = RATE_WINDOW_S) -> None:
        self.per_source = per_source
        self.total = total
        self.window_s = window_s
        self._all: Deque[float] = deque()
        # source -> times of its answers in the window; ordered by each source's latest
        # answer, so the sources whose answers all left the window are at the front.
        self._by_source: "OrderedDict[str, Deque[float]]" = OrderedDict()

    def allow(self, source: str, now_s: float) -> bool:
        """Whether an answer to source may go now; counts it when it may."""
        horizon = now_s - self.window_s
        while self._all and self._all[0] <= horizon:
            self._all.popleft()
        while self._by_source:
            oldest = next(iter(self._by_source.values()))
            if oldest[-1] > horizon:
                break
            self._by_source.popitem(last=False)
        if len(self._all) >= self.total:
            return False
        times = self._by_source.get(source)
        if times is None:
            times = self._by_source[source] = deque()
        while times and times[0] <= horizon:
            times.popleft()
        if len(times) >= self.per_source:
            return False
        times.append(now_s)
        self._by_source.move_to_end(source)
        self._all.append(now_s)
        return True

    @property
    def sources(self) -> int:
        """Addresses remembered now (the tests check the bound)."""
        return len(self._by_source)


class Responder:
    """A server's side of discovery: answer(data, source, now_s) -> the bytes to send back to
    source, or None to ignore the datagram. users_online() is asked at each answer."""

    def __init__(self, name: str, services: Dict[str, int], fingerprint: Optional[str],
                 users_online: Callable[[], int],
                 limiter: Optional[AnswerLimiter] = None) -> None:
        self.name = name
        self.services = {key: int(services[key]) for key in SERVICES}
        self.fingerprint = fingerprint  # SHA-256 hex of the certificate; None: no TLS
        self.users_online = users_online
        self.limiter = limiter or AnswerLimiter()

    def answer(self, data: bytes, source: str, now_s: float) -> Optional[bytes]:
        nonce = read_probe(data)
        if nonce is None or not self.limiter.allow(source, now_s):
            return None
        return encode_answer(nonce, self.name, self.services, self.fingerprint,
                             self.users_online(), len(data))


# -- the client's side ---------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """One server that answered: where it is (the answer's source address and its auth port)
    and what it said about itself."""

    name: str
    host: str
    auth_port: int
    chat_port: int
    file_port: int
    tls: bool
    fingerprint: Optional[str]  # 64 lower-case hex digits, as announced: NOT verified
    users_online: int

    @property
    def server(self) -> str:
        """host:port, as the login form's server field takes it."""
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s:%d" % (host, self.auth_port)

    @property
    def label(self) -> str:
        return self.name or self.host


def _port(value: Any) -> Optional[int]:
    if type(value) is int and 1 <= value <= 65535:
        return value
    return None


def _fingerprint(value: Any) -> Optional[str]:
    """64 hex digits (pairs may be separated by colons), lower case; None when not one."""
    if not isinstance(value, str) or len(value) > 95:
        return None
    digits = value.replace(":", "").lower()
    if len(digits) != 64 or any(ch not in "0123456789abcdef" for ch in digits):
        return None
    return digits


def read_answer(data: bytes, nonce: str, source: str,
                limit_bytes: int = PROBE_MIN_BYTES) -> Optional[Found]:
    """A Found for a valid answer to the probe with this nonce, from `source`; None for
    anything else (another client's answer, a larger answer than our probe, garbage)."""
    if len(data) > limit_bytes:
        return None
    answer = _read_object(data)
    if answer is None or answer.get("op") != ANSWER_OP or not _is_version(answer.get("v")):
        return None
    if answer.get("nonce") != nonce:
        return None
    name, services = answer.get("name"), answer.get("services")
    tls, users = answer.get("tls"), answer.get("users_online")
    if not isinstance(name, str) or not isinstance(services, dict) or not isinstance(tls, bool):
        return None
    if type(users) is not int or users < 0:
        return None
    ports = [_port(services.get(key)) for key in SERVICES]
    if None in ports:
        return None
    fingerprint = None
    if tls:
        fingerprint = _fingerprint(answer.get("fingerprint"))
        if fingerprint is None:
            return None
    return Found(display_name(name), source, ports[0], ports[1], ports[2], tls, fingerprint,
                 users)


class Collector:
    """The answers to one round of probes. feed(data, source) returns a Found the first time
    a server answers (a server that hears the probe on two broadcast addresses answers
    twice), None otherwise; `found` lists them by name."""

    def __init__(self, nonce: str, probe_bytes: int = PROBE_MIN_BYTES) -> None:
        self.nonce = nonce
        self.probe_bytes = probe_bytes
        self._found: Dict[tuple, Found] = {}

    def feed(self, data: bytes, source: str) -> Optional[Found]:
        found = read_answer(data, self.nonce, source, self.probe_bytes)
        if found is None:
            return None
        key = (found.host, found.auth_port)
        if key in self._found:
            self._found[key] = found  # the latest count of users online
            return None
        self._found[key] = found
        return found

    @property
    def found(self) -> List[Found]:
        return sorted(self._found.values(), key=sort_key)


def sort_key(found: Found) -> tuple:
    return (found.label.casefold(), found.host, found.auth_port)
