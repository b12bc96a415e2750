"""What every presenter shares: the Shell (the application the presenters live in), the
wording of a failed reply, and the words of the trust-on-first-use question."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Protocol, Tuple

from net.discovery import Found
from net.tls import normalize_fingerprint
from ui.i18n import Catalog
from ui.neterrors import network_error_text, tls_required_text
from ui.presenters.moderation import banned_text
from ui.session import Session, refusal_of, retry_after_s
from ui.settings import ClientSettings


class Search(Protocol):
    """One round of LAN discovery (net/datagrams.Prober): poll() never waits."""

    done: bool          # the time is up (or no probe could be sent)
    sent: int           # probes sent
    errors: List[str]   # why the others could not be
    found: List[Found]  # every server that answered so far, in order

    def poll(self) -> List[Found]:
        """The servers that answered since the last poll."""

    def close(self) -> None: ...


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

    def discover(self) -> Search:
        """Start a round of LAN discovery (raises OSError when no UDP socket can be had)."""


def status_text(tr: Catalog, reply: Dict[str, Any]) -> str:
    """What to tell the user about a reply that is not ok: a refused connection and a
    rate limit (with the server's retry_after) each in a sentence of their own."""
    refusal = refusal_of(reply)
    if refusal is not None:
        return tr(refusal.value)
    status = reply.get("status", "")
    if status == "disconnected":  # in the user's language (issue 20), TLS-only server too
        if reply.get("tls_required"):
            return tls_required_text(tr)
        return network_error_text(tr, reply.get("message", status))
    if status == "rate_limited":
        wait_s = retry_after_s(reply)
        return tr("error.rate_limited", n=wait_s) if wait_s else tr("error.rate_limited_later")
    if status == "banned":  # docs/PROTOCOL.md §11: a teacher removed us; say until when
        return banned_text(tr, retry_after_s(reply))
    return tr.error(status)


def trust_question(tr: Catalog, server: str, fingerprint: str,
                   announced: Optional[str] = None) -> str:
    """The words of the trust dialog. `announced`: the fingerprint LAN discovery announced
    for this server, shown beside the real one; it decides nothing, the user does."""

    def lines(text: str) -> str:
        pairs = text.split(":")
        # Four lines of eight pairs: easy to compare by eye, never wrapped inside a pair.
        return "\n".join(":".join(pairs[i:i + 8]) for i in range(0, len(pairs), 8))
    text = tr("tls.ask", server=server, fingerprint=lines(fingerprint))
    if announced:
        announced = normalize_fingerprint(announced)
        note = (tr("tls.announced_same") if announced == normalize_fingerprint(fingerprint)
                else tr("tls.announced_differs", fingerprint=lines(announced)))
        text = note + "\n\n" + text
    return text
