"""The files window under Xvfb, through its real widgets, against a real server (issue 20:
3 downloads beside a file of the same name, "Open folder", the folder remembered; 6 an
upload over the server's limit, said in Chinese; 7 a transfer list that scrolls and clears,
with Cancel in sight at the default size and a narrow one; 8 Cancel disabled while
verifying; 13 deleting, asked first, whole folders, not other people's files; the filter
box; the preview of a shared picture)."""
import os

import pytest

from tests.conftest import file_client, register
from tests.test_gui import gui_user, pump, tk_env  # noqa: F401  (tk_env is a fixture)
from ui.presenters.files import TransferRow
from ui.transfers import Folder

pytestmark = pytest.mark.gui


def files_window(app):
    app.open_files()
    return app.files_view


def row_ids(view):
    return sorted(view.rows)


def test_an_upload_over_the_servers_limit_is_refused_at_once_in_chinese(tk_env,  # noqa: F811
                                                                       make_server, tmp_path):
    srv = make_server("--max-file-size", "1000")
    app = tk_env(srv, "zh")
    gui_user(app, srv)
    pump([app], lambda: app.session.limits.get("max_file_size") == 1000,
         what="the limits from hello")
    view = files_window(app)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 5000)
    app.files.upload_paths([str(big)])
    upload = app.files.queue.items[0]
    assert upload.state == "failed" and upload.retries == 0 and upload.conn is None
    pump([app], lambda: upload.id in view.rows, what="the row")
    assert view.rows[upload.id].state.cget("text") == \
        "失败：big.bin 大小为 4.9 KB，此服务器只接受不超过 1000 B 的文件。"
    assert str(view.rows[upload.id].cancel.cget("state")) == "disabled"


def cancel_in_sight(view):
    """Every row shown in the list has its Cancel inside the window, left to right."""
    window = view.window
    right = window.winfo_rootx() + window.winfo_width()
    canvas_top = view.queue_canvas.winfo_rooty()
    canvas_bottom = canvas_top + view.queue_canvas.winfo_height()
    seen = 0
    for row in view.rows.values():
        button = row.cancel
        top = button.winfo_rooty()
        if canvas_top <= top and top + button.winfo_height() <= canvas_bottom:
            seen += 1
            assert button.winfo_rootx() + button.winfo_width() <= right, "Cancel cut off"
    return seen


@pytest.mark.parametrize("geometry", ["820x560", "460x420"])
def test_the_transfer_list_scrolls_clears_and_keeps_cancel_in_sight(tk_env,  # noqa: F811
                                                                     make_server, tmp_path,
                                                                     geometry):
    srv = make_server()
    app = tk_env(srv)
    gui_user(app, srv)
    view = files_window(app)
    view.window.geometry(geometry)
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(20):
        (folder / ("file-%02d-with-a-rather-long-name.txt" % i)).write_bytes(b"x" * (i + 1))
    app.files.upload_paths([str(folder)])
    pump([app], lambda: all(t.state == "done" for t in app.files.queue.items) and
         len(view.rows) == 20 and view.window.winfo_width() > 300, 60, "the uploads")
    app.root.update()
    visible = view.queue_canvas.winfo_height()
    assert visible < view.queue.winfo_reqheight()  # more rows than fit: the list scrolls
    assert view.tree.winfo_height() > 20  # and the file list is still there
    assert cancel_in_sight(view) >= 1
    view.queue_canvas.yview_moveto(1.0)
    app.root.update()
    assert cancel_in_sight(view) >= 1
    # (the queue's header is redrawn a few times a second, not on every step)
    pump([app], lambda: str(view.clear_button.cget("state")) == "normal", 5,
         "Clear finished to be enabled")
    view.clear_button.invoke()
    assert view.rows == {} and app.files.queue.items == []
    assert str(view.clear_button.cget("state")) == "disabled"


def test_cancel_is_disabled_while_a_transfer_is_verifying(tk_env, make_server):  # noqa: F811
    srv = make_server()
    app = tk_env(srv)
    gui_user(app, srv)
    view = files_window(app)
    view.show_transfers([TransferRow(1, "↑ a.txt", 1.0, "verifying SHA-256…", False),
                         TransferRow(2, "↑ b.txt", 0.5, "50%", True)], "", False)
    assert str(view.rows[1].cancel.cget("state")) == "disabled"
    assert str(view.rows[2].cancel.cget("state")) == "normal"


def test_a_download_beside_a_file_of_that_name_keeps_both_and_offers_the_folder(
        tk_env, make_server, tmp_path, monkeypatch):  # noqa: F811
    import ui.tk.files
    srv = make_server()
    owner = register(srv)
    with file_client(srv, owner) as c:
        assert c.upload("notes.txt", b"from the server")["status"] == "ok"
    app = tk_env(srv)
    gui_user(app, srv)
    view = files_window(app)
    pump([app], lambda: view.tree.exists("f:1"), what="the file listed")
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_bytes(b"my own notes")
    monkeypatch.setattr(ui.tk.files, "ask_folder", lambda *args: str(target))
    view.tree.selection_set("f:1")
    view.download_button.invoke()
    pump([app], lambda: view.open_button.winfo_ismapped(), 30, "the download done")
    assert (target / "notes.txt").read_bytes() == b"my own notes"
    assert (target / "notes (1).txt").read_bytes() == b"from the server"
    assert "as notes (1).txt" in view.error.cget("text")
    assert app.settings.download_dir == str(target)
    assert app.files.download_folder() == str(target)
    opened = []
    app.files.opener = lambda path: opened.append(path) or True
    view.open_button.invoke()
    assert opened == [str(target)]


def test_delete_asks_takes_whole_folders_and_is_off_for_other_peoples_files(
        tk_env, make_server, monkeypatch):  # noqa: F811
    import ui.tk.files
    srv = make_server()
    other = register(srv)
    with file_client(srv, other) as c:
        assert c.upload("theirs.txt", b"x")["status"] == "ok"
    app = tk_env(srv)
    me = gui_user(app, srv)
    with file_client(srv, me) as c:
        for name in ("hw/a.txt", "hw/b.txt", "mine.txt"):
            assert c.upload(name, b"y")["status"] == "ok"
    view = files_window(app)
    hw = view.folder_item(Folder(me["username"], "hw"))
    pump([app], lambda: view.tree.exists(hw) and view.tree.exists("f:1"), what="the list")
    view.tree.selection_set("f:1")
    app.root.update()
    assert str(view.delete_button.cget("state")) == "disabled"  # not mine
    asked = []
    answer = [False]
    monkeypatch.setattr(ui.tk.files, "confirm",
                        lambda parent, title, question: asked.append(question) or answer[0])
    view.tree.selection_set(hw)
    app.root.update()
    assert str(view.delete_button.cget("state")) == "normal"
    view.delete_button.invoke()
    assert asked == ["Delete the folder hw/ of %s, with all its 2 files? Nobody will be able "
                     "to download them any more." % me["username"]]
    pump([app], lambda: True)
    assert view.tree.exists(hw)  # "No": nothing deleted
    answer[0] = True
    view.delete_button.invoke()
    pump([app], lambda: not view.tree.exists(hw), what="the folder gone")
    assert view.error.cget("text") == "You deleted the folder hw/ of %s (2 files)." % \
        me["username"]
    with file_client(srv, me) as c:
        names = sorted(f["name"] for f in c.request("list")["files"])
    assert names == ["mine.txt", "theirs.txt"]


def test_the_filter_box_filters_as_the_user_types(tk_env, make_server):  # noqa: F811
    srv = make_server()
    owner = register(srv)
    with file_client(srv, owner) as c:
        for name in ("Lecture-notes.pdf", "exercises.pdf", "hw/notes.md"):
            assert c.upload(name, b"z")["status"] == "ok"
    app = tk_env(srv)
    gui_user(app, srv)
    view = files_window(app)
    pump([app], lambda: len(view.tree.get_children()) == 3, what="the list")
    view.filter_entry.insert(0, "NOTES")
    assert view.tree.exists("f:1") and not view.tree.exists("f:2") and view.tree.exists("f:3")
    view.filter_entry.focus_force()
    pump([app], lambda: view.window.focus_get() is view.filter_entry, what="focus")
    view.filter_entry.event_generate("<KeyPress-Escape>")
    pump([app], lambda: view.tree.exists("f:2"), what="Esc clears the filter")
    assert view.filter_entry.get() == ""


def test_a_selected_png_is_previewed_small(tk_env, make_server, tmp_path):  # noqa: F811
    import tkinter as tk
    srv = make_server()
    app = tk_env(srv)
    user = gui_user(app, srv)
    picture = tk.PhotoImage(master=app.root, width=600, height=300)
    picture.put("#3366cc", to=(0, 0, 600, 300))
    path = str(tmp_path / "chart.png")
    picture.write(path, format="png")
    del picture
    with open(path, "rb") as f, file_client(srv, user) as c:
        assert c.upload("chart.png", f.read(), type="image/png")["status"] == "ok"
    view = files_window(app)
    pump([app], lambda: view.tree.exists("f:1"), what="the picture listed")
    view.tree.selection_set("f:1")
    pump([app], lambda: view.preview_path is not None, 30, "the preview")
    assert view.preview.winfo_ismapped()
    assert 0 < view._photo.width() <= 220 and view._photo.height() <= 200
    assert os.path.dirname(view.preview_path) == app.files.preview_dir
    assert app.files.queue.items == []  # the fetch is no transfer of the user's


def test_the_tick_stays_short_with_a_long_list_while_a_folder_uploads(tk_env,  # noqa: F811
                                                                       make_server,
                                                                       tmp_path):
    """A finished upload joins the list; a folder's files finish many to a tick, and the
    list is redrawn a few times a second at most, not once per file (issue 20)."""
    srv = make_server()
    app = tk_env(srv)
    user = gui_user(app, srv)
    # hello follows the first page's request on the file connection: once the limits are
    # known, that page is in, and the long list below stays
    pump([app], lambda: app.session.limits, what="the first page")
    app.session.refresh_files = lambda: None
    view = files_window(app)
    listed = [{"file_id": 100000 + i, "name": "old/%05d.txt" % i, "owner": user["username"],
               "size": 1, "sha256": "0" * 64, "type": "text/plain", "uploaded_at": 1.0 + i}
              for i in range(3000)]
    app.files.on_files(listed, False)
    view.tree.item(view.folder_item(Folder(user["username"], "old")), open=True)
    folder = tmp_path / "lab"
    folder.mkdir()
    for i in range(60):
        (folder / ("%02d.txt" % i)).write_bytes(b"x")
    app.root.update()
    app.longest_tick_s = 0.0
    app.files.upload_paths([str(folder)])
    pump([app], lambda: all(t.state == "done" for t in app.files.queue.items), 60,
         "the folder uploaded")
    pump([app], lambda: len(app.files.files) == 3060 and view.tree.exists(
        view.folder_item(Folder(user["username"], "lab"))), what="the folder listed")
    assert app.longest_tick_s < 0.25, app.longest_tick_s
