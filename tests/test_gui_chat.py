"""The chat window through real Tk widgets under Xvfb, against a real server (issue 20):
older messages drawn in order, the recipient bar and keys in the conversation list, a
narrow window, pasting, keyboard habits, hover dates, links, the theme and text size."""
import time

import pytest

from tests.conftest import chat_client, register
from tests.test_gui import pump, tk_env  # noqa: F401  (tk_env is a fixture)

pytestmark = pytest.mark.gui

_phones = iter(range(10**6))


def user(srv, name):
    return register(srv, name, "1370%07d" % (next(_phones) + int(time.time()) % 10**6))


def logged_in(tk_env, srv, account, language="en"):  # noqa: F811
    app = tk_env(srv, language)
    app.login_view.login.set(account["username"])
    app.login_view.password.set(account["password"])
    app.login_view.submit_button.invoke()
    pump([app], lambda: app.chat is not None and app.session.state == "online",
         what="chat window online")
    return app


def text_of(app):
    return app.chat_view.text.get("1.0", "end-1c")


def settle(app, rounds=20):
    for _ in range(rounds):
        app.root.update()
        time.sleep(0.01)


def test_load_older_draws_each_message_under_its_own_sender_and_only_the_lobbys(
        tk_env, make_server):  # noqa: F811
    srv = make_server("--flood-limit", "0")
    alice, bob, cat = user(srv, "alice_o"), user(srv, "bob_o"), user(srv, "cat_o")
    with chat_client(srv, bob) as b, chat_client(srv, cat) as c:
        for i in range(40):  # senders take turns: every message has its own header
            (b if i % 2 == 0 else c).request("say", text="old %d" % i)
            if i % 10 == 5:
                b.request("say", text="secret %d" % i, to="alice_o")
        for i in range(50):
            c.request("say", text="new %d" % i)
    app = logged_in(tk_env, srv, alice)
    assert "old 39" not in text_of(app)
    app.chat_view.older_button.invoke()
    pump([app], lambda: "old 39" in text_of(app), what="older messages")
    lines = [line for line in text_of(app).split("\n") if line.strip()]
    bodies = [i for i, line in enumerate(lines) if line.startswith("old ")]
    assert [lines[i] for i in bodies] == ["old %d" % i for i in range(40)]
    for i in bodies:  # the line above each body names its own sender
        n = int(lines[i].split()[1])
        assert lines[i - 1].startswith("bob_o  " if n % 2 == 0 else "cat_o  "), lines[i - 1]
    assert "secret" not in text_of(app)  # private ones stay in their own conversation


def test_picking_a_conversation_moves_focus_and_keys_in_the_list_change_nothing(
        tk_env, make_server):  # noqa: F811
    srv = make_server("--flood-limit", "0")
    alice, bob = user(srv, "alice_k"), user(srv, "bob_k")
    app = logged_in(tk_env, srv, alice)
    view = app.chat_view
    with chat_client(srv, bob) as b:
        b.request("say", text="psst", to="alice_k")
        pump([app], lambda: "bob_k" in app.chat.conversations, what="private conversation")
    assert view.recipient.cget("text") == "To: everyone"
    listbox = view.conversations
    i = view._conv_keys.index("bob_k")
    listbox.focus_force()
    listbox.activate(0)  # the keyboard cursor on "Everyone"
    listbox.selection_clear(0, "end")
    listbox.selection_set(i)
    listbox.event_generate("<<ListboxSelect>>")
    settle(app)
    assert app.chat.current == "bob_k"
    assert view.recipient.cget("text") == "Private: bob_k"
    assert app.root.focus_get() is view.input
    for key in ("space", "Up", "Home", "Return", "h"):
        listbox.focus_force()  # Tk gives a key to the widget with the focus
        settle(app, 3)
        listbox.event_generate("<KeyPress>", keysym=key)
        settle(app, 3)
    assert app.chat.current == "bob_k"  # a space did not pick "Everyone"
    assert view.input.get("1.0", "end-1c") == " h"  # what was typed went to the input
    assert app.root.focus_get() is view.input


def test_a_narrow_window_keeps_the_input_and_send_in_sight(tk_env, server):  # noqa: F811
    app = logged_in(tk_env, server, user(server, "narrow"))
    root, view = app.root, app.chat_view
    root.geometry("480x400")
    pump([app], lambda: root.winfo_width() == 480 and root.winfo_height() == 400,
         what="480x400")
    settle(app)
    assert root.minsize() == (480, 400)
    left, top = root.winfo_rootx(), root.winfo_rooty()
    for widget in (view.send_button, view.input, view.recipient):
        assert widget.winfo_ismapped(), widget
        x, y = widget.winfo_rootx() - left, widget.winfo_rooty() - top
        assert x >= 0 and y >= 0, widget
        assert x + widget.winfo_width() <= 480 and y + widget.winfo_height() <= 400, widget
    assert view.input.winfo_width() >= 100
    assert not view.right.winfo_ismapped()  # the online list gave way
    root.geometry("1000x600")
    pump([app], lambda: view.right.winfo_ismapped(), what="online list back")


def test_pasting_refuses_pictures_and_cuts_long_text(tk_env, server):  # noqa: F811
    app = logged_in(tk_env, server, user(server, "paster"))
    root, view = app.root, app.chat_view
    root.clipboard_clear()
    root.clipboard_append(" ".join("0x%02x" % (n % 256) for n in range(3000)))
    view.input.event_generate("<<Paste>>")
    assert view.input.get("1.0", "end-1c") == ""
    assert "not text" in view.error.cget("text")
    root.clipboard_clear()
    root.clipboard_append("picture", type="image/png")
    view.input.event_generate("<<Paste>>")
    assert view.input.get("1.0", "end-1c") == ""
    assert "Pictures cannot be pasted" in view.error.cget("text")
    root.clipboard_clear()
    root.clipboard_append("z" * 4500)
    view.input.insert("1.0", "ab")
    view.input.event_generate("<<Paste>>")
    assert view.input.get("1.0", "end-1c") == "ab" + "z" * 3998
    assert "4500" in view.error.cget("text")


def test_keyboard_habits_and_dialogs_over_the_window(tk_env, server):  # noqa: F811
    app = logged_in(tk_env, server, user(server, "keys"))
    root, view = app.root, app.chat_view
    root.geometry("900x600+100+80")
    settle(app)
    view.input.insert("1.0", "select me")
    view.input.focus_force()
    settle(app)
    view.input.event_generate("<Control-a>")
    assert view.input.get("sel.first", "sel.last") == "select me"
    view.input.event_generate("<Tab>")
    settle(app)
    assert root.focus_get() is not view.input and "\t" not in view.input.get("1.0", "end")
    dialog = view.open_new_room()
    settle(app)
    window = dialog.window
    middle_x = window.winfo_rootx() + window.winfo_width() // 2
    assert abs(middle_x - (root.winfo_rootx() + root.winfo_width() // 2)) < 40
    assert root.winfo_rooty() <= window.winfo_rooty() <= root.winfo_rooty() + root.winfo_height()
    dialog.name.insert(0, "abc")
    dialog.name.focus_force()
    settle(app)
    dialog.name.event_generate("<Control-a>")
    assert dialog.name.selection_get() == "abc"
    window.event_generate("<Escape>")
    settle(app)
    assert not dialog.exists()
    assert int(view.conversations.cget("highlightthickness")) > 0  # focus shows in lists


def test_dates_links_code_and_mentions_are_drawn(tk_env, server, monkeypatch):  # noqa: F811
    alice, bob = user(server, "alice_d"), user(server, "bob_d")
    app = logged_in(tk_env, server, alice)
    view = app.chat_view
    yesterday = time.time() - 86400
    app.chat.on_message({"op": "message", "msg_id": 10**9, "from": "bob_d", "to": None,
                         "text": "from yesterday", "ts": yesterday})
    with chat_client(server, bob) as b:
        b.request("say", text="@alice_d see https://example.com/x.\n```\ncode here\n```")
        pump([app], lambda: "code here" in text_of(app), what="the message")
    t = view.text
    assert t.get(*t.tag_ranges("day")[:2]).strip()  # a date divider
    link = t.tag_ranges("link")
    assert t.get(link[0], link[1]) == "https://example.com/x"
    code = t.tag_ranges("code")
    assert t.get(code[0], code[1]) == "code here\n"
    mention = t.tag_ranges("mention")
    assert t.get(mention[0], mention[1]) == "@alice_d"
    opened = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    settle(app)
    t.see(link[0])
    settle(app)
    x, y, _, h = t.bbox(link[0])
    t.event_generate("<Motion>", x=x + 2, y=y + h // 2)  # tag bindings follow the pointer
    t.event_generate("<Button-1>", x=x + 2, y=y + h // 2)
    t.event_generate("<ButtonRelease-1>", x=x + 2, y=y + h // 2)
    settle(app)
    assert opened == ["https://example.com/x"]
    # the full date on hover
    # (the shared server's lobby may hold other tests' messages: scroll to this one)
    index = t.search("from yesterday", "1.0")
    t.see(index)
    settle(app)
    x, y, _, h = t.bbox(index)
    t.event_generate("<Motion>", x=x + 2, y=y + h // 2)
    pump([app], lambda: view.tooltip.window is not None, what="the tooltip")
    assert time.strftime("%Y", time.localtime(yesterday)) in view.tooltip.text


def test_theme_and_text_size_apply_at_once(tk_env, server):  # noqa: F811
    from ui.tk.common import DARK
    app = logged_in(tk_env, server, user(server, "themer"), "zh")
    prefs = app.open_settings()
    prefs.theme.set("dark")
    prefs.font_size.set("15")
    prefs.save_button.invoke()
    settle(app)
    view = app.chat_view
    assert view.text.cget("background") == DARK.text_bg
    assert view.fonts["body"].cget("size") == 15
    assert app.settings.theme == "dark" and app.settings.font_size == 15


def test_a_flood_refusal_keeps_the_text_and_says_the_wait(tk_env, make_server):  # noqa: F811
    srv = make_server("--flood-limit", "1")
    app = logged_in(tk_env, srv, user(srv, "flooder"))
    view = app.chat_view
    for i in range(6):
        view.input.insert("1.0", "burst %d" % i)
        view.send_button.invoke()
    pump([app], lambda: "too fast" in view.draft_note.cget("text"), what="the refusal")
    assert "burst" in view.input.get("1.0", "end-1c")
    assert "60" not in view.draft_note.cget("text")


def test_a_language_switch_relabels_the_chat_window(tk_env, server):  # noqa: F811
    app = logged_in(tk_env, server, user(server, "switcher"))
    app.chat.open_private("somebody")
    prefs = app.open_settings()
    prefs.language.set("zh")
    prefs.save_button.invoke()
    settle(app)
    view = app.chat_view
    assert view.send_button.cget("text") == "发送"
    assert view.recipient.cget("text") == "私聊：somebody"
    assert view.conversations.get(0) == "所有人"
