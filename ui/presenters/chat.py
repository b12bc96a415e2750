"""The chat window: the public room and private conversations, who is online, unread
counts, loading older messages, and the alert when a message comes while the window is not
focused."""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Protocol, Tuple

from net.rules import TEXT_MAX_CHARS, check_text
from ui.i18n import Catalog
from ui.presenters.common import Shell, status_text
from ui.session import Session, refusal_of, retry_after_s

# The chat view keeps at most this many messages per conversation; older ones are reloaded
# from the server on demand ("load older"), so a busy room stays fast.
MAX_VIEW_MESSAGES = 500
# Show the character counter once a message gets this close to the limit.
COUNTER_FROM_CHARS = TEXT_MAX_CHARS - 500

PUBLIC = ""  # the conversation key of the public room

# An entry is what the view draws for one message: kind ('mine', 'other', 'system'), who,
# to, text, time (HH:MM), private (bool), msg_id (None for a system notice).
Entry = Dict[str, Any]


class ChatView(Protocol):
    def show_conversation(self, entries: List[Entry]) -> None:
        """Draw these entries instead of what is shown."""

    def append_entry(self, entry: Entry) -> None: ...

    def prepend_entries(self, entries: List[Entry]) -> None: ...

    def drop_oldest(self, count: int) -> None:
        """Forget the first count entries shown."""

    def set_online(self, names: List[str]) -> None: ...

    def set_conversations(self, items: List[Tuple[str, str, int]], current: str) -> None:
        """items: (key, label, unread count) for each conversation; current is shown."""

    def set_counter(self, text: str) -> None:
        """The character counter; '' hides it."""

    def set_status(self, text: str) -> None: ...

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


class ChatPresenter:
    """Session events come in through on_state, on_welcome, on_message, on_presence,
    on_file_added and on_file_removed (the App passes them on); the view calls the
    actions (switch_to, open_private, typed, send, load_older, focus_changed)."""

    def __init__(self, app: Shell, session: Session, view: Optional[ChatView] = None) -> None:
        self.app = app
        self.session = session
        self.view = view
        self.tr = app.tr
        self.conversations: Dict[str, List[Entry]] = {PUBLIC: []}
        self.unread: Dict[str, int] = {PUBLIC: 0}
        self.current = PUBLIC
        self.seen: set = set()
        self.online: List[str] = []
        self.focused = True
        self.unseen_while_away = 0

    def attach(self, view: ChatView) -> None:
        self.view = view

    @property
    def me(self) -> str:
        return self.session.username or ""

    # -- from the session -----------------------------------------------------------------

    def on_state(self, state: str, detail: str) -> None:
        if state == "online":
            self.view.set_status(self.tr("status.connected", server=detail))
        elif state == "reconnecting":
            refusal = self.session.refusal
            if refusal is not None:  # the server refused us: say why and what to do
                self.view.set_status(self.tr("status.refused", why=self.tr(refusal.value),
                                             n=detail))
            else:
                self.view.set_status(self.tr("status.reconnecting", n=detail))
        elif state == "offline":
            self.view.set_status(self.tr("status.offline", why=detail or "-"))

    def on_welcome(self, reply: Dict[str, Any]) -> None:
        self.online = list(reply.get("online", []))
        self.view.set_online(self.online)
        for event in reply.get("history", []):
            self._add_message(event, live=False)
        self.view.set_title(self.tr("chat.title", user=self.me))
        self._refresh_conversation()

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
        self.view.set_online(self.online)

    def on_file_added(self, event: Dict[str, Any]) -> None:
        f = event["file"]
        self._system(self.tr("chat.file_shared", user=f["owner"], name=f["name"]))

    def on_file_removed(self, event: Dict[str, Any]) -> None:
        self._system(self.tr("chat.file_removed"))

    # -- conversations --------------------------------------------------------------------

    def _key_for(self, event: Dict[str, Any]) -> str:
        if not event.get("to"):
            return PUBLIC
        return event["to"] if event["from"] == self.me else event["from"]

    def _entry(self, event: Dict[str, Any]) -> Entry:
        return {"kind": "mine" if event["from"] == self.me else "other", "who": event["from"],
                "to": event.get("to"), "text": event["text"], "private": bool(event.get("to")),
                "time": time.strftime("%H:%M", time.localtime(event.get("ts", time.time()))),
                "msg_id": event["msg_id"]}

    def _add_message(self, event: Dict[str, Any], live: bool) -> None:
        msg_id = event.get("msg_id")
        if msg_id in self.seen:
            return  # resynced history after a reconnect: nothing twice
        self.seen.add(msg_id)
        key = self._key_for(event)
        entries = self.conversations.setdefault(key, [])
        entry = self._entry(event)
        # Keep id order even when a resync delivers an older message late.
        if entries and entries[-1].get("msg_id") is not None and msg_id < entries[-1]["msg_id"]:
            entries.append(entry)
            entries.sort(key=lambda e: e.get("msg_id") or 0)
            if key == self.current:
                self._refresh_conversation()
        else:
            entries.append(entry)
            if key == self.current:
                self.view.append_entry(entry)
        self._trim(key)
        if live and entry["kind"] != "mine":
            if key != self.current:
                self.unread[key] = self.unread.get(key, 0) + 1
                self._show_conversations()
            if not self.focused:
                self.unseen_while_away += 1
                self.view.set_title(self.tr("chat.new_title", n=self.unseen_while_away))
                if self.app.settings.notify:
                    self.view.alert()
        elif key not in self.unread:
            self.unread.setdefault(key, 0)
            self._show_conversations()

    def _trim(self, key: str) -> None:
        entries = self.conversations[key]
        extra = len(entries) - MAX_VIEW_MESSAGES
        if extra > 0:
            del entries[:extra]
            if key == self.current:
                self.view.drop_oldest(extra)

    def _system(self, text: str) -> None:
        entry = {"kind": "system", "who": "", "to": None, "text": text, "private": False,
                 "time": time.strftime("%H:%M"), "msg_id": None}
        self.conversations[PUBLIC].append(entry)
        if self.current == PUBLIC:
            self.view.append_entry(entry)
        self._trim(PUBLIC)

    def _refresh_conversation(self) -> None:
        self.view.show_conversation(list(self.conversations.get(self.current, [])))
        self._show_conversations()

    def _show_conversations(self) -> None:
        items: List[Tuple[str, str, int]] = []
        for key in [PUBLIC] + sorted((k for k in self.conversations if k), key=str.casefold):
            label = self.tr("chat.public") if key == PUBLIC else self.tr("chat.private_with",
                                                                        user=key)
            items.append((key, label, self.unread.get(key, 0)))
        self.view.set_conversations(items, self.current)

    def switch_to(self, key: str) -> None:
        self.current = key
        self.conversations.setdefault(key, [])
        self.unread[key] = 0
        self._refresh_conversation()

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
                self.view.show_error(self.tr("chat.counter", n=len(text)))
            return
        to = self.current or None

        def done(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok" and self.view is not None:
                # Nothing typed is lost: the text goes back into the input, with the reason.
                self.view.restore_draft(text)
                self.view.set_draft_note(send_failure_text(self.tr, reply))
        if self.session.say(text, to, done):
            self.view.clear_input()
            self.view.set_counter("")
            self.view.set_draft_note("")

    def load_older(self) -> None:
        key = self.current
        ids = [e["msg_id"] for e in self.conversations.get(key, []) if e.get("msg_id")]
        before = min(ids) if ids else None

        def done(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok":
                self.view.show_error(status_text(self.tr, reply))
                return
            older = [self._entry(m) for m in reply["messages"] if m["msg_id"] not in self.seen]
            if not older:
                self.view.show_error(self.tr("chat.no_older"))
                return
            self.seen.update(e["msg_id"] for e in older)
            self.conversations[key][:0] = older
            if key == self.current:
                self.view.prepend_entries(older)
        self.session.history(before, key or None, done)

    def focus_changed(self, focused: bool) -> None:
        self.focused = focused
        if focused and self.unseen_while_away:
            self.unseen_while_away = 0
            self.view.set_title(self.tr("chat.title", user=self.me))


def send_failure_text(tr: Catalog, reply: Dict[str, Any]) -> str:
    """Why the server did not take a message (docs/PROTOCOL.md §5): flood control with its
    retry_after, a text it refuses in its own words, a connection that dropped before the
    answer, or any other failure."""
    status = reply.get("status")
    if status == "rate_limited":
        return tr("chat.too_fast", n=retry_after_s(reply) or 1)
    if status == "bad_request":
        return tr("chat.refused", why=reply.get("message") or status)
    if status == "disconnected" and refusal_of(reply) is None:
        return tr("chat.maybe_not_sent", why=reply.get("message") or status)
    return tr("chat.not_sent", why=status_text(tr, reply))
