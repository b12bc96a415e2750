"""Find servers in the real Tk login window under Xvfb, against real servers on loopback
(--discover-to 127.0.0.1, as a user would configure it): the list fills, picking a row sets
the server field, the login goes to that server; a TLS server found by discovery is asked
about, with its announced fingerprint shown, never trusted silently."""
import hashlib
import ssl
import weakref

import pytest

from options import client_parser, discover_targets
from tests.conftest import register
from tests.test_discovery_server import cert  # noqa: F401  (a fixture)
from tests.test_gui import pump

pytestmark = pytest.mark.gui


@pytest.fixture
def gui(xvfb, monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("DISPLAY", xvfb.display)
    monkeypatch.setenv("CHATROOM_CONFIG_DIR", str(tmp_path / "config"))
    tk = pytest.importorskip("tkinter")
    apps = []

    def make_app(argv, language="en"):
        from ui.settings import ClientSettings
        from ui.tk.app import App
        args = client_parser("client_main.py", "").parse_args(argv)
        app = App(tk.Tk(), ClientSettings(server=""), language,
                  str(tmp_path / ("cfg%d.json" % len(apps))),
                  discover_to=discover_targets(args))
        apps.append(app)
        return app
    yield make_app
    roots = [weakref.ref(app.root) for app in apps]
    while apps:
        apps.pop().quit()
    errors = [r for r in caplog.records if r.name.startswith("ui") and r.levelname == "ERROR"]
    assert not errors, "the GUI logged errors: %s" % [r.getMessage() for r in errors]
    assert all(root() is None for root in roots), "a Tk root outlived its App"


def rows(view):
    return [(view.servers.item(item, "values"), view.servers.item(item, "image"))
            for item in view.servers.get_children()]


def find(app):
    view = app.login_view
    assert not view.servers.winfo_ismapped()  # no list before the first search
    view.server.set("")
    view.find_button.invoke()
    assert str(view.find_button.cget("state")) == "disabled"
    pump([app], lambda: view.servers.get_children(), what="a server in the list")
    pump([app], lambda: str(view.find_button.cget("state")) == "normal", what="search over")
    assert view.servers.winfo_ismapped()
    return view


@pytest.mark.parametrize("language, button", [("en", "Find servers"), ("zh", "查找服务器")])
def test_find_servers_fills_the_list_and_the_server_field(gui, make_server, language, button):
    srv = make_server("--name", "Room 204")
    user = register(srv)
    app = gui(["--discover-to", "127.0.0.1", "--port", str(srv.auth)], language)
    assert app.login_view.find_button.cget("text") == button
    view = find(app)
    assert rows(view) == [(("Room 204", "127.0.0.1:%d" % srv.auth, "0"), "")]
    assert view.server.get() == ""
    view.servers.selection_set(view.servers.get_children()[0])
    pump([app], lambda: view.server.get() == "127.0.0.1:%d" % srv.auth, what="server field")
    view.login.set(user["username"])
    view.password.set(user["password"])
    view.submit_button.invoke()
    pump([app], lambda: app.chat is not None and app.session.state == "online",
         what="logged in to the server found")
    assert (app.session.host, app.session.port) == ("127.0.0.1", srv.auth)


def test_a_tls_server_found_is_asked_about_with_its_announced_fingerprint(
        gui, make_server, cert, monkeypatch):  # noqa: F811
    cert_file, key_file = cert
    srv = make_server("--name", "Lab B", "--tls-cert", cert_file, "--tls-key", key_file)
    user = register_tls(srv)
    with open(cert_file, encoding="ascii") as f:
        digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest().upper()
    asked = []

    def askyesno(title, message, parent=None):
        asked.append(message)
        return len(asked) > 1  # "no" the first time, "yes" the second
    import ui.tk.common
    monkeypatch.setattr(ui.tk.common.messagebox, "askyesno", askyesno)
    app = gui(["--discover-to", "127.0.0.1:%d" % srv.auth])
    view = app.login_view
    # Typed by hand, without --tls: plain TCP to a TLS server, which fails.
    view.server.set("127.0.0.1:%d" % srv.auth)
    view.login.set(user["username"])
    view.password.set(user["password"])
    view.submit_button.invoke()
    pump([app], lambda: str(view.submit_button.cget("state")) == "normal"
         and view.message.cget("text") and "Connecting" not in view.message.cget("text"),
         what="the plain attempt fails")
    assert app.session.tls is None and not asked
    view = find(app)  # the same address, found by discovery: now over TLS
    (values, image), = rows(view)
    assert values == ("Lab B", "127.0.0.1:%d" % srv.auth, "0") and image  # the lock
    view.servers.selection_set(view.servers.get_children()[0])
    pump([app], lambda: view.server.get() == "127.0.0.1:%d" % srv.auth, what="server field")
    assert "encrypts its connections" in view.message.cget("text")
    view.login.set(user["username"])
    view.password.set(user["password"])
    view.submit_button.invoke()
    pump([app], lambda: "not trusted" in view.message.cget("text"), what="refused")
    assert len(asked) == 1
    assert "announced this same fingerprint" in asked[0]
    assert ":".join(digest[i:i + 2] for i in range(0, 16, 2)) in asked[0]
    from ui.pins import KnownServers
    assert KnownServers().get("127.0.0.1:%d" % srv.auth) is None  # nothing pinned on "no"
    view.submit_button.invoke()
    pump([app], lambda: app.chat is not None and app.session.state == "online",
         what="logged in over TLS after yes")
    assert len(asked) == 2
    assert KnownServers().get("127.0.0.1:%d" % srv.auth) == ":".join(
        digest[i:i + 2] for i in range(0, 64, 2))


def register_tls(srv):
    from tests.conftest import PASSWORD, new_identity
    from tests.wire import WireClient
    username, phone = new_identity()
    with WireClient(srv.auth, tls=True) as c:
        assert c.request("send_code", phone=phone)["status"] == "ok"
        reply = c.request("register", username=username, password=PASSWORD, phone=phone,
                          code=srv.sms_code(phone), email="")
        assert reply["status"] == "ok", reply
    return {"username": username, "password": PASSWORD}
