"""The Tk windows: thin views over the presenters (ui/presenters.py). They build widgets,
forward what the user does, and draw what they are told. No network code, no threads.
"""
from __future__ import annotations

import random
import tkinter as tk
from collections import deque
from tkinter import filedialog, messagebox, ttk
from typing import Any, Deque, Dict, List, Optional, Tuple

from ui.presenters import PUBLIC
from ui.transfers import human_size

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
ACCENT = "#4169E1"
MINE_BG = "#E3F2FD"


def _dark(colour: str) -> bool:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


class LoginView(ttk.Frame):
    """The login window: an animated background, the colour-cycling banner, the form."""

    def __init__(self, master: tk.Misc, tr: Any, server: str, last_login: str) -> None:
        super().__init__(master)
        self.tr = tr
        self.presenter: Any = None
        self._after_ids: Dict[str, str] = {}  # one pending timer per animation
        self.canvas = tk.Canvas(self, width=520, height=420, highlightthickness=0, bg="#F8F8FF")
        self.canvas.pack(fill="both", expand=True)
        self.bubbles = []
        rnd = random.Random(7)
        for _ in range(14):
            r = rnd.randint(12, 46)
            x, y = rnd.randint(0, 520), rnd.randint(0, 420)
            colour = rnd.choice(BANNER_COLOURS[24:60])
            item = self.canvas.create_oval(x - r, y - r, x + r, y + r, fill=colour, outline="")
            self.bubbles.append([item, rnd.uniform(-1.2, 1.2), rnd.uniform(-0.8, -0.2)])
        self.banner = tk.Label(self, text=tr("login.banner"), font=("TkDefaultFont", 20, "bold"),
                               padx=18, pady=10)
        self.canvas.create_window(260, 62, window=self.banner)
        form = ttk.Frame(self, padding=16, style="Card.TFrame")
        self.server = tk.StringVar(value=server)
        self.login = tk.StringVar(value=last_login)
        self.password = tk.StringVar()
        for row, (label, var, show) in enumerate([
                (tr("login.server"), self.server, ""), (tr("login.login"), self.login, ""),
                (tr("login.password"), self.password, "•")]):
            ttk.Label(form, text=label, style="Card.TLabel").grid(row=row, column=0, sticky="w",
                                                                  pady=4, padx=(0, 8))
            entry = ttk.Entry(form, textvariable=var, width=28, show=show)
            entry.grid(row=row, column=1, pady=4)
            entry.bind("<Return>", lambda e: self.presenter.submit())
            setattr(self, "entry_%d" % row, entry)
        buttons = ttk.Frame(form, style="Card.TFrame")
        buttons.grid(row=3, column=0, columnspan=2, pady=(10, 0))
        self.submit_button = ttk.Button(buttons, text=tr("login.submit"), style="Accent.TButton",
                                        command=lambda: self.presenter.submit())
        self.submit_button.pack(side="left", padx=4)
        self.register_button = ttk.Button(buttons, text=tr("login.register"),
                                          command=lambda: self.presenter.open_register())
        self.register_button.pack(side="left", padx=4)
        self.message = ttk.Label(form, text="", style="Card.TLabel", wraplength=330,
                                 foreground="#B22222")
        self.message.grid(row=4, column=0, columnspan=2, pady=(8, 0))
        self.canvas.create_window(260, 250, window=form)
        (self.entry_1 if not last_login else self.entry_2).focus_set()
        self._animate_banner()
        self._animate_bubbles()

    def _animate_banner(self) -> None:
        colour = random.choice(BANNER_COLOURS)
        self.banner.configure(bg=colour, fg="white" if _dark(colour) else "#222222")
        self._after_ids["banner"] = self.after(BANNER_INTERVAL_MS, self._animate_banner)

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
        self._after_ids["bubbles"] = self.after(BUBBLE_INTERVAL_MS, self._animate_bubbles)

    def destroy(self) -> None:
        for after_id in self._after_ids.values():
            self.after_cancel(after_id)
        super().destroy()

    # view methods
    def fields(self) -> Tuple[str, str, str]:
        return self.server.get(), self.login.get(), self.password.get()

    def set_busy(self, busy: bool) -> None:
        state = "disabled" if busy else "normal"
        self.submit_button.configure(state=state)
        self.register_button.configure(state=state)

    def show_error(self, text: str) -> None:
        self.message.configure(text=text, foreground="#B22222")

    def show_info(self, text: str) -> None:
        self.message.configure(text=text, foreground="#2F4F4F")


class RegisterView(tk.Toplevel):
    def __init__(self, master: tk.Misc, tr: Any) -> None:
        super().__init__(master)
        self.tr = tr
        self.presenter: Any = None
        self.title(tr("register.title"))
        self.resizable(False, False)
        body = ttk.Frame(self, padding=16)
        body.pack(fill="both", expand=True)
        self.vars: Dict[str, tk.StringVar] = {}
        self.hints: Dict[str, ttk.Label] = {}
        self.rows: Dict[str, List[tk.Widget]] = {}
        self.entries: Dict[str, ttk.Entry] = {}
        labels = [("username", "register.username", ""), ("password", "register.password", "•"),
                  ("confirm", "register.confirm", "•"), ("phone", "register.phone", ""),
                  ("code", "register.code", ""), ("email", "register.email", "")]
        for row, (name, key, show) in enumerate(labels):
            var = tk.StringVar()
            self.vars[name] = var
            label = ttk.Label(body, text=tr(key))
            label.grid(row=row, column=0, sticky="w", pady=3)
            entry = ttk.Entry(body, textvariable=var, width=26, show=show)
            entry.grid(row=row, column=1, sticky="w", pady=3, padx=6)
            self.entries[name] = entry
            hint = ttk.Label(body, text="", foreground="#777777", width=34)
            hint.grid(row=row, column=3, sticky="w")
            self.hints[name] = hint
            var.trace_add("write", lambda *_, n=name: self.presenter.check(n))
            self.rows[name] = [label, entry, hint]
        self.send_button = ttk.Button(body, text=tr("register.send_code"),
                                      command=lambda: self.presenter.send_code())
        self.send_button.grid(row=3, column=2, padx=2)
        self.rows["code"].append(self.send_button)
        buttons = ttk.Frame(body)
        buttons.grid(row=len(labels), column=0, columnspan=4, pady=(12, 0))
        self.submit_button = ttk.Button(buttons, text=tr("register.submit"),
                                        style="Accent.TButton",
                                        command=lambda: self.presenter.submit())
        self.submit_button.pack(side="left", padx=4)
        ttk.Button(buttons, text=tr("register.back"), command=self.destroy).pack(side="left")
        self.message = ttk.Label(body, text="", wraplength=520)
        self.message.grid(row=len(labels) + 1, column=0, columnspan=4, pady=(8, 0))
        self.entries["username"].focus_set()
        self.bind("<Return>", lambda e: self.presenter.submit())

    def values(self) -> Dict[str, str]:
        return {name: var.get() for name, var in self.vars.items()}

    def set_hint(self, name: str, key: str, ok: Optional[bool]) -> None:
        colour = "#777777" if ok is None else ("#2E8B57" if ok else "#B22222")
        self.hints[name].configure(text=self.tr(key), foreground=colour)

    def set_code_visible(self, visible: bool) -> None:
        for widget in self.rows["code"]:
            if visible:
                widget.grid()
            else:
                widget.grid_remove()
        if not visible:
            self.send_button.grid_remove()

    def set_send_code(self, enabled: bool, text: str) -> None:
        self.send_button.configure(state="normal" if enabled else "disabled", text=text)

    def set_busy(self, busy: bool) -> None:
        self.submit_button.configure(state="disabled" if busy else "normal")

    def show_error(self, text: str) -> None:
        self.message.configure(text=text, foreground="#B22222")

    def show_info(self, text: str) -> None:
        self.message.configure(text=text, foreground="#2F4F4F")


class ChatView(ttk.Frame):
    def __init__(self, master: tk.Tk, tr: Any, app: Any) -> None:
        super().__init__(master)
        self.tr = tr
        self.app = app
        self.presenter: Any = None
        self.root = master
        self._conv_keys: List[str] = []
        self._entry_lines: Deque[int] = deque()  # text lines of each shown entry, in order
        menubar = tk.Menu(master)
        file_menu = tk.Menu(menubar, tearoff=False)
        file_menu.add_command(label=tr("menu.files"), command=app.open_files)
        file_menu.add_command(label=tr("menu.upload_file"), command=app.upload_file)
        file_menu.add_command(label=tr("menu.upload_folder"), command=app.upload_folder)
        file_menu.add_separator()
        file_menu.add_command(label=tr("menu.logout"), command=app.logout)
        file_menu.add_command(label=tr("menu.quit"), command=app.quit)
        menubar.add_cascade(label=tr("menu.file"), menu=file_menu)
        settings_menu = tk.Menu(menubar, tearoff=False)
        settings_menu.add_command(label=tr("menu.preferences"), command=app.open_settings)
        menubar.add_cascade(label=tr("menu.settings"), menu=settings_menu)
        master.configure(menu=menubar)
        self.menubar = menubar

        panes = ttk.PanedWindow(self, orient="horizontal")
        panes.pack(fill="both", expand=True)
        left = ttk.Frame(panes, padding=(6, 6, 0, 6))
        self.conversations = tk.Listbox(left, width=18, activestyle="none", exportselection=False,
                                        relief="flat", highlightthickness=0)
        self.conversations.pack(fill="both", expand=True)
        self.conversations.bind("<<ListboxSelect>>", self._picked_conversation)
        panes.add(left, weight=0)

        middle = ttk.Frame(panes, padding=6)
        self.older_button = ttk.Button(middle, text=tr("chat.load_older"),
                                       command=lambda: self.presenter.load_older())
        self.older_button.pack(fill="x")
        text_frame = ttk.Frame(middle)
        text_frame.pack(fill="both", expand=True, pady=(4, 4))
        self.text = tk.Text(text_frame, wrap="word", state="disabled", relief="flat",
                            padx=8, pady=6, height=20, width=60, highlightthickness=0,
                            font="TkDefaultFont")
        scroll = ttk.Scrollbar(text_frame, command=self.text.yview)
        self.text.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.text.pack(side="left", fill="both", expand=True)
        self.text.tag_configure("meta", foreground="#888888")
        self.text.tag_configure("who", foreground=ACCENT, font=("TkDefaultFont", 10, "bold"))
        self.text.tag_configure("mine", background=MINE_BG, lmargin1=40, lmargin2=40)
        self.text.tag_configure("private", foreground="#8B008B")
        self.text.tag_configure("system", foreground="#708090", justify="center")
        bottom = ttk.Frame(middle)
        bottom.pack(fill="x")
        self.input = tk.Text(bottom, height=3, wrap="word", relief="solid", borderwidth=1,
                             highlightthickness=0, font="TkDefaultFont")
        self.input.pack(side="left", fill="x", expand=True)
        self.input.bind("<Return>", self._enter)
        self.input.bind("<KeyRelease>", lambda e: self.presenter.typed(self._input_text()))
        side = ttk.Frame(bottom)
        side.pack(side="left", padx=(6, 0))
        self.send_button = ttk.Button(side, text=tr("chat.send"), style="Accent.TButton",
                                      command=self._send)
        self.send_button.pack()
        self.counter = ttk.Label(side, text="", foreground="#B22222")
        self.counter.pack()
        ttk.Label(middle, text=tr("chat.enter_hint"), foreground="#999999").pack(anchor="w")
        panes.add(middle, weight=1)

        right = ttk.Frame(panes, padding=(0, 6, 6, 6))
        self.online_label = ttk.Label(right, text=tr("chat.online", n=0))
        self.online_label.pack(anchor="w")
        self.online = tk.Listbox(right, width=18, activestyle="none", relief="flat",
                                 highlightthickness=0)
        self.online.pack(fill="both", expand=True)
        self.online.bind("<Double-Button-1>", self._open_private)
        panes.add(right, weight=0)

        self.status = ttk.Label(self, text="", anchor="w", padding=(8, 2), relief="sunken")
        self.status.pack(fill="x", side="bottom")
        self.error = ttk.Label(self, text="", anchor="w", padding=(8, 0), foreground="#B22222")
        self.error.pack(fill="x", side="bottom")
        master.bind("<FocusIn>", lambda e: self.presenter and self.presenter.focus_changed(True))
        master.bind("<FocusOut>", lambda e: self.presenter and self.presenter.focus_changed(False))
        self.input.focus_set()

    def _input_text(self) -> str:
        return self.input.get("1.0", "end-1c")

    def _enter(self, event: Any) -> str:
        if event.state & 0x0001:  # Shift+Enter: a new line
            return ""
        self._send()
        return "break"

    def _send(self) -> None:
        self.presenter.send(self._input_text())

    def _picked_conversation(self, event: Any) -> None:
        picked = self.conversations.curselection()
        if picked and picked[0] < len(self._conv_keys):
            self.presenter.switch_to(self._conv_keys[picked[0]])

    def _open_private(self, event: Any) -> None:
        picked = self.online.curselection()
        if picked:
            self.presenter.open_private(self.online.get(picked[0]))

    # view methods
    def _insert(self, entry: Dict[str, Any], index: str = "end") -> int:
        """Draw one entry at index; returns how many text lines it took."""
        if entry["kind"] == "system":
            self.text.insert(index, "— %s  %s —\n" % (entry["text"], entry["time"]), ("system",))
            return 1
        tags = ("mine",) if entry["kind"] == "mine" else ()
        self.text.insert(index, entry["who"], tags + ("who",))
        if entry["private"]:
            to = self.tr("chat.to", user=entry["to"]) if entry["kind"] == "mine" else ""
            self.text.insert(index, " %s %s" % (self.tr("chat.private_mark"), to), tags +
                             ("private",))
        self.text.insert(index, "  " + entry["time"] + "\n", tags + ("meta",))
        self.text.insert(index, entry["text"] + "\n\n", tags)
        return entry["text"].count("\n") + 3

    def show_conversation(self, entries: List[Dict[str, Any]]) -> None:
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        self._entry_lines = deque(self._insert(entry) for entry in entries)
        self.text.configure(state="disabled")
        self.text.see("end")

    def append_entry(self, entry: Dict[str, Any]) -> None:
        at_bottom = self.text.yview()[1] > 0.98
        self.text.configure(state="normal")
        self._entry_lines.append(self._insert(entry))
        self.text.configure(state="disabled")
        if at_bottom or entry["kind"] == "mine":
            self.text.see("end")

    def prepend_entries(self, entries: List[Dict[str, Any]]) -> None:
        self.text.configure(state="normal")
        for entry in reversed(entries):
            self._entry_lines.appendleft(self._insert(entry, "1.0"))
        self.text.configure(state="disabled")
        self.text.see("1.0")

    def drop_oldest(self, count: int) -> None:
        """Forget the first `count` entries: a long-running room stays as fast as a new one."""
        lines = sum(self._entry_lines.popleft() for _ in range(min(count,
                                                                   len(self._entry_lines))))
        self.text.configure(state="normal")
        self.text.delete("1.0", "%d.0" % (lines + 1))
        self.text.configure(state="disabled")

    def set_online(self, names: List[str]) -> None:
        self.online.delete(0, "end")
        for name in names:
            self.online.insert("end", name)
        self.online_label.configure(text=self.tr("chat.online", n=len(names)))

    def set_conversations(self, items: List[Tuple[str, str, int]], current: str) -> None:
        self._conv_keys = [key for key, _, _ in items]
        self.conversations.delete(0, "end")
        for _, label, unread in items:
            text = self.tr("chat.unread", name=label, n=unread) if unread else label
            self.conversations.insert("end", text)
        if current in self._conv_keys:
            i = self._conv_keys.index(current)
            self.conversations.selection_clear(0, "end")
            self.conversations.selection_set(i)
        self.older_button.configure(text=self.tr("chat.load_older"))

    def set_counter(self, text: str) -> None:
        self.counter.configure(text=text)

    def set_status(self, text: str) -> None:
        self.status.configure(text=text)

    def set_title(self, text: str) -> None:
        self.root.title(text)

    def alert(self) -> None:
        self.root.bell()
        try:
            self.root.wm_attributes("-urgent", True)  # X11: the taskbar entry flashes
        except tk.TclError:
            pass

    def show_error(self, text: str) -> None:
        self.error.configure(text=text)
        self.after(5000, lambda: self.error.winfo_exists() and self.error.configure(text=""))

    def clear_input(self) -> None:
        self.input.delete("1.0", "end")


class FilesView(tk.Toplevel):
    COLUMNS = ("owner", "size", "type", "uploaded")

    def __init__(self, master: tk.Misc, tr: Any, app: Any) -> None:
        super().__init__(master)
        self.tr = tr
        self.app = app
        self.presenter: Any = None
        self.title(tr("files.title"))
        self.geometry("820x560")
        body = ttk.Frame(self, padding=8)
        body.pack(fill="both", expand=True)
        toolbar = ttk.Frame(body)
        toolbar.pack(fill="x")
        ttk.Button(toolbar, text=tr("menu.upload_file"), command=app.upload_file).pack(side="left")
        ttk.Button(toolbar, text=tr("menu.upload_folder"),
                   command=app.upload_folder).pack(side="left", padx=4)
        ttk.Button(toolbar, text=tr("files.download"), style="Accent.TButton",
                   command=self._download).pack(side="left", padx=4)
        ttk.Button(toolbar, text=tr("files.delete"), command=self._delete).pack(side="left")
        ttk.Button(toolbar, text=tr("files.refresh"),
                   command=lambda: app.session.refresh_files()).pack(side="right")
        self.tree = ttk.Treeview(body, columns=self.COLUMNS, height=12)
        self.tree.heading("#0", text=tr("files.name"))
        self.tree.column("#0", width=300)
        for col, width in zip(self.COLUMNS, (110, 90, 150, 130)):
            self.tree.heading(col, text=tr("files." + col))
            self.tree.column(col, width=width, anchor="w")
        self.tree.pack(fill="both", expand=True, pady=6)
        self.tree.bind("<Double-Button-1>", lambda e: self._download())
        ttk.Label(body, text=tr("files.queue")).pack(anchor="w")
        self.queue = ttk.Frame(body)
        self.queue.pack(fill="x")
        self.error = ttk.Label(body, text="", foreground="#B22222")
        self.error.pack(anchor="w")
        self.rows: Dict[int, Tuple[ttk.Label, ttk.Progressbar, ttk.Label, ttk.Button]] = {}

    def destroy(self) -> None:
        if self.presenter is not None and self.presenter.view is self:
            self.presenter.view = None
        super().destroy()

    def _selected(self) -> Tuple[List[int], Optional[str]]:
        ids, folder = [], None
        for item in self.tree.selection():
            if item.startswith("f:"):
                ids.append(int(item[2:]))
            elif item.startswith("d:"):
                folder = item[2:]
        return ids, folder

    def _download(self) -> None:
        ids, folder = self._selected()
        if not ids and not folder:
            return
        target = filedialog.askdirectory(parent=self, title=self.tr("files.choose_target"),
                                         initialdir=self.app.settings.download_folder())
        if target:
            self.presenter.download(ids, folder, target)

    def _delete(self) -> None:
        ids, _ = self._selected()
        for file_id in ids:
            self.presenter.delete(file_id)

    def show_files(self, tree: List[Tuple[Optional[str], List[Dict[str, Any]]]]) -> None:
        import time as _time
        opened = {item for item in self.tree.get_children() if self.tree.item(item, "open")}
        self.tree.delete(*self.tree.get_children())
        for folder, records in tree:
            parent = ""
            if folder is not None:
                parent = "d:" + folder
                total = sum(r["size"] for r in records)
                self.tree.insert("", "end", parent, text=folder + "/", open=parent in opened,
                                 values=(records[0]["owner"], human_size(total),
                                         self.tr("files.folder"), ""))
            for r in records:
                name = r["name"] if folder is None else r["name"][len(folder) + 1:]
                self.tree.insert(parent, "end", "f:%d" % r["file_id"], text=name, values=(
                    r["owner"], human_size(r["size"]), r["type"],
                    _time.strftime("%Y-%m-%d %H:%M", _time.localtime(r["uploaded_at"]))))

    def show_transfers(self, rows: List[Tuple[int, str, float, str, bool]]) -> None:
        for index, label, fraction, text, finished in rows[-8:]:
            if index not in self.rows:
                frame = ttk.Frame(self.queue)
                frame.pack(fill="x", pady=1)
                name = ttk.Label(frame, text=label, width=34)
                name.pack(side="left")
                bar = ttk.Progressbar(frame, length=220, maximum=1.0)
                bar.pack(side="left", padx=6)
                state = ttk.Label(frame, text=text, width=34)
                state.pack(side="left")
                cancel = ttk.Button(frame, text=self.tr("files.cancel"),
                                    command=lambda i=index: self.presenter.cancel(i))
                cancel.pack(side="left")
                self.rows[index] = (name, bar, state, cancel)
            _, bar, state, cancel = self.rows[index]
            bar.configure(value=fraction)
            state.configure(text=text)
            if finished:
                cancel.configure(state="disabled")

    def show_error(self, text: str) -> None:
        self.error.configure(text=text)


class SettingsView(tk.Toplevel):
    def __init__(self, master: tk.Misc, tr: Any, app: Any) -> None:
        super().__init__(master)
        self.tr = tr
        self.app = app
        self.title(tr("settings.title"))
        self.resizable(False, False)
        s = app.settings
        body = ttk.Frame(self, padding=16)
        body.pack(fill="both", expand=True)
        self.language = tk.StringVar(value=s.language or app.tr.language)
        self.server = tk.StringVar(value=s.server)
        self.download_dir = tk.StringVar(value=s.download_folder())
        self.notify = tk.BooleanVar(value=s.notify)
        ttk.Label(body, text=tr("settings.language")).grid(row=0, column=0, sticky="w", pady=4)
        langs = ttk.Frame(body)
        langs.grid(row=0, column=1, sticky="w")
        ttk.Radiobutton(langs, text="中文", value="zh", variable=self.language).pack(side="left")
        ttk.Radiobutton(langs, text="English", value="en",
                        variable=self.language).pack(side="left", padx=8)
        ttk.Label(body, text=tr("settings.server")).grid(row=1, column=0, sticky="w", pady=4)
        ttk.Entry(body, textvariable=self.server, width=32).grid(row=1, column=1, sticky="w")
        ttk.Label(body, text=tr("settings.download_dir")).grid(row=2, column=0, sticky="w",
                                                               pady=4)
        folder = ttk.Frame(body)
        folder.grid(row=2, column=1, sticky="w")
        ttk.Entry(folder, textvariable=self.download_dir, width=24).pack(side="left")
        ttk.Button(folder, text=tr("settings.browse"), command=self._browse).pack(side="left",
                                                                                 padx=4)
        ttk.Checkbutton(body, text=tr("settings.notify"), variable=self.notify).grid(
            row=3, column=0, columnspan=2, sticky="w", pady=8)
        ttk.Label(body, text=tr("settings.restart_lang"), foreground="#777777").grid(
            row=4, column=0, columnspan=2, sticky="w")
        ttk.Button(body, text=tr("settings.save"), style="Accent.TButton",
                   command=self._save).grid(row=5, column=1, sticky="e", pady=(10, 0))

    def _browse(self) -> None:
        folder = filedialog.askdirectory(parent=self, initialdir=self.download_dir.get())
        if folder:
            self.download_dir.set(folder)

    def _save(self) -> None:
        self.app.remember(language=self.language.get(), server=self.server.get(),
                          download_dir=self.download_dir.get(), notify=self.notify.get())
        self.destroy()


def apply_language(root: tk.Tk, language: str) -> None:
    """Tk's own dialogs (Yes/No, file choosers) in the same language as ours."""
    try:
        root.tk.call("::msgcat::mclocale", "zh_cn" if language == "zh" else "en")
    except tk.TclError:  # an old Tk without msgcat: its dialogs stay in English
        pass


def apply_style(root: tk.Tk) -> None:
    style = ttk.Style(root)
    if "clam" in style.theme_names():
        style.theme_use("clam")
    style.configure("Accent.TButton", foreground="white", background=ACCENT)
    style.map("Accent.TButton", background=[("active", "#27408B"), ("disabled", "#A0A0C0")])
    style.configure("Horizontal.TProgressbar", background=ACCENT, troughcolor="#E8E8EE")
    style.configure("Card.TFrame", background="white")
    style.configure("Card.TLabel", background="white")


def ask_files(parent: tk.Misc) -> List[str]:
    return list(filedialog.askopenfilenames(parent=parent) or [])


def ask_folder(parent: tk.Misc) -> str:
    return filedialog.askdirectory(parent=parent) or ""


def ask_trust(parent: tk.Misc, tr: Any, server: str, fingerprint: str) -> bool:
    """Trust on first use: show the certificate's fingerprint and ask."""
    pairs = fingerprint.split(":")
    # Four lines of eight pairs: easy to compare by eye, never wrapped inside a pair.
    shown = "\n".join(":".join(pairs[i:i + 8]) for i in range(0, len(pairs), 8))
    return messagebox.askyesno(tr("tls.title"), tr("tls.ask", server=server,
                                                   fingerprint=shown), parent=parent)


__all__ = ["LoginView", "RegisterView", "ChatView", "FilesView", "SettingsView", "apply_style",
           "PUBLIC"]
