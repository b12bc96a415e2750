"""Rooms end to end (docs/PROTOCOL.md §12), on SQLite and MariaDB."""
from __future__ import annotations

import pytest

from tests.conftest import chat_client, new_identity, register


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def group(request, make_server):
    extra = ("--db", request.getfixturevalue("mariadb").new_url()) \
        if request.param == "mysql" else ()
    teacher = new_identity()[0]
    srv = make_server("--admin", teacher, "--flood-limit", "0", *extra)
    people = {"teacher": register(srv, teacher, new_identity()[1]), "ann": register(srv),
              "bob": register(srv), "cat": register(srv)}
    clients = {name: chat_client(srv, person) for name, person in people.items()}
    yield srv, people, clients
    for c in clients.values():
        c.close()


def names(c, **fields):
    reply = c.request("rooms", **fields)
    assert reply["status"] == "ok", reply
    return {r["name"]: r for r in reply["rooms"]}


@pytest.mark.parametrize("bad", ["", " ", "x" * 41, "a\x07b", "a\u200db", "\t"])
def test_room_names_follow_the_rules(group, bad):
    _, _, c = group
    assert c["ann"].request("create_room", name=bad)["status"] == "bad_room_name"


def test_create_join_say_and_history_stay_inside_the_room(group):
    _, p, c = group
    made = c["ann"].request("create_room", name="Physics 1", topic="waves")
    assert made["status"] == "ok"
    room = made["room"]
    assert room == {"room": room["room"], "name": "Physics 1", "topic": "waves",
                    "private": False, "owner": p["ann"]["username"], "members": 1,
                    "joined": True}
    rid = room["room"]
    assert c["bob"].request("create_room", name="physics 1")["status"] == "room_taken"
    # a public room is announced to everyone, with joined as each recipient sees it
    assert c["bob"].next_event("room")["room"]["joined"] is False
    assert c["bob"].request("say", text="hi", room=rid)["status"] == "not_member"
    assert c["bob"].request("history", room=rid)["status"] == "not_member"
    assert c["bob"].request("join", room=rid)["room"]["joined"] is True
    assert c["ann"].next_event("joined") == {"op": "joined", "room": rid,
                                             "user": p["bob"]["username"]}
    said = c["bob"].request("say", text="in physics", room=rid)
    assert said["status"] == "ok"
    for who in ("ann", "bob"):
        event = c[who].next_event("message")
        assert event["room"] == rid and event["text"] == "in physics"
    c["teacher"].request("say", text="lobby line")
    assert c["cat"].next_event("message")["text"] == "lobby line"  # not the room's message
    assert [m["text"] for m in c["ann"].request("history", room=rid)["messages"]] == \
        ["in physics"]
    lobby = [m["text"] for m in c["ann"].request("history")["messages"]]
    assert "lobby line" in lobby and "in physics" not in lobby
    assert c["bob"].request("say", text="x", room=rid, to=p["ann"]["username"])["status"] == \
        "bad_request"
    assert c["bob"].request("say", text="x", room=10 ** 9)["status"] == "not_found"
    assert c["bob"].request("leave", room=1)["status"] == "bad_request"
    assert c["bob"].request("leave", room=rid)["status"] == "ok"
    assert c["ann"].next_event("left")["user"] == p["bob"]["username"]
    assert c["bob"].request("leave", room=rid)["status"] == "not_member"
    assert c["bob"].request("say", text="still here?", room=rid)["status"] == "not_member"
    for bad in (2 ** 63, -1, "1", True):
        assert c["bob"].request("say", text="x", room=bad)["status"] == "bad_request"
        assert c["bob"].request("join", room=bad)["status"] == "bad_request"


def test_private_rooms_are_invisible_to_non_members(group):
    _, p, c = group
    rid = c["ann"].request("create_room", name="Secret club", private=True)["room"]["room"]
    assert "Secret club" not in names(c["bob"])
    assert c["bob"].request("join", room=rid)["status"] == "not_found"
    assert c["bob"].request("say", text="hi", room=rid)["status"] == "not_found"
    assert c["bob"].request("history", room=rid)["status"] == "not_found"
    assert c["bob"].request("invite", room=rid, user=p["cat"]["username"])["status"] == \
        "not_member"
    assert c["ann"].request("invite", room=rid, user="nobody_by_that")["status"] == \
        "no_such_user"
    assert c["ann"].request("invite", room=rid, user=p["bob"]["username"])["status"] == "ok"
    invited = c["bob"].next_event("invited")
    assert invited["room"]["name"] == "Secret club" and invited["by"] == p["ann"]["username"]
    assert names(c["bob"])["Secret club"]["joined"] is False
    assert "Secret club" not in names(c["cat"])
    assert c["bob"].request("join", room=rid)["status"] == "ok"
    c["ann"].request("say", text="members only", room=rid)
    assert c["bob"].next_event("message")["text"] == "members only"
    c["teacher"].request("say", text="after")
    seen = c["cat"].next_event("message")
    assert seen["text"] == "after"  # cat never got the private room's message


def test_close_room_and_who_may(group):
    _, p, c = group
    rid = c["ann"].request("create_room", name="Group A")["room"]["room"]
    c["bob"].request("join", room=rid)
    assert c["bob"].request("close_room", room=rid)["status"] == "forbidden"
    assert c["teacher"].request("close_room", room=1)["status"] == "bad_request"
    assert c["ann"].request("close_room", room=1)["status"] == "bad_request"
    assert c["ann"].request("close_room", room=rid)["status"] == "ok"
    assert c["bob"].next_event("room_closed") == {"op": "room_closed", "room": rid}
    assert "Group A" not in names(c["bob"])
    assert c["bob"].request("say", text="x", room=rid)["status"] == "not_found"
    assert c["bob"].request("history", room=rid)["status"] == "not_found"
    other = c["bob"].request("create_room", name="Group A")  # the name is free again
    assert other["status"] == "ok"
    assert c["teacher"].request("close_room", room=other["room"]["room"])["status"] == "ok"


def test_auth_reply_carries_rooms_and_their_history(group):
    srv, p, c = group
    rid = c["ann"].request("create_room", name="Study")["room"]["room"]
    c["ann"].request("say", text="room line", room=rid)
    c["ann"].request("say", text="lobby line")
    with chat_client(srv, p["ann"]) as again:
        rooms = {r["room"] for r in again.auth_reply["rooms"]}
        assert rooms == {1, rid}
        texts = [m["text"] for m in again.auth_reply["history"]]
        assert texts[-2:] == ["room line", "lobby line"]
    with chat_client(srv, p["cat"]) as cat:
        assert {r["room"] for r in cat.auth_reply["rooms"]} == {1}
        assert "room line" not in [m["text"] for m in cat.auth_reply["history"]]


def test_a_room_owner_may_quiet_and_moderate_their_room(group):
    _, p, c = group
    rid = c["ann"].request("create_room", name="Owner's")["room"]["room"]
    c["bob"].request("join", room=rid)
    said = c["bob"].request("say", text="noise", room=rid)
    assert c["bob"].request("quiet", on=True, room=rid)["status"] == "forbidden"
    assert c["ann"].request("quiet", on=True, room=rid)["status"] == "ok"
    assert c["bob"].request("say", text="more", room=rid)["status"] == "forbidden"
    assert c["ann"].request("say", text="owner speaks", room=rid)["status"] == "ok"
    assert c["bob"].request("say", text="lobby is fine")["status"] == "ok"
    assert c["ann"].request("delete_message", msg_id=said["msg_id"])["status"] == "ok"
    assert c["cat"].request("quiet", on=True)["status"] == "forbidden"


def test_which_rooms_are_quiet_is_told_beside_the_records(group):
    """*This implementation*: the auth and `rooms` replies name the quiet rooms among their
    records (`quiet_rooms`), the `join` reply says whether its room is (`quiet`); the records
    themselves keep their fields (docs/PROTOCOL.md §12)."""
    srv, p, c = group
    rid = c["ann"].request("create_room", name="Quiet one")["room"]["room"]
    other = c["ann"].request("create_room", name="Loud one")["room"]["room"]
    joined = c["bob"].request("join", room=rid)
    assert joined["quiet"] is False and "quiet" not in joined["room"]
    assert c["ann"].request("quiet", on=True, room=rid)["status"] == "ok"
    assert c["teacher"].request("quiet", on=True)["status"] == "ok"  # the lobby
    listed = c["cat"].request("rooms")
    assert sorted(listed["quiet_rooms"]) == sorted([1, rid])
    assert all("quiet" not in record for record in listed["rooms"])
    assert c["cat"].request("join", room=rid)["quiet"] is True
    assert c["cat"].request("join", room=other)["quiet"] is False
    with chat_client(srv, p["bob"]) as again:
        assert again.auth_reply["quiet"] is True
        assert sorted(again.auth_reply["quiet_rooms"]) == sorted([1, rid])
    assert c["ann"].request("quiet", on=False, room=rid)["status"] == "ok"
    assert c["cat"].request("rooms")["quiet_rooms"] == [1]


def test_one_user_owns_at_most_fifty_open_rooms(group):
    _, _, c = group
    for i in range(50):
        assert c["cat"].request("create_room", name="r%d" % i)["status"] == "ok"
    refused = c["cat"].request("create_room", name="one too many")
    assert refused["status"] == "rate_limited" and refused["retry_after"] > 0
    first = names(c["cat"])["r0"]["room"]
    assert c["cat"].request("close_room", room=first)["status"] == "ok"
    assert c["cat"].request("create_room", name="one too many")["status"] == "ok"
    assert c["ann"].request("create_room", name="ann's own")["status"] == "ok"
