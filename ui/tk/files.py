"""The shared-files window: the toolbar, a filter box, two tabs (the tree of shared files and
folders with a preview of a selected picture, and the hand-ins grouped by student), and the
transfer queue: a scrolling list of rows, each with its Cancel, under a line that counts them
and a "Clear finished" button."""
from __future__ import annotations

import math
import time
import tkinter as tk
import weakref
from tkinter import messagebox, ttk
from typing import Dict, List, NamedTuple, Optional, Tuple

from ui.i18n import Catalog
from ui.presenters.files import FilesPresenter, Record, TransferRow
from ui.tk.common import ERROR_LABEL, INFO_LABEL, MUTED_LABEL, ask_files, ask_folder
from ui.transfers import Folder, human_size

# The transfer list is at most this tall (pixels, about four rows); more rows scroll. The
# file list above keeps the rest of the window, whatever the number of transfers.
QUEUE_MAX_PX = 190
# ... and at least this tall (about two rows) once it has rows, however short the window.
QUEUE_MIN_PX = 96
# A preview fits in this box (pixels), shrunk by a whole factor (Tk's subsample).
PREVIEW_BOX = (220, 200)


def confirm(parent: tk.Misc, title: str, question: str) -> bool:
    """Yes or no, in a dialog over parent (Tk places its message box over its parent)."""
    return bool(messagebox.askyesno(title, question, parent=parent, icon="warning",
                                    default="no"))


class Row(NamedTuple):
    """The widgets of one transfer's row, and what they show (to skip redrawing the same)."""
    frame: ttk.Frame
    name: ttk.Label
    bar: ttk.Progressbar
    state: ttk.Label
    cancel: ttk.Button
    shown: List[object]  # [label, fraction, text, cancellable] as last drawn


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
        window.minsize(400, 360)
        window.protocol("WM_DELETE_WINDOW", self.close)
        body = ttk.Frame(window, padding=8)
        body.pack(fill="both", expand=True)
        # Buttons as wide as their words (width=-6: at least 6 characters), in as many
        # lines as the window's width needs (_flow), so a narrow window still shows them all.
        self.toolbar = toolbar = ttk.Frame(body)
        toolbar.pack(fill="x")
        self.download_button = ttk.Button(toolbar, text=tr("files.download"),
                                          style="Accent.TButton", width=-6,
                                          command=self._download)
        self.delete_button = ttk.Button(toolbar, text=tr("files.delete"), width=-6,
                                        command=self._delete, state="disabled")
        self.hand_in_button = ttk.Button(toolbar, text=tr("files.hand_in"), width=-6,
                                         command=self._hand_in)
        self.tools = [
            ttk.Button(toolbar, text=tr("menu.upload_file"), width=-6,
                       command=self._upload_file),
            ttk.Button(toolbar, text=tr("menu.upload_folder"), width=-6,
                       command=self._upload_folder),
            self.hand_in_button, self.download_button, self.delete_button]
        self._flowed_width = 0
        toolbar.bind("<Configure>", lambda e: self._flow(e.width))
        self._flow(800)
        # The name filter: the list shows what matches as the user types.
        filter_bar = ttk.Frame(body)
        filter_bar.pack(fill="x", pady=(6, 0))
        self.refresh_button = ttk.Button(filter_bar, text=tr("files.refresh"), width=-6,
                                         command=lambda: self.presenter.refresh())
        self.refresh_button.pack(side="right", padx=(6, 0))
        self.filter_label = ttk.Label(filter_bar, text=tr("files.filter"))
        self.filter_label.pack(side="left")
        # Told of every change by key validation, not a StringVar trace: a trace would hold
        # this window in a reference cycle past its end (ui/tk/app.py frees by counting).
        self.filter_entry = ttk.Entry(filter_bar, validate="key")
        self.filter_entry.configure(validatecommand=(
            self.filter_entry.register(self._filter_typed), "%P"))
        self.filter_entry.pack(side="left", fill="x", expand=True, padx=(4, 0))
        self.filter_entry.bind("<Escape>", lambda e: self.filter_entry.delete(0, "end"))
        # Packed from the bottom up before the tree, so a small window shrinks the tree and
        # never hides a transfer row, its Cancel, or a message.
        # The message line: an error, a notice, or "Downloaded … [Open folder]".
        self.message_bar = ttk.Frame(body)
        self.message_bar.pack(side="bottom", fill="x")
        self.open_button = ttk.Button(self.message_bar, text=tr("files.open_folder"),
                                      width=-6, command=self._open_folder)
        self.error = ttk.Label(self.message_bar, text="", style=ERROR_LABEL,
                               justify="left")
        self.error.pack(side="left", anchor="w", fill="x", expand=True)
        self.downloaded_folder = ""
        self._build_queue(body)
        body.bind("<Configure>", self._body_resized)
        # Shared files in one tab, hand-ins (docs/PROTOCOL.md §11) in the other: a class's
        # homework never crowds the shared list, and is seen only by whom it is for.
        self.notebook = ttk.Notebook(body)
        self.notebook.pack(fill="both", expand=True, pady=(6, 0))
        shared = ttk.Frame(self.notebook)
        self.notebook.add(shared, text=tr("files.tab_shared"))
        self.shared_tab = shared
        self.hand_ins_tab = ttk.Frame(self.notebook, padding=(0, 4, 0, 0))
        admin = presenter.is_admin
        self.notebook.add(self.hand_ins_tab, text=tr("files.tab_hand_ins" if admin
                                                     else "files.tab_my_hand_ins"))
        self.notebook.bind("<<NotebookTabChanged>>", lambda e: self._selection_changed())
        hand_ins_bar = ttk.Frame(self.hand_ins_tab)
        hand_ins_bar.pack(fill="x")
        self.download_all_button = ttk.Button(hand_ins_bar, text=tr("files.download_all"),
                                              width=-6, command=self._download_all)
        if admin:
            self.download_all_button.pack(side="right")
        self.hand_ins_note = ttk.Label(hand_ins_bar, style=MUTED_LABEL, text=tr(
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
        self.hand_ins.bind("<<TreeviewSelect>>", lambda e: self._selection_changed())
        self.students: Dict[str, str] = {}  # hand-ins tree item id -> the student it shows
        # The preview of a selected picture, right of the list; packed only while it shows.
        self.preview = ttk.Frame(shared, padding=(8, 0, 0, 0))
        self.preview_image = ttk.Label(self.preview)
        self.preview_image.pack(anchor="n")
        self.preview_caption = ttk.Label(self.preview, text="", style=MUTED_LABEL,
                                         wraplength=PREVIEW_BOX[0], justify="left")
        self.preview_caption.pack(anchor="w", pady=(4, 0))
        self._photo: Optional[tk.PhotoImage] = None
        self.preview_path: Optional[str] = None
        tree_scroll = ttk.Scrollbar(shared, orient="vertical")
        self.tree = ttk.Treeview(shared, columns=self.COLUMNS, height=12,
                                 yscrollcommand=tree_scroll.set)
        tree_scroll.configure(command=self.tree.yview)
        self.tree.heading("#0", text=tr("files.name"))
        self.tree.column("#0", width=300)
        for col, width in zip(self.COLUMNS, (110, 90, 150, 130)):
            self.tree.heading(col, text=tr("files." + col))
            self.tree.column(col, width=width, anchor="w")
        self._tree_scroll = tree_scroll
        tree_scroll.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self.tree.bind("<Double-Button-1>", lambda e: self._download())
        self.tree.bind("<<TreeviewSelect>>", lambda e: self._selection_changed())
        # The end of the list while older files remain on the server (docs/PROTOCOL.md §6).
        self.more = ttk.Frame(body)
        self.more_button = ttk.Button(self.more, text=tr("files.load_more"),
                                      command=lambda: self.presenter.load_more())
        self.more_button.pack(side="left")
        self.more_note = ttk.Label(self.more, text="", style=MUTED_LABEL)
        self.more_note.pack(side="left", padx=8)
        self.folders: Dict[str, Folder] = {}  # tree item id -> the folder it shows

    def _build_queue(self, body: ttk.Frame) -> None:
        """The transfer list: a canvas that scrolls a frame of rows, at most QUEUE_MAX_PX
        tall, under a header with the count and "Clear finished"."""
        self.queue_area = ttk.Frame(body)
        self.queue_area.pack(side="bottom", fill="x")
        scroll = ttk.Scrollbar(self.queue_area, orient="vertical")
        background = ttk.Style(body).lookup("TFrame", "background") or None
        self.queue_canvas = tk.Canvas(self.queue_area, height=1, highlightthickness=0,
                                      borderwidth=0, yscrollcommand=scroll.set,
                                      background=background)
        scroll.configure(command=self.queue_canvas.yview)
        self.queue_scroll = scroll
        scroll.pack(side="right", fill="y")
        self.queue_canvas.pack(side="left", fill="x", expand=True)
        self.queue = ttk.Frame(self.queue_canvas)
        self._queue_item = self.queue_canvas.create_window(0, 0, window=self.queue,
                                                           anchor="nw")
        self.queue_canvas.bind("<Configure>", lambda e: self.queue_canvas.itemconfigure(
            self._queue_item, width=e.width))
        self.queue.bind("<Configure>", lambda e: self._queue_resized())
        self._wheel(self.queue_canvas)
        header = ttk.Frame(body)
        header.pack(side="bottom", fill="x", pady=(6, 2))
        self.clear_button = ttk.Button(header, text=self.tr("files.clear_finished"), width=-6,
                                       command=lambda: self.presenter.clear_finished(),
                                       state="disabled")
        self.clear_button.pack(side="right")
        self.queue_label = ttk.Label(header, text=self.tr("files.queue"))
        self.queue_label.pack(side="left")
        self.queue_header = header
        self.rows: Dict[int, Row] = {}  # Transfer.id -> its row
        self._queue_max_px = QUEUE_MAX_PX

    def _flow(self, width: int) -> None:
        """Lay the toolbar's buttons out in lines no wider than width."""
        if width <= 1 or width == self._flowed_width:
            return
        self._flowed_width = width
        row = column = used = 0
        for button in self.tools:
            need = button.winfo_reqwidth() + 4
            if column and used + need > width:
                row, column, used = row + 1, 0, 0
            button.grid(row=row, column=column, sticky="w", padx=(0, 4), pady=(0, 2))
            column += 1
            used += need

    def _body_resized(self, event: "tk.Event[tk.Misc]") -> None:
        button = self.open_button.winfo_reqwidth() + 8 if self.downloaded_folder else 0
        self.error.configure(wraplength=max(120, event.width - 20 - button))
        # The transfer list takes at most a quarter of a short window: the file list keeps
        # room to be seen.
        self._queue_max_px = max(QUEUE_MIN_PX, min(QUEUE_MAX_PX, event.height // 4))
        self._queue_resized()

    def _queue_resized(self) -> None:
        height = self.queue.winfo_reqheight() if self.rows else 1
        self.queue_canvas.configure(scrollregion=(0, 0, 0, height),
                                    height=min(height, self._queue_max_px))

    def _wheel(self, widget: tk.Misc) -> None:
        """The mouse wheel over widget scrolls the transfer list (X11 sends buttons 4 and
        5; Windows and macOS a MouseWheel event with a delta)."""
        canvas = self.queue_canvas
        widget.bind("<Button-4>", lambda e: canvas.yview_scroll(-1, "units"))
        widget.bind("<Button-5>", lambda e: canvas.yview_scroll(1, "units"))
        widget.bind("<MouseWheel>", lambda e: canvas.yview_scroll(
            -1 if e.delta > 0 else 1, "units"))

    def exists(self) -> bool:
        return bool(self.window.winfo_exists())

    def lift(self) -> None:
        self.window.lift()

    def close(self) -> None:
        self.presenter.detach()
        self._photo = None
        self.window.destroy()

    def relabel(self) -> None:
        """The window's own words in the language just chosen (ui/tk/app.App.set_language);
        the list, the rows' states and the notes are the presenter's
        (FilesPresenter.relabel)."""
        tr = self.tr
        admin = self.presenter.is_admin
        self.window.title(tr("files.title"))
        for widget, key in ((self.download_button, "files.download"),
                            (self.delete_button, "files.delete"),
                            (self.hand_in_button, "files.hand_in"),
                            (self.tools[0], "menu.upload_file"),
                            (self.tools[1], "menu.upload_folder"),
                            (self.refresh_button, "files.refresh"),
                            (self.filter_label, "files.filter"),
                            (self.open_button, "files.open_folder"),
                            (self.download_all_button, "files.download_all"),
                            (self.clear_button, "files.clear_finished"),
                            (self.queue_label, "files.queue"),
                            (self.more_button, "files.load_more"),
                            (self.hand_ins_note, "files.hand_ins_admin_note" if admin
                             else "files.hand_ins_note")):
            widget.configure(text=tr(key))
        self.notebook.tab(self.shared_tab, text=tr("files.tab_shared"))
        self.notebook.tab(self.hand_ins_tab, text=tr("files.tab_hand_ins" if admin
                                                     else "files.tab_my_hand_ins"))
        for tree, columns in ((self.tree, self.COLUMNS), (self.hand_ins, self.COLUMNS[1:])):
            tree.heading("#0", text=tr("files.name"))
            for col in columns:
                tree.heading(col, text=tr("files." + col))
        for row in self.rows.values():
            row.cancel.configure(text=tr("files.cancel"))
        # The buttons' widths changed with their words: lay the toolbar out again.
        width, self._flowed_width = self._flowed_width, 0
        self._flow(width)

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

    def _selection_changed(self) -> None:
        ids, folder = self._selected()
        self.delete_button.configure(
            state="normal" if self.presenter.can_delete(ids, folder) else "disabled")
        if self.hand_ins_shown():
            self.presenter.select([], None)
        else:
            self.presenter.select(ids, folder)

    def _filter_typed(self, text: str) -> bool:
        self.presenter.set_filter(text)
        return True  # the text stays as typed

    def _upload_file(self) -> None:
        paths = ask_files(self.window)
        if paths:
            self.presenter.upload_paths(paths)

    def _upload_folder(self) -> None:
        folder = ask_folder(self.window, initial=self.presenter.upload_folder())
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
            self.show_info(self.tr("files.pick_first"))  # else the click did nothing, silently
            return
        target = ask_folder(self.window, self.tr("files.choose_target"),
                            self.presenter.download_folder())
        if target:
            self.presenter.download(ids, folder, target)

    def _delete(self) -> None:
        ids, folder = self._selected()
        question = self.presenter.delete_question(ids, folder)
        if question and confirm(self.window, self.tr("files.delete"), question):
            self.presenter.delete(ids, folder)

    def _open_folder(self) -> None:
        if self.downloaded_folder:
            self.presenter.open_folder(self.downloaded_folder)

    # -- FilesView ------------------------------------------------------------------------

    def show_files(self, tree: List[Tuple[Optional[Folder], List[Record]]]) -> None:
        opened = {item for item in self.tree.get_children() if self.tree.item(item, "open")}
        selected = self.tree.selection()
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
        # A redraw (a file added by someone) keeps what the user had selected.
        kept = [item for item in selected if self.tree.exists(item)]
        if kept:
            self.tree.selection_set(kept)
        self._selection_changed()

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

    def show_transfers(self, rows: List[TransferRow], summary: str, clearable: bool) -> None:
        wanted = {row.id for row in rows}
        for transfer_id in [i for i in self.rows if i not in wanted]:
            self.rows.pop(transfer_id).frame.destroy()
        added = False
        for row in rows:
            if row.id not in self.rows:
                self.rows[row.id] = self._new_row(row)
                added = True
            drawn = self.rows[row.id]
            if drawn.shown == [row.label, row.fraction, row.text, row.cancellable]:
                continue  # nothing changed: a thousand idle rows cost nothing
            if drawn.shown[0] != row.label:  # the language changed (relabel)
                drawn.name.configure(text=row.label)
            drawn.shown[:] = [row.label, row.fraction, row.text, row.cancellable]
            drawn.bar.configure(value=row.fraction)
            drawn.state.configure(text=row.text)
            drawn.cancel.configure(state="normal" if row.cancellable else "disabled")
        self.queue_label.configure(text=summary or self.tr("files.queue"))
        self.clear_button.configure(state="normal" if clearable else "disabled")
        if not rows:
            self._queue_resized()
        elif added:  # the newest rows are at the bottom: in sight, not below the fold
            self.queue.update_idletasks()
            self._queue_resized()
            self.queue_canvas.yview_moveto(1.0)

    def _new_row(self, row: TransferRow) -> Row:
        # name and bar share the width, so a narrow window shortens both and Cancel stays
        # in sight; the state has a line of its own, wrapped at the row's width (a failure
        # is a whole sentence).
        frame = ttk.Frame(self.queue)
        frame.pack(fill="x", pady=1)
        frame.columnconfigure(0, weight=3, minsize=60)
        frame.columnconfigure(1, weight=2, minsize=40)
        name = ttk.Label(frame, text=row.label, width=1)
        name.grid(row=0, column=0, sticky="ew")
        bar = ttk.Progressbar(frame, length=40, maximum=1.0)
        bar.grid(row=0, column=1, sticky="ew", padx=6)
        cancel = ttk.Button(frame, text=self.tr("files.cancel"), width=-6,
                            command=lambda i=row.id: self.presenter.cancel(i))
        cancel.grid(row=0, column=2, rowspan=2, sticky="n")
        state = ttk.Label(frame, text="", justify="left", style=MUTED_LABEL)
        state.grid(row=1, column=0, columnspan=2, sticky="w", padx=(16, 0))
        frame.bind("<Configure>", lambda e, w=state, b=cancel: w.configure(
            wraplength=max(80, e.width - b.winfo_reqwidth() - 24)))
        for widget in (frame, name, bar, state):
            self._wheel(widget)
        return Row(frame, name, bar, state, cancel, [row.label, None, None, None])

    def show_downloaded(self, text: str, folder: str) -> None:
        self.show_info(text)
        self.downloaded_folder = folder
        if not self.open_button.winfo_manager():
            self.open_button.pack(side="right", before=self.error, padx=(6, 0))
        self.error.configure(wraplength=max(
            120, self.message_bar.winfo_width() - self.open_button.winfo_reqwidth() - 8))

    def show_preview(self, path: Optional[str], caption: str) -> None:
        photo = None
        if path is not None:
            try:
                photo = tk.PhotoImage(master=self.window, file=path)
            except tk.TclError:  # not a picture Tk can read after all
                caption = self.tr("files.preview_failed")
            else:
                # at most a third of a narrow window's width: the list stays readable
                box_width = max(80, min(PREVIEW_BOX[0], self.window.winfo_width() // 3))
                factor = max(1, math.ceil(photo.width() / box_width),
                             math.ceil(photo.height() / PREVIEW_BOX[1]))
                if factor > 1:
                    photo = photo.subsample(factor)
        self._photo = photo
        self.preview_path = path if photo is not None else None
        self.preview_image.configure(image=photo or "")
        self.preview_caption.configure(text=caption)
        if photo is None and not caption:
            self.preview.pack_forget()
        elif not self.preview.winfo_manager():
            self.preview.pack(side="right", fill="y", before=self._tree_scroll)

    def select_file(self, file_id: int) -> None:
        item = "f:%d" % file_id
        if self.hand_ins.exists(item):  # a picture handed in (a teacher sees those)
            tab, tree = self.hand_ins_tab, self.hand_ins
        else:
            if not self.tree.exists(item):  # hidden by the filter: show every file again
                self.filter_entry.delete(0, "end")
            tab, tree = self.shared_tab, self.tree
        if tree.exists(item):
            self.notebook.select(tab)
            tree.see(item)
            tree.selection_set(item)
            tree.focus(item)

    def show_more(self, note: str, loading: bool) -> None:
        if not note:
            self.more.pack_forget()
            return
        self.more_note.configure(text=note)
        self.more_button.configure(text=self.tr("files.loading" if loading else "files.load_more"),
                                   state="disabled" if loading else "normal")
        if not self.more.winfo_manager():  # not packed yet
            self.more.pack(side="bottom", fill="x", pady=(4, 0), after=self.queue_header)

    def show_error(self, text: str) -> None:
        self._no_folder()
        self.error.configure(text=text, style=ERROR_LABEL)

    def show_info(self, text: str) -> None:
        self._no_folder()
        self.error.configure(text=text, style=INFO_LABEL)

    def _no_folder(self) -> None:
        """Another message replaces "Downloaded …": its Open folder goes with it."""
        self.downloaded_folder = ""
        self.open_button.pack_forget()
