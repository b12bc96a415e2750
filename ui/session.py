"""The client's session: auth connection, login, then the chat and file connections, with
reconnection. Tk-free and thread-free; whoever owns it calls ``poll()`` often (the GUI from
``after()``, the terminal client from its select loop). What happens goes to a
SessionListener (below).

It also knows how the server's limits (docs/PROTOCOL.md §10) look from here: a refused
connection (``Refusal``, retried no sooner than the server asks and never in a tight loop),
``retry_after``, a token logged out elsewhere (``logged_out``), and the paged file list (§6);
and the teacher's controls (§11): this user's role, whether the lobby is quiet, until when
this user is muted, the teachers it has seen act, the admin ops, and a kick, which ends the
session for good.
"""
from __future__ import annotations

import enum
import ipaddress
import logging
import math
import time
import weakref
from typing import Any, Callable, Dict, List, Optional, Protocol, Set, Tuple

from net.client import ClientConnection, FrameObserver, TlsOptions

log = logging.getLogger(__name__)

Callback = Callable[[Dict[str, Any]], None]

# Reconnect after a lost chat connection: 1 s, then doubling up to 30 s.
RECONNECT_FIRST_S = 1.0
RECONNECT_MAX_S = 30.0
# A connection the server refused (too many open, docs/PROTOCOL.md §10) is tried again no
# sooner than this, whatever retry_after says: somebody has to close a window first, and an
# earlier try would only be refused again.
REFUSED_RETRY_S = 10.0
# A retry_after beyond this (a day) is a server's mistake: we wait no longer than this.
RETRY_AFTER_MAX_S = 24 * 3600
# Bytes of events one poll() takes in: about 150 chat messages, which a Tk text widget draws
# in a few milliseconds. A burst beyond that is spread over the next ticks.
POLL_READ_BYTES = 32 * 1024
# Keepalive on the chat and file connections, well inside the server's default 300 s idle
# limit (the file connection is silent while nobody looks at the files).
PING_INTERVAL_S = 60.0
# docs/PROTOCOL.md §6: the largest page `list` gives.
LIST_LIMIT_MAX = 1000
# Files per page of the file list the clients show: a page the files window draws at once;
# older files come a page per "Load more".
FILES_PAGE = 200
# A folder download looks through at most this many pages of LIST_LIMIT_MAX files (50,000
# files) for the folder's files: bounded, and far more than a classroom shares.
ALL_FILES_MAX_PAGES = 50
# Who is a teacher: the first `members` page after the welcome (the online users come first,
# and 200 is the most one page holds, docs/PROTOCOL.md §5). The welcome's `online` is bare
# names, so the first online list showed a teacher as anyone else until a later event.
ROLES_LIMIT = 200
# The listener's method for each event the session passes on as it is.
EVENT_HANDLERS = {"message": "on_message", "presence": "on_presence",
                  "file_added": "on_file_added", "file_removed": "on_file_removed",
                  "moderation": "on_moderation", "message_deleted": "on_message_deleted",
                  # docs/PROTOCOL.md §12: every room event goes to one handler
                  "room": "on_room_event", "room_closed": "on_room_event",
                  "joined": "on_room_event", "left": "on_room_event",
                  "invited": "on_room_event"}
# A TLS hello asking whether a silent server speaks only TLS (Session._probe_tls) gives up
# after this long: a TLS server on the LAN answers within milliseconds.
TLS_PROBE_S = 5.0
# How long a closed file connection waits for the chat connection's last word (a kick)
# before the session reconnects: the two are closed in the same turn of the server's loop,
# so their ends arrive within a moment of each other on any network.
LAST_WORD_WAIT_S = 1.0
# docs/PROTOCOL.md §11: the role that may moderate, and the lobby (the room `quiet` is about).
ADMIN = "admin"
LOBBY = 1


class Refusal(enum.Enum):
    """Why the server refused a connection (docs/PROTOCOL.md §10). The value is the catalog
    key (ui/i18n.py) of the sentence that tells the user what to do."""
    ADDRESS = "error.too_many_conns_address"  # too many connections from this computer
    ACCOUNT = "error.too_many_conns_account"  # too many connections of this account


def refusal_of(reply: Dict[str, Any]) -> Optional[Refusal]:
    """The refusal a reply reports, or None. A rate_limited reply to `auth` is the per-user
    cap; a request whose connection the server closed with a rate_limited `error` frame (its
    last word, docs/PROTOCOL.md §3) met the per-address cap."""
    if reply.get("status") == "rate_limited" and reply.get("op") == "auth":
        return Refusal.ACCOUNT
    last_word = reply.get("last_word") if reply.get("status") == "disconnected" else None
    if isinstance(last_word, dict) and last_word.get("status") == "rate_limited":
        return Refusal.ADDRESS
    return None


def retry_after_s(reply: Dict[str, Any]) -> Optional[int]:
    """The whole seconds (at least 1) a rate_limited reply, or the last word of the
    connection it came on, asks us to wait; None when neither says."""
    last_word = reply.get("last_word")
    for source in (reply, last_word if isinstance(last_word, dict) else {}):
        value = source.get("retry_after")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                math.isfinite(value):
            return max(1, min(int(math.ceil(value)), RETRY_AFTER_MAX_S))
    return None


class SessionListener(Protocol):
    """What a Session tells its owner (the GUI's App, the terminal client). Runs inside
    ``Session.poll()`` and the session's own calls, on the owner's thread."""

    def on_state(self, state: str, detail: str) -> None:
        """'offline' (detail: why) | 'connecting' | 'online' (detail: host:port) |
        'reconnecting' (detail: seconds until the next try; Session.refusal says whether
        the server refused the connection)."""

    def on_welcome(self, reply: Dict[str, Any]) -> None:
        """The chat connection is authenticated: reply has 'online' and 'history'."""

    def on_message(self, event: Dict[str, Any]) -> None: ...

    def on_presence(self, event: Dict[str, Any]) -> None: ...

    def on_file_added(self, event: Dict[str, Any]) -> None: ...

    def on_file_removed(self, event: Dict[str, Any]) -> None: ...

    def on_files(self, files: List[Dict[str, Any]], more: bool) -> None:
        """The first page of the shared files arrived (after login and after
        refresh_files()), newest first; more: older files remain (list_files(before=...))."""

    def on_logged_out(self, status: str) -> None:
        """The session ended for good and will not reconnect: 'logged_out' (somebody logged
        this token out, from another window say; Session.ended_because says when it was a
        password changed or reset) or 'unauthorized' (the token expired)."""

    def on_moderation(self, event: Dict[str, Any]) -> None:
        """A teacher muted, unmuted or removed someone, or made the room quiet or not
        (docs/PROTOCOL.md §11); Session.is_quiet(room) and Session.muted_until already say so."""

    def on_message_deleted(self, event: Dict[str, Any]) -> None: ...

    def on_room_event(self, event: Dict[str, Any]) -> None:
        """A room was made or closed, somebody joined or left one, or this user was invited
        (docs/PROTOCOL.md §12: the ops room, room_closed, joined, left, invited)."""

    def on_roles(self) -> None:
        """Session.is_known_admin() knows more teachers now (optional)."""

    def on_kicked(self, event: Dict[str, Any]) -> None:
        """A teacher removed this user ('by', 'reason', 'until': 0 or when the ban ends). The
        session has ended for good (its token is dead) and will not reconnect."""


class QuietListener:
    """A SessionListener that ignores everything: a session without an owner yet."""

    def on_state(self, state: str, detail: str) -> None:
        pass

    def on_welcome(self, reply: Dict[str, Any]) -> None:
        pass

    def on_message(self, event: Dict[str, Any]) -> None:
        pass

    def on_presence(self, event: Dict[str, Any]) -> None:
        pass

    def on_file_added(self, event: Dict[str, Any]) -> None:
        pass

    def on_file_removed(self, event: Dict[str, Any]) -> None:
        pass

    def on_files(self, files: List[Dict[str, Any]], more: bool) -> None:
        pass

    def on_logged_out(self, status: str) -> None:
        pass

    def on_moderation(self, event: Dict[str, Any]) -> None:
        pass

    def on_message_deleted(self, event: Dict[str, Any]) -> None:
        pass

    def on_room_event(self, event: Dict[str, Any]) -> None:
        pass

    def on_kicked(self, event: Dict[str, Any]) -> None:
        pass


def parse_address(text: str, default_port: int = 9999) -> Optional[Tuple[str, int]]:
    """'host', 'host:port' or '[v6]:port' -> (host, port); None when it cannot be one."""
    text = text.strip()
    if not text:
        return None
    host, port = text, default_port
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                return None
            port_text = rest[1:]
        else:
            port_text = ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif ":" in text:  # several colons: only a bare IPv6 address makes sense
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            return None
        port_text = ""
    else:
        port_text = ""
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return None
        port = int(port_text)
    return (host, port) if host else None


class Session:
    """Methods for callers: hello, send_code, register, login, logout (the auth service);
    say, history, users, delete_message, rooms, create_room, join_room, leave_room,
    invite, close_room (docs/PROTOCOL.md §12), and for teachers mute, unmute, kick, set_quiet,
    audit (chat); refresh_files, list_files, list_all_files, delete_file,
    open_file_connection (files); observe(observer) (the frame inspector); poll() often;
    close() at the end.
    Fields: state (as in SessionListener.on_state), refusal (a Refusal while the server
    refuses our connections, else None), username, user_id, role ('admin' or 'member'),
    is_admin, quiet (the lobby is quiet), is_quiet(room), muted_until (wall-clock seconds;
    0: not muted), admins (the casefolded names of the teachers seen so far), sms (the
    server's SMS mode, after hello), host, port."""

    def __init__(self, host: str, port: int, listener: Optional[SessionListener] = None,
                 clock: Callable[[], float] = time.monotonic,
                 connect: Callable[..., ClientConnection] = ClientConnection,
                 tls: Optional[TlsOptions] = None,
                 wall: Callable[[], float] = time.time) -> None:
        self.host, self.port = host, port
        self.tls = tls  # None: plain TCP; else every connection of this session uses TLS
        self.listener: SessionListener = listener if listener is not None else QuietListener()
        self.clock = clock
        self.connect = connect
        self.auth_conn: Optional[ClientConnection] = None
        self.chat: Optional[ClientConnection] = None
        self.files: Optional[ClientConnection] = None
        self.token: Optional[str] = None
        self.username: Optional[str] = None
        self.user_id: Optional[int] = None
        self.wall = wall  # the clock a mute's end is told in (the server's `until`)
        self._refreshing_files = False  # a first page of the file list is on its way
        self.role = "member"
        # The rooms known to be quiet (docs/PROTOCOL.md §11, §12): the auth reply's `quiet`
        # (the lobby) and `quiet_rooms`, those of `rooms` and `join`, the moderation events,
        # a refused say.
        self.quiet_rooms: Set[int] = set()
        self.muted_until = 0.0
        # Members are not told who the teachers are; they learn it from what teachers do
        # (the `by` of a moderation event), so a muted student's client knows whom it may
        # still write to.
        self.admins: Set[str] = set()
        # ... and who is not one: a private message the server refused while we were muted,
        # or while the room was quiet, went to a member.
        self.members: Set[str] = set()
        self.services: Dict[str, int] = {}
        self.sms = "console"
        # hello's limits (docs/PROTOCOL.md §3): max_file_size lets an upload too big for the
        # server be refused before it starts (issue 20, 6). Asked on the file connection.
        self.limits: Dict[str, Any] = {}
        self.state = "offline"
        # Why the last session ended, as its logged_out event said: {'reason':
        # 'password_reset', 'by': 'teacher'}, {'reason': 'password_changed'} or {}.
        self.ended_because: Dict[str, str] = {}
        self.refusal: Optional[Refusal] = None
        self._refused_wait_s = 0  # the refusal's retry_after
        # Bumped whenever the chat and file connections are replaced or dropped, so a late
        # reply to an old connection's auth changes nothing.
        self._generation = 0
        self._retry_at: Optional[float] = None
        self._backoff_s = RECONNECT_FIRST_S
        self._last_ping = clock()
        self._files_closed_at: Optional[float] = None  # see _awaiting_last_word()
        self.observer: Optional[FrameObserver] = None
        # Every connection opened here that is still alive, the transfers' too, so that an
        # observer set later sees them all.
        self._opened: weakref.WeakSet = weakref.WeakSet()
        # issue 20 (11): TLS hellos asking whether a silent server speaks only TLS, each with
        # the moment it gives up
        self._tls_probes: List[Tuple[ClientConnection, float]] = []
        self._authed_services: Set[str] = set()  # of the chat and file connections now

    # -- plumbing -------------------------------------------------------------------------

    def _emit(self, handler: Callable[..., None], *args: Any) -> None:
        try:
            handler(*args)
        except Exception:  # one broken handler must not lose the other events of this poll
            log.exception("%s handler failed", getattr(handler, "__name__", "listener"))

    def _set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        self._emit(self.listener.on_state, state, detail)

    def connections(self) -> List[ClientConnection]:
        return [c for c in (self.auth_conn, self.chat, self.files) if c is not None] + \
            [probe for probe, _ in self._tls_probes]

    def _open(self, port: int, service: str) -> ClientConnection:
        conn = self.connect(self.host, port, tls=self.tls)
        conn.service = service
        if self.observer is not None:
            conn.observer = self.observer
        self._opened.add(conn)
        return conn

    def observe(self, observer: Optional[FrameObserver]) -> None:
        """Show every frame in and out on every connection of this session, open now or
        later, to observer (the frame inspector); None: to nobody, which costs nothing."""
        self.observer = observer
        for conn in list(self._opened):
            conn.observer = observer

    def _auth(self) -> ClientConnection:
        if self.auth_conn is None or self.auth_conn.closed:
            self.auth_conn = self._open(self.port, "auth")
        return self.auth_conn

    def _auth_request(self, op: str, callback: Callback, **fields: Any) -> None:
        """An auth request. When a plain connection is closed before the server said a word
        (net/client.py `unanswered`), the reply waits for a TLS hello to the same port: if
        that is answered, the reply says `tls_required` (issue 20: the user is told the
        server is encrypted, not "connection reset by peer")."""
        def got(reply: Dict[str, Any]) -> None:
            if reply.get("unanswered") and self.tls is None:
                self._probe_tls(reply, callback)
            else:
                callback(reply)
        self._auth().request(op, got, **fields)

    def _probe_tls(self, reply: Dict[str, Any], callback: Callback) -> None:
        """Ask the auth port for hello over TLS, the certificate unchecked: only hello is
        sent, and the answer only picks the sentence the user reads."""
        from net.tls import client_context
        probe = self.connect(self.host, self.port, tls=TlsOptions(client_context()))
        self._tls_probes.append((probe, self.clock() + TLS_PROBE_S))

        def answered(probe_reply: Dict[str, Any]) -> None:
            if all(p is not probe for p, _ in self._tls_probes):
                return  # the session was closed: nobody waits, and "reset" would be wrong
            self._tls_probes = [(p, t) for p, t in self._tls_probes if p is not probe]
            if probe_reply.get("status") == "ok":
                callback(dict(reply, tls_required=True))
            else:
                callback(reply)
            probe.close()
        probe.request("hello", answered)

    # -- the auth service -----------------------------------------------------------------

    def hello(self, callback: Optional[Callback] = None) -> None:
        def got(reply: Dict[str, Any]) -> None:
            if reply.get("status") == "ok":
                self.sms = reply.get("sms", "console")
                self._learn_limits(reply)
            if callback:
                callback(reply)
        self._auth_request("hello", got)

    def send_code(self, phone: str, callback: Callback) -> None:
        self._auth_request("send_code", callback, phone=phone)

    def register(self, username: str, password: str, phone: str, code: str, email: str,
                 callback: Callback) -> None:
        self._auth_request("register", callback, username=username, password=password,
                           phone=phone, code=code, email=email)

    def login(self, login: str, password: str, callback: Callback) -> None:
        def got(reply: Dict[str, Any]) -> None:
            if reply.get("status") == "ok":
                self.token = reply["token"]
                self.username = reply["username"]
                self.user_id = reply["user_id"]
                self.role = reply.get("role", "member")
                self.quiet_rooms = set()
                self.muted_until = 0.0
                self.admins = {self.username.casefold()} if self.is_admin else set()
                self.members = set()
                self.services = reply.get("services", {})
                self._backoff_s = RECONNECT_FIRST_S
                self._open_service_connections()
            callback(reply)
        self._auth_request("login", got, login=login, password=password)

    def logout(self, callback: Optional[Callback] = None) -> None:
        """The token ends on the server; callback (if any) gets the reply."""
        if self.token:
            self._auth().request("logout", callback, token=self.token)
        elif callback is not None:
            callback({"status": "ok"})
        self._drop(offline_because="")

    def _drop(self, offline_because: str) -> None:
        """Close the chat and file connections for good: no reconnecting."""
        self.token = None
        self._close_service_connections()
        self._retry_at = None
        self.refusal = None
        self._set_state("offline", offline_because)

    def _ended(self, status: str, event: Optional[Dict[str, Any]] = None) -> None:
        """The token is no longer valid: 'logged_out' (a logout elsewhere) or 'unauthorized'
        (expired). Offline for good; the owner goes back to its login. event: the
        logged_out event, whose `reason` and `by` (docs/PROTOCOL.md §5: a password changed
        or reset by a teacher) the owner finds in ended_because."""
        if self.token is None:
            return  # both connections say so; the first one ends the session
        self.ended_because = {key: event[key] for key in ("reason", "by")
                              if isinstance((event or {}).get(key), str)}
        self._drop(offline_because="")
        self._emit(self.listener.on_logged_out, status)

    # -- chat and file connections --------------------------------------------------------

    def _open_service_connections(self) -> None:
        self._set_state("connecting", "")
        self.refusal = None
        self._authed_services = set()
        self._generation += 1
        generation = self._generation
        self.chat = self._open(self.services.get("chat", 9998), "chat")
        self.chat.request("auth", lambda reply: self._chat_authed(generation, reply),
                          token=self.token)
        self.files = self._open(self.services.get("file", 9988), "file")
        self.files.request("auth", lambda reply: self._files_authed(generation, reply),
                           token=self.token)
        self._last_ping = self.clock()

    def _close_service_connections(self) -> None:
        chat, files = self.chat, self.files
        self.chat = self.files = None
        self._generation += 1  # their pending auth callbacks now change nothing
        self._files_closed_at = None
        for conn in (chat, files):
            if conn is not None:
                conn.close()

    def open_file_connection(self, on_auth: Optional[Callback] = None) -> ClientConnection:
        """A fresh, authenticated file connection (one per transfer); on_auth gets the auth
        reply (a refusal: refusal_of(reply))."""
        conn = self._open(self.services.get("file", 9988), "file")
        conn.request("auth", on_auth, token=self.token)
        return conn

    def _chat_authed(self, generation: int, reply: Dict[str, Any]) -> None:
        if generation != self._generation:
            return
        status = reply.get("status")
        if status == "ok":
            self._settled("chat")
            self.role = reply.get("role", self.role)
            self.quiet_rooms = set()
            self.quiet = bool(reply.get("quiet"))
            self.learn_quiet(reply)
            self._set_state("online", "%s:%d" % (self.host, self.port))
            self._emit(self.listener.on_welcome, reply)
            if self.chat is not None:
                self.chat.request("members", lambda roles: self._learn_roles(generation, roles),
                                  limit=ROLES_LIMIT)
        elif status == "unauthorized":
            self._ended("unauthorized")
        else:
            self._refused(reply)
        # 'disconnected' is handled by poll(), which schedules a reconnect.

    def _learn_roles(self, generation: int, reply: Dict[str, Any]) -> None:
        if generation != self._generation or reply.get("status") != "ok":
            return
        for member in reply.get("members", []):
            name = member.get("user") if isinstance(member, dict) else None
            if isinstance(name, str):
                (self.admins if member.get("role") == ADMIN else self.members).add(
                    name.casefold())
        handler = getattr(self.listener, "on_roles", None)
        if handler is not None:
            self._emit(handler)

    def _files_authed(self, generation: int, reply: Dict[str, Any]) -> None:
        if generation != self._generation:
            return
        status = reply.get("status")
        if status == "ok":
            self._settled("file")
            self.refresh_files()
            if self.files is not None:
                self.files.request("hello", self._learn_limits)
        elif status == "unauthorized":
            self._ended("unauthorized")
        else:
            self._refused(reply)

    def _settled(self, service: str) -> None:
        """A service connection authenticated. The pause before a reconnect starts small
        again only once both have: a chat connection let in while the file connection keeps
        being refused (a full address, docs/PROTOCOL.md §10) must not undo the doubling."""
        self._authed_services.add(service)
        if self._authed_services >= {"chat", "file"}:
            self._backoff_s = RECONNECT_FIRST_S

    def _learn_limits(self, reply: Dict[str, Any]) -> None:
        limits = reply.get("limits")
        if reply.get("status") == "ok" and isinstance(limits, dict):
            self.limits = limits

    def _refused(self, reply: Dict[str, Any]) -> None:
        """A chat or file connection was refused (docs/PROTOCOL.md §10): the session needs
        both, so both go, and come back after a pause the server may name (retry_after)."""
        refusal = refusal_of(reply)
        if refusal is None:
            return
        self.refusal = refusal
        self._refused_wait_s = retry_after_s(reply) or 0
        self._lost(self.clock())

    def refresh_files(self) -> None:
        """Ask for the first page of the file list; it arrives at the listener's on_files.
        While one is on its way, asking again asks nothing: two first pages in flight would
        have the second one undo a "Load more" page that arrived between them."""
        if self._refreshing_files:
            return
        self._refreshing_files = True

        def got(reply: Dict[str, Any]) -> None:
            self._refreshing_files = False
            if reply.get("status") == "ok":
                self._emit(self.listener.on_files, reply["files"], bool(reply.get("more")))
        self.list_files(got, limit=FILES_PAGE)

    def list_files(self, callback: Callback, before: Optional[int] = None,
                   limit: Optional[int] = None) -> None:
        """Ask for a page of the file list (docs/PROTOCOL.md §6): the newest files, or those
        completed before the file `before`. The reply ('files', newest first, and 'more')
        goes to callback."""
        fields: Dict[str, Any] = {}
        if before is not None:
            fields["before"] = before
        if limit is not None:
            fields["limit"] = limit
        self._request(self.files, "list", callback, **fields)

    def list_all_files(self, callback: Callback, before: Optional[int] = None) -> None:
        """Every file (older than `before`, when given), a page after another, at most
        ALL_FILES_MAX_PAGES of them. callback gets {'status': 'ok', 'files': [...], 'more':
        bool} (more: the bound was reached and older files remain), or the first failed
        reply."""
        _AllFiles(self, callback).ask(before)

    def say(self, text: str, to: Optional[str], callback: Optional[Callback] = None,
            room: Optional[int] = None) -> bool:
        """To everyone in the lobby, to `to` only, or to the members of `room`
        (docs/PROTOCOL.md §12; None: the lobby)."""
        if self.chat is None or self.state != "online":
            return False
        fields: Dict[str, Any] = {"text": text}
        if to:
            fields["to"] = to
        elif room is not None and room != LOBBY:
            fields["room"] = room

        def said(reply: Dict[str, Any]) -> None:
            self.note_say_reply(to, reply, fields.get("room", LOBBY))
            if callback is not None:
                callback(reply)
        self.chat.request("say", said, **fields)
        return True

    def note_say_reply(self, to: Optional[str], reply: Dict[str, Any],
                       room: int = LOBBY) -> None:
        """A refused say tells what no event told us: a mute from before this login (its
        retry_after), a room gone quiet before we joined, and that `to` is no teacher. (A
        private message is refused while the lobby is quiet: docs/PROTOCOL.md §11.)"""
        status = reply.get("status")
        if status == "muted":
            self.muted_until = self.wall() + (retry_after_s(reply) or 1)
        elif status == "forbidden":
            self.quiet_rooms.add(LOBBY if to else room)
        if status in ("muted", "forbidden") and to:
            self.members.add(to.casefold())

    # -- the teacher's controls (docs/PROTOCOL.md §11) ------------------------------------

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def is_known_admin(self, name: str) -> bool:
        return name.casefold() in self.admins

    def is_known_member(self, name: str) -> bool:
        return name.casefold() in self.members and name.casefold() not in self.admins

    def muted_s(self) -> float:
        """Seconds this user stays muted, as far as we know (0: may speak)."""
        return max(0.0, self.muted_until - self.wall())

    def mute(self, user: str, minutes: int, callback: Callback) -> None:
        self._request(self.chat, "mute", callback, user=user, minutes=minutes)

    def unmute(self, user: str, callback: Callback) -> None:
        self._request(self.chat, "unmute", callback, user=user)

    def kick(self, user: str, minutes: int, reason: str, callback: Callback) -> None:
        fields: Dict[str, Any] = {"user": user, "minutes": minutes}
        if reason:
            fields["reason"] = reason
        self._request(self.chat, "kick", callback, **fields)

    def set_quiet(self, on: bool, callback: Callback, room: int = LOBBY) -> None:
        """Only teachers (and, in a room of theirs, its owner) may speak in `room` while it
        is quiet (docs/PROTOCOL.md §11, §12)."""
        self._request(self.chat, "quiet", callback, on=on, room=room)

    @property
    def quiet(self) -> bool:
        """The lobby is quiet."""
        return LOBBY in self.quiet_rooms

    @quiet.setter
    def quiet(self, on: bool) -> None:
        self.mark_quiet(LOBBY, on)

    def is_quiet(self, room: Optional[int]) -> bool:
        return (LOBBY if room is None else room) in self.quiet_rooms

    def mark_quiet(self, room: int, on: bool) -> None:
        if on:
            self.quiet_rooms.add(room)
        else:
            self.quiet_rooms.discard(room)

    def learn_quiet(self, reply: Dict[str, Any]) -> None:
        """Which rooms are quiet, from a reply: the auth and `rooms` replies name them
        (`quiet_rooms`, beside their room records), the `join` reply says so of its room
        (`quiet`): docs/PROTOCOL.md §12. A server that does not say changes nothing."""
        quiet_ids = reply.get("quiet_rooms")
        if isinstance(quiet_ids, list):
            for record in reply.get("rooms", []):
                if isinstance(record, dict) and isinstance(record.get("room"), int):
                    self.mark_quiet(record["room"], record["room"] in quiet_ids)
        record = reply.get("room")
        if isinstance(reply.get("quiet"), bool) and isinstance(record, dict) and \
                isinstance(record.get("room"), int):
            self.mark_quiet(record["room"], reply["quiet"])

    def is_room_owner(self, record: Any) -> bool:
        return isinstance(record, dict) and self.username is not None and \
            isinstance(record.get("owner"), str) and \
            record["owner"].casefold() == self.username.casefold()

    def audit(self, callback: Callback, before: Optional[int] = None, limit: int = 50) -> None:
        """A page of the moderation log, newest first (reply 'entries')."""
        fields: Dict[str, Any] = {"limit": limit}
        if before is not None:
            fields["before"] = before
        self._request(self.chat, "audit", callback, **fields)

    def delete_message(self, msg_id: int, callback: Callback) -> None:
        self._request(self.chat, "delete_message", callback, msg_id=msg_id)

    def _moderated(self, event: Dict[str, Any]) -> None:
        """What a moderation event changes here, before the listener hears of it."""
        by = event.get("by")
        if isinstance(by, str):
            self.admins.add(by.casefold())
        action = event.get("action")
        if action in ("mute", "kick") and isinstance(event.get("user"), str):
            self.members.add(event["user"].casefold())  # teachers cannot be muted or kicked
        user = event.get("user")
        mine = isinstance(user, str) and self.username is not None and \
            user.casefold() == self.username.casefold()
        if action == "mute" and mine:
            until = event.get("until")
            self.muted_until = float(until) if isinstance(until, (int, float)) else 0.0
        elif action == "unmute" and mine:
            self.muted_until = 0.0
        elif action == "quiet":
            room = event.get("room")
            self.mark_quiet(room if isinstance(room, int) else LOBBY, bool(event.get("on")))

    def _kicked(self, event: Dict[str, Any]) -> None:
        """A teacher removed us: the token is dead, so no reconnecting."""
        if self.token is None:
            return
        by = event.get("by")
        if isinstance(by, str):
            self.admins.add(by.casefold())
        self._drop(offline_because="")
        handler = getattr(self.listener, "on_kicked", None)
        if handler is not None:
            self._emit(handler, event)

    # -- rooms (docs/PROTOCOL.md §12) -----------------------------------------------------

    def rooms(self, callback: Callback) -> None:
        """The public rooms, ours, and those we are invited to (reply 'rooms')."""
        def listed(reply: Dict[str, Any]) -> None:
            self.learn_quiet(reply)
            callback(reply)
        self._request(self.chat, "rooms", listed)

    def create_room(self, name: str, topic: str, private: bool, callback: Callback) -> None:
        fields: Dict[str, Any] = {"name": name, "private": private}
        if topic:
            fields["topic"] = topic
        self._request(self.chat, "create_room", callback, **fields)

    def join_room(self, room: int, callback: Callback) -> None:
        def joined(reply: Dict[str, Any]) -> None:
            self.learn_quiet(reply)
            callback(reply)
        self._request(self.chat, "join", joined, room=room)

    def leave_room(self, room: int, callback: Callback) -> None:
        self._request(self.chat, "leave", callback, room=room)

    def invite(self, room: int, user: str, callback: Callback) -> None:
        self._request(self.chat, "invite", callback, room=room, user=user)

    def close_room(self, room: int, callback: Callback) -> None:
        self._request(self.chat, "close_room", callback, room=room)

    def users(self, callback: Callback) -> None:
        """Who is online: the reply (with 'online') goes to callback."""
        self._request(self.chat, "users", callback)

    # -- directory, search, unread, passwords (docs/PROTOCOL.md §5) -----------------------

    def member_directory(self, query: str, limit: int, callback: Callback) -> None:
        """The member directory (reply 'members', online first, and 'more')."""
        self._request(self.chat, "members", callback, query=query, limit=limit)

    def search(self, text: str, callback: Callback, before: Optional[int] = None,
               limit: int = 50) -> None:
        """Messages containing text, newest first (reply 'messages' and 'more')."""
        fields: Dict[str, Any] = {"text": text, "limit": limit}
        if before is not None:
            fields["before"] = before
        self._request(self.chat, "search", callback, **fields)

    def conversations(self, callback: Callback) -> None:
        """Our private conversations and rooms with unread counts (replies 'private',
        'rooms')."""
        self._request(self.chat, "conversations", callback)

    def mark_read(self, msg_id: int, with_user: Optional[str], room: Optional[int],
                  callback: Optional[Callback] = None) -> None:
        """We have read a conversation (with_user's, or room's) up to msg_id."""
        fields: Dict[str, Any] = {"msg_id": msg_id}
        if with_user:
            fields["with"] = with_user
        else:
            fields["room"] = LOBBY if room is None else room
        self._request(self.chat, "mark_read", callback or (lambda reply: None), **fields)

    def change_password(self, old: str, new: str, callback: Callback) -> None:
        self._request(self.chat, "change_password", callback, old_password=old,
                      new_password=new)

    def reset_password(self, user: str, new: str, callback: Callback) -> None:
        """A teacher sets a student's password; the student's sessions end."""
        self._request(self.chat, "reset_password", callback, user=user, new_password=new)

    @staticmethod
    def _request(conn: Optional[ClientConnection], op: str, callback: Callback,
                 **fields: Any) -> None:
        """A request whose caller waits for the reply: without a connection, the reply is
        'disconnected' at once rather than never."""
        if conn is None or conn.closed:
            callback({"op": op, "status": "disconnected", "message": "not connected"})
        else:
            conn.request(op, callback, **fields)

    def history(self, before: Optional[int], with_user: Optional[str], callback: Callback,
                limit: int = 50, room: Optional[int] = None, lobby_only: bool = False) -> None:
        """Messages older than `before`: the lobby's and ours, the conversation with
        `with_user`, or one room's (docs/PROTOCOL.md §12); lobby_only: the lobby's without
        our private ones (the lobby asked for as a room)."""
        if self.chat is None:
            return
        fields: Dict[str, Any] = {"limit": limit}
        if before is not None:
            fields["before"] = before
        if with_user:
            fields["with"] = with_user
        elif room is not None and room != LOBBY:
            fields["room"] = room
        elif lobby_only:
            fields["room"] = LOBBY
        self.chat.request("history", callback, **fields)

    def delete_file(self, file_id: int, callback: Callback) -> None:
        if self.files is not None:
            self.files.request("delete", callback, file_id=file_id)

    # -- the pump -------------------------------------------------------------------------

    def poll(self) -> None:
        """Move bytes, dispatch events, keep alive, reconnect. Never waits."""
        for conn in self.connections():
            for item in conn.poll(POLL_READ_BYTES):
                if conn is not self.chat and conn is not self.files and \
                        conn is not self.auth_conn:
                    break  # dropped by an event before this one (kicked): the rest is moot
                if isinstance(item, dict):
                    self._event(item)
        now = self.clock()
        for probe, give_up_at in list(self._tls_probes):
            if now >= give_up_at or probe.closed:
                probe.close()  # its hello is answered "disconnected": the first reply stands
        if self.token and any(conn is not None and conn.closed
                              for conn in (self.chat, self.files)) and \
                not self._awaiting_last_word(now):
            self._lost(now)
        if self._retry_at is not None:
            if now >= self._retry_at:
                self._retry_at = None
                self._open_service_connections()
            else:
                self._set_state("reconnecting", str(int(self._retry_at - now + 0.999)))
        if self.state == "online" and now - self._last_ping > PING_INTERVAL_S:
            self._last_ping = now
            for conn in (self.chat, self.files):
                if conn is not None:
                    conn.request("ping")

    def _awaiting_last_word(self, now: float) -> bool:
        """The server says why it ends a session on the chat connection (a teacher's
        `kicked`, docs/PROTOCOL.md §11) and closes the file connection at the same moment,
        whose end may arrive first. Reconnecting then would only meet a dead token, so a
        file connection that closed while the chat is open waits a moment for its word."""
        if self.chat is None or self.chat.closed or self.files is None or \
                not self.files.closed:
            return False
        if self._files_closed_at is None:
            self._files_closed_at = now
        return now - self._files_closed_at < LAST_WORD_WAIT_S

    def _lost(self, now: float) -> None:
        """The chat or the file connection is gone: drop both, try again after a pause that
        doubles with every failure, and is longer when the server refused us."""
        self._close_service_connections()
        delay_s = self._backoff_s
        if self.refusal is not None:
            delay_s = max(delay_s, REFUSED_RETRY_S, self._refused_wait_s)
        self._retry_at = now + delay_s
        self._backoff_s = min(RECONNECT_MAX_S, delay_s * 2)
        self._set_state("reconnecting", str(int(delay_s + 0.999)))

    def _event(self, event: Dict[str, Any]) -> None:
        op = event.get("op")
        if op == "logged_out":
            self._ended("logged_out", event)
            return
        if op == "kicked":
            self._kicked(event)
            return
        if op == "moderation":
            self._moderated(event)
        elif op == "room_closed" and isinstance(event.get("room"), int):
            self.mark_quiet(event["room"], False)
        handler = getattr(self.listener, EVENT_HANDLERS.get(op, ""), None)
        if handler is not None:
            self._emit(handler, event)

    def close(self) -> None:
        self._close_service_connections()
        if self.auth_conn is not None:
            self.auth_conn.close()
        self.auth_conn = None
        probes, self._tls_probes = self._tls_probes, []
        for probe, _ in probes:
            probe.close()


class _AllFiles:
    """Session.list_all_files: asks for one page after another. An object rather than a
    closure that calls itself, which would be a reference cycle (the GUI frees everything
    by reference counting: ui/tk/app.py)."""

    def __init__(self, session: Session, callback: Callback) -> None:
        self.session = session
        self.callback = callback
        self.files: List[Dict[str, Any]] = []
        self.pages = 0

    def ask(self, before: Optional[int]) -> None:
        self.session.list_files(self.got, before=before, limit=LIST_LIMIT_MAX)

    def got(self, reply: Dict[str, Any]) -> None:
        if reply.get("status") != "ok":
            self.callback(reply)
            return
        self.files.extend(reply["files"])
        self.pages += 1
        more = bool(reply.get("more")) and bool(reply["files"])
        if more and self.pages < ALL_FILES_MAX_PAGES:
            self.ask(self.files[-1]["file_id"])
        else:
            self.callback({"op": "list", "status": "ok", "files": self.files, "more": more})
