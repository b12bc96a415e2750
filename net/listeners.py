"""Listening sockets and admission: bind, accept in batches, and count open connections per
address so that one address cannot take every descriptor (docs/PROTOCOL.md §10).

Touches sockets but never reads or writes a peer: an admitted connection is handed to the
loop (``admit``), which makes it a Peer. Whatever one accept() does wrong (the client reset
while queued, EPROTO, a firewall's EPERM) costs that connection only; running out of file
descriptors pauses accepting for a moment instead of spinning.
"""
from __future__ import annotations

import errno
import logging
import selectors
import socket
from typing import Any, Callable, Dict, List, Tuple

from net.messages import encode_message
from net.service import Service

log = logging.getLogger(__name__)

# Accept at most this many connections per readiness event, so a connection storm on one
# listener cannot starve the peers already being served.
ACCEPT_BATCH = 64
# The kernel's queue of connections not yet accepted: big enough that 50 clients connecting at
# once are never refused (the kernel caps it at net.core.somaxconn).
LISTEN_BACKLOG = 1024
# When the process runs out of file descriptors, stop accepting for this long instead of
# spinning on a listener that stays readable.
EMFILE_PAUSE_S = 0.5
# Refused connections still waiting for a TLS handshake (to be told why), per address; more
# are closed without a word. Plain TCP refusals cost nothing and are not counted.
REFUSED_IN_HANDSHAKE_MAX = 16

_OUT_OF_FDS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
TOO_MANY_FRAME = encode_message({"op": "error", "status": "rate_limited",
                                "message": "Too many connections from your address; close "
                                           "some and try again.", "retry_after": 5})

# admit(sock, address, service, refused): the loop makes a peer (refused: only to say why)
Admit = Callable[[socket.socket, Any, Service, bool], None]


def bind(host: str, port: int) -> socket.socket:
    """A non-blocking listening TCP socket on host:port (0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: refuse port stealing
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:  # POSIX: rebind at once after a restart (TIME_WAIT)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class Listeners:
    """Methods for the loop:
        listen(host, port, service) -> (host, port)   bind; port 0 picks a free one
        adopt(sock, service) -> (host, port)          serve a socket bound elsewhere
        over_cap(host) -> bool       would one more connection from host pass the cap?
        opened(host) / closed(host, refused)   count a connection of host in and out
        close()                      stop listening (shutdown)
    """

    def __init__(self, selector: selectors.BaseSelector, admit: Admit,
                 call_later: Callable[..., Any], max_conns_per_ip: int, tls: bool) -> None:
        self._tls = tls
        self._selector = selector
        self._admit = admit
        self._call_later = call_later
        self.max_conns_per_ip = max_conns_per_ip  # 0 = no cap
        self._sockets: List[Tuple[socket.socket, Service]] = []
        self._per_host: Dict[str, int] = {}
        self._refusing: Dict[str, int] = {}
        self._listening = True
        self._closed = False

    @property
    def services(self) -> List[Service]:
        unique: Dict[int, Service] = {}
        for _, service in self._sockets:
            unique[id(service)] = service
        return list(unique.values())

    def listen(self, host: str, port: int, service: Service) -> tuple:
        return self.adopt(bind(host, port), service)

    def adopt(self, sock: socket.socket, service: Service) -> tuple:
        """Serve a socket that is already listening (a worker process inherits its parent's,
        docs/PROTOCOL.md §13)."""
        self._sockets.append((sock, service))
        self._register(sock, service)
        return sock.getsockname()[:2]

    def _register(self, sock: socket.socket, service: Service) -> None:
        self._selector.register(sock, selectors.EVENT_READ,
                                lambda: self._accept(sock, service))

    def _accept(self, listener: socket.socket, service: Service) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                sock, address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_FDS:
                    self._pause(exc)
                    return
                # ECONNABORTED, EPROTO, EPERM (a firewall): that one connection failed.
                log.debug("%s: accept failed: %s", service.name, exc)
                continue
            try:
                sock.setblocking(False)
                refused = self.over_cap(address[0])
                if refused and not self._explain_later(sock, address[0], service):
                    continue
                self._admit(sock, address, service, refused)
            except OSError as exc:  # reset before we could set it up (or wrap it in TLS)
                log.debug("%s %s: dropped while accepting: %s", service.name, address, exc)
                sock.close()

    # -- admission ------------------------------------------------------------------------

    def over_cap(self, host: str) -> bool:
        return bool(self.max_conns_per_ip) and (
            self._per_host.get(host, 0) >= self.max_conns_per_ip)

    def opened(self, host: str) -> None:
        self._per_host[host] = self._per_host.get(host, 0) + 1

    def closed(self, host: str, refused: bool = False) -> None:
        self._count_down(self._refusing if refused else self._per_host, host)

    def _explain_later(self, sock: socket.socket, host: str, service: Service) -> bool:
        """Over the cap: on plain TCP, say why in one frame (the kernel takes it at once) and
        close; False. With TLS the goodbye needs a handshake first: True lets the loop do
        that, for a bounded number per address (past it: closed without a word)."""
        log.info("%s: refusing a connection from %s: too many open", service.name, host)
        if self._tls and self._refusing.get(host, 0) < REFUSED_IN_HANDSHAKE_MAX:
            self._refusing[host] = self._refusing.get(host, 0) + 1
            return True
        if not self._tls:
            try:
                sock.send(TOO_MANY_FRAME)
            except OSError:
                pass
        sock.close()
        return False

    @staticmethod
    def _count_down(table: Dict[str, int], host: str) -> None:
        left = table.get(host, 0) - 1
        if left > 0:
            table[host] = left
        else:
            table.pop(host, None)

    # -- pausing and closing --------------------------------------------------------------

    def _pause(self, exc: OSError) -> None:
        if not self._listening:
            return
        log.warning("out of file descriptors (%s); not accepting for %.1f s", exc, EMFILE_PAUSE_S)
        self._listening = False
        for sock, _ in self._sockets:
            self._selector.unregister(sock)
        self._call_later(EMFILE_PAUSE_S, self._resume)

    def _resume(self) -> None:
        if self._listening or self._closed:
            return
        self._listening = True
        for sock, service in self._sockets:
            self._register(sock, service)

    def close(self) -> None:
        for sock, _ in self._sockets:
            if self._listening:
                self._selector.unregister(sock)
            sock.close()
        self._listening = False
        self._closed = True
