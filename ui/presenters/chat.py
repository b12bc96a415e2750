"""The chat window: the public room and private conversations, who is online, unread
counts, loading older messages, and the alert when a message comes while the window is not
focused; and the teacher's controls (docs/PROTOCOL.md §11): the role badge, what a
right-click on a user or a message offers, the quiet-room switch, the notices of moderation,
deleted messages, and an input that says why it is closed while this user may not speak;
and rooms (docs/PROTOCOL.md §12): the lobby, the rooms this user is in, each with its own
messages, unread count and topic, making, browsing, joining, inviting and leaving, and the
notices of rooms made, closed, joined and left, and of invitations; and a thumbnail under
the notice of a shared PNG or GIF (fetched through ui/previews.py, the files window's cache)."""
from __future__ import annotations

import collections
import re
import time
from typing import Any, Deque, Dict, List, Optional, Protocol, Tuple

from net.rules import TEXT_MAX_CHARS, check_text
from ui.i18n import Catalog
from ui.neterrors import network_error_text
from ui.presenters.common import Shell, status_text
from ui.presenters.directory import ReadMarks, unread_counts
from ui.presenters.moderation import (
    MODERATION_ACTIONS,
    clock_text,
    moderation_failure,
    moderation_notice,
    speaking_lock,
)
from ui.previews import PreviewCache
from ui.session import Session, refusal_of, retry_after_s

# The chat view keeps at most this many messages per conversation; older ones are reloaded
# from the server on demand ("load older"), so a busy room stays fast.
MAX_VIEW_MESSAGES = 500
# Show the character counter once a message gets this close to the limit.
COUNTER_FROM_CHARS = TEXT_MAX_CHARS - 500

PUBLIC = ""  # the conversation key of the public room (the lobby, room 1)
LOBBY = 1
# A room's conversation key is ROOM_KEY_PREFIX + its id: the space keeps it apart from every
# username (usernames have no whitespace), which are the keys of private conversations.
ROOM_KEY_PREFIX = "room "


def room_key(room_id: int) -> str:
    return PUBLIC if room_id == LOBBY else ROOM_KEY_PREFIX + str(room_id)


def room_of(key: str) -> Optional[int]:
    """The room a conversation key names (LOBBY for the public one); None: a private one."""
    if key == PUBLIC:
        return LOBBY
    if key.startswith(ROOM_KEY_PREFIX):
        return int(key[len(ROOM_KEY_PREFIX):])
    return None

# Consecutive messages of one sender within this long share one header (name and time): a
# burst of short lines reads as one message, as in the chat tools students already use.
GROUP_WITHIN_S = 5 * 60
# A pasted text is cut to what one message may hold (the rest would be refused anyway).
PASTE_MAX_CHARS = TEXT_MAX_CHARS
# The files of one folder shared (or deleted) one after the other, each within this long of
# the one before, make one line: "alice shared the folder hw/ (12 files)", not twelve lines.
# Uploads of a folder follow each other by the time one file takes to send (small files:
# milliseconds), and a slower one starting a second line is harmless.
FOLDER_BURST_S = 3.0
# Thumbnails are fetched and drawn for the last this many pictures shared (older ones say
# "click to see it"): 500 pictures shared one by one never start 500 downloads nor hold 500
# images, and a screenful of chat shows about this many anyway.
PICTURES_SHOWN = 12

# An entry is what the view draws for one message, worked out once when it arrives (the view
# only lays out pieces; the GUI tick never re-renders history): kind ('mine', 'other',
# 'system', 'deleted': a message somebody deleted, drawn like a notice in its place, or
# 'marker': the "new messages" line), who, to, text, time (HH:MM), when (the full date and
# time, shown on hover), ts, private (bool), msg_id (None for a notice or the marker),
# day (the date divider drawn before it, '' for none), header (False: it continues the
# previous message of the same sender, drawn without name and time), mention (it names this
# user with @), parts (see message_parts), and for the notice of a shared PNG or GIF,
# picture: {file_id, sha256, state ('loading', 'ready', 'failed', 'skipped': not fetched,
# older than the last PICTURES_SHOWN), path (the cached copy once ready)}.
Entry = Dict[str, Any]
# One piece of a message's text: (style, text), style 'text', 'link' (an http/https address,
# opened on a click), 'mention' (@ this user) or 'code' (a block of whole lines, monospace).
Part = Tuple[str, str]
# A menu item the view offers on a right-click: (label, action); the view calls back with
# the action (ChatPresenter.user_action, message_action).
Action = Tuple[str, str]


class ChatView(Protocol):
    def show_conversation(self, entries: List[Entry]) -> None:
        """Draw these entries instead of what is shown."""

    def append_entry(self, entry: Entry) -> None: ...

    def prepend_entries(self, entries: List[Entry]) -> None:
        """Draw these entries, in their order, before the first one shown."""

    def drop_oldest(self, count: int) -> None:
        """Forget the first count entries shown."""

    def show_picture(self, entry: Entry) -> None:
        """The entry's picture changed state (fetched, failed, not to be fetched): draw it
        again where the entry is shown (nothing when it is not)."""

    def remove_entry(self, index: int) -> None:
        """Forget the entry shown at this position (the "new messages" line that moves)."""

    def set_recipient(self, text: str, private: bool) -> None:
        """The bar beside the input that says who will receive what is typed; private:
        drawn in the private colour."""

    def set_online_header(self, text: str) -> None:
        """The title of the online list, when it is not the count (disconnected)."""

    def mark_self(self, name: str) -> None:
        """This user's own name in the online list (drawn as 'name (you)')."""

    def show_info(self, text: str) -> None:
        """A passing note under the messages that is not an error."""

    def set_online(self, names: List[str]) -> None: ...

    def mark_teachers(self, names: List[str]) -> None:
        """Which of the online names are teachers, as far as this client knows: a student
        sees whom they may still write to."""

    def set_conversations(self, items: List[Tuple[str, str, int]], current: str) -> None:
        """items: (key, label, unread count) for each conversation; current is shown."""

    def set_counter(self, text: str) -> None:
        """The character counter; '' hides it."""

    def set_status(self, text: str) -> None: ...

    def set_encrypted(self, encrypted: bool) -> None:
        """The lock beside the status: the connection is TLS."""

    def set_title(self, text: str) -> None: ...

    def alert(self) -> None:
        """Draw the user's attention (a beep, a flashing taskbar entry)."""

    def show_error(self, text: str) -> None: ...

    def clear_input(self) -> None: ...

    def restore_draft(self, text: str) -> None:
        """Put text back into the input (a message the server did not take), before
        whatever has been typed since."""

    def set_draft_note(self, text: str) -> None:
        """The note beside the input about the last message sent ('' hides it): why the
        server did not take it."""

    def set_badge(self, text: str) -> None:
        """This user's role beside their name ('' hides it: a member has none)."""

    def set_input_lock(self, text: str) -> None:
        """Why this user cannot write here now: the input and the send button are disabled
        and the reason is shown in their place. '' opens them again."""

    def set_admin_controls(self, visible: bool, quiet: bool) -> None:
        """The switch "quiet room" for the room shown (a teacher's, or the room owner's):
        shown or not, and whether it is on."""

    def set_topic(self, text: str) -> None:
        """The line above the messages: the room's name and topic ('' hides it)."""

    def set_room_actions(self, in_room: bool) -> None:
        """Whether "Invite…" and "Leave" apply: a room (not the lobby, not a private
        conversation) is shown."""

    def show_room_list(self, rooms: List[Dict[str, Any]]) -> None:
        """The "Browse rooms" dialog: room records (public ones, ours, invitations), each
        with its member count; joining one calls ChatPresenter.join_room(id)."""

    def show_invitation(self, room_id: int, text: str) -> None:
        """A notice with a Join button (ChatPresenter.join_room) and a dismiss button
        (ChatPresenter.dismiss_invitation)."""

    def hide_invitation(self, room_id: int) -> None: ...


class _FileBurst:
    """The chat line that stands for files of one folder arriving one after the other: the
    key says what they have in common (shared or deleted, owner, folder, hand-in or not,
    deleted by whom), `drawn` whether the view shows the line's latest text yet."""

    __slots__ = ("key", "entry", "count", "last_s", "drawn")

    def __init__(self, key: Tuple[str, ...], entry: Entry, last_s: float) -> None:
        self.key = key
        self.entry = entry
        self.count = 1
        self.last_s = last_s
        self.drawn = True


class ChatPresenter:
    """Session events come in through on_state, on_welcome, on_message, on_presence,
    on_file_added and on_file_removed (the App passes them on); the view calls the
    actions (switch_to, open_private, typed, send, load_older, focus_changed)."""

    def __init__(self, app: Shell, session: Session, view: Optional[ChatView] = None,
                 previews: Optional[PreviewCache] = None) -> None:
        self.app = app
        self.session = session
        self.view = view
        self.tr = app.tr
        self.conversations: Dict[str, List[Entry]] = {PUBLIC: []}
        self.unread: Dict[str, int] = {PUBLIC: 0}
        self.current = PUBLIC
        self._state: Optional[Tuple[str, str]] = None  # the last on_state, for relabel
        self.seen: set = set()
        self.online: List[str] = []
        self.focused = True
        self.unseen_while_away = 0
        self.mentioned_while_away = False
        # The user has scrolled up from the newest message (the view says when it changes).
        self.reading_back = False
        # Conversations with a "new messages" line placed since the user last saw them.
        self.marked: set = set()
        self.lock = ""  # why the input is closed ('' when it is open)
        self.rooms: Dict[int, Dict[str, Any]] = {}  # the rooms we are in (lobby not kept)
        self.invitations: Dict[int, Dict[str, Any]] = {}  # room records we are invited to
        self.read_marks = ReadMarks(session)  # what the server knows we have read
        self.listed: set = set()  # private conversations `conversations` told us of
        self._burst: Optional[_FileBurst] = None  # the folder line that may grow (issue 20)
        # Thumbnails (None: none are drawn): the pictures' entries, the last PICTURES_SHOWN.
        self.previews = previews
        self._pictures: Deque[Entry] = collections.deque()

    def attach(self, view: ChatView) -> None:
        self.view = view

    @property
    def me(self) -> str:
        return self.session.username or ""

    # -- from the session -----------------------------------------------------------------

    def on_state(self, state: str, detail: str) -> None:
        self._state = (state, detail)  # said again in another language (relabel)
        encrypted = state == "online" and self.session.tls is not None
        self.view.set_encrypted(encrypted)
        if state == "online":
            self.view.set_status(self.tr("status.connected_tls" if encrypted
                                         else "status.connected", server=detail))
        elif state == "reconnecting":
            refusal = self.session.refusal
            if refusal is not None:  # the server refused us: say why and what to do
                self.view.set_status(self.tr("status.refused", why=self.tr(refusal.value),
                                             n=detail))
            else:
                self.view.set_status(self.tr("status.reconnecting", n=detail))
        elif state == "offline":
            self.view.set_status(self.tr("status.offline", why=network_error_text(
                self.tr, detail) if detail else "-"))
        if state != "online" and self.online:
            # Who was online then is not who is online now: the list waits for the welcome.
            self.online = []
            self._show_online()
            self.view.set_online_header(self.tr("chat.online_unknown"))

    def _show_online(self) -> None:
        self.view.set_online(self.online)
        self.view.mark_teachers([n for n in self.online if self.session.is_known_admin(n)])

    def on_roles(self) -> None:
        """The session learned who the teachers are (after the welcome)."""
        self._show_online()

    def on_welcome(self, reply: Dict[str, Any]) -> None:
        self.online = list(reply.get("online", []))
        self.view.mark_self(self.me)
        self._show_online()
        self.rooms = {r["room"]: r for r in reply.get("rooms", []) if r.get("room") != LOBBY}
        shown = room_of(self.current)
        if shown not in (None, LOBBY) and shown not in self.rooms:
            self.current = PUBLIC  # a room closed or left while we were away
        for event in reply.get("history", []):
            self._add_message(event, live=False)
        self.view.set_title(self._title())
        self.view.set_badge(self.tr("role.admin") if self.session.is_admin else "")
        self._show_quiet_switch()
        self._refresh_conversation()
        self._update_lock()
        # Every conversation with its unread count, however old (docs/PROTOCOL.md §5).
        self.session.conversations(self._got_conversations)

    def _got_conversations(self, reply: Dict[str, Any]) -> None:
        """The conversations the server knows of, with what arrived unread: a private chat
        older than the welcome's history is listed too, and opening it loads it."""
        if reply.get("status") != "ok" or self.view is None:
            return
        private, rooms = unread_counts(reply)
        self.listed = set(private)
        for name, n in private.items():
            self.conversations.setdefault(name, [])
            if name != self.current:
                self.unread[name] = n
        for room_id, n in rooms.items():
            key = room_key(room_id)
            if (room_id == LOBBY or room_id in self.rooms) and key != self.current:
                self.unread[key] = n
        self._show_conversations()
        self._mark_current()

    def _mark_current(self) -> None:
        """Tell the server the conversation shown is read up to its newest message (once per
        new message: ReadMarks sends nothing it has sent before)."""
        if not self.focused or self.view is None:
            return
        for entry in reversed(self.conversations.get(self.current, [])):
            if entry.get("msg_id"):
                room = room_of(self.current)
                self.read_marks.seen(self.current, None if room is not None else self.current,
                                     room, entry["msg_id"])
                return

    def _title(self) -> str:
        if self.session.is_admin:
            return self.tr("chat.title_admin", user=self.me, role=self.tr("role.admin"))
        return self.tr("chat.title", user=self.me)

    def on_message(self, event: Dict[str, Any]) -> None:
        self._add_message(event, live=True)

    def on_presence(self, event: Dict[str, Any]) -> None:
        user = event["user"]
        if event.get("online"):
            if user not in self.online:
                self.online.append(user)
                self.online.sort(key=str.casefold)
            self._system(self.tr("chat.joined", user=user))
        else:
            if user in self.online:
                self.online.remove(user)
            self._system(self.tr("chat.left", user=user))
        self._show_online()

    def on_file_added(self, event: Dict[str, Any]) -> None:
        """'bob shared notes.txt'; the files of a folder arriving one after the other grow
        one line, 'bob shared the folder hw/ (12 files)'."""
        record = event["file"]
        hand_in = record.get("visibility") == "admins"
        key = "chat.folder_handed_in" if hand_in else "chat.folder_shared"
        self._file_notice(("added", record["owner"], record["name"], str(hand_in), ""),
                          file_added_text(self.tr, record),
                          lambda folder, n: self.tr(key, user=record["owner"], name=folder,
                                                    n=n), record)

    def on_file_removed(self, event: Dict[str, Any],
                        record: Optional[Dict[str, Any]] = None) -> None:
        """'bob deleted alice's notes.txt': record is the file as the files list knew it
        (FilesPresenter.record), `by` who deleted it (docs/PROTOCOL.md §6; an older server
        does not say). A folder deleted is one line, as a folder shared is."""
        by = event.get("by")
        if record is None or not isinstance(by, str):
            self._system(self.tr("chat.file_removed_by", user=by) if isinstance(by, str)
                         else self.tr("chat.file_removed"))
            return
        owner = record["owner"]
        own = owner == by
        single = "chat.file_deleted_own" if own else "chat.file_deleted"
        folder_key = "chat.folder_deleted_own" if own else "chat.folder_deleted"
        self._file_notice(("removed", owner, record["name"], "", by),
                          self.tr(single, user=by, owner=owner, name=record["name"]),
                          lambda folder, n: self.tr(folder_key, user=by, owner=owner,
                                                    name=folder, n=n))

    def _file_notice(self, what: Tuple[str, str, str, str, str], text: str,
                     folder_text: Any, record: Optional[Dict[str, Any]] = None) -> None:
        """A notice about a file; a file of the same folder as the one of the line before
        it, within FOLDER_BURST_S, makes that line count one more instead (redrawn by
        tick(): a folder of a thousand files costs one redraw per tick, not a thousand).
        what: (action, owner, name, hand-in, by); record: a file shared (its picture gets a
        thumbnail, on a line of its own: a folder's line has none)."""
        action, owner, name, hand_in, by = what
        now = self.session.clock()
        folder = name.split("/")[0] + "/" if "/" in name else ""
        key = (action, owner, folder, hand_in, by)
        burst = self._burst
        entries = self.conversations.get(PUBLIC, [])
        if folder and burst is not None and burst.key == key and \
                now - burst.last_s <= FOLDER_BURST_S and entries and entries[-1] is burst.entry:
            burst.count += 1
            burst.last_s = now
            text = folder_text(folder, burst.count)
            self._forget_picture(burst.entry)
            burst.entry = entries[-1] = dict(burst.entry, text=text, parts=[("text", text)],
                                             picture=None)
            burst.drawn = False
            return
        self._system(text, picture=self._picture_of(record))
        self._burst = _FileBurst(key, self.conversations[PUBLIC][-1], now) if folder else None

    def _draw_burst(self) -> None:
        """Show the folder line's latest count, when it is still the last line shown."""
        burst = self._burst
        if burst is None or burst.drawn:
            return
        burst.drawn = True
        entries = self.conversations.get(PUBLIC, [])
        if self.current == PUBLIC and self.view is not None and entries and \
                entries[-1] is burst.entry:
            self.view.remove_entry(len(entries) - 1)
            self.view.append_entry(burst.entry)

    def on_moderation(self, event: Dict[str, Any]) -> None:
        """A notice for everyone (a room's quiet: in that room); the session has already
        noted what it changes for us."""
        room = event.get("room")
        key = room_key(room) if event.get("action") == "quiet" and room in self.rooms \
            else PUBLIC
        self._system(moderation_notice(self.tr, event, self.session.wall()), key)
        self._show_online()  # its `by` is a teacher
        if event.get("action") == "quiet":
            self._show_quiet_switch()
        self._update_lock()

    def on_message_deleted(self, event: Dict[str, Any]) -> None:
        """The message stays in its place as a notice: 'message deleted by bob'."""
        msg_id, by = event.get("msg_id"), event.get("by", "?")
        for key, entries in self.conversations.items():
            for i, entry in enumerate(entries):
                if entry.get("msg_id") == msg_id and entry["kind"] in ("mine", "other"):
                    entries[i] = dict(entry, kind="deleted", mention=False,
                                      text=self.tr("chat.deleted_by", user=by))
                    self._link(entries, i)  # the next one no longer continues it
                    if key == self.current:
                        self.view.show_conversation(list(entries))
                    return

    def tick(self) -> None:
        """Called a few times a second by the application: a mute that ran out opens the
        input again; a folder's line shows how many files it has come to."""
        self._draw_burst()
        if self.lock:
            self._update_lock()
        self._mark_current()

    def _update_lock(self) -> None:
        if self.view is None:
            return
        room = room_of(self.current)
        # A quiet room is closed to its members, but for its owner (docs/PROTOCOL.md §12).
        quiet = room if room is not None and self.session.is_quiet(room) and \
            not self.session.is_room_owner(self.rooms.get(room)) else None
        lock = speaking_lock(self.tr, self.session, self.current if room is None else PUBLIC,
                             quiet=quiet)
        if lock != self.lock:
            self.lock = lock
            self.view.set_input_lock(lock)

    # -- conversations --------------------------------------------------------------------

    def _key_for(self, event: Dict[str, Any]) -> str:
        if not event.get("to"):
            room = event.get("room")
            return room_key(room) if isinstance(room, int) else PUBLIC
        return event["to"] if event["from"] == self.me else event["from"]

    def _entry(self, event: Dict[str, Any]) -> Entry:
        kind = "mine" if event["from"] == self.me else "other"
        parts = message_parts(event["text"], self.me)
        return self._stamped({
            "kind": kind, "who": event["from"], "to": event.get("to"), "text": event["text"],
            "private": bool(event.get("to")), "msg_id": event["msg_id"], "parts": parts,
            "mention": kind == "other" and any(style == "mention" for style, _ in parts)},
            event.get("ts"))

    def _stamped(self, entry: Entry, ts: Any = None) -> Entry:
        """The entry with its times (HH:MM, and the full date on hover) and, until it is
        linked to the one before it, a header and no divider."""
        if not isinstance(ts, (int, float)) or isinstance(ts, bool):
            ts = self.session.wall()
        moment = time.localtime(ts)
        entry.update(ts=ts, time=time.strftime("%H:%M", moment),
                     when=date_text(self.tr, moment) + time.strftime(" %H:%M:%S", moment),
                     day="", header=True)
        entry.setdefault("parts", [("text", entry["text"])])
        entry.setdefault("mention", False)
        return entry

    def _link(self, entries: List[Entry], start: int = 0) -> None:
        """Work out the date dividers and the grouping of entries[start:] from the entry
        before each: a divider where the day changes (and above the first one when it is
        not from today), and no header for a message that continues its sender's last."""
        today = time.localtime(self.session.wall())[:3]
        for i in range(start, len(entries)):
            entry = entries[i]
            before = entries[i - 1] if i > 0 else None
            day = time.localtime(entry["ts"])[:3]
            new_day = day != (time.localtime(before["ts"])[:3] if before else today)
            entry["day"] = date_text(self.tr, time.localtime(entry["ts"])) if new_day else ""
            entry["header"] = not (
                before is not None and not new_day and entry["kind"] in ("mine", "other")
                and before["kind"] == entry["kind"] and before["who"] == entry["who"]
                and before["to"] == entry["to"]
                and 0 <= entry["ts"] - before["ts"] <= GROUP_WITHIN_S)

    def _away_from(self, key: str) -> bool:
        """Whether a message arriving in this conversation now is unseen for a while."""
        return key != self.current or not self.focused or self.reading_back

    def _mark_new(self, key: str, entries: List[Entry], ts: float) -> None:
        """The "new messages" line before the first message the user has not seen: one per
        conversation, moved down each time the user comes back and goes away again."""
        if key in self.marked or not any(e["kind"] != "marker" for e in entries):
            return  # placed already; or the first message of all, new without saying so
        self.marked.add(key)
        for i, entry in enumerate(entries):
            if entry["kind"] == "marker":
                del entries[i]
                if key == self.current:
                    self.view.remove_entry(i)
                break
        marker = self._stamped({"kind": "marker", "who": "", "to": None, "private": False,
                                "text": self.tr("chat.new_messages"), "msg_id": None}, ts)
        entries.append(marker)
        self._link(entries, len(entries) - 1)
        if key == self.current:
            self.view.append_entry(marker)

    def _add_message(self, event: Dict[str, Any], live: bool) -> None:
        self._draw_burst()  # drawn while it is the last line
        msg_id = event.get("msg_id")
        if msg_id in self.seen:
            return  # resynced history after a reconnect: nothing twice
        self.seen.add(msg_id)
        key = self._key_for(event)
        entries = self.conversations.setdefault(key, [])
        entry = self._entry(event)
        mine = entry["kind"] == "mine"
        at = len(entries)
        while at > 0 and (entries[at - 1].get("msg_id") is None or
                          entries[at - 1]["msg_id"] > msg_id):
            at -= 1
        if at < len(entries) and any(e.get("msg_id") is not None for e in entries[at:]):
            # A resync delivered an older message late: keep id order, draw it all again.
            entries.insert(at, entry)
            self._link(entries, at)
            if key == self.current:
                self._refresh_conversation()
        else:
            if live and not mine and self._away_from(key):
                self._mark_new(key, entries, entry["ts"])
            entries.append(entry)
            self._link(entries, len(entries) - 1)
            if key == self.current:
                self.view.append_entry(entry)
        self._trim(key)
        if live and not mine:
            if key != self.current:
                self.unread[key] = self.unread.get(key, 0) + 1
                self._show_conversations()
            if not self.focused:
                self.unseen_while_away += 1
                self.mentioned_while_away |= entry["mention"]
                self.view.set_title(self._away_title())
            if self.app.settings.notify and (not self.focused or
                                             (entry["mention"] and key != self.current)):
                self.view.alert()
        elif key not in self.unread:
            self.unread.setdefault(key, 0)
            self._show_conversations()

    def _away_title(self) -> str:
        key = "chat.mentioned_title" if self.mentioned_while_away else "chat.new_title"
        return self.tr(key, n=self.unseen_while_away)

    def _trim(self, key: str) -> None:
        entries = self.conversations[key]
        extra = len(entries) - MAX_VIEW_MESSAGES
        if extra > 0:
            if self._pictures:
                for entry in entries[:extra]:
                    if entry.get("picture"):
                        self._forget_picture(entry)
            del entries[:extra]
            first = entries[0]
            regroup = not first["header"]  # its header went with the message before it
            if regroup:
                first["header"] = True
            if key == self.current:
                if regroup:  # draw the new first one again, with its name and time
                    self.view.drop_oldest(extra + 1)
                    self.view.prepend_entries([first])
                else:
                    self.view.drop_oldest(extra)

    def _system(self, text: str, key: str = PUBLIC,
                picture: Optional[Dict[str, Any]] = None) -> None:
        self._draw_burst()  # drawn while it is the last line
        entry = self._stamped({"kind": "system", "who": "", "to": None, "text": text,
                               "private": False, "msg_id": None, "picture": picture})
        if picture is not None:
            self._pictures.append(entry)
            if len(self._pictures) > PICTURES_SHOWN:  # the oldest goes without a thumbnail
                oldest = self._pictures.popleft()
                self._forget_picture(oldest)
                oldest["picture"] = dict(oldest["picture"], state="skipped", path=None)
                if self.view is not None and key == self.current:
                    self.view.show_picture(oldest)
        entries = self.conversations.setdefault(key, [])
        entries.append(entry)
        self._link(entries, len(entries) - 1)
        if self.current == key:
            self.view.append_entry(entry)
        self._trim(key)

    # -- thumbnails of shared pictures -----------------------------------------------------

    def _picture_of(self, record: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        """The picture of a file shared (None: no thumbnail for it), asked for at once: the
        path when it is in the cache, else a download, once per picture (ui/previews.py)."""
        if record is None or self.previews is None or \
                self.previews.path_for(record) is None:
            return None
        picture = {"file_id": record["file_id"], "sha256": record["sha256"],
                   "state": "loading", "path": None}
        path = self.previews.want(record, self._picture_fetched, urgent=False)
        if path is not None:
            picture.update(state="ready", path=path)
        return picture

    def _forget_picture(self, entry: Entry) -> None:
        """The entry leaves the view or the last PICTURES_SHOWN: its fetch is not needed."""
        picture = entry.get("picture")
        if not picture:
            return
        for i, waiting in enumerate(self._pictures):
            if waiting is entry:  # (by identity: entries are dicts, == would compare them)
                del self._pictures[i]
                break
        if picture["state"] == "loading" and self.previews is not None:
            if not any(e["picture"]["sha256"] == picture["sha256"] for e in self._pictures):
                self.previews.unwant(picture["sha256"], self._picture_fetched)

    def _picture_fetched(self, record: Dict[str, Any], path: Optional[str]) -> None:
        """ui/previews.py answered: the entries waiting for this picture show it now."""
        for entry in self._pictures:
            picture = entry["picture"]
            if picture["sha256"] == record["sha256"] and picture["state"] == "loading":
                entry["picture"] = dict(picture, state="ready" if path else "failed",
                                        path=path)
                if self.view is not None and self.current == PUBLIC:
                    self.view.show_picture(entry)

    def open_picture(self, file_id: int) -> None:
        """A thumbnail (or its line) was clicked: the files window, with the file selected
        (where the user sees it larger, and downloads it if they want to keep it)."""
        show_file = getattr(self.app, "show_file", None)
        if show_file is not None:
            show_file(file_id)

    def _refresh_conversation(self) -> None:
        self.view.show_conversation(list(self.conversations.get(self.current, [])))
        self._show_conversations()

    def _show_conversations(self) -> None:
        """The lobby first, then our rooms by name, then the private conversations."""
        rooms = sorted(self.rooms.values(), key=lambda r: str(r.get("name", "")).casefold())
        items: List[Tuple[str, str, int]] = [(PUBLIC, self.tr("chat.public"),
                                              self.unread.get(PUBLIC, 0))]
        for record in rooms:
            key = room_key(record["room"])
            items.append((key, room_label(self.tr, record), self.unread.get(key, 0)))
        for key in sorted((k for k in self.conversations if room_of(k) is None),
                          key=str.casefold):
            items.append((key, self.tr("chat.private_with", user=key), self.unread.get(key, 0)))
        self.view.set_conversations(items, self.current)

    def switch_to(self, key: str) -> None:
        room = room_of(key)
        if room not in (None, LOBBY) and room not in self.rooms:
            key = PUBLIC  # a room we are no longer in
            room = LOBBY
        self.current = key
        self.conversations.setdefault(key, [])
        self.unread[key] = 0
        self.marked.discard(key)  # seen now: its next unseen message gets a new line
        self._refresh_conversation()
        self._update_lock()
        self._show_quiet_switch()
        record = self.rooms.get(room) if room is not None else None
        self._show_topic()
        self.view.set_room_actions(record is not None)
        self.view.set_recipient(*self.recipient())
        if key in self.listed and not self.conversations[key]:  # its messages: not yet
            self.session.history(None, key, self._room_history)
        self._mark_current()

    def _show_quiet_switch(self) -> None:
        """The "quiet room" switch is about the room shown: a teacher has it in every room,
        a room's owner in theirs (docs/PROTOCOL.md §12), nobody in a private conversation."""
        room = room_of(self.current)
        may = room is not None and (self.session.is_admin or
                                    self.session.is_room_owner(self.rooms.get(room)))
        self.view.set_admin_controls(may, room is not None and self.session.is_quiet(room))

    def _show_topic(self) -> None:
        """The line above the messages: the room shown now, its member count and topic."""
        room = room_of(self.current)
        record = self.rooms.get(room) if room is not None else None
        self.view.set_topic(topic_text(self.tr, record) if record else "")

    def relabel(self) -> None:
        """After a language switch: what this presenter put into the view in words."""
        if self.view is None:
            return
        self.view.set_title(self._title())
        self.view.set_badge(self.tr("role.admin") if self.session.is_admin else "")
        self._show_conversations()
        self.view.set_recipient(*self.recipient())
        self.lock = ""  # said again in the new language
        self._update_lock()
        if self._state is not None:
            self.on_state(*self._state)
        self._show_topic()

    def recipient(self) -> Tuple[str, bool]:
        """Who receives what is typed now, in words, and whether it is private."""
        room = room_of(self.current)
        if room is None:
            return self.tr("chat.to_private", user=self.current), True
        if room == LOBBY:
            return self.tr("chat.to_everyone"), False
        return self.tr("chat.to_room", room=self._room_name(room)), False

    def open_private(self, user: str) -> None:
        if user and user != self.me:
            self.switch_to(user)

    # -- actions --------------------------------------------------------------------------

    def typed(self, text: str) -> None:
        n = len(text)
        self.view.set_counter(self.tr("chat.counter", n=n) if n >= COUNTER_FROM_CHARS else "")

    def send(self, text: str) -> None:
        text = text.rstrip("\n")
        if check_text(text):
            if text.strip() and len(text) > TEXT_MAX_CHARS:
                # Nothing is sent and the text stays: say why, and by how much.
                self.view.set_draft_note(self.tr("chat.too_long", n=len(text),
                                                 limit=TEXT_MAX_CHARS))
            return
        room = room_of(self.current)
        to = None if room is not None else self.current
        if self.lock:  # the input is closed; a key binding got through anyway
            self.view.set_draft_note(self.lock)
            return

        def done(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok" and self.view is not None:
                # Nothing typed is lost: the text goes back into the input, with the reason.
                self.view.restore_draft(text)
                self.view.set_draft_note(send_failure_text(self.tr, reply, room))
                self._update_lock()  # a mute or a quiet room we had not been told of
        if self.session.say(text, to, done, room=room if room != LOBBY else None):
            self.view.clear_input()
            self.view.set_counter("")
            self.view.set_draft_note("")

    def load_older(self) -> None:
        """The page of this conversation's messages before the oldest one shown: only its
        own (the lobby's page is asked for without the private messages), drawn above."""
        key = self.current
        ids = [e["msg_id"] for e in self.conversations.get(key, []) if e.get("msg_id")]
        before = min(ids) if ids else None

        def done(reply: Dict[str, Any]) -> None:
            if self.view is None:
                return
            if reply.get("status") != "ok":
                self.view.show_error(status_text(self.tr, reply))
                return
            # A server that ignores `room` sends the private ones too: they are not this
            # conversation's, and stay unseen for their own.
            events = [m for m in reply["messages"]
                      if m["msg_id"] not in self.seen and self._key_for(m) == key]
            if not events:
                self.view.show_info(self.tr("chat.no_older"))
                return
            self.seen.update(m["msg_id"] for m in events)
            older = [self._entry(m) for m in events]
            entries = self.conversations.setdefault(key, [])
            self._link(older)
            entries[:0] = older
            first_before = dict(entries[len(older)]) if len(entries) > len(older) else None
            self._link(entries, len(older))
            if key != self.current:
                return
            # The message that was first may now continue the last one loaded (or share
            # its day): it is drawn again, without what it no longer needs.
            changed = first_before is not None and any(
                first_before[f] != entries[len(older)][f] for f in ("day", "header"))
            if changed:
                self.view.drop_oldest(1)
                older = older + [entries[len(older)]]
            self.view.prepend_entries(older)
        room = room_of(key)
        if room is None:
            self.session.history(before, key, done)
        elif room == LOBBY:
            self.session.history(before, None, done, lobby_only=True)
        else:
            self.session.history(before, None, done, room=room)

    def focus_changed(self, focused: bool) -> None:
        self.focused = focused
        if focused and not self.reading_back:
            self.marked.discard(self.current)
        if focused and self.unseen_while_away:
            self.unseen_while_away = 0
            self.mentioned_while_away = False
            self.view.set_title(self._title())

    def viewing_latest(self, at_bottom: bool) -> None:
        """The view: the newest message is in sight (False: the user scrolled up)."""
        self.reading_back = not at_bottom
        if at_bottom and self.focused:
            self.marked.discard(self.current)

    def paste(self, text: str, room_left: int) -> str:
        """What of a pasted clipboard goes into the input: never a binary payload (an
        image offered as text arrives as a hex dump), and no more than fits (room_left:
        the characters the input may still take)."""
        if looks_binary(text):
            self.view.show_error(self.tr("chat.paste_binary"))
            return ""
        room_left = max(0, room_left)
        if len(text) > room_left:
            self.view.show_error(self.tr("chat.paste_cut", n=len(text), limit=TEXT_MAX_CHARS))
            return text[:room_left]
        return text

    def paste_image(self) -> None:
        """The clipboard holds an image and no text. Tk cannot hand its bytes over on every
        system (X11 stops at the first zero byte, Windows offers text only), so it is not
        pasted: the user is told how to share it instead."""
        self.view.show_error(self.tr("chat.paste_image"))

    # -- rooms (docs/PROTOCOL.md §12) -----------------------------------------------------

    def _room_name(self, room_id: Any) -> str:
        record = self.rooms.get(room_id) or self.invitations.get(room_id)
        return str(record["name"]) if record else "#%s" % room_id

    def _add_room(self, record: Dict[str, Any]) -> None:
        room_id = record["room"]
        self.rooms[room_id] = dict(record, joined=True)
        self.conversations.setdefault(room_key(room_id), [])
        self.unread.setdefault(room_key(room_id), 0)
        if self.invitations.pop(room_id, None) is not None and self.view is not None:
            self.view.hide_invitation(room_id)

    def _drop_room(self, room_id: int) -> None:
        key = room_key(room_id)
        self.rooms.pop(room_id, None)
        self.conversations.pop(key, None)
        self.unread.pop(key, None)
        if self.current == key:
            self.switch_to(PUBLIC)
        else:
            self._show_conversations()

    def _failed(self, reply: Dict[str, Any]) -> bool:
        """Shows why a room op failed; True when it did."""
        if reply.get("status") == "ok":
            return False
        if self.view is not None:
            self.view.show_error(room_failure_text(self.tr, reply))
        return True

    def on_room_event(self, event: Dict[str, Any]) -> None:
        """room (made), room_closed, joined, left, invited: notices, and the room list."""
        op = event.get("op")
        if op == "room":
            record = event.get("room") or {}
            if record.get("joined"):
                self._add_room(record)
                self._show_conversations()
            elif record.get("owner"):  # a public room somebody made: anyone may join
                self._system(self.tr("room.created", user=record["owner"],
                                     room=record.get("name", "")))
        elif op == "room_closed":
            room_id = event.get("room")
            name = self._room_name(room_id)
            self.invitations.pop(room_id, None)
            if room_id in self.rooms:
                self._drop_room(room_id)
                self._system(self.tr("room.closed", room=name))
        elif op in ("joined", "left"):
            room_id, user = event.get("room"), event.get("user", "?")
            if room_id not in self.rooms:
                return
            record = self.rooms[room_id]
            # Our own join or leave is counted in the reply's record already.
            if isinstance(record.get("members"), int) and user != self.me:
                record["members"] = max(0, record["members"] + (1 if op == "joined" else -1))
                self._show_topic()  # the count above the messages, if it is this room
            if op == "left" and user == self.me:  # from another window of ours
                self._drop_room(room_id)
                self._system(self.tr("room.you_left", room=record.get("name", "")))
                return
            key = "room.user_joined" if op == "joined" else "room.user_left"
            self._system(self.tr(key, user=user, room=record.get("name", "")),
                         room_key(room_id))
        elif op == "invited":
            record = event.get("room") or {}
            room_id = record.get("room")
            if not isinstance(room_id, int) or room_id in self.rooms:
                return
            self.invitations[room_id] = record
            text = self.tr("room.invited_notice", user=event.get("by", "?"),
                           room=record.get("name", ""))
            self._system(text)
            self.view.show_invitation(room_id, text)

    def create_room(self, name: str, topic: str, private: bool) -> None:
        """"New room…": made, we are in it and it is shown."""
        name, topic = name.strip(), topic.strip()
        if not name:
            self.view.show_error(self.tr("error.bad_room_name"))
            return

        def done(reply: Dict[str, Any]) -> None:
            if not self._failed(reply):
                self._add_room(reply["room"])
                self.switch_to(room_key(reply["room"]["room"]))
        self.session.create_room(name, topic, private, done)

    def browse_rooms(self) -> None:
        """"Browse rooms": the server's list goes to the view's dialog."""
        def done(reply: Dict[str, Any]) -> None:
            if not self._failed(reply):
                for record in reply.get("rooms", []):
                    if record.get("joined") and record.get("room") in self.rooms:
                        self.rooms[record["room"]].update(record)
                # the lobby is always there and everyone's: nothing to browse or join
                self.view.show_room_list([r for r in reply.get("rooms", [])
                                          if r.get("room") != LOBBY])
        self.session.rooms(done)

    def join_room(self, room_id: int) -> None:
        """Join a room (from the list, or an invitation), show it and fetch its messages."""
        if room_id in self.rooms:
            self.switch_to(room_key(room_id))
            return

        def done(reply: Dict[str, Any]) -> None:
            if self._failed(reply):
                return
            self._add_room(reply["room"])
            self.switch_to(room_key(room_id))
            self.session.history(None, None, self._room_history, room=room_id)
        self.session.join_room(room_id, done)

    def _room_history(self, reply: Dict[str, Any]) -> None:
        if reply.get("status") == "ok":
            for event in reply.get("messages", []):
                self._add_message(event, live=False)

    def shown_room_name(self) -> str:
        room_id = room_of(self.current)
        return self._room_name(room_id) if room_id not in (None, LOBBY) else ""

    def dismiss_invitation(self, room_id: int) -> None:
        self.invitations.pop(room_id, None)
        self.view.hide_invitation(room_id)

    def invite(self, user: str) -> None:
        """"Invite…" into the room shown."""
        room_id, user = room_of(self.current), user.strip()
        if room_id in (None, LOBBY) or not user:
            return
        name = self._room_name(room_id)

        def done(reply: Dict[str, Any]) -> None:
            if not self._failed(reply):
                self._system(self.tr("room.invite_sent", user=user, room=name),
                             room_key(room_id))
        self.session.invite(room_id, user, done)

    def leave(self) -> None:
        """"Leave" the room shown: it goes from the list, the lobby is shown."""
        room_id = room_of(self.current)
        if room_id in (None, LOBBY):
            return
        name = self._room_name(room_id)

        def done(reply: Dict[str, Any]) -> None:
            if not self._failed(reply):
                self._drop_room(room_id)
                self._system(self.tr("room.you_left", room=name))
        self.session.leave_room(room_id, done)

    # -- the teacher's controls (docs/PROTOCOL.md §11) ------------------------------------

    def user_actions(self, user: str) -> List[Action]:
        """What a right-click on a user in the online list offers: a private conversation,
        and to a teacher, muting and removing (not for themselves or another teacher)."""
        if not user or user == self.me:
            return []
        actions = [(self.tr("chat.private_action"), "private")]
        if self.session.is_admin and not self.session.is_known_admin(user):
            actions += [(self.tr(key), action) for key, action in MODERATION_ACTIONS]
        return actions

    def user_action(self, user: str, action: str) -> None:
        if action == "private":
            self.open_private(user)
            return
        if not self.session.is_admin:
            return
        op, _, minutes = action.partition(":")

        def done(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok" and self.view is not None:
                self.view.show_error(moderation_failure(self.tr, reply,
                                                        status_text(self.tr, reply)))
        if op == "mute":
            self.session.mute(user, int(minutes), done)
        elif op == "unmute":
            self.session.unmute(user, done)
        elif op == "kick":
            self.session.kick(user, int(minutes), "", done)

    def _find(self, msg_id: int) -> Optional[Entry]:
        for entry in self.conversations.get(self.current, []):
            if entry.get("msg_id") == msg_id:
                return entry
        return None

    def message_actions(self, msg_id: int) -> List[Action]:
        """What a right-click on a message offers: deleting it, to its author and to a
        teacher (the server has the last word)."""
        entry = self._find(msg_id)
        if entry is None or entry["kind"] not in ("mine", "other"):
            return []
        if entry["kind"] == "mine" or self.session.is_admin:
            return [(self.tr("chat.delete_message"), "delete")]
        return []

    def message_action(self, msg_id: int, action: str) -> None:
        if action != "delete":
            return

        def done(reply: Dict[str, Any]) -> None:
            status = reply.get("status")
            if status == "ok" or self.view is None:
                return  # the message_deleted event redraws it
            if status == "forbidden":
                self.view.show_error(self.tr("chat.delete_forbidden"))
            elif status == "not_found":
                self.view.show_error(self.tr("chat.delete_gone"))
            else:
                self.view.show_error(status_text(self.tr, reply))
        self.session.delete_message(msg_id, done)

    def set_quiet(self, on: bool) -> None:
        """The switch of the room shown: only teachers (and its owner) may speak in it while
        it is on."""
        room = room_of(self.current)
        if room is None or not (self.session.is_admin or
                                self.session.is_room_owner(self.rooms.get(room))):
            return

        def done(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok" and self.view is not None:
                self.view.show_error(status_text(self.tr, reply))
                self._show_quiet_switch()  # as it really is
        self.session.set_quiet(on, done, room=room)


# An address in a message: http or https up to a space, a quote or an angle bracket (or a
# full-width character: Chinese punctuation right after an address is common).
_LINK = re.compile(r"https?://[^\s<>\"'\u3000-\u303f\uff00-\uffef]+", re.IGNORECASE)
# Characters that end a sentence rather than an address.
_LINK_TAIL = ".,;:!?'\""
# A fence line: ``` (with an optional language name after it) opens or closes a code block.
_FENCE = re.compile(r"^\s*```")
# What Tk makes of a clipboard that holds a picture but is read as text: numbers in hex.
_HEX_DUMP = re.compile(r"\s*(?:0x[0-9A-Fa-f]+\s*){16,}")


def _inline_parts(text: str, me: str) -> List[Part]:
    """Links and @mentions of `me` in a stretch of ordinary text."""
    patterns = [_LINK.pattern]
    if me:
        patterns.append(r"(?<!\w)@" + re.escape(me) + r"(?!\w)")
    parts: List[Part] = []
    at = 0
    for found in re.finditer("|".join(patterns), text, re.IGNORECASE):
        piece, end = found.group(), found.end()
        style = "mention" if piece.startswith("@") else "link"
        if style == "link":
            while piece and (piece[-1] in _LINK_TAIL or
                             (piece[-1] == ")" and piece.count("(") < piece.count(")"))):
                piece, end = piece[:-1], end - 1
            if len(piece) <= len("https://"):
                continue
        if found.start() > at:
            parts.append(("text", text[at:found.start()]))
        parts.append((style, piece))
        at = end
    if at < len(text):
        parts.append(("text", text[at:]))
    return parts


def message_parts(text: str, me: str) -> List[Part]:
    """A message's text in pieces to draw: code blocks (between ``` fences, or lines
    indented by four spaces or a tab) as whole lines, and in the rest the links and the
    @mentions of `me`. Every piece of prose and every code block ends with a newline, so
    the pieces joined are the text as drawn."""
    parts: List[Part] = []
    prose: List[str] = []
    code: List[str] = []
    fenced = False

    def flush_prose() -> None:
        if prose:
            parts.extend(_inline_parts("\n".join(prose) + "\n", me))
            prose.clear()

    def flush_code() -> None:
        if code:
            parts.append(("code", "\n".join(code) + "\n"))
            code.clear()
    for line in text.split("\n"):
        if _FENCE.match(line):
            if fenced:
                flush_code()
            else:
                flush_prose()
            fenced = not fenced
        elif fenced:
            code.append(line)
        elif line.startswith(("    ", "\t")) and line.strip():
            flush_prose()
            code.append(line[4:] if line.startswith("    ") else line[1:])
        else:
            flush_code()
            prose.append(line)
    flush_prose()
    flush_code()
    return parts


def date_text(tr: Catalog, moment: time.struct_time) -> str:
    """'Wednesday 26 November 2025' / '2025年11月26日 星期三': the date dividers and the
    full time shown on hover."""
    weekdays = tr("chat.weekdays").split(",")
    months = tr("chat.months").split(",")
    return tr("chat.date", weekday=weekdays[moment.tm_wday], day=moment.tm_mday,
              month=moment.tm_mon, month_name=months[moment.tm_mon - 1], year=moment.tm_year)


def looks_binary(text: str) -> bool:
    """Whether a "text" from the clipboard is really data: a zero byte, or the numbers Tk
    writes for a picture it was asked to give as text."""
    return "\x00" in text or bool(_HEX_DUMP.fullmatch(text))


def file_added_text(tr: Catalog, record: Dict[str, Any]) -> str:
    """'bob shared notes.txt', or for a hand-in (seen by its owner and the teachers only,
    docs/PROTOCOL.md §11) 'bob handed in hw1.txt'."""
    key = "chat.file_handed_in" if record.get("visibility") == "admins" else "chat.file_shared"
    return tr(key, user=record["owner"], name=record["name"])


def room_label(tr: Catalog, record: Dict[str, Any]) -> str:
    """A room in the conversation list: '# physics', with a lock mark when private."""
    key = "room.label_private" if record.get("private") else "room.label"
    return tr(key, name=record.get("name", ""))


def topic_text(tr: Catalog, record: Dict[str, Any]) -> str:
    """The line above a room's messages: its name, member count and topic."""
    members = tr("room.members", n=record.get("members", 0))
    if record.get("topic"):
        return tr("room.topic_line", name=record.get("name", ""), members=members,
                  topic=record["topic"])
    return tr("room.topic_none", name=record.get("name", ""), members=members)


def room_failure_text(tr: Catalog, reply: Dict[str, Any]) -> str:
    """Why a room op failed: an unknown room and a private one look the same
    (docs/PROTOCOL.md §12); the other statuses have their own sentences."""
    if reply.get("status") == "not_found":
        return tr("room.not_found")
    if reply.get("status") == "bad_request" and reply.get("op") == "leave":
        return tr("room.lobby_stays")
    return status_text(tr, reply)


def send_failure_text(tr: Catalog, reply: Dict[str, Any], room: Optional[int] = None) -> str:
    """Why the server did not take a message (docs/PROTOCOL.md §5): flood control with its
    retry_after, a text it refuses in its own words, a connection that dropped before the
    answer, or any other failure."""
    status = reply.get("status")
    if status == "rate_limited":
        return tr("chat.too_fast", n=retry_after_s(reply) or 1)
    if status == "muted":
        return tr("chat.muted_refused", time=clock_text(time.time() +
                                                        (retry_after_s(reply) or 1)))
    if status == "forbidden":  # docs/PROTOCOL.md §11: the only say a member may not send
        return tr("chat.quiet_refused" if room in (None, LOBBY) else "chat.room_quiet_refused")
    if status == "bad_request":
        return tr("chat.refused", why=reply.get("message") or status)
    if status == "disconnected" and refusal_of(reply) is None:
        # the connection's reason is net/client.py's English: in the user's words (a
        # sentence of its own, so without its full stop inside the brackets)
        message = reply.get("message")
        why = network_error_text(tr, message) if message else tr("error.connection_lost")
        return tr("chat.maybe_not_sent", why=why.rstrip("。."))
    return tr("chat.not_sent", why=status_text(tr, reply))
