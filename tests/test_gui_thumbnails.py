"""Thumbnails of shared pictures in the chat, through the real window under Xvfb against a
real server (issue 20): a PNG another user uploads appears embedded in the chat's Text, and
a click on it opens the files window with the file selected."""
from __future__ import annotations

import pytest

from tests.conftest import file_client, register
from tests.test_gui import gui_user, pump, tk_env  # noqa: F401  (tk_env is a fixture)

pytestmark = pytest.mark.gui  # (a display: not in the portable run of test.sh)


def a_png(app, tmp_path, width=600, height=300) -> bytes:
    import tkinter as tk
    image = tk.PhotoImage(master=app.root, width=width, height=height)
    image.put("#3366cc", to=(0, 0, width, height))
    path = str(tmp_path / "chart.png")
    image.write(path, format="png")
    with open(path, "rb") as f:
        return f.read()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_png_shared_by_another_user_shows_as_a_thumbnail_in_the_chat(
        tk_env, server, tmp_path, language):  # noqa: F811
    app = tk_env(server, language)
    gui_user(app, server)
    text = app.chat_view.text
    assert not text.image_names()
    other = register(server)
    with file_client(server, other) as c:
        assert c.upload("chart.png", a_png(app, tmp_path), type="image/png")["status"] == "ok"
        assert c.upload("notes.txt", b"not a picture")["status"] == "ok"
    pump([app], lambda: "notes.txt" in text.get("1.0", "end"), 20, "the notices")
    pump([app], lambda: bool(text.image_names()), 30, "the thumbnail")
    assert len(text.image_names()) == 1
    (file_id, photo), = app.chat_view._thumbnails.items()
    assert 0 < photo.width() <= 160 and 0 < photo.height() <= 120
    assert app.files.queue.items == []  # no transfer of the user's
    # a click on it: the files window, on the file
    index = text.index(text.tag_ranges("pic%d" % file_id)[0])
    text.see(index)
    app.root.update()
    x, y, _, _ = text.bbox(index)
    text.event_generate("<Motion>", x=x + 2, y=y + 2)  # (Tk's "current" follows the pointer)
    text.event_generate("<Button-1>", x=x + 2, y=y + 2)
    pump([app], lambda: app.files_view is not None and
         app.files_view.tree.selection() == ("f:%d" % file_id,), 20, "the file selected")
