"""What a new user's walk through the desktop client found, through real Tk widgets under
Xvfb: the keyboard stays where the next words go (a private conversation opened from the
online list, a room made or joined), a language switch reaches every word of the chat window,
a room's member count follows joins, the Enter hint wraps in a narrow window, Download with
nothing selected says so, Tab reaches Send code from the phone, Ctrl+A works in Tk's own file
dialogs, and the login form and the room line stay readable in the dark theme."""
import pytest

from tests.test_gui import gui_user, pump, tk_env  # noqa: F401
from ui.i18n import Catalog

pytestmark = pytest.mark.gui

ZH = Catalog("zh")


def keyboard_at(app):
    """The widget that has (or gets, once the window is focused) the keyboard."""
    return str(app.root.tk.call("focus", "-lastfor", app.root))


def test_the_keyboard_goes_to_the_input_after_a_private_chat_or_a_room_is_opened(
        tk_env, make_server):  # noqa: F811
    srv = make_server()
    me, other = tk_env(srv), tk_env(srv)
    gui_user(me, srv)
    them = gui_user(other, srv)["username"]
    apps = [me, other]
    view = me.chat_view
    pump(apps, lambda: them in view.online_names, what="the other user online")
    view.online.selection_set(view.online_names.index(them))
    view.online.focus_set()
    view._open_private(None)  # what a double-click on the name, or Enter, runs
    assert me.chat.current == them
    assert keyboard_at(me) == str(view.input)

    view.new_room_button.focus_set()
    dialog = view.open_new_room()
    dialog.name.insert(0, "lab")
    dialog.create_button.invoke()
    assert keyboard_at(me) == str(view.input)
    pump(apps, lambda: me.chat.current.startswith("#") or any(
        r.get("name") == "lab" for r in me.chat.rooms.values()), what="the room made")

    room_id = next(i for i, r in me.chat.rooms.items() if r.get("name") == "lab")
    other_view = other.chat_view
    other_view.browse_button.focus_set()
    other_view.browse_button.invoke()  # "Browse rooms"
    pump(apps, lambda: other_view.dialog is not None and other_view.dialog.ids,
         what="the list of rooms")
    other_view.dialog.tree.selection_set(str(room_id))
    other_view.dialog.join_button.invoke()
    assert keyboard_at(other) == str(other_view.input)


def test_a_language_switch_reaches_the_status_bar_the_buttons_and_the_room_line(
        tk_env, make_server):  # noqa: F811
    srv = make_server()
    me, other = tk_env(srv), tk_env(srv)
    gui_user(me, srv)
    gui_user(other, srv)
    apps = [me, other]
    view = me.chat_view
    me.chat.create_room("lab", "", False)
    pump(apps, lambda: any(r.get("name") == "lab" for r in me.chat.rooms.values()),
         what="the room made")
    room_id = next(i for i, r in me.chat.rooms.items() if r.get("name") == "lab")
    assert "1 member" in view.topic.cget("text")
    other.chat.join_room(room_id)
    # The line above the messages follows who joins (it said "1 member" until switched)
    pump(apps, lambda: "2 members" in view.topic.cget("text"), what="the count updated")

    me.remember(language="zh")  # Preferences → Language
    me.root.update()
    assert view.members_button.cget("text") == ZH("members.open")
    assert view.search_button.cget("text") == ZH("search.open")
    assert view.password_button.cget("text") == ZH("password.open")
    assert view.status.cget("text").startswith("已连接")
    assert ZH("room.members", n=2) in view.topic.cget("text")


def test_the_enter_hint_wraps_in_a_narrow_window(tk_env, server):  # noqa: F811
    app = tk_env(server)
    gui_user(app, server)
    view = app.chat_view
    app.root.geometry("480x700")
    pump([app], lambda: view.frame.winfo_width() <= 480 and view.hint.cget("wraplength"),
         what="the narrow layout")
    middle = view.hint.master
    assert 0 < int(str(view.hint.cget("wraplength"))) <= middle.winfo_width()
    assert view.hint.winfo_reqwidth() <= middle.winfo_width()


def test_the_room_line_is_readable_in_the_dark_theme(tk_env, server):  # noqa: F811
    from ui.tk.common import DARK, LIGHT
    app = tk_env(server)
    gui_user(app, server)
    from tests.test_gui_theme_contrast import shown_foreground
    app.remember(theme="dark")
    assert shown_foreground(app.chat_view.topic) == DARK.info_fg
    app.remember(theme="light")
    assert shown_foreground(app.chat_view.topic) == LIGHT.info_fg


def files_window_of_a_new_user(tk_env, server):  # noqa: F811
    """(app, its files window, drawn) for a user just registered and logged in."""
    app = tk_env(server)
    gui_user(app, server)
    app.open_files()
    app.root.update()
    return app, app.files_view


def test_download_with_nothing_selected_says_what_to_do(tk_env, server):  # noqa: F811
    app, view = files_window_of_a_new_user(tk_env, server)
    view.download_button.invoke()
    assert view.error.cget("text") == app.tr("files.pick_first")


def test_tab_goes_from_the_phone_to_send_code(tk_env, server):  # noqa: F811
    app = tk_env(server)
    app.login_view.register_button.invoke()
    pump([app], lambda: app.register_view is not None, what="the register window")
    view = app.register_view
    assert view.entries["phone"].tk_focusNext() is view.send_button
    assert view.send_button.tk_focusNext() is view.entries["code"]


@pytest.fixture
def tk_root(xvfb, monkeypatch):
    monkeypatch.setenv("DISPLAY", xvfb.display)
    tk = pytest.importorskip("tkinter")
    root = tk.Tk()
    yield root
    root.destroy()


def test_ctrl_a_selects_all_in_a_field_of_tks_own_dialogs(tk_root):
    """Tk's file choosers are Tcl widgets with no Python object: event.widget is a name."""
    from ui.tk.common import apply_style
    apply_style(tk_root)
    errors = []
    tk_root.report_callback_exception = lambda *exc: errors.append(exc)
    tk_root.tk.eval("ttk::entry .tclonly; pack .tclonly; .tclonly insert 0 {/tmp/some/path}")
    tk_root.update()
    tk_root.tk.call("focus", "-force", ".tclonly")
    tk_root.update()
    tk_root.tk.call("event", "generate", ".tclonly", "<Control-a>")
    tk_root.update()
    assert not errors
    assert tk_root.tk.call(".tclonly", "selection", "present")
    assert tk_root.tk.call(".tclonly", "index", "sel.first") == 0


def test_the_login_forms_words_stay_dark_on_its_white_card_in_the_dark_theme(tk_root):
    from tkinter import ttk

    from ui.tk.common import apply_style, apply_theme
    apply_style(tk_root)
    apply_theme(tk_root, True)
    style = ttk.Style(tk_root)
    for name in ("Card.TLabel", "Card.TCheckbutton"):
        colour = tk_root.winfo_rgb(style.lookup(name, "foreground"))
        assert sum(colour) / 3 < 0x4000, name  # dark, on white
