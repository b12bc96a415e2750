"""The frame inspector (menu Network → Inspector): every frame in and out on the client's
connections, as a live table a student can pause, filter and look into byte by byte
(docs/LABS.md). Tk-free: tests drive it with a fake view.

While the window is open, the session shows this presenter every frame (``on_frame``, the
ClientConnection observer hook, ui/session.py ``observe``); when it is closed the hook is
None and costs nothing. Recording a frame is cheap (a tuple, and the first bytes of its
body); the words of a row are made only when the row is drawn, once per GUI tick, and at most
MAX_SHOWN_ROWS of them.

Secrets never reach the window: a frame's message is kept masked (net/messages.py
``masked``), and the bytes of a body that carries a password, a code or a token are not kept.
"""
from __future__ import annotations

import json
import time
import weakref
from collections import deque
from typing import Any, Callable, Deque, Dict, List, NamedTuple, Optional, Protocol, Tuple

from net.client import ClientConnection, Direction
from net.framing import HEADER, KIND_JSON
from net.messages import SECRET_FIELDS, masked
from ui.i18n import Catalog

# Frames kept: a few seconds of a busy chat, a few hundred KB at most.
MAX_FRAMES = 2000
# Rows the table holds: a Tk Treeview gets slow to update past a few thousand.
MAX_SHOWN_ROWS = 500
# Of each body, the bytes kept for the hex view: two lines of sixteen.
HEAD_BYTES = 32
HEX_LINE_BYTES = 16
PREVIEW_CHARS = 100


class Frame(NamedTuple):
    number: int  # 1, 2, 3, ... in the order seen: the row's id
    time_s: float  # wall clock
    direction: Direction
    connection: str  # "chat#2": the service, and which of the connections seen
    kind: int  # net.framing KIND_JSON or KIND_BINARY
    length: int  # body bytes
    reads: int  # recv() calls that carried it (0: a frame going out)
    message: Optional[Dict[str, Any]]  # J: the message, secrets masked; B: None
    head: Optional[bytes]  # the body's first HEAD_BYTES; None: withheld (a secret)


Row = Tuple[int, Tuple[str, ...]]  # (frame number, the texts of InspectorPresenter.COLUMNS)


class InspectorView(Protocol):
    def add_rows(self, rows: List[Row]) -> None:
        """Append rows at the bottom, oldest first; keep the newest in sight unless the user
        scrolled up."""

    def remove_rows(self, numbers: List[int]) -> None: ...

    def clear_rows(self) -> None: ...

    def show_detail(self, text: str) -> None:
        """The hex view of the selected frame (fixed-width text)."""

    def show_status(self, text: str) -> None: ...

    def show_paused(self, paused: bool) -> None: ...


class InspectorPresenter:
    """Methods for the window: attach(view), toggle_pause(), clear(), set_filter(text),
    select(number), close(). For the App: on_frame (the session's observer), flush() once
    per tick, closed (the user closed the window: unhook and let go)."""

    COLUMNS = ("time", "dir", "conn", "kind", "length", "reads", "op", "preview")

    def __init__(self, tr: Catalog, clock: Callable[[], float] = time.time) -> None:
        self.tr = tr
        self.clock = clock
        self.view: Optional[InspectorView] = None
        self.closed = False
        self.paused = False
        self.missed = 0  # frames not recorded while paused
        self.filter = ""
        self.frames: Deque[Frame] = deque(maxlen=MAX_FRAMES)
        self._next_number = 1
        self._fresh: List[Frame] = []  # recorded since the last flush
        self._shown: Deque[int] = deque()  # numbers of the rows in the table, oldest first
        self._labels: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()
        self._seen_per_service: Dict[str, int] = {}
        self._status = ""
        self._selected: Optional[int] = None  # the frame the hex view shows

    def attach(self, view: InspectorView) -> None:
        self.view = view
        view.show_paused(self.paused)
        view.show_detail(self.tr("inspector.hint"))
        self._redraw()

    def relabel(self) -> None:
        """After a language switch: the table (its direction column is in words), the
        pause button, the status line and the hex view, in the new language."""
        if self.view is None:
            return
        self.view.show_paused(self.paused)
        self._status = ""  # said again
        self._redraw()
        frame = self.find(self._selected) if self._selected is not None else None
        self.view.show_detail(self.detail(frame) if frame is not None
                              else self.tr("inspector.hint"))

    def close(self) -> None:
        self.closed = True
        self.view = None

    # -- recording (runs inside Session.poll and requests, on the GUI thread) ---------------

    def on_frame(self, conn: ClientConnection, direction: Direction, kind: int, body: Any,
                 message: Optional[Dict[str, Any]], reads: int) -> None:
        if self.closed:
            return
        if self.paused:
            self.missed += 1
            return
        head: Optional[bytes] = bytes(body[:HEAD_BYTES])
        if message is not None and not SECRET_FIELDS.isdisjoint(message):
            message = masked(message)
            head = None
        frame = Frame(self._next_number, self.clock(), direction, self._label(conn), kind,
                      len(body), reads, message, head)
        self._next_number += 1
        self.frames.append(frame)
        self._fresh.append(frame)
        if len(self._fresh) > MAX_SHOWN_ROWS:
            del self._fresh[:-MAX_SHOWN_ROWS]

    def _label(self, conn: ClientConnection) -> str:
        label = self._labels.get(conn)
        if label is None:
            service = getattr(conn, "service", "") or "?"
            number = self._seen_per_service.get(service, 0) + 1
            self._seen_per_service[service] = number
            label = self._labels[conn] = "%s#%d" % (service, number)
        return label

    # -- drawing ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Draw the frames recorded since the last call (the App's tick calls this)."""
        if self.view is None:
            self._fresh = []
            return
        fresh, self._fresh = self._fresh, []
        rows = [self.row(f) for f in fresh]
        rows = [r for r in rows if self._matches(r)]
        if rows:
            self.view.add_rows(rows)
            self._shown.extend(number for number, _ in rows)
            if len(self._shown) > MAX_SHOWN_ROWS:
                old = [self._shown.popleft() for _ in range(len(self._shown) - MAX_SHOWN_ROWS)]
                self.view.remove_rows(old)
        self._show_status()

    def _redraw(self) -> None:
        if self.view is None:
            return
        self._fresh = []
        self.view.clear_rows()
        rows = [r for r in map(self.row, self.frames) if self._matches(r)][-MAX_SHOWN_ROWS:]
        self._shown = deque(number for number, _ in rows)
        if rows:
            self.view.add_rows(rows)
        self._show_status()

    def _show_status(self) -> None:
        if self.paused:
            text = self.tr("inspector.paused", n=self.missed)
        else:
            text = self.tr("inspector.count", shown=len(self._shown), total=len(self.frames))
        if text != self._status and self.view is not None:
            self._status = text
            self.view.show_status(text)

    def row(self, frame: Frame) -> Row:
        t = frame.time_s
        stamp = time.strftime("%H:%M:%S", time.localtime(t)) + ".%03d" % (t % 1 * 1000)
        direction = self.tr("inspector.in" if frame.direction is Direction.IN
                            else "inspector.out")
        message = frame.message
        if message is not None:
            op = str(message.get("op", ""))
            if "status" in message:
                op += " " + str(message["status"])
            preview = json.dumps(message, ensure_ascii=False, separators=(",", ":"),
                                 default=str)
        else:
            op = ""
            preview = " ".join("%02x" % b for b in (frame.head or b"")[:HEX_LINE_BYTES])
        if len(preview) > PREVIEW_CHARS:
            preview = preview[:PREVIEW_CHARS - 1] + "…"
        return frame.number, (stamp, direction, frame.connection,
                              "J" if frame.kind == KIND_JSON else "B", str(frame.length),
                              str(frame.reads) if frame.direction is Direction.IN else "",
                              op, preview)

    def _matches(self, row: Row) -> bool:
        if not self.filter:
            return True
        return self.filter in " ".join(row[1][1:]).casefold()

    # -- the window's controls ---------------------------------------------------------------

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self.missed = 0
        if self.view is not None:
            self.view.show_paused(self.paused)
        self._show_status()

    def clear(self) -> None:
        self.frames.clear()
        self._redraw()
        if self.view is not None:
            self.view.show_detail(self.tr("inspector.hint"))

    def set_filter(self, text: str) -> None:
        """Show only the rows whose direction, connection, kind, length, reads, op or
        preview contain text (ignoring case)."""
        text = text.strip().casefold()
        if text != self.filter:
            self.filter = text
            self._redraw()

    def select(self, number: int) -> None:
        self._selected = number
        frame = self.find(number)
        if frame is not None and self.view is not None:
            self.view.show_detail(self.detail(frame))

    def find(self, number: int) -> Optional[Frame]:
        if not self.frames:
            return None
        index = number - self.frames[0].number  # numbers are consecutive in the deque
        return self.frames[index] if 0 <= index < len(self.frames) else None

    def detail(self, frame: Frame) -> str:
        """The selected frame's bytes: the 5-byte header explained, then the first bytes of
        its body in hex and as text (docs/PROTOCOL.md §2, Part II.1)."""
        tr = self.tr
        number, cells = self.row(frame)
        header = HEADER.pack(frame.kind, frame.length)
        lines = ["#%d  %s  %s  %s" % (number, cells[0], cells[1], frame.connection)]
        if frame.direction is Direction.IN:
            lines[0] += "  " + tr("inspector.reads_note", n=frame.reads)
        pad = "  "
        lines.append(tr("inspector.header"))
        lines.append(pad + " ".join("%02x" % b for b in header))
        lines.append(pad + "│  └─────────┘ " + tr("inspector.length_is", n=frame.length,
                                                   hex=header[1:].hex()))
        lines.append(pad + "└─ " + tr("inspector.kind_json" if frame.kind == KIND_JSON
                                      else "inspector.kind_binary"))
        lines.append(tr("inspector.body"))
        if frame.head is None:
            lines.append(pad + tr("inspector.secret"))
            return "\n".join(lines)
        for start in range(0, len(frame.head), HEX_LINE_BYTES):
            chunk = frame.head[start:start + HEX_LINE_BYTES]
            text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
            lines.append("%s%-47s  %s" % (pad, " ".join("%02x" % b for b in chunk), text))
        if frame.length > len(frame.head):
            lines.append(pad + tr("inspector.body_head", n=len(frame.head), total=frame.length))
        return "\n".join(lines)

