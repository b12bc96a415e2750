"""The frame inspector (Network → Inspector): the Tk-free presenter with a fake view, the
session's observer hook (on every connection, open now or later; None when closed), and the
real window under Xvfb, with --chaos on both ends."""
import json
import time
import weakref

import pytest

from net.chaos import Chaos
from net.client import Direction
from net.framing import KIND_BINARY, KIND_JSON
from tests.conftest import register
from ui.i18n import Catalog
from ui.presenters.inspector import MAX_SHOWN_ROWS, InspectorPresenter
from ui.session import Session


class View:
    """A fake InspectorView: the table as a dict, and the last texts shown."""

    def __init__(self):
        self.rows = {}
        self.detail = self.status = ""
        self.paused = None
        self.added = 0

    def add_rows(self, rows):
        for number, cells in rows:
            self.rows[number] = cells
        self.added += len(rows)

    def remove_rows(self, numbers):
        for n in numbers:
            del self.rows[n]

    def clear_rows(self):
        self.rows.clear()

    def show_detail(self, text):
        self.detail = text

    def show_status(self, text):
        self.status = text

    def show_paused(self, paused):
        self.paused = paused


class Conn:
    """A stand-in ClientConnection: a label, an observer, requests that go nowhere."""

    closed = False

    def __init__(self, service):
        self.service = service
        self.observer = None

    def request(self, op, callback=None, **fields):
        pass


def body(message):
    return json.dumps(message, separators=(",", ":")).encode()


def presenter(language="en"):
    p = InspectorPresenter(Catalog(language), clock=lambda: 1764169937.25)
    view = View()
    p.attach(view)
    return p, view


def test_rows_show_direction_connection_kind_length_reads_op_and_preview():
    p, view = presenter()
    auth, chat = Conn("auth"), Conn("chat")
    hello = body({"op": "hello", "id": 1})
    p.on_frame(auth, Direction.OUT, KIND_JSON, memoryview(hello), {"op": "hello", "id": 1}, 0)
    reply = {"op": "say", "id": 9, "status": "ok", "msg_id": 1}
    p.on_frame(chat, Direction.IN, KIND_JSON, body(reply), reply, 3)
    p.on_frame(chat, Direction.IN, KIND_BINARY, bytes(range(40)), None, 1)
    assert view.rows == {}  # drawn on the tick, not inside the network poll
    p.flush()
    assert view.rows[1][1:] == ("→ out", "auth#1", "J", "21", "", "hello",
                                '{"op":"hello","id":1}')
    assert view.rows[2][1:7] == ("← in", "chat#1", "J", str(len(body(reply))), "3", "say ok")
    assert view.rows[3][1:6] == ("← in", "chat#1", "B", "40", "1")
    assert view.rows[3][7] == " ".join("%02x" % b for b in range(16))
    assert view.rows[1][0].endswith(".250")
    assert view.status == "3 of 3 frames shown"


def test_secrets_are_masked_and_their_bytes_not_kept():
    p, view = presenter()
    login = {"op": "login", "id": 5, "login": "alice", "password": "hunter2 secret"}
    p.on_frame(Conn("auth"), Direction.OUT, KIND_JSON, body(login), login, 0)
    token = {"op": "login", "id": 5, "status": "ok", "token": "T0KEN-very-secret"}
    p.on_frame(Conn("auth"), Direction.IN, KIND_JSON, body(token), token, 1)
    p.flush()
    shown = repr(view.rows) + repr(list(p.frames))
    assert "hunter2" not in shown and "T0KEN" not in shown and '"password":"***"' in shown
    assert login["password"] == "hunter2 secret"  # the session's own dict is untouched
    p.select(1)
    assert "not shown: it carries a password" in view.detail and "hunter2" not in view.detail
    p.select(2)
    assert "T0KEN" not in view.detail


def test_hex_view_explains_the_header_of_the_selected_frame():
    p, view = presenter()
    hello = body({"op": "hello", "id": 1})  # docs/PROTOCOL.md Part II.1: 21 bytes
    p.on_frame(Conn("auth"), Direction.IN, KIND_JSON, hello, {"op": "hello", "id": 1}, 2)
    p.flush()
    assert view.detail == "Select a frame to see its bytes."
    p.select(1)
    lines = view.detail.splitlines()
    assert lines[0].startswith("#1 ") and "arrived in 2 recv() calls" in lines[0]
    assert lines[1:3] == ["Header, 5 bytes:", "  4a 00 00 00 15"]
    assert lines[3] == "  │  └─────────┘ length 0x00000015 = 21 bytes of body"
    assert lines[4] == "  └─ kind 0x4a 'J': a JSON object follows"
    assert lines[5] == "Body:"
    assert lines[6] == '  7b 22 6f 70 22 3a 22 68 65 6c 6c 6f 22 2c 22 69  {"op":"hello","i'
    assert lines[7] == '  64 22 3a 31 7d' + " " * 35 + 'd":1}'
    assert len(lines) == 8  # all of it shown: no "first n of" note
    p.select(99)  # gone or never there: nothing changes
    assert view.detail.splitlines()[2] == "  4a 00 00 00 15"


def test_hex_view_in_chinese():
    p, view = presenter("zh")
    p.on_frame(Conn("file"), Direction.OUT, KIND_BINARY, b"x" * 100, None, 0)
    p.flush()
    p.select(1)
    assert view.detail.splitlines()[1:3] == ["帧头，5 字节：", "  42 00 00 00 64"]
    assert "类型 0x42 'B'" in view.detail and "前 32 字节，共 100 字节" in view.detail
    assert view.rows[1][1] == "→ 发"


def test_pause_stops_recording_and_says_how_many_were_missed():
    p, view = presenter()
    conn = Conn("chat")
    event = {"op": "message", "text": "hi"}
    p.on_frame(conn, Direction.IN, KIND_JSON, body(event), event, 1)
    p.toggle_pause()
    assert view.paused is True
    for _ in range(4):
        p.on_frame(conn, Direction.IN, KIND_JSON, body(event), event, 1)
    p.flush()
    assert len(view.rows) == 1 and view.status == "Paused: 4 frames not recorded"
    p.toggle_pause()
    p.on_frame(conn, Direction.IN, KIND_JSON, body(event), event, 1)
    p.flush()
    assert sorted(view.rows) == [1, 2] and view.paused is False
    assert view.status == "2 of 2 frames shown"


def test_filter_clear_and_the_bounded_table():
    p, view = presenter()
    chat = Conn("chat")
    for i in range(MAX_SHOWN_ROWS + 50):
        op = "message" if i % 2 else "ping"
        p.on_frame(chat, Direction.IN, KIND_JSON, body({"op": op}), {"op": op}, 1)
        if i % 100 == 0:
            p.flush()
    p.flush()
    assert len(view.rows) == MAX_SHOWN_ROWS  # the oldest rows left the table
    assert min(view.rows) == 51 and max(view.rows) == MAX_SHOWN_ROWS + 50
    p.set_filter("  MESSAGE ")
    assert len(view.rows) == (MAX_SHOWN_ROWS + 50) // 2
    assert all(cells[6] == "message" for cells in view.rows.values())
    assert view.status == "%d of %d frames shown" % (len(view.rows), MAX_SHOWN_ROWS + 50)
    p.set_filter("chat#1")
    assert len(view.rows) == MAX_SHOWN_ROWS
    p.set_filter("")
    p.clear()
    assert view.rows == {} and view.status == "0 of 0 frames shown"


def test_a_closed_inspector_records_nothing():
    p, view = presenter()
    p.close()
    p.on_frame(Conn("auth"), Direction.IN, KIND_JSON, body({"op": "x"}), {"op": "x"}, 1)
    p.flush()
    assert not p.frames and view.rows == {}


def test_session_observer_reaches_every_connection_now_and_later_and_none_clears_it():
    opened = []

    def connect(host, port, **kw):
        opened.append(Conn("?"))
        return opened[-1]
    session = Session("127.0.0.1", 9999, connect=connect)
    session.hello()
    assert opened[0].service == "auth" and opened[0].observer is None

    def seen(*frame):
        pass
    session.observe(seen)
    assert opened[0].observer is seen
    session.token = "t"
    transfer = session.open_file_connection()  # a transfer's own connection
    assert transfer.service == "file" and transfer.observer is seen
    session.observe(None)
    assert [c.observer for c in opened] == [None, None]
    del transfer, opened[:]  # a connection nobody holds is not kept alive by the session
    assert list(session._opened) == [session.auth_conn]


def test_real_connection_reports_every_frame_once_and_nothing_when_unhooked(server):
    user = register(server)
    frames = []
    session = Session("127.0.0.1", server.auth)
    session.observe(lambda c, d, kind, body, message, reads: frames.append(
        (c.service, d, kind, len(body), message and message.get("op"), reads)))
    replies = []
    session.login(user["username"], user["password"], replies.append)
    deadline = time.monotonic() + 10
    while session.state != "online" and time.monotonic() < deadline:
        session.poll()
        time.sleep(0.005)
    assert session.state == "online"
    ops = [(s, d.value, op) for s, d, _, _, op, _ in frames]
    assert ("auth", "out", "login") in ops and ("auth", "in", "login") in ops
    assert ("chat", "out", "auth") in ops and ("chat", "in", "auth") in ops
    assert ("file", "out", "auth") in ops
    assert all(reads >= 1 for _, d, _, _, _, reads in frames if d is Direction.IN)
    session.observe(None)
    count = len(frames)
    session.say("unseen", None)
    for _ in range(50):
        session.poll()
        time.sleep(0.005)
    assert len(frames) == count
    session.close()


# -- the window ---------------------------------------------------------------------------

def menu_command(app, cascade, label):
    bar = app.menubar
    for i in range(bar.index("end") + 1):
        if bar.type(i) == "cascade" and bar.entrycget(i, "label") == cascade:
            menu = bar.nametowidget(bar.entrycget(i, "menu"))
            for j in range(menu.index("end") + 1):
                if menu.type(j) == "command" and menu.entrycget(j, "label") == label:
                    return lambda: menu.invoke(j)
    raise AssertionError("no menu %s → %s" % (cascade, label))


def pump(app, condition, timeout_s=15.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while not condition():
        app.root.update()
        if time.monotonic() > deadline:
            raise TimeoutError("GUI never reached: " + what)
        time.sleep(0.005)


@pytest.mark.gui
def test_inspector_window_under_chaos_on_both_ends(xvfb, monkeypatch, tmp_path, make_server):
    monkeypatch.setenv("DISPLAY", xvfb.display)
    monkeypatch.setenv("CHATROOM_CONFIG_DIR", str(tmp_path / "config"))
    tk = pytest.importorskip("tkinter")
    from ui.settings import ClientSettings
    from ui.tk.app import App
    srv = make_server("--chaos", "13", "--flood-limit", "0")
    user = register(srv)
    app = App(tk.Tk(), ClientSettings(server="127.0.0.1:%d" % srv.auth), "en",
              str(tmp_path / "c.json"), chaos=Chaos(14))
    root = weakref.ref(app.root)
    try:
        use_the_inspector(app, user)
    finally:
        app.quit()
    del app
    assert root() is None, "a Tk root outlived its App"


def use_the_inspector(app, user):
    if True:
        app.login_view.login.set(user["username"])
        app.login_view.password.set(user["password"])
        app.login_view.submit_button.invoke()
        pump(app, lambda: app.chat is not None and app.session.state == "online",
             what="online")
        menu_command(app, "Network", "Inspector…")()
        view = app.inspector_view
        assert view is not None and view.window.title() == "Frame inspector — chatroom"
        for i in range(30):
            app.session.say("through the inspector %d" % i, None)
        pump(app, lambda: sum(view.tree.set(item, "op") == "message"
                              for item in view.tree.get_children()) >= 30, what="30 messages")
        rows = [view.tree.set(item) for item in view.tree.get_children()]
        assert sum(r["op"] == "say" and r["dir"] == "→ out" for r in rows) == 30
        assert sum(r["op"] == "say ok" for r in rows) == 30
        messages = [r for r in rows if r["op"] == "message"]
        assert all(r["conn"] == "chat#1" and r["kind"] == "J" for r in messages)
        assert max(int(r["reads"]) for r in messages) > 1  # chaos split some of them
        first = view.tree.get_children()[0]
        view.tree.selection_set(first)
        pump(app, lambda: "\n  4a 00 00 00" in view.detail.get("1.0", "end"),
             what="the hex view")
        view.filter.set("say ok")
        pump(app, lambda: len(view.tree.get_children()) == 30, what="the filter")
        view.filter.set("")
        view.pause_button.invoke()
        assert view.pause_button.cget("text") == "Resume"
        shown = len(view.tree.get_children())
        app.session.say("while paused", None)
        pump(app, lambda: "Paused: 3 frames not recorded" in view.status.cget("text"),
             what="paused count")  # say, its reply, the message event
        assert len(view.tree.get_children()) == shown
        view.pause_button.invoke()
        app.logout()  # the token goes out masked
        pump(app, lambda: any(view.tree.set(i, "op") == "logout"
                              for i in view.tree.get_children()), what="logout row")
        logout = [view.tree.set(i) for i in view.tree.get_children()
                  if view.tree.set(i, "op") == "logout"][0]
        assert '"token":"***"' in logout["preview"] and user["token"] not in logout["preview"]
        view.close()  # the user closes the window: the next tick unhooks the session
        pump(app, lambda: app.inspector is None, what="unhooked")
        assert all(c.observer is None for c in app.session._opened)


def test_a_broken_observer_is_unhooked_and_the_connection_goes_on(server, caplog):
    from net.client import ClientConnection, wait_readable

    def broken(*frame):
        raise RuntimeError("inspector bug")
    conn = ClientConnection("127.0.0.1", server.auth)
    conn.observer = broken
    replies = []
    conn.request("hello", replies.append)
    assert conn.observer is None  # the bug showed on the way out
    conn.observer = broken
    deadline = time.monotonic() + 10
    while not replies and time.monotonic() < deadline:
        conn.poll()
        wait_readable([conn], 0.01)
    assert replies[0]["status"] == "ok" and conn.observer is None
    assert caplog.text.count("the frame observer failed; it is unhooked") == 2
    conn.close()
