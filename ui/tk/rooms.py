"""The chat window's room dialogs (docs/PROTOCOL.md §12): "New room…" (name, topic, private),
"Browse rooms" (the rooms with their member counts, and Join) and "Invite…" (a username).
Each is a small non-modal window that calls back with what was chosen and closes."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any, Callable, Dict, List

from ui.i18n import Catalog
from ui.tk.common import ERROR_LABEL, place_over


class _Dialog:
    """A Toplevel over its parent (centred on it: place() once its body is built), that
    Esc closes."""

    def __init__(self, master: tk.Misc, title: str) -> None:
        self.master = master
        self.window = window = tk.Toplevel(master)
        window.title(title)
        window.transient(master.winfo_toplevel())
        window.bind("<Escape>", lambda e: self.close())
        self.body = ttk.Frame(window, padding=12)
        self.body.pack(fill="both", expand=True)

    def place(self) -> None:
        place_over(self.window, self.master)

    def exists(self) -> bool:
        try:
            return bool(self.window.winfo_exists())
        except tk.TclError:
            return False

    def close(self) -> None:
        if self.exists():
            self.window.destroy()


class NewRoomDialog(_Dialog):
    """Name, topic and "private"; Create calls create(name, topic, private)."""

    def __init__(self, master: tk.Misc, tr: Catalog,
                 create: Callable[[str, str, bool], None]) -> None:
        super().__init__(master, tr("room.new_title"))
        self._create = create
        self._tr = tr
        body = self.body
        ttk.Label(body, text=tr("room.name")).grid(row=0, column=0, sticky="w", pady=2)
        self.name = ttk.Entry(body, width=32)
        self.name.grid(row=0, column=1, sticky="ew", pady=2)
        ttk.Label(body, text=tr("room.topic")).grid(row=1, column=0, sticky="w", pady=2)
        self.topic = ttk.Entry(body, width=32)
        self.topic.grid(row=1, column=1, sticky="ew", pady=2)
        self.private_var = tk.BooleanVar(self.window, False)
        self.private = ttk.Checkbutton(body, text=tr("room.private"), variable=self.private_var)
        self.private.grid(row=2, column=1, sticky="w", pady=4)
        self.message = ttk.Label(body, text="", style=ERROR_LABEL, wraplength=320)
        self.message.grid(row=3, column=0, columnspan=2, sticky="w")
        buttons = ttk.Frame(body)
        buttons.grid(row=4, column=0, columnspan=2, sticky="e", pady=(8, 0))
        self.create_button = ttk.Button(buttons, text=tr("room.create"),
                                        style="Accent.TButton", command=self._submit)
        self.create_button.pack(side="right")
        ttk.Button(buttons, text=tr("room.cancel"), command=self.close).pack(side="right",
                                                                               padx=6)
        body.columnconfigure(1, weight=1)
        self.window.bind("<Return>", lambda e: self._submit())
        self.place()
        self.name.focus_set()

    def _submit(self) -> None:
        name, topic, private = self.name.get(), self.topic.get(), bool(self.private_var.get())
        if not name.strip():  # closing would lose the topic and the tick already given
            self.message.configure(text=self._tr("error.bad_room_name"))
            self.name.focus_set()
            return
        self.close()
        self._create(name, topic, private)


class RoomListDialog(_Dialog):
    """The rooms: name, members, topic, and whether we are in it or invited; Join (or a
    double-click) calls join(room_id)."""

    COLUMNS = ("name", "members", "state", "topic")

    def __init__(self, master: tk.Misc, tr: Catalog) -> None:
        super().__init__(master, tr("room.browse_title"))
        self.tr = tr
        self._join: Callable[[int], None] = lambda room_id: None
        self.ids: List[int] = []
        self.tree = ttk.Treeview(self.body, columns=self.COLUMNS, show="headings", height=10,
                                 selectmode="browse")
        for column, width, title in (("name", 160, tr("room.name")), ("members", 100, ""),
                                     ("state", 80, ""), ("topic", 220, tr("room.topic"))):
            self.tree.heading(column, text=title)
            self.tree.column(column, width=width, stretch=column == "topic")
        self.tree.pack(fill="both", expand=True)
        self.tree.bind("<Double-Button-1>", lambda e: self._joined())
        self.empty = ttk.Label(self.body, text=tr("room.none"))
        buttons = ttk.Frame(self.body)
        buttons.pack(fill="x", pady=(8, 0))
        self.join_button = ttk.Button(buttons, text=tr("room.join"), style="Accent.TButton",
                                      command=self._joined)
        self.join_button.pack(side="right")
        ttk.Button(buttons, text=tr("room.cancel"), command=self.close).pack(side="right",
                                                                               padx=6)
        self.window.bind("<Return>", lambda e: self._joined())
        self.place()
        self.tree.focus_set()

    def show(self, rooms: List[Dict[str, Any]], join: Callable[[int], None]) -> None:
        self._join = join
        self.tree.delete(*self.tree.get_children())
        self.ids = []
        for record in rooms:
            state = ""
            if record.get("joined"):
                state = self.tr("room.state_joined")
            elif record.get("private"):
                state = self.tr("room.state_invited")  # listed to us only when invited
            self.ids.append(record["room"])
            self.tree.insert("", "end", iid=str(record["room"]), values=(
                record.get("name", ""), self.tr("room.members", n=record.get("members", 0)),
                state, record.get("topic") or ""))
        if not rooms:
            self.empty.pack(before=self.tree, anchor="w")
        else:
            self.empty.pack_forget()
            self.tree.selection_set(str(self.ids[0]))
            self.tree.focus(str(self.ids[0]))  # the keyboard cursor, visible, on it

    def _joined(self) -> None:
        picked = self.tree.selection()
        if picked:
            self.close()
            self._join(int(picked[0]))


class InviteDialog(_Dialog):
    """One username; Invite calls invite(user)."""

    def __init__(self, master: tk.Misc, tr: Catalog, room: str,
                 invite: Callable[[str], None]) -> None:
        super().__init__(master, tr("room.invite"))
        self._invite = invite
        ttk.Label(self.body, text=tr("room.invite_who", room=room)).pack(anchor="w")
        self.user = ttk.Entry(self.body, width=28)
        self.user.pack(fill="x", pady=6)
        buttons = ttk.Frame(self.body)
        buttons.pack(fill="x")
        self.invite_button = ttk.Button(buttons, text=tr("room.invite"),
                                        style="Accent.TButton", command=self._submit)
        self.invite_button.pack(side="right")
        ttk.Button(buttons, text=tr("room.cancel"), command=self.close).pack(side="right",
                                                                               padx=6)
        self.window.bind("<Return>", lambda e: self._submit())
        self.place()
        self.user.focus_set()

    def _submit(self) -> None:
        user = self.user.get()
        self.close()
        self._invite(user)
