"""ui/session.py against a real server: the limits of docs/PROTOCOL.md §10 as the clients meet
them. A refused connection is explained and retried after a pause that grows (never in a
tight loop), a token logged out elsewhere ends the session for good, and the file list comes
in pages (§6). No display needed."""
import time

import pytest

import ui.session
from net.client import wait_readable
from tests.conftest import file_client, register
from tests.wire import Closed, WireClient
from ui.i18n import Catalog
from ui.presenters.common import status_text
from ui.session import (
    REFUSED_RETRY_S,
    QuietListener,
    Refusal,
    Session,
    refusal_of,
    retry_after_s,
)

DEADLINE_S = 10.0


class Recorder(QuietListener):
    def __init__(self):
        self.states = []
        self.ended = []
        self.files = []

    def on_state(self, state, detail):
        self.states.append((state, detail))

    def on_logged_out(self, status):
        self.ended.append(status)

    def on_files(self, files, more):
        self.files.append((files, more))


class Clock:
    """A clock the test moves: the session's pauses pass only when the test says so."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def new_session(srv, clock=None):
    """A session whose connection attempts are counted."""
    listener = Recorder()
    opened = []

    def connect(*args, **kw):
        conn = ui.session.ClientConnection(*args, **kw)
        opened.append(conn)
        return conn
    session = Session("127.0.0.1", srv.auth, listener, clock=clock or time.monotonic,
                      connect=connect)
    return session, listener, opened


def pump(session, condition, what, timeout_s=DEADLINE_S):
    deadline = time.monotonic() + timeout_s
    while not condition():
        session.poll()
        assert time.monotonic() < deadline, "never reached: " + what
        wait_readable(session.connections(), 0.01)


def pump_for(session, seconds):
    """Poll for a while (real time): what a GUI does between two of the session's pauses."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        session.poll()
        wait_readable(session.connections(), 0.01)


def login(session, user):
    replies = []
    session.login(user["username"], user["password"], replies.append)
    pump(session, lambda: replies, "the login reply")
    return replies[0]


def release_connections(srv, held):
    """Close connections from hold_connections and wait until the server has seen every one
    close (its log at DEBUG says so), so that what the test does next is not refused by a
    close still on its way."""
    ports = [c.sock.getsockname()[1] for c in held]
    for c in held:
        c.close()
    for port in ports:
        srv.wait_log(r"chat 127\.0\.0\.1:%d closed" % port)


def hold_connections(srv, n):
    """n connections the server has accepted, each answered a hello. One the server refuses
    (it has not yet seen an earlier test connection close) is tried again."""
    held = []
    deadline = time.monotonic() + DEADLINE_S
    while len(held) < n:
        c = WireClient(srv.chat)
        try:
            assert c.request("hello")["status"] == "ok"
            held.append(c)
        except (Closed, OSError):  # refused: its error frame, then a close or a reset
            c.close()
            assert time.monotonic() < deadline, "the server never took %d connections" % n
            time.sleep(0.02)
    return held


def test_refusal_and_retry_after_are_read_from_replies_and_last_words():
    last_word = {"op": "error", "status": "rate_limited", "message": "too many", "retry_after": 5}
    assert refusal_of({"op": "login", "status": "disconnected", "last_word": last_word}) \
        is Refusal.ADDRESS
    assert refusal_of({"op": "auth", "status": "rate_limited", "retry_after": 5}) \
        is Refusal.ACCOUNT
    assert refusal_of({"op": "login", "status": "rate_limited", "retry_after": 5}) is None
    assert refusal_of({"op": "login", "status": "disconnected", "message": "lost"}) is None
    assert retry_after_s({"status": "disconnected", "last_word": last_word}) == 5
    assert retry_after_s({"status": "rate_limited", "retry_after": 0.2}) == 1
    for hostile in (None, "5", True, float("inf"), float("nan")):
        assert retry_after_s({"status": "rate_limited", "retry_after": hostile}) is None
    assert retry_after_s({"status": "rate_limited", "retry_after": 1e300}) == 24 * 3600


@pytest.mark.parametrize("lang,expected", [
    ("en", "Too many connections from this computer"), ("zh", "这台电脑的连接太多了")])
def test_login_over_the_per_address_cap_is_explained(make_server, lang, expected):
    srv = make_server("--max-conns-per-ip", "2")
    user = register(srv)
    held = hold_connections(srv, 2)
    try:
        session, _, _ = new_session(srv)
        reply = login(session, user)
        assert reply["status"] == "disconnected" and refusal_of(reply) is Refusal.ADDRESS
        assert expected in status_text(Catalog(lang), reply)
        session.close()
    finally:
        for c in held:
            c.close()


def test_refused_service_connection_backs_off_instead_of_looping(make_server):
    """Login takes the auth connection; with two allowed per address, the chat or the file
    connection is refused. The session says so, waits REFUSED_RETRY_S and then twice that,
    and gets online once a connection is freed."""
    srv = make_server("--max-conns-per-ip", "2")
    user = register(srv)
    clock = Clock()
    session, listener, opened = new_session(srv, clock)
    assert login(session, user)["status"] == "ok"
    pump(session, lambda: session.state == "reconnecting", "the refusal")
    assert session.refusal is Refusal.ADDRESS
    assert listener.states[-1] == ("reconnecting", "%d" % REFUSED_RETRY_S)
    attempts = len(opened)  # auth, chat, files
    pump_for(session, 0.5)
    assert len(opened) == attempts, "reconnected before the pause was over"

    clock.now += REFUSED_RETRY_S
    pump(session, lambda: len(opened) == attempts + 2, "the second try")
    pump(session, lambda: session.state == "reconnecting", "the second refusal")
    assert session.refusal is Refusal.ADDRESS
    assert listener.states[-1] == ("reconnecting", "%d" % (2 * REFUSED_RETRY_S))

    session.auth_conn.close()  # frees a connection: chat and file now fit
    deadline = time.monotonic() + DEADLINE_S
    while session.state != "online":
        clock.now += 60
        session.poll()
        assert time.monotonic() < deadline, "never online again"
        wait_readable(session.connections(), 0.01)
    assert session.refusal is None
    session.close()


def test_per_user_cap_refusal_is_the_accounts(make_server):
    srv = make_server("--max-conns-per-user", "1")
    user = register(srv)
    clock = Clock()
    session, listener, _ = new_session(srv, clock)
    assert login(session, user)["status"] == "ok"
    pump(session, lambda: session.state == "reconnecting", "the refusal")
    assert session.refusal is Refusal.ACCOUNT
    assert int(listener.states[-1][1]) >= REFUSED_RETRY_S
    text = Catalog("en")(session.refusal.value)
    assert "Too many connections for this account" in text
    session.close()


def test_logged_out_elsewhere_ends_the_session_without_reconnecting(server):
    user = register(server)
    clock = Clock()
    session, listener, opened = new_session(server, clock)
    assert login(session, user)["status"] == "ok"
    pump(session, lambda: session.state == "online", "online")
    with WireClient(server.auth) as other_window:
        assert other_window.request("logout", token=session.token)["status"] == "ok"
    pump(session, lambda: listener.ended, "logged_out")
    assert listener.ended == ["logged_out"]
    assert session.state == "offline" and session.token is None
    attempts = len(opened)
    clock.now += 3600
    pump_for(session, 0.3)
    assert len(opened) == attempts and session.state == "offline"
    session.close()


def test_file_list_comes_in_pages_and_list_all_files_is_bounded(make_server, monkeypatch):
    srv = make_server()
    user = register(srv)
    with file_client(srv, user) as c:
        for i in range(5):
            assert c.upload("f%d.txt" % i, b"x" * (i + 1))["status"] == "ok"
    session, listener, _ = new_session(srv)
    assert login(session, user)["status"] == "ok"
    pump(session, lambda: listener.files, "the first page")
    assert [f["name"] for f in listener.files[0][0]][:1] == ["f4.txt"]

    pages = []
    session.list_files(pages.append, limit=2)
    pump(session, lambda: pages, "a page")
    assert [f["name"] for f in pages[0]["files"]] == ["f4.txt", "f3.txt"] and pages[0]["more"]
    session.list_files(pages.append, before=pages[0]["files"][-1]["file_id"], limit=2)
    pump(session, lambda: len(pages) == 2, "the next page")
    assert [f["name"] for f in pages[1]["files"]] == ["f2.txt", "f1.txt"] and pages[1]["more"]

    monkeypatch.setattr(ui.session, "LIST_LIMIT_MAX", 2)
    every = []
    session.list_all_files(every.append)
    pump(session, lambda: every, "every page")
    assert [f["name"] for f in every[0]["files"]] == ["f%d.txt" % i for i in range(4, -1, -1)]
    assert every[0]["more"] is False

    monkeypatch.setattr(ui.session, "ALL_FILES_MAX_PAGES", 2)
    bounded = []
    session.list_all_files(bounded.append)
    pump(session, lambda: bounded, "two pages")
    assert len(bounded[0]["files"]) == 4 and bounded[0]["more"] is True
    session.close()



def test_a_refused_transfer_waits_and_says_why(make_server, tmp_path):
    """The chat and file connections take the user's two; a transfer's own connection is
    refused. It waits REFUSED_RETRY_S (not the usual 2 s) and its row can say why."""
    from ui.transfers import TransferQueue, Upload
    srv = make_server("--max-conns-per-user", "2")
    user = register(srv)
    session, listener, _ = new_session(srv)
    assert login(session, user)["status"] == "ok"
    # 'online' says the chat connection is in; the first file list, that the file connection
    # is too. Before that, the transfer's connection could win the race for the second slot.
    pump(session, lambda: listener.files, "both connections in")
    clock = Clock()
    queue = TransferQueue(session.open_file_connection, clock=clock)
    (tmp_path / "a.txt").write_bytes(b"a" * 100)
    upload = queue.add(Upload(str(tmp_path / "a.txt"), "a.txt"))

    def refused():
        queue.step()
        return upload.state == "waiting" and upload.retries == 1

    pump(session, refused, "the transfer refused")
    assert upload.refusal is Refusal.ACCOUNT
    assert upload.retry_at - clock.now >= REFUSED_RETRY_S
    session.close()


# -- the teacher's controls (docs/PROTOCOL.md §11) -------------------------------------------

class ClassRecorder(Recorder):
    def __init__(self):
        super().__init__()
        self.kicked = []
        self.moderation = []

    def on_kicked(self, event):
        self.kicked.append(event)

    def on_moderation(self, event):
        self.moderation.append(event)


def test_role_quiet_mute_and_a_kick_that_ends_the_session_for_good(make_server):
    from tests.conftest import chat_client, new_identity
    teacher_name = new_identity()[0]
    srv = make_server("--admin", teacher_name)
    teacher, student = register(srv, teacher_name, new_identity()[1]), register(srv)
    clock = Clock()
    session, _, opened = new_session(srv, clock)
    listener = session.listener = ClassRecorder()
    assert login(session, student)["status"] == "ok"
    pump(session, lambda: session.state == "online", "online")
    assert session.role == "member" and not session.is_admin and not session.quiet
    with chat_client(srv, teacher) as t:
        assert t.request("quiet", on=True)["status"] == "ok"
        reply = t.request("mute", user=student["username"], minutes=5)
        pump(session, lambda: len(listener.moderation) == 2, "two moderation events")
        assert session.quiet and session.muted_until == reply["until"]
        assert session.is_known_admin(teacher_name.upper())
        answers = []
        session.say("hello?", None, answers.append)
        pump(session, lambda: answers, "the say refused")
        assert answers[0]["status"] == "muted" and 240 < session.muted_s() <= 300
        assert t.request("kick", user=student["username"], minutes=10,
                         reason="spam")["status"] == "ok"
    pump(session, lambda: listener.kicked, "kicked")
    assert listener.kicked[0]["reason"] == "spam" and listener.kicked[0]["until"] > 0
    assert session.state == "offline" and session.token is None and listener.ended == []
    attempts = len(opened)
    clock.now += 3600  # however long we wait, nothing reconnects
    pump_for(session, 0.3)
    assert len(opened) == attempts and session.state == "offline"
    reply = login(session, student)
    assert reply["status"] == "banned" and 540 <= retry_after_s(reply) <= 600
    session.close()


class FakeConn:
    """A connection the test drives: replies to auth at once, then whatever it is given."""

    def __init__(self, service):
        self.service = service
        self.closed = False
        self.incoming = []

    def request(self, op, callback=None, **fields):
        if callback is not None:
            callback({"op": op, "status": "ok", "online": [], "history": [], "role": "member",
                      "quiet": False, "token": "t", "user_id": 1001, "username": "ann",
                      "services": {"chat": 2, "file": 3}, "files": [], "more": False})

    def poll(self, limit=None):
        items, self.incoming = self.incoming, []
        return items

    def close(self):
        self.closed = True


def test_a_file_connection_closed_first_waits_for_the_chats_last_word():
    """A kick closes the chat and the file connections in one turn of the server's loop,
    and the end of the file connection may arrive before the chat's `kicked`: the session
    waits for it instead of reconnecting with a dead token."""
    clock = Clock()
    conns = []

    def connect(host, port, tls=None):
        conns.append(FakeConn(port))
        return conns[-1]
    session = Session("127.0.0.1", 1, clock=clock, connect=connect)
    listener = session.listener = ClassRecorder()
    session.login("ann", "pw", lambda reply: None)
    chat, files = conns[1], conns[2]
    assert session.state == "online"
    files.closed = True  # its end arrived first
    session.poll()
    clock.now += 0.5
    session.poll()
    assert session.state == "online" and len(conns) == 3  # not given up on the chat yet
    chat.incoming.append({"op": "kicked", "by": "teacher", "reason": "", "until": 0})
    session.poll()
    assert listener.kicked and session.state == "offline" and listener.ended == []
    clock.now += 60
    session.poll()
    assert len(conns) == 3  # and nothing reconnects

    # without a last word, the session reconnects once the moment has passed
    session = Session("127.0.0.1", 1, clock=clock, connect=connect)
    session.login("ann", "pw", lambda reply: None)
    conns[-1].closed = True
    session.poll()
    clock.now += ui.session.LAST_WORD_WAIT_S
    session.poll()
    assert session.state == "reconnecting"


class VerdictConn(FakeConn):
    """A file connection whose server is fast: upload_done comes back in the very poll
    that sends the last bytes."""

    def __init__(self):
        super().__init__("file")
        self.outbox_bytes = 0
        self.sent = b""

    def request(self, op, callback=None, **fields):
        if op == "upload":
            self.upload = fields
            callback({"op": "upload", "status": "ok", "offset": 0})

    def send_binary(self, data):
        self.sent += data

    def poll(self, limit=None):
        if self.sent and len(self.sent) == self.upload["size"] and not self.incoming:
            self.incoming.append({"op": "upload_done", "status": "ok",
                                  "file": {"file_id": 1, "name": "hw.txt"}})
            self.sent += b"!"  # once
        return super().poll()


def test_an_upload_verdict_in_the_poll_that_sends_the_last_bytes_is_not_lost(tmp_path):
    """A small hand-in on loopback: the server's upload_done arrived in the same poll that
    sent the bytes, and the transfer waited for it forever."""
    from ui.transfers import HAND_IN, TransferQueue, Upload
    (tmp_path / "hw.txt").write_bytes(b"my answers")
    conns = []

    def opener(on_auth):
        conns.append(VerdictConn())
        return conns[-1]
    queue = TransferQueue(opener)
    upload = queue.add(Upload(str(tmp_path / "hw.txt"), "hw.txt", HAND_IN))
    for _ in range(10):
        queue.step()
    assert upload.state == "done" and upload.record == {"file_id": 1, "name": "hw.txt"}
    assert conns[0].upload["visibility"] == "admins"
