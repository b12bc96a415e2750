"""SMS providers against a local HTTP server that behaves like the Yunxin endpoint, driven
through the real `requests` path; and the loop staying responsive while SMS and logins run."""
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from tests.conftest import PASSWORD, chat_client, new_identity
from tests.wire import WireClient

APP_KEY, APP_SECRET = "test-app-key", "test-app-secret"


class FakeYunxin:
    """mode: 'ok' (200 + code), 'limit' (416), 'error' (500 answer), 'hang' (no answer)."""

    def __init__(self):
        self.mode = "ok"
        self.requests = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                h = self.headers
                expected = hashlib.sha1((APP_SECRET + h.get("Nonce", "") +
                                         h.get("CurTime", "")).encode()).hexdigest()
                outer.requests.append({"path": self.path, "form": form, "headers": dict(h)})
                if outer.mode == "hang":
                    outer.release.wait(30)
                    return
                if h.get("AppKey") != APP_KEY or h.get("CheckSum") != expected:
                    body = {"code": 414, "msg": "checksum"}
                elif abs(int(h.get("CurTime", "0")) - time.time()) > 300:
                    body = {"code": 417, "msg": "stale"}
                elif outer.mode == "limit":
                    body = {"code": 416, "msg": "too often"}
                elif outer.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                else:
                    body = {"code": 200, "msg": "ok", "obj": "246810"}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def yunxin():
    pytest.importorskip("requests")
    fake = FakeYunxin()
    yield fake
    fake.close()


@pytest.fixture
def netease_server(make_server, yunxin):
    return make_server("--sms", "netease", "--sms-url", yunxin.url, "--sms-app-key", APP_KEY,
                       "--sms-app-secret", APP_SECRET, "--sms-template", "3057")


def test_netease_request_is_signed_and_code_works(netease_server, yunxin):
    username, phone = new_identity()
    with WireClient(netease_server.auth) as c:
        assert c.request("hello")["sms"] == "netease"
        assert c.request("send_code", phone=phone)["status"] == "ok"
        req = yunxin.requests[-1]
        assert req["path"] == "/sms/sendcode.action"
        assert req["form"] == {"mobile": [phone], "templateid": ["3057"], "codeLen": ["6"]}
        assert req["headers"]["AppKey"] == APP_KEY
        r = c.request("register", username=username, password=PASSWORD, phone=phone,
                      code="246810")
        assert r["status"] == "ok"
    assert "246810" not in netease_server.log()  # codes are not logged by this provider


@pytest.mark.parametrize("mode,status", [("limit", "rate_limited"), ("error", "sms_failed")])
def test_netease_errors_map_to_statuses(netease_server, yunxin, mode, status):
    yunxin.mode = mode
    with WireClient(netease_server.auth) as c:
        assert c.request("send_code", phone=new_identity()[1])["status"] == status


def test_gateway_down_is_sms_failed(make_server):
    from tests.procs import free_port
    srv = make_server("--sms", "netease", "--sms-url", "http://127.0.0.1:%d" % free_port(),
                      "--sms-app-key", APP_KEY, "--sms-app-secret", APP_SECRET)
    with WireClient(srv.auth) as c:
        assert c.request("send_code", phone=new_identity()[1])["status"] == "sms_failed"


def test_secret_can_come_from_environment(make_server, yunxin, monkeypatch):
    monkeypatch.setenv("CHATROOM_SMS_APP_SECRET", APP_SECRET)
    srv = make_server("--sms", "netease", "--sms-url", yunxin.url, "--sms-app-key", APP_KEY)
    with WireClient(srv.auth) as c:
        assert c.request("send_code", phone=new_identity()[1])["status"] == "ok"


def test_netease_without_credentials_refuses_to_start(tmp_path):
    import subprocess
    import sys

    from tests.procs import ROOT
    out = subprocess.run([sys.executable, ROOT + "/server_main.py", "--data-dir", str(tmp_path),
                          "--sms", "netease", "--auth-port", "0", "--chat-port", "0",
                          "--file-port", "0"], capture_output=True, text=True, timeout=30,
                         env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 2 and "sms-app-key" in out.stderr


def test_chat_stays_fast_during_login_storm_and_hanging_gateway(netease_server, yunxin):
    srv = netease_server
    yunxin.mode = "ok"
    users = [register_via(srv, yunxin) for _ in range(3)]
    yunxin.mode = "hang"
    alice, bob = users[0], users[1]
    with chat_client(srv, alice) as a, chat_client(srv, bob) as b:
        stalled = [WireClient(srv.auth) for _ in range(3)]
        for c in stalled:
            c.send({"op": "send_code", "id": 1, "phone": new_identity()[1]})
        # 20 password checks at once: 4 of a real account (more would lock it: attempts count
        # from their arrival, docs/PROTOCOL.md §4) and 16 of names that are no account.
        storm = [WireClient(srv.auth) for _ in range(20)]
        for i, c in enumerate(storm):
            c.send({"op": "login", "id": 1, "password": PASSWORD,
                    "login": users[2]["username"] if i < 4 else "nobody%d" % i})
        latencies = []
        for i in range(20):
            t0 = time.monotonic()
            a.send({"op": "say", "id": i, "text": "ping %d" % i})
            b.next_event("message")
            latencies.append(time.monotonic() - t0)
        latencies.sort()
        assert latencies[-1] < 0.05, latencies  # every broadcast arrived within 50 ms
        assert [c.read_json(30)["status"] for c in storm] == ["ok"] * 4 + ["bad_credentials"] * 16
        yunxin.release.set()
        for c in stalled + storm:
            c.close()


def register_via(srv, yunxin):
    username, phone = new_identity()
    with WireClient(srv.auth) as c:
        assert c.request("send_code", phone=phone)["status"] == "ok"
        assert c.request("register", username=username, password=PASSWORD, phone=phone,
                         code="246810")["status"] == "ok"
        token = c.request("login", login=username, password=PASSWORD)["token"]
    return {"username": username, "token": token}


def test_console_provider_logs_the_code_line(server):
    phone = new_identity()[1]
    with WireClient(server.auth) as c:
        c.request("send_code", phone=phone)
    assert server.wait_log(r"SMS code for %s: \d{6}\b" % phone)

