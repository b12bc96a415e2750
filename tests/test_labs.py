"""docs/LABS.md never rots: every `$` command of every lab runs here, in the order of the
page, and every claim its checked answers make is asserted.

How a lab's commands run (ports are the test's own, never the lab's fixed ones):
  python chatroom.py server ...   a server (tests/procs.py ServerProc; its --*-port options
                                  dropped); with --tls-cert it is the lab's second server,
                                  else it replaces the first. 9999 and 9899 in later commands
                                  mean their auth ports. With --host other than loopback it
                                  is expected to be refused, and is never started.
  python docs/labs/tap.py A B     started in the background on a free port, which A then means
  printf '...' | python ...       run with that input
  python chatroom.py client ...   the GUI: its options are checked (--help); the window and
                                  its inspector are driven by tests/test_inspector.py
  anything else                   run to completion
Every command runs in one scratch folder (the labs' checkout root), on loopback.
"""
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest

from tests.procs import ROOT, ServerProc, wait_until
from tests.wire import WireClient

LABS = os.path.join(ROOT, "docs", "LABS.md")
RUN_TIMEOUT_S = 120


def lab_sections():
    """{lab number: (its text, its `$` commands in order)}"""
    with open(LABS, encoding="utf-8") as f:
        text = f.read()
    sections = {}
    for match in re.finditer(r"^## Lab (\d)\. .*?(?=^## Lab |\Z)", text, re.M | re.S):
        body = match.group(0)
        commands = [line[2:] for block in re.findall(r"```console\n(.*?)```", body, re.S)
                    for line in block.splitlines() if line.startswith("$ ")]
        sections[int(match.group(1))] = (body, commands)
    return sections


class Result:
    def __init__(self, argv, returncode, stdout, stderr):
        self.argv, self.returncode, self.stdout, self.stderr = argv, returncode, stdout, stderr

    @property
    def output(self):
        return self.stdout + self.stderr

    def __repr__(self):
        return "%r -> %s\n%s" % (self.argv, self.returncode, self.output[-3000:])


class Bench:
    """Runs the labs' commands in one folder, as a student would, with our ports."""

    def __init__(self, folder):
        self.folder = folder
        self.env = dict(os.environ, CHATROOM_CONFIG_DIR=os.path.join(folder, "config"))
        self.env.pop("CHATROOM_CHAOS", None)  # the labs say where chaos is on
        self.ports = {}  # a lab's port number -> ours
        self.plain = self.tls = None
        self.taps = []
        self.tap_logs = {}  # the lab's tap port -> its output file

    def close(self):
        for srv in (self.plain, self.tls):
            if srv is not None:
                srv.stop()
        for proc in self.taps:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def run(self, command):
        stdin = None
        printf = re.match(r"printf '([^']*)' \| (.*)$", command)
        if printf:
            stdin = printf.group(1).encode().decode("unicode_escape")
            command = printf.group(2)
        argv = shlex.split(command)
        assert argv[0] == "python", command
        script = argv[1]
        args = [self.ports.get(a, a) for a in argv[2:]]
        if script == "chatroom.py" and args[0] == "server":
            return self.server(args[1:])
        if script == "docs/labs/tap.py":
            return self.tap(args)
        if script == "chatroom.py" and args[0] == "client":
            args = args + ["--help"]
        if script == "chatroom.py" and args[0] == "cli" and "--port" not in args:
            args += ["--port", self.ports["9999"]]
        argv = [sys.executable, os.path.join(ROOT, script)] + args
        out = subprocess.run(argv, input=stdin, capture_output=True, text=True, cwd=self.folder,
                             env=self.env, timeout=RUN_TIMEOUT_S)
        return Result(argv, out.returncode, out.stdout, out.stderr)

    def server(self, args):
        if "--host" in args and args[args.index("--host") + 1] not in ("127.0.0.1", "localhost"):
            argv = [sys.executable, os.path.join(ROOT, "chatroom.py"), "server"] + args
            out = subprocess.run(argv, capture_output=True, text=True, cwd=self.folder,
                                 env=self.env, timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)
            assert out.returncode != 0, "a lab server on a LAN address was started"
            return Result(argv, out.returncode, out.stdout, out.stderr)
        kept = []
        skip = False
        for arg in args:  # our ports, not the lab's
            if skip:
                skip = False
            elif arg in ("--auth-port", "--chat-port", "--file-port"):
                skip = True
            else:
                kept.append(arg)
        data_dir = "chatroom-data"
        if "--data-dir" in kept:
            i = kept.index("--data-dir")
            data_dir = kept.pop(i + 1)
            kept.pop(i)
        for option in ("--tls-cert", "--tls-key"):  # the lab's paths, from its folder
            if option in kept:
                i = kept.index(option) + 1
                kept[i] = os.path.join(self.folder, kept[i])
        if "--tls-cert" in kept:
            assert self.tls is None
            self.tls = srv = ServerProc(os.path.join(self.folder, data_dir), *kept,
                                        relaxed=False)
            self.ports["9899"] = str(srv.auth)
        else:
            if self.plain is not None:
                self.plain.stop()
            self.plain = srv = ServerProc(os.path.join(self.folder, data_dir), *kept,
                                          relaxed=False)
            self.ports["9999"] = str(srv.auth)
        return srv

    def tap(self, args):
        lab_port, target = args
        log = os.path.join(self.folder, "tap-%s.log" % lab_port)
        proc = subprocess.Popen([sys.executable, "-u", os.path.join(ROOT, "docs/labs/tap.py"),
                                 "0", target], stdout=open(log, "w"), stderr=subprocess.STDOUT,
                                cwd=self.folder)
        self.taps.append(proc)
        wait_until(lambda: "listening on" in self.tap_output(log), 10, what="the tap")
        self.ports[lab_port] = re.search(r"127\.0\.0\.1:(\d+),", self.tap_output(log)).group(1)
        self.tap_logs[lab_port] = log
        return proc

    @staticmethod
    def tap_output(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    b = Bench(str(tmp_path_factory.mktemp("labs")))
    yield b
    b.close()


@pytest.fixture(scope="module")
def sections():
    return lab_sections()


def test_the_page_has_five_labs_each_with_commands_and_a_checked_answer(sections):
    assert sorted(sections) == [1, 2, 3, 4, 5]
    for number, (body, commands) in sections.items():
        assert commands, "lab %d has no commands" % number
        assert "**Explain.**" in body or "**Break it.**" in body, number
        assert "<summary>Answer (checked)</summary>" in body, number


def test_lab1_trace_of_a_login_and_a_message(bench, sections):
    server, cli = [bench.run(c) for c in sections[1][1]]
    assert cli.returncode == 0, cli
    assert "logged in as alice" in cli.stdout and "alice: hello everyone" in cli.stdout
    log = server.log()
    lines = [line.split("chatroom.trace: ", 1)[1] for line in log.splitlines()
             if "chatroom.trace: " in line]
    # Answer 1: three connections, the password on the auth one only.
    peers = {line.split(" ")[0]: line.split(" ")[1] for line in lines}
    assert set(peers) == {"auth", "chat", "file"} and len(set(peers.values())) == 3
    password_lines = [line for line in lines if "'password'" in line]
    assert password_lines and all(line.startswith("auth ") for line in password_lines)
    login_reply = [line for line in lines if "> {'op': 'login'" in line][0]
    assert "'services': {'auth': %d, 'chat': %d, 'file': %d}" % (
        server.auth, server.chat, server.file) in login_reply
    assert any(line.startswith("chat ") and "< {'token': '***', 'op': 'auth'" in line
               for line in lines)
    # Answer 2: secrets masked, both ways.
    assert "lab password 1" not in log
    assert "'password': '***'" in log and "'code': '***'" in log and "'token': '***'" in log
    # Answer 3: the reply with its status, then the event without.
    chat = [line for line in lines if line.startswith("chat ")]
    reply = [i for i, line in enumerate(chat) if "> {'op': 'say'" in line][0]
    event = [i for i, line in enumerate(chat) if "> {'op': 'message'" in line][0]
    assert reply < event and "'status': 'ok'" in chat[reply] and "'status'" not in chat[event]
    # The excerpt on the page is what the trace looks like.
    for shape in ("< {'op': 'hello', 'id': 1}",
                  "< {'username': 'alice', 'password': '***', 'phone': '13800138000', "
                  "'code': '***', 'email': '', 'op': 'register', 'id': ",
                  "< {'login': 'alice', 'password': '***', 'op': 'login', 'id': ",
                  "< {'text': 'hello everyone', 'op': 'say', 'id': "):
        assert any(shape in line for line in lines), shape


def test_lab2_chaos_splits_and_merges_and_the_frames_hold(bench, sections):
    commands = sections[2][1]
    server = bench.run(commands[0])
    assert "--chaos" in server.args
    for _ in range(5):  # where the cuts fall depends on timing too; the order never
        sticky = bench.run(commands[1])
        assert sticky.returncode == 0, sticky
        last = sticky.stdout.splitlines()[-1]
        assert re.fullmatch(r"20 replies in \d+ recv\(\) calls, in order: True", last), last
        lines = sticky.stdout.splitlines()[:-1]
        assert all(re.fullmatch(r"recv\(\) returned +\d+ bytes; whole frames: (none|[\d,]+) +"
                                r"bytes of the next one: \d+", line) for line in lines), lines
        if len(lines) > 1:
            break
    assert len(lines) > 1, "twenty replies came in one recv() five times under --chaos"
    cli = bench.run(commands[2])
    assert cli.returncode == 0, cli
    assert "logged in as alice" in cli.stdout and "alice: hello through chaos" in cli.stdout
    gui = bench.run(commands[3])
    assert gui.returncode == 0 and "--chaos SEED" in gui.stdout, gui
    refused = bench.run(commands[4])
    assert refused.returncode == 2
    assert "--chaos 7 is refused with --host 0.0.0.0" in refused.stderr
    assert "--chaos-anywhere" in refused.stderr
    # The server's word on each connection, as the page quotes it.
    found = server.wait_log(r"chaos: sent (\d+) bytes in (\d+) pieces \(held back (\d+) "
                            r"times\), received (\d+) bytes in (\d+) reads")
    pieces = [int(m.group(1)) for m in re.finditer(r"chaos: sent \d+ bytes in (\d+) pieces",
                                                   server.log())]
    assert found and max(pieces) > 1
    assert "'text': 'hello through chaos'" in server.log()  # the trace: whole frames


def test_lab3_a_client_of_your_own(bench, sections):
    body, commands = sections[3]
    with open(os.path.join(ROOT, "docs", "labs", "client.py"), encoding="utf-8") as f:
        source = f.read()
    assert "```python\n" + source + "```" in body, "the answer on the page is not the file"
    code_lines = [line for line in source.splitlines()
                  if line.strip() and not line.strip().startswith("#")]
    assert len(code_lines) <= 36  # "about thirty lines", the docstring included
    imports = set(re.findall(r"^import (\w+)", source, re.M))
    assert imports == {"json", "socket", "struct", "sys"} and "from " not in source
    assert "sendall" not in source  # the partial-send loop is written out
    result = bench.run(commands[0])
    assert result.returncode == 0, result
    assert result.stdout.splitlines() == ["login: ok", "auth: ok", "say: ok"]
    with WireClient(bench.plain.auth) as auth:
        token = auth.request("login", login="alice", password="lab password 1")["token"]
    with WireClient(bench.plain.chat) as chat:
        history = chat.request("auth", token=token)["history"]
    assert [m["text"] for m in history if m["from"] == "alice"][-1] == "hello"
    # Break it: 0x47 for 0x4A.
    broken = os.path.join(bench.folder, "broken_client.py")
    with open(broken, "w", encoding="utf-8") as f:
        f.write(source.replace("0x4A", "0x47"))
    args = [bench.ports.get(a, a) for a in shlex.split(commands[0])[2:]]
    out = subprocess.run([sys.executable, broken] + args,
                         capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                         cwd=bench.folder, env=bench.env)
    assert out.returncode == 1
    assert out.stdout.strip() == "login: bad_frame"
    assert out.stderr.strip() == "unknown frame kind 0x47"


def test_lab4_the_slow_reader(bench, sections):
    commands = sections[4][1]
    server = bench.run(commands[0])
    result = bench.run(commands[1])
    assert result.returncode == 0, result
    out = result.stdout
    assert ("page 0, page 1, page 2, page 3, page 4, page 5, page 6, page 7, ping, in the "
            "order asked.") in out
    got = re.search(r"The reader got ([\d.]+) MB of the 12 MB, then: (.*)", out)
    assert got and float(got.group(1)) < 8 and got.group(2) in (
        "closed by the server", "[Errno 104] Connection reset by peer"), out
    log = server.log()
    wait = re.search(r"chat \S+: (\d+) bytes unsent: its requests wait until it reads \(high "
                     r"water mark 1024 KiB\)", log)
    again = re.search(r"chat \S+: (\d+) bytes unsent: its requests are read again \(low "
                      r"water mark 256 KiB\)", log)
    cut = re.search(r"chat \S+: (\d+) bytes unsent; the peer is not reading, closing it", log)
    assert wait and again and cut, log[-3000:]
    assert int(wait.group(1)) > 1024 * 1024 and int(again.group(1)) <= 256 * 1024
    assert int(cut.group(1)) > 4 * 1024 * 1024
    assert wait.start() < again.start() < cut.start()


def test_lab5_plain_and_tls_on_the_wire_and_in_the_client(bench, sections):
    commands = sections[5][1]
    cert = bench.run(commands[0])
    assert cert.returncode == 0, cert
    bench.run(commands[1])  # the TLS server
    bench.run(commands[2])  # the taps
    bench.run(commands[3])
    plain = bench.run(commands[4])
    assert plain.returncode == 0 and "logged in as alice" in plain.stdout, plain
    secure = bench.run(commands[5])
    assert secure.returncode == 0 and "logged in as bob" in secure.stdout, secure
    gui = bench.run(commands[6])
    assert gui.returncode == 0, gui

    def tapped(lab_port, direction):
        lines = Bench.tap_output(bench.tap_logs[lab_port]).splitlines()[1:]
        return [line for line in lines if line.startswith(direction)]
    wait_until(lambda: tapped("9001", "server -> client"), 10, what="the TLS tap's output")
    sent_plain = tapped("9000", "client -> server")
    assert all(re.match(r"client -> server +\d+ bytes  4a 00 00 00", line)
               for line in sent_plain), sent_plain
    assert any('"login":"alice","password":"lab password 1"' in line for line in sent_plain)
    assert any('"token":"' in line for line in tapped("9000", "server -> client"))
    sent_tls = tapped("9001", "client -> server")
    both_tls = sent_tls + tapped("9001", "server -> client")
    assert re.match(r"client -> server +\d+ bytes  16 03", sent_tls[0]), sent_tls[0]
    assert any(re.match(r"\S+ -> \S+ +\d+ bytes  17 03 03", line) for line in both_tls)
    assert not any("lab password" in line or '"op":' in line for line in both_tls)
    # Answer 1: the same frames through TLS, as the client's inspector hook sees them.
    assert frames_seen(bench.plain.auth, None) == frames_seen(
        bench.tls.auth, os.path.join(bench.folder, "lab-tls", "tls", "cert.pem"))


def frames_seen(port, ca):
    """(direction, kind, length) of the frames of one `hello` and one failed `login`, as
    ClientConnection's observer (the inspector's hook) reports them."""
    from net.client import ClientConnection, TlsOptions, wait_readable
    from net.tls import client_context
    tls = TlsOptions(client_context(ca)) if ca else None
    conn = ClientConnection("127.0.0.1", port, tls=tls)
    seen, replies = [], []
    conn.observer = lambda c, d, kind, body, message, reads: seen.append(
        (d.value, kind, message.get("op"), message.get("status")) if message else None)
    conn.request("login", replies.append, login="nobody_here", password="x")
    deadline = time.monotonic() + 10
    while not replies and time.monotonic() < deadline:
        conn.poll()
        wait_readable([conn], 0.01)
    conn.close()
    assert replies and replies[0]["status"] == "bad_credentials", replies
    return seen
