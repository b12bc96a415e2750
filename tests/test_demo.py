"""Issue 20, the demo (python chatroom.py): it says where registration codes appear, a
second demo finds the first one's server and opens a client on it (or says which program
holds the port), and quitting the demo's window asks first while others are connected."""
import os
import signal
import socket
import subprocess
import sys

import pytest

from tests.procs import ROOT, ServerProc
from ui.demo import running_server

LAUNCHER = os.path.join(ROOT, "chatroom.py")


def demo(tmp_path, *args, display=None, **kw):
    env = dict(os.environ, CHATROOM_CONFIG_DIR=str(tmp_path / "config"))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    if display:
        env["DISPLAY"] = display
    return subprocess.Popen([sys.executable, LAUNCHER, "--data-dir", str(tmp_path / "demo"),
                             "--lang", "en"] + list(args), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)


def read_until(proc, text, lines):
    while not any(text in line for line in lines):
        line = proc.stdout.readline()
        assert line, "the demo ended: %s" % "".join(lines)
        lines.append(line)
    return "".join(lines)


def test_the_demo_says_the_sms_code_is_printed_in_its_terminal(tmp_path):
    proc = demo(tmp_path, "--auth-port", "0", "--chat-port", "0", "--file-port", "0")
    lines = []
    try:
        text = read_until(proc, "listening", lines)
        assert "it is printed here, in this terminal" in text, text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_running_server_tells_plain_tls_and_nothing(tmp_path, server):
    from net.tls import cert_fingerprint_file, make_self_signed
    assert running_server("127.0.0.1", server.auth) == (False, None)
    cert, key = make_self_signed(str(tmp_path / "tls"), "localhost")
    srv = ServerProc(str(tmp_path / "srv"), "--tls-cert", cert, "--tls-key", key)
    try:
        assert running_server("127.0.0.1", srv.auth) == (True, cert_fingerprint_file(cert))
    finally:
        srv.stop()
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert running_server("127.0.0.1", port) is None


def test_a_second_demo_without_a_display_names_the_running_server(tmp_path, server):
    proc = demo(tmp_path, "--auth-port", str(server.auth), "--chat-port", "0",
                "--file-port", "0")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "A chatroom server is already running on 127.0.0.1:%d" % server.auth in out, out
    assert "python chatroom.py cli --host 127.0.0.1 --port %d" % server.auth in out, out


def test_a_second_demo_with_a_display_opens_a_client_on_the_running_server(tmp_path, server,
                                                                           xvfb):
    proc = demo(tmp_path, "--auth-port", str(server.auth), "--chat-port", "0",
                "--file-port", "0", display=xvfb.display)
    lines = []
    try:
        text = read_until(proc, "already running", lines)
        assert "Opening a client on it" in text, text
        assert proc.poll() is None  # the client's window is open
    finally:
        proc.kill()
        proc.wait()


def test_a_port_held_by_another_program_is_named(tmp_path, xvfb):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(8)
        port = other.getsockname()[1]
        proc = demo(tmp_path, "--auth-port", str(port), "--chat-port", "0", "--file-port",
                    "0", display=xvfb.display)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "127.0.0.1:%d is taken by another program" % port in out, out


@pytest.mark.gui
def test_quitting_the_demo_asks_first_while_others_are_connected(xvfb, monkeypatch, tmp_path,
                                                                 server):
    monkeypatch.setenv("DISPLAY", xvfb.display)
    monkeypatch.setenv("CHATROOM_CONFIG_DIR", str(tmp_path / "config"))
    tk = pytest.importorskip("tkinter")
    import ui.tk.app
    from ui.settings import ClientSettings
    asked = []
    answer = [False]

    def askyesno(title, message, **options):
        asked.append((title, message))
        return answer[0]
    monkeypatch.setattr(ui.tk.app.messagebox, "askyesno", askyesno)
    people = [{"ann", "bob", "cat"}]
    app = ui.tk.app.App(tk.Tk(), ClientSettings(server="127.0.0.1:%d" % server.auth), "en",
                        str(tmp_path / "cfg.json"), hosted_people=lambda: people[0])
    try:
        app.root.protocol("WM_DELETE_WINDOW")  # the close button is wired to ask_quit
        assert "ask_quit" in app.root.protocol("WM_DELETE_WINDOW")
        app.ask_quit()
        assert not app.closed and len(asked) == 1
        assert asked[0][0] == "Stop the server?" and "3 other" in asked[0][1]
        people[0] = set()  # nobody else: no question
        answer[0] = False
        app.ask_quit()
        assert app.closed and len(asked) == 1
    finally:
        app.quit()

    plain = ui.tk.app.App(tk.Tk(), ClientSettings(), "en", str(tmp_path / "cfg2.json"))
    plain.ask_quit()  # not the demo: never asks
    assert plain.closed and len(asked) == 1


def test_the_demo_counts_people_on_its_server_not_connections(tmp_path):
    # Its quit warning said "3 other people" for one student: a chat and a file connection,
    # and the demo's own. chatting() is what the warning counts (ui/tk/app.py subtracts us).
    import threading

    import chatroom
    import server_main
    from server.config import ServerConfig
    from tests.attack import ADDR, Client
    from tests.procs import wait_until
    config = ServerConfig(auth_port=0, chat_port=0, file_port=0, data_dir=str(tmp_path / "d"),
                          sms="off", log_level="WARNING")
    box = {}
    thread = threading.Thread(target=server_main.serve,
                              args=(config, lambda loop, cfg: box.setdefault("loop", loop)),
                              daemon=True)
    thread.start()
    wait_until(lambda: "loop" in box, 30)
    loop = box["loop"]
    clients = []
    try:
        with Client(config.ports["auth"], source=ADDR[6]) as c:  # --sms off: no code
            assert c.request("register", username="ann", password="pass word 1",
                             phone="13800000061", email="")["status"] == "ok"
            token = c.request("login", login="ann", password="pass word 1")["token"]
        for port in (config.ports["chat"], config.ports["chat"], config.ports["file"]):
            clients.append(Client(port, source=ADDR[6]))
            assert clients[-1].request("auth", token=token)["status"] == "ok"
        assert chatroom.chatting(loop) == {"ann"}
    finally:
        for c in clients:
            c.close()
        loop.stop()
        thread.join(10)
