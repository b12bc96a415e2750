"""Why a connection failed, in the user's language. Tk-free.

net/client.py says why a connection closed in English sentences built around the OS's own
error texts ("connection lost: [Errno 104] Connection reset by peer"), because that is what
its log and its tests read. This module is the one place those reasons become catalog
sentences (ui/i18n.py, keys `net.*`), so that every window and the terminal client say the
same thing in zh and en. A reason it does not know is shown as it is, inside error.generic.

    network_error_text(tr, reply.get("message", ""))
"""
from __future__ import annotations

import errno
import re
from typing import Callable, List, Optional, Pattern, Tuple

from ui.i18n import Catalog

# The error numbers an OS names in "[Errno N]" (or "[WinError N]") and what they mean here.
_LOST_BY_ERRNO = {
    errno.ECONNRESET: "net.reset",
    errno.EPIPE: "net.reset",
    errno.ECONNABORTED: "net.reset",
    errno.ETIMEDOUT: "net.timeout_lost",
    errno.EHOSTUNREACH: "net.unreachable_lost",
    errno.ENETUNREACH: "net.unreachable_lost",
    errno.ENETDOWN: "net.unreachable_lost",
    10053: "net.reset",  # WSAECONNABORTED
    10054: "net.reset",  # WSAECONNRESET
    10060: "net.timeout_lost",  # WSAETIMEDOUT
}

_Rule = Tuple[Pattern[str], Callable[[Catalog, "re.Match[str]"], str]]


def _lost(tr: Catalog, match: "re.Match[str]") -> str:
    number = re.search(r"\[(?:Errno|WinError) (-?\d+)\]", match.group("why"))
    key = _LOST_BY_ERRNO.get(int(number.group(1))) if number else None
    if key is None and "reset" in match.group("why").lower():
        key = "net.reset"
    return tr(key) if key else tr("net.lost", why=match.group("why"))


# The reasons of net/client.py, ui/pins.py and ui/session.py, most specific first; `server`
# is host:port, `host` a name or an address. tests/test_cli_ux.py makes each one happen.
_RULES: List[_Rule] = [(re.compile(pattern, re.S), make) for pattern, make in [
    (r"^nothing is listening on (?P<server>\S+) \(is the server running\?\)$",
     lambda tr, m: tr("net.refused", server=m.group("server"))),
    (r"^(?P<host>\S+) is unreachable from here$",
     lambda tr, m: tr("net.unreachable", host=m.group("host"))),
    (r"^no answer from (?P<server>\S+) \(timed out\)$",
     lambda tr, m: tr("net.timeout", server=m.group("server"))),
    (r"^cannot resolve (?P<host>[^:]*): ",
     lambda tr, m: tr("net.dns", host=m.group("host"))),
    (r"^cannot connect to (?P<server>\S+): (?P<why>.*)$",
     lambda tr, m: tr("net.cannot_connect", server=m.group("server"), why=m.group("why"))),
    (r"^the TLS handshake with (?P<server>\S+) timed out$",
     lambda tr, m: tr("net.tls_timeout", server=m.group("server"))),
    (r"^the server's certificate is not valid: (?P<why>.*)$",
     lambda tr, m: tr("net.cert_invalid", why=m.group("why"))),
    (r"^TLS with (?P<server>\S+) failed \(is it a TLS server\?\): (?P<why>.*)$",
     lambda tr, m: tr("net.tls_failed", server=m.group("server"))),
    (r"^the certificate of (?P<server>\S+) was not trusted$",
     lambda tr, m: tr("net.not_trusted", server=m.group("server"))),
    (r"^WARNING: the certificate of (?P<server>\S+) has CHANGED\.\n  pinned: (?P<pinned>\S+)"
     r"\n  now:    (?P<now>\S+)\n.* from (?P<path>.+)\.$",
     lambda tr, m: tr("net.cert_changed", server=m.group("server"), pinned=m.group("pinned"),
                      now=m.group("now"), path=m.group("path"))),
    (r"^connection lost: (?P<why>.*)$", _lost),
    (r"^the server closed the connection$", lambda tr, m: tr("net.closed")),
    (r"^the server closed the connection: (?P<why>.*)$",
     lambda tr, m: tr("net.closed_saying", why=m.group("why"))),
    (r"^the server broke the protocol: (?P<why>.*)$",
     lambda tr, m: tr("net.protocol", why=m.group("why"))),
    (r"^(not connected|closed)$", lambda tr, m: tr("net.not_connected")),
]]


def known_network_error(tr: Catalog, message: str) -> Optional[str]:
    """The catalog's sentence for a reason net/client.py gives, or None for another text."""
    for pattern, make in _RULES:
        match = pattern.search(message)
        if match is not None:
            return make(tr, match)
    return None


def network_error_text(tr: Catalog, message: str) -> str:
    """What to tell the user about a connection that failed or closed (`message`: the
    `error` of a ClientConnection, or the `message` of its "disconnected" reply)."""
    known = known_network_error(tr, message)
    return known if known is not None else tr("error.generic", why=message)


def tls_required_text(tr: Catalog, terminal: bool = False) -> str:
    """A plain connection to a server that speaks only TLS (Session's `tls_required`)."""
    return tr("net.tls_required_cli" if terminal else "net.tls_required")
