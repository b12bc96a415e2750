"""net/connection.py: the outbox keeps chunks as given and partial sends keep their tail."""
from net.connection import (
    OUTBOX_CUTOFF_BYTES,
    OUTBOX_HIGH_BYTES,
    OUTBOX_LOW_BYTES,
    SEND_BATCH_CHUNKS,
    Connection,
)


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
    c.closing = "abort"
    c.queue(b"late")
    assert c.outbox_bytes == 0 and not c.wants_read and not c.may_take_frame


def test_held_peer_reads_ahead_only_one_frame():
    c = conn()
    c.holds = 1
    assert c.wants_read and not c.may_take_frame
    c.decoder.feed(b"B" + (2 ** 20).to_bytes(4, "big") + b"x" * (2 ** 20))
    assert not c.wants_read
