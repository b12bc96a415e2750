"""The login window: an animated background, the colour-cycling banner, the form. It fills
the root window until the user has logged in."""
from __future__ import annotations

import random
import tkinter as tk
import tkinter.font as tkfont
import weakref
from tkinter import ttk
from typing import Dict, List, Tuple

from ui.i18n import Catalog
from ui.presenters.login import LoginPresenter, ServerRow
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
CANVAS_WIDTH = 520
CANVAS_HEIGHT = 420
FORM_TOP = 110  # the form hangs below the banner and grows downwards (the list of servers)
FORM_MARGIN = 24  # canvas around the form, when the form decides the window's size
BANNER_Y = 62
SERVER_ROWS = 4  # rows of the list of servers found; a classroom has one or two
ENTRY_CHARS = 28  # the fields' width; a narrow window shortens them, down to
MIN_ENTRY_CHARS = 12  # this, so that "Find servers" beside them stays in sight
NARROW_MARGIN = 8  # canvas either side of the form in a window narrower than the form


def _dark(colour: str) -> bool:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


class LoginWindow:
    """Implements ui.presenters.login.LoginView inside the root window. It reaches its
    presenter through a weak reference: the presenter owns the view, never the reverse."""

    def __init__(self, master: tk.Tk, tr: Catalog, presenter: LoginPresenter, server: str,
                 last_login: str, tls: bool = False) -> None:
        self.tr = tr
        self.presenter = weakref.proxy(presenter)
        self._after_ids: Dict[str, str] = {}  # one pending timer per animation
        self.frame = frame = ttk.Frame(master)
        self.canvas = tk.Canvas(frame, width=CANVAS_WIDTH, height=CANVAS_HEIGHT,
                                highlightthickness=0, bg="#F8F8FF")
        self.canvas.pack(fill="both", expand=True)
        self.bubbles: List[list] = []  # [canvas item, dx, dy]
        rnd = random.Random(7)
        for _ in range(14):
            r = rnd.randint(12, 46)
            x, y = rnd.randint(0, CANVAS_WIDTH), rnd.randint(0, CANVAS_HEIGHT)
            colour = rnd.choice(BANNER_COLOURS[24:60])
            item = self.canvas.create_oval(x - r, y - r, x + r, y + r, fill=colour, outline="")
            self.bubbles.append([item, rnd.uniform(-1.2, 1.2), rnd.uniform(-0.8, -0.2)])
        self.banner = tk.Label(frame, text=tr("login.banner"),
                               font=("TkDefaultFont", 20, "bold"), padx=18, pady=10)
        self.banner_item = self.canvas.create_window(CANVAS_WIDTH // 2, BANNER_Y,
                                                     window=self.banner)
        self.form = form = ttk.Frame(frame, padding=16, style="Card.TFrame")
        self.server = tk.StringVar(frame, value=server)
        self.login = tk.StringVar(frame, value=last_login)
        self.password = tk.StringVar(frame)
        self.tls = tk.BooleanVar(frame, value=tls)
        entries = []
        self.labels: List[Tuple[ttk.Label, str]] = []  # each with its catalog key (relabel)
        # Row 1 is the list of servers found, shown from the first "Find servers".
        for row, (key, var, show) in zip((0, 2, 3), [
                ("login.server", self.server, ""), ("login.login", self.login, ""),
                ("login.password", self.password, "•")]):
            label = ttk.Label(form, text=tr(key), style="Card.TLabel")
            label.grid(row=row, column=0, sticky="w", pady=4, padx=(0, 8))
            self.labels.append((label, key))
            entry = ttk.Entry(form, textvariable=var, width=ENTRY_CHARS, show=show)
            entry.grid(row=row, column=1, pady=4)
            entry.bind("<Return>", lambda e: self.presenter.submit())
            entries.append(entry)
        self.login_entry, self.password_entry = entries[1], entries[2]
        self.entries = entries
        self.find_button = ttk.Button(form, text=tr("discover.find"),
                                      command=lambda: self.presenter.find_servers())
        self.find_button.grid(row=0, column=2, padx=(6, 0), pady=4)
        self.servers = self._server_list(form, tr)
        # issue 20: a plain client at a TLS server only saw "connection reset by peer"
        style = ttk.Style(frame)  # on the card's colour, whatever the theme makes it
        style.configure("Card.TCheckbutton",
                        background=style.lookup("Card.TFrame", "background") or "white")
        self.tls_check = ttk.Checkbutton(form, text=tr("login.tls"), variable=self.tls,
                                         style="Card.TCheckbutton")
        self.tls_check.grid(row=6, column=1, columnspan=2, sticky="w", pady=(2, 0))
        buttons = ttk.Frame(form, style="Card.TFrame")
        buttons.grid(row=7, column=0, columnspan=3, pady=(10, 0))
        self.submit_button = ttk.Button(buttons, text=tr("login.submit"), style="Accent.TButton",
                                        command=lambda: self.presenter.submit())
        self.submit_button.pack(side="left", padx=4)
        self.register_button = ttk.Button(buttons, text=tr("login.register"),
                                          command=lambda: self.presenter.open_register())
        self.register_button.pack(side="left", padx=4)
        self.message = ttk.Label(form, text="", style="Card.TLabel", wraplength=400,
                                 foreground=ERROR_FG)
        self.message.grid(row=8, column=0, columnspan=3, pady=(8, 0))
        self.form_item = self.canvas.create_window(CANVAS_WIDTH // 2, FORM_TOP, window=form,
                                                   anchor="n")
        self._laid_out_width = 0
        self.canvas.bind("<Configure>", lambda e: self._lay_out(e.width))
        self._fit()
        (self.login_entry if not last_login else self.password_entry).focus_set()
        frame.pack(fill="both", expand=True)
        self._animate_banner()
        self._animate_bubbles()

    def _server_list(self, form: ttk.Frame, tr: Catalog) -> ttk.Treeview:
        """The servers found: a lock for TLS, name, address, users online. Hidden until the
        first search; choosing a row puts its address in the server field."""
        self.lock = lock_image(form)
        tree = ttk.Treeview(form, columns=("name", "address", "users"), height=SERVER_ROWS,
                            show="tree headings", selectmode="browse")
        tree.heading("#0", text=tr("discover.tls"))
        tree.column("#0", width=52, minwidth=52, stretch=False, anchor="center")
        for column, title, width, anchor in (("name", "discover.name", 150, "w"),
                                             ("address", "discover.address", 150, "w"),
                                             ("users", "discover.users", 60, "e")):
            tree.heading(column, text=tr(title), anchor=anchor)
            tree.column(column, width=width, anchor=anchor)
        tree.bind("<<TreeviewSelect>>", lambda e: self._picked())
        return tree

    def _picked(self) -> None:
        selected = self.servers.selection()
        if selected:
            self.presenter.pick(self.servers.index(selected[0]))

    def _fit(self) -> None:
        """Make the canvas large enough for the form (wider in some languages, taller with
        the list of servers), the banner and the form centred on it."""
        for entry in self.entries:
            entry.configure(width=ENTRY_CHARS)
        self.form.update_idletasks()
        width = max(CANVAS_WIDTH, self.form.winfo_reqwidth() + 2 * FORM_MARGIN)
        height = max(CANVAS_HEIGHT, FORM_TOP + self.form.winfo_reqheight() + FORM_MARGIN)
        self.canvas.configure(width=width, height=height)
        shown = self.canvas.winfo_width()
        self._laid_out_width = 0
        self._lay_out(shown if shown > 1 else width)

    def _lay_out(self, width: int) -> None:
        """Centre the banner and the form on a canvas `width` wide; in a window narrower
        than the form, shorten the fields so that the form fits (the button beside the
        server field was cut off at 480 px)."""
        if width == self._laid_out_width:
            return
        self._laid_out_width = width
        for entry in self.entries:
            entry.configure(width=ENTRY_CHARS)
        self.form.update_idletasks()
        overflow_px = self.form.winfo_reqwidth() + 2 * NARROW_MARGIN - width
        if overflow_px > 0:
            font = tkfont.Font(root=self.canvas, name="TkTextFont", exists=True)
            char_px = max(1, font.measure("0"))
            chars = max(MIN_ENTRY_CHARS, ENTRY_CHARS - (overflow_px + char_px - 1) // char_px)
            for entry in self.entries:
                entry.configure(width=chars)
        self.canvas.coords(self.banner_item, width // 2, BANNER_Y)
        self.canvas.coords(self.form_item, width // 2, FORM_TOP)

    def _animate_banner(self) -> None:
        colour = random.choice(BANNER_COLOURS)
        self.banner.configure(bg=colour, fg="white" if _dark(colour) else "#222222")
        self._after_ids["banner"] = self.frame.after(BANNER_INTERVAL_MS, self._animate_banner)

    def _animate_bubbles(self) -> None:
        width = self.canvas.winfo_width() or CANVAS_WIDTH
        height = self.canvas.winfo_height() or CANVAS_HEIGHT
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

    def relabel(self) -> None:
        """The language changed (App.set_language): every fixed text again, from tr."""
        tr = self.tr
        self.banner.configure(text=tr("login.banner"))
        for label, key in self.labels:
            label.configure(text=tr(key))
        self.find_button.configure(text=tr("discover.find"))
        self.tls_check.configure(text=tr("login.tls"))
        self.submit_button.configure(text=tr("login.submit"))
        self.register_button.configure(text=tr("login.register"))
        self.servers.heading("#0", text=tr("discover.tls"))
        for column, title in (("name", "discover.name"), ("address", "discover.address"),
                              ("users", "discover.users")):
            self.servers.heading(column, text=tr(title))
        self._fit()

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
        self.password.set("")  # issue 20: a password typed before registering stayed
        self.password_entry.focus_set()

    def tls_ticked(self) -> bool:
        return bool(self.tls.get())

    def set_tls(self, ticked: bool) -> None:
        self.tls.set(ticked)

    def set_busy(self, busy: bool) -> None:
        state = "disabled" if busy else "normal"
        self.submit_button.configure(state=state)
        self.register_button.configure(state=state)

    def show_error(self, text: str) -> None:
        self.message.configure(text=text, foreground=ERROR_FG)

    def show_info(self, text: str) -> None:
        self.message.configure(text=text, foreground=INFO_FG)

    def set_server(self, text: str) -> None:
        self.server.set(text)

    def set_searching(self, searching: bool) -> None:
        self.find_button.configure(state="disabled" if searching else "normal")

    def show_servers(self, rows: List[ServerRow]) -> None:
        tree = self.servers
        if not tree.winfo_manager():
            tree.grid(row=1, column=0, columnspan=3, sticky="ew", pady=(2, 6))
            self._fit()
        tree.delete(*tree.get_children())
        for name, address, users, tls in rows:
            tree.insert("", "end", text="", image=self.lock if tls else "",
                        values=(name, address, users))


def lock_image(master: tk.Misc) -> tk.PhotoImage:
    """A 14x14 padlock, drawn pixel by pixel: no image file to ship, and no emoji (Tk 8.6
    cannot draw characters beyond U+FFFF everywhere)."""
    image = tk.PhotoImage(master=master, width=14, height=14)
    shackle, body, hole = "#555555", "#C9A227", "#FFFFFF"
    image.put(shackle, to=(4, 0, 10, 2))    # the arch
    image.put(shackle, to=(3, 1, 5, 7))     # its two legs
    image.put(shackle, to=(9, 1, 11, 7))
    image.put(body, to=(1, 6, 13, 14))      # the body
    image.put(hole, to=(6, 8, 8, 12))       # the keyhole
    return image
