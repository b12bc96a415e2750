"""Trust on first use: the fingerprint of each server's certificate, pinned per server.

A LAN server has no CA-signed certificate, so the first connection shows its SHA-256
fingerprint and asks (a dialog, a prompt, or --trust-fingerprint for scripts). The answer is
remembered in known_servers.json beside the client's settings; a later, different certificate
is refused with a warning. Tk-free.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Callable, Dict, Optional

from net.client import TlsOptions
from net.tls import client_context, normalize_fingerprint
from ui.settings import config_dir

log = logging.getLogger(__name__)

# decide(server, fingerprint) -> True to trust it from now on
Decide = Callable[[str, str], bool]


class KnownServers:
    def __init__(self, path: Optional[str] = None) -> None:
        self.path = path or os.path.join(config_dir(), "known_servers.json")
        try:
            with open(self.path, encoding="utf-8") as f:
                self.pins: Dict[str, str] = dict(json.load(f))
        except FileNotFoundError:
            self.pins = {}
        except (ValueError, TypeError, OSError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            self.pins = {}

    def get(self, server: str) -> Optional[str]:
        return self.pins.get(server)

    def pin(self, server: str, fingerprint: str) -> None:
        self.pins[server] = normalize_fingerprint(fingerprint)
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.pins, f, indent=2)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot save %s: %s", self.path, exc)


def changed_warning(server: str, pinned: str, now: str, path: str) -> str:
    return ("WARNING: the certificate of %s has CHANGED.\n  pinned: %s\n  now:    %s\n"
            "Someone may be intercepting the connection. Refused. If the server really got a "
            "new certificate, ask its owner for the fingerprint and remove the old pin from %s."
            % (server, pinned, now, path))


def tls_options(server: str, known: KnownServers, decide: Decide,
                ca_file: Optional[str] = None) -> TlsOptions:
    """TLS for every connection to `server` (host:auth-port): CA verification when a CA file
    is given, otherwise the pinned fingerprint (asking `decide` the first time)."""
    if ca_file:
        return TlsOptions(client_context(ca_file))

    def check(host: str, port: int, fingerprint: str) -> Optional[str]:
        pinned = known.get(server)
        if pinned == fingerprint:
            return None
        if pinned is not None:
            return changed_warning(server, pinned, fingerprint, known.path)
        if decide(server, fingerprint):
            known.pin(server, fingerprint)
            return None
        return "the certificate of %s was not trusted" % server
    return TlsOptions(client_context(), check)


def trust_given(expected: Optional[str]) -> Decide:
    """For scripts: trust exactly this fingerprint (--trust-fingerprint HEX), nothing else."""
    def decide(server: str, fingerprint: str) -> bool:
        return expected is not None and normalize_fingerprint(expected) == fingerprint
    return decide
