"""What the demo (python chatroom.py) tells whoever started it, in their language, and
whether a chatroom server already answers on the port it wanted (issue 20: a second demo
said only "Address already in use"). Tk-free; chatroom.py's run_demo uses it."""
from __future__ import annotations

import time
from typing import Any, List, Optional, Tuple

from net.client import ClientConnection, TlsOptions, wait_readable
from net.tls import client_context
from ui.i18n import Catalog, detect_language

# The lines the demo prints (ui/i18n.py)
SMS_HERE = "demo.sms_here"                        # where the registration codes appear
ALREADY_RUNNING = "demo.already_running"          # ... and a client opens on that server
ALREADY_RUNNING_CLI = "demo.already_running_cli"  # the same, without a display
PORT_TAKEN = "demo.port_taken"                    # another program holds the port
# How long each hello (plain, then TLS) may take to be answered on this machine.
PROBE_TIMEOUT_S = 3.0


def demo_text(language: Optional[str], key: str, **values: Any) -> str:
    """A line the demo prints, in `language` (the demo's --lang) or the locale's."""
    return Catalog(language or detect_language())(key, **values)


def running_server(host: str, port: int, timeout_s: float = PROBE_TIMEOUT_S
                   ) -> Optional[Tuple[bool, Optional[str]]]:
    """Whether a chatroom server answers hello at host:port: None when nothing does, else
    (it speaks TLS, its certificate's SHA-256 fingerprint or None). The certificate is only
    looked at, not trusted: nothing but hello is sent."""
    attempts: List[Optional[TlsOptions]] = [None, TlsOptions(client_context())]
    for tls in attempts:
        conn = ClientConnection(host, port, tls=tls)
        replies: List[dict] = []
        conn.request("hello", replies.append)
        deadline = time.monotonic() + timeout_s
        while not replies and time.monotonic() < deadline:
            conn.poll()
            wait_readable([conn], 0.05)
        fingerprint = conn.fingerprint
        conn.close()
        if replies and replies[0].get("status") == "ok":
            return tls is not None, fingerprint
        if not (replies and replies[0].get("unanswered")):  # a TLS-only server says nothing
            return None
    return None
