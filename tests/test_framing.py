"""net/framing.py: every reader fed whole, one byte at a time, at every split point, with
trailing bytes, and fuzzed. Expected bytes are built with struct, not with the encoder."""
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from net.framing import (
    KIND_BINARY,
    KIND_JSON,
    MAX_CHUNK_BYTES,
    MAX_CLIENT_JSON_BYTES,
    Frame,
    FrameDecoder,
    FramingError,
    encode_frame,
)


def raw(kind: int, body: bytes) -> bytes:
    return struct.pack(">BI", kind, len(body)) + body


def drain(decoder: FrameDecoder):
    frames = []
    while True:
        f = decoder.next_frame()
        if f is None:
            return frames
        frames.append(f)


STREAM = raw(0x4A, b'{"op":"hello"}') + raw(0x42, b"\x00\x01\x02") + raw(0x4A, b'{"op":"x"}')
EXPECTED = [Frame(KIND_JSON, b'{"op":"hello"}'), Frame(KIND_BINARY, b"\x00\x01\x02"),
            Frame(KIND_JSON, b'{"op":"x"}')]


def test_encode_frame_matches_spec_layout():
    assert encode_frame(KIND_JSON, b"{}") == b"\x4a\x00\x00\x00\x02{}"


def test_decoder_whole_stream():
    d = FrameDecoder()
    d.feed(STREAM)
    assert drain(d) == EXPECTED
    assert d.buffered_bytes == 0


def test_decoder_one_byte_at_a_time():
    d = FrameDecoder()
    frames = []
    for i in range(len(STREAM)):
        d.feed(STREAM[i:i + 1])
        frames.extend(drain(d))
    assert frames == EXPECTED


def test_decoder_every_split_point():
    for cut in range(len(STREAM) + 1):
        d = FrameDecoder()
        d.feed(STREAM[:cut])
        frames = drain(d)
        d.feed(STREAM[cut:])
        frames.extend(drain(d))
        assert frames == EXPECTED, cut


def test_decoder_keeps_trailing_partial_frame():
    d = FrameDecoder()
    d.feed(STREAM + b"\x4a\x00\x00")
    assert drain(d) == EXPECTED
    assert d.has_partial and d.buffered_bytes == 3
    d.feed(b"\x00\x02{}")
    assert drain(d) == [Frame(KIND_JSON, b"{}")]


def test_fifty_frames_in_one_feed():
    d = FrameDecoder()
    d.feed(b"".join(raw(0x4A, b'{"op":"ping","id":%d}' % i) for i in range(50)))
    assert len(drain(d)) == 50


def test_decoder_rejects_oversize_json_length_before_body():
    d = FrameDecoder()
    d.feed(struct.pack(">BI", 0x4A, MAX_CLIENT_JSON_BYTES + 1))  # header only, no body
    with pytest.raises(FramingError):
        d.next_frame()


def test_decoder_accepts_json_at_exactly_the_limit():
    d = FrameDecoder()
    d.feed(raw(0x4A, b" " * MAX_CLIENT_JSON_BYTES))
    assert d.next_frame().body == b" " * MAX_CLIENT_JSON_BYTES


def test_decoder_rejects_oversize_chunk_before_body():
    d = FrameDecoder()
    d.feed(struct.pack(">BI", 0x42, MAX_CHUNK_BYTES + 1))
    with pytest.raises(FramingError):
        d.next_frame()


def test_decoder_rejects_empty_binary_frame():
    d = FrameDecoder()
    d.feed(struct.pack(">BI", 0x42, 0))
    with pytest.raises(FramingError):
        d.next_frame()


@pytest.mark.parametrize("kind", [0x00, 0x47, 0x6A, 0x62, 0xFF])
def test_decoder_rejects_unknown_kind_at_first_byte_with_header(kind):
    d = FrameDecoder()
    d.feed(bytes([kind]) + b"\x00\x00\x00\x01")
    with pytest.raises(FramingError):
        d.next_frame()


def test_http_request_is_refused():
    d = FrameDecoder()
    d.feed(b"GET / HTTP/1.1\r\n")
    with pytest.raises(FramingError):
        d.next_frame()


def test_buffer_stays_bounded_over_many_frames():
    d = FrameDecoder()
    body = b"x" * 1000
    for _ in range(5000):
        d.feed(raw(0x42, body) + raw(0x42, body)[:500])
        drain(d)
        d.feed(raw(0x42, body)[500:])
        drain(d)
        assert d.buffered_bytes < 2 * 1005
    assert len(d._buf) < 200_000


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(1, 40), max_size=20))
def test_fuzz_decoder_yields_frames_or_protocol_error(data, cuts):
    d = FrameDecoder(max_json_bytes=100, max_chunk_bytes=100)
    pos = 0
    try:
        for n in cuts + [len(data)]:
            d.feed(data[pos:pos + n])
            pos += n
            for f in drain(d):
                assert f.kind in (KIND_JSON, KIND_BINARY)
                assert len(f.body) <= 100
            assert d.buffered_bytes <= 105 + 40 + len(data)
    except FramingError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0x4A, 0x42]), st.binary(min_size=1, max_size=200)),
                max_size=10), st.integers(1, 50))
def test_fuzz_valid_streams_roundtrip_at_any_chunking(frames, step):
    stream = b"".join(raw(k, b) for k, b in frames)
    d = FrameDecoder()
    out = []
    for i in range(0, len(stream), step):
        d.feed(stream[i:i + step])
        out.extend(drain(d))
    assert out == [Frame(k, b) for k, b in frames]
