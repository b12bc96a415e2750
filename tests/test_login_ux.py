"""Issue 20, the login and register windows: the server's answer beside the field it is
about (a taken username no longer looks valid), where a console SMS code appears, the
"Encrypted (TLS)" box (saved, and named when a plain login meets a TLS server), the password
emptied after registering, and the language switched live in every open window. Presenters
with fake views, then the real windows under Xvfb."""
import pytest

from tests.conftest import register
from tests.test_gui import login_via_gui, pump, register_via_gui, tk_env  # noqa: F401
from tests.test_presenters import FakeApp, FakeSession, Recorder
from ui.presenters.login import LoginPresenter
from ui.presenters.register import RegisterPresenter


class RegisteringSession(FakeSession):
    def __init__(self, sms="off", register_reply=None):
        super().__init__()
        self.sms_mode = sms
        self.register_reply = register_reply or {"status": "ok"}

    def hello(self, callback):
        callback({"status": "ok", "sms": self.sms_mode})

    def register(self, username, password, phone, code, email, callback):
        self.requests.append(("register", username))
        callback(dict(self.register_reply))


def register_form(session, **values):
    app = FakeApp()
    app.session = session
    fields = {"username": "alice", "password": "password 123", "confirm": "password 123",
              "phone": "13612345678", "code": "", "email": ""}
    fields.update(values)
    view = Recorder(values=fields)
    presenter = RegisterPresenter(app, session, view)
    presenter.start()
    return app, view, presenter


def hints(view, field):
    return [args[1:] for name, args in view.calls if name == "set_hint" and args[0] == field]


def test_a_taken_username_is_shown_beside_the_field_not_as_valid():
    session = RegisteringSession(register_reply={"status": "username_taken"})
    app, view, presenter = register_form(session)
    assert hints(view, "username")[-1] == ("hint.username", None)
    presenter.check("username")
    assert hints(view, "username")[-1] == ("hint.ok", True)
    presenter.submit()
    assert hints(view, "username")[-1] == ("error.username_taken", False)
    assert view.last("show_error") == ("That username is taken.",)
    presenter.check("username")  # typed again (any case): still refused
    view.returns["values"]["username"] = "ALICE"
    presenter.check("username")
    assert hints(view, "username")[-1] == ("error.username_taken", False)
    view.returns["values"]["username"] = "alice2"
    presenter.check("username")
    assert hints(view, "username")[-1] == ("hint.ok", True)


@pytest.mark.parametrize("status, field", [("phone_taken", "phone"), ("bad_code", "code")])
def test_other_refusals_are_shown_beside_their_field(status, field):
    session = RegisteringSession(sms="console", register_reply={"status": status})
    app, view, presenter = register_form(session, code="123456")
    presenter.submit()
    assert hints(view, field)[-1] == ("error." + status, False)


def test_a_console_sms_code_is_said_to_be_in_the_servers_terminal():
    session = RegisteringSession(sms="console")
    app, view, presenter = register_form(session)
    assert "prints the code in its terminal" in view.last("show_info")[0]
    assert hints(view, "code")[-1] == ("register.hint_console", None)
    presenter.send_code()
    assert "Code sent" in view.last("show_info")[0] and "terminal" in view.last("show_info")[0]
    off = RegisteringSession(sms="off")
    app, view, presenter = register_form(off)
    assert view.count("show_info") == 0


def test_the_tls_box_is_remembered_before_connecting():
    app = FakeApp()
    view = Recorder(fields=("127.0.0.1:9999", "me", "pw"), tls_ticked=True)
    LoginPresenter(app, view).submit()
    assert app.remembered["tls"] is True and app.connected == ("127.0.0.1", 9999)


# -- the real windows ---------------------------------------------------------------------------

@pytest.mark.gui
def test_the_password_field_is_empty_after_registering(tk_env, make_server):  # noqa: F811
    srv = make_server()
    app = tk_env(srv)
    app.login_view.password.set("typed before registering")
    register_via_gui(app, srv, "fresh_user", "13700001111")
    assert app.login_view.password.get() == ""
    assert app.login_view.login.get() == "fresh_user"


@pytest.mark.gui
def test_the_language_switches_at_once_in_every_open_window(tk_env, make_server):  # noqa: F811
    srv = make_server()
    user = register(srv)
    app = tk_env(srv)
    app.login_view.register_button.invoke()
    pump([app], lambda: app.register_view is not None, what="register window")
    assert app.login_view.submit_button.cget("text") == "Log in"
    app.remember(language="zh")  # what Preferences → Save does (PreferencesPresenter.save)
    assert app.login_view.submit_button.cget("text") == "登录"
    assert app.login_view.banner.cget("text") == "欢迎来到聊天室"
    assert app.login_view.tls_check.cget("text") == "加密连接（TLS）"
    assert app.register_view.back_button.cget("text") == "返回登录"
    assert app.register_view.window.title() == "注册账号"
    assert app.root.title().startswith("登录")
    assert app.settings.language == "zh"
    app.close_register()
    login_via_gui(app, user["username"], user["password"])
    assert app.menubar.entrycget(1, "label") == "文件"
    prefs = app.open_settings()
    prefs.language.set("en")
    prefs.save_button.invoke()  # the real Save button
    assert app.menubar.entrycget(1, "label") == "File"
    assert app.tr("chat.send") == "Send"  # every presenter shares this catalog


@pytest.mark.gui
def test_a_plain_login_at_a_tls_server_names_the_box_and_ticking_it_works(
        tk_env, make_server, tmp_path):  # noqa: F811
    from net.tls import cert_fingerprint_file, make_self_signed
    from ui.pins import KnownServers
    cert, key = make_self_signed(str(tmp_path / "tls"), "localhost")
    srv = make_server("--tls-cert", cert, "--tls-key", key)
    KnownServers().pin("127.0.0.1:%d" % srv.auth, cert_fingerprint_file(cert))
    app = tk_env(srv)
    view = app.login_view
    assert not view.tls_ticked()
    view.login.set("nobody_at_all")
    view.password.set("wrong password 1")
    view.submit_button.invoke()
    pump([app], lambda: "Encrypted (TLS)" in view.message.cget("text"), what="the TLS hint")
    assert "reset" not in view.message.cget("text").lower()
    view.tls_check.invoke()
    view.submit_button.invoke()
    pump([app], lambda: "Wrong username" in view.message.cget("text"), what="a TLS login")
    assert app.settings.tls is True and app.session.tls is not None
