"""What every presenter shares: the Shell (the application the presenters live in) and the
wording of a failed reply."""
from __future__ import annotations

from typing import Any, Dict, Protocol, Tuple

from ui.i18n import Catalog
from ui.session import Session, refusal_of, retry_after_s
from ui.settings import ClientSettings


class Shell(Protocol):
    """What the presenters ask of the application around them: ui/tk/app.App, or a fake in
    the tests. It owns the presenters, the windows and the Session."""

    tr: Catalog
    settings: ClientSettings

    def connect(self, address: Tuple[str, int]) -> Session:
        """The Session for this server: the current one, or a new one."""

    def remember(self, **changes: Any) -> None:
        """Change some settings and save them."""

    def open_register(self) -> None:
        """Show the register window (or raise it when it is open)."""

    def close_register(self) -> None:
        """The user left the register window without registering."""

    def registered(self, username: str) -> None:
        """An account was created: close the register window, back to the login form."""

    def open_chat(self) -> None:
        """Logged in: replace the login window with the chat window."""


def status_text(tr: Catalog, reply: Dict[str, Any]) -> str:
    """What to tell the user about a reply that is not ok: a refused connection and a
    rate limit (with the server's retry_after) each in a sentence of their own."""
    refusal = refusal_of(reply)
    if refusal is not None:
        return tr(refusal.value)
    status = reply.get("status", "")
    if status == "disconnected":
        return tr("error.generic", why=reply.get("message", status))
    if status == "rate_limited":
        wait_s = retry_after_s(reply)
        return tr("error.rate_limited", n=wait_s) if wait_s else tr("error.rate_limited_later")
    return tr.error(status)
