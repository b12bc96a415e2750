"""Issue 20's last gaps through real Tk widgets under Xvfb, against a real server: the files,
moderation-log and inspector windows switch language live; a folder upload is one chat line;
a deleted file's notice says what, whose and by whom; a student whose password a teacher
reset is told so at the login window."""
import time

import pytest

from tests.conftest import file_client
from tests.test_gui import a_class, conversation_texts, gui_user, pump, tk_env  # noqa: F401
from tests.wire import WireClient
from ui.i18n import Catalog

pytestmark = pytest.mark.gui

ZH = Catalog("zh")


def test_files_audit_and_inspector_windows_switch_language_live(tk_env, make_server,  # noqa: F811
                                                                tmp_path):
    srv, teacher, student, t_app, s_app = a_class(tk_env, make_server)
    apps = [t_app, s_app]
    (tmp_path / "a.txt").write_bytes(b"a")
    t_app.files.upload_paths([str(tmp_path / "a.txt")])
    t_app.open_files()
    t_app.open_audit()
    t_app.open_inspector()
    files, audit, inspector = t_app.files_view, t_app.audit_view, t_app.inspector_view
    pump(apps, lambda: files.rows and inspector.tree.get_children() and
         all(t.finished for t in t_app.files.queue.items), what="a transfer row and frames")
    inspector_rows = inspector.tree.get_children()
    t_app.remember(language="zh")  # Preferences → Language
    t_app.root.update()
    assert files.window.title() == ZH("files.title")
    assert files.download_button.cget("text") == ZH("files.download")
    assert files.filter_label.cget("text") == ZH("files.filter")
    assert files.notebook.tab(files.shared_tab, "text") == ZH("files.tab_shared")
    assert files.tree.heading("owner", "text") == ZH("files.owner")
    row = next(iter(files.rows.values()))
    assert row.cancel.cget("text") == ZH("files.cancel")
    assert row.state.cget("text") == ZH("transfer.done")
    assert files.queue_label.cget("text").startswith("传输：")
    assert audit.window.title() == ZH("audit.title")
    assert audit.older_button.cget("text") == ZH("audit.older")
    assert audit.table.heading("by", "text") == ZH("audit.by")
    assert inspector.window.title() == ZH("inspector.title")
    assert inspector.pause_button.cget("text") == ZH("inspector.pause")
    assert inspector.tree.heading("dir", "text") == ZH("inspector.col_dir")
    assert inspector_rows  # the frames drawn again, with their direction in Chinese
    directions = {inspector.tree.set(item, "dir") for item in inspector.tree.get_children()}
    assert directions <= {ZH("inspector.in"), ZH("inspector.out")} and directions
    assert inspector.status.cget("text") and not inspector.status.cget("text").isascii()


def test_a_folder_upload_is_one_line_in_everyones_chat(tk_env, make_server,  # noqa: F811
                                                       tmp_path):
    srv = make_server()
    uploader, watcher = tk_env(srv), tk_env(srv)
    me = gui_user(uploader, srv)
    gui_user(watcher, srv)
    folder = tmp_path / "hw"
    folder.mkdir()
    for i in range(8):
        (folder / ("part%d.txt" % i)).write_bytes(b"x" * (i + 1))
    uploader.files.upload_paths([str(folder)])
    apps = [uploader, watcher]
    line = "%s shared the folder hw/ (8 files)" % me["username"]
    pump(apps, lambda: all(t.state == "done" for t in uploader.files.queue.items) and
         line in conversation_texts(watcher) and line in conversation_texts(uploader),
         60, "the uploads and their line")
    for _ in range(30):  # a few ticks: the counts drawn
        for app in apps:
            app.root.update()
        time.sleep(0.01)
    for app in apps:
        assert [t for t in conversation_texts(app) if "hw/" in t] == [line]
        drawn = app.chat_view.text.get("1.0", "end")
        assert drawn.count("hw/") == 1 and line in drawn


def test_a_deleted_file_says_what_whose_and_by_whom(tk_env, make_server,  # noqa: F811
                                                    monkeypatch):
    import ui.tk.files
    srv, teacher, student, t_app, s_app = a_class(tk_env, make_server, "zh")
    apps = [t_app, s_app]
    token = s_app.session.token
    with file_client(srv, {"token": token}) as c:
        file_id = c.upload("notes.txt", b"n")["file"]["file_id"]
    pump(apps, lambda: t_app.files.record(file_id) is not None and
         s_app.files.record(file_id) is not None, what="the file listed")
    t_app.open_files()
    view = t_app.files_view
    pump(apps, lambda: view.tree.exists("f:%d" % file_id), what="the row")
    monkeypatch.setattr(ui.tk.files, "confirm", lambda parent, title, question: True)
    view.tree.selection_set("f:%d" % file_id)
    t_app.root.update()
    view.delete_button.invoke()
    english = "%s deleted %s's notes.txt" % (teacher, student)
    chinese = "%s 删除了 %s 的 notes.txt" % (teacher, student)
    pump(apps, lambda: english in conversation_texts(t_app) and
         chinese in conversation_texts(s_app), what="both notices")
    assert chinese in s_app.chat_view.text.get("1.0", "end")


@pytest.mark.parametrize("language,expected", [
    ("en", "A teacher ({teacher}) reset your password; ask them for the new one"),
    ("zh", "老师（{teacher}）重置了你的密码；请向老师索取新密码")])
def test_a_student_whose_password_a_teacher_reset_is_told_by_whom(tk_env, make_server,  # noqa: F811,E501
                                                                   language, expected):
    srv, teacher, student, t_app, s_app = a_class(tk_env, make_server, language)
    with WireClient(srv.chat) as c:
        assert c.request("auth", token=t_app.session.token)["status"] == "ok"
        assert c.request("reset_password", user=student,
                         new_password="a new password 9")["status"] == "ok"
    pump([t_app, s_app], lambda: s_app.login_view is not None, what="the login window")
    assert expected.format(teacher=teacher) in s_app.login_view.message.cget("text")
    assert s_app.chat is None and s_app.session.state == "offline"


def test_the_member_directory_and_search_windows_switch_language_live(tk_env,  # noqa: F811
                                                                      make_server):
    srv, teacher, student, t_app, s_app = a_class(tk_env, make_server)
    apps = [t_app, s_app]
    chat = t_app.chat_view
    members, search = chat.open_members(), chat.open_search()
    pump(apps, lambda: members.names, what="the member list")
    t_app.remember(language="zh")
    t_app.root.update()
    assert members.window.title() == ZH("members.title")
    assert members.message_button.cget("text") == ZH("members.message")
    assert members.table.heading("status", "text") == ZH("members.status")
    statuses = {members.table.set(item, "status") for item in members.table.get_children()}
    assert statuses and statuses <= {ZH("members.online"), ZH("members.offline")}
    assert search.window.title() == ZH("search.title")
    assert search.search_button.cget("text") == ZH("search.submit")
