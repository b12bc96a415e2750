"""The login form: check the fields, connect, log in, then hand over to the chat window; and
"Find servers", which lists the servers that answer LAN discovery (docs/PROTOCOL.md §14)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Protocol, Tuple

from net.discovery import Found
from ui.i18n import Catalog
from ui.presenters.common import Search, Shell, status_text
from ui.presenters.moderation import kicked_text
from ui.session import parse_address

# One row of the list of servers found: (name, host:port, users online, speaks TLS).
ServerRow = Tuple[str, str, str, bool]


class LoginView(Protocol):
    def fields(self) -> Tuple[str, str, str]:
        """(server, login, password) as typed."""

    def prefill(self, login: str) -> None:
        """Put login in its field, empty the password field and put the cursor there."""

    def tls_ticked(self) -> bool:
        """Whether "Encrypted (TLS)" is ticked."""

    def set_tls(self, ticked: bool) -> None:
        """Tick "Encrypted (TLS)", or untick it."""

    def set_busy(self, busy: bool) -> None: ...

    def show_error(self, text: str) -> None: ...

    def show_info(self, text: str) -> None: ...

    def set_server(self, text: str) -> None:
        """Put text in the server field."""

    def set_searching(self, searching: bool) -> None:
        """A round of discovery is under way (True) or over (False)."""

    def show_servers(self, rows: List[ServerRow]) -> None:
        """The servers found so far, in this order; [] empties the list."""


def ended_text(tr: Catalog, status: str, because: Optional[Dict[str, str]] = None) -> str:
    """Why a session ended on its own, for the login window and the terminal client:
    a password reset by a teacher (who, and to ask them for the new one), changed on
    another device, a logout elsewhere, or an expired login (docs/PROTOCOL.md §5)."""
    because = because or {}
    if status == "logged_out" and because.get("reason") == "password_reset":
        return tr("login.password_reset", by=because.get("by") or "?")
    if status == "logged_out" and because.get("reason") == "password_changed":
        return tr("login.password_changed")
    return tr("login.logged_out" if status == "logged_out" else "login.expired")


class LoginPresenter:
    def __init__(self, app: Shell, view: Optional[LoginView] = None) -> None:
        self.app = app
        self.view = view
        self.tr = app.tr
        self.search: Optional[Search] = None  # the round of discovery under way
        self.found: List[Found] = []          # the servers it found, as listed

    def attach(self, view: LoginView) -> None:
        self.view = view

    def submit(self) -> None:
        view = self.view
        server, login, password = view.fields()
        address = parse_address(server)
        if address is None:
            view.show_error(self.tr("login.bad_server"))
            return
        if not login.strip() or not password:
            view.show_error(self.tr("login.empty"))
            return
        self._remember_tls()
        session = self.app.connect(address)
        view.set_busy(True)
        view.show_info(self.tr("login.connecting", server="%s:%d" % address))

        def done(reply: Dict[str, Any]) -> None:
            view.set_busy(False)
            if reply.get("status") == "ok":
                view.show_info("")
                self.app.remember(server=server, last_login=login.strip())
                self.app.open_chat()
            else:
                # a plain connection to a TLS-only server: "tick Encrypted (TLS)"
                view.show_error(status_text(self.tr, reply))
        session.login(login.strip(), password, done)

    def _remember_tls(self) -> None:
        """The session to come speaks TLS when the box is ticked (App.connect reads it)."""
        ticked = bool(self.view.tls_ticked())
        if ticked != bool(self.app.settings.tls):
            self.app.remember(tls=ticked)

    def open_register(self) -> None:
        server = self.view.fields()[0]
        address = parse_address(server)
        if address is None:
            self.view.show_error(self.tr("login.bad_server"))
            return
        self._remember_tls()
        self.view.show_info("")  # an error of before (a search that found nothing) is stale
        self.app.connect(address)
        self.app.open_register()

    def ended(self, status: str, because: Optional[Dict[str, str]] = None) -> None:
        """Back from a session that ended on its own: 'logged_out' (a logout elsewhere, or
        a password changed or reset: `because`, Session.ended_because) or 'unauthorized'
        (the login expired)."""
        self.view.show_error(ended_text(self.tr, status, because))

    def kicked(self, event: Dict[str, Any]) -> None:
        """Back from a session a teacher ended (docs/PROTOCOL.md §11): who, why, until when."""
        self.view.show_error(kicked_text(self.tr, event))

    def registered(self, username: str) -> None:
        """Back from a successful registration: the new name is ready to log in with."""
        self.view.prefill(username)
        self.view.show_info(self.tr("register.done"))

    # -- Find servers -----------------------------------------------------------------------

    def find_servers(self) -> None:
        """Probe the LAN; the answers come in through poll(). Ignored while a round runs."""
        if self.search is not None:
            return
        try:
            self.search = self.app.discover()
        except OSError as exc:
            self.view.show_error(self.tr("discover.failed", why=exc))
            return
        self.found = []
        self.view.show_servers([])
        self.view.set_searching(True)
        self.view.show_info(self.tr("discover.searching"))
        self.poll()  # a round whose every probe was refused is over already

    def poll(self) -> None:
        """Called by the application's tick: show the servers that answered, and say how the
        round ended when it has."""
        search = self.search
        if search is None:
            return
        if search.poll():
            self.found = search.found
            self.view.show_servers([(f.label, f.server, str(f.users_online), f.tls)
                                    for f in self.found])
        if not search.done:
            return
        self.search = None
        self.view.set_searching(False)
        if self.found:
            self.view.show_info(self.tr("discover.found", n=len(self.found)))
        elif not search.sent and search.errors:
            self.view.show_error(self.tr("discover.failed", why=search.errors[0]))
        else:
            self.view.show_error(self.tr("discover.none"))

    def pick(self, index: int) -> None:
        """A server in the list was chosen: its address goes into the server field. Its
        announced fingerprint is not trusted here: the trust dialog shows it and asks."""
        if not 0 <= index < len(self.found):
            return
        found = self.found[index]
        self.view.set_server(found.server)
        if found.tls:
            self.view.set_tls(True)
        self.view.show_info(self.tr("discover.picked_tls", name=found.label)
                            if found.tls else "")

    def discovered(self, address: Tuple[str, int]) -> Optional[Found]:
        """What discovery said about the server at address; None when it did not find it."""
        for found in self.found:
            if (found.host, found.auth_port) == address:
                return found
        return None

    def close(self) -> None:
        """The login window goes away: stop a round of discovery under way."""
        if self.search is not None:
            self.search.close()
            self.search = None
