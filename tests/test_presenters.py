"""ui/ without a display: presenters with fake views, the session's address parsing, the
transfer helpers, the catalog and the settings file."""
import os

import pytest

from ui.i18n import STRINGS, Catalog, detect_language
from ui.presenters.chat import MAX_VIEW_MESSAGES, PUBLIC, ChatPresenter
from ui.presenters.files import FILES_PAGE, FilesPresenter
from ui.presenters.login import LoginPresenter
from ui.presenters.preferences import Preferences, PreferencesPresenter
from ui.presenters.register import RegisterPresenter
from ui.session import Refusal, parse_address
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


class FakeSession:
    def __init__(self):
        self.username = "me"
        self.requests = []
        self.state = "online"

    refusal = None
    login_reply = {"status": "bad_credentials"}

    def say(self, text, to, callback):
        self.requests.append(("say", text, to))
        self.say_callback = callback
        return True

    def list_files(self, callback, before=None, limit=None):
        self.requests.append(("list", before, limit))
        self.list_callback = callback

    def list_all_files(self, callback, before=None):
        self.requests.append(("list_all", before))
        self.list_callback = callback

    def refresh_files(self):
        self.requests.append(("refresh",))

    def history(self, before, with_user, callback, limit=50):
        self.requests.append(("history", before, with_user))
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
    assert presenter.session.requests[-1] == ("history", 10, None)
    presenter.session.history_callback({"status": "ok", "messages": [message(8), message(9)]})
    assert [e["msg_id"] for e in view.last("prepend_entries")[0]] == [8, 9]
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
                              "download_dir": "/tmp/x", "notify": False}


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
    assert view.last("set_draft_note") == ("发送太快了，请 2 秒后再试；消息仍保留在输入框中。",)


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
