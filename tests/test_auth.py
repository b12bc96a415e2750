"""The auth service end to end (docs/PROTOCOL.md §3, §4): every rule at its boundary, in its
order."""
import concurrent.futures
import re

import pytest

from tests.conftest import PASSWORD, new_identity, register
from tests.wire import Closed, WireClient


@pytest.fixture
def auth(server):
    with WireClient(server.auth) as c:
        yield c


def code_for(server, auth, phone):
    assert auth.request("send_code", phone=phone)["status"] == "ok"
    return server.sms_code(phone)


def test_hello_describes_the_server(server, auth):
    r = auth.request("hello")
    assert r["status"] == "ok" and r["protocol"] == 1 and r["service"] == "auth"
    assert r["services"] == {"auth": server.auth, "chat": server.chat, "file": server.file}
    assert r["sms"] == "console"
    assert r["limits"] == {"max_json": 65536, "max_chunk": 1048576,
                           "max_file_size": 1073741824, "max_text": 4000}


@pytest.mark.parametrize("port", ["chat", "file"])
def test_every_service_answers_hello(server, port):
    with WireClient(getattr(server, port)) as c:
        r = c.request("hello")
        assert r["status"] == "ok" and r["service"] == port


def test_unknown_op_keeps_connection(auth):
    r = auth.request("dance")
    assert r["status"] == "unknown_op" and r["message"]
    assert auth.request("hello")["status"] == "ok"


def test_missing_and_ill_typed_fields_are_bad_request(auth):
    assert auth.request("login", login="x")["status"] == "bad_request"
    assert auth.request("login", login=1, password="x")["status"] == "bad_request"
    assert auth.request("send_code")["status"] == "bad_request"


def test_send_code_order_bad_phone_taken_rate_limited(server, auth):
    assert auth.request("send_code", phone="12345")["status"] == "bad_phone"
    user = register(server)
    assert auth.request("send_code", phone=user["phone"])["status"] == "phone_taken"
    _, phone = new_identity()
    first = auth.request("send_code", phone=phone)
    assert first["status"] == "ok" and first["retry_after"] == 60
    again = auth.request("send_code", phone=phone)
    assert again["status"] == "rate_limited" and 1 <= again["retry_after"] <= 60


def test_register_check_order(server, auth):
    username, phone = new_identity()
    code = code_for(server, auth, phone)
    base = dict(username=username, password=PASSWORD, phone=phone, code=code, email="")

    def status(**change):
        return auth.request("register", **dict(base, **change))["status"]

    # Syntax first, in the column's order: all four wrong gives the first.
    assert status(username="a b", password="short", phone="1", email="bad") == "bad_username"
    assert status(password="short", phone="1", email="bad") == "bad_password"
    assert status(phone="1", email="bad") == "bad_phone"
    assert status(email="bad") == "bad_email"
    # Then the code, before whether the name is free.
    taken = register(server)
    assert status(username=taken["username"].upper(), code="000000") == "bad_code"
    assert status(username=taken["username"].upper()) == "username_taken"
    assert status() == "ok"
    # A used code cannot be used again; the code is checked before the phone.
    assert status(username=username + "x") == "bad_code"


def test_user_ids_start_at_1001_and_increase(make_server):
    srv = make_server()
    assert register(srv)["user_id"] == 1001
    assert register(srv)["user_id"] == 1002


def test_five_wrong_codes_invalidate_the_code(server, auth):
    username, phone = new_identity()
    code = code_for(server, auth, phone)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    for _ in range(5):
        r = auth.request("register", username=username, password=PASSWORD, phone=phone,
                         code=wrong)
        assert r["status"] == "bad_code"
    r = auth.request("register", username=username, password=PASSWORD, phone=phone, code=code)
    assert r["status"] == "bad_code"


def test_two_people_get_their_own_codes(server):
    (u1, p1), (u2, p2) = new_identity(), new_identity()
    with WireClient(server.auth) as a, WireClient(server.auth) as b:
        a.send({"op": "send_code", "id": 1, "phone": p1})
        b.send({"op": "send_code", "id": 1, "phone": p2})
        assert a.read_json()["status"] == "ok" and b.read_json()["status"] == "ok"
        c1, c2 = server.sms_code(p1), server.sms_code(p2)
        assert b.request("register", username=u2, password=PASSWORD, phone=p2,
                         code=c2)["status"] == "ok"
        assert a.request("register", username=u1, password=PASSWORD, phone=p1,
                         code=c1)["status"] == "ok"


def test_login_by_name_any_case_and_by_phone(server, auth):
    user = register(server)
    r = auth.request("login", login=user["username"].upper(), password=PASSWORD)
    assert r["status"] == "ok" and r["user_id"] == user["user_id"]
    assert r["username"] == user["username"]
    assert r["services"] == {"auth": server.auth, "chat": server.chat, "file": server.file}
    assert len(r["token"]) >= 22
    assert auth.request("login", login=user["phone"], password=PASSWORD)["status"] == "ok"


def test_login_does_not_reveal_which_names_exist(server, auth):
    user = register(server)
    wrong_pw = auth.request("login", login=user["username"], password="wrong password 1")
    no_user = auth.request("login", login="nobody_here_x", password="wrong password 1")
    assert wrong_pw["status"] == no_user["status"] == "bad_credentials"
    assert wrong_pw["message"] == no_user["message"]


def test_sql_injection_strings_are_just_data(server, auth):
    r = auth.request("login", login="' OR '1'='1' -- ", password="' OR '1'='1")
    assert r["status"] == "bad_credentials"
    evil = "x');DROP--"
    _, phone = new_identity()
    user = register(server, evil, phone)
    r = auth.request("login", login=evil, password=PASSWORD)
    assert r["status"] == "ok" and r["username"] == evil and r["user_id"] == user["user_id"]


def test_throttle_after_five_failures_even_with_right_password(server, auth):
    user = register(server)
    for _ in range(5):
        assert auth.request("login", login=user["username"],
                            password="wrong password 1")["status"] == "bad_credentials"
    r = auth.request("login", login=user["username"], password=PASSWORD)
    assert r["status"] == "rate_limited"
    # Unknown names are throttled the same way.
    for _ in range(5):
        auth.request("login", login="ghost_user_q", password="wrong password 1")
    assert auth.request("login", login="ghost_user_q",
                        password="wrong password 1")["status"] == "rate_limited"
    # Another login name from the same address is not affected.
    other = register(server)
    assert auth.request("login", login=other["username"], password=PASSWORD)["status"] == "ok"


def test_logout_invalidates_token_everywhere(server, auth):
    user = register(server)
    assert auth.request("logout", token=user["token"])["status"] == "ok"
    assert auth.request("logout", token=user["token"])["status"] == "unauthorized"
    with WireClient(server.chat) as c:
        assert c.request("auth", token=user["token"])["status"] == "unauthorized"


def test_hundred_concurrent_registrations_one_wins(server):
    username, _ = new_identity()

    def attempt(i):
        _, phone = new_identity()
        with WireClient(server.auth, timeout_s=30) as c:
            c.request("send_code", phone=phone)
            code = server.sms_code(phone)
            return c.request("register", username=username, password=PASSWORD, phone=phone,
                             code=code, timeout_s=30)["status"]
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(attempt, range(100)))
    assert results.count("ok") == 1
    assert results.count("username_taken") == 99


def test_logs_never_contain_passwords_or_tokens(server):
    user = register(server)
    log = server.log()
    assert user["password"] not in log
    assert user["token"] not in log


def test_sms_off_hides_verification(make_server):
    srv = make_server("--sms", "off")
    with WireClient(srv.auth) as c:
        assert c.request("hello")["sms"] == "off"
        username, phone = new_identity()
        r = c.request("register", username=username, password=PASSWORD, phone=phone)
        assert r["status"] == "ok"
        assert c.request("send_code", phone=new_identity()[1])["status"] == "sms_failed"


def test_trace_masks_secrets(make_server):
    srv = make_server("--trace", "--sms", "off")
    with WireClient(srv.auth) as c:
        username, phone = new_identity()
        c.request("register", username=username, password="Secret123xyz", phone=phone)
        r = c.request("login", login=username, password="Secret123xyz")
    srv.wait_log(r"auth \S+ > .*'op': 'login'")
    log = srv.log()
    assert "Secret123xyz" not in log and r["token"] not in log
    assert re.search(r"'password': '\*\*\*'", log)


@pytest.mark.parametrize("db", ["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
@pytest.mark.parametrize("service", ["chat", "file"])
def test_an_auth_in_flight_when_its_token_logs_out_does_not_outlive_it(request, make_server,
                                                                      service, db):
    """docs/PROTOCOL.md §5: after logout's `ok`, the token lets nobody in. An `auth` already
    in flight when the logout came (its database read may come first, its answer after) was
    let in and cached: the token then worked for another minute."""
    extra = ("--db", request.getfixturevalue("mariadb").new_url()) if db == "mysql" else ()
    server = make_server(*extra)
    user = register(server)
    port = server.chat if service == "chat" else server.file
    with WireClient(server.auth) as auth:
        for attempt in range(25):
            token = auth.request("login", login=user["username"], password=PASSWORD)["token"]
            with WireClient(port) as racing:
                racing.send({"op": "auth", "id": 1, "token": token})
                assert auth.request("logout", token=token)["status"] == "ok"
                try:
                    raced = racing.wait_reply(1)
                    if raced["status"] == "ok":  # it was in before the logout: told, and closed
                        assert racing.next_event("logged_out")["op"] == "logged_out"
                    else:
                        assert raced["status"] == "unauthorized", raced
                except Closed:
                    pass
            with WireClient(server.chat) as later:
                assert later.request("auth", token=token)["status"] == "unauthorized", attempt
