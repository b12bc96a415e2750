"""net/connection.py and net/outbox.py: the outbox keeps chunks as given and partial sends keep
their tail; next_message turns bytes into requests without a socket."""
import json
import struct

import pytest

from net.connection import (
    OUTBOX_CUTOFF_BYTES,
    OUTBOX_HIGH_BYTES,
    OUTBOX_LOW_BYTES,
    Connection,
    Phase,
)
from net.framing import FramingError
from net.outbox import SEND_BATCH_CHUNKS


def conn():
    return Connection("127.0.0.1:1", "127.0.0.1", None, 65536, 0.0)


def test_outbox_shares_queued_bytes_without_copying():
    shared = b"event"
    a, b = conn(), conn()
    a.queue(shared)
    b.queue(shared)
    assert a.pending_chunks()[0] is shared and b.pending_chunks()[0] is shared


def test_partial_send_keeps_the_tail_in_order():
    c = conn()
    c.queue(b"abc")
    c.queue(b"defg")
    c.consume(4)
    assert b"".join(bytes(x) for x in c.pending_chunks()) == b"efg"
    assert c.outbox_bytes == 3
    c.consume(3)
    assert not c.wants_write and c.pending_chunks() == []


def test_pending_chunks_is_batched():
    c = conn()
    for _ in range(SEND_BATCH_CHUNKS + 10):
        c.queue(b"x")
    assert len(c.pending_chunks()) == SEND_BATCH_CHUNKS


def test_water_marks_pause_and_resume_reading_with_hysteresis():
    c = conn()
    c.queue(b"x" * (OUTBOX_HIGH_BYTES + 1))
    c.update_flow()
    assert not c.wants_read
    c.consume(OUTBOX_HIGH_BYTES + 1 - (OUTBOX_LOW_BYTES + 1))
    c.update_flow()
    assert not c.wants_read  # between the marks: still paused
    c.consume(1)
    c.update_flow()
    assert c.wants_read


def test_cutoff_and_closing_state():
    c = conn()
    c.queue(b"x" * (OUTBOX_CUTOFF_BYTES + 1))
    assert c.over_cutoff
    c.discard_outbox()
    c.phase = Phase.CLOSED
    c.queue(b"late")
    assert c.outbox_bytes == 0 and not c.wants_read and not c.may_take_frame


def test_held_peer_reads_ahead_only_one_frame():
    c = conn()
    c.holds = 1
    assert c.wants_read and not c.may_take_frame
    c.decoder.feed(b"B" + (2 ** 20).to_bytes(4, "big") + b"x" * (2 ** 20))
    assert not c.wants_read


def j(obj):
    body = json.dumps(obj).encode("utf-8")
    return struct.pack(">BI", 0x4A, len(body)) + body


def drain(c):
    out = []
    while True:
        message = c.next_message()
        if message is None:
            return out
        out.append(message)


@pytest.mark.parametrize("split", ["whole", "bytes", "trailing"])
def test_next_message_turns_bytes_into_requests_and_chunks(split):
    data = j({"op": "a", "id": 1}) + struct.pack(">BI", 0x42, 3) + b"xyz" + j({"op": "b"})
    c = conn()
    got = []
    if split == "whole":
        c.decoder.feed(data)
        got = drain(c)
    elif split == "bytes":
        for i in range(len(data)):
            c.decoder.feed(data[i:i + 1])
            got += drain(c)
    else:
        c.decoder.feed(data + b"J\x00")
        got = drain(c)
        assert c.decoder.has_partial
    assert got == [{"op": "a", "id": 1}, b"xyz", {"op": "b"}]


def test_next_message_waits_while_held_or_closing():
    c = conn()
    c.decoder.feed(j({"op": "a"}) * 2)
    c.holds = 1
    assert c.next_message() is None
    c.holds = 0
    assert c.next_message() == {"op": "a"}
    c.phase = Phase.CLOSING
    assert c.next_message() is None


def test_next_message_raises_on_a_body_that_is_no_request():
    c = conn()
    c.decoder.feed(struct.pack(">BI", 0x4A, 3) + b"[1]")
    with pytest.raises(FramingError):
        c.next_message()


def test_next_message_keeps_an_op_that_is_not_text_answerable():
    c = conn()
    c.decoder.feed(struct.pack(">BI", 0x4A, 16) + b'{"op":"\\ud800x"}')
    assert c.next_message() == {"op": "\\ud800x"}
