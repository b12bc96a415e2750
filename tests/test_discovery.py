"""net/discovery.py without a socket (docs/PROTOCOL.md §14): probes and answers as bytes, the
nonce rules, the size rules, the rate limiter and the client's collection. Expected bytes are
written out here with json and str methods, never with the encoder under test."""
import json

import pytest

from net.discovery import (
    ANSWERS_PER_S,
    ANSWERS_PER_SOURCE_PER_S,
    NAME_MAX_CHARS,
    PROBE_MAX_BYTES,
    PROBE_MIN_BYTES,
    AnswerLimiter,
    Collector,
    Responder,
    check_server_name,
    display_name,
    encode_answer,
    encode_probe,
    new_nonce,
    read_answer,
    read_probe,
)

SERVICES = {"auth": 9999, "chat": 9998, "file": 9988}
FINGERPRINT = "ab" * 32


def probe_bytes(obj, size=PROBE_MIN_BYTES, raw=None):
    """A probe as a client would send it: compact JSON padded with spaces."""
    body = raw if raw is not None else json.dumps(obj, separators=(",", ":")).encode("utf-8")
    return body + b" " * (size - len(body))


def probe(nonce="n1", size=PROBE_MIN_BYTES):
    return probe_bytes({"op": "discover", "v": 1, "nonce": nonce}, size)


def answer_bytes(**changes):
    obj = {"op": "here", "v": 1, "nonce": "n1", "name": "Room 204", "services": dict(SERVICES),
           "tls": True, "fingerprint": FINGERPRINT, "users_online": 3}
    obj.update(changes)
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def responder(name="Room 204", fingerprint=None, users=lambda: 0, **limits):
    return Responder(name, SERVICES, fingerprint, users, AnswerLimiter(**limits))


# -- probes ---------------------------------------------------------------------------------

def test_encoded_probe_is_the_json_object_padded_with_spaces_to_512_bytes():
    data = encode_probe("abc")
    expected = b'{"op":"discover","v":1,"nonce":"abc"}'
    assert data == expected + b" " * (512 - len(expected))


@pytest.mark.parametrize("size", [PROBE_MIN_BYTES, 513, 1000, PROBE_MAX_BYTES])
def test_a_whole_probe_of_any_allowed_size_gives_its_nonce(size):
    assert read_probe(probe("xyz", size)) == "xyz"


def test_the_encoder_and_the_reader_agree():
    nonce = new_nonce()
    assert len(nonce) == 32 and read_probe(encode_probe(nonce)) == nonce


@pytest.mark.parametrize("size", [0, 1, 100, PROBE_MIN_BYTES - 1])
def test_short_datagrams_are_ignored(size):
    body = b'{"op":"discover","v":1,"nonce":"n"}'
    data = (body + b" " * size)[:size]
    assert read_probe(data) is None


def test_every_cut_of_a_minimal_probe_is_ignored():
    data = probe("n" * 64)
    assert len(data) == PROBE_MIN_BYTES
    for cut in range(len(data)):
        assert read_probe(data[:cut]) is None, cut


def test_a_probe_cut_inside_its_json_is_ignored_even_when_long_enough():
    data = probe_bytes({"op": "discover", "v": 1, "nonce": "n", "note": "x" * 900}, 1000)
    assert read_probe(data) == "n"  # extra fields are tolerated
    for cut in range(PROBE_MIN_BYTES, len(data.rstrip(b" "))):
        assert read_probe(data[:cut]) is None, cut


def test_oversized_datagrams_are_ignored():
    assert read_probe(probe("n", PROBE_MAX_BYTES)) == "n"
    assert read_probe(probe("n", PROBE_MAX_BYTES + 1)) is None
    assert read_probe(probe("n", 65507)) is None


@pytest.mark.parametrize("raw", [
    b"\xff\xfe not utf-8",
    b"not json at all",
    b'["discover", 1, "n"]',
    b'"discover"',
    b'{"op":"discover","v":1,"nonce":"n"} trailing',
    b'{"op":"discover","v":1,"nonce":"n"}{"op":"discover"}',
    b'\t{"op":"discover","v":1,"nonce":"n"}',
    b'{"op":"discover","v":1,"nonce":"n"}\n',
    b'{"op":"discover","v":1,"nonce":"n"',
    b'{"op":"hello","v":1,"nonce":"n"}',
    b'{"op":"discover","v":2,"nonce":"n"}',
    b'{"op":"discover","v":true,"nonce":"n"}',
    b'{"op":"discover","v":1.0,"nonce":"n"}',
    b'{"op":"discover","v":"1","nonce":"n"}',
    b'{"op":"discover","nonce":"n"}',
    b'{"op":"discover","v":1}',
    b'{"op":"discover","v":1,"nonce":7}',
    b'{"op":"discover","v":1,"nonce":null}',
    b'{"op":"discover","v":1,"nonce":["n"]}',
    b'{"op":"discover","v":1,"nonce":"\\ud800"}',
    b'{"op":"discover","v":1,"nonce":"' + b"n" * 65 + b'"}',
    b'{"op":"DISCOVER","v":1,"nonce":"n"}',
])
def test_anything_else_is_ignored(raw):
    assert read_probe(probe_bytes(None, raw=raw)) is None


def test_padding_is_spaces_on_either_side():
    body = b'{"op":"discover","v":1,"nonce":"n"}'
    assert read_probe(b" " * 300 + body + b" " * 300) == "n"
    assert read_probe(body + b"\0" * 500) is None


@pytest.mark.parametrize("nonce", ["", "a", "n" * 64, "编号" * 32, "\u0001" * 64, "a b"])
def test_nonces_of_up_to_64_characters_are_accepted(nonce):
    raw = json.dumps({"op": "discover", "v": 1, "nonce": nonce}).encode("utf-8")
    assert read_probe(probe_bytes(None, raw=raw)) == nonce


def test_the_encoder_refuses_a_nonce_the_reader_would_ignore():
    with pytest.raises(ValueError):
        encode_probe("n" * 65)
    with pytest.raises(ValueError):
        encode_probe(7)


# -- answers --------------------------------------------------------------------------------

def test_answer_has_every_field_of_the_contract_and_echoes_the_nonce():
    data = responder(fingerprint=FINGERPRINT, users=lambda: 5).answer(probe("q7"), "10.0.0.7",
                                                                       0.0)
    assert json.loads(data.decode("utf-8")) == {
        "op": "here", "v": 1, "nonce": "q7", "name": "Room 204", "services": SERVICES,
        "tls": True, "fingerprint": FINGERPRINT, "users_online": 5}


def test_answer_without_tls_has_a_null_fingerprint():
    answer = json.loads(responder().answer(probe(), "10.0.0.7", 0.0))
    assert answer["tls"] is False and answer["fingerprint"] is None


def test_answer_is_not_padded_and_never_larger_than_the_probe():
    small = responder().answer(probe("n", PROBE_MIN_BYTES), "a", 0.0)
    large = responder().answer(probe("n", PROBE_MAX_BYTES), "a", 0.0)
    assert small == large and len(small) < PROBE_MIN_BYTES


def test_the_longest_name_and_nonce_fit_a_minimal_probe_for_ordinary_text():
    for name in ("x" * NAME_MAX_CHARS, "李老师的课堂" * 10 + "李老师的"):
        data = encode_answer("n" * 64, name, SERVICES, FINGERPRINT, 10 ** 6, PROBE_MIN_BYTES)
        assert len(data) <= PROBE_MIN_BYTES
        assert json.loads(data)["name"] == name


def test_a_name_that_does_not_fit_is_shortened_never_the_answer_enlarged():
    name = "😀" * NAME_MAX_CHARS  # 4 bytes each
    data = encode_answer("n" * 64, name, SERVICES, FINGERPRINT, 7, PROBE_MIN_BYTES)
    assert len(data) <= PROBE_MIN_BYTES
    shown = json.loads(data)["name"]
    assert shown and name.startswith(shown) and len(shown) < len(name)
    assert len(encode_answer("n" * 64, name + "x", SERVICES, FINGERPRINT, 7,
                             PROBE_MIN_BYTES + 200)) > PROBE_MIN_BYTES  # room: all of it


def test_no_answer_when_even_an_empty_name_would_not_fit():
    nonce = "\u0001" * 64  # 6 bytes each as JSON: \u0001
    raw = json.dumps({"op": "discover", "v": 1, "nonce": nonce}).encode()
    data = probe_bytes(None, raw=raw)
    assert len(data) == PROBE_MIN_BYTES and read_probe(data) == nonce
    assert responder(fingerprint=FINGERPRINT).answer(data, "a", 0.0) is None
    # the same nonce in a larger probe: answered, and still not larger than it
    big = probe_bytes(None, 700, raw=raw)
    answer = responder(fingerprint=FINGERPRINT).answer(big, "a", 0.0)
    assert json.loads(answer)["nonce"] == nonce and len(answer) <= 700


def test_users_online_is_asked_at_each_answer():
    count = iter(range(10))
    r = responder(users=lambda: next(count))
    assert [json.loads(r.answer(probe(), "a", 0.0))["users_online"] for _ in range(3)] == \
        [0, 1, 2]


def test_malformed_probes_are_not_answered_and_cost_no_rate_slot():
    r = responder(per_source=1)
    assert r.answer(b"x" * 600, "a", 0.0) is None
    assert r.answer(probe("n", 400), "a", 0.0) is None
    assert r.answer(probe(), "a", 0.0) is not None


# -- the rate limiter -----------------------------------------------------------------------

def test_limiter_allows_ten_answers_per_second_to_one_address():
    limiter = AnswerLimiter()
    assert ANSWERS_PER_SOURCE_PER_S == 10
    assert [limiter.allow("a", 0.01 * i) for i in range(15)] == [True] * 10 + [False] * 5
    assert limiter.allow("b", 0.2)  # another address is not affected


def test_limiter_window_slides_it_is_not_a_bucket_that_refills():
    limiter = AnswerLimiter()
    for i in range(10):
        assert limiter.allow("a", 0.0 + i * 0.01)
    assert not limiter.allow("a", 0.5)
    assert not limiter.allow("a", 0.99)
    assert limiter.allow("a", 1.0)       # the first answer has left the window
    assert limiter.allow("a", 1.011)
    assert not limiter.allow("a", 1.015)  # 10 in the last second again
    # at no time were more than 10 answers inside any one second
    times = []
    limiter = AnswerLimiter()
    for i in range(400):
        if limiter.allow("a", i * 0.01):
            times.append(i * 0.01)
    assert all(sum(1 for t in times if s <= t < s + 1.0) <= 10 for s in times)


def test_limiter_allows_one_hundred_answers_per_second_in_all():
    limiter = AnswerLimiter()
    assert ANSWERS_PER_S == 100
    allowed = sum(limiter.allow("10.0.%d.%d" % (i // 200, i % 200), 0.001 * i)
                  for i in range(300))
    assert allowed == 100
    assert limiter.allow("10.9.9.9", 1.1)


def test_limiter_memory_is_bounded_by_the_limits_not_by_the_flood():
    limiter = AnswerLimiter()
    for i in range(100000):
        limiter.allow("src%d" % i, i * 0.0001)
    assert limiter.sources <= ANSWERS_PER_S
    limiter.allow("late", 100.0)
    assert limiter.sources == 1


# -- the client's side ----------------------------------------------------------------------

def test_read_answer_gives_where_the_server_is_and_what_it_said():
    found = read_answer(answer_bytes(), "n1", "10.0.0.1")
    assert found.host == "10.0.0.1" and found.server == "10.0.0.1:9999"
    assert (found.chat_port, found.file_port, found.users_online) == (9998, 9988, 3)
    assert found.tls and found.fingerprint == FINGERPRINT and found.name == "Room 204"


@pytest.mark.parametrize("changes", [
    {"nonce": "other"}, {"op": "discover"}, {"v": 2}, {"v": True},
    {"services": {"auth": 9999, "chat": 9998}}, {"services": {"auth": 0, "chat": 1, "file": 2}},
    {"services": {"auth": "9999", "chat": 9998, "file": 9988}}, {"services": []},
    {"tls": "yes"}, {"fingerprint": None}, {"fingerprint": "abc"}, {"fingerprint": "zz" * 32},
    {"users_online": -1}, {"users_online": "3"}, {"users_online": 2.5}, {"name": 5},
])
def test_read_answer_ignores_answers_not_for_us_or_not_well_formed(changes):
    assert read_answer(answer_bytes(**changes), "n1", "10.0.0.1") is None


def test_read_answer_ignores_an_answer_larger_than_the_probe():
    data = answer_bytes(name="x" * 40)
    assert read_answer(data, "n1", "h", limit_bytes=len(data)) is not None
    assert read_answer(data + b" ", "n1", "h", limit_bytes=len(data)) is None


def test_fingerprint_is_normalized_and_ignored_without_tls():
    colons = ":".join(["AB"] * 32)
    assert read_answer(answer_bytes(fingerprint=colons), "n1", "h").fingerprint == FINGERPRINT
    plain = read_answer(answer_bytes(tls=False, fingerprint="junk"), "n1", "h")
    assert plain.fingerprint is None and not plain.tls


def test_names_are_shown_without_control_or_format_characters():
    found = read_answer(answer_bytes(name="Evil\u202e\u0007 \n Room" + "x" * 80), "n1", "h")
    assert found.name == "Evil Room" + "x" * (NAME_MAX_CHARS - 9)
    assert display_name("  a\t\tb  ") == "a b"


def test_collector_reports_each_server_once_and_lists_them_by_name():
    c = Collector("n1")
    assert c.feed(answer_bytes(name="b"), "10.0.0.2") is not None
    assert c.feed(answer_bytes(name="b"), "10.0.0.2") is None  # heard on two broadcasts
    assert c.feed(answer_bytes(name="A"), "10.0.0.3") is not None
    assert c.feed(answer_bytes(nonce="n2"), "10.0.0.4") is None
    assert c.feed(b"garbage", "10.0.0.5") is None
    assert [f.name for f in c.found] == ["A", "b"]


def test_found_server_text_brackets_ipv6():
    found = read_answer(answer_bytes(), "n1", "fe80::1")
    assert found.server == "[fe80::1]:9999"


@pytest.mark.parametrize("name, ok", [("Room 204", True), ("李老师的课堂", True), ("", False),
                                      ("  ", False), ("x" * 65, False), ("a\u202eb", False),
                                      ("a  b", False), (" a", False), ("x" * 64, True)])
def test_server_names(name, ok):
    assert (check_server_name(name) is None) is ok
