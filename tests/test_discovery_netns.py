"""LAN discovery over real broadcasts, without touching this machine's network: private
network namespaces joined by veth links, with addresses that exist only inside them.

    ns "server" 10.123.0.1/24 ──veth── 10.123.0.2/24 ns "client"
                10.124.0.1/24 ──veth── 10.124.0.2/24 ns "other"   (another network)

The server runs in the first namespace (`ip netns exec`), `chatroom.py cli --discover` in
the others, with no --discover-to: the probes go to the interfaces' broadcast addresses and
255.255.255.255, as on a classroom LAN. Every link is created inside the namespaces
(`ip -n NS link add ... peer ... netns NS2`), never in the host's, and the namespaces (with
their links) are deleted afterwards. Needs root and `ip netns`: skipped loudly without them,
a failure under CI=true."""
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from tests.conftest import missing
from tests.procs import ROOT

SERVER_IP, CLIENT_IP = "10.123.0.1", "10.123.0.2"
SERVER_IP2, OTHER_IP = "10.124.0.1", "10.124.0.2"


def ip(*args):
    return subprocess.run(["ip"] + list(args), check=True, capture_output=True, text=True,
                          timeout=30)


class Namespaces:
    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.server, self.client, self.other = ("crd-%s-%s" % (role, tag)
                                                for role in ("srv", "cli", "oth"))
        self.created = []

    def build(self):
        for ns in (self.server, self.client, self.other):
            ip("netns", "add", ns)
            self.created.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        for near, far, dev, near_ip, far_ip in (
                (self.server, self.client, "a", SERVER_IP, CLIENT_IP),
                (self.server, self.other, "b", SERVER_IP2, OTHER_IP)):
            ip("-n", near, "link", "add", "veth" + dev, "type", "veth", "peer", "name",
               "peer" + dev, "netns", far)
            ip("-n", near, "addr", "add", near_ip + "/24", "brd", "+", "dev", "veth" + dev)
            ip("-n", far, "addr", "add", far_ip + "/24", "brd", "+", "dev", "peer" + dev)
            ip("-n", near, "link", "set", "veth" + dev, "up")
            ip("-n", far, "link", "set", "peer" + dev, "up")
            # 255.255.255.255 needs a route to leave by; inside the namespace only.
            ip("-n", far, "route", "add", "default", "dev", "peer" + dev)

    def remove(self):
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
        self.created = []


@pytest.fixture
def netns(tmp_path):
    if not shutil.which("ip"):
        missing("`ip` (iproute2), for the broadcast test in network namespaces")
    if os.geteuid() != 0:
        missing("root, for the broadcast test in network namespaces (ip netns)")
    spaces = Namespaces()
    try:
        try:
            spaces.build()
        except subprocess.CalledProcessError as exc:
            missing("network namespaces (`ip netns add` and veth links): %s failed: %s"
                    % (" ".join(exc.cmd), exc.stderr.strip()))
        yield spaces
    finally:
        spaces.remove()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(ns in listed for ns in (spaces.server, spaces.client, spaces.other))


def in_namespace(tmp_path, ns):
    """An executable that runs this Python inside ns: ServerProc's python= takes it."""
    path = tmp_path / ("python-in-%s" % ns)
    path.write_text('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (ns, sys.executable))
    path.chmod(0o755)
    return str(path)


def discover(tmp_path, ns, *args):
    env = dict(os.environ, CHATROOM_CONFIG_DIR=str(tmp_path / "config"))
    out = subprocess.run(["ip", "netns", "exec", ns, sys.executable,
                          os.path.join(ROOT, "chatroom.py"), "cli", "--discover",
                          "--lang", "en"] + list(args),
                         capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path))
    print("\n$ ip netns exec %s python chatroom.py cli --discover %s\n%s%s(exit %d)"
          % (ns, " ".join(args), out.stdout, out.stderr, out.returncode))
    return out


@pytest.mark.parametrize("host", [SERVER_IP, "0.0.0.0"])
def test_broadcast_finds_the_server_in_another_namespace(netns, make_server, tmp_path, host):
    srv = make_server("--host", host, "--name", "Room 204",
                      python=in_namespace(tmp_path, netns.server))
    print("\n" + "\n".join(line for line in srv.log().splitlines() if "discovery" in line))
    out = discover(tmp_path, netns.client, "--port", str(srv.auth))
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Room 204  %s:%d  0  plain\n" % (SERVER_IP, srv.auth)
    if host == SERVER_IP:
        assert "UDP %s:%d, 10.123.0.255:%d on veth" % (SERVER_IP, srv.auth, srv.auth) \
            in srv.log()


@pytest.mark.parametrize("broadcast", ["255.255.255.255", "10.123.0.255"])
def test_each_kind_of_broadcast_alone_finds_the_server(netns, make_server, tmp_path,
                                                       broadcast):
    srv = make_server("--host", SERVER_IP, "--name", "Room 204",
                      python=in_namespace(tmp_path, netns.server))
    out = discover(tmp_path, netns.client, "--discover-to", broadcast, "--port", str(srv.auth))
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Room 204  %s:%d  0  plain\n" % (SERVER_IP, srv.auth)


def test_a_server_on_one_address_ignores_broadcasts_from_another_network(netns, make_server,
                                                                         tmp_path):
    """Serving on 10.123.0.1, the server is found from that network, not from 10.124.0.0/24
    that reaches the same machine on another interface ("on the address it listens on")."""
    srv = make_server("--host", SERVER_IP, python=in_namespace(tmp_path, netns.server))
    out = discover(tmp_path, netns.other, "--port", str(srv.auth))
    assert out.returncode == 1 and out.stdout == ""
    wide = make_server("--host", "0.0.0.0", "--name", "everywhere",
                       python=in_namespace(tmp_path, netns.server))
    out = discover(tmp_path, netns.other, "--port", str(wide.auth))
    assert out.stdout == "everywhere  %s:%d  0  plain\n" % (SERVER_IP2, wide.auth)


def test_no_discovery_is_not_found_by_broadcast(netns, make_server, tmp_path):
    srv = make_server("--host", "0.0.0.0", "--no-discovery",
                      python=in_namespace(tmp_path, netns.server))
    out = discover(tmp_path, netns.client, "--port", str(srv.auth))
    assert out.returncode == 1 and out.stdout == ""
    assert "No chatroom server answered" in out.stderr
