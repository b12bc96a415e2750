"""The member directory, message search and password windows (docs/PROTOCOL.md §5,
"Directory, search, unread, passwords"). The chat window opens them; each holds its presenter
(nobody else does) and lets go of it when it closes, so no reference cycle outlives it."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any, Callable, List

from ui.i18n import Catalog
from ui.presenters.directory import (
    MemberRow,
    MembersPresenter,
    PasswordPresenter,
    ResultRow,
    SearchPresenter,
)
from ui.tk.common import ERROR_LABEL, INFO_LABEL, MUTED_LABEL, current_palette


def scrolled_table(body: Any, columns: Any, tr: Any, stretch: str,
                   choose: Callable[[], None]) -> Any:
    """A one-row-at-a-time table with a scrollbar, filling ``body``; a double click or Return
    chooses the row."""
    frame = ttk.Frame(body)
    frame.pack(fill="both", expand=True, pady=(6, 0))
    table = ttk.Treeview(frame, columns=[c for c, _, _ in columns], show="headings",
                         selectmode="browse", height=12)
    for column, key, width in columns:
        table.heading(column, text=tr(key))
        table.column(column, width=width, anchor="w", stretch=(column == stretch))
    scroll = ttk.Scrollbar(frame, command=table.yview)
    table.configure(yscrollcommand=scroll.set)
    scroll.pack(side="right", fill="y")
    table.pack(side="left", fill="both", expand=True)
    table.bind("<Double-Button-1>", lambda e: choose())
    table.bind("<Return>", lambda e: choose())
    return table

class _Window:
    """A non-modal window over the chat window: Escape closes it; so does the window
    manager's close button."""

    presenter: Any

    def __init__(self, master: tk.Misc, title: str, size: str = "") -> None:
        self.window = window = tk.Toplevel(master)
        window.title(title)
        window.transient(master.winfo_toplevel())
        if size:
            window.geometry(size)
        window.protocol("WM_DELETE_WINDOW", self.close)
        window.bind("<Escape>", lambda e: self.close())
        self.body = ttk.Frame(window, padding=10)
        self.body.pack(fill="both", expand=True)

    def exists(self) -> bool:
        try:
            return bool(self.window.winfo_exists())
        except tk.TclError:
            return False

    def lift(self) -> None:
        self.window.deiconify()
        self.window.lift()

    def close(self) -> None:
        presenter, self.presenter = getattr(self, "presenter", None), None
        if presenter is not None:
            presenter.detach()
        if self.exists():
            self.window.destroy()


class MembersWindow(_Window):
    """Implements ui.presenters.directory.MembersView: a search box, everyone (online first)
    with status and role, "Message" (or a double-click) and, for teachers, "Reset
    password…"."""

    COLUMNS = (("name", "members.name", 170), ("status", "members.status", 80),
               ("role", "members.role", 80))

    def __init__(self, master: tk.Misc, tr: Catalog, presenter: MembersPresenter) -> None:
        super().__init__(master, tr("members.title"), "420x460")
        self.tr = tr
        self.presenter = presenter
        self.names: List[str] = []
        body = self.body
        top = ttk.Frame(body)
        top.pack(fill="x")
        self.search_label = ttk.Label(top, text=tr("members.search"))
        self.search_label.pack(side="left")
        self.query = ttk.Entry(top)
        self.query.pack(side="left", fill="x", expand=True, padx=(6, 0))
        self.query.bind("<KeyRelease>", lambda e: self._typed())
        # The buttons before the list, so a short window shortens the list, never hides them.
        buttons = ttk.Frame(body)
        buttons.pack(side="bottom", fill="x", pady=(6, 0))
        self.message_button = ttk.Button(buttons, text=tr("members.message"),
                                         style="Accent.TButton", command=self._message)
        self.message_button.pack(side="right")
        self.reset_button = ttk.Button(buttons, text=tr("members.reset"), command=self._reset)
        self.note = ttk.Label(body, text="", style=MUTED_LABEL, wraplength=380)
        self.note.pack(side="bottom", fill="x", pady=(4, 0))
        self.table = scrolled_table(body, self.COLUMNS, tr, "name", self._message)
        self.table.tag_configure("online", foreground=current_palette(body).ok_fg)
        self.query.focus_set()

    def _typed(self) -> None:
        if self.presenter is not None:
            self.presenter.search(self.query.get())

    def relabel(self) -> None:
        """The window's words in the language just chosen (ui/tk/app.App.set_language); the
        rows are the presenter's (MembersPresenter.relabel)."""
        tr = self.tr
        self.window.title(tr("members.title"))
        self.search_label.configure(text=tr("members.search"))
        self.message_button.configure(text=tr("members.message"))
        self.reset_button.configure(text=tr("members.reset"))
        for column, key, _ in self.COLUMNS:
            self.table.heading(column, text=tr(key))
        if self.presenter is not None:
            self.presenter.relabel()

    def selected(self) -> str:
        picked = self.table.selection()
        return self.table.item(picked[0], "text") if picked else ""

    def _message(self) -> None:
        if self.presenter is not None:
            self.presenter.message(self.selected())

    def _reset(self) -> None:
        if self.presenter is not None:
            self.presenter.reset(self.selected())

    # -- MembersView ----------------------------------------------------------------------

    def show_members(self, rows: List[MemberRow], note: str) -> None:
        keep = self.selected()
        self.table.delete(*self.table.get_children())
        self.names = []
        for name, shown, status, role, online in rows:
            item = self.table.insert("", "end", text=name, values=(shown, status, role),
                                     tags=("online",) if online else ())
            self.names.append(name)
            if name == keep:
                self.table.selection_set(item)
        self.note.configure(text=note, style=MUTED_LABEL)

    def set_admin(self, is_admin: bool) -> None:
        if is_admin:
            self.reset_button.pack(side="right", padx=(0, 6))
        else:
            self.reset_button.pack_forget()

    def show_error(self, text: str) -> None:
        self.note.configure(text=text, style=ERROR_LABEL)


class SearchWindow(_Window):
    """Implements ui.presenters.directory.SearchView: a text box and Search, the results
    (time, where, from, text; newest first), "Load older", and "Show conversation" (or a
    double-click) to jump to where a result was said."""

    COLUMNS = (("time", "search.time", 140), ("where", "search.where", 120),
               ("who", "search.who", 90), ("text", "search.text", 320))

    def __init__(self, master: tk.Misc, tr: Catalog, presenter: SearchPresenter) -> None:
        super().__init__(master, tr("search.title"), "700x440")
        self.tr = tr
        self.presenter = presenter
        body = self.body
        top = ttk.Frame(body)
        top.pack(fill="x")
        self.search_button = ttk.Button(top, text=tr("search.submit"), style="Accent.TButton",
                                        command=self._search)
        self.search_button.pack(side="right", padx=(6, 0))
        self.text = ttk.Entry(top)
        self.text.pack(side="left", fill="x", expand=True)
        self.text.bind("<Return>", lambda e: self._search())
        buttons = ttk.Frame(body)
        buttons.pack(side="bottom", fill="x", pady=(6, 0))
        self.go_button = ttk.Button(buttons, text=tr("search.go"), command=self._open)
        self.go_button.pack(side="right")
        self.older_button = ttk.Button(buttons, text=tr("search.older"), state="disabled",
                                       command=lambda: self.presenter and
                                       self.presenter.load_older())
        self.older_button.pack(side="left")
        self.note = ttk.Label(body, text="", style=MUTED_LABEL, wraplength=640)
        self.note.pack(side="bottom", fill="x", pady=(4, 0))
        self.table = scrolled_table(body, self.COLUMNS, tr, "text", self._open)
        self.text.focus_set()

    def _search(self) -> None:
        if self.presenter is not None:
            self.presenter.search(self.text.get())

    def relabel(self) -> None:
        """As MembersWindow.relabel."""
        tr = self.tr
        self.window.title(tr("search.title"))
        for widget, key in ((self.search_button, "search.submit"), (self.go_button, "search.go"),
                            (self.older_button, "search.older")):
            widget.configure(text=tr(key))
        for column, key, _ in self.COLUMNS:
            self.table.heading(column, text=tr(key))
        if self.presenter is not None:
            self.presenter.relabel()

    def _open(self) -> None:
        picked = self.table.selection()
        if picked and self.presenter is not None:
            self.presenter.open(int(picked[0].split(":")[1]))

    # -- SearchView -----------------------------------------------------------------------

    def show_results(self, rows: List[ResultRow], note: str) -> None:
        self.table.delete(*self.table.get_children())
        for msg_id, *values in rows:
            self.table.insert("", "end", "m:%d" % msg_id, values=values)
        self.note.configure(text=note, style=INFO_LABEL)

    def set_more(self, more: bool) -> None:
        self.older_button.configure(state="normal" if more else "disabled")

    def show_error(self, text: str) -> None:
        self.note.configure(text=text, style=ERROR_LABEL)


class PasswordDialog(_Window):
    """Implements ui.presenters.directory.PasswordView: the current password (not for a
    teacher's reset), the new one twice, Save and Cancel."""

    def __init__(self, master: tk.Misc, tr: Catalog, presenter: PasswordPresenter) -> None:
        user = presenter.user
        super().__init__(master, tr("password.title_reset", user=user) if user
                         else tr("password.title_change"))
        self.window.resizable(False, False)
        self.tr = tr
        self.presenter = presenter
        body = self.body
        self.old = ttk.Entry(body, show="•", width=28)
        self.new = ttk.Entry(body, show="•", width=28)
        self.confirm = ttk.Entry(body, show="•", width=28)
        fields = [("password.new", self.new), ("password.confirm", self.confirm)]
        if user is None:
            fields.insert(0, ("password.old", self.old))
        for row, (key, entry) in enumerate(fields):
            ttk.Label(body, text=tr(key)).grid(row=row, column=0, sticky="w", pady=3)
            entry.grid(row=row, column=1, sticky="ew", pady=3, padx=(8, 0))
        self.error = ttk.Label(body, text="", style=ERROR_LABEL, wraplength=320)
        self.error.grid(row=len(fields), column=0, columnspan=2, sticky="w", pady=(4, 0))
        buttons = ttk.Frame(body)
        buttons.grid(row=len(fields) + 1, column=0, columnspan=2, sticky="e", pady=(8, 0))
        self.submit_button = ttk.Button(buttons, text=tr("password.submit"),
                                        style="Accent.TButton", command=self._submit)
        self.submit_button.pack(side="right")
        self.cancel_button = ttk.Button(buttons, text=tr("password.cancel"),
                                        command=self.close)
        self.cancel_button.pack(side="right", padx=6)
        body.columnconfigure(1, weight=1)
        self.window.bind("<Return>", lambda e: self._submit())
        fields[0][1].focus_set()

    def _submit(self) -> None:
        if self.presenter is not None and str(self.submit_button.cget("state")) != "disabled":
            self.presenter.submit(self.old.get(), self.new.get(), self.confirm.get())

    # -- PasswordView ---------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        self.error.configure(text=text, style=ERROR_LABEL)

    def set_busy(self, busy: bool) -> None:
        self.submit_button.configure(state="disabled" if busy else "normal")

    def done(self, text: str) -> None:
        """Say it worked, in the dialog (the user reads it before closing it), and forget
        what was typed."""
        for entry in (self.old, self.new, self.confirm):
            entry.delete(0, "end")
            entry.configure(state="disabled")
        self.error.configure(text=text, style=INFO_LABEL)
        self.submit_button.configure(state="disabled")
        self.cancel_button.configure(text=self.tr("password.close"))
        self.cancel_button.focus_set()
