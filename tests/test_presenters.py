"""ui/ without a display: presenters with fake views, the session's address parsing, the
transfer helpers, the catalog and the settings file."""
import os
import time

import pytest

from ui.i18n import STRINGS, Catalog, detect_language
from ui.presenters.audit import AUDIT_PAGE, AuditPresenter
from ui.presenters.chat import MAX_VIEW_MESSAGES, PUBLIC, ChatPresenter
from ui.presenters.files import FILES_PAGE, FilesPresenter
from ui.presenters.login import LoginPresenter
from ui.presenters.moderation import clock_text, parse_minutes
from ui.presenters.preferences import Preferences, PreferencesPresenter
from ui.presenters.register import RegisterPresenter
from ui.session import Refusal, Session, parse_address
from ui.settings import ClientSettings
from ui.transfers import Folder, Upload, folder_entries, safe_local_path


class Recorder:
    """A fake view: records every call as (method, args)."""

    def __init__(self, **returns):
        self.calls = []
        self.returns = returns

    def __getattr__(self, name):
        def method(*args):
            self.calls.append((name, args))
            return self.returns.get(name)
        return method

    def last(self, name):
        return [args for n, args in self.calls if n == name][-1]

    def count(self, name):
        return sum(1 for n, _ in self.calls if n == name)


class FakeSession(Session):
    """A Session that sends nothing: requests are recorded, and a test answers them through
    the callbacks kept. What the session makes of replies and events (role, mute, quiet,
    the teachers it has seen) is the real Session's."""

    def __init__(self):
        self.now = 1764169937.0
        super().__init__("127.0.0.1", 9999, wall=lambda: self.now)
        self.username = "me"
        self.requests = []
        self.background = []  # conversations and mark_read (below)
        self.callbacks = {}
        self.state = "online"

    login_reply = {"status": "bad_credentials"}

    def say(self, text, to, callback, room=None):
        self.requests.append(("say", text, to) if room is None else ("say", text, to, room))

        def said(reply):
            self.note_say_reply(to, reply)
            callback(reply)
        self.say_callback = said
        return True

    def _request(self, conn, op, callback, **fields):
        self.requests.append((op, fields))
        self.callbacks[op] = callback

    # The chat window asks for its conversations at login and marks what it shows as read
    # (issue 20, problem 4): those go to `background`, so `requests` lists what the user did.
    def conversations(self, callback):
        self.background.append(("conversations", {}))
        self.callbacks["conversations"] = callback

    def mark_read(self, msg_id, with_user, room, callback=None):
        self.background.append(("mark_read", {"msg_id": msg_id, "with": with_user}
                                if with_user else {"msg_id": msg_id, "room": room or 1}))

    def list_files(self, callback, before=None, limit=None):
        self.requests.append(("list", before, limit))
        self.list_callback = callback

    def list_all_files(self, callback, before=None):
        self.requests.append(("list_all", before))
        self.list_callback = callback

    def refresh_files(self):
        self.requests.append(("refresh",))

    def history(self, before, with_user, callback, limit=50, room=None, lobby_only=False):
        if lobby_only:
            room = "lobby only"
        self.requests.append(("history", before, with_user) if room is None
                             else ("history", before, with_user, room))
        self.history_callback = callback

    def hello(self, callback):
        callback({"status": "ok", "sms": "off"})

    def send_code(self, phone, callback):
        self.requests.append(("send_code", phone))
        callback({"status": "ok", "retry_after": 60})

    def open_file_connection(self, on_auth=None):
        raise AssertionError("no transfers in these tests")

    def login(self, login, password, callback):
        self.requests.append(("login", login, password))
        callback(self.login_reply)


class FakeApp:
    """A Shell (ui/presenters/common.py) that records what the presenters asked of it."""

    def __init__(self):
        self.tr = Catalog("en")
        self.session = FakeSession()
        self.settings = ClientSettings(notify=True)
        self.connected = None
        self.remembered = {}
        self.calls = []

    def connect(self, address):
        self.connected = address
        return self.session

    def remember(self, **changes):
        self.remembered.update(changes)

    def open_register(self):
        self.calls.append("open_register")

    def close_register(self):
        self.calls.append("close_register")

    def registered(self, username):
        self.calls.append(("registered", username))

    def open_chat(self):
        self.calls.append("open_chat")


def message(msg_id, sender="bob", to=None, text="hi"):
    return {"op": "message", "msg_id": msg_id, "from": sender, "to": to, "text": text,
            "ts": 1764169937.0}


@pytest.fixture
def chat():
    view = Recorder()
    app = FakeApp()
    presenter = ChatPresenter(app, app.session, view)
    return presenter, view


def test_welcome_history_and_live_messages_are_not_duplicated(chat):
    presenter, view = chat
    presenter.on_welcome({"online": ["bob", "me"], "history": [message(1), message(2)]})
    presenter.on_message(message(2))  # the live copy of something already in history
    presenter.on_welcome({"online": ["me"], "history": [message(1), message(2), message(3)]})
    assert [e["msg_id"] for e in presenter.conversations[PUBLIC]] == [1, 2, 3]


def test_private_messages_get_their_own_conversation_and_unread_count(chat):
    presenter, view = chat
    presenter.on_message(message(5, "bob", "me", "psst"))
    assert presenter.unread["bob"] == 1
    items, current = view.last("set_conversations")
    assert ("bob", "Private: bob", 1) in items and current == PUBLIC
    presenter.on_message(message(6, "me", "bob", "reply"))  # my own: no unread
    assert presenter.unread["bob"] == 1
    presenter.switch_to("bob")
    assert presenter.unread["bob"] == 0
    assert [e["text"] for e in view.last("show_conversation")[0]] == ["psst", "reply"]


def test_own_messages_are_marked_mine(chat):
    presenter, view = chat
    presenter.on_message(message(1, "me"))
    assert view.last("append_entry")[0]["kind"] == "mine"


def test_unfocused_window_alerts_and_counts(chat):
    presenter, view = chat
    presenter.focus_changed(False)
    presenter.on_message(message(1))
    presenter.on_message(message(2))
    assert view.count("alert") == 2
    assert view.last("set_title") == ("(2) new — chatroom",)
    presenter.focus_changed(True)
    assert view.last("set_title") == ("chatroom — me",)


def test_alert_respects_setting(chat):
    presenter, view = chat
    presenter.app.settings.notify = False
    presenter.focus_changed(False)
    presenter.on_message(message(1))
    assert view.count("alert") == 0


def test_view_keeps_a_bounded_number_of_messages(chat):
    presenter, view = chat
    for i in range(1, MAX_VIEW_MESSAGES + 50):
        presenter.on_message(message(i))
    assert len(presenter.conversations[PUBLIC]) == MAX_VIEW_MESSAGES
    # The view drops the oldest entries one at a time; it is never redrawn whole for that.
    assert view.count("drop_oldest") == 49 and view.count("show_conversation") <= 1


def test_send_validates_and_targets_current_conversation(chat):
    presenter, view = chat
    presenter.send("   ")
    assert presenter.session.requests == []
    presenter.switch_to("bob")
    presenter.send("hello\n")
    assert presenter.session.requests == [("say", "hello", "bob")]
    assert view.count("clear_input") == 1


def test_counter_appears_near_the_limit(chat):
    presenter, view = chat
    presenter.typed("x" * 10)
    assert view.last("set_counter") == ("",)
    presenter.typed("x" * 3900)
    assert view.last("set_counter") == ("3900 / 4000",)


def test_load_older_asks_before_the_oldest_and_prepends(chat):
    presenter, view = chat
    presenter.on_welcome({"online": [], "history": [message(10), message(11)]})
    presenter.load_older()
    assert presenter.session.requests[-1] == ("history", 10, None, "lobby only")
    presenter.session.history_callback({"status": "ok", "messages": [message(8), message(9)]})
    # 10 now continues bob's 9 (grouped, no header): it is drawn again after them.
    assert view.last("drop_oldest") == (1,)
    assert [e["msg_id"] for e in view.last("prepend_entries")[0]] == [8, 9, 10]
    assert [e["msg_id"] for e in presenter.conversations[PUBLIC]] == [8, 9, 10, 11]


def test_presence_updates_online_list_and_notices(chat):
    presenter, view = chat
    presenter.on_welcome({"online": ["me"], "history": []})
    presenter.on_presence({"user": "Zed", "online": True})
    presenter.on_presence({"user": "amy", "online": True})
    assert view.last("set_online") == (["amy", "me", "Zed"],)
    presenter.on_presence({"user": "amy", "online": False})
    assert "amy left" in [e["text"] for e in presenter.conversations[PUBLIC]]


def test_register_hints_follow_the_shared_rules():
    app = FakeApp()
    values = {"username": "12345", "password": "abc", "confirm": "abd", "phone": "1380013800",
              "code": "", "email": "x@y"}
    view = Recorder(values=values)
    presenter = RegisterPresenter(app, app.session, view)
    presenter.start()
    assert view.last("set_code_visible") == (False,)  # the server said sms: off
    for name in values:
        presenter.check(name)
    hints = {args[0]: (args[1], args[2]) for n, args in view.calls if n == "set_hint"}
    assert hints["username"] == ("hint.username", False)
    assert hints["password"] == ("hint.password", False)
    assert hints["confirm"] == ("hint.confirm_mismatch", False)
    assert hints["phone"] == ("hint.phone", False)
    assert hints["email"] == ("hint.email", False)
    values.update(username="alice", password="abcdefg1", confirm="abcdefg1",
                  phone="13800138000", email="")
    for name in values:
        presenter.check(name)
    hints = {args[0]: (args[1], args[2]) for n, args in view.calls if n == "set_hint"}
    assert all(hints[n] == ("hint.ok", True) for n in ("username", "password", "confirm",
                                                       "phone", "email"))


def test_register_countdown():
    app = FakeApp()
    now = [100.0]
    view = Recorder(values={"phone": "13800138000"})
    presenter = RegisterPresenter(app, app.session, view, clock=lambda: now[0])
    presenter.send_code()
    now[0] += 15.2
    presenter.tick()
    assert view.last("set_send_code") == (False, "Resend in 45 s")
    now[0] += 45
    presenter.tick()
    assert view.last("set_send_code") == (True, "Send code")


def test_login_presenter_validates_before_connecting():
    app = FakeApp()
    view = Recorder(fields=("bad:address:x", "me", "pw"))
    LoginPresenter(app, view).submit()
    assert app.connected is None and "host:port" in view.last("show_error")[0]
    view.returns["fields"] = ("10.0.0.5:7000", "me", "wrong")
    LoginPresenter(app, view).submit()
    assert app.connected == ("10.0.0.5", 7000)
    assert view.last("show_error") == ("Wrong username/phone or password.",)


def test_files_presenter_groups_folders_and_refuses_unsafe_names(tmp_path):
    view = Recorder()
    app = FakeApp()
    files = FilesPresenter(app, app.session, view)
    records = [{"file_id": i, "name": n, "owner": "me", "size": 1, "sha256": "0" * 64,
                "type": "x", "uploaded_at": float(i)} for i, n in
               enumerate(["a.txt", "hw/1.txt", "hw/sub/2.txt", "../evil"], 1)]
    files.on_files(records, False)
    tree = view.last("show_files")[0]
    assert [folder for folder, _ in tree] == [None, Folder("me", ".."), Folder("me", "hw")]
    assert [r["name"] for r in tree[2][1]] == ["hw/sub/2.txt", "hw/1.txt"]  # newest first
    files.download([], Folder("me", "hw"), str(tmp_path))
    assert sorted(t.dest for t in files.queue.items) == [
        os.path.join(str(tmp_path), "hw", "1.txt"),
        os.path.join(str(tmp_path), "hw", "sub", "2.txt")]
    files.download([4], None, str(tmp_path))
    assert "Unsafe" in view.last("show_error")[0]
    assert len(files.queue.items) == 2


@pytest.mark.parametrize("text,expected", [
    ("10.0.0.5", ("10.0.0.5", 9999)), ("10.0.0.5:7000", ("10.0.0.5", 7000)),
    ("[::1]:9000", ("::1", 9000)), ("host.lab", ("host.lab", 9999)), ("", None),
    ("a:b", None), ("a:70000", None), ("[::1", None), ("::1", ("::1", 9999)),
    ("bad:address:x", None)])
def test_parse_address(text, expected):
    assert parse_address(text) == expected


def test_safe_local_path(tmp_path):
    root = str(tmp_path)
    assert safe_local_path(root, "a/b.txt") == os.path.join(root, "a", "b.txt")
    for bad in ("../x", "/etc/passwd", "a/../../x", "a\\b", "a\x00"):
        assert safe_local_path(root, bad) is None


def test_folder_entries_keep_relative_paths(tmp_path):
    (tmp_path / "hw" / "w1").mkdir(parents=True)
    (tmp_path / "hw" / "w1" / "a.txt").write_text("a")
    (tmp_path / "hw" / "b.txt").write_text("b")
    names = [name for _, name in folder_entries(str(tmp_path / "hw"))]
    assert names == ["hw/b.txt", "hw/w1/a.txt"]


def test_catalog_has_both_languages_for_every_string():
    for key, entry in STRINGS.items():
        assert entry.get("en") and entry.get("zh"), key
    assert Catalog("zh")("login.title") == "登录"
    assert Catalog("xx")("login.title") == "Log in"


def test_language_detection():
    assert detect_language({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert detect_language({"LANG": "en_US.UTF-8"}) == "en"
    assert detect_language({"LC_ALL": "zh_TW"}) == "zh"


def test_settings_round_trip_and_damaged_file(tmp_path):
    path = str(tmp_path / "c.json")
    ClientSettings(server="h:1", language="zh").save(path)
    assert ClientSettings.load(path).server == "h:1"
    with open(path, "w") as f:
        f.write("{broken")
    assert ClientSettings.load(path).server == "127.0.0.1:9999"


def test_a_folder_is_one_owners_and_downloads_only_their_files(tmp_path):
    """Issue #15, defect 11: bob's notes/ must not join (or shadow files in) alice's notes/."""
    view = Recorder()
    app = FakeApp()
    files = FilesPresenter(app, app.session, view)
    files.on_files([{"file_id": i, "name": n, "owner": o, "size": 1, "sha256": "0" * 64,
                     "type": "x", "uploaded_at": float(i)} for i, (o, n) in
                    enumerate([("alice", "notes/a.txt"), ("bob", "notes/b.txt"),
                               ("bob", "notes/a.txt")], 1)], False)
    tree = view.last("show_files")[0]
    assert [(folder, [r["file_id"] for r in records]) for folder, records in tree] == [
        (None, []), (Folder("alice", "notes"), [1]), (Folder("bob", "notes"), [3, 2])]
    files.download([], Folder("alice", "notes"), str(tmp_path))
    assert [(t.record["file_id"], t.dest) for t in files.queue.items] == [
        (1, os.path.join(str(tmp_path), "notes", "a.txt"))]


def test_login_after_registration_prefills_the_new_name():
    app = FakeApp()
    view = Recorder()
    LoginPresenter(app, view).registered("newbie")
    assert view.last("prefill") == ("newbie",)
    assert view.last("show_info") == ("Account created. You can log in now.",)


def test_register_window_closed_before_the_reply_shows_nothing_late():
    app = FakeApp()
    view = Recorder(values={"phone": "13800138000"})
    replies = []
    app.session.send_code = lambda phone, callback: replies.append(callback)
    presenter = RegisterPresenter(app, app.session, view)
    presenter.send_code()
    presenter.cancel()
    assert app.calls == ["close_register"]
    presenter.close()  # what the App does when it closes the window
    drawn = len(view.calls)
    replies[0]({"status": "ok", "retry_after": 60})
    presenter.tick()
    assert len(view.calls) == drawn


def test_preferences_show_the_settings_and_save_the_choice():
    app = FakeApp()
    app.settings.download_dir = "/tmp/dl"
    presenter = PreferencesPresenter(app)
    assert presenter.current() == Preferences("en", "127.0.0.1:9999", "/tmp/dl", True)
    presenter.save(Preferences("zh", "10.0.0.5:9999", "/tmp/x", False))
    assert app.remembered == {"language": "zh", "server": "10.0.0.5:9999",
                              "download_dir": "/tmp/x", "notify": False, "font_size": 10,
                              "theme": "light"}


# -- the limits of docs/PROTOCOL.md §10, as the presenters show them --------------------------

LAST_WORD = {"op": "error", "status": "rate_limited", "message": "too many", "retry_after": 5}


def records(*names, owner="me", first_id=1):
    """File records newest first, as a list page has them: the first name is the newest."""
    n = len(names)
    return [{"file_id": first_id + n - 1 - i, "name": name, "owner": owner, "size": 1,
             "sha256": "0" * 64, "type": "x", "uploaded_at": float(first_id + n - 1 - i)}
            for i, name in enumerate(names)]


def test_files_come_a_page_at_a_time_with_load_more():
    view = Recorder()
    app = FakeApp()
    files = FilesPresenter(app, app.session, view)
    files.on_files(records("e.txt", "d.txt", first_id=4), True)
    assert view.last("show_more") == ("The newest 2 files are shown; older ones remain.", False)
    files.load_more()
    files.load_more()  # a second click while the page is on its way asks for nothing more
    assert app.session.requests == [("list", 4, FILES_PAGE)]
    assert view.last("show_more")[1] is True
    app.session.list_callback({"status": "ok", "files": records("c.txt", "b.txt", first_id=2),
                               "more": True})
    assert sorted(files.files) == [2, 3, 4, 5]
    files.load_more()
    assert app.session.requests[-1] == ("list", 2, FILES_PAGE)
    app.session.list_callback({"status": "ok", "files": records("a.txt"), "more": False})
    assert sorted(files.files) == [1, 2, 3, 4, 5]
    assert view.last("show_more") == ("", False)  # nothing older: the control goes
    files.load_more()
    assert len(app.session.requests) == 2


def test_a_page_asked_for_before_a_refresh_is_not_merged():
    view = Recorder()
    app = FakeApp()
    files = FilesPresenter(app, app.session, view)
    files.on_files(records("e.txt", "d.txt", first_id=4), True)
    files.load_more()
    stale = app.session.list_callback
    files.on_files(records("f.txt", "e.txt", first_id=5), True)  # a fresh first page
    stale({"status": "ok", "files": records("c.txt", "b.txt", first_id=2), "more": True})
    assert sorted(files.files) == [5, 6]
    assert view.last("show_more") == ("The newest 2 files are shown; older ones remain.", False)


def test_folder_download_looks_through_the_pages_not_loaded_yet(tmp_path):
    view = Recorder()
    app = FakeApp()
    files = FilesPresenter(app, app.session, view)
    files.on_files(records("hw/new.txt", "x.txt", first_id=5), True)
    files.download([], Folder("me", "hw"), str(tmp_path))
    assert app.session.requests == [("list_all", 5)] and files.queue.items == []
    assert view.last("show_info") == ("Looking through all shared files for this folder…",)
    app.session.list_callback({"status": "ok", "more": False,
                               "files": records("y.txt", "hw/old.txt", "hw/sub/older.txt")})
    assert sorted(t.name for t in files.queue.items) == [
        "hw/new.txt", "hw/old.txt", "hw/sub/older.txt"]
    assert view.last("show_more") == ("", False) and view.last("show_info") == ("",)


def test_folder_download_says_when_the_bound_left_older_files_out(tmp_path):
    view = Recorder()
    app = FakeApp()
    app.tr = Catalog("zh")
    files = FilesPresenter(app, app.session, view)
    files.on_files(records("hw/new.txt", first_id=9), True)
    files.download([], Folder("me", "hw"), str(tmp_path))
    app.session.list_callback({"status": "ok", "more": True,
                               "files": records("hw/a.txt", "hw/b.txt", first_id=3)})
    assert len(files.queue.items) == 3
    assert view.last("show_info") == (
        "只查找了最新的 3 个共享文件；该文件夹中更早的文件不会下载。",)


@pytest.mark.parametrize("lang,expected", [
    ("en", "failed: You have no room left for files on this server; delete some of yours "
           "first."),
    ("zh", "失败：你在此服务器上的文件空间已用完，请先删除一些你的文件。")])
def test_quota_exceeded_is_a_sentence_in_the_transfer_row(tmp_path, lang, expected):
    app = FakeApp()
    app.tr = Catalog(lang)
    files = FilesPresenter(app, app.session, Recorder())
    (tmp_path / "big.bin").write_bytes(b"x" * 10)
    upload = files.queue.add(Upload(str(tmp_path / "big.bin"), "big.bin"))
    upload.fail("quota_exceeded", {"op": "upload", "status": "quota_exceeded",
                                   "message": "You have no room left for files"})
    assert files.transfer_rows()[0][3] == expected


def test_transfer_waiting_after_a_refusal_says_why(tmp_path):
    app = FakeApp()
    files = FilesPresenter(app, app.session, Recorder())
    (tmp_path / "a.txt").write_bytes(b"a")
    upload = files.queue.add(Upload(str(tmp_path / "a.txt"), "a.txt"))
    upload.refusal = Refusal.ACCOUNT
    assert files.transfer_rows()[0][3].startswith(
        "waiting: Too many connections for this account.")


def test_a_message_the_server_refuses_goes_back_into_the_input(chat):
    presenter, view = chat
    presenter.send("hello\x07")
    assert presenter.session.requests == []  # refused here already: nothing sent
    presenter.send("x" * 10)
    assert view.count("clear_input") == 1 and view.last("set_draft_note") == ("",)
    presenter.session.say_callback({"op": "say", "status": "bad_request",
                                    "message": "'text' is not allowed here"})
    assert view.last("restore_draft") == ("x" * 10,)
    assert view.last("set_draft_note") == (
        "The server refused this message: 'text' is not allowed here",)


def test_flood_control_names_the_wait_and_keeps_the_draft(chat):
    presenter, view = chat
    presenter.send("fast")
    presenter.session.say_callback({"op": "say", "status": "rate_limited", "retry_after": 3})
    assert view.last("restore_draft") == ("fast",)
    assert view.last("set_draft_note") == (
        "You are sending too fast. Try again in 3 s; your message is still here.",)
    presenter.tr = Catalog("zh")
    presenter.send("快")
    presenter.session.say_callback({"op": "say", "status": "rate_limited", "retry_after": 2})
    assert view.last("set_draft_note") == ("发送太快了，请 2 秒后再试；消息没有丢失。",)


def test_an_acknowledged_message_restores_nothing(chat):
    presenter, view = chat
    presenter.send("fine")
    presenter.session.say_callback({"op": "say", "status": "ok", "msg_id": 1, "ts": 1.0})
    assert view.count("restore_draft") == 0


def test_status_bar_explains_a_refused_reconnect(chat):
    presenter, view = chat
    presenter.session.refusal = Refusal.ADDRESS
    presenter.on_state("reconnecting", "10")
    assert view.last("set_status") == (
        "Too many connections from this computer. Close other chatroom windows and try "
        "again. Trying again in 10 s.",)
    presenter.session.refusal = None
    presenter.on_state("reconnecting", "2")
    assert view.last("set_status") == ("Connection lost — reconnecting in 2 s",)


@pytest.mark.parametrize("reply,expected", [
    ({"status": "rate_limited", "retry_after": 42}, "Too many attempts. Try again in 42 s."),
    ({"status": "rate_limited"}, "Too many attempts. Try again in a little while."),
    ({"status": "disconnected", "message": "closed", "last_word": LAST_WORD},
     "Too many connections from this computer. Close other chatroom windows and try again."),
    ({"status": "disconnected", "message": "nothing is listening"},
     "Error: nothing is listening")])
def test_login_explains_limits_with_the_servers_retry_after(reply, expected):
    app = FakeApp()
    app.session.login_reply = dict(reply, op="login")
    view = Recorder(fields=("10.0.0.5:7000", "me", "pw"))
    LoginPresenter(app, view).submit()
    assert view.last("show_error") == (expected,)


@pytest.mark.parametrize("status,expected", [
    ("logged_out", "You were logged out (perhaps from another window). Log in again to go on."),
    ("unauthorized", "Your login is no longer valid. Log in again to go on.")])
def test_login_window_says_why_the_session_ended(status, expected):
    app = FakeApp()
    view = Recorder()
    LoginPresenter(app, view).ended(status)
    assert view.last("show_error") == (expected,)


def test_send_code_rate_limit_counts_down_from_retry_after():
    app = FakeApp()
    now = [100.0]
    view = Recorder(values={"phone": "13800138000"})
    app.session.send_code = lambda phone, callback: callback(
        {"op": "send_code", "status": "rate_limited", "retry_after": 540})
    presenter = RegisterPresenter(app, app.session, view, clock=lambda: now[0])
    presenter.send_code()
    assert view.last("show_error") == ("Too many attempts. Try again in 540 s.",)
    now[0] += 40
    presenter.tick()
    assert view.last("set_send_code") == (False, "Resend in 500 s")


# -- the teacher's controls (docs/PROTOCOL.md §11) -------------------------------------------

def teacher_chat(lang="en"):
    """A chat presenter whose user is a teacher, welcomed into the room."""
    view = Recorder()
    app = FakeApp()
    app.tr = Catalog(lang)
    app.session.role = "admin"
    app.session.admins = {"me"}
    presenter = ChatPresenter(app, app.session, view)
    presenter.on_welcome({"online": ["bob", "me"], "history": []})
    return presenter, view


def feed(presenter, event):
    """An event from the server, as the session passes it on (noting what it changes)."""
    presenter.session.listener = presenter
    presenter.session._event(event)


def clock(ts):
    return time.strftime("%H:%M", time.localtime(ts))


@pytest.mark.parametrize("lang,badge,title", [("en", "Teacher", "chatroom — me (Teacher)"),
                                              ("zh", "老师", "聊天室 — me（老师）")])
def test_a_teacher_sees_the_role_badge_and_the_quiet_switch(lang, badge, title):
    presenter, view = teacher_chat(lang)
    assert view.last("set_badge") == (badge,)
    assert view.last("set_title") == (title,)
    assert view.last("set_admin_controls") == (True, False)
    assert view.count("set_input_lock") == 0  # a teacher's input is never closed


def test_a_member_has_no_badge_and_no_switch(chat):
    presenter, view = chat
    presenter.on_welcome({"online": ["me"], "history": []})
    assert view.last("set_badge") == ("",)
    assert view.last("set_admin_controls") == (False, False)
    assert view.last("set_title") == ("chatroom — me",)


def test_the_user_menu_offers_moderation_to_teachers_only(chat):
    presenter, view = chat
    assert presenter.user_actions("bob") == [("Private message", "private")]
    assert presenter.user_actions("me") == []
    presenter.user_action("bob", "mute:5")  # a member's client sends no admin op
    assert presenter.session.requests == []
    teacher, _ = teacher_chat()
    assert [label for label, _ in teacher.user_actions("bob")] == [
        "Private message", "Mute for 5 minutes", "Mute for 1 hour", "Mute for a day",
        "Unmute", "Remove from the chat", "Remove and ban for a day"]
    feed(teacher, {"op": "moderation", "action": "quiet", "on": True, "room": 1,
                   "by": "Principal"})
    assert teacher.user_actions("principal") == [("Private message", "private")]


def test_moderation_actions_send_the_admin_ops_and_explain_a_refusal():
    presenter, view = teacher_chat()
    session = presenter.session
    presenter.user_action("bob", "mute:60")
    assert session.requests[-1] == ("mute", {"user": "bob", "minutes": 60})
    session.callbacks["mute"]({"op": "mute", "status": "forbidden"})
    assert view.last("show_error") == ("Teachers cannot be muted or removed.",)
    presenter.user_action("bob", "unmute")
    assert session.requests[-1] == ("unmute", {"user": "bob"})
    presenter.user_action("bob", "kick:1440")
    assert session.requests[-1] == ("kick", {"user": "bob", "minutes": 1440})
    session.callbacks["kick"]({"op": "kick", "status": "no_such_user"})
    assert view.last("show_error") == ("There is no such user.",)
    presenter.user_action("bob", "private")
    assert presenter.current == "bob"


def test_moderation_events_are_notices_in_the_room(chat):
    presenter, view = chat
    until = presenter.session.now + 3600
    for event, text in [
            ({"action": "mute", "user": "bob", "by": "teacher", "until": until},
             "bob was muted until %s by teacher" % clock(until)),
            ({"action": "unmute", "user": "bob", "by": "teacher"},
             "bob may speak again (unmuted by teacher)"),
            ({"action": "kick", "user": "bob", "by": "teacher", "until": 0},
             "bob was removed from the chat by teacher"),
            ({"action": "kick", "user": "eve", "by": "teacher", "until": until},
             "eve was removed from the chat by teacher until %s" % clock(until)),
            ({"action": "quiet", "on": True, "room": 1, "by": "teacher"},
             "teacher made the room quiet: only the teacher speaks")]:
        feed(presenter, dict(event, op="moderation"))
        assert view.last("append_entry")[0]["text"] == text
        assert view.last("append_entry")[0]["kind"] == "system"


def test_a_muted_member_sees_why_and_may_still_write_to_the_teacher(chat):
    presenter, view = chat
    session = presenter.session
    presenter.on_welcome({"online": ["me", "teacher"], "history": []})
    assert view.last("mark_teachers") == ([],)  # nobody is known to be a teacher yet
    until = session.now + 300
    feed(presenter, {"op": "moderation", "action": "mute", "user": "me",
                     "by": "teacher", "until": until})
    assert view.last("mark_teachers") == (["teacher"],)  # whom the student may ask
    assert view.last("set_input_lock") == (
        "You are muted until %s. You may still write to the teacher privately." % clock(until),)
    presenter.send("hello?")
    assert session.requests == []  # closed: nothing fails on send, nothing is sent
    presenter.switch_to("teacher")  # the teacher is known now: by whom the mute came
    assert view.last("set_input_lock") == ("",)
    presenter.send("may I ask?")
    assert session.requests == [("say", "may I ask?", "teacher")]
    presenter.switch_to(PUBLIC)
    assert view.last("set_input_lock")[0].startswith("You are muted until")
    session.now = until + 1  # the mute runs out: the next tick opens the input
    presenter.tick()
    assert view.last("set_input_lock") == ("",)


def test_a_quiet_room_closes_the_members_input_until_it_ends(chat):
    presenter, view = chat
    presenter.session.quiet = True  # as the chat auth reply said
    presenter.on_welcome({"online": ["me"], "history": []})
    assert view.last("set_input_lock") == (
        "The room is quiet: only the teacher speaks. You may still write to the teacher "
        "privately.",)
    feed(presenter, {"op": "moderation", "action": "quiet", "on": False, "room": 1,
                     "by": "teacher"})
    assert view.last("set_input_lock") == ("",)
    assert presenter.session.is_known_admin("Teacher")


def test_a_refused_say_closes_the_input_it_was_not_told_about(chat):
    presenter, view = chat
    presenter.on_welcome({"online": ["me", "bob"], "history": []})
    presenter.send("hi all")
    presenter.session.say_callback({"op": "say", "status": "muted", "retry_after": 120})
    assert view.last("restore_draft") == ("hi all",)
    assert view.last("set_draft_note")[0].startswith("You are muted until")
    assert view.last("set_input_lock")[0].startswith("You are muted until")
    presenter.switch_to("bob")  # nobody said bob is a teacher: the server decides
    assert view.last("set_input_lock") == ("",)
    presenter.send("psst")
    presenter.session.say_callback({"op": "say", "status": "muted", "retry_after": 119})
    assert view.last("set_input_lock")[0].startswith("You are muted until")  # bob is not
    assert view.last("restore_draft") == ("psst",)


def test_quiet_refusal_is_explained_in_the_draft_note(chat):
    presenter, view = chat
    presenter.send("hi")
    presenter.session.say_callback({"op": "say", "status": "forbidden"})
    assert view.last("set_draft_note") == (
        "The room is quiet: only the teacher speaks. Your message is still here; you may "
        "write to the teacher privately.",)
    assert presenter.session.quiet


def test_messages_offer_delete_to_their_author_and_to_teachers(chat):
    presenter, view = chat
    presenter.on_message(message(1, "me", text="mine"))
    presenter.on_message(message(2, "bob", text="bob's"))
    assert presenter.message_actions(1) == [("Delete message", "delete")]
    assert presenter.message_actions(2) == []
    presenter.message_action(1, "delete")
    assert presenter.session.requests[-1] == ("delete_message", {"msg_id": 1})
    presenter.session.callbacks["delete_message"]({"status": "not_found"})
    assert view.last("show_error") == ("That message is gone already.",)
    teacher, tview = teacher_chat()
    teacher.on_message(message(2, "bob", text="bob's"))
    assert teacher.message_actions(2) == [("Delete message", "delete")]
    teacher.message_action(2, "delete")
    teacher.session.callbacks["delete_message"]({"status": "forbidden"})
    assert tview.last("show_error") == ("You may delete only your own messages.",)


def test_a_deleted_message_is_replaced_where_it_was(chat):
    presenter, view = chat
    for i in (1, 2, 3):
        presenter.on_message(message(i, text="m%d" % i))
    presenter.on_message(message(4, "bob", "me", "private one"))
    feed(presenter, {"op": "message_deleted", "msg_id": 2, "by": "teacher"})
    entries = view.last("show_conversation")[0]
    assert [(e["kind"], e["text"]) for e in entries] == [
        ("other", "m1"), ("deleted", "message deleted by teacher"), ("other", "m3")]
    assert presenter.message_actions(2) == []
    feed(presenter, {"op": "message_deleted", "msg_id": 4, "by": "bob"})
    assert presenter.conversations["bob"][0]["kind"] == "deleted"
    drawn = view.count("show_conversation")
    feed(presenter, {"op": "message_deleted", "msg_id": 99, "by": "bob"})
    assert view.count("show_conversation") == drawn


def test_the_quiet_switch_asks_the_server_and_shows_the_truth_on_failure():
    presenter, view = teacher_chat()
    presenter.set_quiet(True)
    assert presenter.session.requests[-1] == ("quiet", {"on": True, "room": 1})
    presenter.session.callbacks["quiet"]({"op": "quiet", "status": "disconnected",
                                          "message": "not connected"})
    assert view.last("set_admin_controls") == (True, False)
    assert view.last("show_error") == ("Not connected to the server.",)
    feed(presenter, {"op": "moderation", "action": "quiet", "on": True, "room": 1,
                     "by": "me"})
    assert view.last("set_admin_controls") == (True, True)
    assert view.count("set_input_lock") == 0 and presenter.lock == ""  # teachers speak


@pytest.mark.parametrize("lang,template", [
    ("en", "You were removed until {}."), ("zh", "你已被移出聊天室，{} 之后才能重新登录。")])
def test_a_banned_login_says_until_when(lang, template):
    app = FakeApp()
    app.tr = Catalog(lang)
    app.session.login_reply = {"op": "login", "status": "banned", "retry_after": 5400}
    view = Recorder(fields=("10.0.0.5:7000", "me", "pw"))
    before = time.time()
    LoginPresenter(app, view).submit()
    after = time.time()
    assert view.last("show_error")[0] in {
        template.format(clock_text(t + 5400, t)) for t in (before, after)}


def test_a_kicked_user_is_told_who_why_and_until_when():
    app = FakeApp()
    view = Recorder()
    until = time.time() + 600
    LoginPresenter(app, view).kicked({"op": "kicked", "by": "teacher", "reason": "spam",
                                      "until": until})
    assert view.last("show_error") == (
        "teacher removed you from the chat. Reason: spam. You can log in again after %s."
        % clock_text(until),)  # with the date when the ban ends tomorrow (a run near midnight)
    LoginPresenter(app, view).kicked({"op": "kicked", "by": "teacher", "reason": "",
                                      "until": 0})
    assert view.last("show_error") == ("teacher removed you from the chat.",)


def test_clock_text_and_minutes():
    now = time.mktime((2026, 3, 28, 9, 0, 0, 0, 0, -1))
    assert clock_text(now + 3600, now) == "10:00"
    assert clock_text(now + 86400, now) == "03-29 09:00"
    assert [parse_minutes(t, 1) for t in ("5", "0", "10080", "10081", "x", "-5", "1.5", "")] \
        == [5, None, 10080, None, None, None, None, None]
    assert parse_minutes("0", 0) == 0


def hand_in_records():
    return [dict(r, visibility=v) for r, v in zip(
        records("hw.txt", "notes.txt", "hw.txt", "essay.pdf"),
        ("admins", "all", "admins", "admins"))]


def test_hand_ins_are_apart_from_shared_files_and_grouped_by_student(tmp_path):
    view = Recorder()
    app = FakeApp()
    app.session.role = "admin"
    files = FilesPresenter(app, app.session, view)
    recs = hand_in_records()
    recs[0]["owner"], recs[2]["owner"], recs[3]["owner"] = "ann", "Bob", "ann"
    files.on_files(recs, False)
    tree = view.last("show_files")[0]
    assert [[r["name"] for r in group] for _, group in tree] == [["notes.txt"]]
    groups = view.last("show_hand_ins")[0]
    assert [(student, [r["file_id"] for r in rs]) for student, rs in groups] == [
        ("ann", [4, 1]), ("Bob", [2])]
    files.download_hand_ins(None, str(tmp_path))
    assert [t.dest for t in files.queue.items] == [
        os.path.join(str(tmp_path), "ann", "essay.pdf"),
        os.path.join(str(tmp_path), "ann", "hw.txt"),
        os.path.join(str(tmp_path), "Bob", "hw.txt")]
    files.download_hand_ins("Bob", str(tmp_path / "again"))
    assert files.queue.items[-1].dest == os.path.join(str(tmp_path / "again"), "Bob", "hw.txt")
    assert len(files.queue.items) == 4


def test_download_all_hand_ins_reads_the_pages_not_loaded_yet(tmp_path):
    view = Recorder()
    app = FakeApp()
    files = FilesPresenter(app, app.session, view)
    files.on_files([dict(r, visibility="all") for r in records("new.txt", first_id=9)], True)
    files.download_hand_ins(None, str(tmp_path))
    assert app.session.requests == [("list_all", None)]
    assert view.last("show_info") == ("Looking through all files for hand-ins…",)
    app.session.list_callback({"status": "ok", "more": False, "files": hand_in_records()})
    assert sorted(t.name for t in files.queue.items) == ["essay.pdf", "hw.txt", "hw.txt"]


def test_hand_in_uploads_only_for_the_teachers_and_says_why_a_share_was_refused(tmp_path):
    app = FakeApp()
    files = FilesPresenter(app, app.session, Recorder())
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "a.txt").write_bytes(b"a")
    (tmp_path / "essay.txt").write_bytes(b"e")
    files.hand_in_paths([str(tmp_path / "essay.txt"), str(tmp_path / "hw")])
    assert [(t.name, t.visibility) for t in files.queue.items] == [
        ("essay.txt", "admins"), ("hw/a.txt", "admins")]
    files.upload_paths([str(tmp_path / "essay.txt")])
    shared = files.queue.items[-1]
    assert shared.visibility == "all"
    shared.fail("forbidden", {"op": "upload", "status": "forbidden", "message": "no"})
    assert files.transfer_rows()[-1][3] == (
        "failed: On this server only the teacher shares files. Use Hand in… to give your "
        "work to the teacher.")


def test_deleting_someone_elses_file_is_explained():
    view = Recorder()
    app = FakeApp()
    asked = []
    app.session.delete_file = lambda file_id, callback: (asked.append(file_id),
                                                         callback({"status": "forbidden"}))
    files = FilesPresenter(app, app.session, view)
    record = {"file_id": 3, "name": "a.txt", "owner": "bob", "size": 1, "sha256": "0" * 64,
              "type": "text/plain", "uploaded_at": 1.0}
    files.on_files([record], False)
    files.delete([3])  # bob's: refused here, the server is not asked
    assert view.last("show_error") == ("Only its owner or a teacher may delete this file.",)
    assert asked == []
    files.on_files([dict(record, owner="me")], False)
    files.delete([3])  # ours as far as we know, but the server says no
    assert asked == [3]
    assert view.last("show_error") == ("Only its owner or a teacher may delete this file.",)


def audit_entries(first, n):
    return [{"id": i, "ts": 1764169937.0, "by": "teacher", "action": action, "user": "bob",
             "detail": "5 minutes"} for i, action in zip(range(first, first - n, -1),
                                                        ["mute", "kick", "lecture"] * n)]


def test_the_audit_window_pages_back_and_names_the_actions():
    app = FakeApp()
    app.tr = Catalog("zh")
    view = Recorder()
    audit = AuditPresenter(app, app.session)
    audit.attach(view)
    assert app.session.requests == [("audit", {"limit": AUDIT_PAGE})]
    app.session.callbacks["audit"]({"status": "ok", "entries": audit_entries(60, AUDIT_PAGE)})
    rows = view.last("show_rows")[0]
    assert [row[3] for row in rows[:3]] == ["禁言", "移出", "lecture"]
    assert rows[0][0] == 60 and rows[0][2] == "teacher" and rows[0][5] == "5 minutes"
    assert view.last("set_more") == (True,)
    audit.load_older()
    assert app.session.requests[-1] == ("audit", {"limit": AUDIT_PAGE, "before": 11})
    app.session.callbacks["audit"]({"status": "ok", "entries": audit_entries(10, 3)})
    assert len(view.last("show_rows")[0]) == AUDIT_PAGE + 3
    assert view.last("set_more") == (False,)
    audit.refresh()
    app.session.callbacks["audit"]({"status": "forbidden"})
    assert view.last("show_error") == ("你没有权限这样做。",)


# -- rooms (docs/PROTOCOL.md §12) ------------------------------------------------------------

def room_record(room, name, joined=True, private=False, topic="", members=2):
    return {"room": room, "name": name, "topic": topic, "private": private, "owner": "ann",
            "members": members, "joined": joined}


def room_message(msg_id, room, sender="bob", text="hi"):
    return dict(message(msg_id, sender, None, text), room=room)


def welcomed_with_rooms(chat):
    presenter, view = chat
    presenter.on_welcome({"online": ["me"], "history": [room_message(1, 1, text="lobby"),
                                                        room_message(2, 7, text="phys")],
                          "rooms": [room_record(1, "lobby"),
                                    room_record(7, "physics", topic="optics")]})
    return presenter, view


def test_the_list_is_lobby_then_rooms_then_private_conversations(chat):
    presenter, view = welcomed_with_rooms(chat)
    presenter.on_message(message(3, "bob", "me", "psst"))
    presenter.on_room_event({"op": "room", "room": room_record(9, "Art", private=True)})
    items, current = view.last("set_conversations")
    assert [(key, label) for key, label, _ in items] == [
        (PUBLIC, "Everyone"), ("room 9", "# Art (private)"), ("room 7", "# physics"),
        ("bob", "Private: bob")]
    assert current == PUBLIC


def test_room_messages_go_to_their_room_with_unread_counts(chat):
    presenter, view = welcomed_with_rooms(chat)
    assert [e["text"] for e in presenter.conversations[PUBLIC]] == ["lobby"]
    assert [e["text"] for e in presenter.conversations["room 7"]] == ["phys"]
    presenter.on_message(room_message(4, 7, text="more"))
    presenter.on_message(room_message(5, 1, text="hello all"))
    assert presenter.unread["room 7"] == 1 and presenter.unread[PUBLIC] == 0
    assert ("room 7", "# physics", 1) in view.last("set_conversations")[0]
    # The lobby is shown: the room's message was not drawn there.
    assert [e[0]["text"] for n, e in view.calls if n == "append_entry"] == ["lobby",
                                                                            "hello all"]
    presenter.switch_to("room 7")
    assert presenter.unread["room 7"] == 0
    # The line says where what came while the room was not shown begins.
    assert [e["text"] for e in view.last("show_conversation")[0]] == ["phys", "new messages",
                                                                      "more"]
    assert view.last("set_topic") == ("physics · 2 members — optics",)
    assert view.last("set_room_actions") == (True,)
    presenter.switch_to(PUBLIC)
    assert view.last("set_topic") == ("",) and view.last("set_room_actions") == (False,)


def test_sending_and_loading_older_in_a_room_name_the_room(chat):
    presenter, view = welcomed_with_rooms(chat)
    presenter.switch_to("room 7")
    presenter.send("hello physics")
    presenter.load_older()
    presenter.switch_to(PUBLIC)
    presenter.send("hello lobby")
    presenter.switch_to("bob")
    presenter.send("hello bob")
    assert presenter.session.requests == [
        ("say", "hello physics", None, 7), ("history", 2, None, 7),
        ("say", "hello lobby", None), ("say", "hello bob", "bob")]


def test_create_join_invite_and_leave_rooms(chat):
    presenter, view = welcomed_with_rooms(chat)
    session = presenter.session
    presenter.create_room(" chem ", "labs", True)
    assert session.requests[-1] == ("create_room", {"name": "chem", "topic": "labs",
                                                    "private": True})
    session.callbacks["create_room"]({"status": "room_taken"})
    assert view.last("show_error") == ("A room with that name exists.",)
    presenter.create_room("chem", "", False)
    session.callbacks["create_room"]({"status": "ok", "room": room_record(8, "chem",
                                                                          members=1)})
    assert presenter.current == "room 8"
    presenter.invite("carl")
    assert session.requests[-1] == ("invite", {"room": 8, "user": "carl"})
    session.callbacks["invite"]({"status": "ok"})
    assert presenter.conversations["room 8"][-1]["text"] == "You invited carl to chem"
    presenter.leave()
    assert session.requests[-1] == ("leave", {"room": 8})
    session.callbacks["leave"]({"status": "ok"})
    assert presenter.current == PUBLIC and "room 8" not in presenter.conversations
    assert presenter.conversations[PUBLIC][-1]["text"] == "You left chem"
    presenter.join_room(12)
    session.callbacks["join"]({"status": "not_found"})
    assert view.last("show_error") == ("There is no such room (or it is private).",)


def test_an_invitation_is_a_notice_with_join_and_the_room_fills_on_joining(chat):
    presenter, view = welcomed_with_rooms(chat)
    presenter.on_room_event({"op": "invited", "by": "ann",
                             "room": room_record(5, "secret", joined=False, private=True)})
    assert view.last("show_invitation") == (5, "ann invited you to secret")
    presenter.join_room(5)
    presenter.session.callbacks["join"]({"status": "ok", "room": room_record(5, "secret",
                                                                            private=True)})
    assert view.last("hide_invitation") == (5,) and presenter.current == "room 5"
    assert presenter.session.requests[-1] == ("history", None, None, 5)
    presenter.session.history_callback({"status": "ok",
                                        "messages": [room_message(3, 5, "ann", "welcome")]})
    assert [e["text"] for e in presenter.conversations["room 5"]] == ["welcome"]


def test_a_closed_room_goes_away_with_a_notice_and_members_come_and_go(chat):
    presenter, view = welcomed_with_rooms(chat)
    presenter.switch_to("room 7")
    presenter.on_room_event({"op": "joined", "room": 7, "user": "carl"})
    assert presenter.conversations["room 7"][-1]["text"] == "carl joined physics"
    assert presenter.rooms[7]["members"] == 3
    presenter.on_room_event({"op": "joined", "room": 7, "user": "me"})  # counted already
    assert presenter.rooms[7]["members"] == 3
    presenter.on_room_event({"op": "joined", "room": 99, "user": "carl"})  # not ours
    presenter.on_room_event({"op": "room_closed", "room": 7})
    assert presenter.current == PUBLIC and 7 not in presenter.rooms
    assert presenter.conversations[PUBLIC][-1]["text"] == "The room physics was closed"
    assert all(key != "room 7" for key, _, _ in view.last("set_conversations")[0])


def test_a_quiet_lobby_does_not_close_the_input_of_another_room(chat):
    presenter, view = welcomed_with_rooms(chat)
    presenter.session.quiet = True
    presenter.switch_to(PUBLIC)
    assert presenter.lock
    presenter.switch_to("room 7")
    assert presenter.lock == ""


def test_a_quiet_room_closes_its_members_input_there_only(chat):
    presenter, view = welcomed_with_rooms(chat)
    feed(presenter, {"op": "moderation", "action": "quiet", "on": True, "room": 7,
                     "by": "ann"})
    assert presenter.conversations["room 7"][-1]["text"] == \
        "ann made this room quiet: only its owner and the teachers speak"
    assert presenter.lock == ""  # the lobby is shown, and it is not quiet
    presenter.switch_to("room 7")
    assert presenter.lock == "This room is quiet: only its owner and the teachers speak."
    assert view.last("set_admin_controls") == (False, True)  # ann's room, not ours
    presenter.switch_to(PUBLIC)
    assert presenter.lock == ""


def test_a_rooms_owner_has_its_quiet_switch_and_still_speaks_there(chat):
    presenter, view = welcomed_with_rooms(chat)
    presenter.on_room_event({"op": "room", "room": dict(room_record(9, "mine"), owner="me")})
    presenter.switch_to("room 9")
    assert view.last("set_admin_controls") == (True, False)
    presenter.set_quiet(True)
    assert presenter.session.requests[-1] == ("quiet", {"on": True, "room": 9})
    feed(presenter, {"op": "moderation", "action": "quiet", "on": True, "room": 9,
                     "by": "me"})
    assert view.last("set_admin_controls") == (True, True)
    assert presenter.lock == ""  # its owner may speak in a quiet room
    presenter.switch_to("room 7")  # ann's
    assert view.last("set_admin_controls") == (False, False)
    presenter.set_quiet(True)  # no switch there: nothing is asked
    assert presenter.session.requests[-1] == ("quiet", {"on": True, "room": 9})
    presenter.switch_to("bob")  # a private conversation has no switch
    assert view.last("set_admin_controls") == (False, False)


def test_a_teachers_switch_is_about_the_room_shown():
    presenter, view = teacher_chat()
    presenter.on_room_event({"op": "room", "room": room_record(7, "physics")})
    presenter.switch_to("room 7")
    presenter.set_quiet(True)
    assert presenter.session.requests[-1] == ("quiet", {"on": True, "room": 7})
    presenter.switch_to(PUBLIC)
    assert view.last("set_admin_controls") == (True, False)


def test_the_session_learns_the_quiet_rooms_from_replies_and_events():
    session = FakeSession()
    session.learn_quiet({"status": "ok", "rooms": [room_record(1, "lobby"),
                                                   room_record(7, "physics")],
                         "quiet_rooms": [7]})
    assert session.is_quiet(7) and not session.quiet
    session.join_room(5, lambda reply: None)
    session.callbacks["join"]({"status": "ok", "room": room_record(5, "art"), "quiet": True})
    assert session.is_quiet(5)
    session.rooms(lambda reply: None)
    session.callbacks["rooms"]({"status": "ok", "rooms": [room_record(5, "art")],
                                "quiet_rooms": []})
    assert not session.is_quiet(5) and session.is_quiet(7)  # 7 was not in this list
    session._event({"op": "room_closed", "room": 7})
    assert not session.is_quiet(7)
    session.note_say_reply(None, {"status": "forbidden"}, 3)
    session.note_say_reply("bob", {"status": "forbidden"})  # a private one: the lobby
    assert session.is_quiet(3) and session.quiet
