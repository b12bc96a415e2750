"""Fixtures: real servers on loopback, a private MariaDB, Xvfb, and users to log in with.

Under CI=true a missing MariaDB or Xvfb fails the run instead of skipping (README).
"""
from __future__ import annotations

import itertools
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.procs import MariaDB, ServerProc, Xvfb  # noqa: E402
from tests.wire import WireClient  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct horse 1"
_numbers = itertools.count(1)


def missing(what: str) -> None:
    if IN_CI:
        pytest.fail("%s is required under CI=true but is not available" % what)
    pytest.skip("%s is not available (the test command installs it when run as root)" % what)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One shared server (SQLite, console SMS) for tests that need no special setup."""
    proc = ServerProc(str(tmp_path_factory.mktemp("server")), "--flood-limit", "0")
    yield proc
    proc.stop()


@pytest.fixture
def make_server(tmp_path):
    """Start servers with options of the test's choosing; all are stopped afterwards."""
    started = []

    def make(*args: str, data_dir: str = "", **kw) -> ServerProc:
        proc = ServerProc(data_dir or str(tmp_path / ("srv%d" % len(started))), *args, **kw)
        started.append(proc)
        return proc
    yield make
    for proc in started:
        proc.kill()


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory):
    if not (shutil.which("mariadbd") or shutil.which("mysqld") or
            os.path.exists("/usr/sbin/mariadbd")):
        missing("MariaDB (mariadbd)")
    try:
        import pymysql  # noqa: F401
    except ImportError:
        missing("PyMySQL")
    db = MariaDB(str(tmp_path_factory.mktemp("mariadb")))
    print("\n[mariadb] %s on 127.0.0.1:%d" % (db.version(), db.port))
    yield db
    db.stop()


@pytest.fixture(scope="session")
def xvfb():
    if not shutil.which("Xvfb"):
        missing("Xvfb")
    display = Xvfb()
    yield display
    display.stop()


def new_identity():
    n = next(_numbers)
    return "user%d_%d" % (os.getpid() % 10000, n), "139%08d" % (os.getpid() * 1000 + n)


def register(srv: ServerProc, username: str = "", phone: str = "",
             password: str = PASSWORD) -> dict:
    """Register through the real protocol, reading the console SMS code from the log."""
    if not username:
        username, phone = new_identity()
    with WireClient(srv.auth) as c:
        sent = c.request("send_code", phone=phone)
        assert sent["status"] == "ok", sent
        reply = c.request("register", username=username, password=password, phone=phone,
                          code=srv.sms_code(phone), email="")
        assert reply["status"] == "ok", reply
        login = c.request("login", login=username, password=password)
        assert login["status"] == "ok", login
    return {"username": username, "phone": phone, "user_id": reply["user_id"],
            "token": login["token"], "password": password}


def chat_client(srv: ServerProc, user: dict) -> WireClient:
    c = WireClient(srv.chat)
    reply = c.request("auth", token=user["token"])
    assert reply["status"] == "ok", reply
    c.auth_reply = reply
    return c


def file_client(srv: ServerProc, user: dict) -> WireClient:
    c = WireClient(srv.file)
    reply = c.request("auth", token=user["token"])
    assert reply["status"] == "ok", reply
    return c
