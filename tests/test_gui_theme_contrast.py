"""The words that say how things went (an error, a note, a hint, a tick) stay readable in both
themes, through real Tk widgets under Xvfb: they take their colours from the theme's label
styles, so a switch reaches the windows already open. In the dark theme the light theme's
dark slate and brick red were all but invisible (contrast 1.6 and 2.1 against the window)."""
import pytest

from tests.test_gui import gui_user, pump, tk_env  # noqa: F401
from tests.test_gui_walk_fixes import tk_root  # noqa: F401
from tests.test_gui_walk_fixes2 import open_register

pytestmark = pytest.mark.gui

# WCAG 2's minimum contrast: 4.5 for words one must read (an error, a note), 3 for a hint
# beside a field and a tick (large-text and UI-component level).
MUST_READ, HINT = 4.5, 3.0


def luminance(widget, colour):
    """WCAG 2 relative luminance of a Tk colour."""
    def linear(channel):
        c = channel / 65535
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in widget.winfo_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(widget, one, other):
    light, dark = sorted((luminance(widget, one), luminance(widget, other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def shown_foreground(label):
    """The colour a ttk label's words are drawn in: its own, else its style's."""
    from tkinter import ttk
    own = str(label.cget("foreground"))
    if own:
        return own
    style = str(label.cget("style")) or label.winfo_class()
    return ttk.Style(label).lookup(style, "foreground")


@pytest.mark.parametrize("dark", [False, True])
def test_every_status_style_reads_against_the_window(tk_root, dark):  # noqa: F811
    from tkinter import ttk

    from ui.tk.common import (
        ERROR_LABEL,
        INFO_LABEL,
        MUTED_LABEL,
        OK_LABEL,
        apply_style,
        apply_theme,
    )
    apply_style(tk_root)
    apply_theme(tk_root, dark)
    style = ttk.Style(tk_root)
    background = style.lookup("TLabel", "background")
    for name, least in ((ERROR_LABEL, MUST_READ), (INFO_LABEL, MUST_READ),
                        (MUTED_LABEL, HINT), (OK_LABEL, HINT)):
        colour = style.lookup(name, "foreground")
        assert colour, name
        assert contrast(tk_root, colour, background) >= least, (name, colour, background)


def test_the_register_windows_words_follow_a_theme_switch(tk_env, server):  # noqa: F811
    from ui.tk.common import DARK, LIGHT
    app = tk_env(server)
    view = open_register(app)
    view.vars["password"].set("x")  # a wrong value: its hint is an error
    app.root.update()
    view.show_info("a note")
    app.remember(theme="dark")  # Preferences → Theme, with the window open
    app.root.update()
    assert shown_foreground(view.message) == DARK.info_fg
    assert shown_foreground(view.hints["password"]) == DARK.error_fg
    assert shown_foreground(view.hints["phone"]) == DARK.muted_fg
    app.remember(theme="light")
    app.root.update()
    assert shown_foreground(view.message) == LIGHT.info_fg
    assert shown_foreground(view.hints["password"]) == LIGHT.error_fg


def test_the_chat_windows_notes_and_the_online_members_read_in_the_dark(
        tk_env, server):  # noqa: F811
    from ui.tk.common import DARK
    app = tk_env(server)
    gui_user(app, server)
    app.remember(theme="dark")
    view = app.chat_view
    view.show_error("an error")
    assert shown_foreground(view.error) == DARK.error_fg
    view.show_info("a note")
    assert shown_foreground(view.error) == DARK.info_fg
    assert shown_foreground(view.topic) == DARK.info_fg
    assert shown_foreground(view.hint) == DARK.muted_fg
    members = view.open_members()
    pump([app], lambda: members.table.get_children(), what="the members")
    assert str(members.table.tag_configure("online", "foreground")) == DARK.ok_fg
