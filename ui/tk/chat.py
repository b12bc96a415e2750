"""The chat window: conversations on the left, the messages and the input in the middle,
who is online on the right, the status bar below. It fills the root window."""
from __future__ import annotations

import tkinter as tk
import weakref
from collections import deque
from tkinter import ttk
from typing import Deque, List, Optional, Tuple

from ui.i18n import Catalog
from ui.presenters.chat import ChatPresenter, Entry
from ui.tk.common import ACCENT, ERROR_FG, MINE_BG

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
        self._entry_lines: Deque[int] = deque()  # text lines of each shown entry, in order
        self._error_after: Optional[str] = None
        self.frame = frame = ttk.Frame(master)

        # What is packed first keeps its room when the window is small: the status bar, then
        # (in the middle) the input and the notes under it; the messages take what is left.
        self.status = ttk.Label(frame, text="", anchor="w", padding=(8, 2), relief="sunken")
        self.status.pack(fill="x", side="bottom")
        self.error = ttk.Label(frame, text="", anchor="w", padding=(8, 0), foreground=ERROR_FG)
        self.error.pack(fill="x", side="bottom")
        frame.bind("<Configure>", self._rewrap)
        panes = ttk.PanedWindow(frame, orient="horizontal")
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
        if picked:
            self.presenter.open_private(self.online.get(picked[0]))

    def _insert(self, entry: Entry, index: str = "end") -> int:
        """Draw one entry at index; returns how many text lines it took."""
        if entry["kind"] == "system":
            self.text.insert(index, "— %s  %s —\n" % (entry["text"], entry["time"]), ("system",))
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
        self.text.configure(state="disabled")
        self.text.see("end")

    def append_entry(self, entry: Entry) -> None:
        at_bottom = self.text.yview()[1] > 0.98
        self.text.configure(state="normal")
        self._entry_lines.append(self._insert(entry))
        self.text.configure(state="disabled")
        if at_bottom or entry["kind"] == "mine":
            self.text.see("end")

    def prepend_entries(self, entries: List[Entry]) -> None:
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
        whatever was typed since."""
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
        self.draft_note.configure(text=text)
        if not text:
            self.draft_note.pack_forget()
        elif not self.draft_note.winfo_manager():
            self.draft_note.pack(side="bottom", anchor="w", fill="x", after=self.hint)
