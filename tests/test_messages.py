"""net/messages.py: body decoding, body encoding, replies, field readers, masking."""
import json
import random

import pytest

from net.framing import FramingError
from net.messages import (
    STATUSES,
    BadRequest,
    decode_body,
    encode_body,
    encode_message,
    masked,
    opt_int,
    reply_to,
    req_int,
    req_str,
)

# docs/PROTOCOL.md §7.
PROTOCOL_STATUSES = ("ok bad_frame bad_request unknown_op unauthorized rate_limited internal_error "
                 "bad_username bad_password bad_phone bad_email bad_code username_taken "
                 "phone_taken sms_failed bad_credentials no_such_user not_found forbidden "
                 "too_large busy storage_full checksum_mismatch quota_exceeded muted "
                     "banned not_member room_taken bad_room_name").split()


def test_every_protocol_status_has_a_sentence():
    assert sorted(STATUSES) == sorted(PROTOCOL_STATUSES)
    assert all(STATUSES[s].endswith(".") for s in STATUSES)


@pytest.mark.parametrize("body", [b"\xff\xfe", b"{", b"[1,2]", b'"op"', b"{}", b'{"op":1}',
                                  b'{"op":null}', b"[" * 100000])
def test_decode_body_rejects_what_the_protocol_calls_a_framing_violation(body):
    with pytest.raises(FramingError):
        decode_body(body)


def test_decode_body_accepts_object_with_op_and_extras():
    assert decode_body('{"op":"hi","x":[1],"t":"é"}'.encode()) == {"op": "hi", "x": [1], "t": "é"}


def test_reply_keeps_op_and_id_and_adds_message_on_error():
    assert reply_to({"op": "say", "id": "a"}) == {"op": "say", "id": "a", "status": "ok"}
    r = reply_to({"op": "say"}, "rate_limited", retry_after=3)
    assert r["message"] == STATUSES["rate_limited"] and r["retry_after"] == 3 and "id" not in r


def test_encode_message_is_compact_utf8_frame():
    data = encode_message({"op": "x", "t": "你好"})
    assert data[:1] == b"J" and int.from_bytes(data[1:5], "big") == len(data) - 5
    assert "你好".encode() in data


def test_field_readers():
    assert req_str({"a": "x"}, "a") == "x"
    with pytest.raises(BadRequest):
        req_str({"a": 1}, "a")
    with pytest.raises(BadRequest):
        req_int({"a": True}, "a")  # JSON true is not a number
    with pytest.raises(BadRequest):
        opt_int({"a": 0}, "a", lo=1)
    assert opt_int({}, "a", 50) == 50


def test_masked_hides_secrets_only():
    m = {"op": "login", "login": "bob", "password": "pw", "token": "t", "code": "1"}
    assert masked(m) == {"op": "login", "login": "bob", "password": "***", "token": "***",
                         "code": "***"}


def _random_value(rng, depth=0):
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.randrange(-10 ** 12, 10 ** 12)
    if kind == 1:
        return rng.random() * 1e6
    if kind == 2:
        return "".join(chr(rng.choice([0x41, 0x22, 0x5C, 0x0A, 0x7F, 0xE9, 0x4E2D, 0x1F600]))
                       for _ in range(rng.randrange(6)))
    if kind == 3:
        return rng.choice([None, True, False])
    if kind == 4:
        return ""
    if kind == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {"k%d\u00e9" % i: _random_value(rng, depth + 1) for i in range(rng.randrange(4))}


def test_encode_body_is_compact_utf8_json_as_json_dumps_makes_it():
    # encode_body keeps one C encoder for every message (issue 22): the bytes must be those
    # of the plain json.dumps with our options, whatever the message holds.
    rng = random.Random(22)
    for _ in range(500):
        message = {"op": "x", "v": _random_value(rng)}
        assert encode_body(message) == json.dumps(
            message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    for bad in (float("nan"), float("inf"), object()):
        with pytest.raises((ValueError, TypeError)):
            encode_body({"op": "x", "v": bad})
