"""What a second walk through the desktop client found, through real Tk widgets under Xvfb:
a room without a name keeps its dialog, Enter after the phone asks for the code, the login
form and the register window fit a 480 px window, the transfer list shows its newest row and
a folder download is named as a folder, the upload chooser starts at home, the menus are dark
in the dark theme, the first online list knows the teacher, a deleted message speaks Chinese
punctuation, Send code keeps its width, Ctrl+Q quits as the close button does, the login
window's stale error goes when registering starts, and the TLS box and the status bar say
when the link is encrypted."""
import argparse
import os

import pytest

from tests.test_gui import (  # noqa: F401
    a_class,
    gui_user,
    login_via_gui,
    pump,
    tk_env,
)
from tests.test_gui_walk_fixes import files_window_of_a_new_user
from ui.i18n import Catalog

pytestmark = pytest.mark.gui

LANGS = ["en", "zh"]


def open_register(app):
    app.login_view.register_button.invoke()
    pump([app], lambda: app.register_view is not None and
         app.register_presenter.sms == "console" and
         app.register_view.send_button.winfo_ismapped(), what="the register window")
    return app.register_view


@pytest.mark.parametrize("lang", LANGS)
def test_a_room_without_a_name_keeps_the_dialog_and_what_was_typed(tk_env, server,  # noqa: F811
                                                                    lang):
    app = tk_env(server, lang)
    gui_user(app, server)
    dialog = app.chat_view.open_new_room()
    dialog.topic.insert(0, "optics")
    dialog.private_var.set(True)
    dialog.create_button.invoke()
    assert dialog.exists()
    assert dialog.topic.get() == "optics" and dialog.private_var.get()
    assert dialog.message.cget("text") == Catalog(lang)("error.bad_room_name")
    dialog.name.insert(0, "lab")
    dialog.create_button.invoke()
    assert not dialog.exists()


@pytest.mark.parametrize("lang", LANGS)
def test_enter_after_the_phone_sends_the_code_and_a_missing_code_is_named(
        tk_env, make_server, lang):  # noqa: F811
    srv = make_server()
    app = tk_env(srv, lang)
    view = open_register(app)
    phone = "13712345678"
    view.vars["phone"].set(phone)
    phone_entry = view.entries["phone"]
    phone_entry.focus_force()
    app.root.update()
    phone_entry.event_generate("<Return>")
    pump([app], lambda: ("SMS code for %s" % phone) in srv.log(), what="the code sent")
    for name, value in (("username", "enter_user"), ("password", "gui password 1"),
                        ("confirm", "gui password 1")):
        view.vars[name].set(value)
    view.submit_button.invoke()  # the code is still empty: say so, where it was silent
    tr = Catalog(lang)
    assert view.message.cget("text") == tr("register.fix_first", field=tr("register.code"))


@pytest.mark.parametrize("lang", LANGS)
def test_send_code_keeps_its_width_when_the_countdown_starts(tk_env, server, lang):  # noqa: F811
    app = tk_env(server, lang)
    view = open_register(app)
    tr = Catalog(lang)
    widths = []
    for text in (tr("register.send_code"), tr("register.resend_in", n=60)):
        view.set_send_code(True, text)
        app.root.update_idletasks()
        widths.append((view.send_button.winfo_reqwidth(), view.window.winfo_reqwidth()))
    assert widths[0] == widths[1]


@pytest.mark.parametrize("lang", LANGS)
def test_the_login_form_fits_a_480_px_window(tk_env, server, lang):  # noqa: F811
    app = tk_env(server, lang)
    app.root.geometry("480x700")
    view = app.login_view
    pump([app], lambda: 1 < view.canvas.winfo_width() <= 480, what="the narrow window")
    app.root.update()
    right = view.find_button.winfo_rootx() + view.find_button.winfo_width()
    assert view.form.winfo_rootx() >= view.canvas.winfo_rootx()
    assert right <= view.canvas.winfo_rootx() + view.canvas.winfo_width()


@pytest.mark.parametrize("lang", LANGS)
def test_the_register_window_fits_a_480_px_window(tk_env, server, lang):  # noqa: F811
    app = tk_env(server, lang)
    view = open_register(app)
    typed = {"username": "a b", "password": "x", "confirm": "y", "phone": "1", "code": "x",
             "email": "@"}
    for name, value in typed.items():  # every field wrong: each hint says what to fix
        view.vars[name].set(value)
    app.root.update()
    assert all(view.hints[name].cget("text") for name in typed)
    assert view.window.winfo_reqwidth() <= 480  # it was 860 px, the hints in a column
    assert view.window.winfo_reqheight() <= 700

    view.set_code_visible(False)  # a server that sends no code: no Send code beside the phone
    pump([app], lambda: not view.send_button.winfo_ismapped(), what="Send code hidden")
    app.root.update()
    assert view.entries["phone"].winfo_width() == view.entries["email"].winfo_width()


def test_the_transfer_list_scrolls_to_its_newest_row(tk_env, server):  # noqa: F811
    from ui.presenters.files import TransferRow
    app, view = files_window_of_a_new_user(tk_env, server)
    rows = [TransferRow(i, "file%d.txt" % i, 0.0, "waiting", True) for i in range(1, 13)]
    view.show_transfers(rows[:2], "", False)
    view.show_transfers(rows, "", False)
    app.root.update_idletasks()  # not update(): the App's tick would redraw the real queue
    assert view.queue_canvas.winfo_height() >= 90  # two rows at least
    assert view.queue_canvas.yview()[1] == 1.0  # the last row added is in sight


@pytest.mark.parametrize("lang", LANGS)
def test_a_folder_download_says_the_folder_and_how_many_files(tk_env, server, tmp_path,  # noqa: F811
                                                               lang):
    from ui.transfers import Folder
    app = tk_env(server, lang)
    user = gui_user(app, server)
    folder = tmp_path / "folderA"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"alpha\n")
    (folder / "sub" / "b.txt").write_bytes(b"b\n")
    app.open_files()
    files = app.files
    files.upload_paths([str(folder)])
    names = {"folderA/a.txt", "folderA/sub/b.txt"}
    pump([app], lambda: names <= {r["name"] for r in files.files.values()
                                  if r["owner"] == user["username"]},
         timeout_s=30, what="the folder uploaded")
    target = tmp_path / "dl"
    files.download([], Folder(user["username"], "folderA"), str(target))
    expected = Catalog(lang)("files.downloaded_folder", name="folderA/", n=2,
                             folder=str(target))
    pump([app], lambda: app.files_view.error.cget("text") == expected, timeout_s=30,
         what="the folder named as downloaded")
    assert (target / "folderA" / "sub" / "b.txt").read_bytes() == b"b\n"


def test_the_upload_folder_chooser_starts_at_home_then_where_the_last_upload_was(
        tk_env, server, tmp_path, monkeypatch):  # noqa: F811
    import ui.tk.app
    import ui.tk.files
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    asked = []
    chosen = tmp_path / "work" / "lab1"
    chosen.mkdir(parents=True)
    (chosen / "a.txt").write_bytes(b"a")

    def ask_folder(parent, title="", initial=""):
        asked.append(initial)
        return str(chosen)
    monkeypatch.setattr(ui.tk.app, "ask_folder", ask_folder)
    monkeypatch.setattr(ui.tk.files, "ask_folder", ask_folder)
    app = tk_env(server)
    gui_user(app, server)
    app.upload_folder()  # File → Upload folder…
    upload_folder = app.tr("menu.upload_folder")
    next(b for b in app.files_view.tools if b.cget("text") == upload_folder).invoke()
    assert asked[0] == str(home) and asked[0] != os.getcwd()
    assert asked[1] == str(chosen.parent)


def test_the_menus_are_dark_in_the_dark_theme(tk_env, server):  # noqa: F811
    from ui.tk.common import DARK, LIGHT
    app = tk_env(server)
    gui_user(app, server)
    app.remember(theme="dark")
    file_menu = app.menubar.nametowidget(app.menubar.entrycget(1, "menu"))
    for menu in (app.menubar, file_menu):
        assert str(menu.cget("background")) == DARK.bg
        assert str(menu.cget("foreground")) == DARK.fg
    app.remember(language="zh")  # the menu bar is made again: dark still
    assert str(app.menubar.cget("background")) == DARK.bg
    app.remember(theme="light")
    assert str(app.menubar.cget("background")) == LIGHT.bg


def test_the_first_online_list_marks_the_teacher(tk_env, make_server):  # noqa: F811
    _, teacher, student, _, s_app = a_class(tk_env, make_server, student_lang="zh")
    view = s_app.chat_view
    marked = "%s (%s)" % (teacher, Catalog("zh")("role.admin"))
    pump([s_app], lambda: marked in view.online.get(0, "end"), timeout_s=5,
         what="the teacher marked")


def test_a_deleted_message_has_chinese_punctuation_in_chinese(tk_env, server):  # noqa: F811
    app = tk_env(server, "zh")
    gui_user(app, server)
    zh = Catalog("zh")
    entry = {"kind": "deleted", "who": "alice", "time": "04:25",
             "text": zh("chat.deleted_by", user="teacher")}
    args, _ = app.chat_view._pieces(entry)
    assert args[0].startswith("alice：消息已被 teacher 删除")


def test_ctrl_q_asks_as_the_close_button_does_then_quits(tk_env, server, monkeypatch):  # noqa: F811
    from tkinter import messagebox
    app = tk_env(server)
    gui_user(app, server)
    asked = []
    answer = [False]
    monkeypatch.setattr(messagebox, "askyesno", lambda *a, **k: asked.append(a) or answer[0])
    app.hosted_people = lambda: {"ann", "bob"}  # the demo, with others connected
    app.chat_view.input.focus_force()
    app.root.update()
    app.chat_view.input.event_generate("<Control-q>")
    app.root.update()
    assert len(asked) == 1 and not app.closed
    answer[0] = True
    app.chat_view.input.event_generate("<Control-q>")
    assert app.closed


def test_opening_the_register_window_clears_a_stale_error(tk_env, server):  # noqa: F811
    app = tk_env(server)
    app.login_view.show_error(app.tr("discover.none"))
    open_register(app)
    assert app.login_view.message.cget("text") == ""


@pytest.mark.parametrize("lang", LANGS)
def test_a_pinned_tls_server_ticks_the_box_and_the_status_bar_has_the_lock(
        tk_env, make_server, tmp_path, lang):  # noqa: F811  (tk_env: display, config)
    import tkinter as tk

    from net.tls import cert_fingerprint_file, make_self_signed
    from options import tls_for
    from ui.pins import KnownServers
    from ui.settings import ClientSettings
    from ui.tk.app import App
    cert, key = make_self_signed(str(tmp_path / "tls"), "localhost")
    srv = make_server("--tls-cert", cert, "--tls-key", key)
    server = "127.0.0.1:%d" % srv.auth
    KnownServers().pin(server, cert_fingerprint_file(cert))  # what the demo does
    args = argparse.Namespace(tls=False, ca=None, trust_fingerprint=None)
    app = App(tk.Tk(), ClientSettings(server=server), lang, str(tmp_path / "cfg.json"),
              tls_for=lambda host, port, decide: tls_for(args, host, port, decide))
    try:
        assert app.login_view.tls_ticked()
        user = register_over_tls(srv)
        login_via_gui(app, user[0], user[1])
        assert app.session.tls is not None
        tr = Catalog(lang)
        assert app.chat_view.status.cget("text") == tr("status.connected_tls", server=server)
        assert str(app.chat_view.status.cget("image"))
    finally:
        app.quit()


def register_over_tls(srv):
    from tests.conftest import PASSWORD, new_identity
    from tests.wire import WireClient
    username, phone = new_identity()
    with WireClient(srv.auth, tls=True) as c:
        assert c.request("send_code", phone=phone)["status"] == "ok"
        assert c.request("register", username=username, password=PASSWORD, phone=phone,
                         code=srv.sms_code(phone), email="")["status"] == "ok"
    return username, PASSWORD


def test_the_tls_error_says_where_the_box_is():
    for lang, where in (("en", "login window"), ("zh", "登录窗口")):
        assert where in Catalog(lang)("net.tls_required")
