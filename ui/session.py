"""The client's session: auth connection, login, then the chat and file connections, with
reconnection. Tk-free and thread-free; whoever owns it calls ``poll()`` often (the GUI from
``after()``, the terminal client from its select loop). What happens goes to a
SessionListener (below).
"""
from __future__ import annotations

import ipaddress
import logging
import time
from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple

from net.client import ClientConnection, TlsOptions

log = logging.getLogger(__name__)

Callback = Callable[[Dict[str, Any]], None]

# Reconnect after a lost chat connection: 1 s, then doubling up to 30 s.
RECONNECT_FIRST_S = 1.0
RECONNECT_MAX_S = 30.0
# Bytes of events one poll() takes in: about 150 chat messages, which a Tk text widget draws
# in a few milliseconds. A burst beyond that is spread over the next ticks.
POLL_READ_BYTES = 32 * 1024
# Keepalive on the chat connection, well inside the server's default 300 s idle limit.
PING_INTERVAL_S = 60.0


class SessionListener(Protocol):
    """What a Session tells its owner (the GUI's App, the terminal client). Runs inside
    ``Session.poll()`` and the session's own calls, on the owner's thread."""

    def on_state(self, state: str, detail: str) -> None:
        """'offline' (detail: why) | 'connecting' | 'online' (detail: host:port) |
        'reconnecting' (detail: seconds until the next try)."""

    def on_welcome(self, reply: Dict[str, Any]) -> None:
        """The chat connection is authenticated: reply has 'online' and 'history'."""

    def on_message(self, event: Dict[str, Any]) -> None: ...

    def on_presence(self, event: Dict[str, Any]) -> None: ...

    def on_file_added(self, event: Dict[str, Any]) -> None: ...

    def on_file_removed(self, event: Dict[str, Any]) -> None: ...

    def on_files(self, files: List[Dict[str, Any]]) -> None:
        """The list of shared files arrived (after login and after refresh_files())."""


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

    def on_files(self, files: List[Dict[str, Any]]) -> None:
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
    say, history, users (chat); refresh_files, list_files, delete_file,
    open_file_connection (files); poll() often; close() at the end.
    Fields: state (as in SessionListener.on_state), username, user_id, sms (the server's
    SMS mode, after hello), host, port."""

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
                self._open_service_connections()
            callback(reply)
        self._auth().request("login", got, login=login, password=password)

    def logout(self) -> None:
        if self.token:
            self._auth().request("logout", None, token=self.token)
        self.token = None
        for conn in (self.chat, self.files):
            if conn is not None:
                conn.close()
        self.chat = self.files = None
        self._retry_at = None
        self._set_state("offline", "")

    # -- chat and file connections --------------------------------------------------------

    def _open_service_connections(self) -> None:
        self._set_state("connecting", "")
        self.chat = self.connect(self.host, self.services.get("chat", 9998), tls=self.tls)
        self.chat.request("auth", self._chat_authed, token=self.token)
        self.files = self.connect(self.host, self.services.get("file", 9988), tls=self.tls)
        self.files.request("auth", self._files_authed, token=self.token)
        self._last_ping = self.clock()

    def open_file_connection(self) -> ClientConnection:
        """A fresh, authenticated file connection (one per transfer)."""
        conn = self.connect(self.host, self.services.get("file", 9988), tls=self.tls)
        conn.request("auth", None, token=self.token)
        return conn

    def _chat_authed(self, reply: Dict[str, Any]) -> None:
        if reply.get("status") == "ok":
            self._backoff_s = RECONNECT_FIRST_S
            self._set_state("online", "%s:%d" % (self.host, self.port))
            self._emit(self.listener.on_welcome, reply)
        elif reply.get("status") == "unauthorized":
            self.token = None
            self._set_state("offline", reply.get("message", "unauthorized"))
        # 'disconnected' is handled by poll(), which schedules a reconnect.

    def _files_authed(self, reply: Dict[str, Any]) -> None:
        if reply.get("status") == "ok":
            self.refresh_files()

    def refresh_files(self) -> None:
        """Ask for the file list; it arrives at the listener's on_files."""
        def got(reply: Dict[str, Any]) -> None:
            if reply.get("status") == "ok":
                self._emit(self.listener.on_files, reply["files"])
        self.list_files(got)

    def list_files(self, callback: Callback) -> None:
        """Ask for the file list; the reply (with 'files') goes to callback."""
        self._request(self.files, "list", callback)

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
    def _request(conn: Optional[ClientConnection], op: str, callback: Callback) -> None:
        """A request whose caller waits for the reply: without a connection, the reply is
        'disconnected' at once rather than never."""
        if conn is None or conn.closed:
            callback({"op": op, "status": "disconnected", "message": "not connected"})
        else:
            conn.request(op, callback)

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
        if self.token and self.chat is not None and self.chat.closed:
            self._lost(self.chat.error or "connection lost", now)
        if self._retry_at is not None:
            if now >= self._retry_at:
                self._retry_at = None
                self._open_service_connections()
            else:
                self._set_state("reconnecting", str(int(self._retry_at - now + 0.999)))
        if (self.state == "online" and self.chat is not None
                and now - self._last_ping > PING_INTERVAL_S):
            self._last_ping = now
            self.chat.request("ping")

    def _lost(self, why: str, now: float) -> None:
        self.chat = None
        if self.files is not None:
            self.files.close()
            self.files = None
        self._retry_at = now + self._backoff_s
        self._backoff_s = min(RECONNECT_MAX_S, self._backoff_s * 2)
        self._set_state("reconnecting", str(int(self._retry_at - now + 0.999)))

    def _event(self, event: Dict[str, Any]) -> None:
        handler = {"message": self.listener.on_message,
                   "presence": self.listener.on_presence,
                   "file_added": self.listener.on_file_added,
                   "file_removed": self.listener.on_file_removed}.get(event.get("op"))
        if handler is not None:
            self._emit(handler, event)

    def close(self) -> None:
        for conn in self.connections():
            conn.close()
        self.auth_conn = self.chat = self.files = None
