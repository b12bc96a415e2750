"""net/client.py against a scripted server on loopback: the connection's states, replies
matched to their request on (id, op), every other frame returned as an event, pending
requests answered when the connection closes, and the outbox reaching the wire whole and in
order however the kernel splits it. The server side is written with struct and json
directly, never with net/."""
import json
import socket
import struct
import time

import pytest

from net.client import ClientConnection, ConnectionState, wait_readable

J, B = 0x4A, 0x42
DEADLINE_S = 10.0


def frame(kind, body):
    return struct.pack(">BI", kind, len(body)) + body


def jframe(obj):
    return frame(J, json.dumps(obj).encode("utf-8"))


def poll_until(conn, condition, what):
    """Poll conn until condition() holds; returns what poll() returned meanwhile."""
    items = []
    deadline = time.monotonic() + DEADLINE_S
    while True:
        items += conn.poll()
        if condition(items):
            return items
        assert time.monotonic() < deadline, "never reached: " + what
        wait_readable([conn], 0.01)


class ScriptedServer:
    """The other end: one accepted socket; reads while polling the client (whose outbox only
    moves when it is polled), sends whole frames."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(DEADLINE_S)
        self.port = self.listener.getsockname()[1]
        self.sock = None
        self.received = bytearray()

    def accept(self, conn):
        poll_until(conn, lambda _: conn.state is not ConnectionState.CONNECTING, "connected")
        self.sock, _ = self.listener.accept()
        self.sock.settimeout(0.01)

    def receive(self, conn, n):
        """At least n bytes from the client, polling it meanwhile."""
        deadline = time.monotonic() + DEADLINE_S
        while len(self.received) < n:
            conn.poll()
            try:
                self.received += self.sock.recv(1 << 20)
            except socket.timeout:
                pass
            assert time.monotonic() < deadline, "the client sent only %d of %d bytes" % (
                len(self.received), n)

    def read_frame(self, conn):
        self.receive(conn, 5)
        kind, length = struct.unpack(">BI", self.received[:5])
        self.receive(conn, 5 + length)
        body = bytes(self.received[5:5 + length])
        del self.received[:5 + length]
        return kind, body

    def read_request(self, conn):
        kind, body = self.read_frame(conn)
        assert kind == J
        return json.loads(body.decode("utf-8"))

    def send(self, *objects):
        self.sock.sendall(b"".join(jframe(obj) for obj in objects))

    def close(self):
        for s in (self.sock, self.listener):
            if s is not None:
                s.close()


@pytest.fixture
def server():
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


@pytest.fixture
def conn(server):
    connection = ClientConnection("127.0.0.1", server.port)
    server.accept(connection)
    poll_until(connection, lambda _: connection.state is ConnectionState.OPEN, "open")
    yield connection
    connection.close()


def test_states_go_connecting_open_closed(server):
    conn = ClientConnection("127.0.0.1", server.port)
    assert conn.state is ConnectionState.CONNECTING and not conn.closed
    server.accept(conn)
    poll_until(conn, lambda _: conn.state is ConnectionState.OPEN, "open")
    conn.close()
    assert conn.state is ConnectionState.CLOSED and conn.closed and conn.error is None
    assert conn.poll() == []


def test_refused_connection_closes_and_says_why():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    conn = ClientConnection("127.0.0.1", port)
    poll_until(conn, lambda _: conn.closed, "closed")
    assert "nothing is listening" in conn.error


def test_server_closing_answers_every_pending_request(server, conn):
    replies = []
    first = conn.request("hello", replies.append)
    second = conn.request("users", replies.append)
    server.read_request(conn)
    server.sock.close()
    poll_until(conn, lambda _: conn.closed, "closed")
    assert [(r["id"], r["op"], r["status"]) for r in replies] == [
        (first, "hello", "disconnected"), (second, "users", "disconnected")]
    assert conn.error == "the server closed the connection"


def test_close_answers_pending_requests_and_queues_nothing_more(conn):
    replies = []
    conn.request("hello", replies.append)
    conn.close()
    assert [(r["op"], r["status"]) for r in replies] == [("hello", "disconnected")]
    conn.request("hello", replies.append)  # after close: dropped, never answered
    assert conn.outbox_bytes == 0 and len(replies) == 1


def test_reply_is_matched_on_id_and_op(server, conn):
    replies = []
    rid = conn.request("hello", replies.append)
    assert server.read_request(conn) == {"op": "hello", "id": rid}
    stray = {"op": "users", "id": rid, "status": "ok", "online": []}  # same id, another op
    server.send(stray)
    assert poll_until(conn, lambda items: items, "the stray frame") == [stray]
    assert replies == []
    reply = {"op": "hello", "id": rid, "status": "ok", "server": "scripted"}
    server.send(reply)
    assert poll_until(conn, lambda _: replies, "the reply") == []
    assert replies == [reply]


def test_upload_done_with_the_uploads_id_is_an_event_not_a_reply(server, conn):
    replies = []
    rid = conn.request("upload", replies.append, name="a.txt", size=1, sha256="0" * 64)
    server.read_request(conn)
    # upload_done carries the upload's id and a status but answers no request: even before
    # the upload's own reply it comes out of poll() as an event, and after it the same.
    done = {"op": "upload_done", "id": rid, "status": "ok", "file": {"file_id": 1}}
    reply = {"op": "upload", "id": rid, "status": "ok", "offset": 0}
    server.send(done, reply, done)
    events = poll_until(conn, lambda items: len(items) == 2, "two upload_done events")
    assert events == [done, done] and replies == [reply]


def test_events_and_binary_frames_come_out_of_poll_in_order(server, conn):
    server.sock.sendall(jframe({"op": "message", "msg_id": 1, "text": "hi"}) +
                        frame(B, b"\x00\x01chunk") + jframe({"op": "presence", "user": "x"}))
    items = poll_until(conn, lambda items: len(items) == 3, "three frames")
    assert items == [{"op": "message", "msg_id": 1, "text": "hi"}, b"\x00\x01chunk",
                     {"op": "presence", "user": "x"}]


@pytest.mark.parametrize("gather", [True, False], ids=["sendmsg", "send-per-chunk"])
def test_outbox_reaches_the_wire_whole_and_in_order(server, conn, gather, monkeypatch):
    """Far more than a socket buffer holds: the kernel takes it in parts over many polls.
    Without sendmsg (Windows, and TLS) the chunks go one send call at a time."""
    import net.client
    monkeypatch.setattr(net.client, "_HAS_SENDMSG", gather and net.client._HAS_SENDMSG)
    data = bytes(range(256)) * (12 * 1024)  # 3 MiB
    rid = conn.request("upload", None, name="big", size=len(data), sha256="0" * 64)
    conn.send_binary(data)
    conn.send_binary(b"tail")
    assert conn.outbox_bytes > len(data)
    assert server.read_request(conn) == {"op": "upload", "id": rid, "name": "big",
                                         "size": len(data), "sha256": "0" * 64}
    server.receive(conn, 2 * 5 + len(data) + 4)
    assert bytes(server.received) == frame(B, data) + frame(B, b"tail")
    poll_until(conn, lambda _: conn.outbox_bytes == 0, "an empty outbox")


LAST_WORD = {"op": "error", "status": "rate_limited", "retry_after": 5,
             "message": "Too many connections from your address; close some and try again."}


def test_last_word_is_kept_and_given_to_every_pending_request(server):
    """A refused connection (docs/PROTOCOL.md §3, §10): the server's error frame, then the
    close. Whoever waits for a reply learns why, not just "disconnected"."""
    conn = ClientConnection("127.0.0.1", server.port)
    server.accept(conn)
    server.send(LAST_WORD)
    server.sock.close()
    replies = []
    conn.request("login", replies.append, login="x", password="y")
    items = poll_until(conn, lambda _: conn.closed, "closed")
    assert items == [LAST_WORD] and conn.last_word == LAST_WORD
    assert replies == [{"op": "login", "id": replies[0]["id"], "status": "disconnected",
                        "message": conn.error, "last_word": LAST_WORD}]
    assert "Too many connections from your address" in conn.error


def test_last_word_is_read_even_when_sending_fails_first(server, conn, monkeypatch):
    """The server said why and closed before our next request went out: the send fails
    (a broken pipe), yet the last word waiting in the kernel is still read."""
    server.send(LAST_WORD)
    server.sock.close()

    def broken(*args):
        raise BrokenPipeError(32, "Broken pipe")
    monkeypatch.setattr(socket.socket, "sendmsg", broken)
    monkeypatch.setattr(socket.socket, "send", broken)
    replies = []
    conn.request("hello", replies.append)
    poll_until(conn, lambda _: conn.closed, "closed")
    assert conn.last_word == LAST_WORD and replies[0]["last_word"] == LAST_WORD


def test_a_failed_send_closes_the_connection_even_without_a_last_word(server, conn,
                                                                     monkeypatch):
    def broken(*args):
        raise ConnectionResetError(104, "Connection reset by peer")
    monkeypatch.setattr(socket.socket, "sendmsg", broken)
    monkeypatch.setattr(socket.socket, "send", broken)
    replies = []
    conn.request("hello", replies.append)
    poll_until(conn, lambda _: conn.closed, "closed")
    assert conn.last_word is None and "connection lost" in conn.error
    assert replies[0]["status"] == "disconnected" and "last_word" not in replies[0]
