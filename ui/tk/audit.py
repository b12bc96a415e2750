"""The moderation log window (teachers only): a table of who did what to whom, newest first,
"Load older" and "Refresh"; and the Teacher menu that opens it."""
from __future__ import annotations

import tkinter as tk
import weakref
from tkinter import ttk
from typing import Callable, List

from ui.i18n import Catalog
from ui.presenters.audit import AuditPresenter, AuditRow
from ui.tk.common import ERROR_LABEL, MUTED_LABEL


class AuditWindow:
    """Implements ui.presenters.audit.AuditView in a window of its own; it reaches its
    presenter through a weak reference (the App owns the presenter)."""

    # (column, heading's catalog key, width in pixels)
    COLUMNS = (("time", "audit.time", 170), ("by", "audit.by", 110),
               ("action", "audit.action", 130), ("user", "audit.user", 110),
               ("detail", "audit.detail", 200))

    def __init__(self, master: tk.Misc, tr: Catalog, presenter: AuditPresenter) -> None:
        self.tr = tr
        self.presenter = weakref.proxy(presenter)
        self.window = window = tk.Toplevel(master)
        window.title(tr("audit.title"))
        window.geometry("780x420")
        window.protocol("WM_DELETE_WINDOW", self.close)
        body = ttk.Frame(window, padding=8)
        body.pack(fill="both", expand=True)
        bar = ttk.Frame(body)
        bar.pack(fill="x", side="bottom", pady=(6, 0))
        self.older_button = ttk.Button(bar, text=tr("audit.older"), width=-6,
                                       command=lambda: self.presenter.load_older())
        self.older_button.pack(side="left")
        self.refresh_button = ttk.Button(bar, text=tr("audit.refresh"), width=-6,
                                         command=lambda: self.presenter.refresh())
        self.refresh_button.pack(side="right")
        self.note = ttk.Label(bar, text="", style=MUTED_LABEL)
        self.note.pack(side="left", padx=8, fill="x", expand=True)
        self.table = ttk.Treeview(body, columns=[c for c, _, _ in self.COLUMNS],
                                  show="headings", height=14)
        for col, key, width in self.COLUMNS:
            self.table.heading(col, text=tr(key))
            self.table.column(col, width=width, anchor="w", stretch=(col == "detail"))
        scroll = ttk.Scrollbar(body, command=self.table.yview)
        self.table.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.table.pack(fill="both", expand=True)

    def exists(self) -> bool:
        return bool(self.window.winfo_exists())

    def lift(self) -> None:
        self.window.lift()

    def close(self) -> None:
        self.presenter.detach()
        self.window.destroy()

    def relabel(self) -> None:
        """The window's own words in the language just chosen (ui/tk/app.App.set_language);
        the rows are the presenter's (AuditPresenter.relabel)."""
        tr = self.tr
        self.window.title(tr("audit.title"))
        self.older_button.configure(text=tr("audit.older"))
        self.refresh_button.configure(text=tr("audit.refresh"))
        for col, key, _ in self.COLUMNS:
            self.table.heading(col, text=tr(key))

    # -- AuditView ------------------------------------------------------------------------

    def show_rows(self, rows: List[AuditRow]) -> None:
        self.table.delete(*self.table.get_children())
        for entry_id, *values in rows:
            self.table.insert("", "end", "a:%d" % entry_id, values=values)
        self.note.configure(text="" if rows else self.tr("audit.empty"), style=MUTED_LABEL)

    def set_more(self, more: bool) -> None:
        self.older_button.configure(state="normal" if more else "disabled")

    def show_error(self, text: str) -> None:
        self.note.configure(text=text, style=ERROR_LABEL)


def add_teacher_menu(menubar: tk.Menu, tr: Catalog, open_hand_ins: Callable[[], None],
                     open_audit: Callable[[], None]) -> tk.Menu:
    """The Teacher menu (shown to admins): the hand-ins and the moderation log."""
    menu = tk.Menu(menubar, tearoff=False)
    menu.add_command(label=tr("menu.hand_ins"), command=open_hand_ins)
    menu.add_command(label=tr("menu.audit"), command=open_audit)
    menubar.add_cascade(label=tr("menu.teacher"), menu=menu)
    return menu
