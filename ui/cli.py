"""The terminal client: the whole chatroom without a display, and scriptable.

    python chatroom.py cli --host 192.168.1.10
    > /login alice              (asks for the password)
    > hello everyone            (plain text goes to the room)
    > /msg bob see you at 3     (private)
    > /create physics           (a room; /rooms, /join physics, /room 42, /lobby)
    > /upload ~/homework        (a file or a whole folder)
    > /files                    (the newest files; /files more: the next page)
    > /download 7 ~/Downloads
    > /download bob/homework/ ~/Downloads     (all of bob's folder homework)
    > /handin ~/essay.pdf       (only the teachers and you see it)
    > /quit

Commands run one at a time: the next line is read only when the previous command has
finished, so a script can upload and then download. When stdin is not a terminal, the
password and the SMS code are read as the next lines, and the exit status is 1 if any
command failed.
"""
from __future__ import annotations

import getpass
import os
import select
import shutil
import sys
import threading
import time
import unicodedata
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, TextIO, Tuple

from net.client import ClientConnection, chaotic, wait_readable
from net.datagrams import Prober
from net.rules import check_email, check_password, check_phone, check_username
from net.tls import normalize_fingerprint
from ui.i18n import Catalog
from ui.neterrors import network_error_text, tls_required_text
from ui.presenters.chat import (
    LOBBY,
    file_added_text,
    room_failure_text,
    send_failure_text,
)
from ui.presenters.common import status_text
from ui.presenters.directory import (
    MEMBERS_PAGE,
    SEARCH_PAGE,
    SEARCH_TEXT_MAX_CHARS,
    ReadMarks,
    result_row,
    unread_counts,
)
from ui.presenters.files import failure_text
from ui.presenters.login import ended_text
from ui.presenters.moderation import (
    AUDIT_ACTIONS,
    kicked_text,
    moderation_failure,
    moderation_notice,
    parse_minutes,
)
from ui.session import Session, refusal_of
from ui.transfers import (
    HAND_IN,
    Download,
    Folder,
    Transfer,
    TransferQueue,
    Upload,
    folder_entries,
    folder_records,
    human_size,
    safe_local_path,
)

try:
    import termios
except ImportError:  # Windows: the console keeps its own mode
    termios = None  # type: ignore[assignment]

POLL_INTERVAL_S = 0.02
# Wrong codes the server takes before the code is invalid (docs/PROTOCOL.md §4).
CODE_TRIES = 5
# Back to the start of the terminal's line, and erase it: a progress line is drawn over
# and over in place, and cleared before a message is printed where it was.
CLEAR_LINE = "\r\x1b[K"
# Erase from the cursor to the end of the screen: every row of a typed line that wrapped.
ERASE_DOWN = "\x1b[J"
# The prompt an interactive terminal shows where the next command is typed.
PROMPT = "> "
# Files /files shows at a time: a screenful or two; /files more shows the next ones.
FILES_PAGE_LINES = 50


class Lines:
    """Lines from stdin without blocking the pump. On POSIX the raw descriptor is selected
    and read (a buffered readline() would strand lines that select() cannot see); where stdin
    cannot be selected (Windows consoles), a reader thread feeds a queue."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.queue: Deque[Optional[str]] = deque()
        self.eof = False
        self._pending = b""
        self._fd: Optional[int] = None
        self._encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            fd = stream.fileno()
            select.select([fd], [], [], 0)
            self._fd = fd
        except (OSError, ValueError, TypeError, AttributeError):
            threading.Thread(target=self._read_all, daemon=True).start()

    def _read_all(self) -> None:
        for line in self.stream:
            self.queue.append(line)
        self.queue.append(None)

    def _read_fd(self) -> None:
        if self.queue or self.eof or not select.select([self._fd], [], [], 0)[0]:
            return
        data = os.read(self._fd, 65536)
        if not data:
            if self._pending:
                self.queue.append(self._pending.decode(self._encoding, "replace"))
            self.queue.append(None)
            return
        *lines, self._pending = (self._pending + data).split(b"\n")
        self.queue.extend(line.decode(self._encoding, "replace") for line in lines)

    def get(self) -> Optional[str]:
        """A line, '' when none is ready yet, None at end of input."""
        if self._fd is not None:
            self._read_fd()
        if not self.queue:
            return None if self.eof else ""
        line = self.queue.popleft()
        if line is None:
            self.eof = True
            return None
        return line.rstrip("\r\n") or " "

    def close(self) -> None:
        pass


class TerminalLines:
    """Lines typed at a terminal, with line editing and history (issue 20): input() with
    the readline module where it exists, on a thread, so the pump never waits. The thread
    reads a line only when get() asks for one, so it never competes with a password
    prompt, which the pump asks itself (getpass) between two lines.

    Text printed while a line is being typed goes above it (say_above); the half-typed line
    is drawn again below."""

    def __init__(self, prompt: str) -> None:
        try:
            import readline  # noqa: F401  (importing it is what gives input() editing)
            self.readline: Any = readline
        except ImportError:  # Windows: the console edits lines itself
            self.readline = None
        self.prompt = prompt
        self.queue: Deque[Optional[str]] = deque()
        self.eof = False
        self.reading = False  # input() is waiting for the user
        self._wanted = threading.Event()
        self._done = False
        threading.Thread(target=self._read, name="terminal-input", daemon=True).start()

    def _read(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._done:
                return
            self.reading = True
            try:
                line: Optional[str] = input(self.prompt)
            except (EOFError, OSError, ValueError):
                line = None
            finally:
                self.reading = False
            self.queue.append(line)
            if line is None:
                return

    def get(self) -> Optional[str]:
        """A line, '' when none is ready yet, None at end of input."""
        if self.queue:
            line = self.queue.popleft()
            if line is None:
                self.eof = True
                return None
            return line.rstrip("\r\n") or " "
        if self.eof:
            return None
        if not self.reading:
            self._wanted.set()
        return ""

    def say_above(self, out: TextIO, text: str) -> None:
        """Print text on lines of its own above the line being typed (when one is)."""
        if not self.reading:
            out.write(text + "\n")
            return
        typed = self.readline.get_line_buffer() if self.readline is not None else ""
        # A typed line longer than the terminal is wide wraps: go up to its first row and
        # erase from there, or its first rows stay on the screen above the text (a narrow
        # terminal). This takes the cursor to be at the end of the line.
        columns = shutil.get_terminal_size().columns
        rows_up = max(0, display_width(self.prompt + typed) - 1) // max(1, columns)
        out.write("\r" + ("\x1b[%dA" % rows_up if rows_up else "") + ERASE_DOWN + text +
                  "\n" + self.prompt + typed)

    def close(self) -> None:
        self._done = True
        self._wanted.set()


class Cli:
    def __init__(self, host: str, port: int, lang: str, stdin: TextIO = sys.stdin,
                 out: TextIO = sys.stdout, tls: Any = None, chaos: Any = None,
                 err: Optional[TextIO] = None) -> None:
        self.tr = Catalog(lang)
        self.out = out
        self.err = err if err is not None else sys.stderr  # the progress line goes here
        self.interactive = stdin.isatty()
        # Typed at a terminal: line editing (readline); piped: read without a thread.
        self.lines: Any = TerminalLines(PROMPT) if self.interactive and stdin is sys.stdin \
            else Lines(stdin)
        # --chaos: every connection's reads and writes cut at random (net/chaos.py)
        connect = chaotic(chaos) if chaos is not None else ClientConnection
        self.session = Session(host, port, self, tls=tls, connect=connect)
        self.transfers = TransferQueue(self.session.open_file_connection)
        self.read_marks = ReadMarks(self.session)
        self.busy: Optional[Callable[[], bool]] = None  # "still running?" for the current command
        self.failed = False
        self.quitting = False
        self._progress_at = 0.0
        self._progress_shown = False  # a progress line is on the terminal, without "\n"
        # The connection was lost at this moment (monotonic) and is not back yet; the lines
        # said about it: reconnecting is said once, and once more when it is back.
        self._lost_at: Optional[float] = None
        self._outage_said: set = set()
        self._tries = 0  # connection attempts since it was lost
        self._shown_ids: set = set()  # msg_ids printed: a reconnect prints only the new
        self._welcomed = False
        self._files_before: Optional[int] = None  # where /files more goes on; None: no more
        self._prompts: Deque[Callable[[str], None]] = deque()
        self.room = LOBBY  # where plain lines go (docs/PROTOCOL.md §12)
        self.room_names: Dict[int, str] = {}  # the rooms we know of: id -> name
        self.joined: set = {LOBBY}  # the rooms we are in

    # -- output ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self._clear_progress()
        if isinstance(self.lines, TerminalLines):
            self.lines.say_above(self.out, text)
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def error(self, text: str) -> None:
        self.failed = True
        self.say("! " + text)

    def usage(self, key: str) -> None:
        self.error(self.tr("cli.usage", usage=self.tr(key)))

    def net_error(self, reply: Dict[str, Any]) -> str:
        """A failed request's reason, in the user's language; a server that speaks only TLS
        is named as such, with the flag that reaches it."""
        if reply.get("tls_required"):
            return tls_required_text(self.tr, terminal=True)
        if reply.get("status") == "disconnected" and refusal_of(reply) is None:
            return network_error_text(self.tr, reply.get("message", "disconnected"))
        return status_text(self.tr, reply)

    def _clear_progress(self) -> None:
        if self._progress_shown:
            self.err.write(CLEAR_LINE)
            self.err.flush()
            self._progress_shown = False

    def on_state(self, state: str, detail: str) -> None:
        """Losing the connection is said once (not once a second while the countdown runs),
        a refusal once, and coming back once, with how long it took (issue 20)."""
        if state == "reconnecting":
            if self._lost_at is None:
                self._lost_at, self._outage_said, self._tries = time.monotonic(), set(), 0
            refusal = self.session.refusal
            said = refusal.value if refusal is not None else "lost"
            if said in self._outage_said:
                return
            self._outage_said.add(said)
            if refusal is not None:
                self.say("* " + self.tr("status.refused", why=self.tr(refusal.value),
                                        n=detail))
            else:
                self.say("* " + self.tr("cli.reconnecting"))
        elif state == "connecting" and self._lost_at is not None:
            self._tries += 1
        elif state == "online":
            if self._lost_at is not None:
                self.say("* " + self.tr("cli.back_online", server=detail, tries=self._tries,
                                        n=max(1, int(time.monotonic() - self._lost_at))))
                self._lost_at = None
            else:
                self.say("* " + self.tr("status.connected", server=detail))
        elif state == "offline":
            self._lost_at = None
            if detail:
                self.say("* " + self.tr("status.offline",
                                        why=network_error_text(self.tr, detail)))

    def on_welcome(self, reply: Dict[str, Any]) -> None:
        """After a login, the last ten messages; after a reconnect, only those not printed
        yet (issue 20: the history was printed again on every reconnect)."""
        self.joined = {LOBBY}
        for record in reply.get("rooms", []):
            self._know(record)
        if self.room not in self.joined:
            self._switch_to(LOBBY)
        new = [event for event in reply.get("history", [])
               if event.get("msg_id") not in self._shown_ids]
        # After a login the last ten are a glimpse, not a reading: /unread still counts what
        # came while we were away. After a reconnect every message missed is printed: read.
        for event in (new if self._welcomed else new[-10:]):
            self._show(event, read=self._welcomed)
        if not self._welcomed:
            self.say("* " + self.tr("cli.online", users=", ".join(reply.get("online", []))))
            if self.session.is_admin:
                self.say("* " + self.tr("cli.role_admin"))
            elif self.session.quiet:
                self.say("* " + self.tr("lock.quiet"))
        self._welcomed = True

    def on_message(self, event: Dict[str, Any]) -> None:
        self._show(event, read=True)

    def _show(self, event: Dict[str, Any], read: bool) -> None:
        """One message a line, with its id (`[#42]`) for /delete; read: the server is told
        this user has read its conversation up to it."""
        if event.get("msg_id") is not None:
            self._shown_ids.add(event.get("msg_id"))
        if read:
            self._mark_read(event)
        stamp = time.strftime("%H:%M", time.localtime(event.get("ts", time.time())))
        room = event.get("room")
        if event.get("to"):
            self.say("[%s] [#%s] %s -> %s: %s" % (stamp, event.get("msg_id"), event["from"],
                                                  event["to"], event["text"]))
        elif isinstance(room, int) and room != LOBBY:  # a room's: which one
            self.say("[%s] [#%s] (%s) %s: %s" % (stamp, event.get("msg_id"),
                                                 self.room_names.get(room, room),
                                                 event["from"], event["text"]))
        else:
            self.say("[%s] [#%s] %s: %s" % (stamp, event.get("msg_id"), event["from"],
                                            event["text"]))

    def _mark_read(self, event: Dict[str, Any]) -> None:
        """A printed message has been read: /unread, and this user's other clients, count
        only the rest (docs/PROTOCOL.md §5, mark_read)."""
        msg_id, sender = event.get("msg_id"), event.get("from")
        if not isinstance(msg_id, int) or not isinstance(sender, str):
            return
        if event.get("to"):
            me = (self.session.username or "").casefold()
            peer = event["to"] if sender.casefold() == me else sender
            self.read_marks.seen("@" + peer.casefold(), peer, None, msg_id)
            return
        room = event.get("room") if isinstance(event.get("room"), int) else LOBBY
        self.read_marks.seen("#%d" % room, None, room, msg_id)

    def on_moderation(self, event: Dict[str, Any]) -> None:
        room = event.get("room")
        where = "(%s) " % self.room_names.get(room, room) \
            if isinstance(room, int) and room != LOBBY else ""  # a room's quiet: which one
        self.say("* " + where + moderation_notice(self.tr, event))

    # -- rooms (docs/PROTOCOL.md §12) -----------------------------------------------------

    def _know(self, record: Dict[str, Any]) -> None:
        self.room_names[record["room"]] = record.get("name", "")
        if record.get("joined"):
            self.joined.add(record["room"])

    def _name(self, room: Any) -> str:
        return "%s (#%s)" % (self.room_names.get(room, "?"), room)

    def on_room_event(self, event: Dict[str, Any]) -> None:
        op = event.get("op")
        if op == "room":
            record = event.get("room") or {}
            self._know(record)
            if not record.get("joined") and record.get("owner"):
                self.say("* " + self.tr("room.created", user=record["owner"],
                                        room=self._name(record["room"])))
        elif op == "room_closed":
            room = event.get("room")
            self.say("* " + self.tr("room.closed", room=self._name(room)))
            self._left_room(room)
        elif op in ("joined", "left"):
            room, user = event.get("room"), event.get("user", "?")
            if room not in self.joined:
                return
            key = "room.user_joined" if op == "joined" else "room.user_left"
            self.say("* " + self.tr(key, user=user, room=self._name(room)))
            if op == "left" and user == self.session.username:
                self._left_room(room)
        elif op == "invited":
            record = event.get("room") or {}
            self._know(record)
            self.say("* %s: /join %s" % (self.tr("room.invited_notice", user=event.get(
                "by", "?"), room=self._name(record.get("room"))), record.get("room")))

    def _room_op(self, send: Callable[[Callable[[Dict[str, Any]], None]], None],
                 ok: Callable[[Dict[str, Any]], None]) -> None:
        if self._need_login():
            return
        done: Dict[str, Any] = {}
        self._wait(done)

        def answered(reply: Dict[str, Any]) -> None:
            done["done"] = True
            if reply.get("status") == "ok":
                ok(reply)
            else:
                self.error(room_failure_text(self.tr, reply))
        send(answered)

    @staticmethod
    def _room_id(text: str) -> Optional[int]:
        text = text.strip().lstrip("#")
        return int(text) if text.isdigit() and len(text) <= 18 else None

    def cmd_rooms(self, rest: str) -> None:
        def show(reply: Dict[str, Any]) -> None:
            for record in reply.get("rooms", []):
                self._know(record)
                mark = "*" if record["room"] == self.room else " "
                state = self.tr("room.state_joined") if record.get("joined") else (
                    self.tr("room.state_invited") if record.get("private") else "")
                self.say("%s #%-5s %s %s %s%s%s" % (
                    mark, record["room"], pad(record.get("name", ""), 20),
                    self.tr("room.members", n=record.get("members", 0)),
                    self.tr("cli.private") + " " if record.get("private") else "", state,
                    "  — " + record["topic"] if record.get("topic") else ""))
        self._room_op(self.session.rooms, show)

    def cmd_create(self, rest: str) -> None:
        words = rest.split()
        private = len(words) > 1 and words[-1].lower() == "private"
        name = " ".join(words[:-1] if private else words)
        if not name:
            self.usage("cli.usage_create")
            return

        def made(reply: Dict[str, Any]) -> None:
            self._know(reply["room"])
            self.say("* " + self.tr("cli.created", room=self._name(reply["room"]["room"]),
                                    id=reply["room"]["room"]))
        self._room_op(lambda then: self.session.create_room(name, "", private, then), made)

    def _find_room(self, text: str) -> Optional[int]:
        """A room's id from an id (42, #42) or a name the client knows, matched ignoring
        case (server names are unique that way: docs/PROTOCOL.md §12)."""
        room = self._room_id(text)
        if room is not None:
            return room
        key = unicodedata.normalize("NFC", text.strip()).casefold()
        for room, name in self.room_names.items():
            if unicodedata.normalize("NFC", name).casefold() == key:
                return room
        return None

    def _with_room(self, text: str, then: Callable[[int], None]) -> None:
        """then(the room `text` names): by id, or by name; a name the client does not know
        yet is looked up in a fresh `rooms` list first."""
        room = self._find_room(text)
        if room is not None:
            then(room)
            return

        def listed(reply: Dict[str, Any]) -> None:
            for record in reply.get("rooms", []):
                self._know(record)
            found = self._find_room(text)
            if found is None:
                self.error("%s (%s)" % (self.tr("room.not_found"), text.strip()))
            else:
                then(found)
        self._room_op(self.session.rooms, listed)

    def _switch_to(self, room: int) -> None:
        """Plain lines go to `room` from now on; say so (the CLI has no prompt to show it)."""
        self.room = room
        self.say("* " + self.tr("cli.plain_lines_go", room=self.tr("cli.the_lobby")
                                if room == LOBBY else self._name(room)))

    def _left_room(self, room: Any) -> None:
        self.joined.discard(room)
        if self.room == room:
            self._switch_to(LOBBY)

    def cmd_join(self, rest: str) -> None:
        if not rest.strip():
            self.usage("cli.usage_join")
            return

        def join(room: int) -> None:
            def joined(reply: Dict[str, Any]) -> None:
                self._know(reply["room"])
                self.say("* " + self.tr("cli.joined", room=self._name(room), id=room))
            self._room_op(lambda then: self.session.join_room(room, then), joined)
        self._with_room(rest, join)

    def cmd_leave(self, rest: str) -> None:
        def leave(room: int) -> None:
            def left(reply: Dict[str, Any]) -> None:
                self.say("* " + self.tr("room.you_left", room=self._name(room)))
                self._left_room(room)
            self._room_op(lambda then: self.session.leave_room(room, then), left)
        if rest.strip():
            self._with_room(rest, leave)
        else:
            leave(self.room)

    def cmd_invite(self, rest: str) -> None:
        """/invite USER: into the room you are in; /invite ROOM_ID|NAME USER: into that one."""
        words = rest.split()
        if not words or (len(words) == 1 and self.room == LOBBY):
            self.usage("cli.usage_invite")
            return
        user = words[-1]

        def invite(room: int) -> None:
            self._room_op(lambda then: self.session.invite(room, user, then),
                          lambda r: self.say("* " + self.tr("room.invite_sent", user=user,
                                                            room=self._name(room))))
        if len(words) == 1:
            invite(self.room)
        else:
            self._with_room(" ".join(words[:-1]), invite)

    def cmd_closeroom(self, rest: str) -> None:
        if not rest.strip():
            self.usage("cli.usage_closeroom")
            return

        def close(room: int) -> None:
            self._room_op(lambda then: self.session.close_room(room, then),
                          lambda r: None)  # the room_closed event says so
        self._with_room(rest, close)

    def cmd_room(self, rest: str) -> None:
        if not rest.strip():
            self.usage("cli.usage_room")
            return

        def switch(room: int) -> None:
            if room not in self.joined:
                self.error(self.tr("error.not_member") + " (/join %s)" % room)
                return
            self._switch_to(room)
        self._with_room(rest, switch)

    def cmd_switch(self, rest: str) -> None:
        self.cmd_room(rest)

    def cmd_lobby(self, rest: str) -> None:
        self.cmd_room(str(LOBBY))

    def on_message_deleted(self, event: Dict[str, Any]) -> None:
        self.say("* " + self.tr("cli.message_deleted", msg_id=event.get("msg_id"),
                                user=event.get("by", "?")))

    def on_kicked(self, event: Dict[str, Any]) -> None:
        """Removed by a teacher: the session is over (no reconnecting); say who, why and
        until when."""
        for transfer in self.transfers.active():
            transfer.cancel()
        self.error(kicked_text(self.tr, event))

    def on_presence(self, event: Dict[str, Any]) -> None:
        key = "chat.joined" if event.get("online") else "chat.left"
        self.say("* " + self.tr(key, user=event["user"]))

    def on_file_added(self, event: Dict[str, Any]) -> None:
        self.say("* " + file_added_text(self.tr, event["file"]))

    def on_file_removed(self, event: Dict[str, Any]) -> None:
        self.say("* " + self.tr("chat.file_removed"))

    def on_files(self, files: List[Dict[str, Any]], more: bool) -> None:
        pass  # /files and /download ask for the list themselves

    def on_logged_out(self, status: str) -> None:
        for transfer in self.transfers.active():
            transfer.cancel()
        # a password reset by a teacher says who, to ask them for the new one (issue 20)
        self.error(ended_text(self.tr, status, self.session.ended_because))

    # -- input ----------------------------------------------------------------------------

    def ask(self, prompt: str, secret: bool, then: Callable[[str], None]) -> None:
        if self.interactive:
            try:
                value = getpass.getpass(prompt + ": ") if secret else input(prompt + ": ")
            except EOFError:  # Ctrl+D at the prompt ends this command, not the client
                self.out.write("\n")
                self._cancel()
                return
            then(value)
        else:
            self._prompts.append(then)

    def _cancel(self) -> None:
        """The command that waits for an answer (a password, a code) will get none: drop it,
        so that the next line is read (a script that ended there used to wait forever)."""
        self._prompts.clear()
        self.busy = None
        self.error(self.tr("cli.cancelled"))

    def handle(self, line: str) -> None:
        if self._prompts:
            self._prompts.popleft()(line.strip())
            return
        line = line.strip()
        if not line:
            return
        if not line.startswith("/"):
            self._say(line, None, self.room)
            return
        command, _, rest = line.partition(" ")
        handler = getattr(self, "cmd_" + command[1:].lower(), None)
        if handler is None:
            self.error(self.tr("cli.unknown_command", command=command))
            return
        handler(rest.strip())

    def cmd_help(self, rest: str) -> None:
        self.say(self.tr("cli.help").rstrip())

    def cmd_quit(self, rest: str) -> None:
        self.quitting = True

    def cmd_logout(self, rest: str) -> None:
        """The token ends on the server (every window of this login); transfers with it."""
        if self.session.token is None:
            self.error(self.tr("cli.not_logged_in"))
            return
        for transfer in self.transfers.active():
            transfer.cancel()
        done: Dict[str, Any] = {}
        self._wait(done)  # a /quit right after must not close the line before it is sent

        def answered(reply: Dict[str, Any]) -> None:
            done["done"] = True
            if reply.get("status") == "ok":
                self.say("* " + self.tr("cli.logged_out"))
            else:
                self.error(self.net_error(reply))
        self.session.logout(answered)

    def _wait(self, done: Dict[str, Any]) -> None:
        self.busy = lambda: not done.get("done")

    def _reply_handler(self, done: Dict[str, Any], ok: Callable[[Dict[str, Any]], None]
                       ) -> Callable[[Dict[str, Any]], None]:
        def handle(reply: Dict[str, Any]) -> None:
            done["done"] = True
            if reply.get("status") == "ok":
                ok(reply)
            else:
                self.error(self.net_error(reply))
        return handle

    def cmd_login(self, rest: str) -> None:
        name = rest.split(" ")[0] if rest else ""
        if not name:
            self.usage("cli.usage_login")
            return
        done: Dict[str, Any] = {}
        # Finished when the chat connection is authenticated too (or the login failed).
        self.busy = lambda: not done.get("done") or self.session.state == "connecting"

        def with_password(password: str) -> None:
            self.session.login(name, password, self._reply_handler(
                done, lambda r: self.say("* " + self.tr("cli.logged_in",
                                                         user=r["username"]))))
        self.ask(self.tr("login.password"), True, with_password)

    def cmd_register(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) not in (2, 3):
            self.usage("cli.usage_register")
            return
        name, phone, email = parts[0], parts[1], parts[2] if len(parts) == 3 else ""
        for status in (check_username(name), check_phone(phone), check_email(email)):
            if status:
                self.error(self.tr.error(status))
                return
        done: Dict[str, Any] = {}
        self._wait(done)

        def registered(reply: Dict[str, Any]) -> None:
            self.say("* " + self.tr("register.done"))

        def with_code(password: str, code: str, tries: int = 1) -> None:
            answer = self._reply_handler(done, registered)

            def answered(reply: Dict[str, Any]) -> None:
                # A mistyped code is asked for again, not the whole form: the code stays
                # good for 5 tries (docs/PROTOCOL.md §4), and a new one only after 60 s. A
                # script's next line is no code, so a script still stops here.
                if reply.get("status") == "bad_code" and self.interactive and \
                        tries < CODE_TRIES:
                    self.error(self.tr.error("bad_code"))
                    self.ask(self.tr("register.code"), False,
                             lambda again: with_code(password, again, tries + 1))
                    return
                answer(reply)
            self.session.register(name, password, phone, code, email, answered)

        def with_password(password: str) -> None:
            if check_password(password):
                done["done"] = True
                self.error(self.tr.error("bad_password"))
                return
            if self.session.sms == "off":
                with_code(password, "")
                return

            def sent(reply: Dict[str, Any]) -> None:
                if reply.get("status") != "ok":
                    done["done"] = True
                    self.error(self.net_error(reply))
                    return
                self.say("* " + self.tr("register.code_sent"))
                if self.session.sms == "console":  # issue 20: say where the code is
                    self.say("* " + self.tr("register.code_console"))
                self.ask(self.tr("register.code"), False, lambda c: with_code(password, c))
            self.session.send_code(phone, sent)

        def after_hello(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok":
                done["done"] = True
                self.error(self.net_error(reply))
                return
            self.ask(self.tr("register.password"), True, with_password)
        self.session.hello(after_hello)

    def _need_login(self) -> bool:
        if self.session.state == "online":
            return False
        if self._reconnecting():
            self.error(self.tr("cli.still_reconnecting"))
        else:
            self.error(self.tr("cli.not_logged_in"))
        return True

    def _reconnecting(self) -> bool:
        """Logged in, the connection lost and not back yet (the token still holds)."""
        return self.session.token is not None and self.session.state != "online"

    def _say(self, text: str, to: Optional[str], room: int = LOBBY) -> None:
        if self._need_login():
            if self._reconnecting():  # give the text back, as a refused message does
                self.say("  " + text)
            return
        done: Dict[str, Any] = {}
        self._wait(done)

        def said(reply: Dict[str, Any]) -> None:
            done["done"] = True
            if reply.get("status") != "ok":  # say why, and give the text back: nothing lost
                self.error(send_failure_text(self.tr, reply, None if to else room))
                self.say("  " + text)
        self.session.say(text, to, said, room=room)

    def cmd_msg(self, rest: str) -> None:
        user, _, text = rest.partition(" ")
        if not user or not text.strip():
            self.usage("cli.usage_msg")
            return
        self._say(text, user)

    def cmd_users(self, rest: str) -> None:
        if self._need_login():
            return
        done: Dict[str, Any] = {}
        self._wait(done)
        self.session.users(self._reply_handler(
            done, lambda r: self.say("* " + self.tr("cli.online",
                                                     users=", ".join(r["online"])))))

    def cmd_history(self, rest: str) -> None:
        limit = parse_minutes(rest, 1, 200) if rest.strip() else 20
        if limit is None:
            self.usage("cli.usage_history")
            return
        if self._need_login():
            return
        done: Dict[str, Any] = {}
        self._wait(done)

        def show(reply: Dict[str, Any]) -> None:
            for event in reply["messages"]:
                self.on_message(event)
        self.session.history(None, None, self._reply_handler(done, show), limit=limit,
                             room=self.room)

    # -- the member directory, search, unread, passwords (docs/PROTOCOL.md §5) -----------

    def _ask_server(self, send: Callable[[Callable[[Dict[str, Any]], None]], None],
                    ok: Callable[[Dict[str, Any]], None],
                    sentences: Optional[Dict[str, str]] = None) -> None:
        """One request, this command finished with its reply; `sentences`: the catalog key
        that says what a status means here."""
        if self._need_login():
            return
        done: Dict[str, Any] = {}
        self._wait(done)
        handler = self._reply_handler(done, ok)

        def answered(reply: Dict[str, Any]) -> None:
            key = (sentences or {}).get(reply.get("status", ""))
            if key is None:
                handler(reply)
                return
            done["done"] = True
            self.error(self.tr(key))
        send(answered)

    def cmd_members(self, rest: str) -> None:
        """/members [NAME]: everyone (whose name contains NAME), online first."""
        def show(reply: Dict[str, Any]) -> None:
            for member in reply.get("members", []):
                name = member.get("user", "")
                shown = self.tr("members.you", user=name) if name == self.session.username \
                    else name
                status = self.tr("members.online" if member.get("online") else
                                 "members.offline")
                role = self.tr("role.admin") if member.get("role") == "admin" else ""
                self.say("%s %s %s" % (pad(shown, 26), pad(status, 8), role))
            if reply.get("more"):
                self.say("* " + self.tr("members.more"))
            elif not reply.get("members"):
                self.say("* " + self.tr("members.none"))
        self._ask_server(lambda then: self.session.member_directory(rest.strip(), MEMBERS_PAGE,
                                                                   then),
                         show)

    def cmd_search(self, rest: str) -> None:
        """/search TEXT: the messages we may read that contain TEXT, newest first."""
        text = rest.strip()
        if not 1 <= len(text) <= SEARCH_TEXT_MAX_CHARS:
            self.usage("cli.usage_search")
            return

        def show(reply: Dict[str, Any]) -> None:
            found = reply.get("messages", [])
            for message in found:
                msg_id, when, where, who, line = result_row(
                    self.tr, message, self.session.username or "",
                    lambda room: self.room_names.get(room, "#%s" % room))
                self.say("[%s] [#%s] (%s) %s: %s" % (when, msg_id, where, who, line))
            self.say("* " + (self.tr("search.count", n=len(found)) if found
                             else self.tr("search.none", text=text)))
        self._ask_server(lambda then: self.session.search(text, then, limit=SEARCH_PAGE), show)

    def cmd_unread(self, rest: str) -> None:
        """/unread: the conversations with messages we have not read (any client of ours
        marks what it shows as read)."""
        def show(reply: Dict[str, Any]) -> None:
            private, rooms = unread_counts(reply)
            lines = [(self.tr("chat.public") if room == LOBBY else self._name(room), n)
                     for room, n in rooms.items() if n]
            lines += [(self.tr("chat.private_with", user=name), n)
                      for name, n in private.items() if n]
            for where, n in lines:
                self.say("* " + self.tr("cli.unread_line", where=where, n=n))
            if not lines:
                self.say("* " + self.tr("cli.no_unread"))
        self._ask_server(self.session.conversations, show)

    def cmd_passwd(self, rest: str) -> None:
        """/passwd: asks for the current password and the new one."""
        if self._need_login():
            return

        def with_old(old: str) -> None:
            def with_new(new: str) -> None:
                if check_password(new):
                    self.error(self.tr.error("bad_password"))
                    return
                self._ask_server(lambda then: self.session.change_password(old, new, then),
                                 lambda r: self.say("* " + self.tr("password.changed")),
                                 {"bad_credentials": "password.wrong_old"})
            self.ask(self.tr("password.new"), True, with_new)
        self.ask(self.tr("password.old"), True, with_old)

    def cmd_resetpw(self, rest: str) -> None:
        """/resetpw USER (a teacher): asks for USER's new password."""
        words = rest.split()
        if len(words) != 1:
            self.usage("cli.usage_resetpw")
            return
        if self._need_login():
            return
        user = words[0]

        def with_new(new: str) -> None:
            if check_password(new):
                self.error(self.tr.error("bad_password"))
                return
            self._ask_server(lambda then: self.session.reset_password(user, new, then),
                             lambda r: self.say("* " + self.tr("password.reset_done",
                                                                user=user)),
                             {"forbidden": "password.reset_forbidden"})
        self.ask(self.tr("password.new"), True, with_new)

    def cmd_files(self, rest: str) -> None:
        """/files: the newest page; /files more: the page after the one shown last."""
        if self._need_login():
            return
        more = rest.strip().lower() == "more"
        if rest.strip() and not more:
            self.usage("cli.usage_files")
            return
        if more and self._files_before is None:
            self.say("* " + self.tr("cli.no_more_files"))
            return
        done: Dict[str, Any] = {}
        self._wait(done)

        def show(reply: Dict[str, Any]) -> None:
            files = reply["files"]
            if not files and not more:
                self.say("* " + self.tr("cli.no_files"))
            columns = shutil.get_terminal_size().columns if self.interactive else 0
            for f in files:
                for line in file_lines(self.tr, f, columns):
                    self.say(line)
            self._files_before = files[-1]["file_id"] if files and reply.get("more") else None
            if self._files_before is not None:
                self.say("* " + self.tr("cli.more_files", n=FILES_PAGE_LINES))
        self.session.list_files(self._reply_handler(done, show),
                                before=self._files_before if more else None,
                                limit=FILES_PAGE_LINES)

    def cmd_upload(self, rest: str, visibility: str = "all") -> None:
        if not rest.strip():
            self.usage("cli.usage_handin" if visibility == HAND_IN else "cli.usage_upload")
            return
        if self._need_login():
            return
        path = os.path.expanduser(rest)
        if os.path.isdir(path):
            entries = folder_entries(path)
            if not entries:  # os.walk says nothing of a folder it may not read
                self.error(self.tr("cli.empty_folder", path=rest))
                return
        elif os.path.isfile(path):
            entries = [(path, os.path.basename(path))]
        else:
            self.error(self.tr("cli.no_such_path", path=rest))
            return
        jobs = [self.transfers.add(Upload(p, n, visibility)) for p, n in entries]
        self.busy = lambda: any(not j.finished for j in jobs)

    def cmd_download(self, rest: str) -> None:
        if not rest.strip():
            self.usage("cli.usage_download")
            return
        if self._need_login():
            return
        target, _, dest = rest.partition(" ")
        dest = os.path.expanduser(dest.strip() or ".")
        done: Dict[str, Any] = {}
        self._wait(done)
        jobs: List[Transfer] = []

        def start(reply: Dict[str, Any]) -> None:
            files = reply["files"]
            if reply.get("more"):  # the bound of list_all_files: say what was left out
                self.say("* " + self.tr("files.search_bound", n=len(files)))
            if target.isdigit():
                chosen = [f for f in files if f["file_id"] == int(target)]
            else:
                folders = find_folders(files, target)
                if len(folders) > 1:
                    self.error("%s: %s" % (self.tr("cli.which_folder"), ", ".join(
                        "/download %s/%s/" % folder for folder in folders)))
                    return
                chosen = folder_records(files, folders[0]) if folders else []
            if not chosen:
                self.error(self.tr.error("not_found"))
                return
            for f in chosen:
                name = f["name"] if not target.isdigit() else f["name"].split("/")[-1]
                local = safe_local_path(dest, name)
                if local is None:
                    self.error(self.tr("error.unsafe_name", name=f["name"]))
                    continue
                jobs.append(self.transfers.add(Download(f, local)))
            self.busy = lambda: any(not j.finished for j in jobs)
        # The file or folder may be on any page: look through them all (a bounded number).
        self.session.list_all_files(self._reply_handler(done, start))

    def cmd_delete(self, rest: str) -> None:
        """/delete MSG_ID (or #MSG_ID): a message; /delete file ID: a shared file."""
        words = rest.split()
        is_file = len(words) == 2 and words[0].lower() == "file"
        number = words[-1].lstrip("#") if words else ""
        if not number.isdigit() or len(words) != (2 if is_file else 1) or len(number) > 18:
            self.usage("cli.usage_delete")
            return
        if self._need_login():
            return
        done: Dict[str, Any] = {}
        self._wait(done)
        if is_file:
            self.session.delete_file(int(number), self._reply_handler(
                done, lambda r: self.say("* " + self.tr("cli.deleted_file", id=number))))
            return

        def failed(reply: Dict[str, Any]) -> None:
            done["done"] = True
            status = reply.get("status")
            if status == "ok":
                return  # the message_deleted event says so
            if status == "forbidden":
                self.error(self.tr("chat.delete_forbidden"))
            elif status == "not_found":
                self.error(self.tr("chat.delete_gone"))
            else:
                self.error(self.net_error(reply))
        self.session.delete_message(int(number), failed)

    # -- the teacher's controls (docs/PROTOCOL.md §11) ------------------------------------

    def _moderate(self, send: Callable[[Callable[[Dict[str, Any]], None]], None],
                  forbidden: str = "") -> None:
        """Send one admin op; the server's moderation event is the notice of success.
        forbidden: the catalog key that says who may, when not only teachers may."""
        if self._need_login():
            return
        done: Dict[str, Any] = {}
        self._wait(done)

        def answered(reply: Dict[str, Any]) -> None:
            done["done"] = True
            if reply.get("status") == "forbidden" and forbidden:
                self.error(self.tr(forbidden))
            elif reply.get("status") != "ok":
                self.error(moderation_failure(self.tr, reply, self.net_error(reply),
                                              self.session.is_admin))
        send(answered)

    def cmd_mute(self, rest: str) -> None:
        words = rest.split()
        minutes = parse_minutes(words[1], 1) if len(words) == 2 else None
        if minutes is None:
            self.usage("cli.usage_mute")
            return
        self._moderate(lambda then: self.session.mute(words[0], minutes, then))

    def cmd_unmute(self, rest: str) -> None:
        words = rest.split()
        if len(words) != 1:
            self.usage("cli.usage_unmute")
            return
        self._moderate(lambda then: self.session.unmute(words[0], then))

    def cmd_kick(self, rest: str) -> None:
        words = rest.split(None, 2)
        if not words:
            self.usage("cli.usage_kick")
            return
        user, minutes, reason = words[0], 0, " ".join(words[1:])
        if len(words) > 1 and words[1][:1] in "+-0123456789":  # meant as minutes
            parsed = parse_minutes(words[1], 0)
            if parsed is None:
                self.usage("cli.usage_kick_minutes")
                return
            minutes, reason = parsed, " ".join(words[2:])
        self._moderate(lambda then: self.session.kick(user, minutes, reason, then))

    def cmd_quiet(self, rest: str) -> None:
        choice = rest.strip().lower()
        if choice not in ("on", "off"):
            self.usage("cli.usage_quiet")
            return
        room = self.room  # the room plain lines go to (docs/PROTOCOL.md §12)
        self._moderate(lambda then: self.session.set_quiet(choice == "on", then, room=room),
                       forbidden="" if room == LOBBY else "mod.room_owner_only")

    def cmd_audit(self, rest: str) -> None:
        limit = parse_minutes(rest, 1, 200) if rest.strip() else 20
        if limit is None:
            self.usage("cli.usage_audit")
            return
        if self._need_login():
            return
        done: Dict[str, Any] = {}
        self._wait(done)

        def show(reply: Dict[str, Any]) -> None:
            entries = reply.get("entries", [])
            if not entries:
                self.say("* " + self.tr("audit.empty"))
            for e in reversed(entries):  # oldest first, like the chat
                key = AUDIT_ACTIONS.get(e.get("action", ""))
                self.say("%5s  %s  %-12s %-14s %-12s %s" % (
                    "#%s" % e.get("id"),
                    time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.get("ts", 0))),
                    e.get("by") or "", self.tr(key) if key else e.get("action", ""),
                    e.get("user") or "", e.get("detail") or ""))

        def answered(reply: Dict[str, Any]) -> None:
            if reply.get("status") == "forbidden":
                done["done"] = True
                self.error(self.tr("mod.teachers_only"))
                return
            self._reply_handler(done, show)(reply)
        self.session.audit(answered, limit=limit)

    def cmd_handin(self, rest: str) -> None:
        self.cmd_upload(rest, HAND_IN)

    def cmd_handins(self, rest: str) -> None:
        """/handins: every hand-in by student; /handins get all|STUDENT [DEST]: download."""
        words = rest.split()
        getting = bool(words) and words[0].lower() == "get"
        if words and not (getting and len(words) in (2, 3)):
            self.usage("cli.usage_handins")
            return
        if self._need_login():
            return
        student = None if not getting or words[1] == "all" else words[1]
        dest = os.path.expanduser(words[2]) if getting and len(words) == 3 else "."
        done: Dict[str, Any] = {}
        self._wait(done)
        jobs: List[Transfer] = []

        def got(reply: Dict[str, Any]) -> None:
            hand_ins = [f for f in reply["files"] if f.get("visibility") == HAND_IN and
                        (student is None or f["owner"] == student)]
            hand_ins.sort(key=lambda f: (f["owner"].casefold(), f["name"]))
            if not hand_ins:
                if getting and student is not None:
                    self.error(self.tr("cli.no_hand_ins"))
                else:
                    self.say("* " + self.tr("cli.no_hand_ins"))
                return
            if not getting:
                owner = None
                for f in hand_ins:
                    if f["owner"] != owner:
                        owner = f["owner"]
                        mine = [x for x in hand_ins if x["owner"] == owner]
                        key = "files.student_summary_one" if len(mine) == 1 else \
                            "files.student_summary"
                        self.say("%s: %s" % (owner, self.tr(key, n=len(mine), size=human_size(
                            sum(x["size"] for x in mine)))))
                    self.say("%6d  %s %10s  %s" % (
                        f["file_id"], pad(f["name"], 40), human_size(f["size"]),
                        time.strftime("%Y-%m-%d %H:%M", time.localtime(f["uploaded_at"]))))
                return
            for f in hand_ins:
                local = safe_local_path(dest, f["owner"] + "/" + f["name"])
                if local is None:
                    self.error(self.tr("error.unsafe_name", name=f["name"]))
                    continue
                jobs.append(self.transfers.add(Download(f, local)))
            self.busy = lambda: any(not j.finished for j in jobs)
        self.session.list_all_files(self._reply_handler(done, got))

    def _transfer_finished(self, transfer: Transfer) -> None:
        name = self.tr("transfer.up" if transfer.kind == "up" else "transfer.down",
                       name=transfer.name)
        if transfer.state == "done":
            self.say("* %s: %s" % (name, self.tr("transfer.done")))
        elif transfer.state == "failed":
            self.error("%s: %s" % (name, failure_text(self.tr, transfer)))

    def _show_progress(self, now: float) -> None:
        """One line, redrawn in place, for the transfer under way (interactive only). It is
        cleared before anything else is printed (say), so a message never runs into it."""
        if not self.interactive or now - self._progress_at < 0.5:
            return
        self._progress_at = now
        for t in self.transfers.active():
            if t.state == "sending" and t.size:
                self.progress("%s %d%% %s/s" % (
                    self.tr("transfer.up" if t.kind == "up" else "transfer.down", name=t.name),
                    int(100 * t.done_bytes / t.size), human_size(t.speed_bps(now))))
                return

    def progress(self, text: str) -> None:
        self.err.write(CLEAR_LINE + text)
        self.err.flush()
        self._progress_shown = True

    # -- the pump -------------------------------------------------------------------------

    def run(self) -> int:
        self.session.hello(lambda r: r.get("status") == "ok" or self.error(self.net_error(r)))
        if self.interactive:
            self.say(self.tr("cli.banner", server="%s:%d" % (self.session.host,
                                                             self.session.port)))
        while not self.quitting:
            self.session.poll()
            for transfer in self.transfers.step():
                self._transfer_finished(transfer)
            now = time.monotonic()
            self._show_progress(now)
            if self.busy is not None and not self.busy():
                self.busy = None
            if self.busy is None or self._prompts:
                line = self.lines.get()
                if line is None:
                    if self._prompts:
                        self._cancel()
                    if self.busy is None:
                        break
                elif line:
                    self.handle(line)
                    continue
            conns = self.session.connections() + [t.conn for t in self.transfers.active()
                                                  if t.conn is not None]
            busy_transfers = any(t.state in ("hashing", "sending") for t in
                                 self.transfers.active())
            wait_readable(conns, 0 if busy_transfers else POLL_INTERVAL_S)
        self._clear_progress()
        if self.interactive and self.lines.eof:  # Ctrl+D: the shell's prompt on a new line
            self.out.write("\n")
            self.out.flush()
        self.lines.close()
        self.session.close()
        return 1 if self.failed else 0


def display_width(text: str) -> int:
    """Columns a terminal gives text: two for a wide (CJK) character, none for a combining
    mark, one for the rest."""
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """text padded with spaces to `width` columns, as "%-Ns" would be if every character
    took one column (issue 20: /files columns went astray after a Chinese file name)."""
    return text + " " * max(0, width - display_width(text))


def find_folders(records: List[Dict[str, Any]], target: str) -> List[Folder]:
    """The folders `target` may mean: 'OWNER/NAME' is OWNER's folder NAME; 'NAME' alone is
    the folder NAME of whoever has one (several owners: several folders, and the user must
    say which). Two users' folders of the same name are never merged."""
    path = target.strip("/")
    owners = {r["owner"] for r in records}
    named = [Folder(owner, path[len(owner) + 1:]) for owner in sorted(owners)
             if path.startswith(owner + "/")]
    named = [folder for folder in named if folder_records(records, folder)]
    if named:
        return named
    return [Folder(owner, path) for owner in sorted(owners)
            if folder_records(records, Folder(owner, path))]


def trust_asker(lang: str) -> Callable[[str, str], bool]:
    """Trust on first use, in a terminal: show the fingerprint and ask (in `lang`)."""
    tr = Catalog(lang)

    def ask_trust(server: str, fingerprint: str) -> bool:
        if not sys.stdin.isatty():
            sys.stderr.write("! " + tr("cli.trust_untrusted", server=server,
                                       fingerprint=fingerprint) + "\n")
            return False
        sys.stderr.write(tr("cli.trust_shown", server=server, fingerprint=fingerprint) + "\n")
        answer = input(tr("cli.trust_ask") + " ").strip().lower()
        return answer in ("y", "yes", "是", "是的")
    return ask_trust


def discover(targets: List[Tuple[str, int]], lang: str, out: TextIO = sys.stdout,
             err: TextIO = sys.stderr) -> int:
    """cli --discover (docs/PROTOCOL.md §14): probe, collect the answers for 1.5 s, print one
    line per server, `name  host:port  users  tls|plain`. Returns 0 when any answered, 1
    when none did. A fingerprint an answer announces goes to err, said to be unverified."""
    tr = Catalog(lang)
    try:
        prober = Prober(targets)
    except OSError as exc:
        err.write(tr("discover.failed", why=exc) + "\n")
        return 1
    while not prober.done:
        select.select([prober], [], [], prober.remaining_s())
        prober.poll()
    found = prober.found
    for server in found:
        out.write("%s  %s  %d  %s\n" % (server.label, server.server, server.users_online,
                                        "tls" if server.tls else "plain"))
    out.flush()
    for server in found:
        if server.tls:
            err.write(tr("cli.discover_tls", name=server.label, server=server.server,
                         fingerprint=normalize_fingerprint(server.fingerprint or "")) + "\n")
    if not found:
        err.write(tr("cli.discover_none", targets=", ".join(
            "%s:%d" % target for target in targets)) + "\n")
        for error in prober.errors:
            err.write("  %s\n" % error)
        return 1
    return 0


# Columns a file's one-line entry takes; a narrower terminal gets two lines a file.
FILE_LINE_COLUMNS = 94


def file_lines(tr: Catalog, f: Dict[str, Any], columns: int = 0) -> List[str]:
    """A shared file as /files shows it: one line in columns (a CJK character takes two),
    or, in a terminal narrower than that, its id and name, then the rest indented (a
    wrapped line is hard to read). columns 0: not a terminal, one line."""
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(f["uploaded_at"]))
    handed_in = "  " + tr("cli.handed_in") if f.get("visibility") == HAND_IN else ""
    if columns and columns < FILE_LINE_COLUMNS:
        return ["%6d  %s" % (f["file_id"], f["name"]),
                "        %s  %s  %s%s" % (human_size(f["size"]), f["owner"], stamp, handed_in)]
    return ["%6d  %s %10s  %s %s%s" % (f["file_id"], pad(f["name"], 40), human_size(f["size"]),
                                       pad(f["owner"], 12), stamp, handed_in)]


def terminal_mode() -> Any:
    """stdin's terminal settings (None: not a terminal), to be put back on the way out."""
    if termios is None or not sys.stdin.isatty():
        return None
    try:
        return termios.tcgetattr(sys.stdin.fileno())
    except termios.error:
        return None


def main(host: str, port: int, lang: str, tls: Any = None, chaos: Any = None) -> int:
    saved_mode = terminal_mode()
    try:
        return Cli(host, port, lang, tls=tls, chaos=chaos).run()
    except KeyboardInterrupt:  # Ctrl+C: the shell's prompt on a new line
        sys.stdout.write("\n")
        return 130
    finally:
        # Ctrl+C stops the pump while readline, on the input thread, has the terminal in
        # its raw mode (no echo): it never gets to undo that, so the mode is put back here.
        if saved_mode is not None:
            try:
                termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved_mode)
            except termios.error:
                pass
