"""The chat window: conversations on the left, the messages and the input in the middle,
who is online on the right, the status bar below. It fills the root window. A right-click
on a user or a message opens the menu its presenter offers (a teacher's controls, deleting
a message); a teacher also has the "quiet room" switch above the messages. The left
column lists the lobby, the rooms and the private conversations, with the room buttons under
it (docs/PROTOCOL.md §12); a room's topic and any invitations show above the messages.
The bar right above the input says who will receive what is typed.

Each message is drawn once, from the pieces its presenter worked out when it arrived (one
Text insert per message): the GUI tick never redraws the history. A shared picture's notice
has a line under it: "loading…", then the thumbnail (embedded in the Text), which opens the
files window on a click."""
from __future__ import annotations

import math
import tkinter as tk
import weakref
import webbrowser
from collections import OrderedDict, deque
from tkinter import font as tkfont
from tkinter import ttk
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from ui.i18n import Catalog
from ui.presenters.chat import (
    PASTE_MAX_CHARS,
    Action,
    ChatPresenter,
    Entry,
    looks_binary,
    room_key,
)
from ui.presenters.directory import MembersPresenter, PasswordPresenter, SearchPresenter
from ui.tk.common import (
    ACCENT,
    BADGE_BG,
    ERROR_LABEL,
    INFO_LABEL,
    MUTED_LABEL,
    Palette,
    palette,
)
from ui.tk.directory import MembersWindow, PasswordDialog, SearchWindow
from ui.tk.login import lock_image
from ui.tk.rooms import InviteDialog, NewRoomDialog, RoomListDialog

# An error under the messages disappears after this long.
ERROR_SHOWN_MS = 5000
# The full date of a message shows after the pointer rests on it this long.
HOVER_MS = 400
# The smallest the window may be made: the input, the send button and the recipient bar
# always fit (tests/test_gui_chat.py checks them at this size).
MIN_WIDTH_PX, MIN_HEIGHT_PX = 480, 400
# Below these widths the side columns give way to the messages: first the online list goes,
# then the conversation list narrows.
HIDE_ONLINE_BELOW_PX = 760
NARROW_LIST_BELOW_PX = 600
# The text size when the settings name none (points), and the range Preferences offers.
DEFAULT_FONT_PT = 10
# A shared picture's thumbnail fits in this box (pixels), shrunk by whole factors (Tk's
# subsample: no other library); a few lines of text high, so it does not push the
# conversation away.
THUMBNAIL_BOX = (160, 120)
# Thumbnails kept made (PhotoImage) while off screen: switching back to the lobby draws them
# without reading the files again. The presenter draws at most PICTURES_SHOWN at once.
THUMBNAILS_KEPT = 24
# Tk's event.state bits.
SHIFT_MASK, CONTROL_MASK = 0x0001, 0x0004
ALT_MASK = 0x0008 | 0x0080  # Mod1 (Alt on X11, Windows); Mod5/AltGr is left alone


class Tooltip:
    """A small borderless window beside the pointer (the full date of a message)."""

    def __init__(self, master: tk.Misc) -> None:
        self.master = master
        self.window: Optional[tk.Toplevel] = None
        self.text = ""

    def show(self, text: str, x_root: int, y_root: int) -> None:
        self.hide()
        self.text = text
        self.window = window = tk.Toplevel(self.master)
        window.wm_overrideredirect(True)
        tk.Label(window, text=text, background="#FFFFE0", foreground="#000000",
                 relief="solid", borderwidth=1, padx=4, pady=2).pack()
        window.wm_geometry("+%d+%d" % (x_root + 12, y_root + 16))

    def hide(self) -> None:
        if self.window is not None:
            self.window.destroy()
            self.window = None
            self.text = ""


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
        # Of each shown entry, in order: its text lines, msg_id (a right-click) and full
        # date (on hover).
        self._entry_lines: Deque[int] = deque()
        self._entry_ids: Deque[Optional[int]] = deque()
        self._entry_when: Deque[str] = deque()
        # While the App's tick polls the session (hold() ... release()), what arrives is
        # drawn at once at the end: entries to put before what is shown, how many shown
        # entries to drop from the top, entries to put after it.
        self._held = False
        self._front: List[Entry] = []
        self._drop = 0
        self._back: List[Entry] = []
        self._me = ""  # this user, marked '(you)' in the online list
        self._private = False  # what is typed now goes to one user only
        self._at_bottom = True  # the newest message is in sight (told to the presenter)
        self._hover_after: Optional[str] = None
        self._hover_index = -1
        self._narrow = (False, False)  # (online list hidden, conversation list narrowed)
        self.tooltip = Tooltip(master)
        self.palette: Palette = palette(False)
        # Fonts by name: a new text size applies to every widget using them at once.
        base = tkfont.nametofont("TkDefaultFont").actual()
        fixed = tkfont.nametofont("TkFixedFont").actual()
        self.fonts = {
            "body": tkfont.Font(master, family=base["family"], size=DEFAULT_FONT_PT),
            "bold": tkfont.Font(master, family=base["family"], size=DEFAULT_FONT_PT,
                                weight="bold"),
            "small": tkfont.Font(master, family=base["family"], size=DEFAULT_FONT_PT - 1,
                                 slant="italic"),
            "code": tkfont.Font(master, family=fixed["family"], size=DEFAULT_FONT_PT)}
        self._old_minsize = master.minsize()
        master.minsize(MIN_WIDTH_PX, MIN_HEIGHT_PX)
        self._error_after: Optional[str] = None
        self._menu: Optional[tk.Menu] = None  # the right-click menu last shown
        # file_id -> its thumbnail. Tk shows an image only while its Python object lives;
        # thumbnails no longer drawn go when more than THUMBNAILS_KEPT are made.
        self._thumbnails: "OrderedDict[int, tk.PhotoImage]" = OrderedDict()
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
        self._lock_image: Optional[tk.PhotoImage] = None  # drawn once the link is TLS
        self.password_button = ttk.Button(status_bar, text=tr("password.open"),
                                          command=self.open_password)
        self.password_button.pack(side="right", before=self.status)
        self.error = ttk.Label(frame, text="", anchor="w", padding=(8, 0), style=ERROR_LABEL)
        self.error.pack(fill="x", side="bottom")
        frame.bind("<Configure>", self._resized)
        self.panes = panes = ttk.PanedWindow(frame, orient="horizontal")
        panes.pack(fill="both", expand=True)
        self.left = left = ttk.Frame(panes, padding=(6, 6, 0, 6))
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
        # The member directory and message search (ui/tk/directory.py), above the rooms.
        people = ttk.Frame(left)
        people.pack(side="bottom", fill="x", pady=(4, 0))
        self.members_button = ttk.Button(people, text=tr("members.open"),
                                         command=self.open_members)
        self.members_button.pack(side="left", fill="x", expand=True)
        self.search_button = ttk.Button(people, text=tr("search.open"),
                                        command=self.open_search)
        self.search_button.pack(side="left", fill="x", expand=True, padx=(2, 0))
        self.people: Dict[str, Any] = {}  # the directory windows open now, by kind
        self.invitations: Dict[int, ttk.Frame] = {}
        # A visible ring while the list has the focus (highlight), and keys never pick a
        # conversation there: only a click does, and typing goes to the input.
        self.conversations = tk.Listbox(left, width=22, activestyle="none", exportselection=False,
                                        relief="flat", highlightthickness=2,
                                        highlightcolor=ACCENT, font=self.fonts["body"])
        self.conversations.pack(fill="both", expand=True)
        self.conversations.bind("<<ListboxSelect>>", self._picked_conversation)
        self.conversations.bind("<Key>", self._key_in_list)
        panes.add(left, weight=0)

        middle = ttk.Frame(panes, padding=6)
        self.middle = middle
        # A room's name, member count and topic (packed only while a room is shown).
        self.topic = ttk.Label(middle, text="", anchor="w", style=INFO_LABEL,
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
        self.hint = ttk.Label(middle, text=tr("chat.enter_hint"), style=MUTED_LABEL)
        self.hint.pack(side="bottom", anchor="w")
        # Why the server did not take the last message: right under the draft it is about,
        # packed (above the hint) only while there is something to say.
        self.draft_note = ttk.Label(middle, text="", style=ERROR_LABEL, justify="left")
        # These lines wrap at the column's width: a narrow window shows all of each.
        middle.bind("<Configure>", lambda e: [label.configure(wraplength=max(120, e.width - 16))
                                              for label in (self.draft_note, self.hint,
                                                            self.topic)])
        bottom = ttk.Frame(middle)
        bottom.pack(side="bottom", fill="x")
        text_frame = ttk.Frame(middle)
        text_frame.pack(fill="both", expand=True, pady=(4, 4))
        # The natural size of the window; a smaller one shrinks the messages first (they
        # are packed last), and the side columns give way (fit_width).
        self.text = tk.Text(text_frame, wrap="word", state="disabled", relief="flat",
                            padx=8, pady=6, height=20, width=60, highlightthickness=0,
                            font=self.fonts["body"], cursor="arrow")
        scroll = ttk.Scrollbar(text_frame, command=self.text.yview)
        self._scrollbar = scroll
        self.text.configure(yscrollcommand=self._scrolled)
        scroll.pack(side="right", fill="y")
        self.text.pack(side="left", fill="both", expand=True)
        t = self.text
        t.tag_configure("head", spacing1=8)
        t.tag_configure("who", font=self.fonts["bold"])
        t.tag_configure("day", justify="center", spacing1=10, spacing3=4,
                        font=self.fonts["bold"])
        t.tag_configure("marker", justify="center", font=self.fonts["small"], spacing1=6)
        t.tag_configure("system", justify="center")
        t.tag_configure("deleted", justify="center", font=self.fonts["small"])
        t.tag_configure("code", font=self.fonts["code"], lmargin1=16, lmargin2=16)
        t.tag_configure("link", underline=True)
        t.tag_configure("mention", font=self.fonts["bold"])
        t.tag_bind("link", "<Button-1>", self._link_clicked)
        t.tag_bind("link", "<Enter>", lambda e: t.configure(cursor="hand2"))
        t.tag_bind("link", "<Leave>", lambda e: t.configure(cursor="arrow"))
        t.tag_configure("picture", justify="center", spacing1=4, spacing3=4)
        t.tag_bind("picture", "<Button-1>", self._picture_clicked)
        t.tag_bind("picture", "<Enter>", lambda e: t.configure(cursor="hand2"))
        t.tag_bind("picture", "<Leave>", lambda e: t.configure(cursor="arrow"))
        t.bind("<Button-3>", self._message_clicked)
        t.bind("<Motion>", self._hovered)
        t.bind("<Leave>", lambda e: self._hover_off())
        # The send button first, so a narrow window narrows the input, never hides the button.
        side = ttk.Frame(bottom)
        side.pack(side="right", padx=(6, 0), anchor="s")
        self.send_button = ttk.Button(side, text=tr("chat.send"), style="Accent.TButton",
                                      width=-6, command=self._send)
        self.send_button.pack()
        self.counter = ttk.Label(side, text="", style=ERROR_LABEL)
        self.counter.pack()
        # Who receives what is typed: right above the input, in the private colour when
        # it goes to one person only.
        self.recipient = tk.Label(bottom, text="", anchor="w", padx=6, pady=1,
                                  font=self.fonts["bold"])
        self.recipient.pack(side="top", fill="x", pady=(0, 2))
        self.input = tk.Text(bottom, height=3, width=10, wrap="word", relief="solid",
                             borderwidth=1, highlightthickness=2, highlightcolor=ACCENT,
                             font=self.fonts["body"], undo=True)
        self.input.pack(side="left", fill="x", expand=True)
        self._input_bg = self.input.cget("background")
        self._input_lines = int(self.input.cget("height"))
        self.input.bind("<Configure>", lambda e: self._fit_lock())
        self.input.bind("<Return>", self._enter)
        self.input.bind("<KeyRelease>", lambda e: self.presenter.typed(self._input_text()))
        self.input.bind("<Control-a>", self._select_all_input)
        self.input.bind("<Control-A>", self._select_all_input)
        self.input.bind("<Tab>", lambda e: self._focus_step(e, +1))
        self.input.bind("<Shift-Tab>", lambda e: self._focus_step(e, -1))
        self.input.bind("<ISO_Left_Tab>", lambda e: self._focus_step(e, -1))
        self.input.bind("<<Paste>>", self._paste)
        panes.add(middle, weight=1)

        self.right = right = ttk.Frame(panes, padding=(0, 6, 6, 6))
        self.online_label = ttk.Label(right, text=tr("chat.online", n=0))
        self.online_label.pack(anchor="w")
        self.online = tk.Listbox(right, width=18, activestyle="none", relief="flat",
                                 highlightthickness=2, highlightcolor=ACCENT,
                                 font=self.fonts["body"])
        self.online.pack(fill="both", expand=True)
        self.online.bind("<Double-Button-1>", self._open_private)
        self.online.bind("<Return>", self._open_private)
        self.online.bind("<Button-3>", self._user_clicked)
        panes.add(right, weight=0)
        self.apply_theme(False)

        # Bindings on the root outlive this window's widgets: close() removes them.
        self._root_bindings = [
            ("<FocusIn>", master.bind("<FocusIn>",
                                      lambda e: self.presenter.focus_changed(True))),
            ("<FocusOut>", master.bind("<FocusOut>",
                                       lambda e: self.presenter.focus_changed(False)))]
        self.input.focus_set()
        frame.pack(fill="both", expand=True)

    def close(self) -> None:
        self._hover_off()
        self.root.minsize(*self._old_minsize)
        if self.dialog is not None:
            self.dialog.close()
            self.dialog = None
        for window in self.people.values():
            window.close()
        self.people = {}
        for sequence, funcid in self._root_bindings:
            self.root.unbind(sequence, funcid)
        self._root_bindings = []
        if self._error_after is not None:
            self.frame.after_cancel(self._error_after)
            self._error_after = None
        self.frame.destroy()

    def _resized(self, event: tk.Event) -> None:
        """The status bar and the error line wrap at the window's width (a refusal is a long
        sentence, and a narrow window must still show all of it); in a narrow window the
        side columns give way, so the messages, the input and Send keep their room."""
        if event.widget is not self.frame:
            return
        for label in (self.status, self.error):
            label.configure(wraplength=max(120, event.width - 24))
        self.fit_width(event.width)

    def fit_width(self, width: int) -> None:
        narrow = (width < HIDE_ONLINE_BELOW_PX, width < NARROW_LIST_BELOW_PX)
        if narrow == self._narrow:
            return
        self._narrow = narrow
        shown = [str(p) for p in self.panes.panes()]
        if narrow[0] and str(self.right) in shown:
            self.panes.forget(self.right)
        elif not narrow[0] and str(self.right) not in shown:
            self.panes.add(self.right, weight=0)
        self.conversations.configure(width=12 if narrow[1] else 22)

    def _input_text(self) -> str:
        if self._lock:
            return self._locked_draft
        return self.input.get("1.0", "end-1c")

    def _enter(self, event: tk.Event) -> str:
        if event.state & SHIFT_MASK:  # Shift+Enter: a new line
            return ""
        self._send()
        return "break"

    def _send(self) -> None:
        self.presenter.send(self._input_text())

    def _select_all_input(self, event: tk.Event) -> str:
        self.input.tag_add("sel", "1.0", "end-1c")
        self.input.mark_set("insert", "end-1c")
        return "break"

    def _focus_step(self, event: tk.Event, step: int) -> str:
        """Tab moves the focus on (Shift+Tab back) instead of typing a tab: the input is
        a line of chat, not an editor (a pasted tab stays a tab)."""
        widget = event.widget.tk_focusNext() if step > 0 else event.widget.tk_focusPrev()
        if widget is not None:
            widget.focus_set()
        return "break"

    def _paste(self, event: tk.Event) -> str:
        """A paste never dumps a picture's bytes as text, and never more than fits."""
        if self._lock:
            return "break"
        text = self._clipboard_text()
        if text is None or looks_binary(text):
            if self._clipboard_has_image():
                self.presenter.paste_image()
                return "break"
            if text is None:
                return "break"
        selected = self.input.tag_ranges("sel")
        kept = len(self._input_text()) - (len(self.input.get(*selected)) if selected else 0)
        text = self.presenter.paste(text, PASTE_MAX_CHARS - kept)
        if text:
            if selected:
                self.input.delete(*selected)
            self.input.insert("insert", text)
            self.input.see("insert")
        self.presenter.typed(self._input_text())
        return "break"

    def _clipboard_text(self) -> Optional[str]:
        for kind in ("UTF8_STRING", "STRING"):
            try:
                return str(self.root.clipboard_get(type=kind))
            except tk.TclError:
                continue
        return None

    def _clipboard_has_image(self) -> bool:
        try:
            targets = str(self.root.clipboard_get(type="TARGETS"))
        except tk.TclError:
            return False
        return any(name.startswith("image/") for name in targets.split())

    def _picked_conversation(self, event: tk.Event) -> None:
        picked = self.conversations.curselection()
        if picked and picked[0] < len(self._conv_keys):
            self.presenter.switch_to(self._conv_keys[picked[0]])
            self.input.focus_set()  # what is typed next is the message

    def _key_in_list(self, event: tk.Event) -> Optional[str]:
        """No key changes the conversation (a space would pick the one under the keyboard
        cursor, a letter is lost): Tab moves on, and text typed here goes to the input."""
        if event.keysym in ("Tab", "ISO_Left_Tab"):
            return None
        if event.char and event.char.isprintable() and \
                not event.state & (CONTROL_MASK | ALT_MASK) and not self._lock:
            self.input.focus_set()
            self.input.insert("insert", event.char)
            self.presenter.typed(self._input_text())
        return "break"

    def _link_clicked(self, event: tk.Event) -> None:
        url = self.link_at("@%d,%d" % (event.x, event.y))
        if url:
            webbrowser.open(url)

    def link_at(self, index: str) -> str:
        """The address drawn at a text index ('' when no link is there)."""
        found = self.text.tag_prevrange("link", index + "+1c")
        if not found or not self.text.compare(index, "<", found[1]):
            return ""
        return self.text.get(*found)

    def _open_private(self, event: tk.Event) -> None:
        picked = self.online.curselection()
        if picked and picked[0] < len(self.online_names):
            self.presenter.open_private(self.online_names[picked[0]])
            self.input.focus_set()  # what is typed next is the private message

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

    def entry_at(self, index: str) -> int:
        """The position of the entry drawn at a text index (-1: nothing is there)."""
        line = int(self.text.index(index).split(".")[0])
        start = 1
        for i, lines in enumerate(self._entry_lines):
            if line < start + lines:
                return i
            start += lines
        return -1

    def message_at(self, index: str) -> Optional[int]:
        """The msg_id of the message drawn at a text index (None: a notice, or nothing)."""
        i = self.entry_at(index)
        return self._entry_ids[i] if i >= 0 else None

    def when_at(self, index: str) -> str:
        """The full date and time of what is drawn at a text index ('' for nothing)."""
        i = self.entry_at(index)
        return self._entry_when[i] if i >= 0 else ""

    def _hovered(self, event: tk.Event) -> None:
        """The full date shows when the pointer rests on a message (the text shows HH:MM,
        and grouped messages not even that)."""
        i = self.entry_at("@%d,%d" % (event.x, event.y))
        if i == self._hover_index:
            return
        self._hover_off()
        self._hover_index = i
        if i >= 0 and self._entry_when[i]:
            text, x, y = self._entry_when[i], event.x_root, event.y_root
            self._hover_after = self.text.after(HOVER_MS,
                                                lambda: self.tooltip.show(text, x, y))

    def _hover_off(self) -> None:
        self._hover_index = -1
        if self._hover_after is not None:
            self.text.after_cancel(self._hover_after)
            self._hover_after = None
        self.tooltip.hide()

    def _scrolled(self, first: str, last: str) -> None:
        self._scrollbar.set(first, last)
        at_bottom = float(last) >= 0.999
        if at_bottom != self._at_bottom:
            self._at_bottom = at_bottom
            self.presenter.viewing_latest(at_bottom)

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

    # Pieces of a message's text by their style (ui/presenters/chat.message_parts).
    PART_TAGS = {"text": (), "link": ("link",), "mention": ("mention",), "code": ("code",)}

    def _pieces(self, entry: Entry) -> Tuple[List[Any], int]:
        """The arguments of one Text.insert that draws the entry (text, tags, text, tags,
        ...), and how many lines it takes."""
        args: List[Any] = []

        def add(text: str, *tags: str) -> None:
            args.extend((text, tags))
        if entry.get("day"):
            add(entry["day"] + "\n", "day")
        kind = entry["kind"]
        if kind == "system":
            add("— %s  %s —\n" % (entry["text"], entry["time"]), "system")
            picture = entry.get("picture")
            if picture:  # its words now; the thumbnail replaces them (_place_pictures)
                add(self._picture_words(picture), "picture", "pic%d" % picture["file_id"])
                add("\n", "picture")
        elif kind == "deleted":
            said = self.tr("chat.deleted_line", who=entry["who"], text=entry["text"])
            add("%s  %s\n" % (said, entry["time"]), "deleted")
        elif kind == "marker":
            add("——  %s  ——\n" % entry["text"], "marker")
        else:
            base: Tuple[str, ...] = ("mine",) if kind == "mine" else ()
            if entry.get("mention"):
                base += ("mentioned",)
            if entry.get("header", True):
                add(entry["who"], *base, "who", "head")
                if entry["private"]:
                    to = self.tr("chat.to", user=entry["to"]) if kind == "mine" else ""
                    add(" %s %s" % (self.tr("chat.private_mark"), to), *base, "private", "head")
                add("  " + entry["time"] + "\n", *base, "meta", "head")
            for style, text in entry.get("parts") or [("text", entry["text"] + "\n")]:
                add(text, *(base + self.PART_TAGS.get(style, ())))
        return args, sum(text.count("\n") for text in args[::2])

    # -- ChatView -------------------------------------------------------------------------

    # -- a tick's messages drawn at once ---------------------------------------------------

    def hold(self) -> None:
        """Until release(): entries appended, the oldest dropped and a regrouped first one
        put back are only noted, then drawn by release() in one go. At 1,000 messages a
        second a tick brings dozens, and each drawn alone (an insert, a scroll, a trim of
        the top) would cost the tick a millisecond or more (bench/gui_tick.py)."""
        self._held = True

    def release(self) -> None:
        """Draw what hold() noted: the top dropped, the front put back, the new ones added."""
        self._held = False
        front, drop, back = self._front, self._drop, self._back
        self._front, self._drop, self._back = [], 0, []
        if drop:
            self._drop_now(drop)
        if front:
            self._prepend_now(front)
        if back:
            self._append_now(back)

    def _flush(self) -> None:
        """Draw what is noted now (before a change that needs the text as it should be)."""
        if self._held:
            self.release()
            self._held = True

    def show_conversation(self, entries: List[Entry]) -> None:
        self._front, self._drop, self._back = [], 0, []  # all of it is drawn again
        self._hover_off()
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        self._entry_lines.clear()
        self._entry_ids.clear()
        self._entry_when.clear()
        for entry in entries:
            pieces, lines = self._pieces(entry)
            self.text.insert("end", *pieces)
            self._entry_lines.append(lines)
            self._entry_ids.append(entry.get("msg_id"))
            self._entry_when.append(entry.get("when", ""))
        self._place_pictures(entries)
        self.text.configure(state="disabled")
        self.text.see("end")

    def append_entry(self, entry: Entry) -> None:
        if self._held:
            self._back.append(entry)
        else:
            self._append_now([entry])

    def _append_now(self, entries: List[Entry]) -> None:
        """Drawn in one insert after the last entry; the view follows them when it showed
        the newest one, or when one is the user's own."""
        at_bottom = self.text.yview()[1] > 0.98
        pieces: List[Any] = []
        for entry in entries:
            drawn, lines = self._pieces(entry)
            pieces.extend(drawn)
            self._entry_lines.append(lines)
            self._entry_ids.append(entry.get("msg_id"))
            self._entry_when.append(entry.get("when", ""))
        self.text.configure(state="normal")
        self.text.insert("end", *pieces)
        self._place_pictures(entries)
        self.text.configure(state="disabled")
        if at_bottom or any(entry["kind"] == "mine" for entry in entries):
            self.text.see("end")

    def prepend_entries(self, entries: List[Entry]) -> None:
        """Drawn in one insert before the first entry, in their order. What the user was
        looking at stays in place, unless they were at the very top: then the first of the
        entries drawn is shown."""
        if self._held:
            self._front[:0] = entries
        else:
            self._prepend_now(entries)

    def _prepend_now(self, entries: List[Entry]) -> None:
        at_top = self.text.yview()[0] <= 0.0
        top_line = int(self.text.index("@0,0").split(".")[0])
        pieces: List[Any] = []
        counts: List[int] = []
        for entry in entries:
            drawn, lines = self._pieces(entry)
            pieces.extend(drawn)
            counts.append(lines)
        self.text.configure(state="normal")
        if pieces:
            self.text.insert("1.0", *pieces)
        self._place_pictures(entries)
        self.text.configure(state="disabled")
        for entry, lines in zip(reversed(entries), reversed(counts)):
            self._entry_lines.appendleft(lines)
            self._entry_ids.appendleft(entry.get("msg_id"))
            self._entry_when.appendleft(entry.get("when", ""))
        self.text.yview("1.0" if at_top else "%d.0" % (top_line + sum(counts)))

    def drop_oldest(self, count: int) -> None:
        """Forget the first `count` entries: a long-running room stays as fast as a new one."""
        if not self._held:
            self._drop_now(count)
            return
        # the first entries are those noted to go before the text, then the text's, then
        # those noted to go after it
        put_back = min(count, len(self._front))
        del self._front[:put_back]
        count -= put_back
        shown = min(count, len(self._entry_lines) - self._drop)
        self._drop += shown
        del self._back[:count - shown]

    def _drop_now(self, count: int) -> None:
        count = min(count, len(self._entry_lines))
        lines = sum(self._entry_lines.popleft() for _ in range(count))
        for _ in range(count):
            self._entry_ids.popleft()
            self._entry_when.popleft()
        self.text.configure(state="normal")
        self.text.delete("1.0", "%d.0" % (lines + 1))
        self.text.configure(state="disabled")
        self._forget_thumbnails()

    # -- thumbnails of shared pictures -----------------------------------------------------

    def _picture_words(self, picture: Dict[str, Any]) -> str:
        """What stands in the picture's place until (or instead of) its thumbnail."""
        state = picture["state"]
        key = "chat.picture_failed" if state == "failed" else \
            "chat.picture_open" if state == "skipped" else "chat.picture_loading"
        return self.tr(key)

    def _thumbnail(self, picture: Dict[str, Any]) -> Optional[tk.PhotoImage]:
        """The picture shrunk into THUMBNAIL_BOX (made once, kept while drawn); None when Tk
        cannot read the file after all."""
        file_id = picture["file_id"]
        photo = self._thumbnails.get(file_id)
        if photo is None:
            try:
                full = tk.PhotoImage(master=self.text, file=picture["path"])
            except tk.TclError:
                return None
            factor = max(1, math.ceil(full.width() / THUMBNAIL_BOX[0]),
                         math.ceil(full.height() / THUMBNAIL_BOX[1]))
            photo = full.subsample(factor) if factor > 1 else full
            self._thumbnails[file_id] = photo
        self._thumbnails.move_to_end(file_id)
        return photo

    def _place_pictures(self, entries: List[Entry]) -> None:
        """Put the thumbnails of these entries (just drawn) in place of their words."""
        for entry in entries:
            picture = entry.get("picture")
            if picture and picture["state"] == "ready":
                self._draw_picture(picture)

    def _draw_picture(self, picture: Dict[str, Any]) -> None:
        """Draw the picture's line again as it is now (the text must be editable)."""
        tag = "pic%d" % picture["file_id"]
        found = self.text.tag_ranges(tag)
        if not found:
            return
        start = self.text.index(found[0])
        self.text.delete(start, found[-1])
        photo = self._thumbnail(picture) if picture["state"] == "ready" else None
        if photo is not None:
            self.text.image_create(start, image=photo, padx=4)
            self.text.tag_add("picture", start)
            self.text.tag_add(tag, start)
        else:
            words = self._picture_words(dict(picture, state="failed")
                                        if picture["state"] == "ready" else picture)
            self.text.insert(start, words, ("picture", tag))

    def show_picture(self, entry: Entry) -> None:
        picture = entry.get("picture")
        if not picture:
            return
        self._flush()  # (an entry still noted by hold() is drawn as it is now anyway)
        self.text.configure(state="normal")
        self._draw_picture(picture)
        self.text.configure(state="disabled")
        self._forget_thumbnails()

    def _forget_thumbnails(self) -> None:
        """Beyond THUMBNAILS_KEPT, the oldest thumbnails no longer drawn go (with the lines
        the chat dropped), so the images held stay few however long the chat runs."""
        extra = len(self._thumbnails) - THUMBNAILS_KEPT
        if extra <= 0:
            return
        for file_id in list(self._thumbnails):  # oldest first
            if extra <= 0:
                break
            if not self.text.tag_ranges("pic%d" % file_id):
                del self._thumbnails[file_id]
                self.text.tag_delete("pic%d" % file_id)
                extra -= 1

    def _picture_clicked(self, event: tk.Event) -> None:
        for tag in self.text.tag_names("@%d,%d" % (event.x, event.y)):
            if tag.startswith("pic") and tag[3:].isdigit():
                self.presenter.open_picture(int(tag[3:]))
                return

    def remove_entry(self, index: int) -> None:
        self._flush()
        if not 0 <= index < len(self._entry_lines):
            return
        start = 1 + sum(self._entry_lines[i] for i in range(index))
        lines = self._entry_lines[index]
        del self._entry_lines[index]
        del self._entry_ids[index]
        del self._entry_when[index]
        self.text.configure(state="normal")
        self.text.delete("%d.0" % start, "%d.0" % (start + lines))
        self.text.configure(state="disabled")

    def set_recipient(self, text: str, private: bool) -> None:
        self._private = private
        self.recipient.configure(text=text)
        self._colour_recipient()

    def _colour_recipient(self) -> None:
        p = self.palette
        if self._private:
            self.recipient.configure(background=p.private_bg, foreground=p.private_fg)
            self.input.configure(highlightbackground=p.private_fg, highlightcolor=p.private_fg)
        else:
            self.recipient.configure(background=p.bg, foreground=p.muted_fg)
            self.input.configure(highlightbackground=p.bg, highlightcolor=ACCENT)

    def set_online_header(self, text: str) -> None:
        self.online_label.configure(text=text)

    def mark_self(self, name: str) -> None:
        self._me = name
        self.mark_teachers(self._teachers)

    def set_online(self, names: List[str]) -> None:
        self.online_names = list(names)
        self.online_label.configure(text=self.tr("chat.online", n=len(names)))
        self.mark_teachers(self._teachers)

    def mark_teachers(self, names: List[str]) -> None:
        """A teacher's name reads 'name (Teacher)', in the badge's colour; this user's own
        'name (you)'."""
        self._teachers = list(names)
        self.online.delete(0, "end")
        for i, name in enumerate(self.online_names):
            teacher = name in self._teachers
            label = "%s (%s)" % (name, self.tr("role.admin")) if teacher else name
            if name == self._me:
                label = self.tr("chat.you", name=label)
            self.online.insert("end", label)
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

    def set_encrypted(self, encrypted: bool) -> None:
        if encrypted and self._lock_image is None:
            self._lock_image = lock_image(self.status)
        self.status.configure(image=self._lock_image if encrypted else "", compound="left")

    def set_title(self, text: str) -> None:
        self.root.title(text)

    def alert(self) -> None:
        self.root.bell()
        try:
            self.root.wm_attributes("-urgent", True)  # X11: the taskbar entry flashes
        except tk.TclError:
            pass

    def show_info(self, text: str) -> None:
        self._note(text, INFO_LABEL)

    def show_error(self, text: str) -> None:
        self._note(text, ERROR_LABEL)

    def _note(self, text: str, style: str) -> None:
        self.error.configure(text=text, style=style)
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
            self.input.configure(state="disabled", background=self.palette.locked_bg)
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

    # -- members, search, passwords (ui/tk/directory.py) ----------------------------------

    def _open_people(self, kind: str, make: Callable[[], Any]) -> Any:
        """The window of that kind: the open one raised, or a new one. Its presenter reaches
        this window and the chat presenter through weak proxies only."""
        window = self.people.get(kind)
        if window is not None and window.exists():
            window.lift()
            return window
        window = self.people[kind] = make()
        window.presenter.attach(window)
        return window

    def open_members(self) -> MembersWindow:
        chat, me = self.presenter, weakref.proxy(self)
        return self._open_people("members", lambda: MembersWindow(
            self.root, self.tr, MembersPresenter(self.tr, chat.session,
                                                 lambda user: chat.open_private(user),
                                                 lambda user: me.open_password(user))))

    def open_search(self) -> SearchWindow:
        chat = self.presenter

        def show(with_user: Optional[str], room: Optional[int]) -> None:
            if with_user:
                chat.open_private(with_user)
            else:
                chat.switch_to(room_key(room or 1))

        def room_name(room: int) -> str:
            return str(chat.rooms.get(room, {}).get("name", "#%d" % room))
        return self._open_people("search", lambda: SearchWindow(
            self.root, self.tr, SearchPresenter(self.tr, chat.session, show, room_name)))

    def open_password(self, user: Optional[str] = None) -> PasswordDialog:
        """Change our password; with user (a teacher), reset theirs."""
        old = self.people.pop("password", None)
        if old is not None:
            old.close()
        return self._open_people("password", lambda: PasswordDialog(
            self.root, self.tr, PasswordPresenter(self.tr, self.presenter.session, user)))

    # -- rooms (docs/PROTOCOL.md §12) -----------------------------------------------------

    def _open_dialog(self, dialog: Any) -> Any:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        return dialog

    def open_new_room(self) -> NewRoomDialog:
        return self._open_dialog(NewRoomDialog(self.root, self.tr, self._then_type(
            lambda *a: self.presenter.create_room(*a))))

    def _then_type(self, chosen: Callable[..., None]) -> Callable[..., None]:
        """A room dialog's action, after which the keyboard is the input's again (the dialog
        is gone; without this the focus went back to the button that opened it, and what
        was typed next was lost)."""
        def act(*args: Any) -> None:
            chosen(*args)
            self.input.focus_set()
        return act

    def relabel(self) -> None:
        """The window's own words in the language just chosen (ui/tk/app.App.set_language);
        what the presenter drew from data it redraws itself (ChatPresenter.relabel)."""
        tr = self.tr
        for widget, key in ((self.new_room_button, "room.new"), (self.browse_button, "room.browse"),
                            (self.invite_button, "room.invite"), (self.leave_button, "room.leave"),
                            (self.quiet_check, "mod.quiet_toggle"),
                            (self.older_button, "chat.load_older"), (self.hint, "chat.enter_hint"),
                            (self.send_button, "chat.send"), (self.members_button, "members.open"),
                            (self.search_button, "search.open"),
                            (self.password_button, "password.open")):
            widget.configure(text=tr(key))
        self.online_label.configure(text=tr("chat.online", n=len(self.online_names)))
        self.mark_teachers(self._teachers)
        for window in list(self.people.values()):  # members, search (ui/tk/directory.py)
            if window.exists() and hasattr(window, "relabel"):
                window.relabel()

    # -- appearance (Preferences) ---------------------------------------------------------

    def apply_font_size(self, points: int) -> None:
        """Every text of the window at this size, at once (the fonts are shared)."""
        for name, font in self.fonts.items():
            font.configure(size=points - 1 if name == "small" else points)

    def apply_theme(self, dark: bool) -> None:
        """Colours of the messages, the input and the lists (ttk's are set by common)."""
        self.palette = p = palette(dark)
        t = self.text
        t.configure(background=p.text_bg, foreground=p.fg, insertbackground=p.fg,
                    selectbackground=ACCENT, selectforeground="white")
        t.tag_configure("meta", foreground=p.meta_fg)
        t.tag_configure("who", foreground=p.who_fg)
        t.tag_configure("mine", background=p.mine_bg, lmargin1=40, lmargin2=40)
        t.tag_configure("private", foreground=p.private_fg)
        t.tag_configure("system", foreground=p.system_fg)
        t.tag_configure("deleted", foreground=p.muted_fg)
        t.tag_configure("day", foreground=p.meta_fg)
        t.tag_configure("marker", foreground=p.error_fg)
        t.tag_configure("code", background=p.code_bg, foreground=p.fg)
        t.tag_configure("link", foreground=p.link_fg)
        t.tag_configure("mention", background=p.mention_bg, foreground=p.fg)
        try:  # a bar in the margin of a message that names this user (Tk 8.6.6 and later)
            t.tag_configure("mentioned", lmargincolor=p.mention_bg, lmargin1=6, lmargin2=6)
        except tk.TclError:
            pass
        # Tag priority: code's and the mention's backgrounds over 'mine'.
        for tag in ("code", "mention", "link"):
            t.tag_raise(tag)
        self.input.configure(background=p.input_bg, foreground=p.fg, insertbackground=p.fg)
        self.input.tag_configure("lock", foreground=p.error_fg)
        self._input_bg = p.input_bg
        if self._lock:
            self.input.configure(background=p.locked_bg)
        for listbox in (self.conversations, self.online):
            listbox.configure(background=p.text_bg, foreground=p.fg,
                              highlightbackground=p.bg, selectbackground=ACCENT,
                              selectforeground="white")
        self._colour_recipient()

    def open_invite(self) -> InviteDialog:
        return self._open_dialog(InviteDialog(self.root, self.tr,
                                              self.presenter.shown_room_name(),
                                              self._then_type(
                                                  lambda user: self.presenter.invite(user))))

    def show_room_list(self, rooms: List[Dict[str, Any]]) -> None:
        dialog = self.dialog
        if not isinstance(dialog, RoomListDialog) or not dialog.exists():
            dialog = self._open_dialog(RoomListDialog(self.root, self.tr))
        dialog.show(rooms, self._then_type(
            lambda room_id: self.presenter.join_room(room_id)))

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
        ttk.Label(bar, text=text, style=INFO_LABEL).pack(side="left", fill="x", expand=True)
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
