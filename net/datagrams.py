"""LAN discovery's UDP sockets (docs/PROTOCOL.md §14): the server's, read by the event loop,
and the client's, polled by a GUI tick or a terminal loop. Neither ever waits. What the bytes
mean is net/discovery.py's; this module moves datagrams and finds broadcast addresses.

Server (the composition root):
    server = DiscoveryServer(Responder(...), loop.add_reader)
    server.open(host, auth_port) -> ["10.0.0.1:9999", ...]   what it answers on
    server.close()                                           after the loop has stopped

Client:
    prober = Prober(probe_targets(9999))    sends the probes at once
    prober.poll() -> [Found]                 the servers that answered since the last poll
    prober.done                              True once COLLECT_S has passed (socket closed)

Broadcast addresses are read from the interfaces without new dependencies: on Linux,
socket.if_nameindex() and the SIOCGIFADDR / SIOCGIFBRDADDR ioctls; elsewhere a guess from
the host's own addresses (getaddrinfo of its name, and the address of its default route) as
/24 networks. 255.255.255.255 is always probed too.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
import struct
import sys
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from net.discovery import (
    COLLECT_S,
    PROBE_MAX_BYTES,
    Collector,
    Found,
    Responder,
    encode_probe,
    new_nonce,
)

log = logging.getLogger(__name__)

Target = Tuple[str, int]  # (IPv4 address, port)
LIMITED_BROADCAST = "255.255.255.255"
DEFAULT_PORT = 9999  # the auth port (docs/PROTOCOL.md §1): where servers listen for probes
# Datagrams one readiness event may read: a flood of probes gets a bounded share of each turn
# of the loop (the kernel drops what does not fit in the socket's buffer), so chat goes on.
DATAGRAMS_PER_TURN = 64
# Answers one client poll reads at most: a bounded amount of work for a GUI tick.
ANSWERS_PER_POLL = 64

# Linux <linux/sockios.h>, <net/if.h>: struct ifreq is 40 bytes on every Linux ABI we run on
# (16 for the name, 24 for the union); a sockaddr_in's address sits at bytes 20..24.
SIOCGIFFLAGS = 0x8913
SIOCGIFADDR = 0x8915
SIOCGIFBRDADDR = 0x8919
IFF_UP = 0x1
IFF_BROADCAST = 0x2
IFF_LOOPBACK = 0x8
IFREQ_BYTES = 40
# Linux <linux/in.h>: IP_PKTINFO (not exported by every Python's socket module) tells which
# interface a datagram arrived on: struct in_pktinfo {int ifindex; in_addr spec_dst, addr}.
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IN_PKTINFO = struct.Struct("=i4s4s")


@dataclass(frozen=True)
class Interface:
    name: str
    index: int
    address: str              # its (first) IPv4 address
    broadcast: Optional[str]  # None: not up, a loopback, or no broadcast


def ipv4_interfaces() -> List[Interface]:
    """This host's IPv4 interfaces, read with ioctls (Linux only; [] elsewhere)."""
    if not sys.platform.startswith("linux"):
        return []
    import fcntl
    try:
        names = socket.if_nameindex()
    except OSError:
        return []

    def ioctl(sock: socket.socket, request: int, name: str) -> bytes:
        ifreq = struct.pack("16s%dx" % (IFREQ_BYTES - 16), name.encode("utf-8")[:15])
        return fcntl.ioctl(sock.fileno(), request, ifreq)

    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for index, name in names:
            try:
                flags = struct.unpack_from("H", ioctl(sock, SIOCGIFFLAGS, name), 16)[0]
                address = socket.inet_ntoa(ioctl(sock, SIOCGIFADDR, name)[20:24])
            except OSError:  # no IPv4 address on it (EADDRNOTAVAIL), or it just went away
                continue
            broadcast = None
            if flags & IFF_UP and flags & IFF_BROADCAST and not flags & IFF_LOOPBACK:
                try:
                    broadcast = socket.inet_ntoa(ioctl(sock, SIOCGIFBRDADDR, name)[20:24])
                except OSError:
                    pass
                if broadcast == "0.0.0.0":
                    broadcast = None
            found.append(Interface(name, index, address, broadcast))
    return found


def _guessed_broadcasts() -> List[str]:
    """Where the interfaces cannot be read: this host's addresses as /24 networks."""
    addresses = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET,
                                       socket.SOCK_DGRAM):
            addresses.add(info[4][0])
    except OSError:
        pass
    try:  # the address of the default route: connect() on UDP sends nothing
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", DEFAULT_PORT))  # TEST-NET-1: an address never used
            addresses.add(sock.getsockname()[0])
    except OSError:
        pass
    guesses = []
    for text in sorted(addresses):
        address = ipaddress.IPv4Address(text)
        if address.is_loopback or address.is_link_local or address.is_unspecified:
            continue
        guesses.append(str(ipaddress.IPv4Network(text + "/24", strict=False)
                           .broadcast_address))
    return guesses


def broadcast_addresses() -> List[str]:
    """The broadcast address of every IPv4 interface that has one (a guess where they
    cannot be read), without duplicates."""
    found = [i.broadcast for i in ipv4_interfaces() if i.broadcast]
    if not found and not sys.platform.startswith("linux"):
        found = _guessed_broadcasts()
    return list(dict.fromkeys(found))


def probe_targets(port: int = DEFAULT_PORT) -> List[Target]:
    """The default destinations of a probe (§14): every interface's broadcast address and
    255.255.255.255, on the auth port."""
    addresses = [a for a in broadcast_addresses() if a != LIMITED_BROADCAST]
    return [(address, port) for address in addresses + [LIMITED_BROADCAST]]


def resolve_targets(texts: Sequence[str], default_port: int = DEFAULT_PORT) -> List[Target]:
    """--discover-to values ("ADDRESS" or "ADDRESS:PORT") as IPv4 (address, port) pairs.
    A name is looked up here, once, so that no probe round ever waits on DNS. Raises
    ValueError saying which value is wrong."""
    targets = []
    for text in texts:
        host, port = text.strip(), default_port
        if host.count(":") == 1:
            host, _, port_text = host.partition(":")
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise ValueError("--discover-to %r: the port must be 1 to 65535" % text)
            port = int(port_text)
        if not host or ":" in host:
            raise ValueError("--discover-to %r: give an IPv4 address or a host name, "
                             "optionally with :PORT (discovery speaks IPv4)" % text)
        try:
            infos = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)
        except OSError as exc:
            raise ValueError("--discover-to %r: cannot resolve %s: %s" % (text, host, exc))
        targets.append((infos[0][4][0], port))
    return list(dict.fromkeys(targets))


class Prober:
    """One round of discovery from a client: the probes go out when it is made, the answers
    are collected for COLLECT_S seconds by poll(), which never waits.

    Methods for callers:
        poll() -> [Found]   servers that answered for the first time since the last poll;
                            once the time is up it closes the socket (then `done`)
        found               every server found so far, by name
        remaining_s()       seconds left (for select() in a terminal loop)
        fileno(), close()
    `sent` counts the probes the kernel took; `errors` says why the others were refused
    (255.255.255.255 without a route, for example)."""

    def __init__(self, targets: Sequence[Target], collect_s: float = COLLECT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.targets = list(targets)
        self.clock = clock
        self.collector = Collector(new_nonce())
        probe = encode_probe(self.collector.nonce)
        self.collector.probe_bytes = len(probe)
        self.errors: List[str] = []
        self.sent = 0
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        except OSError:
            sock.close()
            raise
        self.sock: Optional[socket.socket] = sock
        for host, port in self.targets:
            try:
                sock.sendto(probe, (host, port))
                self.sent += 1
            except OSError as exc:  # no route, no permission: that target only
                self.errors.append("%s:%d: %s" % (host, port, exc.strerror or exc))
        self.deadline_s = clock() + collect_s
        if not self.sent:
            self.close()

    @property
    def done(self) -> bool:
        return self.sock is None

    @property
    def found(self) -> List[Found]:
        return self.collector.found

    def remaining_s(self) -> float:
        return 0.0 if self.sock is None else max(0.0, self.deadline_s - self.clock())

    def fileno(self) -> int:
        return self.sock.fileno() if self.sock is not None else -1

    def poll(self) -> List[Found]:
        sock = self.sock
        if sock is None:
            return []
        new = []
        limit = self.collector.probe_bytes
        for _ in range(ANSWERS_PER_POLL):
            try:
                data, source = sock.recvfrom(limit + 1)  # + 1: to see an answer too large
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # Windows reports an earlier probe's "port unreachable" here
                continue
            found = self.collector.feed(data, source[0])
            if found is not None:
                new.append(found)
        if self.clock() >= self.deadline_s:
            self.close()
        return new

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class DiscoveryServer:
    """The server's side: UDP sockets on the auth port number, in the server's own event
    loop (add_reader is net/loop.Loop.add_reader). Each readiness event reads at most
    DATAGRAMS_PER_TURN datagrams, and every answer leaves from the socket bound to the
    address the server listens on, so its source is the address clients connect to.

    Which sockets: one bound to (host, port). On Linux a socket bound to one address does not
    receive broadcasts, so when host is an interface's address (not 0.0.0.0, not loopback)
    two more are bound, to that interface's broadcast address and to 255.255.255.255, and
    they answer only datagrams that arrived on that interface (IP_PKTINFO).

    Methods for the composition root:
        open(host, port) -> [descriptions]   raises OSError when (host, port) cannot be bound
        close()                              after the loop has stopped
    """

    def __init__(self, responder: Responder, add_reader: Callable[..., None],
                 trace: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.responder = responder
        self.add_reader = add_reader
        self.trace = trace
        self.clock = clock
        self.sockets: List[socket.socket] = []
        self._reply_sock: Optional[socket.socket] = None

    def open(self, host: str, port: int) -> List[str]:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._reply_sock = sock
        self._watch(sock, None)
        address = sock.getsockname()[0]
        opened = ["%s:%d" % (address, port)]
        if family == socket.AF_INET and address != "0.0.0.0" \
                and not ipaddress.IPv4Address(address).is_loopback:
            opened += self._open_broadcast(address, port)
        return opened

    def _open_broadcast(self, address: str, port: int) -> List[str]:
        interface = next((i for i in ipv4_interfaces() if i.address == address), None)
        if interface is None or interface.broadcast is None:
            log.info("discovery: no broadcast address known for %s; only probes sent to "
                     "%s itself are answered (serve on 0.0.0.0 to answer every broadcast)",
                     address, address)
            return []
        opened = []
        for group in dict.fromkeys((interface.broadcast, LIMITED_BROADCAST)):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                # Another server on another address of this host may bind it too.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
                sock.bind((group, port))
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                log.warning("discovery: cannot receive broadcasts to %s:%d: %s", group, port,
                            exc)
                continue
            self._watch(sock, interface.index)
            opened.append("%s:%d on %s" % (group, port, interface.name))
        return opened

    def _watch(self, sock: socket.socket, interface_index: Optional[int]) -> None:
        self.sockets.append(sock)
        self.add_reader(sock, lambda: self._read(sock, interface_index))

    def _read(self, sock: socket.socket, interface_index: Optional[int]) -> None:
        """Runs on the loop when sock is readable: answer what deserves an answer."""
        for _ in range(DATAGRAMS_PER_TURN):
            try:
                if interface_index is None:
                    data, source = sock.recvfrom(PROBE_MAX_BYTES + 1)
                else:
                    data, ancillary, _, source = sock.recvmsg(PROBE_MAX_BYTES + 1,
                                                              socket.CMSG_SPACE(IN_PKTINFO.size))
                    if _arrived_on(ancillary) not in (None, interface_index):
                        continue  # a broadcast on another network than ours
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # an ICMP error for an earlier answer (Windows): go on
                log.debug("discovery: receive failed: %s", exc)
                continue
            answer = self.responder.answer(data, source[0], self.clock())
            if answer is None:
                continue
            if self.trace:
                log.info("discovery %s:%d: probe of %d bytes, answer of %d bytes",
                         source[0], source[1], len(data), len(answer))
            try:
                self._reply_sock.sendto(answer, source)
            except OSError as exc:  # a full buffer, a source we may not send to: drop it
                log.debug("discovery: no answer to %s: %s", source[0], exc)

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.sockets = []
        self._reply_sock = None


def _arrived_on(ancillary: list) -> Optional[int]:
    """The interface index from an IP_PKTINFO control message, None when there is none."""
    for level, kind, data in ancillary:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(data) >= IN_PKTINFO.size:
            return IN_PKTINFO.unpack_from(data)[0]
    return None
