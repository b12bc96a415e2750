"""The member directory, message search and password windows (docs/PROTOCOL.md §5,
"Directory, search, unread, passwords"), and the read marks the chat window sends.

    MembersPresenter    everyone, online first; a search box; "Message" opens a private chat
    SearchPresenter     messages containing a text, newest first; opening one shows its
                        conversation
    PasswordPresenter   change one's own password, or (a teacher) reset a student's
    ReadMarks           tells the server what has been read, once per newer message
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple

from net.rules import check_password
from ui.i18n import Catalog
from ui.presenters.common import status_text
from ui.session import Session

# The directory asks for this many members (docs/PROTOCOL.md §5: at most 200); a query
# narrows a longer list.
MEMBERS_PAGE = 200
# Search results per page; older ones come with "Load older".
SEARCH_PAGE = 50
SEARCH_TEXT_MAX_CHARS = 200
# A result shows this much of its message's text, on one line.
RESULT_TEXT_CHARS = 200
LOBBY = 1


def unread_counts(reply: Dict[str, Any]) -> Tuple[Dict[str, int], Dict[int, int]]:
    """A `conversations` reply as (unread by private peer, unread by room id)."""
    private = {c["with"]: int(c.get("unread") or 0) for c in reply.get("private", [])
               if isinstance(c, dict) and isinstance(c.get("with"), str)}
    rooms = {r["room"]: int(r.get("unread") or 0) for r in reply.get("rooms", [])
             if isinstance(r, dict) and isinstance(r.get("room"), int)}
    return private, rooms


class ReadMarks:
    """What the server has been told this user read, per conversation: a newer message
    sends one mark_read, an older or the same one nothing."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sent: Dict[str, int] = {}

    def seen(self, key: str, with_user: Optional[str], room: Optional[int],
             msg_id: int) -> bool:
        """The conversation `key` (private with `with_user`, or `room`) is read up to
        msg_id; True when that was news to send."""
        if msg_id <= self.sent.get(key, 0):
            return False
        self.sent[key] = msg_id
        self.session.mark_read(msg_id, with_user, room)
        return True


# -- the member directory ---------------------------------------------------------------------

# One member as the view shows them: (username, name as shown, status, role, online)
MemberRow = Tuple[str, str, str, str, bool]


class MembersView(Protocol):
    def show_members(self, rows: List[MemberRow], note: str) -> None:
        """These members instead of what is shown; note: '' or why the list is not all."""

    def set_admin(self, is_admin: bool) -> None:
        """Whether "Reset password…" is offered (teachers only)."""

    def show_error(self, text: str) -> None: ...


class MembersPresenter:
    """The view calls search(query) as the user types, message(user), reset(user)."""

    def __init__(self, tr: Catalog, session: Session, open_private: Callable[[str], None],
                 open_reset: Callable[[str], None]) -> None:
        self.tr = tr
        self.session = session
        self.open_private = open_private
        self.open_reset = open_reset
        self.view: Optional[MembersView] = None
        self.members: List[Dict[str, Any]] = []
        self.query = ""
        self._asking = False
        self._next: Optional[str] = None  # typed while a query was on its way

    def attach(self, view: MembersView) -> None:
        self.view = view
        view.set_admin(self.session.is_admin)
        self.search("")

    def detach(self) -> None:
        self.view = None

    def search(self, query: str) -> None:
        """Ask for the members matching query; typing fast asks once per answer, for the
        latest text."""
        query = query.strip()
        if self._asking:
            self._next = query
            return
        self._asking = True
        self.query = query

        def got(reply: Dict[str, Any]) -> None:
            self._asking = False
            waiting, self._next = self._next, None
            if waiting is not None and waiting != query:
                self.search(waiting)
                return
            if self.view is None:
                return
            if reply.get("status") != "ok":
                self.view.show_error(status_text(self.tr, reply))
                return
            self.members = [m for m in reply.get("members", []) if isinstance(m, dict)]
            note = self.tr("members.more") if reply.get("more") else (
                "" if self.members else self.tr("members.none"))
            self.view.show_members([self.row(m) for m in self.members], note)
        self.session.member_directory(query, MEMBERS_PAGE, got)

    def relabel(self) -> None:
        """After a language switch: the members shown, in the new words."""
        if self.view is not None and self.members:
            self.view.show_members([self.row(m) for m in self.members], "")

    def row(self, member: Dict[str, Any]) -> MemberRow:
        name = str(member.get("user", ""))
        me = self.session.username or ""
        shown = self.tr("members.you", user=name) if name == me else name
        online = bool(member.get("online"))
        status = self.tr("members.online") if online else self.tr("members.offline")
        role = self.tr("role.admin") if member.get("role") == "admin" else ""
        return name, shown, status, role, online

    def message(self, user: str) -> None:
        """"Message": a private conversation with user, online or not."""
        if not user:
            return
        if user == self.session.username:
            if self.view is not None:
                self.view.show_error(self.tr("members.not_yourself"))
            return
        self.open_private(user)

    def reset(self, user: str) -> None:
        """A teacher's "Reset password…" for user."""
        if user and self.session.is_admin:
            self.open_reset(user)


# -- message search ---------------------------------------------------------------------------

# One result as the view shows it: (msg_id, time, where, who, text)
ResultRow = Tuple[int, str, str, str, str]


class SearchView(Protocol):
    def show_results(self, rows: List[ResultRow], note: str) -> None:
        """Every result so far, newest first; note: '' or what to say about them."""

    def set_more(self, more: bool) -> None:
        """Whether older results may remain ("Load older")."""

    def show_error(self, text: str) -> None: ...


class SearchPresenter:
    """The view calls search(text), load_older(), open(msg_id)."""

    def __init__(self, tr: Catalog, session: Session,
                 open_conversation: Callable[[Optional[str], Optional[int]], None],
                 room_name: Callable[[int], str]) -> None:
        self.tr = tr
        self.session = session
        self.open_conversation = open_conversation  # (private peer, or None and a room)
        self.room_name = room_name
        self.view: Optional[SearchView] = None
        self.text = ""
        self.results: List[Dict[str, Any]] = []
        self._generation = 0  # a new search drops the answers to the old one

    def attach(self, view: SearchView) -> None:
        self.view = view

    def detach(self) -> None:
        self.view = None

    def search(self, text: str) -> None:
        text = text.strip()
        if self.view is None:
            return
        if not text:
            self.view.show_error(self.tr("search.empty"))
            return
        if len(text) > SEARCH_TEXT_MAX_CHARS:
            self.view.show_error(self.tr("search.too_long", n=SEARCH_TEXT_MAX_CHARS))
            return
        self.text = text
        self.results = []
        self._generation += 1
        self._ask(None)

    def load_older(self) -> None:
        if self.results:
            self._ask(self.results[-1]["msg_id"])

    def _ask(self, before: Optional[int]) -> None:
        generation = self._generation

        def got(reply: Dict[str, Any]) -> None:
            if generation != self._generation or self.view is None:
                return
            if reply.get("status") != "ok":
                self.view.show_error(status_text(self.tr, reply))
                return
            self.results += [m for m in reply.get("messages", []) if isinstance(m, dict)
                             and isinstance(m.get("msg_id"), int)]
            note = self.tr("search.count", n=len(self.results)) if self.results else \
                self.tr("search.none", text=self.text)
            self.view.show_results([self.row(m) for m in self.results], note)
            self.view.set_more(bool(reply.get("more")))
        self.session.search(self.text, got, before=before, limit=SEARCH_PAGE)

    def relabel(self) -> None:
        """After a language switch: the results shown, in the new words."""
        if self.view is not None and self.results:
            self.view.show_results([self.row(m) for m in self.results],
                                   self.tr("search.count", n=len(self.results)))

    def _peer(self, message: Dict[str, Any]) -> str:
        return peer_of(message, self.session.username or "")

    def row(self, message: Dict[str, Any]) -> ResultRow:
        return result_row(self.tr, message, self.session.username or "", self.room_name)

    def open(self, msg_id: int) -> None:
        """Show the conversation a result belongs to."""
        for message in self.results:
            if message["msg_id"] == msg_id:
                if message.get("to"):
                    self.open_conversation(self._peer(message), None)
                else:
                    room = message.get("room")
                    self.open_conversation(None, room if isinstance(room, int) else LOBBY)
                return


def peer_of(message: Dict[str, Any], me: str) -> str:
    """The other user of a private message."""
    return str(message.get("to") if message.get("from") == me else message.get("from"))


def result_row(tr: Catalog, message: Dict[str, Any], me: str,
               room_name: Callable[[int], str]) -> ResultRow:
    """A search result as the search window and the terminal client show it."""
    ts = message.get("ts")
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) \
        if isinstance(ts, (int, float)) else ""
    if message.get("to"):
        where = tr("chat.private_with", user=peer_of(message, me))
    elif message.get("room") in (None, LOBBY):
        where = tr("chat.public")
    else:
        where = room_name(message["room"])
    text = " ".join(str(message.get("text", "")).split())
    if len(text) > RESULT_TEXT_CHARS:
        text = text[:RESULT_TEXT_CHARS - 1] + "…"
    return message["msg_id"], when, where, str(message.get("from", "")), text


# -- passwords --------------------------------------------------------------------------------

class PasswordView(Protocol):
    def show_error(self, text: str) -> None: ...

    def set_busy(self, busy: bool) -> None:
        """The request is on its way: the submit button is disabled."""

    def done(self, text: str) -> None:
        """It worked: say so (text) and close."""


class PasswordPresenter:
    """Change one's own password (user None), or, for a teacher, reset `user`'s. The view
    calls submit(old, new, confirm); old is '' for a reset."""

    def __init__(self, tr: Catalog, session: Session, user: Optional[str] = None) -> None:
        self.tr = tr
        self.session = session
        self.user = user
        self.view: Optional[PasswordView] = None

    def attach(self, view: PasswordView) -> None:
        self.view = view

    def detach(self) -> None:
        self.view = None

    def submit(self, old: str, new: str, confirm: str) -> None:
        view = self.view
        if view is None:
            return
        if self.user is None and not old:
            view.show_error(self.tr("password.need_old"))
            return
        if check_password(new):
            view.show_error(self.tr.error("bad_password"))
            return
        if new != confirm:
            view.show_error(self.tr("password.mismatch"))
            return
        view.set_busy(True)
        if self.user is None:
            self.session.change_password(old, new, self._answered)
        else:
            self.session.reset_password(self.user, new, self._answered)

    def _answered(self, reply: Dict[str, Any]) -> None:
        view = self.view
        if view is None:
            return
        view.set_busy(False)
        status = reply.get("status")
        if status == "ok":
            view.done(self.tr("password.changed") if self.user is None
                      else self.tr("password.reset_done", user=self.user))
        elif status == "bad_credentials":
            view.show_error(self.tr("password.wrong_old"))
        elif status == "forbidden" and self.user is not None:
            view.show_error(self.tr("password.reset_forbidden"))
        else:
            view.show_error(status_text(self.tr, reply))
