"""The member directory, message search, passwords and unread counts in the clients
(docs/PROTOCOL.md §5, "Directory, search, unread, passwords"; issue 20, problem 4): the
presenters with fake views, the terminal client, and the real Tk windows under Xvfb against a
real server."""
import io

import pytest

from tests.conftest import PASSWORD, chat_client, register
from tests.test_gui import login_via_gui, pump, tk_env  # noqa: F401  (tk_env: a fixture)
from tests.test_presenters import FakeApp, FakeSession, Recorder, message
from tests.wire import WireClient
from ui.i18n import Catalog
from ui.presenters.chat import ChatPresenter
from ui.presenters.directory import (
    MembersPresenter,
    PasswordPresenter,
    ReadMarks,
    SearchPresenter,
)
from ui.session import Session

NEW_PASSWORD = "a fresh one 2"


def requests_of(session, op):
    return [request[1] for request in session.requests + session.background
            if request[0] == op]


# -- presenters ------------------------------------------------------------------------------

def test_members_are_asked_once_per_answer_for_the_latest_text():
    session, view, opened = FakeSession(), Recorder(), []
    members = MembersPresenter(Catalog("en"), session, opened.append, opened.append)
    members.attach(view)
    assert requests_of(session, "members") == [{"query": "", "limit": 200}]
    members.search("b")
    members.search("bo ")  # typed while the first is on its way: waits for its answer
    assert len(requests_of(session, "members")) == 1
    session.callbacks["members"]({"status": "ok", "members": [], "more": False})
    assert requests_of(session, "members")[-1] == {"query": "bo", "limit": 200}
    assert view.count("show_members") == 0  # the stale answer is not drawn
    session.callbacks["members"]({"status": "ok", "more": False, "members": [
        {"user": "bob", "online": True, "role": "member"},
        {"user": "me", "online": True, "role": "admin"},
        {"user": "Bodhi", "online": False, "role": "member"}]})
    rows, note = view.last("show_members")
    assert rows == [("bob", "bob", "online", "", True), ("me", "me (you)", "online", "Teacher",
                                                         True),
                    ("Bodhi", "Bodhi", "offline", "", False)]
    assert note == ""
    members.message("Bodhi")  # offline: a private conversation all the same
    members.message("me")
    assert opened == ["Bodhi"]
    assert "That is you" in view.last("show_error")[0]
    members.reset("bob")  # only a teacher resets
    assert opened == ["Bodhi"]
    assert view.last("set_admin") == (False,)


def test_members_say_when_the_list_is_not_everyone_or_a_request_failed():
    session, view = FakeSession(), Recorder()
    members = MembersPresenter(Catalog("zh"), session, print, print)
    members.attach(view)
    session.callbacks["members"]({"status": "ok", "more": True, "members": [
        {"user": "bob", "online": False, "role": "admin"}]})
    rows, note = view.last("show_members")
    assert rows == [("bob", "bob", "离线", "老师", False)] and "缩小范围" in note
    members.search("x")
    session.callbacks["members"]({"op": "members", "status": "rate_limited", "retry_after": 3})
    assert "3" in view.last("show_error")[0]


def test_search_checks_the_text_and_jumps_to_the_conversation():
    session, view, jumps = FakeSession(), Recorder(), []
    search = SearchPresenter(Catalog("en"), session, lambda *where: jumps.append(where),
                             lambda room: "Physics")
    search.attach(view)
    search.search("   ")
    search.search("x" * 201)
    assert [args[0][:4] for n, args in view.calls if n == "show_error"] == ["Type", "Sear"]
    assert requests_of(session, "search") == []
    search.search(" waves ")
    assert requests_of(session, "search") == [{"text": "waves", "limit": 50}]
    session.callbacks["search"]({"status": "ok", "more": True, "messages": [
        message(9, "bob", "me", "waves\nand more"), dict(message(7, "ann", None, "waves"),
                                                         room=12),
        dict(message(5, "me", "cat", "waves?"), room=None), message(3, "ann", None, "waves")]})
    rows, note = view.last("show_results")
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        (9, "Private: bob", "bob", "waves and more"), (7, "Physics", "ann", "waves"),
        (5, "Private: cat", "me", "waves?"), (3, "Everyone", "ann", "waves")]
    assert note == "4 messages found (newest first)." and view.last("set_more") == (True,)
    for msg_id in (9, 7, 5, 3):
        search.open(msg_id)
    assert jumps == [("bob", None), (None, 12), ("cat", None), (None, 1)]
    search.load_older()
    assert requests_of(session, "search")[-1] == {"text": "waves", "limit": 50, "before": 3}
    older = session.callbacks["search"]
    search.search("other")  # a new search: the older page of the old one is dropped
    older({"status": "ok", "more": False, "messages": [message(1, "ann", None, "waves")]})
    assert len(view.last("show_results")[0]) == 4
    session.callbacks["search"]({"status": "ok", "more": False, "messages": []})
    assert view.last("show_results") == ([], "No message contains “other”.")


def test_password_dialog_checks_before_asking_and_says_what_happened():
    session, view = FakeSession(), Recorder()
    change = PasswordPresenter(Catalog("en"), session)
    change.attach(view)
    change.submit("", NEW_PASSWORD, NEW_PASSWORD)
    change.submit(PASSWORD, "short", "short")
    change.submit(PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert [args[0][:8] for n, args in view.calls if n == "show_error"] == [
        "Enter yo", "That pas", "The two "]
    assert requests_of(session, "change_password") == []
    change.submit(PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert requests_of(session, "change_password") == [
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD}]
    assert view.last("set_busy") == (True,)
    session.callbacks["change_password"]({"status": "bad_credentials"})
    assert view.last("show_error") == ("The current password is wrong.",)
    assert view.last("set_busy") == (False,)
    change.submit(PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    session.callbacks["change_password"]({"status": "ok"})
    assert "Password changed" in view.last("done")[0]
    reset = PasswordPresenter(Catalog("zh"), session, user="bob")
    reset.attach(view)
    reset.submit("", NEW_PASSWORD, NEW_PASSWORD)  # a reset asks no current password
    assert requests_of(session, "reset_password") == [{"user": "bob",
                                                       "new_password": NEW_PASSWORD}]
    session.callbacks["reset_password"]({"status": "forbidden"})
    assert "老师" in view.last("show_error")[0]


def test_read_marks_send_only_what_is_news():
    session = FakeSession()
    session.mark_read = Session.mark_read.__get__(session)  # the real request it makes
    marks = ReadMarks(session)
    assert marks.seen("bob", "bob", None, 5)
    assert not marks.seen("bob", "bob", None, 5)
    assert not marks.seen("bob", "bob", None, 4)
    assert marks.seen("", None, 1, 7)
    assert requests_of(session, "mark_read") == [{"msg_id": 5, "with": "bob"},
                                                 {"msg_id": 7, "room": 1}]


def test_login_lists_old_private_chats_with_unread_counts_and_marks_what_is_shown():
    """Issue 20, problem 4: a private conversation older than the welcome's 50 messages, and
    what arrived while we were away, are in the list at login; what is shown is marked read."""
    app, view = FakeApp(), Recorder()
    session = app.session
    chat = ChatPresenter(app, session, view)
    chat.on_welcome({"online": ["me"], "history": [message(90, "ann", None, "lobby")],
                     "rooms": [{"room": 1, "name": "lobby"},
                               {"room": 12, "name": "Physics", "members": 3}]})
    assert ("conversations", {}) in session.background
    session.callbacks["conversations"]({"status": "ok", "private": [
        {"with": "bob", "last_msg_id": 40, "last_ts": 1.0, "unread": 2}], "rooms": [
        {"room": 1, "last_msg_id": 90, "last_ts": 2.0, "unread": 7},
        {"room": 12, "last_msg_id": 80, "last_ts": 3.0, "unread": 4}]})
    items, current = view.last("set_conversations")
    assert ("bob", "Private: bob", 2) in items
    assert ("room 12", items[1][1], 4) in items
    assert items[0][2] == 0  # the lobby is shown: nothing unread there
    assert requests_of(session, "mark_read") == [{"msg_id": 90, "room": 1}]
    chat.switch_to("bob")  # nothing of it loaded yet: its history is asked for
    assert ("history", None, "bob") in session.requests
    session.history_callback({"status": "ok", "messages": [message(40, "bob", "me", "old")]})
    chat.tick()
    assert requests_of(session, "mark_read")[-1] == {"msg_id": 40, "with": "bob"}
    chat.tick()
    assert len(requests_of(session, "mark_read")) == 2  # once per newer message
    chat.focus_changed(False)
    chat.on_message(message(41, "bob", "me", "new"))
    chat.tick()
    assert len(requests_of(session, "mark_read")) == 2  # not looked at: not read


# -- the terminal client ---------------------------------------------------------------------

def run_cli(srv, lines, lang="en"):
    from ui.cli import Cli
    stdin = io.StringIO("\n".join(lines) + "\n")
    out = io.StringIO()
    cli = Cli("127.0.0.1", srv.auth, lang, stdin=stdin, out=out)
    status = cli.run()
    return status, out.getvalue()


def test_cli_members_search_unread_passwd_and_resetpw(make_server):
    from tests.conftest import new_identity
    teacher_name = new_identity()[0]
    srv = make_server("--admin", teacher_name, "--flood-limit", "0")
    teacher = register(srv, teacher_name, new_identity()[1])
    ann, bob = register(srv), register(srv)
    with chat_client(srv, bob) as c:
        c.request("say", text="Quantum homework is due", to=ann["username"])
    status, out = run_cli(srv, ["/login " + ann["username"], PASSWORD, "/members",
                                "/search quantum", "/unread", "/passwd", PASSWORD,
                                NEW_PASSWORD, "/quit"])
    assert status == 0, out
    assert "%s (you)" % ann["username"] in out and bob["username"] in out
    assert "Quantum homework is due" in out and "1 message found." in out
    assert "Private: %s: 1 unread" % bob["username"] in out
    assert "Password changed" in out
    with WireClient(srv.auth) as c:
        assert c.request("login", login=ann["username"], password=NEW_PASSWORD)["status"] == \
            "ok"
    status, out = run_cli(srv, ["/login " + teacher["username"], PASSWORD,
                                "/resetpw " + bob["username"], NEW_PASSWORD, "/resetpw",
                                "/quit"], lang="zh")
    assert "已重置 %s 的密码" % bob["username"] in out
    assert "用法：/resetpw 用户名" in out and status == 1  # the usage error counts
    with WireClient(srv.auth) as c:
        assert c.request("login", login=bob["username"], password=NEW_PASSWORD)["status"] == \
            "ok"


# -- the real windows ------------------------------------------------------------------------

@pytest.mark.gui
def test_gui_directory_search_unread_and_password(tk_env, make_server):  # noqa: F811
    srv = make_server("--flood-limit", "0")
    ann, bob, cat = register(srv), register(srv), register(srv)
    with chat_client(srv, bob) as c:
        c.request("say", text="see you at 3, lab B", to=ann["username"])
        for i in range(55):  # the welcome's history (50) holds none of the private one
            c.request("say", text="lobby %d" % i)
    app = tk_env(srv)
    login_via_gui(app, ann["username"], PASSWORD)
    chat, view = app.chat, app.chat_view
    # problem 4: the old private conversation is listed, with its unread count
    label = "Private: %s (1)" % bob["username"]
    pump([app], lambda: label in view.conversations.get(0, "end"), what="the unread count")

    # the member directory: everyone, online first; Message opens a private conversation
    view.members_button.invoke()
    members = view.people["members"]
    pump([app], lambda: len(members.table.get_children()) == 3, what="the members")
    first = members.table.get_children()[0]
    assert members.table.item(first, "values")[0] == "%s (you)" % ann["username"]
    members.query.insert(0, cat["username"].upper())
    members.query.event_generate("<KeyRelease>")
    pump([app], lambda: [members.table.item(i, "text") for i in members.table.get_children()]
         == [cat["username"]], what="the query")
    assert not members.reset_button.winfo_ismapped()  # a member resets nobody
    members.table.selection_set(members.table.get_children()[0])
    members.message_button.invoke()
    assert chat.current == cat["username"]

    # search: results, then the conversation a result is in
    view.search_button.invoke()
    search = view.people["search"]
    search.text.insert(0, "LAB b")
    search.search_button.invoke()
    pump([app], lambda: len(search.table.get_children()) == 1, what="the search result")
    assert search.table.item(search.table.get_children()[0], "values")[3] == \
        "see you at 3, lab B"
    search.table.selection_set(search.table.get_children()[0])
    search.go_button.invoke()
    assert chat.current == bob["username"]
    pump([app], lambda: "see you at 3, lab B" in [e["text"] for e in
                                                  chat.conversations[bob["username"]]],
         what="the conversation's history")

    # shown and focused: marked read on the server
    chat.focus_changed(True)

    def unread_with_bob():
        with chat_client(srv, ann) as c:
            reply = c.request("conversations")
        return [p["unread"] for p in reply["private"] if p["with"] == bob["username"]]
    pump([app], lambda: unread_with_bob() == [0], what="the read mark")

    # change the password
    view.password_button.invoke()
    dialog = view.people["password"]
    dialog.old.insert(0, PASSWORD)
    dialog.new.insert(0, NEW_PASSWORD)
    dialog.confirm.insert(0, NEW_PASSWORD)
    dialog.submit_button.invoke()
    pump([app], lambda: "Password changed" in dialog.error.cget("text"), what="changed")
    dialog.cancel_button.invoke()
    assert not dialog.exists()
    with WireClient(srv.auth) as c:
        assert c.request("login", login=ann["username"], password=NEW_PASSWORD)["status"] == \
            "ok"
    assert app.session.state == "online"  # this window's own login goes on


@pytest.mark.gui
def test_gui_windows_speak_chinese_and_a_teacher_can_reset(tk_env, make_server):  # noqa: F811
    from tests.conftest import new_identity
    teacher_name = new_identity()[0]
    srv = make_server("--admin", teacher_name, "--flood-limit", "0")
    teacher = register(srv, teacher_name, new_identity()[1])
    bob = register(srv)
    app = tk_env(srv, "zh")
    login_via_gui(app, teacher["username"], PASSWORD)
    view = app.chat_view
    assert view.members_button.cget("text") == "成员…"
    assert view.search_button.cget("text") == "搜索…"
    assert view.password_button.cget("text") == "修改密码…"
    view.members_button.invoke()
    members = view.people["members"]
    pump([app], lambda: len(members.table.get_children()) == 2, what="the members")
    assert members.reset_button.winfo_ismapped()
    bob_row = [i for i in members.table.get_children()
               if members.table.item(i, "text") == bob["username"]][0]
    assert members.table.item(bob_row, "values")[1] == "离线"
    members.table.selection_set(bob_row)
    members.reset_button.invoke()
    dialog = view.people["password"]
    assert dialog.window.title() == "重置 %s 的密码" % bob["username"]
    dialog.new.insert(0, NEW_PASSWORD)
    dialog.confirm.insert(0, NEW_PASSWORD)
    dialog.submit_button.invoke()
    pump([app], lambda: "已重置" in dialog.error.cget("text"), what="the reset")
    with WireClient(srv.auth) as c:
        assert c.request("login", login=bob["username"], password=NEW_PASSWORD)["status"] == \
            "ok"
    members.close()
    assert "members" in view.people and not members.exists()


@pytest.mark.gui
def test_the_directory_windows_leave_nothing_for_the_garbage_collector(xvfb, monkeypatch,
                                                                      tmp_path, server):
    """The members, search and password windows left open at quit (and one closed before)
    go with the App the moment it is dropped, with the collector off: no reference cycle."""
    import gc
    import tkinter as tk
    import weakref

    from ui.settings import ClientSettings
    from ui.tk.app import App
    monkeypatch.setenv("DISPLAY", xvfb.display)
    monkeypatch.setenv("CHATROOM_CONFIG_DIR", str(tmp_path / "config"))
    user = register(server)
    gc.collect()
    gc.disable()
    try:
        app = App(tk.Tk(), ClientSettings(server="127.0.0.1:%d" % server.auth), "en",
                  str(tmp_path / "cfg.json"))
        login_via_gui(app, user["username"], PASSWORD)
        view = app.chat_view
        closed = view.open_search()
        closed.close()
        members = view.open_members()
        pump([app], lambda table=members.table: len(table.get_children()) > 0,
             what="the members")
        windows = [members, view.open_search(), view.open_password()]
        watched = windows + [w.presenter for w in windows] + [closed]
        app.quit()
        refs = [weakref.ref(obj) for obj in watched]
        del app, view, windows, watched, closed, members
        alive = [ref() for ref in refs if ref() is not None]
        assert not alive, "still alive without a garbage collection: %s" % alive
        leftovers = [type(o).__name__ for o in gc.get_objects()
                     if isinstance(o, (tk.Misc, tk.Variable))]
        assert not leftovers, "Tk objects waiting for a garbage collection: %s" % leftovers
    finally:
        gc.enable()
