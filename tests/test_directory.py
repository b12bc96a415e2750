"""The member directory, message search, conversations with unread counts, and passwords
(docs/PROTOCOL.md §5, "Directory, search, unread, passwords"), end to end over real
sockets, on SQLite and MariaDB."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, chat_client, new_identity, register
from tests.wire import WireClient

NEW_PASSWORD = "a fresh one 2"


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def group(request, make_server):
    extra = ("--db", request.getfixturevalue("mariadb").new_url()) \
        if request.param == "mysql" else ()
    teacher = new_identity()[0]
    srv = make_server("--admin", teacher, "--flood-limit", "0", *extra)
    people = {"teacher": register(srv, teacher, new_identity()[1]), "ann": register(srv),
              "bob": register(srv), "cat": register(srv)}
    clients = {name: chat_client(srv, people[name]) for name in ("teacher", "ann")}
    yield srv, people, clients
    for c in clients.values():
        c.close()


def ok(reply):
    assert reply["status"] == "ok", reply
    return reply


def login(srv, user, password=PASSWORD):
    with WireClient(srv.auth) as c:
        return c.request("login", login=user["username"], password=password)


def texts(reply):
    return [m["text"] for m in ok(reply)["messages"]]


# -- members --------------------------------------------------------------------------------

def test_members_lists_every_user_online_first_then_by_name(group):
    _, p, c = group
    reply = ok(c["ann"].request("members"))
    names = [m["user"] for m in reply["members"]]
    online = sorted([p["teacher"]["username"], p["ann"]["username"]], key=str.casefold)
    offline = sorted([p["bob"]["username"], p["cat"]["username"]], key=str.casefold)
    assert names == online + offline
    assert reply["more"] is False
    by_name = {m["user"]: m for m in reply["members"]}
    assert by_name[p["teacher"]["username"]] == {"user": p["teacher"]["username"],
                                                 "online": True, "role": "admin"}
    assert by_name[p["bob"]["username"]] == {"user": p["bob"]["username"], "online": False,
                                             "role": "member"}
    # a query matches part of a name, in any letter case; % and _ are plain characters
    bob = p["bob"]["username"]
    assert [m["user"] for m in ok(c["ann"].request("members", query=bob[-4:].upper()))[
        "members"]] == [bob]
    assert ok(c["ann"].request("members", query="%"))["members"] == []
    two = ok(c["ann"].request("members", limit=2))
    assert [m["user"] for m in two["members"]] == online and two["more"] is True


@pytest.mark.parametrize("fields", [{"limit": 0}, {"limit": 201}, {"limit": "5"},
                                    {"query": 5}, {"query": "x" * 21}, {"limit": True}])
def test_members_refuses_bad_fields(group, fields):
    _, _, c = group
    assert c["ann"].request("members", **fields)["status"] == "bad_request"


# -- search ---------------------------------------------------------------------------------

def test_search_finds_text_only_where_the_caller_may_read(group):
    srv, p, c = group
    ann, teacher = c["ann"], c["teacher"]
    with chat_client(srv, p["bob"]) as bob:
        ok(ann.request("say", text="Hello PHYSICS class"))
        ok(bob.request("say", text="physics answers, just for you", to=p["cat"]["username"]))
        club = ok(ann.request("create_room", name="Club", private=True))["room"]["room"]
        ok(ann.request("say", text="physics in the club", room=club))
        gone = ok(ann.request("say", text="physics, deleted"))["msg_id"]
        ok(ann.request("delete_message", msg_id=gone))
        ok(ann.request("say", text="100% sure"))
        ok(ann.request("say", text="1000 sure"))
        ok(bob.request("say", text="physics to ann", to=p["ann"]["username"]))

        # newest first; the caller's rooms (private ones included) and private messages
        assert texts(ann.request("search", text="physics")) == [
            "physics to ann", "physics in the club", "Hello PHYSICS class"]
        # bob is not in the club; the private message to cat is his own
        assert texts(bob.request("search", text="PHYSICS")) == [
            "physics to ann", "physics answers, just for you", "Hello PHYSICS class"]
        # the teacher reads neither the private room nor other people's private messages
        assert texts(teacher.request("search", text="physics")) == ["Hello PHYSICS class"]
        # % and _ are plain characters
        assert texts(ann.request("search", text="100%")) == ["100% sure"]
        assert texts(ann.request("search", text="0_")) == []
        # one conversation: a room, or the private one with a user
        assert texts(ann.request("search", text="physics", room=club)) == ["physics in the club"]
        assert texts(ann.request("search", text="physics", room=1)) == ["Hello PHYSICS class"]
        assert texts(ann.request("search", text="physics", **{"with": p["bob"]["username"]})) \
            == ["physics to ann"]
        assert bob.request("search", text="physics", room=club)["status"] == "not_found"
        # pages: limit, more, before
        first = ok(ann.request("search", text="physics", limit=2))
        assert [m["text"] for m in first["messages"]] == ["physics to ann",
                                                          "physics in the club"]
        assert first["more"] is True
        rest = ok(ann.request("search", text="physics", limit=2,
                              before=first["messages"][-1]["msg_id"]))
        assert [m["text"] for m in rest["messages"]] == ["Hello PHYSICS class"]
        assert rest["more"] is False
        event = first["messages"][0]
        assert set(event) == {"op", "msg_id", "from", "to", "text", "ts", "room"}
        assert event["op"] == "message" and event["to"] == p["ann"]["username"]


@pytest.mark.parametrize("fields, status", [
    ({}, "bad_request"), ({"text": ""}, "bad_request"), ({"text": "x" * 201}, "bad_request"),
    ({"text": 5}, "bad_request"), ({"text": "x", "limit": 0}, "bad_request"),
    ({"text": "x", "limit": 201}, "bad_request"), ({"text": "x", "before": -1}, "bad_request"),
    ({"text": "x", "room": 1, "with": "someone"}, "bad_request"),
    ({"text": "x", "room": "1"}, "bad_request"), ({"text": "x", "room": 10 ** 9}, "not_found"),
    ({"text": "x", "with": "nobody_by_that"}, "no_such_user")])
def test_search_refuses_bad_fields(group, fields, status):
    _, _, c = group
    assert c["ann"].request("search", **fields)["status"] == status
    assert c["ann"].request("ping")["status"] == "ok"  # the connection stays open


def test_search_in_a_public_room_one_is_not_in_is_not_member(group):
    _, _, c = group
    room = ok(c["teacher"].request("create_room", name="Open"))["room"]["room"]
    assert c["ann"].request("search", text="x", room=room)["status"] == "not_member"


# -- conversations and read marks (issue 20, problem 4) ---------------------------------------

def test_conversations_bring_back_a_private_chat_older_than_the_auth_history(group):
    srv, p, c = group
    with chat_client(srv, p["bob"]) as bob:
        sent = ok(bob.request("say", text="see you at 3", to=p["cat"]["username"]))
        for i in range(55):  # the auth history (the latest 50) holds none of it
            ok(bob.request("say", text="lobby %d" % i))
    with chat_client(srv, p["cat"]) as cat:
        assert "see you at 3" not in [m["text"] for m in cat.auth_reply["history"]]
        reply = ok(cat.request("conversations"))
        assert reply["private"] == [{"with": p["bob"]["username"], "last_msg_id": sent["msg_id"],
                                     "last_ts": sent["ts"], "unread": 1}]
        lobby = [r for r in reply["rooms"] if r["room"] == 1]
        assert lobby[0]["unread"] == 55
        newest = lobby[0]["last_msg_id"]
        ok(cat.request("mark_read", msg_id=sent["msg_id"], **{"with": p["bob"]["username"]}))
        ok(cat.request("mark_read", room=1, msg_id=newest - 5))
        reply = ok(cat.request("conversations"))
        assert reply["private"][0]["unread"] == 0
        assert [r["unread"] for r in reply["rooms"] if r["room"] == 1] == [5]
        ok(cat.request("mark_read", room=1, msg_id=newest - 10))  # a mark never goes back
        assert [r["unread"] for r in ok(cat.request("conversations"))["rooms"]
                if r["room"] == 1] == [5]
        ok(cat.request("mark_read", room=1, msg_id=newest))
    with chat_client(srv, p["cat"]) as again:  # marks survive the connection
        reply = ok(again.request("conversations"))
        assert reply["private"][0]["unread"] == 0
        assert [r["unread"] for r in reply["rooms"] if r["room"] == 1] == [0]


def test_conversations_count_rooms_and_ignore_ones_own_messages(group):
    _, p, c = group
    ann, teacher = c["ann"], c["teacher"]
    room = ok(ann.request("create_room", name="Lab"))["room"]["room"]
    ok(teacher.request("join", room=room))
    ok(ann.request("say", text="mine", room=room))
    ok(teacher.request("say", text="theirs", room=room))
    ok(teacher.request("say", text="to ann", to=p["ann"]["username"]))
    ok(ann.request("say", text="back", to=p["teacher"]["username"]))
    reply = ok(ann.request("conversations"))
    rooms = {r["room"]: r for r in reply["rooms"]}
    assert set(rooms) == {1, room}
    assert rooms[room]["unread"] == 1
    assert reply["private"][0]["with"] == p["teacher"]["username"]
    assert reply["private"][0]["unread"] == 1
    empty = ok(c["teacher"].request("create_room", name="Empty"))["room"]["room"]
    rooms = {r["room"]: r for r in ok(teacher.request("conversations"))["rooms"]}
    assert rooms[empty] == {"room": empty, "last_msg_id": 0, "last_ts": 0, "unread": 0}


@pytest.mark.parametrize("fields, status", [
    ({}, "bad_request"), ({"msg_id": 5}, "bad_request"),
    ({"msg_id": 5, "room": 1, "with": "x"}, "bad_request"), ({"room": 1}, "bad_request"),
    ({"room": 1, "msg_id": -1}, "bad_request"), ({"room": 1, "msg_id": "5"}, "bad_request"),
    ({"room": 1, "msg_id": 2 ** 63}, "bad_request"), ({"room": 10 ** 9, "msg_id": 5}, "not_found"),
    ({"with": "nobody_by_that", "msg_id": 5}, "no_such_user")])
def test_mark_read_refuses_bad_fields(group, fields, status):
    _, _, c = group
    assert c["ann"].request("mark_read", **fields)["status"] == status


# -- passwords ------------------------------------------------------------------------------

def change(c, old, new=NEW_PASSWORD):
    return c.request("change_password", old_password=old, new_password=new)["status"]


def reset(c, user, new=NEW_PASSWORD):
    return c.request("reset_password", user=user, new_password=new)["status"]


def test_change_password_keeps_this_login_and_ends_the_others(group):
    srv, p, c = group
    ann = c["ann"]
    assert change(ann, "wrong 1234") == "bad_credentials"
    assert change(ann, PASSWORD, "short") == "bad_password"
    assert change(ann, PASSWORD, 5) == "bad_request"
    assert ann.request("change_password", new_password=NEW_PASSWORD)["status"] == "bad_request"
    other = ok(login(srv, p["ann"]))  # another window, another token
    elsewhere = WireClient(srv.chat)
    ok(elsewhere.request("auth", token=other["token"]))
    assert change(ann, PASSWORD) == "ok"
    seen = elsewhere.expect_closed()
    assert {"op": "logged_out", "reason": "password_changed"} in seen
    ok(ann.request("ping"))  # this connection stays, and its token too
    with chat_client(srv, p["ann"]):
        pass
    with WireClient(srv.chat) as late:
        assert late.request("auth", token=other["token"])["status"] == "unauthorized"
    assert login(srv, p["ann"])["status"] == "bad_credentials"
    ok(login(srv, p["ann"], NEW_PASSWORD))


def test_wrong_current_passwords_are_throttled_per_account(group):
    _, _, c = group
    statuses = [change(c["ann"], "wrong %d0" % i) for i in range(6)]
    assert statuses == ["bad_credentials"] * 5 + ["rate_limited"]
    assert change(c["ann"], PASSWORD) == "rate_limited"


def test_a_teacher_resets_a_students_password(group):
    srv, p, c = group
    ann, teacher = c["ann"], c["teacher"]
    assert reset(ann, p["bob"]["username"]) == "forbidden"
    assert reset(teacher, "nobody_by_that") == "no_such_user"
    assert reset(teacher, p["ann"]["username"], "short") == "bad_password"
    assert reset(teacher, p["teacher"]["username"]) == "forbidden"  # change_password instead
    assert teacher.request("reset_password", new_password=NEW_PASSWORD)["status"] == \
        "bad_request"
    files = WireClient(srv.file)
    ok(files.request("auth", token=p["ann"]["token"]))
    assert reset(teacher, p["ann"]["username"].upper()) == "ok"
    assert {"op": "logged_out", "reason": "password_reset",
            "by": p["teacher"]["username"]} in ann.expect_closed()
    files.expect_closed()
    with WireClient(srv.chat) as late:
        assert late.request("auth", token=p["ann"]["token"])["status"] == "unauthorized"
    assert login(srv, p["ann"])["status"] == "bad_credentials"
    ok(login(srv, p["ann"], NEW_PASSWORD))
    entries = ok(teacher.request("audit"))["entries"]
    assert entries[0]["action"] == "reset_password"
    assert entries[0]["user"] == p["ann"]["username"]
    assert entries[0]["by"] == p["teacher"]["username"]


def test_trace_masks_the_passwords_of_change_and_reset(make_server):
    srv = make_server("--trace")
    user = register(srv)
    with chat_client(srv, user) as c:
        assert change(c, "secret wrong 77", "secret new 88") == "bad_credentials"
    log = srv.log()
    assert "change_password" in log
    assert "secret wrong 77" not in log and "secret new 88" not in log
