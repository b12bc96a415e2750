"""The login window: an animated background, the colour-cycling banner, the form. It fills
the root window until the user has logged in."""
from __future__ import annotations

import random
import tkinter as tk
import weakref
from tkinter import ttk
from typing import Dict, List, Tuple

from ui.i18n import Catalog
from ui.presenters.login import LoginPresenter
from ui.tk.common import ERROR_FG, INFO_FG

# The banner colours of the original design (its login window cycled through these).
BANNER_COLOURS = [
    "#FFB6C1", "#FFC0CB", "#DC143C", "#FFF0F5", "#DB7093", "#FF69B4", "#FF1493", "#C71585",
    "#DA70D6", "#D8BFD8", "#DDA0DD", "#EE82EE", "#FF00FF", "#8B008B", "#800080", "#BA55D3",
    "#9400D3", "#9932CC", "#4B0082", "#8A2BE2", "#9370DB", "#7B68EE", "#6A5ACD", "#483D8B",
    "#E6E6FA", "#0000FF", "#0000CD", "#191970", "#00008B", "#000080", "#4169E1", "#6495ED",
    "#B0C4DE", "#778899", "#708090", "#1E90FF", "#4682B4", "#87CEFA", "#87CEEB", "#00BFFF",
    "#ADD8E6", "#B0E0E6", "#5F9EA0", "#AFEEEE", "#00FFFF", "#00CED1", "#2F4F4F", "#008B8B",
    "#008080", "#48D1CC", "#20B2AA", "#40E0D0", "#7FFFD4", "#66CDAA", "#00FA9A", "#00FF7F",
    "#3CB371", "#2E8B57", "#90EE90", "#98FB98", "#8FBC8F", "#32CD32", "#00FF00", "#228B22",
    "#008000", "#006400", "#7FFF00", "#7CFC00", "#ADFF2F", "#556B2F", "#9ACD32", "#6B8E23",
    "#FFFF00", "#808000", "#BDB76B", "#EEE8AA", "#F0E68C", "#FFD700", "#DAA520", "#B8860B",
    "#F5DEB3", "#FFE4B5", "#FFA500", "#FFDEAD", "#D2B48C", "#DEB887", "#FF8C00", "#CD853F",
    "#F4A460", "#D2691E", "#8B4513", "#A0522D", "#FFA07A", "#FF7F50", "#FF4500", "#E9967A",
    "#FF6347", "#FA8072", "#F08080", "#BC8F8F", "#CD5C5C", "#FF0000", "#A52A2A", "#B22222",
    "#8B0000", "#800000", "#DCDCDC", "#D3D3D3", "#C0C0C0", "#A9A9A9", "#808080", "#696969"]
BANNER_INTERVAL_MS = 300  # as in the original
BUBBLE_INTERVAL_MS = 50


def _dark(colour: str) -> bool:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


class LoginWindow:
    """Implements ui.presenters.login.LoginView inside the root window. It reaches its
    presenter through a weak reference: the presenter owns the view, never the reverse."""

    def __init__(self, master: tk.Tk, tr: Catalog, presenter: LoginPresenter, server: str,
                 last_login: str) -> None:
        self.tr = tr
        self.presenter = weakref.proxy(presenter)
        self._after_ids: Dict[str, str] = {}  # one pending timer per animation
        self.frame = frame = ttk.Frame(master)
        self.canvas = tk.Canvas(frame, width=520, height=420, highlightthickness=0,
                                bg="#F8F8FF")
        self.canvas.pack(fill="both", expand=True)
        self.bubbles: List[list] = []  # [canvas item, dx, dy]
        rnd = random.Random(7)
        for _ in range(14):
            r = rnd.randint(12, 46)
            x, y = rnd.randint(0, 520), rnd.randint(0, 420)
            colour = rnd.choice(BANNER_COLOURS[24:60])
            item = self.canvas.create_oval(x - r, y - r, x + r, y + r, fill=colour, outline="")
            self.bubbles.append([item, rnd.uniform(-1.2, 1.2), rnd.uniform(-0.8, -0.2)])
        self.banner = tk.Label(frame, text=tr("login.banner"),
                               font=("TkDefaultFont", 20, "bold"), padx=18, pady=10)
        self.canvas.create_window(260, 62, window=self.banner)
        form = ttk.Frame(frame, padding=16, style="Card.TFrame")
        self.server = tk.StringVar(frame, value=server)
        self.login = tk.StringVar(frame, value=last_login)
        self.password = tk.StringVar(frame)
        entries = []
        for row, (label, var, show) in enumerate([
                (tr("login.server"), self.server, ""), (tr("login.login"), self.login, ""),
                (tr("login.password"), self.password, "•")]):
            ttk.Label(form, text=label, style="Card.TLabel").grid(row=row, column=0, sticky="w",
                                                                  pady=4, padx=(0, 8))
            entry = ttk.Entry(form, textvariable=var, width=28, show=show)
            entry.grid(row=row, column=1, pady=4)
            entry.bind("<Return>", lambda e: self.presenter.submit())
            entries.append(entry)
        self.login_entry, self.password_entry = entries[1], entries[2]
        buttons = ttk.Frame(form, style="Card.TFrame")
        buttons.grid(row=3, column=0, columnspan=2, pady=(10, 0))
        self.submit_button = ttk.Button(buttons, text=tr("login.submit"), style="Accent.TButton",
                                        command=lambda: self.presenter.submit())
        self.submit_button.pack(side="left", padx=4)
        self.register_button = ttk.Button(buttons, text=tr("login.register"),
                                          command=lambda: self.presenter.open_register())
        self.register_button.pack(side="left", padx=4)
        self.message = ttk.Label(form, text="", style="Card.TLabel", wraplength=330,
                                 foreground=ERROR_FG)
        self.message.grid(row=4, column=0, columnspan=2, pady=(8, 0))
        self.canvas.create_window(260, 250, window=form)
        (self.login_entry if not last_login else self.password_entry).focus_set()
        frame.pack(fill="both", expand=True)
        self._animate_banner()
        self._animate_bubbles()

    def _animate_banner(self) -> None:
        colour = random.choice(BANNER_COLOURS)
        self.banner.configure(bg=colour, fg="white" if _dark(colour) else "#222222")
        self._after_ids["banner"] = self.frame.after(BANNER_INTERVAL_MS, self._animate_banner)

    def _animate_bubbles(self) -> None:
        width = self.canvas.winfo_width() or 520
        height = self.canvas.winfo_height() or 420
        for bubble in self.bubbles:
            item, dx, dy = bubble
            self.canvas.move(item, dx, dy)
            x0, y0, x1, y1 = self.canvas.coords(item)
            if y1 < 0:
                self.canvas.move(item, 0, height + (y1 - y0))
            if x1 < 0 or x0 > width:
                bubble[1] = -dx
        self._after_ids["bubbles"] = self.frame.after(BUBBLE_INTERVAL_MS,
                                                      self._animate_bubbles)

    def close(self) -> None:
        """Stop the animations and destroy the widgets (their callbacks go with them)."""
        for after_id in self._after_ids.values():
            self.frame.after_cancel(after_id)
        self._after_ids.clear()
        self.frame.destroy()

    # -- LoginView ------------------------------------------------------------------------

    def fields(self) -> Tuple[str, str, str]:
        return self.server.get(), self.login.get(), self.password.get()

    def prefill(self, login: str) -> None:
        self.login.set(login)
        self.password_entry.focus_set()

    def set_busy(self, busy: bool) -> None:
        state = "disabled" if busy else "normal"
        self.submit_button.configure(state=state)
        self.register_button.configure(state=state)

    def show_error(self, text: str) -> None:
        self.message.configure(text=text, foreground=ERROR_FG)

    def show_info(self, text: str) -> None:
        self.message.configure(text=text, foreground=INFO_FG)
