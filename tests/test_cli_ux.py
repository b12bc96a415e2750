"""Issue 20, the terminal client and the network's words: every CLI line in the user's
language, OS and network errors translated through ui/neterrors.py, a plain client at a
TLS-only server told to use --tls, reconnecting said once (and only new history printed),
line editing at a terminal, progress lines that never run into messages, /files columns
that stay straight with Chinese names, the build run from the zipapp, the help naming the
commands people run, and the server saying where students connect."""
import io
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from net.client import ClientConnection, TlsOptions, wait_readable
from net.tls import client_context, make_self_signed
from tests.conftest import register
from tests.procs import ROOT, free_port, wait_until
from ui.cli import Cli, display_width, pad
from ui.i18n import STRINGS, Catalog
from ui.neterrors import known_network_error, network_error_text
from ui.pins import KnownServers, tls_options
from ui.presenters.common import status_text

LAUNCHER = os.path.join(ROOT, "chatroom.py")


def has_cjk(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def failed_connection(host, port, tls=None):
    """A ClientConnection driven until it closes; its `error` and the reply of its hello."""
    conn = ClientConnection(host, port, tls=tls)
    replies = []
    conn.request("hello", replies.append)
    deadline = time.monotonic() + 15
    while not replies:
        assert time.monotonic() < deadline, "the connection never closed"
        conn.poll()
        wait_readable([conn], 0.02)
    return conn.error, replies[0]


def resetting_listener():
    """A listener that resets every connection it accepts (SO_LINGER 0) once it has read
    the client's first bytes: "Connection reset by peer" on demand."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(100)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
    threading.Thread(target=serve, daemon=True).start()
    return listener


@pytest.fixture
def tls_server(make_server, tmp_path):
    cert, key = make_self_signed(str(tmp_path / "tls"), "localhost")
    return make_server("--tls-cert", cert, "--tls-key", key), cert


# -- 9: OS and network errors in the user's language -----------------------------------------

def test_os_and_network_errors_are_translated_not_left_in_english(tls_server, server):
    """Each way a connection fails, made to happen for real where loopback allows, comes out
    as a catalog sentence in zh (before issue 20: the English reason inside "错误：")."""
    zh = Catalog("zh")
    reasons = {}
    reasons["refused"] = failed_connection("127.0.0.1", free_port())[0]
    reasons["dns"] = failed_connection("no-such-host.invalid", 9999)[0]
    listener = resetting_listener()
    try:
        reasons["reset"] = failed_connection("127.0.0.1", listener.getsockname()[1])[0]
    finally:
        listener.close()
    # TLS spoken to a plain server
    reasons["tls"] = failed_connection("127.0.0.1", server.auth,
                                       TlsOptions(client_context()))[0]
    # a certificate not trusted, and one that changed since it was pinned
    srv, cert = tls_server
    known = KnownServers(os.path.join(os.path.dirname(cert), "known.json"))
    reasons["untrusted"] = failed_connection("127.0.0.1", srv.auth, tls_options(
        "127.0.0.1:%d" % srv.auth, known, lambda server, fp: False))[0]
    known.pin("127.0.0.1:%d" % srv.auth, "AB" * 32)
    reasons["changed"] = failed_connection("127.0.0.1", srv.auth, tls_options(
        "127.0.0.1:%d" % srv.auth, known, lambda server, fp: False))[0]
    # The ones loopback cannot produce, in net/client.py's own words.
    reasons["timeout"] = "no answer from 10.1.2.3:9999 (timed out)"
    reasons["timeout_lost"] = "connection lost: [Errno 110] Connection timed out"
    reasons["tls_timeout"] = "the TLS handshake with 10.1.2.3:9999 timed out"
    reasons["unreachable"] = "10.1.2.3 is unreachable from here"
    reasons["closed"] = "the server closed the connection"
    reasons["not_connected"] = "not connected"
    assert "reset by peer" in reasons["reset"], reasons
    assert "CHANGED" in reasons["changed"], reasons
    for what, reason in reasons.items():
        text = known_network_error(zh, reason)
        assert text is not None, (what, reason)
        assert has_cjk(text), (what, text)
        for english in ("reset by peer", "is the server running", "timed out", "resolve",
                        "Name or service", "not trusted", "has CHANGED", "connection lost"):
            assert english not in text, (what, text)
    # and the disconnected reply a window shows, through status_text
    reply = {"op": "login", "status": "disconnected", "message": reasons["refused"]}
    assert status_text(zh, reply).startswith("127.0.0.1:") and "没有服务在监听" in \
        status_text(zh, reply)
    assert "Nothing is listening" in status_text(Catalog("en"), reply)
    # an unknown reason is shown as it is, not lost
    assert network_error_text(zh, "something else") == "错误：something else"


# -- 11: a plain client at a TLS server ------------------------------------------------------

def test_plain_terminal_client_at_a_tls_server_is_told_to_use_tls(tls_server):
    srv, _ = tls_server
    user = {"username": "nobody_here", "password": "pw"}
    out = io.StringIO()
    cli = Cli("127.0.0.1", srv.auth, "en",
              stdin=io.StringIO("/login %s\n%s\n/quit\n" % (user["username"],
                                                          user["password"])), out=out)
    assert cli.run() == 1
    text = out.getvalue()
    assert "The server is encrypted: start the client with --tls" in text, text
    assert "reset" not in text.lower()


def test_closing_the_session_while_it_asks_whether_the_server_is_tls_says_nothing(
        tls_server):
    """A /quit right after a failed login used to print "the connection was reset" too: the
    start's hello was still asking over TLS, and closing answered it with the reset."""
    from ui.session import Session
    srv, _ = tls_server
    session = Session("127.0.0.1", srv.auth)
    replies = []
    session.hello(replies.append)
    deadline = time.monotonic() + 10
    while not session._tls_probes:  # the plain connection was reset: the TLS question is out
        assert time.monotonic() < deadline and not replies, replies
        session.poll()
        wait_readable(session.connections(), 0.02)
    session.close()
    assert replies == []


def test_session_reply_says_tls_required_only_for_a_tls_server(tls_server, server):
    from ui.session import Session
    srv, _ = tls_server
    for port, expected in ((srv.auth, True), (server.auth, None)):
        session = Session("127.0.0.1", port)
        replies = []
        session.hello(replies.append)
        deadline = time.monotonic() + 10
        while not replies:
            assert time.monotonic() < deadline
            session.poll()
            wait_readable(session.connections(), 0.02)
        session.close()
        assert replies[0].get("tls_required") is expected, replies
    # what a window shows for it
    reply = dict(replies[0], status="disconnected", tls_required=True)
    assert "tick Encrypted (TLS)" in status_text(Catalog("en"), reply)
    assert "加密连接（TLS）" in status_text(Catalog("zh"), reply)


# -- 9: the terminal client says everything in zh -------------------------------------------

def english_phrases():
    """The English of every catalog sentence the terminal client may print, as far as its
    first placeholder (at least a few words), where the Chinese differs."""
    phrases = set()
    for key, entry in STRINGS.items():
        if not key.startswith(("cli.", "net.", "status.", "error.", "register.", "room.")):
            continue
        english = entry["en"].split("{")[0].strip()
        if len(english) >= 8 and english != entry.get("zh"):
            phrases.add(english)
    return phrases | {"usage:", "online:", "logged in", "plain lines", "unknown command",
                      "not logged in", "no such file", "commands:", "created ", "joined ",
                      "deleted file", "sends there", "the lobby"}


def test_the_terminal_client_in_zh_prints_no_english(make_server, tmp_path):
    srv = make_server("--flood-limit", "0")
    user = register(srv)
    lines = ["/help", "/frobnicate", "/users", "/login", "/login " + user["username"],
             user["password"], "/users", "/create", "/create 物理 private", "/rooms",
             "/join", "/room", "/room 物理", "/lobby", "/invite", "/closeroom",
             "/files", "/files x", "/upload %s" % (tmp_path / "nothing_here"), "/delete abc",
             "/msg", "/mute", "/mute x y", "/unmute", "/kick", "/kick x 5m", "/quiet maybe",
             "/audit 500", "/handins get", "/register x", "/quit"]
    out = io.StringIO()
    cli = Cli("127.0.0.1", srv.auth, "zh", stdin=io.StringIO("\n".join(lines) + "\n"),
              out=out)
    assert cli.run() == 1
    text = out.getvalue()
    assert "命令：" in text and "用法：" in text and "已登录为" in text, text
    found = sorted(p for p in english_phrases() if p in text)
    assert not found, "English in the zh terminal client: %s\n%s" % (found, text)


# -- 16: reconnecting said once, and only new history -----------------------------------------

def test_reconnecting_is_said_once_and_the_history_is_not_printed_again(make_server):
    srv = make_server("--flood-limit", "0")
    ann = register(srv)
    read_fd, write_fd = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_fd, "r") as stdin:
        cli = Cli("127.0.0.1", srv.auth, "en", stdin=stdin, out=out)
        result = []
        thread = threading.Thread(target=lambda: result.append(cli.run()))
        thread.start()
        try:
            os.write(write_fd, ("/login %s\n%s\nbefore the outage\n" % (
                ann["username"], ann["password"])).encode())
            wait_until(lambda: ": before the outage" in out.getvalue(), 15, what="said")
            srv.stop()
            # the countdown runs through several seconds (backoff 1 s, 2 s, 4 s ...)
            wait_until(lambda: cli.session._backoff_s >= 8, 30, what="three failed tries")
            srv.restart()
            wait_until(lambda: "Back online" in out.getvalue(), 30, what="back online")
            os.write(write_fd, b"after the outage\n")
            wait_until(lambda: ": after the outage" in out.getvalue(), 15, what="said again")
        finally:
            os.close(write_fd)
            thread.join(15)
    text = out.getvalue()
    assert text.count("Connection lost") == 1, text
    assert "reconnecting in" not in text, text
    assert re.search(r"Back online \(127\.0\.0\.1:\d+\) after \d+ s, \d+ tries\.", text), text
    assert text.count(": before the outage") == 1, text  # not printed again after reconnect


# -- 16: progress lines never run into messages -----------------------------------------------

class Sending:
    """A transfer in the middle of sending, as TransferQueue.active() lists it."""
    state, kind, name, size, done_bytes, conn, finished = "sending", "up", "big.bin", 100, \
        49, None, False

    def speed_bps(self, now):
        return 1024


def visible_lines(text):
    """What a terminal shows: each line's text after its last carriage return, with the
    erase-line sequence taken out."""
    return [line.split("\r")[-1].replace("\x1b[K", "") for line in text.split("\n")]


def test_a_message_is_printed_on_a_clean_line_after_a_progress_line(monkeypatch):
    screen = io.StringIO()  # stdout and stderr are one terminal
    monkeypatch.setattr(sys, "stderr", screen)
    cli = Cli("127.0.0.1", 1, "en", stdin=io.StringIO(""), out=screen)
    cli.interactive = True
    monkeypatch.setattr(cli.transfers, "active", lambda: [Sending()])
    cli._show_progress(time.monotonic())
    assert "49%" in screen.getvalue()
    cli.on_message({"op": "message", "msg_id": 7, "from": "bob", "text": "hi there",
                    "ts": time.time()})
    lines = visible_lines(screen.getvalue())
    said = [line for line in lines if "hi there" in line]
    assert len(said) == 1 and said[0].startswith("["), lines
    assert "49%" not in said[0]


# -- 16: /files columns with CJK names --------------------------------------------------------

def test_display_width_counts_a_cjk_character_as_two_columns():
    assert display_width("report.txt") == 10
    assert display_width("报告.txt") == 8
    assert display_width("e\u0301") == 1  # a combining accent takes no column
    assert display_width(pad("报告.txt", 12)) == 12
    assert pad("a-very-long-name", 4) == "a-very-long-name"


def test_files_columns_stay_straight_with_chinese_names(make_server):
    from tests.conftest import file_client
    srv = make_server()
    user = register(srv)
    with file_client(srv, user) as c:
        for name in ("report.txt", "期末报告.txt", "实验一/数据.csv"):
            assert c.upload(name, b"x" * 10)["status"] == "ok"
    out = io.StringIO()
    cli = Cli("127.0.0.1", srv.auth, "en", out=out, stdin=io.StringIO(
        "/login %s\n%s\n/files\n/quit\n" % (user["username"], user["password"])))
    assert cli.run() == 0, out.getvalue()
    rows = [line for line in out.getvalue().splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 3, out.getvalue()
    owner_columns = {display_width(row[:row.index(" " + user["username"])]) for row in rows}
    assert len(owner_columns) == 1, rows


# -- 16: line editing at a terminal (readline) ------------------------------------------------

def read_until(fd, pattern, seen, timeout_s=20):
    deadline = time.monotonic() + timeout_s
    while not re.search(pattern, seen[0]):
        left = deadline - time.monotonic()
        assert left > 0, "never saw %r in:\n%s" % (pattern, seen[0])
        if select.select([fd], [], [], min(left, 0.2))[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                raise AssertionError("the client ended; it said:\n%s" % seen[0])
            seen[0] += data.decode("utf-8", "replace")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_lines_typed_at_a_terminal_can_be_edited(make_server):
    pytest.importorskip("readline")
    srv = make_server("--flood-limit", "0")
    user = register(srv)
    master, slave = os.openpty()
    env = dict(os.environ, TERM="xterm", PYTHONIOENCODING="utf-8")
    proc = subprocess.Popen([sys.executable, LAUNCHER, "cli", "--port", str(srv.auth),
                             "--lang", "en"], stdin=slave, stdout=slave, stderr=slave,
                            env=env, start_new_session=True,
                            preexec_fn=lambda: __import__("fcntl").ioctl(
                                0, __import__("termios").TIOCSCTTY, 0))
    os.close(slave)
    seen = [""]
    try:
        read_until(master, r"/help for commands", seen)
        os.write(master, ("/login %s\r" % user["username"]).encode())
        read_until(master, r"Password: ", seen)
        os.write(master, (user["password"] + "\r").encode())
        read_until(master, r"logged in as", seen)
        os.write(master, b"helo\x1b[Dl\r")  # a letter forgotten, the cursor moved back
        read_until(master, r"\] %s: [^\r\n]*\r?\n" % re.escape(user["username"]), seen)
        assert "%s: hello" % user["username"] in seen[0], seen[0]
        os.write(master, b"/quit\r")
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


# -- 16: the build run from the zipapp, the help, the server's address ------------------------

def test_the_zipapp_builds_itself_without_a_traceback(tmp_path):
    first = tmp_path / "chatroom.pyz"
    out = subprocess.run([sys.executable, LAUNCHER, "build", "--output", str(first)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    again = tmp_path / "again.pyz"
    out = subprocess.run([sys.executable, "-I", "-S", str(first), "build", "--output",
                          str(again)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert again.read_bytes() == first.read_bytes()
    out = subprocess.run([sys.executable, "-I", "-S", str(first), "build"],
                         capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "dist" / "chatroom.pyz").read_bytes() == first.read_bytes()


@pytest.mark.parametrize("command", ["server", "client"])
def test_help_names_the_command_people_run(command):
    out = subprocess.run([sys.executable, LAUNCHER, command, "--help"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "server_main.py" not in out.stdout and "client_main.py" not in out.stdout
    assert "python chatroom.py %s" % command in out.stdout


def test_the_server_says_how_students_reach_it():
    from options import connect_hint
    hint = connect_hint("0.0.0.0", 9999, False, ["192.168.1.10", "10.0.0.5"])
    assert hint == ("students connect with: python chatroom.py client --host 192.168.1.10 or "
                    "python chatroom.py client --host 10.0.0.5")
    assert connect_hint("0.0.0.0", 10999, True, ["192.168.1.10"]).endswith(
        "--host 192.168.1.10 --port 10999 --tls")
    assert "THIS_MACHINE" in connect_hint("::", 9999, False, [])
    assert connect_hint("192.168.1.10", 9999, False) == \
        "students connect with: python chatroom.py client --host 192.168.1.10"
    assert "only this machine can connect" in connect_hint("127.0.0.1", 9999, False)


def test_the_server_log_has_the_line(server):
    assert "only this machine can connect (python chatroom.py client --port %d)" % \
        server.auth in server.log()
