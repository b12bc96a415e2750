"""The login form: check the fields, connect, log in, then hand over to the chat window."""
from __future__ import annotations

from typing import Any, Dict, Optional, Protocol, Tuple

from ui.presenters.common import Shell, status_text
from ui.session import parse_address


class LoginView(Protocol):
    def fields(self) -> Tuple[str, str, str]:
        """(server, login, password) as typed."""

    def prefill(self, login: str) -> None:
        """Put login in its field and the cursor in the password field."""

    def set_busy(self, busy: bool) -> None: ...

    def show_error(self, text: str) -> None: ...

    def show_info(self, text: str) -> None: ...


class LoginPresenter:
    def __init__(self, app: Shell, view: Optional[LoginView] = None) -> None:
        self.app = app
        self.view = view
        self.tr = app.tr

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
                view.show_error(status_text(self.tr, reply))
        session.login(login.strip(), password, done)

    def open_register(self) -> None:
        server = self.view.fields()[0]
        address = parse_address(server)
        if address is None:
            self.view.show_error(self.tr("login.bad_server"))
            return
        self.app.connect(address)
        self.app.open_register()

    def ended(self, status: str) -> None:
        """Back from a session that ended on its own: 'logged_out' (a logout elsewhere) or
        'unauthorized' (the login expired)."""
        self.view.show_error(self.tr("login.logged_out" if status == "logged_out"
                                     else "login.expired"))

    def registered(self, username: str) -> None:
        """Back from a successful registration: the new name is ready to log in with."""
        self.view.prefill(username)
        self.view.show_info(self.tr("register.done"))
