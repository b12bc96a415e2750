"""The chat window: conversations on the left, the messages and the input in the middle,
who is online on the right, the status bar below. It fills the root window. A right-click
on a user or a message opens the menu its presenter offers (a teacher's controls, deleting
a message); a teacher also has the "quiet room" switch above the messages. The left
column lists the lobby, the rooms and the private conversations, with the room buttons under
it (docs/PROTOCOL.md §12); a room's topic and any invitations show above the messages."""
from __future__ import annotations

import tkinter as tk
import weakref
from collections import deque
from tkinter import ttk
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from ui.i18n import Catalog
from ui.presenters.chat import Action, ChatPresenter, Entry
from ui.tk.common import ACCENT, BADGE_BG, ERROR_FG, INFO_FG, MINE_BG, MUTED_FG
from ui.tk.rooms import InviteDialog, NewRoomDialog, RoomListDialog

# An error under the messages disappears after this long.
ERROR_SHOWN_MS = 5000


class ChatWindow:
    """Implements ui.presenters.chat.ChatView inside the root window. It reaches its
    presenter through a weak reference: the presenter owns the view, never the reverse."""

    def __init__(self, master: tk.Tk, tr: Catalog, presenter: ChatPresenter) -> None:
        self.tr = tr
        self.presenter = weakref.proxy(presenter)
        self.root = master
        self._conv_keys: List[str] = []
        self.online_names: List[str] = []  # the names in the online list, in its order
        self._teachers: List[str] = []
        self._entry_lines: Deque[int] = deque()  # text lines of each shown entry, in order
        self._entry_ids: Deque[Optional[int]] = deque()  # and its msg_id (a right-click)
        self._error_after: Optional[str] = None
        self._menu: Optional[tk.Menu] = None  # the right-click menu last shown
        self._lock = ""  # why the input is closed ('' while it is open)
        self._locked_draft = ""  # what was typed when it closed; back when it opens
        self.frame = frame = ttk.Frame(master)

        # What is packed first keeps its room when the window is small: the status bar, then
        # (in the middle) the input and the notes under it; the messages take what is left.
        status_bar = ttk.Frame(frame)
        status_bar.pack(fill="x", side="bottom")
        # The role badge: a teacher sees at a glance that they have the teacher's controls.
        self.badge = tk.Label(status_bar, text="", background=BADGE_BG, foreground="white",
                              padx=8, font=("TkDefaultFont", 9, "bold"))
        self.status = ttk.Label(status_bar, text="", anchor="w", padding=(8, 2),
                                relief="sunken")
        self.status.pack(fill="x", side="left", expand=True)
        self.error = ttk.Label(frame, text="", anchor="w", padding=(8, 0), foreground=ERROR_FG)
        self.error.pack(fill="x", side="bottom")
        frame.bind("<Configure>", self._rewrap)
        panes = ttk.PanedWindow(frame, orient="horizontal")
        panes.pack(fill="both", expand=True)
        left = ttk.Frame(panes, padding=(6, 6, 0, 6))
        # The room buttons first, so a short window shortens the list, never hides them.
        room_buttons = ttk.Frame(left)
        room_buttons.pack(side="bottom", fill="x", pady=(4, 0))
        self.new_room_button = ttk.Button(room_buttons, text=tr("room.new"),
                                          command=self.open_new_room)
        self.browse_button = ttk.Button(room_buttons, text=tr("room.browse"),
                                        command=lambda: self.presenter.browse_rooms())
        self.invite_button = ttk.Button(room_buttons, text=tr("room.invite"),
                                        command=self.open_invite, state="disabled")
        self.leave_button = ttk.Button(room_buttons, text=tr("room.leave"),
                                       command=lambda: self.presenter.leave(), state="disabled")
        for button in (self.new_room_button, self.browse_button, self.invite_button,
                       self.leave_button):
            button.pack(fill="x", pady=1)
        self.dialog: Optional[Any] = None  # the room dialog open now, if any
        self.invitations: Dict[int, ttk.Frame] = {}
        self.conversations = tk.Listbox(left, width=22, activestyle="none", exportselection=False,
                                        relief="flat", highlightthickness=0)
        self.conversations.pack(fill="both", expand=True)
        self.conversations.bind("<<ListboxSelect>>", self._picked_conversation)
        panes.add(left, weight=0)

        middle = ttk.Frame(panes, padding=6)
        self.middle = middle
        # A room's name, member count and topic (packed only while a room is shown).
        self.topic = ttk.Label(middle, text="", anchor="w", foreground=INFO_FG,
                               font=("TkDefaultFont", 10, "bold"))
        top = ttk.Frame(middle)
        top.pack(fill="x")
        self.top = top
        self.quiet_var = tk.BooleanVar(master, False)
        self.quiet_check = ttk.Checkbutton(top, text=tr("mod.quiet_toggle"),
                                           variable=self.quiet_var, command=self._quiet_toggled)
        self.older_button = ttk.Button(top, text=tr("chat.load_older"),
                                       command=lambda: self.presenter.load_older())
        self.older_button.pack(fill="x", side="left", expand=True)
        self.hint = ttk.Label(middle, text=tr("chat.enter_hint"), foreground="#999999")
        self.hint.pack(side="bottom", anchor="w")
        # Why the server did not take the last message: right under the draft it is about,
        # packed (above the hint) only while there is something to say.
        self.draft_note = ttk.Label(middle, text="", foreground=ERROR_FG, justify="left")
        middle.bind("<Configure>", lambda e: self.draft_note.configure(
            wraplength=max(120, e.width - 16)))
        bottom = ttk.Frame(middle)
        bottom.pack(side="bottom", fill="x")
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
        self.text.tag_configure("deleted", foreground=MUTED_FG, justify="center",
                                font=("TkDefaultFont", 9, "italic"))
        self.text.bind("<Button-3>", self._message_clicked)
        # The send button first, so a narrow window narrows the input, never hides the button.
        side = ttk.Frame(bottom)
        side.pack(side="right", padx=(6, 0))
        self.send_button = ttk.Button(side, text=tr("chat.send"), style="Accent.TButton",
                                      width=-6, command=self._send)
        self.send_button.pack()
        self.counter = ttk.Label(side, text="", foreground=ERROR_FG)
        self.counter.pack()
        self.input = tk.Text(bottom, height=3, width=20, wrap="word", relief="solid",
                             borderwidth=1, highlightthickness=0, font="TkDefaultFont")
        self.input.pack(side="left", fill="x", expand=True)
        self.input.tag_configure("lock", foreground=ERROR_FG)
        self._input_bg = self.input.cget("background")
        self._input_lines = int(self.input.cget("height"))
        self.input.bind("<Configure>", lambda e: self._fit_lock())
        self.input.bind("<Return>", self._enter)
        self.input.bind("<KeyRelease>", lambda e: self.presenter.typed(self._input_text()))
        panes.add(middle, weight=1)

        right = ttk.Frame(panes, padding=(0, 6, 6, 6))
        self.online_label = ttk.Label(right, text=tr("chat.online", n=0))
        self.online_label.pack(anchor="w")
        self.online = tk.Listbox(right, width=18, activestyle="none", relief="flat",
                                 highlightthickness=0)
        self.online.pack(fill="both", expand=True)
        self.online.bind("<Double-Button-1>", self._open_private)
        self.online.bind("<Button-3>", self._user_clicked)
        panes.add(right, weight=0)

        # Bindings on the root outlive this window's widgets: close() removes them.
        self._root_bindings = [
            ("<FocusIn>", master.bind("<FocusIn>",
                                      lambda e: self.presenter.focus_changed(True))),
            ("<FocusOut>", master.bind("<FocusOut>",
                                       lambda e: self.presenter.focus_changed(False)))]
        self.input.focus_set()
        frame.pack(fill="both", expand=True)

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog = None
        for sequence, funcid in self._root_bindings:
            self.root.unbind(sequence, funcid)
        self._root_bindings = []
        if self._error_after is not None:
            self.frame.after_cancel(self._error_after)
            self._error_after = None
        self.frame.destroy()

    def _rewrap(self, event: tk.Event) -> None:
        """The status bar and the error line wrap at the window's width (a refusal is a long
        sentence, and a narrow window must still show all of it)."""
        for label in (self.status, self.error):
            label.configure(wraplength=max(120, event.width - 24))

    def _input_text(self) -> str:
        if self._lock:
            return self._locked_draft
        return self.input.get("1.0", "end-1c")

    def _enter(self, event: tk.Event) -> str:
        if event.state & 0x0001:  # Shift+Enter: a new line
            return ""
        self._send()
        return "break"

    def _send(self) -> None:
        self.presenter.send(self._input_text())

    def _picked_conversation(self, event: tk.Event) -> None:
        picked = self.conversations.curselection()
        if picked and picked[0] < len(self._conv_keys):
            self.presenter.switch_to(self._conv_keys[picked[0]])

    def _open_private(self, event: tk.Event) -> None:
        picked = self.online.curselection()
        if picked and picked[0] < len(self.online_names):
            self.presenter.open_private(self.online_names[picked[0]])

    # -- right-click menus --------------------------------------------------------------

    def _popup(self, actions: List[Action], chosen: Callable[[str], None]) -> Optional[tk.Menu]:
        """A menu of these actions (None when there are none); chosen(action) on a click."""
        if self._menu is not None:
            self._menu.destroy()
            self._menu = None
        if not actions:
            return None
        self._menu = menu = tk.Menu(self.frame, tearoff=False)
        for label, action in actions:
            menu.add_command(label=label, command=lambda a=action: chosen(a))
        return menu

    def user_menu(self, name: str) -> Optional[tk.Menu]:
        """The menu of a user in the online list (a right-click shows it)."""
        return self._popup(self.presenter.user_actions(name),
                           lambda action: self.presenter.user_action(name, action))

    def message_menu(self, msg_id: int) -> Optional[tk.Menu]:
        """The menu of one message (a right-click on it shows it)."""
        return self._popup(self.presenter.message_actions(msg_id),
                           lambda action: self.presenter.message_action(msg_id, action))

    def message_at(self, index: str) -> Optional[int]:
        """The msg_id of the message drawn at a text index (None: a notice, or nothing)."""
        line = int(self.text.index(index).split(".")[0])
        start = 1
        for lines, msg_id in zip(self._entry_lines, self._entry_ids):
            if line < start + lines:
                return msg_id
            start += lines
        return None

    def _user_clicked(self, event: tk.Event) -> None:
        i = self.online.nearest(event.y)
        if not 0 <= i < len(self.online_names):
            return
        self.online.selection_clear(0, "end")
        self.online.selection_set(i)
        menu = self.user_menu(self.online_names[i])
        if menu is not None:
            menu.tk_popup(event.x_root, event.y_root)

    def _message_clicked(self, event: tk.Event) -> None:
        msg_id = self.message_at("@%d,%d" % (event.x, event.y))
        menu = self.message_menu(msg_id) if msg_id is not None else None
        if menu is not None:
            menu.tk_popup(event.x_root, event.y_root)

    def _quiet_toggled(self) -> None:
        self.presenter.set_quiet(bool(self.quiet_var.get()))

    def _insert(self, entry: Entry, index: str = "end") -> int:
        """Draw one entry at index; returns how many text lines it took."""
        if entry["kind"] == "system":
            self.text.insert(index, "— %s  %s —\n" % (entry["text"], entry["time"]), ("system",))
            return 1
        if entry["kind"] == "deleted":
            self.text.insert(index, "%s: %s  %s\n" % (entry["who"], entry["text"], entry["time"]),
                             ("deleted",))
            return 1
        tags: Tuple[str, ...] = ("mine",) if entry["kind"] == "mine" else ()
        self.text.insert(index, entry["who"], tags + ("who",))
        if entry["private"]:
            to = self.tr("chat.to", user=entry["to"]) if entry["kind"] == "mine" else ""
            self.text.insert(index, " %s %s" % (self.tr("chat.private_mark"), to), tags +
                             ("private",))
        self.text.insert(index, "  " + entry["time"] + "\n", tags + ("meta",))
        self.text.insert(index, entry["text"] + "\n\n", tags)
        return entry["text"].count("\n") + 3

    # -- ChatView -------------------------------------------------------------------------

    def show_conversation(self, entries: List[Entry]) -> None:
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        self._entry_lines = deque(self._insert(entry) for entry in entries)
        self._entry_ids = deque(entry.get("msg_id") for entry in entries)
        self.text.configure(state="disabled")
        self.text.see("end")

    def append_entry(self, entry: Entry) -> None:
        at_bottom = self.text.yview()[1] > 0.98
        self.text.configure(state="normal")
        self._entry_lines.append(self._insert(entry))
        self._entry_ids.append(entry.get("msg_id"))
        self.text.configure(state="disabled")
        if at_bottom or entry["kind"] == "mine":
            self.text.see("end")

    def prepend_entries(self, entries: List[Entry]) -> None:
        self.text.configure(state="normal")
        for entry in reversed(entries):
            self._entry_lines.appendleft(self._insert(entry, "1.0"))
            self._entry_ids.appendleft(entry.get("msg_id"))
        self.text.configure(state="disabled")
        self.text.see("1.0")

    def drop_oldest(self, count: int) -> None:
        """Forget the first `count` entries: a long-running room stays as fast as a new one."""
        count = min(count, len(self._entry_lines))
        lines = sum(self._entry_lines.popleft() for _ in range(count))
        for _ in range(count):
            self._entry_ids.popleft()
        self.text.configure(state="normal")
        self.text.delete("1.0", "%d.0" % (lines + 1))
        self.text.configure(state="disabled")

    def set_online(self, names: List[str]) -> None:
        self.online_names = list(names)
        self.online.delete(0, "end")
        for name in names:
            self.online.insert("end", name)
        self.online_label.configure(text=self.tr("chat.online", n=len(names)))
        self.mark_teachers(self._teachers)

    def mark_teachers(self, names: List[str]) -> None:
        """A teacher's name reads 'name (Teacher)', in the badge's colour."""
        self._teachers = list(names)
        for i, name in enumerate(self.online_names):
            teacher = name in self._teachers
            self.online.delete(i)
            self.online.insert(i, "%s (%s)" % (name, self.tr("role.admin")) if teacher
                               else name)
            if teacher:
                self.online.itemconfigure(i, foreground=BADGE_BG)

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
        if self._error_after is not None:
            self.frame.after_cancel(self._error_after)
        self._error_after = self.frame.after(ERROR_SHOWN_MS, self._clear_error)

    def _clear_error(self) -> None:
        self._error_after = None
        self.error.configure(text="")

    def clear_input(self) -> None:
        self.input.delete("1.0", "end")

    def restore_draft(self, text: str) -> None:
        """Texts given back stay in the order they were sent (tagged "restored"), before
        whatever was typed since. While the input is closed they wait with its draft."""
        if self._lock:
            self._locked_draft = text + ("\n" + self._locked_draft
                                         if self._locked_draft.strip() else "")
            return
        if not self._input_text().strip():
            self.input.delete("1.0", "end")
        restored = self.input.tag_ranges("restored")
        at = str(restored[-1]) if restored else "1.0"
        typed_since = self.input.get(at, "end-1c")
        self.input.insert(at, ("\n" if restored else "") + text, ("restored",))
        if typed_since.strip():
            self.input.insert(str(self.input.tag_ranges("restored")[-1]), "\n")
        self.input.mark_set("insert", "end-1c")
        self.presenter.typed(self._input_text())

    def set_draft_note(self, text: str) -> None:
        if text and text == self._lock:
            text = ""  # the closed input says so already
        self.draft_note.configure(text=text)
        if not text:
            self.draft_note.pack_forget()
        elif not self.draft_note.winfo_manager():
            self.draft_note.pack(side="bottom", anchor="w", fill="x", after=self.hint)

    def set_badge(self, text: str) -> None:
        self.badge.configure(text=text)
        if not text:
            self.badge.pack_forget()
        elif not self.badge.winfo_manager():
            self.badge.pack(side="right", fill="y", before=self.status)

    def set_input_lock(self, text: str) -> None:
        """A closed input shows why it is closed, in its own box, and keeps the draft."""
        if text == self._lock:
            return
        if text and not self._lock:
            self._locked_draft = self.input.get("1.0", "end-1c")
        self.input.configure(state="normal")
        self.input.delete("1.0", "end")
        if text:
            self.input.insert("1.0", text, ("lock",))
            self.input.configure(state="disabled", background="#F2F2F2")
            self.send_button.configure(state="disabled")
        else:
            self.input.insert("1.0", self._locked_draft)
            self._locked_draft = ""
            self.input.configure(background=self._input_bg)
            self.send_button.configure(state="normal")
        self._lock = text
        self._fit_lock()
        if not text:
            self.draft_note.configure(text="")
            self.draft_note.pack_forget()

    def _fit_lock(self) -> None:
        """A closed input grows (up to twice its height) until its reason fits: a narrow
        window must still say why."""
        lines = self._input_lines
        if self._lock:
            shown = self.input.count("1.0", "end", "displaylines")
            lines = max(lines, min(2 * lines, (shown[0] if shown else lines)))
        if int(self.input.cget("height")) != lines:
            self.input.configure(height=lines)

    # -- rooms (docs/PROTOCOL.md §12) -----------------------------------------------------

    def _open_dialog(self, dialog: Any) -> Any:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        return dialog

    def open_new_room(self) -> NewRoomDialog:
        return self._open_dialog(NewRoomDialog(self.root, self.tr,
                                               lambda *a: self.presenter.create_room(*a)))

    def open_invite(self) -> InviteDialog:
        return self._open_dialog(InviteDialog(self.root, self.tr,
                                              self.presenter.shown_room_name(),
                                              lambda user: self.presenter.invite(user)))

    def show_room_list(self, rooms: List[Dict[str, Any]]) -> None:
        dialog = self.dialog
        if not isinstance(dialog, RoomListDialog) or not dialog.exists():
            dialog = self._open_dialog(RoomListDialog(self.root, self.tr))
        dialog.show(rooms, lambda room_id: self.presenter.join_room(room_id))

    def set_topic(self, text: str) -> None:
        self.topic.configure(text=text)
        if not text:
            self.topic.pack_forget()
        elif not self.topic.winfo_manager():
            self.topic.pack(fill="x", before=self.top, pady=(0, 4))

    def set_room_actions(self, in_room: bool) -> None:
        state = "normal" if in_room else "disabled"
        self.invite_button.configure(state=state)
        self.leave_button.configure(state=state)

    def show_invitation(self, room_id: int, text: str) -> None:
        """A bar above the messages: the invitation, Join and Dismiss."""
        self.hide_invitation(room_id)
        bar = ttk.Frame(self.middle, padding=(6, 4), relief="groove")
        ttk.Label(bar, text=text, foreground=INFO_FG).pack(side="left", fill="x", expand=True)
        ttk.Button(bar, text=self.tr("room.dismiss"),
                   command=lambda: self.presenter.dismiss_invitation(room_id)).pack(side="right")
        ttk.Button(bar, text=self.tr("room.join"), style="Accent.TButton",
                   command=lambda: self.presenter.join_room(room_id)).pack(side="right",
                                                                          padx=4)
        bar.pack(fill="x", before=self.top, pady=(0, 4))
        self.invitations[room_id] = bar

    def hide_invitation(self, room_id: int) -> None:
        bar = self.invitations.pop(room_id, None)
        if bar is not None:
            bar.destroy()

    def set_admin_controls(self, visible: bool, quiet: bool) -> None:
        self.quiet_var.set(quiet)
        if not visible:
            self.quiet_check.pack_forget()
        elif not self.quiet_check.winfo_manager():
            self.quiet_check.pack(side="right", padx=(6, 0), before=self.older_button)
