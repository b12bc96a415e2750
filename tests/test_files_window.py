"""The files window's presenter and the transfers behind it, without a display (issue 20:
3 downloads that never overwrite, 6 an upload over the server's limit, 7 the queue, 8 Cancel
while verifying, 13 deleting, 16 the ETA; the filter, the picture preview, and a tick that
does not grow with the lists)."""
import errno
import os

import pytest

import ui.presenters.files as files_module
from tests.test_presenters import FakeApp, Recorder
from ui.i18n import Catalog
from ui.presenters.files import SHOWN_TRANSFERS, FilesPresenter, open_folder
from ui.transfers import (
    MAX_PARALLEL,
    MAX_RETRIES,
    Folder,
    TransferQueue,
    Upload,
    available_path,
)

SHA = "ab" * 32


def record(file_id, name, owner="me", size=10, type_="text/plain", **extra):
    return dict({"file_id": file_id, "name": name, "owner": owner, "size": size,
                 "sha256": SHA, "type": type_, "uploaded_at": float(file_id)}, **extra)


def presenter(lang="en", tmp_path=None, **kw):
    app = FakeApp()
    app.tr = Catalog(lang)
    view = Recorder()
    preview_dir = str(tmp_path / "previews") if tmp_path is not None else None
    return app, view, FilesPresenter(app, app.session, view, preview_dir=preview_dir, **kw)


class FakeConn:
    """A file connection that sends nothing: requests are kept, the test closes it."""

    def __init__(self, on_auth=None):
        self.requests = []
        self.closed = False
        self.last_word = None
        self.error = None
        self.outbox_bytes = 0
        self.sent = 0

    def request(self, op, callback=None, **fields):
        self.requests.append((op, callback, fields))

    def poll(self, *args):
        return []

    def send_binary(self, data):
        self.sent += len(data)

    def close(self):
        self.closed = True


class Opener:
    def __init__(self):
        self.conns = []

    def __call__(self, on_auth=None):
        self.conns.append(FakeConn(on_auth))
        return self.conns[-1]


def run_until_sending(upload, opener):
    for _ in range(10):
        upload.step(opener, 0.0)
        if upload.state == "sending":
            return opener.conns[-1]
    raise AssertionError(upload.state)


# -- 3: downloads never overwrite; the folder is remembered; Open folder --------------------

def test_a_download_never_overwrites_a_file_there(tmp_path):
    app, view, files = presenter()
    (tmp_path / "notes.txt").write_bytes(b"mine")
    (tmp_path / "data.tar.gz").write_bytes(b"mine")
    files.on_files([record(1, "notes.txt"), record(2, "notes.txt", owner="bob"),
                    record(3, "data.tar.gz")], False)
    files.download([1, 2, 3], None, str(tmp_path))
    assert sorted(os.path.basename(t.dest) for t in files.queue.items) == [
        "data (1).tar.gz", "notes (1).txt", "notes (2).txt"]
    assert (tmp_path / "notes.txt").read_bytes() == b"mine"


def test_available_path_skips_taken_names_and_parts_under_way(tmp_path):
    path = str(tmp_path / "a.txt")
    assert available_path(path) == path
    (tmp_path / "a (1).txt.part").write_bytes(b"")
    (tmp_path / "a.txt").write_bytes(b"")
    assert available_path(path, taken={str(tmp_path / "a (2).txt")}, skip_parts=True) == \
        str(tmp_path / "a (3).txt")


def test_the_download_folder_is_remembered(tmp_path):
    app, view, files = presenter()
    files.on_files([record(1, "a.txt")], False)
    files.download([1], None, str(tmp_path / "class"))
    assert app.remembered == {"download_dir": str(tmp_path / "class")}


def test_open_folder_says_when_the_desktop_has_no_file_manager(monkeypatch):
    opened = []
    app, view, files = presenter(opener=lambda path: opened.append(path) or False)
    files.open_folder("/tmp/x")
    assert opened == ["/tmp/x"]
    assert view.last("show_error") == ("Cannot open /tmp/x: this computer has no file "
                                       "manager to ask.",)
    monkeypatch.setattr(files_module.sys, "platform", "linux")
    monkeypatch.setattr(files_module.shutil, "which", lambda name: None)
    assert open_folder("/tmp") is False
    started = []
    monkeypatch.setattr(files_module.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(files_module.subprocess, "Popen",
                        lambda args, **kw: started.append(args))
    assert open_folder("/tmp") is True and started == [["/usr/bin/xdg-open", "/tmp"]]


# -- 6: an upload over the server's limit; definitive answers; every message translated ----

@pytest.mark.parametrize("lang,expected", [
    ("en", "failed: big.bin is 4.9 KB; this server accepts files up to 1000 B."),
    ("zh", "失败：big.bin 大小为 4.9 KB，此服务器只接受不超过 1000 B 的文件。")])
def test_an_upload_over_the_servers_limit_is_refused_before_it_starts(tmp_path, lang,
                                                                      expected):
    app, view, files = presenter(lang)
    app.session.limits = {"max_file_size": 1000}
    (tmp_path / "big.bin").write_bytes(b"x" * 5000)
    files.upload_paths([str(tmp_path / "big.bin")])
    files.tick()  # FakeSession.open_file_connection raises: nothing may be opened
    upload = files.queue.items[0]
    assert upload.state == "failed" and upload.retries == 0 and upload.hashed_bytes == 0
    assert files.transfer_rows()[0].text == expected


def test_a_definitive_last_word_is_never_retried(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"a" * 100)
    upload = Upload(str(tmp_path / "a.txt"), "a.txt")
    opener = Opener()
    conn = run_until_sending(upload, opener)
    conn.closed = True
    conn.last_word = {"op": "error", "status": "bad_request", "message": "'name' is bad"}
    upload.step(opener, 1.0)
    assert upload.state == "failed" and upload.retries == 0 and len(opener.conns) == 1
    app, view, files = presenter("zh")
    files.queue.add(upload)
    assert files.transfer_rows()[0].text == "失败：服务器不接受这个请求。"


def test_retries_are_said_and_a_lost_connection_is_said_in_chinese(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"a" * 100)
    upload = Upload(str(tmp_path / "a.txt"), "a.txt")
    app, view, files = presenter("zh")
    files.queue.add(upload)
    opener = Opener()
    now = 0.0
    for attempt in range(1, MAX_RETRIES + 2):
        conn = run_until_sending(upload, opener)
        conn.closed = True
        conn.error = "Connection reset by peer"
        now += 100.0
        upload.step(opener, now)
        if attempt <= MAX_RETRIES:
            assert files.transfer_rows()[0].text == \
                "等待重试（第 %d 次，共 %d 次）：与服务器的连接断开了。" % (attempt, MAX_RETRIES)
            upload.retry_at = 0.0
    assert upload.state == "failed"
    assert files.transfer_rows()[0].text == "失败：与服务器的连接断开了。"


def test_a_file_gone_from_this_computer_is_said_in_chinese(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"a")
    app, view, files = presenter("zh")
    files.upload_paths([str(tmp_path / "a.txt")])
    os.unlink(str(tmp_path / "a.txt"))
    files.tick()
    assert files.transfer_rows()[0].text == "失败：本机上的文件不见了（被移动或删除）。"


# -- 7: the queue clears; its rows keep their names; a step touches only what runs --------

def test_clear_finished_keeps_what_is_still_running(tmp_path):
    app, view, files = presenter()
    for name in ("a", "b", "c"):
        (tmp_path / name).write_bytes(b"x")
        files.queue.add(Upload(str(tmp_path / name), name))
    a, b, c = files.queue.items
    a.fail("local_error")
    c.cancel()
    files.redraw(0.0)
    rows, summary, clearable = view.last("show_transfers")
    assert [row.id for row in rows] == [a.id, b.id, c.id] and clearable
    assert summary == "Transfers: 1 in progress · 0 done · 2 failed or cancelled"
    files.clear_finished()
    rows, summary, clearable = view.last("show_transfers")
    assert [row.id for row in rows] == [b.id] and not clearable
    files.cancel(b.id)
    assert b.state == "cancelled"


class CountingUpload(Upload):
    steps = 0

    def step(self, opener, now):
        CountingUpload.steps += 1


def test_a_step_touches_only_the_running_transfers_and_rows_are_bounded(tmp_path):
    (tmp_path / "a").write_bytes(b"x")
    queue = TransferQueue(Opener())
    for i in range(1000):
        queue.add(CountingUpload(str(tmp_path / "a"), "a%d" % i))
    CountingUpload.steps = 0
    queue.step()
    assert CountingUpload.steps == MAX_PARALLEL
    app, view, files = presenter()
    files.queue = queue
    for t in queue.items[:600]:
        t.state = "done"
    shown = files.shown_transfers()
    assert len(shown) == SHOWN_TRANSFERS and queue.items[600] in shown


# -- 8: Cancel while verifying ----------------------------------------------------------

def test_cancel_is_refused_while_verifying_so_a_stored_file_is_never_called_cancelled(
        tmp_path):
    (tmp_path / "a.txt").write_bytes(b"a" * 100)
    upload = Upload(str(tmp_path / "a.txt"), "a.txt")
    app, view, files = presenter()
    files.queue.add(upload)
    opener = Opener()
    conn = run_until_sending(upload, opener)
    _, started, _ = conn.requests[-1]
    started({"op": "upload", "status": "ok", "offset": 0})
    upload.step(opener, 0.0)
    assert upload.state == "verifying" and conn.sent == 100
    assert files.transfer_rows()[0].cancellable is False
    files.cancel(upload.id)
    assert upload.cancel() is False and upload.state == "verifying" and not conn.closed
    conn.poll = lambda *a: [{"op": "upload_done", "status": "ok", "file": record(9, "a.txt")}]
    upload.step(opener, 0.0)
    assert upload.state == "done"


# -- 16: the time left ------------------------------------------------------------------

def test_the_time_left_is_rounded_up_and_measured_over_recent_seconds(tmp_path):
    (tmp_path / "a").write_bytes(b"x")
    t = Upload(str(tmp_path / "a"), "a")
    t.size, t.state = 1000, "sending"
    t.note_progress(0.0)
    t.done_bytes = 490
    t.note_progress(0.5)
    assert t.eta_s(0.5) == 1.0  # 510 bytes at 980 B/s: 0.52 s, not "0:00"
    app, view, files = presenter()
    files.queue.add(t)
    assert files.transfer_rows(0.5)[0].text == "49% · 980 B/s · 0:01 left"
    # a fast start (socket buffers filling) is forgotten after the window: 10 B/s now
    t.size = 10 ** 6
    now = 0.5
    while now < 20:
        now += 0.25
        t.done_bytes += 2
        t.note_progress(now)
    assert 7 < t.speed_bps(now) < 9


# -- 13: deleting ----------------------------------------------------------------------

def test_delete_is_for_the_owner_or_a_teacher_and_asks_what_it_will_do():
    app, view, files = presenter()
    files.on_files([record(1, "a.txt"), record(2, "b.txt", owner="bob"),
                    record(3, "hw/x.txt"), record(4, "hw/y.txt")], False)
    assert files.can_delete([1], None) and not files.can_delete([2], None)
    assert not files.can_delete([1, 2], None) and not files.can_delete([], None)
    assert not files.can_delete([], Folder("bob", "hw"))
    assert files.delete_question([1], None) == (
        "Delete a.txt (shared by me)? Nobody will be able to download it any more.")
    assert files.delete_question([], Folder("me", "hw")) == (
        "Delete the folder hw/ of me, with all its 2 files? Nobody will be able to download "
        "them any more.")
    assert files.delete_question([2], None) == ""
    app.session.role = "admin"
    assert files.can_delete([2], None)


def test_a_whole_folder_is_deleted_and_the_notice_says_what_and_whose():
    app, view, files = presenter()
    asked = []
    app.session.delete_file = lambda file_id, callback: (asked.append(file_id),
                                                         callback({"status": "ok"}))
    files.on_files([record(5, "hw/new.txt")], True)  # older pages not loaded yet
    files.delete([], Folder("me", "hw"))
    assert app.session.requests[-1] == ("list_all", 5)
    app.session.list_callback({"status": "ok", "more": False,
                               "files": [record(3, "hw/old.txt"), record(2, "notes.txt")]})
    assert sorted(asked) == [3, 5] and sorted(files.files) == [2]
    assert view.last("show_info") == ("You deleted the folder hw/ of me (2 files).",)


# -- the filter, previews, and a list redrawn a few times a second at most ---------------

def test_the_filter_shows_only_matching_names_folders_included():
    app, view, files = presenter()
    files.on_files([record(1, "Notes.txt"), record(2, "b.txt"), record(3, "hw/notes2.md"),
                    record(4, "hw/q.pdf")], False)
    files.set_filter("NOTE")
    tree = view.last("show_files")[0]
    assert [[r["file_id"] for r in group] for _, group in tree] == [[1], [3]]
    files.set_filter("")
    assert len(view.last("show_files")[0][1][1]) == 2


def test_a_burst_of_added_files_redraws_the_list_once():
    app, view, files = presenter()
    files.on_files([], False)
    drawn = view.count("show_files")
    for i in range(1, 501):
        files.on_file_added({"file": record(i, "hw/%d.txt" % i)})
    assert view.count("show_files") == drawn
    files.redraw(0.0)
    files.redraw(0.0)
    assert view.count("show_files") == drawn + 1


def test_a_selected_picture_is_fetched_into_the_cache_once_and_shown(tmp_path):
    app, view, files = presenter(tmp_path=tmp_path)
    png = record(1, "pic.png", type_="image/png", size=1000)
    files.on_files([png, record(2, "a.txt"),
                    record(3, "huge.png", type_="image/png", size=6 * 1024 * 1024)], False)
    files.select([2], None)
    assert view.last("show_preview") == (None, "")
    files.select([3], None)
    assert view.last("show_preview") == (None, "")
    files.select([1], None)
    assert view.last("show_preview") == (None, "Loading the preview…")
    assert [t.dest for t in files.previews.items] == [
        str(tmp_path / "previews" / (SHA + ".png"))]
    assert files.queue.items == []  # not one of the user's transfers
    os.makedirs(str(tmp_path / "previews"))
    (tmp_path / "previews" / (SHA + ".png")).write_bytes(b"png")
    files.select([], None)
    files.select([1], None)
    assert view.last("show_preview") == (str(tmp_path / "previews" / (SHA + ".png")),
                                         "pic.png · 1000 B")


def test_the_preview_cache_is_bounded(tmp_path, monkeypatch):
    import ui.previews
    monkeypatch.setattr(ui.previews, "PREVIEW_CACHE_BYTES", 250)
    app, view, files = presenter(tmp_path=tmp_path)
    cache = tmp_path / "previews"
    cache.mkdir()
    for i in range(4):
        (cache / ("%d.png" % i)).write_bytes(b"x" * 100)
        os.utime(str(cache / ("%d.png" % i)), (1000 + i, 1000 + i))
    files.previews.trim()
    assert sorted(os.listdir(str(cache))) == ["2.png", "3.png"]


def test_local_error_codes_cover_the_common_failures():
    from ui.transfers import local_error
    assert local_error(OSError(errno.ENOSPC, "full")) == "local_full"
    assert local_error(OSError(errno.EACCES, "no")) == "local_denied"
    assert local_error(OSError(errno.EIO, "io")) == "local_error"
