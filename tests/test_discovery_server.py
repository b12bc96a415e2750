"""LAN discovery against a real server process, unicast on loopback only (docs/PROTOCOL.md
§14): the answer's fields and size, nonce echo, rate limits per address and in all,
--no-discovery, --name, TLS fingerprints, malformed datagrams ignored, a flood of probes
that does not slow chat, and `chatroom.py cli --discover`.

Probes are built here with json and bytes, independently of net/discovery.py. Several source
addresses come from 127.0.0.0/8, which Linux routes to loopback as a whole."""
import hashlib
import json
import os
import platform
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import IN_CI, chat_client, register
from tests.procs import ROOT, wait_until

LOCAL = "127.0.0.1"


def probe(nonce, size=512, **extra):
    body = json.dumps(dict({"op": "discover", "v": 1, "nonce": nonce}, **extra),
                      separators=(",", ":")).encode("utf-8")
    return body + b" " * (size - len(body))


def udp(host=LOCAL):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    return sock


def receive(sock, timeout_s=5.0):
    """(answer dict, data, source) or None when nothing came within timeout_s."""
    sock.settimeout(timeout_s)
    try:
        data, source = sock.recvfrom(65536)
    except socket.timeout:
        return None
    return json.loads(data.decode("utf-8")), data, source


def until_nonce(sock, nonce, timeout_s=5.0):
    """Every answer read up to and including the one with this nonce."""
    got = []
    deadline = time.monotonic() + timeout_s
    while True:
        item = receive(sock, max(0.01, deadline - time.monotonic()))
        assert item is not None, "no answer with nonce %r; got %r" % (nonce, got)
        got.append(item)
        if item[0]["nonce"] == nonce:
            return got


def count_answers(sock, quiet_s=0.5):
    """How many answers arrive until none has for quiet_s."""
    n = 0
    while receive(sock, quiet_s) is not None:
        n += 1
    return n


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    if not shutil.which("openssl"):
        if IN_CI:
            pytest.fail("openssl is required under CI=true")
        pytest.skip("openssl is not installed")
    from net.tls import make_self_signed
    return make_self_signed(str(tmp_path_factory.mktemp("discovery-cert")), "localhost")


def test_a_probe_is_answered_from_the_auth_port_with_every_field(make_server):
    srv = make_server("--name", "Room 204")
    with udp() as sock:
        sock.sendto(probe("first"), (LOCAL, srv.auth))
        answer, data, source = receive(sock)
    assert source == (LOCAL, srv.auth)
    assert answer == {"op": "here", "v": 1, "nonce": "first", "name": "Room 204",
                      "services": {"auth": srv.auth, "chat": srv.chat, "file": srv.file},
                      "tls": False, "fingerprint": None, "users_online": 0}
    assert len(data) <= 512
    assert "discovery: answering as 'Room 204' on UDP 127.0.0.1:%d" % srv.auth in srv.log()


def test_the_default_name_is_the_host_name(server):
    with udp("127.0.1.1") as sock:  # tests sharing a server each use an address of their own
        sock.sendto(probe("name"), (LOCAL, server.auth))
        answer = receive(sock)[0]
    assert answer["name"] == platform.node()[:64]


@pytest.mark.parametrize("size", [512, 777, 1472])
def test_answers_echo_the_nonce_and_are_never_larger_than_the_probe(server, size):
    nonces = ["", "n" * 64, "编号" * 32, "a\"b\\c\u0001"]
    with udp("127.0.2.%d" % (size % 250)) as sock:
        for nonce in nonces:
            sock.sendto(probe(nonce, size), (LOCAL, server.auth))
            answer, data, _ = receive(sock)
            assert answer["nonce"] == nonce
            assert len(data) <= size


def test_malformed_short_and_oversized_datagrams_are_ignored(server):
    bad = [
        b"", b"x", probe("short", 511), probe("big", 1473), probe("huge", 60000),
        b"\xff" * 600, b"GET / HTTP/1.0\r\n\r\n" + b" " * 600, b"[1,2,3]" + b" " * 600,
        probe("x", 512)[:-1] + b"}",  # trailing garbage after the object
        probe("n" * 65), probe("v2", v=2).replace(b'"v":1,', b""),
        json.dumps({"op": "discover", "v": 2, "nonce": "v2"}).encode().ljust(512),
        json.dumps({"op": "discover", "v": True, "nonce": "vt"}).encode().ljust(512),
        json.dumps({"op": "here", "v": 1, "nonce": "h"}).encode().ljust(512),
        json.dumps({"op": "discover", "v": 1, "nonce": 5}).encode().ljust(512),
        b'{"op":"discover","v":1,"nonce":"\\ud800"}'.ljust(512),
        b"\x4a\x00\x00\x00\x10" + b"{}" * 300,  # a TCP frame sent over UDP
    ]
    with udp("127.0.3.1") as sock:
        for data in bad:
            sock.sendto(data, (LOCAL, server.auth))
        sock.sendto(probe("sentinel"), (LOCAL, server.auth))
        got = until_nonce(sock, "sentinel")
    assert [answer["nonce"] for answer, _, _ in got] == ["sentinel"]
    # and the server is none the worse: chat still works
    user = register(server)
    with chat_client(server, user) as c:
        assert c.request("ping")["status"] == "ok"


def test_ten_answers_per_second_to_one_address(make_server):
    srv = make_server()
    with udp() as sock, udp() as other_port, udp("127.0.0.2") as other_address:
        started = time.monotonic()
        for i in range(25):
            sock.sendto(probe("p%d" % i), (LOCAL, srv.auth))
        for i in range(5):  # the same address from another port: the same budget
            other_port.sendto(probe("q%d" % i), (LOCAL, srv.auth))
        other_address.sendto(probe("elsewhere"), (LOCAL, srv.auth))
        assert receive(other_address)[0]["nonce"] == "elsewhere"
        answered = count_answers(sock) + count_answers(other_port, 0.1)
        assert time.monotonic() - started < 1.0 + 0.6, "too slow to measure one second"
        assert answered == 10
        # Once the second is over, this address is answered again.
        deadline = time.monotonic() + 5
        while True:
            sock.sendto(probe("again"), (LOCAL, srv.auth))
            item = receive(sock, 0.1)
            if item is not None:
                break
            assert time.monotonic() < deadline, "never answered again"
        assert time.monotonic() - started >= 0.9


def test_one_hundred_answers_per_second_in_all(make_server):
    srv = make_server()
    socks = [udp("127.0.0.%d" % (10 + i)) for i in range(15)]
    try:
        for round_ in range(10):
            for n, sock in enumerate(socks):
                sock.sendto(probe("%d-%d" % (n, round_)), (LOCAL, srv.auth))
        counts = [count_answers(sock, 0.3) for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    assert sum(counts) == 100, counts
    assert max(counts) <= 10


def test_no_discovery_means_no_udp_socket_at_all(make_server):
    srv = make_server("--no-discovery")
    with udp() as sock:
        sock.sendto(probe("anyone"), (LOCAL, srv.auth))
        assert receive(sock, 1.0) is None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((LOCAL, srv.auth))  # the port number is free on UDP
    assert "discovery: off (--no-discovery)" in srv.log()


def test_a_bad_name_is_refused_at_start(tmp_path):
    for name in ("", "x" * 65, "tab\there"):
        out = subprocess.run([sys.executable, os.path.join(ROOT, "server_main.py"),
                              "--data-dir", str(tmp_path), "--name", name],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 2 and "--name" in out.stderr, out.stderr


def test_tls_server_announces_its_certificate_fingerprint(make_server, cert):
    cert_file, key_file = cert
    srv = make_server("--tls-cert", cert_file, "--tls-key", key_file, "--name", "李老师的课堂")
    with open(cert_file, encoding="ascii") as f:
        expected = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()
    with udp() as sock:
        sock.sendto(probe("tls", 512), (LOCAL, srv.auth))
        answer, data, _ = receive(sock)
    assert answer["tls"] is True and answer["fingerprint"] == expected
    assert answer["name"] == "李老师的课堂" and len(data) <= 512


def test_users_online_counts_the_users_on_the_chat_service(make_server):
    srv = make_server()
    alice, bob = register(srv), register(srv)

    def online():
        with udp() as sock:
            sock.sendto(probe("u"), (LOCAL, srv.auth))
            return receive(sock)[0]["users_online"]
    assert online() == 0
    with chat_client(srv, alice), chat_client(srv, alice), chat_client(srv, bob) as b:
        assert online() == 2  # users, not connections
        b.close()
        wait_until(lambda: online() == 1, what="bob offline")
    wait_until(lambda: online() == 0, what="everyone offline")


def test_a_flood_of_probes_does_not_slow_chat(make_server):
    srv = make_server("--flood-limit", "0")
    user = register(srv)
    with chat_client(srv, user) as c:
        def round_trips(n):
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                assert c.request("ping")["status"] == "ok"
                times.append(time.perf_counter() - t0)
            return times
        quiet = round_trips(50)
        stop = threading.Event()
        sent = [0]
        flooder = udp("127.0.0.3")
        garbage = udp("127.0.0.4")

        def flood():
            valid, bad = probe("flood"), b"\x00" * 1000
            while not stop.is_set():
                for _ in range(200):
                    try:
                        flooder.sendto(valid, (LOCAL, srv.auth))
                        garbage.sendto(bad, (LOCAL, srv.auth))
                        sent[0] += 2
                    except OSError:  # the kernel's buffer is full: that is the point
                        pass
        threads = [threading.Thread(target=flood) for _ in range(2)]
        flood_started = time.monotonic()
        for t in threads:
            t.start()
        try:
            time.sleep(0.2)  # let the flood build up before measuring
            loaded = round_trips(200)
        finally:
            stop.set()
            for t in threads:
                t.join()
        flood_s = time.monotonic() - flood_started
        answers = count_answers(flooder, 0.5)
        flooder.close()
        garbage.close()
    assert sent[0] > 10000, "the flood was too weak to test anything: %d" % sent[0]
    assert answers <= 10 * (flood_s + 1.5), (answers, flood_s)
    median_quiet, median_loaded = statistics.median(quiet), statistics.median(loaded)
    print("\nping median %.2f ms quiet, %.2f ms under %d probes; worst %.1f ms"
          % (median_quiet * 1e3, median_loaded * 1e3, sent[0], max(loaded) * 1e3))
    assert median_loaded < max(0.02, 10 * median_quiet)
    assert max(loaded) < 0.5
    with udp("127.0.0.5") as sock:  # and discovery still answers others
        sock.sendto(probe("after"), (LOCAL, srv.auth))
        assert receive(sock)[0]["nonce"] == "after"


# -- chatroom.py cli --discover -----------------------------------------------------------------

def run_discover(tmp_path, *args):
    env = dict(os.environ, CHATROOM_CONFIG_DIR=str(tmp_path / "config"))
    return subprocess.run([sys.executable, os.path.join(ROOT, "chatroom.py"), "cli",
                           "--discover", "--lang", "en"] + list(args),
                          capture_output=True, text=True, timeout=30, env=env, cwd=str(tmp_path))


def test_cli_discover_prints_one_line_per_server_and_exits_0(make_server, cert, tmp_path):
    plain = make_server("--name", "Room 204")
    cert_file, key_file = cert
    tls = make_server("--name", "Lab B", "--tls-cert", cert_file, "--tls-key", key_file)
    with open(cert_file, encoding="ascii") as f:
        digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest().upper()
    started = time.monotonic()
    out = run_discover(tmp_path, "--discover-to", "127.0.0.1:%d" % plain.auth,
                       "--discover-to", "127.0.0.1:%d" % tls.auth)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["Lab B  127.0.0.1:%d  0  tls" % tls.auth,
                                       "Room 204  127.0.0.1:%d  0  plain" % plain.auth]
    assert time.monotonic() - started >= 1.5  # it collected for the whole 1.5 s
    # the announced fingerprint is shown, as unverified, apart from the list
    assert ":".join(digest[i:i + 2] for i in range(0, 64, 2)) in out.stderr
    assert "Anyone on the network" in out.stderr
    # --port is where probes go when --discover-to has no port
    out = run_discover(tmp_path, "--discover-to", "127.0.0.1", "--port", str(plain.auth))
    assert out.returncode == 0 and out.stdout.startswith("Room 204  "), out


def test_cli_discover_exits_1_when_no_server_answers(make_server, tmp_path):
    quiet = make_server("--no-discovery")
    out = run_discover(tmp_path, "--discover-to", "127.0.0.1:%d" % quiet.auth)
    assert out.returncode == 1
    assert out.stdout == ""
    assert "No chatroom server answered" in out.stderr
    assert "127.0.0.1:%d" % quiet.auth in out.stderr


def test_cli_discover_refuses_an_address_it_cannot_use(tmp_path):
    out = run_discover(tmp_path, "--discover-to", "127.0.0.1:0")
    assert out.returncode == 2 and "--discover-to" in out.stderr
    out = run_discover(tmp_path, "--discover-to", "::1")
    assert out.returncode == 2 and "IPv4" in out.stderr
