"""ui/cli.py walked through as a new user would: what a first walk found (Ctrl+C leaving the
terminal without echo, Ctrl+D at a password prompt ending in a traceback, a script that
ends at a prompt waiting forever, "not logged in" while reconnecting, printed messages
still counted unread, commands without their argument, a wrapped line left on a narrow
terminal)."""
import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import chat_client, register
from tests.test_cli_ux import LAUNCHER, read_until
from tests.wire import WireClient
from ui.cli import Cli, TerminalLines


def cli_script(srv, lines, lang="en"):
    out = io.StringIO()
    cli = Cli("127.0.0.1", srv.auth, lang, stdin=io.StringIO("\n".join(lines) + "\n"),
              out=out)
    return cli, out


def run_with_deadline(cli, timeout_s=20):
    """cli.run() on a thread: a client that hangs fails the test instead of hanging it."""
    result = []
    runner = threading.Thread(target=lambda: result.append(cli.run()), daemon=True)
    runner.start()
    runner.join(timeout_s)
    assert not runner.is_alive(), "the client never ended"
    return result[0]


def test_a_script_that_ends_at_the_password_prompt_ends_too(make_server):
    srv = make_server()
    cli, out = cli_script(srv, ["/login nobody"])
    assert run_with_deadline(cli) == 1
    assert "! cancelled" in out.getvalue()


def test_commands_without_their_path_show_their_usage(make_server, tmp_path):
    srv = make_server()
    user = register(srv)
    empty = tmp_path / "empty"
    empty.mkdir()
    cli, out = cli_script(srv, ["/login " + user["username"], user["password"], "/upload",
                                "/handin", "/download", "/history abc",
                                "/upload " + str(empty), "/quit"])
    assert run_with_deadline(cli) == 1
    text = out.getvalue()
    for usage in ("usage: /upload PATH", "usage: /handin PATH", "usage: /download ID",
                  "usage: /history [N]"):
        assert usage in text, text
    assert "no such file or folder" not in text and "That file is gone" not in text, text
    assert "nothing to send in %s" % empty in text, text


def test_messages_printed_as_they_come_are_not_counted_unread(make_server):
    """The login's glimpse of the last ten messages leaves them unread
    (tests/test_directory_ui.py); a message printed as it arrives has been read."""
    srv = make_server("--flood-limit", "0")
    alice, bob = register(srv), register(srv)
    read_end, write_end = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_end, "r") as stdin:
        cli = Cli("127.0.0.1", srv.auth, "en", stdin=stdin, out=out)
        result = []
        runner = threading.Thread(target=lambda: result.append(cli.run()), daemon=True)
        runner.start()
        with os.fdopen(write_end, "w") as typed:
            typed.write("/login %s\n%s\n" % (alice["username"], alice["password"]))
            typed.flush()
            wait_for(lambda: "* online:" in out.getvalue(), "alice online")
            with chat_client(srv, bob) as c:
                for text in ("one", "two"):
                    assert c.request("say", text=text)["status"] == "ok"
                assert c.request("say", text="for alice",
                                 to=alice["username"])["status"] == "ok"
            wait_for(lambda: "for alice" in out.getvalue(), "the messages printed")
            typed.write("/unread\n/quit\n")
        runner.join(20)
    assert result == [0], out.getvalue()
    assert "Nothing unread." in out.getvalue(), out.getvalue()


def wait_for(condition, what, timeout_s=20):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "never: " + what
        time.sleep(0.02)


def test_while_reconnecting_a_line_is_not_called_not_logged_in_and_is_given_back():
    out = io.StringIO()
    cli = Cli("127.0.0.1", 1, "en", stdin=io.StringIO(""), out=out)
    cli.session.token, cli.session.state = "a token", "reconnecting"
    cli.handle("see you at three")
    text = out.getvalue()
    assert "not logged in" not in text
    assert "is being made again" in text and "  see you at three\n" in text, text


def test_a_wrapped_typed_line_is_erased_from_its_first_row(monkeypatch):
    class Typed:
        @staticmethod
        def get_line_buffer():
            return "x" * 60  # with the prompt, 62 columns: two rows of a 40-column terminal
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a: os.terminal_size((40, 24)))
    lines = TerminalLines("> ")
    try:
        lines.readline, lines.reading = Typed(), True
        out = io.StringIO()
        lines.say_above(out, "[14:05] [#7] bob: hi")
        assert out.getvalue() == "\r\x1b[1A\x1b[J[14:05] [#7] bob: hi\n> " + "x" * 60
    finally:
        lines.close()


@contextlib.contextmanager
def client_on_a_terminal(srv):
    """The launcher's cli on a pseudo-terminal, once it shows its prompt: (the process, the
    master side, the slave side, [what it printed so far]); stopped at the end."""
    import fcntl
    import termios
    pytest.importorskip("readline")
    master, slave = os.openpty()
    env = dict(os.environ, TERM="xterm", PYTHONIOENCODING="utf-8")

    def own_terminal():  # in a session of its own, the pty is its terminal: Ctrl+C reaches it
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        # A test run started as a background job of a script inherits SIGINT ignored, and
        # Python keeps an ignored SIGINT ignored: Ctrl+C would then do nothing at all.
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    proc = subprocess.Popen([sys.executable, LAUNCHER, "cli", "--port", str(srv.auth),
                             "--lang", "en"], stdin=slave, stdout=slave, stderr=slave,
                            env=env, start_new_session=True, preexec_fn=own_terminal)
    seen = [""]
    try:
        read_until(master, r"/help for commands\r?\n> ", seen)
        yield proc, master, slave, seen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_ctrl_d_at_the_password_prompt_cancels_the_login_only(make_server):
    with client_on_a_terminal(make_server()) as (proc, master, _, seen):
        os.write(master, b"/login nobody\r")
        read_until(master, r"Password: ", seen)
        os.write(master, b"\x04")
        read_until(master, r"! cancelled", seen)
        os.write(master, b"/users\r")
        read_until(master, r"not logged in", seen)
        os.write(master, b"/quit\r")
        assert proc.wait(20) == 1
        assert "Traceback" not in seen[0], seen[0]


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_ctrl_c_gives_the_terminal_back_with_echo(make_server):
    termios = pytest.importorskip("termios")
    with client_on_a_terminal(make_server()) as (proc, master, slave, _):
        os.write(master, b"\x03")
        assert proc.wait(20) == 130
        local_modes = termios.tcgetattr(slave)[3]
        assert local_modes & termios.ECHO and local_modes & termios.ICANON


def test_a_download_into_a_folder_that_cannot_be_made_names_the_folder(make_server,
                                                                        tmp_path):
    from tests.conftest import file_client
    srv = make_server()
    user = register(srv)
    with file_client(srv, user) as c:
        done = c.upload("notes.txt", b"some notes")
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    dest = blocker / "inside"
    cli, out = cli_script(srv, ["/login " + user["username"], user["password"],
                                "/download %d %s" % (done["file"]["file_id"], dest), "/quit"])
    assert run_with_deadline(cli) == 1
    text = out.getvalue()
    assert "Could not make the folder %s" % dest in text, text
    assert "gone" not in text, text


def test_logout_ends_the_login_on_the_server_and_another_may_follow(make_server):
    srv = make_server()
    ann, bob = register(srv), register(srv)
    tokens = []
    cli, out = cli_script(srv, ["/login " + ann["username"], ann["password"], "/logout",
                                "/users", "/login " + bob["username"], bob["password"],
                                "/quit"])
    login = cli.session.login

    def remember_token(name, password, callback):
        login(name, password, lambda reply: (tokens.append(reply.get("token")),
                                             callback(reply)))
    cli.session.login = remember_token
    assert run_with_deadline(cli) == 1  # the /users while logged out
    text = out.getvalue()
    assert "* Logged out. /login NAME to log in again." in text, text
    assert "! not logged in" in text and "* logged in as %s" % bob["username"] in text, text
    with WireClient(srv.chat) as c:  # ann's token is dead on the server
        assert c.request("auth", token=tokens[0])["status"] == "unauthorized"


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_mistyped_code_is_asked_for_again_not_the_whole_form(make_server):
    from tests.conftest import new_identity
    srv = make_server()
    name, phone = new_identity()
    with client_on_a_terminal(srv) as (proc, master, _, seen):
        os.write(master, ("/register %s %s\r" % (name, phone)).encode())
        read_until(master, r"Password: ", seen)
        os.write(master, b"a good password 1\r")
        read_until(master, r"SMS code: ", seen)
        wrong = "000000" if srv.sms_code(phone) != "000000" else "111111"
        os.write(master, wrong.encode() + b"\r")
        read_until(master, r"The code is wrong or has expired\.[^\n]*\n[^\n]*SMS code: ", seen)
        os.write(master, srv.sms_code(phone).encode() + b"\r")
        read_until(master, r"Account created", seen)
        os.write(master, b"/quit\r")
        proc.wait(20)
    with WireClient(srv.auth) as c:
        assert c.request("login", login=name, password="a good password 1")["status"] == "ok"


def test_a_narrow_terminal_gets_each_file_on_two_short_lines():
    from ui.cli import FILE_LINE_COLUMNS, file_lines
    from ui.i18n import Catalog
    record = {"file_id": 42, "name": "hw/week 1/report.pdf", "size": 123456, "owner": "ann",
              "uploaded_at": 1764169937.0, "visibility": "all"}
    wide = file_lines(Catalog("en"), record, FILE_LINE_COLUMNS)
    assert len(wide) == 1 and len(wide[0]) <= FILE_LINE_COLUMNS
    narrow = file_lines(Catalog("en"), record, 40)
    assert narrow[0] == "    42  hw/week 1/report.pdf"
    assert narrow[1].startswith("        120.6 KB  ann  ") and all(len(n) <= 40 for n in narrow)
    assert file_lines(Catalog("en"), record) == wide  # not a terminal: one line, always
