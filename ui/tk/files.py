"""The shared-files window: the toolbar, two tabs (the tree of shared files and folders, and
the hand-ins grouped by student), the transfer rows."""
from __future__ import annotations

import time
import tkinter as tk
import weakref
from tkinter import ttk
from typing import Dict, List, Optional, Tuple

from ui.i18n import Catalog
from ui.presenters.files import FilesPresenter, Record, TransferRow
from ui.tk.common import ERROR_FG, INFO_FG, MUTED_FG, ask_files, ask_folder
from ui.transfers import Folder, human_size

# The transfer rows the window shows: the most recent ones.
SHOWN_TRANSFERS = 8


class FilesWindow:
    """Implements ui.presenters.files.FilesView in a window of its own. Closing it detaches
    it from the presenter, whose transfers go on."""

    COLUMNS = ("owner", "size", "type", "uploaded")

    def __init__(self, master: tk.Misc, tr: Catalog, presenter: FilesPresenter) -> None:
        self.tr = tr
        self.presenter = weakref.proxy(presenter)
        self.window = window = tk.Toplevel(master)
        window.title(tr("files.title"))
        window.geometry("820x560")
        window.protocol("WM_DELETE_WINDOW", self.close)
        body = ttk.Frame(window, padding=8)
        body.pack(fill="both", expand=True)
        toolbar = ttk.Frame(body)
        toolbar.pack(fill="x")
        # Buttons as wide as their words (width=-6: at least 6 characters), so a narrow
        # window still shows them all.
        self.refresh_button = ttk.Button(toolbar, text=tr("files.refresh"), width=-6,
                                         command=lambda: self.presenter.refresh())
        self.refresh_button.pack(side="right")
        ttk.Button(toolbar, text=tr("menu.upload_file"), width=-6,
                   command=self._upload_file).pack(side="left")
        ttk.Button(toolbar, text=tr("menu.upload_folder"), width=-6,
                   command=self._upload_folder).pack(side="left", padx=4)
        self.hand_in_button = ttk.Button(toolbar, text=tr("files.hand_in"), width=-6,
                                         command=self._hand_in)
        self.hand_in_button.pack(side="left")
        ttk.Button(toolbar, text=tr("files.download"), style="Accent.TButton", width=-6,
                   command=self._download).pack(side="left", padx=4)
        ttk.Button(toolbar, text=tr("files.delete"), width=-6,
                   command=self._delete).pack(side="left")
        # Packed from the bottom up before the tree, so a small window shrinks the tree and
        # never hides a transfer row or a message.
        self.error = ttk.Label(body, text="", foreground=ERROR_FG, justify="left")
        self.error.pack(side="bottom", anchor="w", fill="x")
        self.queue = ttk.Frame(body)
        self.queue.pack(side="bottom", fill="x")
        self.queue_label = ttk.Label(body, text=tr("files.queue"))
        self.queue_label.pack(side="bottom", anchor="w", pady=(6, 0))
        body.bind("<Configure>", lambda e: self.error.configure(
            wraplength=max(120, e.width - 20)))
        # Shared files in one tab, hand-ins (docs/PROTOCOL.md §11) in the other: a class's
        # homework never crowds the shared list, and is seen only by whom it is for.
        self.notebook = ttk.Notebook(body)
        self.notebook.pack(fill="both", expand=True, pady=(6, 0))
        shared = ttk.Frame(self.notebook)
        self.notebook.add(shared, text=tr("files.tab_shared"))
        self.hand_ins_tab = ttk.Frame(self.notebook, padding=(0, 4, 0, 0))
        admin = presenter.is_admin
        self.notebook.add(self.hand_ins_tab, text=tr("files.tab_hand_ins" if admin
                                                     else "files.tab_my_hand_ins"))
        hand_ins_bar = ttk.Frame(self.hand_ins_tab)
        hand_ins_bar.pack(fill="x")
        self.download_all_button = ttk.Button(hand_ins_bar, text=tr("files.download_all"),
                                              width=-6, command=self._download_all)
        if admin:
            self.download_all_button.pack(side="right")
        self.hand_ins_note = ttk.Label(hand_ins_bar, foreground=MUTED_FG, text=tr(
            "files.hand_ins_admin_note" if admin else "files.hand_ins_note"))
        self.hand_ins_note.pack(side="left", fill="x")
        hand_ins_bar.bind("<Configure>", lambda e: self.hand_ins_note.configure(
            wraplength=max(120, e.width - self.download_all_button.winfo_reqwidth() - 16)))
        self.hand_ins = ttk.Treeview(self.hand_ins_tab, columns=self.COLUMNS[1:], height=10)
        self.hand_ins.heading("#0", text=tr("files.name"))
        self.hand_ins.column("#0", width=300)
        for col, width in zip(self.COLUMNS[1:], (90, 150, 130)):
            self.hand_ins.heading(col, text=tr("files." + col))
            self.hand_ins.column(col, width=width, anchor="w")
        self.hand_ins.pack(fill="both", expand=True, pady=(4, 0))
        self.hand_ins.bind("<Double-Button-1>", lambda e: self._download())
        self.students: Dict[str, str] = {}  # hand-ins tree item id -> the student it shows
        self.tree = ttk.Treeview(shared, columns=self.COLUMNS, height=12)
        self.tree.heading("#0", text=tr("files.name"))
        self.tree.column("#0", width=300)
        for col, width in zip(self.COLUMNS, (110, 90, 150, 130)):
            self.tree.heading(col, text=tr("files." + col))
            self.tree.column(col, width=width, anchor="w")
        self.tree.pack(fill="both", expand=True)
        self.tree.bind("<Double-Button-1>", lambda e: self._download())
        # The end of the list while older files remain on the server (docs/PROTOCOL.md §6).
        self.more = ttk.Frame(body)
        self.more_button = ttk.Button(self.more, text=tr("files.load_more"),
                                      command=lambda: self.presenter.load_more())
        self.more_button.pack(side="left")
        self.more_note = ttk.Label(self.more, text="", foreground=MUTED_FG)
        self.more_note.pack(side="left", padx=8)
        self.rows: Dict[int, Tuple[ttk.Label, ttk.Progressbar, ttk.Label, ttk.Button]] = {}
        self.folders: Dict[str, Folder] = {}  # tree item id -> the folder it shows

    def exists(self) -> bool:
        return bool(self.window.winfo_exists())

    def lift(self) -> None:
        self.window.lift()

    def close(self) -> None:
        self.presenter.detach()
        self.window.destroy()

    @staticmethod
    def folder_item(folder: Folder) -> str:
        """The tree item of a folder. A folder's name has no '/', so name/owner is unique."""
        return "d:%s/%s" % (folder.name, folder.owner)

    def hand_ins_shown(self) -> bool:
        return self.notebook.select() == str(self.hand_ins_tab)

    def show_hand_ins_tab(self) -> None:
        self.notebook.select(self.hand_ins_tab)

    def _selected_hand_ins(self) -> Tuple[List[int], List[str]]:
        ids, students = [], []
        for item in self.hand_ins.selection():
            if item.startswith("f:"):
                ids.append(int(item[2:]))
            elif item in self.students:
                students.append(self.students[item])
        return ids, students

    def _selected(self) -> Tuple[List[int], Optional[Folder]]:
        if self.hand_ins_shown():
            return self._selected_hand_ins()[0], None
        ids, folder = [], None
        for item in self.tree.selection():
            if item.startswith("f:"):
                ids.append(int(item[2:]))
            elif item in self.folders:
                folder = self.folders[item]
        return ids, folder

    def _upload_file(self) -> None:
        paths = ask_files(self.window)
        if paths:
            self.presenter.upload_paths(paths)

    def _upload_folder(self) -> None:
        folder = ask_folder(self.window)
        if folder:
            self.presenter.upload_paths([folder])

    def _hand_in(self) -> None:
        paths = ask_files(self.window)
        if paths:
            self.presenter.hand_in_paths(paths)
            self.show_hand_ins_tab()

    def _download_all(self) -> None:
        """Every student's hand-ins (or those of the students selected), one folder each."""
        _, students = self._selected_hand_ins()
        target = ask_folder(self.window, self.tr("files.choose_target"),
                            self.presenter.download_folder())
        if not target:
            return
        for student in students or [None]:
            self.presenter.download_hand_ins(student, target)

    def _download(self) -> None:
        ids, folder = self._selected()
        if self.hand_ins_shown() and not ids and self._selected_hand_ins()[1]:
            self._download_all()  # a student's row: all of that student's hand-ins
            return
        if not ids and folder is None:
            return
        target = ask_folder(self.window, self.tr("files.choose_target"),
                            self.presenter.download_folder())
        if target:
            self.presenter.download(ids, folder, target)

    def _delete(self) -> None:
        ids, _ = self._selected()
        for file_id in ids:
            self.presenter.delete(file_id)

    # -- FilesView ------------------------------------------------------------------------

    def show_files(self, tree: List[Tuple[Optional[Folder], List[Record]]]) -> None:
        opened = {item for item in self.tree.get_children() if self.tree.item(item, "open")}
        self.tree.delete(*self.tree.get_children())
        self.folders = {}
        for folder, records in tree:
            parent = ""
            if folder is not None:
                parent = self.folder_item(folder)
                self.folders[parent] = folder
                total = sum(r["size"] for r in records)
                self.tree.insert("", "end", parent, text=folder.name + "/",
                                 open=parent in opened,
                                 values=(folder.owner, human_size(total),
                                         self.tr("files.folder"), ""))
            for r in records:
                name = r["name"] if folder is None else r["name"][len(folder.name) + 1:]
                self.tree.insert(parent, "end", "f:%d" % r["file_id"], text=name, values=(
                    r["owner"], human_size(r["size"]), r["type"],
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(r["uploaded_at"]))))

    def show_hand_ins(self, groups: List[Tuple[str, List[Record]]]) -> None:
        opened = {self.students[item] for item in self.hand_ins.get_children()
                  if item in self.students and self.hand_ins.item(item, "open")}
        self.hand_ins.delete(*self.hand_ins.get_children())
        self.students = {}
        for i, (student, records) in enumerate(groups):
            parent = "s:%d" % i
            self.students[parent] = student
            self.hand_ins.insert("", "end", parent, text=student, open=student in opened or
                                 len(groups) == 1, values=(
                                     human_size(sum(r["size"] for r in records)),
                                     self.tr("files.student_file" if len(records) == 1
                                             else "files.student_files", n=len(records)),
                                     ""))
            for r in records:
                self.hand_ins.insert(parent, "end", "f:%d" % r["file_id"], text=r["name"],
                                     values=(human_size(r["size"]), r["type"], time.strftime(
                                         "%Y-%m-%d %H:%M", time.localtime(r["uploaded_at"]))))
        if not groups:
            self.hand_ins.insert("", "end", "none", text=self.tr("files.no_hand_ins"))

    def show_transfers(self, rows: List[TransferRow]) -> None:
        for index, label, fraction, text, finished in rows[-SHOWN_TRANSFERS:]:
            if index not in self.rows:
                frame = ttk.Frame(self.queue)
                frame.pack(fill="x", pady=1)
                frame.columnconfigure(1, weight=1)
                # The state on a line of its own under the name and the bar, wrapped at the
                # row's width: a failure is a whole sentence, and a narrow window shows it all.
                name = ttk.Label(frame, text=label, width=26)
                name.grid(row=0, column=0, sticky="w")
                bar = ttk.Progressbar(frame, length=160, maximum=1.0)
                bar.grid(row=0, column=1, sticky="ew", padx=6)
                cancel = ttk.Button(frame, text=self.tr("files.cancel"),
                                    command=lambda i=index: self.presenter.cancel(i))
                cancel.grid(row=0, column=2, rowspan=2, sticky="n")
                state = ttk.Label(frame, text=text, justify="left", foreground=MUTED_FG)
                state.grid(row=1, column=0, columnspan=2, sticky="w", padx=(16, 0))
                frame.bind("<Configure>", lambda e, w=state: w.configure(
                    wraplength=max(80, e.width - 140)))
                self.rows[index] = (name, bar, state, cancel)
            _, bar, state, cancel = self.rows[index]
            bar.configure(value=fraction)
            state.configure(text=text)
            if finished:
                cancel.configure(state="disabled")

    def show_more(self, note: str, loading: bool) -> None:
        if not note:
            self.more.pack_forget()
            return
        self.more_note.configure(text=note)
        self.more_button.configure(text=self.tr("files.loading" if loading else "files.load_more"),
                                   state="disabled" if loading else "normal")
        if not self.more.winfo_manager():  # not packed yet
            self.more.pack(side="bottom", fill="x", pady=(4, 0), after=self.queue_label)

    def show_error(self, text: str) -> None:
        self.error.configure(text=text, foreground=ERROR_FG)

    def show_info(self, text: str) -> None:
        self.error.configure(text=text, foreground=INFO_FG)
