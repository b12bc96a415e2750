"""Thumbnails of shared pictures in the chat (issue 20), without a display: the chat asks
ui/previews.py (the files window's cache and downloader) for each PNG or GIF shared, once per
picture, a few at a time, only for the last few, and never for other files."""
from __future__ import annotations

import hashlib

import pytest

from tests.test_presenters import FakeApp, Recorder
from ui.presenters.chat import PICTURES_SHOWN, ChatPresenter
from ui.presenters.files import FilesPresenter
from ui.previews import MAX_FETCHING, PREVIEW_MAX_BYTES, PreviewCache

PNG = b"\x89PNG\r\n\x1a\n" + b"picture bytes"


class FakeFileConnection:
    """A file connection (net/client.ClientConnection's face to ui/transfers.py): the test
    answers the download request and hands over the bytes."""

    def __init__(self) -> None:
        self.requests = []
        self.answer = None
        self.incoming = []
        self.closed = False
        self.last_word = None
        self.error = None

    def request(self, op, callback, **fields):
        self.requests.append((op, fields))
        self.answer = callback

    def poll(self, max_read_bytes=0):
        items, self.incoming = self.incoming, []
        return items

    def close(self):
        self.closed = True

    def serve(self, data: bytes) -> None:
        self.answer({"status": "ok"})
        self.incoming.append(data)


def picture(file_id, name=None, data=PNG, type_="image/png", size=None, owner="bob"):
    return {"file_id": file_id, "name": name or "pic%d.png" % file_id, "owner": owner,
            "size": len(data) if size is None else size, "type": type_,
            "sha256": hashlib.sha256(data + str(file_id).encode()).hexdigest()
            if data is PNG else hashlib.sha256(data).hexdigest(),
            "uploaded_at": 1764169937.0}


@pytest.fixture
def env(tmp_path):
    app = FakeApp()
    opened = []

    def opener(on_auth=None):
        conn = FakeFileConnection()
        opened.append(conn)
        return conn
    cache = PreviewCache(opener, str(tmp_path / "previews"))
    view = Recorder()
    chat = ChatPresenter(app, app.session, view, previews=cache)
    chat.switch_to("")
    return chat, view, cache, opened


def share(chat, record):
    chat.session.now += 10  # apart: no folder burst
    chat.on_file_added({"op": "file_added", "file": record})


def pictures_of(view):
    return [args[0]["picture"] for name, args in view.calls
            if name in ("append_entry", "show_picture") and args[0].get("picture")]


def downloads(opened):
    return [conn for conn in opened if conn.requests and conn.requests[0][0] == "download"]


def test_a_shared_picture_is_fetched_once_and_shown_in_its_line(env):
    chat, view, cache, opened = env
    record = picture(7)
    share(chat, record)
    entry = view.last("append_entry")[0]
    assert entry["picture"]["state"] == "loading" and entry["picture"]["file_id"] == 7
    cache.step()
    cache.step()
    assert [c.requests[0] for c in downloads(opened)] == [
        ("download", {"file_id": 7, "offset": 0})]
    data = PNG + b"7"
    record_sha = hashlib.sha256(data).hexdigest()
    record["sha256"] = record_sha  # the bytes the fake server sends
    downloads(opened)[0].serve(data)
    cache.step()
    shown = view.last("show_picture")[0]["picture"]
    assert shown["state"] == "ready"
    with open(shown["path"], "rb") as f:
        assert f.read() == data
    # shared again (the same bytes): drawn at once from the cache, no second download
    share(chat, dict(record, file_id=8))
    assert view.last("append_entry")[0]["picture"]["state"] == "ready"
    cache.step()
    assert len(downloads(opened)) == 1 and cache.fetches == 1


def test_the_same_picture_shared_twice_while_loading_is_one_download(env):
    chat, view, cache, opened = env
    record = picture(1)
    share(chat, record)
    share(chat, dict(record, file_id=2))
    for _ in range(3):
        cache.step()
    assert len(downloads(opened)) == 1 and cache.fetches == 1


def test_other_files_and_big_pictures_get_no_thumbnail(env):
    chat, view, cache, opened = env
    share(chat, picture(1, "notes.txt", type_="text/plain"))
    share(chat, picture(2, "big.png", size=PREVIEW_MAX_BYTES + 1))
    share(chat, picture(3, "photo.jpg", type_="image/jpeg"))
    share(chat, dict(picture(4), sha256="not a hash"))
    share(chat, picture(5, "hw/a.png", owner="carol"))  # a folder's files: one line,
    chat.on_file_added({"op": "file_added", "file": picture(6, "hw/b.png", owner="carol")})
    for _ in range(3):
        cache.step()
    assert cache.fetches <= 1 and len(downloads(opened)) <= 1
    assert all(not entry.get("picture") for entry in chat.conversations[""]
               if "hw/" not in entry["text"] or "2 files" in entry["text"])
    assert "2 files" in chat.conversations[""][-1]["text"]
    assert not chat.conversations[""][-1].get("picture")
    assert cache.fetching == 0  # the folder line's first picture is no longer wanted


def test_fetches_are_bounded_in_flight_and_only_the_last_pictures_are_fetched(env):
    chat, view, cache, opened = env
    for i in range(1, 501):
        share(chat, picture(i))
    cache.step()
    cache.step()
    assert len(downloads(opened)) == MAX_FETCHING  # the newest ones, 3 at a time
    assert sorted(c.requests[0][1]["file_id"] for c in downloads(opened)) == [498, 499, 500]
    assert cache.fetches == MAX_FETCHING
    # every line older than the last PICTURES_SHOWN says "click to see it", fetching nothing
    states = [e["picture"]["state"] for e in chat.conversations[""] if e.get("picture")]
    assert states[-PICTURES_SHOWN:] == ["loading"] * PICTURES_SHOWN
    assert set(states[:-PICTURES_SHOWN]) == {"skipped"}
    # the downloads finish one by one: never more than MAX_FETCHING at once, none twice
    in_flight_most = 0
    for _ in range(60):
        live = [c for c in downloads(opened) if not c.closed]
        in_flight_most = max(in_flight_most, len(live))
        for conn in live:
            if conn.answer is not None and not conn.incoming:
                conn.close()  # the fake server hangs up: the fetch fails, not retried
        cache.step()
    assert in_flight_most <= MAX_FETCHING
    asked = [c.requests[0][1]["file_id"] for c in downloads(opened)]
    assert len(asked) == len(set(asked)) <= PICTURES_SHOWN * 6  # (retries of a drop)
    assert set(asked) <= set(range(501 - PICTURES_SHOWN, 501))


def test_trimmed_lines_let_go_of_their_pictures(env):
    chat, view, cache, opened = env
    share(chat, picture(1))
    assert cache.fetching == 0 and cache._wishes
    for i in range(600):
        chat.on_message({"op": "message", "msg_id": i + 1, "from": "bob", "to": None,
                         "text": "m%d" % i, "ts": chat.session.now})
    assert not cache._wishes  # the line went with the trim: nobody waits for the picture


def test_a_click_on_a_thumbnail_opens_the_files_window_on_the_file(env):
    chat, view, cache, opened = env
    shown = []
    chat.app.show_file = shown.append
    chat.open_picture(7)
    assert shown == [7]


def test_the_files_window_and_the_chat_share_one_download(tmp_path):
    app = FakeApp()
    opened = []

    def opener(on_auth=None):
        opened.append(FakeFileConnection())
        return opened[-1]
    cache = PreviewCache(opener, str(tmp_path / "previews"))
    chat = ChatPresenter(app, app.session, Recorder(), previews=cache)
    chat.switch_to("")
    files_view = Recorder()
    files = FilesPresenter(app, app.session, files_view, previews=cache)
    record = picture(3)
    files.on_files([record], False)
    share(chat, record)
    files.select([3], None)  # the user clicks it in the files window too
    for _ in range(3):
        cache.step()
    assert len(downloads(opened)) == 1
    files.select([], None)  # the files window looks elsewhere: the chat still waits
    assert not downloads(opened)[0].closed
    files.reveal(3)
    assert files_view.last("select_file") == (3,)
