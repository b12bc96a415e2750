"""The client's session: auth connection, login, then the chat and file connections, with
reconnection. Tk-free and thread-free; whoever owns it calls ``poll()`` often (the GUI from
``after()``, the terminal client from its select loop). What happens goes to a
SessionListener (below).

It also knows how the server's limits (docs/PROTOCOL.md §10) look from here: a refused
connection (``Refusal``, retried no sooner than the server asks and never in a tight loop),
``retry_after``, a token logged out elsewhere (``logged_out``), and the paged file list (§6).
"""
from __future__ import annotations

import enum
import ipaddress
import logging
import math
import time
from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple

from net.client import ClientConnection, TlsOptions

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
        this token out, from another window say) or 'unauthorized' (the token expired)."""


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
    say, history, users (chat); refresh_files, list_files, list_all_files, delete_file,
    open_file_connection (files); poll() often; close() at the end.
    Fields: state (as in SessionListener.on_state), refusal (a Refusal while the server
    refuses our connections, else None), username, user_id, sms (the server's SMS mode,
    after hello), host, port."""

    def __init__(self, host: str, port: int, listener: Optional[SessionListener] = None,
                 clock: Callable[[], float] = time.monotonic,
                 connect: Callable[..., ClientConnection] = ClientConnection,
                 tls: Optional[TlsOptions] = None) -> None:
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
        self.services: Dict[str, int] = {}
        self.sms = "console"
        self.state = "offline"
        self.refusal: Optional[Refusal] = None
        self._refused_wait_s = 0  # the refusal's retry_after
        # Bumped whenever the chat and file connections are replaced or dropped, so a late
        # reply to an old connection's auth changes nothing.
        self._generation = 0
        self._retry_at: Optional[float] = None
        self._backoff_s = RECONNECT_FIRST_S
        self._last_ping = clock()

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
        return [c for c in (self.auth_conn, self.chat, self.files) if c is not None]

    def _auth(self) -> ClientConnection:
        if self.auth_conn is None or self.auth_conn.closed:
            self.auth_conn = self.connect(self.host, self.port, tls=self.tls)
        return self.auth_conn

    # -- the auth service -----------------------------------------------------------------

    def hello(self, callback: Optional[Callback] = None) -> None:
        def got(reply: Dict[str, Any]) -> None:
            if reply.get("status") == "ok":
                self.sms = reply.get("sms", "console")
            if callback:
                callback(reply)
        self._auth().request("hello", got)

    def send_code(self, phone: str, callback: Callback) -> None:
        self._auth().request("send_code", callback, phone=phone)

    def register(self, username: str, password: str, phone: str, code: str, email: str,
                 callback: Callback) -> None:
        self._auth().request("register", callback, username=username, password=password,
                             phone=phone, code=code, email=email)

    def login(self, login: str, password: str, callback: Callback) -> None:
        def got(reply: Dict[str, Any]) -> None:
            if reply.get("status") == "ok":
                self.token = reply["token"]
                self.username = reply["username"]
                self.user_id = reply["user_id"]
                self.services = reply.get("services", {})
                self._backoff_s = RECONNECT_FIRST_S
                self._open_service_connections()
            callback(reply)
        self._auth().request("login", got, login=login, password=password)

    def logout(self) -> None:
        if self.token:
            self._auth().request("logout", None, token=self.token)
        self._drop(offline_because="")

    def _drop(self, offline_because: str) -> None:
        """Close the chat and file connections for good: no reconnecting."""
        self.token = None
        self._close_service_connections()
        self._retry_at = None
        self.refusal = None
        self._set_state("offline", offline_because)

    def _ended(self, status: str) -> None:
        """The token is no longer valid: 'logged_out' (a logout elsewhere) or 'unauthorized'
        (expired). Offline for good; the owner goes back to its login."""
        if self.token is None:
            return  # both connections say so; the first one ends the session
        self._drop(offline_because="")
        self._emit(self.listener.on_logged_out, status)

    # -- chat and file connections --------------------------------------------------------

    def _open_service_connections(self) -> None:
        self._set_state("connecting", "")
        self.refusal = None
        self._generation += 1
        generation = self._generation
        self.chat = self.connect(self.host, self.services.get("chat", 9998), tls=self.tls)
        self.chat.request("auth", lambda reply: self._chat_authed(generation, reply),
                          token=self.token)
        self.files = self.connect(self.host, self.services.get("file", 9988), tls=self.tls)
        self.files.request("auth", lambda reply: self._files_authed(generation, reply),
                           token=self.token)
        self._last_ping = self.clock()

    def _close_service_connections(self) -> None:
        chat, files = self.chat, self.files
        self.chat = self.files = None
        self._generation += 1  # their pending auth callbacks now change nothing
        for conn in (chat, files):
            if conn is not None:
                conn.close()

    def open_file_connection(self, on_auth: Optional[Callback] = None) -> ClientConnection:
        """A fresh, authenticated file connection (one per transfer); on_auth gets the auth
        reply (a refusal: refusal_of(reply))."""
        conn = self.connect(self.host, self.services.get("file", 9988), tls=self.tls)
        conn.request("auth", on_auth, token=self.token)
        return conn

    def _chat_authed(self, generation: int, reply: Dict[str, Any]) -> None:
        if generation != self._generation:
            return
        status = reply.get("status")
        if status == "ok":
            self._backoff_s = RECONNECT_FIRST_S
            self._set_state("online", "%s:%d" % (self.host, self.port))
            self._emit(self.listener.on_welcome, reply)
        elif status == "unauthorized":
            self._ended("unauthorized")
        else:
            self._refused(reply)
        # 'disconnected' is handled by poll(), which schedules a reconnect.

    def _files_authed(self, generation: int, reply: Dict[str, Any]) -> None:
        if generation != self._generation:
            return
        status = reply.get("status")
        if status == "ok":
            self.refresh_files()
        elif status == "unauthorized":
            self._ended("unauthorized")
        else:
            self._refused(reply)

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
        """Ask for the first page of the file list; it arrives at the listener's on_files."""
        def got(reply: Dict[str, Any]) -> None:
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

    def say(self, text: str, to: Optional[str], callback: Optional[Callback] = None) -> bool:
        if self.chat is None or self.state != "online":
            return False
        fields: Dict[str, Any] = {"text": text}
        if to:
            fields["to"] = to
        self.chat.request("say", callback, **fields)
        return True

    def users(self, callback: Callback) -> None:
        """Who is online: the reply (with 'online') goes to callback."""
        self._request(self.chat, "users", callback)

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
                limit: int = 50) -> None:
        if self.chat is None:
            return
        fields: Dict[str, Any] = {"limit": limit}
        if before is not None:
            fields["before"] = before
        if with_user:
            fields["with"] = with_user
        self.chat.request("history", callback, **fields)

    def delete_file(self, file_id: int, callback: Callback) -> None:
        if self.files is not None:
            self.files.request("delete", callback, file_id=file_id)

    # -- the pump -------------------------------------------------------------------------

    def poll(self) -> None:
        """Move bytes, dispatch events, keep alive, reconnect. Never waits."""
        for conn in self.connections():
            for item in conn.poll(POLL_READ_BYTES):
                if isinstance(item, dict):
                    self._event(item)
        now = self.clock()
        if self.token and any(conn is not None and conn.closed
                              for conn in (self.chat, self.files)):
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
            self._ended("logged_out")
            return
        handler = {"message": self.listener.on_message,
                   "presence": self.listener.on_presence,
                   "file_added": self.listener.on_file_added,
                   "file_removed": self.listener.on_file_removed}.get(op)
        if handler is not None:
            self._emit(handler, event)

    def close(self) -> None:
        self._close_service_connections()
        if self.auth_conn is not None:
            self.auth_conn.close()
        self.auth_conn = None


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
