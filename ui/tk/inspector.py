"""The frame inspector's window: a toolbar (pause, clear, filter), the live table of frames,
and the hex view of the selected one. What it shows is ui/presenters/inspector.py's."""
from __future__ import annotations

import tkinter as tk
import weakref
from tkinter import ttk
from typing import List

from ui.i18n import Catalog
from ui.presenters.inspector import InspectorPresenter, Row
from ui.tk.common import MUTED_LABEL, current_palette

# (column, heading key, width in pixels); keys spelt out so tests/test_i18n.py sees them.
COLUMNS = (("time", "inspector.col_time", 104), ("dir", "inspector.col_dir", 56),
           ("conn", "inspector.col_conn", 64), ("kind", "inspector.col_kind", 48),
           ("length", "inspector.col_length", 64), ("reads", "inspector.col_reads", 56),
           ("op", "inspector.col_op", 140), ("preview", "inspector.col_preview", 420))


class InspectorWindow:
    """Implements ui.presenters.inspector.InspectorView. Closing it tells the presenter,
    which the App then unhooks from the session."""

    def __init__(self, master: tk.Misc, tr: Catalog, presenter: InspectorPresenter) -> None:
        self.tr = tr
        self.presenter = weakref.proxy(presenter)
        self.window = window = tk.Toplevel(master)
        window.title(tr("inspector.title"))
        window.geometry("980x560")
        window.protocol("WM_DELETE_WINDOW", self.close)
        body = ttk.Frame(window, padding=8)
        body.pack(fill="both", expand=True)
        toolbar = ttk.Frame(body)
        toolbar.pack(fill="x")
        self.pause_button = ttk.Button(toolbar, text=tr("inspector.pause"), width=-6,
                                       command=lambda: self.presenter.toggle_pause())
        self.pause_button.pack(side="left")
        self.clear_button = ttk.Button(toolbar, text=tr("inspector.clear"), width=-6,
                                       command=lambda: self.presenter.clear())
        self.clear_button.pack(side="left", padx=4)
        self.filter_label = ttk.Label(toolbar, text=tr("inspector.filter"))
        self.filter_label.pack(side="left", padx=(12, 4))
        self.filter = tk.StringVar(window)
        self.filter_entry = ttk.Entry(toolbar, textvariable=self.filter, width=24)
        self.filter_entry.pack(side="left")
        self._trace = self.filter.trace_add(
            "write", lambda *_: self.presenter.set_filter(self.filter.get()))
        self.status = ttk.Label(toolbar, text="", style=MUTED_LABEL)
        self.status.pack(side="right")
        # The hex view is packed from the bottom before the table, so it always shows.
        self.detail = tk.Text(body, height=10, wrap="none", font="TkFixedFont",
                              background="#F7F7FA", relief="flat", padx=6, pady=4)
        self.detail.pack(side="bottom", fill="x", pady=(6, 0))
        self.detail.configure(state="disabled")
        table = ttk.Frame(body)
        table.pack(fill="both", expand=True, pady=(6, 0))
        self.tree = ttk.Treeview(table, columns=[c for c, _, _ in COLUMNS], show="headings",
                                 selectmode="browse")
        for column, key, width in COLUMNS:
            self.tree.heading(column, text=tr(key), anchor="w")
            self.tree.column(column, width=width, anchor="w",
                             stretch=(column == "preview"))
        colours = current_palette(table)
        self.tree.tag_configure("in", foreground=colours.ok_fg)
        self.tree.tag_configure("out", foreground=colours.link_fg)
        scroll = ttk.Scrollbar(table, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self.tree.bind("<<TreeviewSelect>>", self._selected)
        self._in_text = tr("inspector.in")

    def exists(self) -> bool:
        try:
            return bool(self.window.winfo_exists())
        except tk.TclError:
            return False

    def lift(self) -> None:
        self.window.lift()

    def close(self) -> None:
        """Closed by the user (or by the App): the presenter learns it; safe to call again."""
        try:
            self.presenter.close()
        except ReferenceError:  # the App has let go of the presenter already
            pass
        if self.exists():
            self.filter.trace_remove("write", self._trace)
            self.window.destroy()

    def relabel(self) -> None:
        """The window's own words in the language just chosen (ui/tk/app.App.set_language);
        the rows, the status and the hex view are the presenter's (it redraws them after
        this: InspectorPresenter.relabel)."""
        tr = self.tr
        self.window.title(tr("inspector.title"))
        self.clear_button.configure(text=tr("inspector.clear"))
        self.filter_label.configure(text=tr("inspector.filter"))
        for column, key, _ in COLUMNS:
            self.tree.heading(column, text=tr(key))
        self._in_text = tr("inspector.in")

    # -- InspectorView ---------------------------------------------------------------------

    def add_rows(self, rows: List[Row]) -> None:
        tree = self.tree
        # Follow the newest rows only while the user looks at the bottom of the table.
        at_bottom = tree.yview()[1] >= 0.999
        for number, cells in rows:
            tree.insert("", "end", iid=str(number), values=cells,
                        tags=("in" if cells[1] == self._in_text else "out",))
        if at_bottom:
            tree.yview_moveto(1.0)

    def remove_rows(self, numbers: List[int]) -> None:
        self.tree.delete(*[str(n) for n in numbers if self.tree.exists(str(n))])

    def clear_rows(self) -> None:
        children = self.tree.get_children()
        if children:
            self.tree.delete(*children)

    def show_detail(self, text: str) -> None:
        self.detail.configure(state="normal")
        self.detail.delete("1.0", "end")
        self.detail.insert("1.0", text)
        self.detail.configure(state="disabled")

    def show_status(self, text: str) -> None:
        self.status.configure(text=text)

    def show_paused(self, paused: bool) -> None:
        self.pause_button.configure(text=self.tr("inspector.resume" if paused
                                                 else "inspector.pause"))

    def _selected(self, _event: object) -> None:
        selection = self.tree.selection()
        if selection:
            self.presenter.select(int(selection[0]))
