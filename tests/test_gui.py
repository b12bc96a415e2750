"""The real Tk client under Xvfb against a real server: register, log in, chat public and
private between two windows, upload and download a file and a folder, reconnect after the
server restarts. Buttons are invoked, fields filled through their variables. And the App
frees every Tk object by reference counting alone (no garbage collection needed), on the Tk
thread."""
import gc
import hashlib
import os
import time
import weakref

import pytest

from ui.transfers import Folder

pytestmark = pytest.mark.gui


@pytest.fixture
def tk_env(xvfb, monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("DISPLAY", xvfb.display)
    monkeypatch.setenv("CHATROOM_CONFIG_DIR", str(tmp_path / "config"))
    tk = pytest.importorskip("tkinter")
    apps = []

    def make_app(server, language="en"):
        from ui.settings import ClientSettings
        from ui.tk.app import App
        settings = ClientSettings(server="127.0.0.1:%d" % server.auth)
        app = App(tk.Tk(), settings, language, str(tmp_path / ("cfg%d.json" % len(apps))))
        apps.append(app)
        return app
    yield make_app
    # Letting go of the apps frees their Tk objects now, on this thread, by reference
    # counting: had any waited in a reference cycle for a garbage collection, that could run
    # on another thread (a test's worker), and Tcl aborts the whole process when an
    # interpreter is deleted by the wrong thread.
    roots = [weakref.ref(app.root) for app in apps]
    while apps:
        apps.pop().quit()
    errors = [r for r in caplog.records if r.name.startswith("ui") and r.levelname == "ERROR"]
    assert not errors, "the GUI logged errors: %s" % [r.getMessage() for r in errors]
    assert all(root() is None for root in roots), "a Tk root outlived its App"


def pump(apps, condition, timeout_s=15.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while True:
        for app in apps:
            app.root.update()
        if condition():
            return
        if time.monotonic() > deadline:
            raise TimeoutError("GUI never reached: " + what)
        time.sleep(0.005)


def register_via_gui(app, server, username, phone, password="gui password 1"):
    app.login_view.register_button.invoke()
    view = app.register_view
    pump([app], lambda: app.register_presenter.sms == "console" and
         view.send_button.winfo_ismapped(), what="register window")
    view.vars["phone"].set(phone)
    view.send_button.invoke()
    pump([app], lambda: ("SMS code for %s" % phone) in server.log(), what="the SMS code")
    code = server.sms_code(phone)
    pump([app], lambda: app.register_presenter.code_until > 0 and
         str(view.send_button.cget("state")) == "disabled" and
         "60" in str(view.send_button.cget("text")), what="the 60 s countdown")
    for name, value in (("username", username), ("password", password),
                        ("confirm", password), ("code", code), ("email", "")):
        view.vars[name].set(value)
    assert view.hints["username"].cget("text") == "✓"
    view.submit_button.invoke()
    pump([app], lambda: app.register_view is None, what="registration done")
    assert app.login_view.login.get() == username


def login_via_gui(app, username, password="gui password 1"):
    app.login_view.login.set(username)
    app.login_view.password.set(password)
    app.login_view.submit_button.invoke()
    pump([app], lambda: app.chat is not None and app.session.state == "online",
         what="chat window online")


def conversation_texts(app, key=""):
    return [e["text"] for e in app.chat.conversations.get(key, [])]


def test_login_errors_are_shown(tk_env, server):
    app = tk_env(server)
    app.login_view.login.set("nobody_at_all")
    app.login_view.password.set("wrong password 1")
    app.login_view.submit_button.invoke()
    pump([app], lambda: "Wrong" in app.login_view.message.cget("text"), what="error text")
    app.login_view.server.set("not a server:x")
    app.login_view.submit_button.invoke()
    assert "host:port" in app.login_view.message.cget("text")


def test_refused_connection_is_explained(tk_env, server):
    from tests.procs import free_port
    app = tk_env(server)
    app.login_view.server.set("127.0.0.1:%d" % free_port())
    app.login_view.login.set("x")
    app.login_view.password.set("y")
    app.login_view.submit_button.invoke()
    pump([app], lambda: "listening" in app.login_view.message.cget("text"), what="refused")


def test_register_login_chat_files_and_reconnect(tk_env, make_server, tmp_path):
    srv = make_server("--flood-limit", "0")
    alice, bob = tk_env(srv), tk_env(srv, "zh")
    register_via_gui(alice, srv, "alice_gui", "13612345678")
    register_via_gui(bob, srv, "bob_gui", "13612345679")
    login_via_gui(alice, "alice_gui")
    login_via_gui(bob, "bob_gui")
    apps = [alice, bob]

    # public
    alice.chat_view.input.insert("1.0", "hello from alice")
    alice.chat_view.send_button.invoke()
    pump(apps, lambda: "hello from alice" in conversation_texts(bob), what="public message")
    assert alice.chat_view.input.get("1.0", "end-1c") == ""
    pump(apps, lambda: "alice_gui" in bob.chat.online, what="presence")

    # private: bob double-clicks alice in the online list (the presenter's action)
    bob.chat.open_private("alice_gui")
    bob.chat_view.input.insert("1.0", "just for you")
    bob.chat_view.send_button.invoke()
    pump(apps, lambda: "just for you" in conversation_texts(alice, "bob_gui"),
         what="private message")
    assert "just for you" not in conversation_texts(alice)
    assert alice.chat.unread.get("bob_gui") == 1

    # a file and a folder, up and down, verified
    folder = tmp_path / "homework"
    (folder / "week1").mkdir(parents=True)
    (folder / "week1" / "a.txt").write_bytes(b"alpha" * 1000)
    (folder / "b.bin").write_bytes(os.urandom(300_000))
    single = tmp_path / "notes.txt"
    single.write_bytes("笔记".encode() * 5000)
    alice.open_files()
    # (one after the other: files of the folder sent while another file's notice comes in
    # between would make two folder lines, and transfers now run side by side)
    alice.files.upload_paths([str(single)])
    pump(apps, lambda: "alice_gui 分享了 notes.txt" in conversation_texts(bob),
         30, "the single file's notice")
    alice.files.upload_paths([str(folder)])
    pump(apps, lambda: len(alice.files.queue.items) == 3 and
         all(t.state == "done" for t in alice.files.queue.items), 30, "uploads done")
    # the folder's files make one line (issue 20: not one line per file)
    pump(apps, lambda: "alice_gui 分享了 notes.txt" in conversation_texts(bob) and
         "alice_gui 分享了文件夹 homework/（2 个文件）" in conversation_texts(bob),
         what="file_added notices")
    bob.open_files()
    pump(apps, lambda: len(bob.files.files) == 3, what="bob sees three files")
    target = tmp_path / "downloads"
    ids = [f["file_id"] for f in bob.files.files.values() if f["name"] == "notes.txt"]
    bob.files.download(ids, Folder("alice_gui", "homework"), str(target))
    pump(apps, lambda: len(bob.files.queue.items) == 3 and
         all(t.state == "done" for t in bob.files.queue.items), 30, "downloads done")
    for rel in ("notes.txt", "homework/week1/a.txt", "homework/b.bin"):
        original = single if rel == "notes.txt" else folder.parent / rel
        got = target / rel
        assert hashlib.sha256(got.read_bytes()).digest() == \
            hashlib.sha256(original.read_bytes()).digest(), rel
    rows = bob.files.transfer_rows()
    assert all("SHA-256" in text for _, _, _, text, _ in rows)

    # the server restarts: both reconnect on their own and chat resumes, without duplicates
    before = len(conversation_texts(bob))
    srv.restart()
    pump(apps, lambda: alice.session.state == "reconnecting", 10, "reconnecting")
    pump(apps, lambda: alice.session.state == "online" and bob.session.state == "online", 20,
         "reconnected")
    assert "hello from alice" in conversation_texts(bob)
    assert len([t for t in conversation_texts(bob) if t == "hello from alice"]) == 1
    alice.chat_view.input.insert("1.0", "after restart")
    alice.chat_view.send_button.invoke()
    pump(apps, lambda: "after restart" in conversation_texts(bob), what="chat after restart")
    assert len(conversation_texts(bob)) > before


def test_longest_tick_stays_short_while_receiving(tk_env, make_server):
    from tests.conftest import chat_client, register
    srv = make_server("--flood-limit", "0")
    user = register(srv)
    app = tk_env(srv)
    login_via_gui(app, user["username"], user["password"])
    app.longest_tick_s = 0.0
    with chat_client(srv, user) as sender:
        for i in range(300):
            sender.send({"op": "say", "id": i, "text": "burst %d" % i})
        pump([app], lambda: "burst 299" in conversation_texts(app), 20, "burst received")
    assert app.longest_tick_s < 0.25  # generous for CI; the benchmark reports the real figure


def open_and_close_everything(app, user, tmp_path):
    """Every window opened and closed, a message, an upload, a logout and a second login;
    returns the objects that must all go when the App goes."""
    watched = [app, app.root, app.login_view, app.login_presenter]
    app.login_view.register_button.invoke()
    pump([app], lambda: app.register_presenter.sms == "console", what="register window")
    watched += [app.register_view, app.register_presenter]
    app.register_view.back_button.invoke()
    assert app.register_view is None
    login_via_gui(app, user["username"], user["password"])
    watched += [app.chat_view, app.chat, app.files, app.menubar]
    app.chat_view.input.insert("1.0", "freed by reference counting")
    app.chat_view.send_button.invoke()
    pump([app], lambda: "freed by reference counting" in conversation_texts(app),
         what="own message")
    app.chat.open_private(user["username"] + "_x")
    app.chat_view.show_error("an error that clears itself later")
    app.open_files()
    shared = tmp_path / "shared.txt"
    shared.write_bytes(b"shared" * 1000)
    app.files.upload_paths([str(shared)])
    pump([app], lambda: any(f["name"] == "shared.txt" for f in app.files.files.values())
         and all(t.finished for t in app.files.queue.items), what="the upload listed")
    watched.append(app.files_view)
    app.files_view.close()  # the window manager's close button
    app.open_files()
    watched += [app.files_view, app.open_settings()]
    app.root.update()
    app.logout()
    watched += [app.login_view, app.login_presenter]
    login_via_gui(app, user["username"], user["password"])
    watched += [app.chat_view, app.chat, app.files, app.login_view]
    return watched


def test_dropping_the_app_frees_every_tk_object_without_garbage_collection(xvfb, monkeypatch,
                                                                          tmp_path, server):
    """With the collector off, the App, its root, windows and presenters are gone the moment
    the last reference goes: nothing waits in a reference cycle."""
    import tkinter as tk

    from tests.conftest import register
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
        watched = open_and_close_everything(app, user, tmp_path)
        app.quit()
        refs = [weakref.ref(obj) for obj in watched if obj is not None]
        del app, watched
        alive = [ref() for ref in refs if ref() is not None]
        assert not alive, "still alive without a garbage collection: %s" % alive
        leftovers = [type(o).__name__ for o in gc.get_objects()
                     if isinstance(o, (tk.Misc, tk.Variable))]
        assert not leftovers, "Tk objects waiting for a garbage collection: %s" % leftovers
    finally:
        gc.enable()


# -- the limits of docs/PROTOCOL.md §10 and the paged list of §6 -----------------------------

def gui_user(app, srv):
    """A registered user (through the wire), logged in through the GUI."""
    from tests.conftest import register
    user = register(srv)
    login_via_gui(app, user["username"], user["password"])
    return user


def test_files_window_loads_older_pages_and_a_folder_download_takes_every_page(
        tk_env, make_server, tmp_path, monkeypatch):
    import ui.presenters.files
    import ui.session
    from tests.conftest import file_client, register
    for module in (ui.session, ui.presenters.files):
        monkeypatch.setattr(module, "FILES_PAGE", 2)
    monkeypatch.setattr(ui.session, "LIST_LIMIT_MAX", 2)
    srv = make_server()
    owner = register(srv)
    contents = {name: name.encode() * 100 for name in
                ("hw/a.txt", "x1.txt", "x2.txt", "x3.txt", "hw/b.txt")}  # oldest first
    with file_client(srv, owner) as c:
        for name, data in contents.items():
            assert c.upload(name, data)["status"] == "ok"
    app = tk_env(srv)
    gui_user(app, srv)
    app.open_files()
    view = app.files_view
    pump([app], lambda: len(app.files.files) == 2 and view.more.winfo_ismapped(),
         what="the first page and Load more")
    assert "The newest 2 files are shown" in view.more_note.cget("text")
    view.more_button.invoke()
    pump([app], lambda: len(app.files.files) == 4, what="the second page")
    view.more_button.invoke()
    pump([app], lambda: len(app.files.files) == 5 and not view.more.winfo_ismapped(),
         what="every page, and Load more gone")
    assert set(view.tree.get_children(view.folder_item(Folder(owner["username"], "hw")))) == {
        "f:1", "f:5"}

    view.refresh_button.invoke()  # back to the first page: hw/ holds only b.txt of it
    pump([app], lambda: len(app.files.files) == 2 and view.more.winfo_ismapped(),
         what="the first page again")
    app.files.download([], Folder(owner["username"], "hw"), str(tmp_path / "got"))
    pump([app], lambda: len(app.files.queue.items) == 2 and
         all(t.state == "done" for t in app.files.queue.items), 30, "the folder downloaded")
    for name in ("hw/a.txt", "hw/b.txt"):
        assert (tmp_path / "got" / name).read_bytes() == contents[name]


@pytest.mark.parametrize("lang,expected", [
    ("en", "You have no room left for files on this server; delete some of yours first."),
    ("zh", "你在此服务器上的文件空间已用完，请先删除一些你的文件。")])
def test_quota_exceeded_is_explained_in_the_transfer_row(tk_env, make_server, tmp_path, lang,
                                                         expected):
    srv = make_server("--quota", "1000")
    app = tk_env(srv, lang)
    gui_user(app, srv)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 5000)
    app.open_files()
    app.files.upload_paths([str(big)])
    pump([app], lambda: app.files.queue.items[0].finished, what="the upload refused")
    upload = app.files.queue.items[0]
    assert upload.state == "failed" and upload.retries == 0  # no use trying again
    pump([app], lambda: upload.id in app.files_view.rows and
         expected in app.files_view.rows[upload.id].state.cget("text"), what="the row")


def test_refused_connections_are_explained_and_retried_slowly(tk_env, make_server):
    from tests.conftest import register
    from tests.test_session import hold_connections, release_connections
    srv = make_server("--max-conns-per-ip", "2", "--log-level", "DEBUG")
    user = register(srv)
    app = tk_env(srv)
    held = hold_connections(srv, 2)
    app.login_view.login.set(user["username"])
    app.login_view.password.set(user["password"])
    app.login_view.submit_button.invoke()
    message = app.login_view.message
    pump([app], lambda: "Too many connections from this computer" in message.cget("text"),
         what="the login refused")
    release_connections(srv, held)

    # The login's own connection stays open: of chat and files, one is refused, every time.
    refusals = srv.log().count("refusing a connection")
    app.login_view.submit_button.invoke()
    pump([app], lambda: app.chat is not None and "Trying again in" in
         app.chat_view.status.cget("text"), what="the refusal in the status bar")
    status = app.chat_view.status.cget("text")
    assert status.startswith("Too many connections from this computer."), status
    assert int(status.rsplit(" in ", 1)[1].split()[0]) >= 9
    refused_now = srv.log().count("refusing a connection")
    assert refused_now > refusals
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:  # a tight loop would be refused hundreds of times
        app.root.update()
        time.sleep(0.01)
    assert srv.log().count("refusing a connection") == refused_now
    assert app.session.state == "reconnecting"


@pytest.mark.parametrize("lang,expected", [
    ("en", "You were logged out (perhaps from another window)."),
    ("zh", "你已退出登录（可能是在另一个窗口中退出的）。")])
def test_logged_out_elsewhere_goes_back_to_the_login_window(tk_env, server, lang, expected):
    from tests.wire import WireClient
    app = tk_env(server, lang)
    gui_user(app, server)
    with WireClient(server.auth) as other_window:
        assert other_window.request("logout", token=app.session.token)["status"] == "ok"
    pump([app], lambda: app.login_view is not None, what="the login window")
    assert app.chat is None and app.chat_view is None and app.session.state == "offline"
    assert expected in app.login_view.message.cget("text")
    app.root.update()
    assert app.session.state == "offline" and not app.session.connections()[1:]


def test_a_message_the_server_refuses_stays_in_the_input_with_the_reason(
        tk_env, make_server, monkeypatch):
    import ui.presenters.chat
    srv = make_server("--flood-limit", "1")  # a burst of 2, then one a second
    app = tk_env(srv)
    gui_user(app, srv)
    view = app.chat_view
    # A text only the server refuses (this client checks the same rules first, so they are
    # switched off here): the server's reason shows under the input, and the text stays.
    monkeypatch.setattr(ui.presenters.chat, "check_text", lambda text: None)
    too_long = "y" * 4001
    view.input.insert("1.0", too_long)
    view.send_button.invoke()
    pump([app], lambda: view.draft_note.winfo_ismapped(), what="the server's reason")
    assert view.draft_note.cget("text").startswith("The server refused this message: ")
    assert view.input.get("1.0", "end-1c") == too_long
    monkeypatch.undo()

    view.input.delete("1.0", "end")
    sent = ["burst %d" % i for i in range(6)]
    for text in sent:
        view.input.insert("1.0", text)
        view.send_button.invoke()
    pump([app], lambda: "too fast" in view.draft_note.cget("text"), what="flood control")
    assert "Try again in 1 s" in view.draft_note.cget("text")
    pump([app], lambda: len(conversation_texts(app)) + len(
        view.input.get("1.0", "end-1c").splitlines()) == len(sent), what="every answer")
    kept = view.input.get("1.0", "end-1c").splitlines()
    assert kept and sorted(conversation_texts(app) + kept) == sorted(sent)  # nothing lost
    view.input.delete("1.0", "end")
    refilled_at = time.monotonic() + 1.1  # flood control lets one through a second
    pump([app], lambda: time.monotonic() > refilled_at, what="a second to pass")
    view.input.insert("1.0", "later")
    view.send_button.invoke()
    assert not view.draft_note.winfo_ismapped()  # a new try clears the old reason
    pump([app], lambda: "later" in conversation_texts(app), what="sent after the wait")


# -- the teacher's controls (docs/PROTOCOL.md §11) -------------------------------------------

def a_class(tk_env, make_server, student_lang="en"):
    """A server with a teacher (--admin) and a student, each logged in through a GUI."""
    from tests.conftest import new_identity, register
    teacher_name = new_identity()[0]
    srv = make_server("--admin", teacher_name, "--flood-limit", "0")
    teacher = register(srv, teacher_name, new_identity()[1])
    student = register(srv)
    t_app, s_app = tk_env(srv), tk_env(srv, student_lang)
    login_via_gui(t_app, teacher["username"], teacher["password"])
    login_via_gui(s_app, student["username"], student["password"])
    pump([t_app, s_app], lambda: student["username"] in t_app.chat.online,
         what="the student online")
    return srv, teacher["username"], student["username"], t_app, s_app


def menu_labels(menu):
    return [menu.entrycget(i, "label") for i in range(menu.index("end") + 1)]


def invoke_label(menu, label):
    menu.invoke(menu_labels(menu).index(label))


def teacher_menu(app):
    bar = app.menubar
    for i in range(bar.index("end") + 1):
        if bar.type(i) == "cascade" and bar.entrycget(i, "label") == "Teacher":
            return bar.nametowidget(bar.entrycget(i, "menu"))
    raise AssertionError("no Teacher menu")


def close_popup(menu):
    """What Escape does to a posted menu: unpost it and let go of its grab."""
    menu.unpost()
    menu.grab_release()


def right_click_user(view, name):
    """A right-click on a name in the online list: its menu is posted; unpost it and
    return it (a test invokes its entries)."""
    i = view.online_names.index(name)
    x, y, _, height = view.online.bbox(i)
    view.online.event_generate("<Button-3>", x=x + 2, y=y + height // 2,
                               rootx=view.online.winfo_rootx() + x + 2,
                               rooty=view.online.winfo_rooty() + y + height // 2)
    menu = view._menu
    close_popup(menu)
    return menu


def right_click_message(view, text):
    """A right-click on a message's text: its menu (None when it offers nothing)."""
    index = view.text.search(text, "1.0")
    assert index, text
    view.text.see(index)
    view.text.update()
    x, y, _, height = view.text.bbox(index)
    view._menu = None
    view.text.event_generate("<Button-3>", x=x + 1, y=y + height // 2,
                             rootx=view.text.winfo_rootx() + x + 1,
                             rooty=view.text.winfo_rooty() + y + height // 2)
    menu = view._menu
    if menu is not None:
        close_popup(menu)
    return menu


def input_locked(view):
    return str(view.send_button.cget("state")) == "disabled" and \
        str(view.input.cget("state")) == "disabled"


def send_via_gui(app, text):
    app.chat_view.input.insert("1.0", text)
    app.chat_view.send_button.invoke()


def test_teacher_mutes_and_unmutes_a_student_through_the_user_menu(tk_env, make_server):
    srv, teacher, student, t_app, s_app = a_class(tk_env, make_server, "zh")
    apps = [t_app, s_app]
    tv, sv = t_app.chat_view, s_app.chat_view
    assert tv.badge.winfo_ismapped() and tv.badge.cget("text") == "Teacher"
    assert t_app.root.title().endswith("(Teacher)")
    assert not sv.badge.winfo_ismapped() and tv.quiet_check.winfo_ismapped()
    assert not sv.quiet_check.winfo_ismapped()
    assert menu_labels(right_click_user(sv, teacher)) == ["私聊"]  # a student: no controls

    menu = right_click_user(tv, student)
    assert menu_labels(menu) == ["Private message", "Mute for 5 minutes", "Mute for 1 hour",
                                 "Mute for a day", "Unmute", "Remove from the chat",
                                 "Remove and ban for a day"]
    invoke_label(menu, "Mute for 5 minutes")
    pump(apps, lambda: input_locked(sv), what="the student's input closed")
    reason = sv.input.get("1.0", "end-1c")
    assert reason.startswith("你已被禁言至") and "仍可私聊老师" in reason
    assert any("被 %s 禁言至" % teacher in t for t in conversation_texts(s_app))
    pump(apps, lambda: any("was muted until" in t for t in conversation_texts(t_app)),
         what="the teacher's notice")

    # a private conversation with the teacher stays open
    s_app.chat.open_private(teacher)
    pump(apps, lambda: not input_locked(sv), what="the private input open")
    send_via_gui(s_app, "may I ask a question?")
    pump(apps, lambda: "may I ask a question?" in conversation_texts(t_app, student),
         what="the question to the teacher")
    s_app.chat.switch_to("")
    assert input_locked(sv)

    invoke_label(right_click_user(tv, student), "Unmute")
    pump(apps, lambda: not input_locked(sv), what="the input open again")
    send_via_gui(s_app, "thank you")
    pump(apps, lambda: "thank you" in conversation_texts(t_app), what="speaking again")

    # the moderation log, from the Teacher menu
    invoke_label(teacher_menu(t_app), "Moderation log…")
    table = t_app.audit_view.table
    pump(apps, lambda: len(table.get_children()) == 2, what="two audit entries")
    actions = [table.item(i, "values")[2] for i in table.get_children()]
    assert actions == ["unmute", "mute"]
    assert table.item(table.get_children()[1], "values")[3] == student


def test_messages_are_deleted_from_their_menu_and_replaced_everywhere(tk_env, make_server):
    srv, teacher, student, t_app, s_app = a_class(tk_env, make_server)
    apps = [t_app, s_app]
    send_via_gui(s_app, "oops, wrong window")
    send_via_gui(t_app, "the teacher's word")
    send_via_gui(s_app, "a rude remark")
    pump(apps, lambda: "a rude remark" in conversation_texts(t_app) and
         "a rude remark" in conversation_texts(s_app), what="three messages everywhere")

    assert right_click_message(s_app.chat_view, "the teacher's word") is None
    menu = right_click_message(s_app.chat_view, "oops, wrong window")
    assert menu_labels(menu) == ["Delete message"]
    invoke_label(menu, "Delete message")  # a student deletes their own message
    gone = "message deleted by %s" % student
    pump(apps, lambda: gone in conversation_texts(t_app) and gone in conversation_texts(s_app),
         what="the own message deleted")

    invoke_label(right_click_message(t_app.chat_view, "a rude remark"), "Delete message")
    gone = "message deleted by %s" % teacher
    pump(apps, lambda: gone in conversation_texts(s_app), what="the remark deleted")
    shown = s_app.chat_view.text.get("1.0", "end")
    assert "a rude remark" not in shown and gone in shown
    assert "oops, wrong window" not in shown and "the teacher's word" in shown


def test_a_quiet_room_closes_the_students_input_only(tk_env, make_server):
    srv, teacher, student, t_app, s_app = a_class(tk_env, make_server)
    apps = [t_app, s_app]
    t_app.chat_view.quiet_check.invoke()
    pump(apps, lambda: input_locked(s_app.chat_view), what="the student's input closed")
    assert s_app.chat_view.input.get("1.0", "end-1c").startswith(
        "The room is quiet: only the teacher speaks.")
    assert t_app.chat_view.quiet_var.get() and not input_locked(t_app.chat_view)
    send_via_gui(t_app, "listen, everyone")
    pump(apps, lambda: "listen, everyone" in conversation_texts(s_app), what="the teacher")
    t_app.chat_view.quiet_check.invoke()
    pump(apps, lambda: not input_locked(s_app.chat_view), what="the input open again")
    assert not t_app.chat_view.quiet_var.get()


def test_a_rooms_owner_quiets_it_and_a_member_is_closed_there_only(tk_env, make_server):
    """docs/PROTOCOL.md §12: the switch is about the room shown; a student who owns a room
    has it there, and speaks there while it is quiet."""
    srv = make_server("--flood-limit", "0")
    owner, member = tk_env(srv), tk_env(srv)
    gui_user(owner, srv)
    gui_user(member, srv)
    apps = [owner, member]
    assert not owner.chat_view.quiet_check.winfo_ismapped()  # a student: none in the lobby
    owner.chat.create_room("lab", "", False)
    pump(apps, lambda: owner.chat.current.startswith("room "), what="the room made")
    room_id = int(owner.chat.current.split()[1])
    member.chat.join_room(room_id)
    pump(apps, lambda: member.chat.current == "room %d" % room_id, what="the member in")
    owner.root.update()
    assert owner.chat_view.quiet_check.winfo_ismapped()
    owner.chat_view.quiet_check.invoke()
    pump(apps, lambda: input_locked(member.chat_view), what="the member's input closed")
    assert not input_locked(owner.chat_view)
    send_via_gui(owner, "the owner still speaks")
    pump(apps, lambda: "the owner still speaks" in conversation_texts(member, "room %d" %
                                                                       room_id),
         what="the owner's message")
    member.chat.switch_to("")  # the lobby is not quiet
    member.root.update()
    assert not input_locked(member.chat_view)
    assert not member.chat_view.quiet_check.winfo_ismapped()


def test_a_kicked_student_is_back_at_the_login_window_and_told_until_when(tk_env,
                                                                         make_server):
    srv, teacher, student, t_app, s_app = a_class(tk_env, make_server)
    apps = [t_app, s_app]
    invoke_label(right_click_user(t_app.chat_view, student), "Remove and ban for a day")
    pump(apps, lambda: s_app.login_view is not None, what="the student's login window")
    message = s_app.login_view.message.cget("text")
    assert message.startswith("%s removed you from the chat." % teacher), message
    assert "You can log in again after" in message
    assert s_app.chat is None and s_app.session.state == "offline"
    pump(apps, lambda: any("removed from the chat by" in t for t in conversation_texts(t_app)),
         what="the teacher's notice")
    opened = s_app.session.connections()
    deadline = time.monotonic() + 1.5  # no reconnect loop: nothing is opened again
    while time.monotonic() < deadline:
        for app in apps:
            app.root.update()
        time.sleep(0.01)
    assert s_app.session.connections() == opened and s_app.session.state == "offline"

    s_app.login_view.password.set("correct horse 1")  # conftest.PASSWORD
    s_app.login_view.login.set(student)
    s_app.login_view.submit_button.invoke()
    pump(apps, lambda: "You were removed until" in s_app.login_view.message.cget("text"),
         what="the ban explained")


def test_hand_in_from_the_files_window_and_the_teacher_downloads_all(tk_env, make_server,
                                                                    tmp_path, monkeypatch):
    import ui.tk.files
    srv, teacher, student, t_app, s_app = a_class(tk_env, make_server)
    apps = [t_app, s_app]
    homework = tmp_path / "homework.txt"
    homework.write_bytes("作业 1".encode() * 1000)
    monkeypatch.setattr(ui.tk.files, "ask_files", lambda parent: [str(homework)])
    s_app.open_files()
    view = s_app.files_view
    view.hand_in_button.invoke()
    pump(apps, lambda: s_app.files.queue.items and
         s_app.files.queue.items[0].state == "done", 30, "the hand-in uploaded")
    file_id = s_app.files.queue.items[0].record["file_id"]
    pump(apps, lambda: view.hand_ins.exists("f:%d" % file_id), what="the student's hand-in")
    assert view.hand_ins_shown() and not view.tree.exists("f:%d" % file_id)
    assert view.notebook.tab(view.hand_ins_tab, "text") == "My hand-ins"

    invoke_label(teacher_menu(t_app), "Hand-ins…")
    tview = t_app.files_view
    pump(apps, lambda: tview.hand_ins.exists("f:%d" % file_id), what="the teacher's list")
    assert tview.hand_ins_shown() and tview.download_all_button.winfo_ismapped()
    assert [tview.hand_ins.item(i, "text") for i in tview.hand_ins.get_children()] == [student]
    target = tmp_path / "collected"
    monkeypatch.setattr(ui.tk.files, "ask_folder", lambda *args: str(target))
    tview.download_all_button.invoke()
    pump(apps, lambda: t_app.files.queue.items and
         t_app.files.queue.items[0].state == "done", 30, "downloaded")
    assert (target / student / "homework.txt").read_bytes() == homework.read_bytes()


# -- rooms (docs/PROTOCOL.md §12) ------------------------------------------------------------

def button_of(frame, text):
    return [w for w in frame.winfo_children() if str(w.cget("text")) == text][0]


def test_rooms_made_browsed_joined_and_a_message_arrives_only_in_its_room(tk_env, make_server):
    from tests.conftest import register
    srv = make_server("--flood-limit", "0")
    ann, bob = register(srv), register(srv)
    a_app, b_app = tk_env(srv), tk_env(srv, "zh")
    apps = [a_app, b_app]
    login_via_gui(a_app, ann["username"], ann["password"])
    login_via_gui(b_app, bob["username"], bob["password"])
    av, bv = a_app.chat_view, b_app.chat_view
    assert str(av.invite_button.cget("state")) == "disabled"  # the lobby is shown

    # ann: "New room…", a public room with a topic.
    av.new_room_button.invoke()
    dialog = av.dialog
    dialog.name.insert(0, "physics")
    dialog.topic.insert(0, "optics, week 3")
    dialog.create_button.invoke()
    pump(apps, lambda: a_app.chat.current.startswith("room "), what="the new room shown")
    physics = a_app.chat.current
    assert av.topic.winfo_ismapped()
    assert av.topic.cget("text") == "physics · 1 member — optics, week 3"
    assert str(av.leave_button.cget("state")) == "normal"
    assert av.conversations.get(1) == "# physics"

    # bob: "Browse rooms", pick physics, Join.
    bv.browse_button.invoke()
    pump(apps, lambda: bv.dialog is not None and bv.dialog.ids, what="the room list")
    listed = bv.dialog.tree
    row = [i for i in listed.get_children() if listed.item(i, "values")[0] == "physics"][0]
    assert listed.item(row, "values")[1] == "1 人"
    listed.selection_set(row)
    bv.dialog.join_button.invoke()
    pump(apps, lambda: b_app.chat.current == physics, what="bob in physics")

    # A message in the room reaches the room only; one in the lobby, the lobby only.
    send_via_gui(a_app, "light bends")
    pump(apps, lambda: "light bends" in conversation_texts(b_app, physics),
         what="the room's message at bob")
    assert "light bends" not in conversation_texts(b_app) and \
        "light bends" not in conversation_texts(a_app)
    assert "light bends" in bv.text.get("1.0", "end")
    bv.conversations.selection_clear(0, "end")
    bv.conversations.selection_set(0)
    bv.conversations.event_generate("<<ListboxSelect>>")
    pump(apps, lambda: b_app.chat.current == "", what="bob back in the lobby")
    a_app.chat.switch_to("")
    send_via_gui(a_app, "lobby news")
    a_app.chat.switch_to(physics)
    send_via_gui(a_app, "prisms next")
    pump(apps, lambda: "prisms next" in conversation_texts(b_app, physics) and
         "lobby news" in conversation_texts(b_app), what="both messages at bob")
    assert "prisms next" not in bv.text.get("1.0", "end")  # the lobby is shown there
    assert "# physics（1）" in bv.conversations.get(0, "end")  # unread, in zh

    # A private room: ann invites bob, who joins from the notice's Join button.
    av.new_room_button.invoke()
    av.dialog.name.insert(0, "secret")
    av.dialog.private_var.set(True)
    av.dialog.create_button.invoke()
    pump(apps, lambda: a_app.chat.current not in ("", physics), what="the private room")
    secret = a_app.chat.current
    av.open_invite()
    av.dialog.user.insert(0, bob["username"])
    av.dialog.invite_button.invoke()
    pump(apps, lambda: bv.invitations, what="the invitation at bob")
    bar = list(bv.invitations.values())[0]
    button_of(bar, "加入").invoke()
    pump(apps, lambda: b_app.chat.current == secret and not bv.invitations,
         what="bob in the private room")
    send_via_gui(b_app, "just us")
    pump(apps, lambda: "just us" in conversation_texts(a_app, secret), what="bob's message")
    assert all("just us" not in conversation_texts(a_app, key) for key in ("", physics))

    # Leave: the room goes from bob's list, the lobby is shown.
    bv.leave_button.invoke()
    pump(apps, lambda: b_app.chat.current == "" and secret not in b_app.chat.conversations,
         what="bob left")
    assert not any("secret" in label for label in bv.conversations.get(0, "end"))
