"""ui/ without a display: presenters with fake views, the session's address parsing, the
transfer helpers, the catalog and the settings file."""
import os

import pytest

from ui.i18n import STRINGS, Catalog, detect_language
from ui.presenters.chat import MAX_VIEW_MESSAGES, PUBLIC, ChatPresenter
from ui.presenters.files import FilesPresenter
from ui.presenters.login import LoginPresenter
from ui.presenters.preferences import Preferences, PreferencesPresenter
from ui.presenters.register import RegisterPresenter
from ui.session import parse_address
from ui.settings import ClientSettings
from ui.transfers import Folder, folder_entries, safe_local_path


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

    def say(self, text, to, callback):
        self.requests.append(("say", text, to))
        return True

    def history(self, before, with_user, callback, limit=50):
        self.requests.append(("history", before, with_user))
        self.history_callback = callback

    def hello(self, callback):
        callback({"status": "ok", "sms": "off"})

    def send_code(self, phone, callback):
        self.requests.append(("send_code", phone))
        callback({"status": "ok", "retry_after": 60})

    def open_file_connection(self):
        raise AssertionError("no transfers in these tests")

    def login(self, login, password, callback):
        self.requests.append(("login", login, password))
        callback({"status": "bad_credentials"})


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
    files.on_files(records)
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
                               ("bob", "notes/a.txt")], 1)])
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
