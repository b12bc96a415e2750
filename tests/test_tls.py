"""TLS in the event loop (issue 11): every service over TLS, misbehaving handshakes that
cost nobody else anything, and fingerprint pinning on the client."""
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import IN_CI, PASSWORD, new_identity
from tests.procs import ROOT
from tests.wire import WireClient, jframe


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if not shutil.which("openssl"):
        if IN_CI:
            pytest.fail("openssl is required under CI=true")
        pytest.skip("openssl is not installed")
    from net.tls import make_self_signed
    base = tmp_path_factory.mktemp("certs")
    first = make_self_signed(str(base / "one"), "localhost")
    second = make_self_signed(str(base / "two"), "localhost")
    return first, second


@pytest.fixture
def tls_server(make_server, certs):
    (cert, key), _ = certs
    return make_server("--tls-cert", cert, "--tls-key", key, "--flood-limit", "0")


def register_tls(srv):
    username, phone = new_identity()
    with WireClient(srv.auth, tls=True) as c:
        assert c.request("send_code", phone=phone)["status"] == "ok"
        assert c.request("register", username=username, password=PASSWORD, phone=phone,
                         code=srv.sms_code(phone))["status"] == "ok"
        token = c.request("login", login=username, password=PASSWORD)["token"]
    return username, token


def test_every_service_over_tls(tls_server):
    srv = tls_server
    for port in (srv.auth, srv.chat, srv.file):
        with WireClient(port, tls=True) as c:
            assert c.request("hello")["status"] == "ok"
    alice, token_a = register_tls(srv)
    bob, token_b = register_tls(srv)
    with WireClient(srv.chat, tls=True) as a, WireClient(srv.chat, tls=True) as b:
        assert a.request("auth", token=token_a)["status"] == "ok"
        assert b.request("auth", token=token_b)["status"] == "ok"
        a.send_raw(b"".join(jframe({"op": "say", "id": i, "text": "tls %d" % i})
                            for i in range(200)))
        texts = [b.next_event("message")["text"] for _ in range(200)]
        assert texts == ["tls %d" % i for i in range(200)]
    data = os.urandom(5 * 1024 * 1024 + 7)
    with WireClient(srv.file, tls=True) as f:
        assert f.request("auth", token=token_a)["status"] == "ok"
        done = f.upload("secret.bin", data, chunk=1024 * 1024)
        assert done["status"] == "ok"
        assert f.download(done["file"]["file_id"]) == data
    assert "TLS certificate" in srv.log()


def test_plain_client_against_tls_server_is_closed_and_server_survives(tls_server):
    with WireClient(tls_server.auth) as plain:
        plain.send({"op": "hello", "id": 1})
        assert plain.expect_closed() == []
    with WireClient(tls_server.auth, tls=True) as c:
        assert c.request("hello")["status"] == "ok"


def test_silent_and_half_handshake_peers_do_not_delay_chat(tls_server):
    srv = tls_server
    silent = socket.create_connection(("127.0.0.1", srv.chat))
    half = socket.create_connection(("127.0.0.1", srv.chat))
    half.sendall(bytes.fromhex("160301020001"))  # the start of a ClientHello, then nothing
    _, token = register_tls(srv)
    with WireClient(srv.chat, tls=True) as a, WireClient(srv.chat, tls=True) as b:
        a.request("auth", token=token)
        b.request("auth", token=token)
        worst = 0.0
        for i in range(50):
            t0 = time.perf_counter()
            a.send({"op": "say", "id": i, "text": "x%d" % i})
            b.next_event("message")
            worst = max(worst, time.perf_counter() - t0)
        assert worst < 0.05
    silent.settimeout(15)
    assert silent.recv(10) == b""  # dropped after the handshake timeout
    silent.close()
    half.close()


def test_two_hundred_handshakes_while_chat_continues(tls_server):
    srv = tls_server
    _, token = register_tls(srv)
    results = []

    def handshake():
        try:
            with WireClient(srv.auth, tls=True, timeout_s=30) as c:
                results.append(c.request("hello")["status"])
        except OSError as exc:
            results.append(repr(exc))
    with WireClient(srv.chat, tls=True) as a, WireClient(srv.chat, tls=True) as b:
        a.request("auth", token=token)
        b.request("auth", token=token)
        threads = [threading.Thread(target=handshake) for _ in range(200)]
        for t in threads:
            t.start()
        for i in range(20):
            a.send({"op": "say", "id": i, "text": "during %d" % i})
            assert b.next_event("message")["text"] == "during %d" % i
        for t in threads:
            t.join()
    assert results.count("ok") == 200


def test_pinned_client_refuses_a_changed_certificate(make_server, certs, tmp_path):
    from net.client import ClientConnection, wait_readable
    from ui.pins import KnownServers, tls_options
    (cert1, key1), (cert2, key2) = certs
    srv = make_server("--tls-cert", cert1, "--tls-key", key1)
    known = KnownServers(str(tmp_path / "known.json"))
    asked = []

    def decide(server, fp):
        asked.append(fp)
        return True
    server = "127.0.0.1:%d" % srv.auth

    def hello():
        conn = ClientConnection("127.0.0.1", srv.auth, tls=tls_options(server, known, decide))
        replies = []
        conn.request("hello", replies.append)
        deadline = time.monotonic() + 10
        while not replies and time.monotonic() < deadline:
            conn.poll()
            wait_readable([conn], 0.05)
        return replies[0] if replies else None, conn
    reply, conn = hello()
    assert reply["status"] == "ok" and len(asked) == 1
    from net.tls import cert_fingerprint_file
    assert known.get(server) == cert_fingerprint_file(cert1) == conn.fingerprint
    reply, _ = hello()  # pinned now: no question asked
    assert reply["status"] == "ok" and len(asked) == 1
    srv.stop()
    srv.args[srv.args.index(cert1)] = cert2
    srv.args[srv.args.index(key1)] = key2
    srv.restart()
    reply, conn = hello()
    assert reply["status"] == "disconnected" and "CHANGED" in reply["message"]
    assert len(asked) == 1


def test_cli_over_tls_with_a_given_fingerprint(make_server, certs, tmp_path):
    from net.tls import cert_fingerprint_file
    (cert, key), _ = certs
    srv = make_server("--tls-cert", cert, "--tls-key", key, "--sms", "off")
    env = dict(os.environ, CHATROOM_CONFIG_DIR=str(tmp_path / "cfg"))
    script = "/register tina 13755556666\ntina password 7\n/login tina\ntina password 7\n" \
             "over tls\n/quit\n"
    base = [sys.executable, os.path.join(ROOT, "chatroom.py"), "cli", "--port", str(srv.auth),
            "--lang", "en", "--tls"]
    refused = subprocess.run(base, input=script, capture_output=True, text=True, env=env,
                             timeout=60)
    assert refused.returncode == 1 and "not trusted" in refused.stderr + refused.stdout
    fp = cert_fingerprint_file(cert).replace(":", "").lower()
    ok = subprocess.run(base + ["--trust-fingerprint", fp], input=script, capture_output=True,
                        text=True, env=env, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "tina: over tls" in ok.stdout
    # Pinned now: --tls is implied and no fingerprint is needed any more.
    again = subprocess.run(base[:-1], input="/login tina\ntina password 7\n/quit\n",
                           capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 0 and "logged in as tina" in again.stdout


def test_make_cert_command(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "chatroom.py"), "make-cert",
                          "--host", "192.168.1.10", "--data-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    cert = tmp_path / "tls" / "cert.pem"
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    digest = hashlib.sha256(der).hexdigest().upper()
    assert ":".join(digest[i:i + 2] for i in range(0, 64, 2)) in out.stdout
    assert oct((tmp_path / "tls" / "key.pem").stat().st_mode & 0o777) == "0o600"


def test_half_configured_tls_is_refused(tmp_path, certs):
    (cert, _), _ = certs
    out = subprocess.run([sys.executable, os.path.join(ROOT, "server_main.py"), "--data-dir",
                          str(tmp_path), "--tls-cert", cert, "--auth-port", "0",
                          "--chat-port", "0", "--file-port", "0"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "--tls-key" in out.stderr


