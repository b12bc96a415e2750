"""Issue 20's last gaps, without a display: presenters that re-label themselves after a
language switch (files, audit, inspector), network errors in the user's language (a message
maybe not sent, the offline status, a transfer whose connection dropped), a folder upload as
one chat line, who deleted what, and why a session ended (a password changed or reset)."""
import pytest

from tests.test_presenters import FakeApp, FakeSession, Recorder
from ui.i18n import Catalog
from ui.presenters.audit import AuditPresenter
from ui.presenters.chat import FOLDER_BURST_S, PUBLIC, ChatPresenter, send_failure_text
from ui.presenters.files import FilesPresenter, failure_text
from ui.presenters.inspector import InspectorPresenter
from ui.presenters.login import LoginPresenter, ended_text
from ui.session import QuietListener
from ui.transfers import MAX_RETRIES, TransferQueue, Upload

RESET = "connection lost: [Errno 104] Connection reset by peer"
RESET_ZH = "连接被重置"  # net.reset in Chinese


def record(file_id, name, owner="alice", visibility="all"):
    return {"file_id": file_id, "name": name, "owner": owner, "size": 10, "type": "text/plain",
            "sha256": "0" * 64, "uploaded_at": 1764169937.0 + file_id,
            "visibility": visibility}


@pytest.fixture
def chat():
    view = Recorder()
    app = FakeApp()
    clock = [100.0]
    app.session.clock = lambda: clock[0]
    presenter = ChatPresenter(app, app.session, view)
    presenter.switch_to(PUBLIC)
    return presenter, view, clock


def public_texts(presenter):
    return [e["text"] for e in presenter.conversations[PUBLIC]]


# -- 1: a language switch re-labels what the presenters drew ------------------------------

def test_files_presenter_relabels_its_list_rows_and_transfers(tmp_path):
    view = Recorder()
    app = FakeApp()
    files = FilesPresenter(app, app.session, view, preview_dir=str(tmp_path / "p"))
    files.on_files([record(1, "hw/a.txt")], True)
    path = tmp_path / "up.txt"
    path.write_bytes(b"x")
    upload = files.queue.add(Upload(str(path), "up.txt"))
    upload.fail("quota_exceeded")
    app.tr.set_language("zh")
    files.relabel()
    assert view.last("show_more")[0] == "已显示最新的 1 个文件，还有更早的文件。"
    rows, summary, _ = view.last("show_transfers")
    assert rows[0].text.startswith("失败：") and summary.startswith("传输：")


def test_audit_presenter_relabels_the_actions_it_shows():
    view = Recorder()
    app = FakeApp()
    audit = AuditPresenter(app, app.session)
    audit.attach(view)
    app.session.callbacks["audit"]({"status": "ok", "entries": [
        {"id": 1, "ts": 1764169937.0, "by": "t", "action": "mute", "user": "bob",
         "detail": ""}]})
    english = view.last("show_rows")[0][0][3]
    app.tr.set_language("zh")
    audit.relabel()
    chinese = view.last("show_rows")[0][0][3]
    assert english.isascii() and not chinese.isascii()


def test_inspector_presenter_relabels_rows_pause_and_hint():
    view = Recorder()
    tr = Catalog("en")
    inspector = InspectorPresenter(tr)
    inspector.attach(view)

    class Conn:
        service = "chat"
    from ui.presenters.inspector import Direction
    inspector.on_frame(Conn(), Direction.IN, 1, b'{"op":"ping"}', {"op": "ping"}, 1)
    inspector.flush()
    assert view.last("add_rows")[0][0][1][1] == tr("inspector.in")
    tr.set_language("zh")
    inspector.relabel()
    assert view.last("add_rows")[0][0][1][1] == Catalog("zh")("inspector.in") != \
        Catalog("en")("inspector.in")
    assert view.last("show_detail")[0] == Catalog("zh")("inspector.hint")
    assert view.count("show_paused") == 2


# -- 2: network and OS errors in the user's language ---------------------------------------

def test_a_message_maybe_not_sent_says_why_in_chinese():
    text = send_failure_text(Catalog("zh"), {"status": "disconnected", "message": RESET})
    assert RESET_ZH in text and "Errno" not in text and "reset" not in text


def test_the_offline_status_line_says_why_in_chinese(chat):
    presenter, view, _ = chat
    presenter.app.tr.set_language("zh")
    presenter.on_state("offline", RESET)
    status = view.last("set_status")[0]
    assert RESET_ZH in status and "Errno" not in status


class DroppingConnection:
    """A file connection that is gone at once, the OS saying why."""

    closed = True
    error = RESET
    last_word = None

    def request(self, *args, **fields):
        pass

    def poll(self, max_read_bytes=None):
        return []

    def close(self):
        pass


def test_a_transfer_that_lost_its_connection_says_why_in_chinese(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"data")
    now = [0.0]
    queue = TransferQueue(lambda on_auth: DroppingConnection(), clock=lambda: now[0])
    upload = queue.add(Upload(str(path), "a.txt"))
    for _ in range(10 * MAX_RETRIES):
        queue.step()
        now[0] += 60
        if upload.finished:
            break
    assert upload.state == "failed" and upload.error == "connection_lost"
    text = failure_text(Catalog("zh"), upload)
    assert RESET_ZH in text and "Errno" not in text and "lost" not in text


def test_a_transfer_waiting_to_retry_says_why_in_chinese(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"data")
    app = FakeApp()
    app.tr.set_language("zh")
    files = FilesPresenter(app, app.session, Recorder(), preview_dir=str(tmp_path / "p"))
    files.queue = TransferQueue(lambda on_auth: DroppingConnection(), clock=lambda: 0.0)
    upload = files.queue.add(Upload(str(path), "a.txt"))
    files.queue.step()
    files.queue.step()
    assert upload.state == "waiting" and upload.retries == 1
    text = files.transfer_rows(0.0)[0].text
    assert RESET_ZH in text and "Errno" not in text


# -- 3: a folder upload is one chat line ----------------------------------------------------

def test_a_folder_upload_is_one_line_that_counts_its_files(chat):
    presenter, view, clock = chat
    for i in range(12):
        presenter.on_file_added({"file": record(i + 1, "hw/f%02d.txt" % i)})
        clock[0] += 0.1
    assert public_texts(presenter) == ["alice shared the folder hw/ (12 files)"]
    assert view.count("append_entry") == 1  # the first file's line, drawn at once
    assert view.last("append_entry")[0]["text"] == "alice shared hw/f00.txt"
    presenter.tick()  # the count is drawn once per tick, not once per file
    assert view.last("remove_entry") == (0,)
    assert view.last("append_entry")[0]["text"] == "alice shared the folder hw/ (12 files)"
    assert view.count("append_entry") == 2
    presenter.tick()
    assert view.count("append_entry") == 2  # nothing new: nothing redrawn


def test_a_folder_line_ends_with_a_pause_another_owner_folder_or_line(chat):
    presenter, view, clock = chat
    added = presenter.on_file_added
    added({"file": record(1, "hw/a.txt")})
    added({"file": record(2, "hw/b.txt")})
    clock[0] += FOLDER_BURST_S + 0.5  # a pause: a new line
    added({"file": record(3, "hw/c.txt")})
    added({"file": record(4, "hw/d.txt", owner="bob")})  # another owner
    added({"file": record(5, "lab/e.txt", owner="bob")})  # another folder
    added({"file": record(6, "lab/f.txt", owner="bob")})
    presenter.on_message({"op": "message", "msg_id": 9, "from": "carol", "to": None,
                          "text": "hi", "ts": 1764169937.0})
    added({"file": record(7, "lab/g.txt", owner="bob")})  # after a message: a new line
    added({"file": record(8, "notes.txt", owner="bob")})  # a loose file: its own line
    added({"file": record(9, "notes2.txt", owner="bob")})
    added({"file": record(10, "hw/h.txt", owner="bob", visibility="admins")})
    added({"file": record(11, "hw/i.txt", owner="bob", visibility="admins")})
    assert public_texts(presenter) == [
        "alice shared the folder hw/ (2 files)", "alice shared hw/c.txt",
        "bob shared hw/d.txt", "bob shared the folder lab/ (2 files)", "hi",
        "bob shared lab/g.txt", "bob shared notes.txt", "bob shared notes2.txt",
        "bob handed in the folder hw/ (2 files)"]
    # what the view drew ends up as the presenter's lines: each count drawn before the
    # next line came
    drawn = []
    for name, args in view.calls:
        if name == "append_entry":
            drawn.append(args[0]["text"])
        elif name == "remove_entry":
            del drawn[args[0]]
    presenter.tick()
    final = [args[0]["text"] for name, args in view.calls if name == "append_entry"][-1]
    assert drawn[:-1] == public_texts(presenter)[:-1]
    assert final == public_texts(presenter)[-1]


def test_a_folder_line_in_chinese(chat):
    presenter, _, _ = chat
    presenter.app.tr.set_language("zh")
    presenter.on_file_added({"file": record(1, "作业/a.txt")})
    presenter.on_file_added({"file": record(2, "作业/b.txt")})
    assert public_texts(presenter) == ["alice 分享了文件夹 作业/（2 个文件）"]


# -- 4: who deleted what --------------------------------------------------------------------

def test_a_deleted_file_notice_says_what_whose_and_by_whom(chat):
    presenter, _, clock = chat
    presenter.on_file_removed({"op": "file_removed", "file_id": 1, "by": "bob"},
                              record(1, "notes.txt"))
    presenter.on_file_removed({"op": "file_removed", "file_id": 2, "by": "alice"},
                              record(2, "own.txt"))
    presenter.on_file_removed({"op": "file_removed", "file_id": 3, "by": "bob"}, None)
    presenter.on_file_removed({"op": "file_removed", "file_id": 4}, None)  # an older server
    for i in range(5, 9):
        presenter.on_file_removed({"op": "file_removed", "file_id": i, "by": "teacher"},
                                  record(i, "hw/%d.txt" % i))
    assert public_texts(presenter) == [
        "bob deleted alice's notes.txt", "alice deleted own.txt",
        "bob deleted a shared file", "A shared file was removed",
        "teacher deleted alice's folder hw/ (4 files)"]
    presenter.app.tr.set_language("zh")
    clock[0] += 10
    presenter.on_file_removed({"op": "file_removed", "file_id": 1, "by": "bob"},
                              record(1, "notes.txt"))
    assert public_texts(presenter)[-1] == "bob 删除了 alice 的 notes.txt"


def test_the_files_presenter_remembers_what_it_removed_for_the_chat_notice(tmp_path):
    app = FakeApp()
    files = FilesPresenter(app, app.session, Recorder(), preview_dir=str(tmp_path))
    files.on_files([record(1, "notes.txt")], False)
    files.on_file_removed({"file_id": 1})  # our own delete's reply came first
    assert files.record(1)["name"] == "notes.txt"
    assert files.record(2) is None


# -- 5: why a session ended -----------------------------------------------------------------

class Ended(QuietListener):
    def __init__(self):
        self.ended = []

    def on_logged_out(self, status):
        self.ended.append(status)


@pytest.mark.parametrize("event,en,zh", [
    ({"op": "logged_out", "reason": "password_reset", "by": "mr_li"},
     "A teacher (mr_li) reset your password; ask them for the new one",
     "老师（mr_li）重置了你的密码"),
    ({"op": "logged_out", "reason": "password_changed"},
     "Your password was changed on another device", "你的密码已在另一台设备上修改"),
    ({"op": "logged_out"}, "You were logged out (perhaps from another window)",
     "你已退出登录")])
def test_a_logged_out_event_says_why_at_the_login_window(event, en, zh):
    session = FakeSession()
    listener = Ended()
    session.listener = listener
    session.token = "t"
    session._event(event)
    assert listener.ended == ["logged_out"] and session.token is None
    for language, expected in (("en", en), ("zh", zh)):
        app = FakeApp()
        app.tr.set_language(language)
        view = Recorder()
        LoginPresenter(app, view).ended("logged_out", session.ended_because)
        assert expected in view.last("show_error")[0]
        assert expected in ended_text(app.tr, "logged_out", session.ended_because)
