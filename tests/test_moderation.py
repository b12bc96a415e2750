"""Roles, moderation and hand-ins end to end (docs/PROTOCOL.md §11), on SQLite and MariaDB."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import chat_client, file_client, new_identity, register
from tests.procs import ROOT
from tests.wire import B, Closed, WireClient, frame

ADMIN_OPS = [("mute", {"user": "x", "minutes": 5}), ("unmute", {"user": "x"}),
             ("kick", {"user": "x", "minutes": 0}), ("quiet", {"on": True}),
             ("audit", {})]


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def klass(request, make_server):
    """A server with a teacher (--admin) and two students, logged in."""
    extra = ("--db", request.getfixturevalue("mariadb").new_url()) \
        if request.param == "mysql" else ()
    teacher = new_identity()[0]
    srv = make_server("--admin", teacher, "--flood-limit", "0", *extra)
    people = {"teacher": register(srv, teacher, new_identity()[1]),
              "ann": register(srv), "bob": register(srv)}
    return srv, people


def test_roles_come_with_login_and_auth(klass):
    srv, p = klass
    with WireClient(srv.auth) as c:
        reply = c.request("login", login=p["teacher"]["username"], password=p["teacher"]
                          ["password"])
        assert reply["role"] == "admin"
        assert c.request("login", login=p["ann"]["username"],
                         password=p["ann"]["password"])["role"] == "member"
    with chat_client(srv, p["teacher"]) as t, file_client(srv, p["ann"]) as f:
        assert t.auth_reply["role"] == "admin" and t.auth_reply["quiet"] is False
        assert f.request("ping")["status"] == "ok"


@pytest.mark.parametrize("op,fields", ADMIN_OPS)
def test_members_get_forbidden_for_every_admin_op(klass, op, fields):
    srv, p = klass
    with chat_client(srv, p["ann"]) as ann:
        fields = dict(fields)
        if "user" in fields:
            fields["user"] = p["bob"]["username"]
        assert ann.request(op, **fields)["status"] == "forbidden"


def test_mute_rules_and_what_a_muted_student_may_still_do(klass):
    srv, p = klass
    with chat_client(srv, p["teacher"]) as t, chat_client(srv, p["ann"]) as ann, \
            chat_client(srv, p["bob"]) as bob:
        for bad in (0, 10081, "5", 1.5, True, None):
            assert t.request("mute", user=p["ann"]["username"],
                             minutes=bad)["status"] == "bad_request", bad
        assert t.request("mute", user="nobody_here", minutes=5)["status"] == "no_such_user"
        assert t.request("mute", user=p["teacher"]["username"],
                         minutes=5)["status"] == "forbidden"
        reply = t.request("mute", user=p["ann"]["username"], minutes=5)
        assert reply["status"] == "ok" and reply["until"] > 0
        event = bob.next_event("moderation")
        assert event == {"op": "moderation", "action": "mute", "user": p["ann"]["username"],
                         "by": p["teacher"]["username"], "until": reply["until"]}
        said = ann.request("say", text="hello?")
        assert said["status"] == "muted" and 1 <= said["retry_after"] <= 300
        assert ann.request("say", text="psst", to=p["bob"]["username"])["status"] == "muted"
        assert ann.request("say", text="may I ask?",
                           to=p["teacher"]["username"])["status"] == "ok"
        with chat_client(srv, p["ann"]) as again:
            assert again.auth_reply["muted_until"] == reply["until"]
        assert t.request("unmute", user=p["ann"]["username"])["status"] == "ok"
        assert bob.next_event("moderation")["action"] == "unmute"
        assert ann.request("say", text="thanks")["status"] == "ok"


def test_kick_closes_every_connection_ends_the_token_and_bans_across_a_restart(klass):
    srv, p = klass
    ann = p["ann"]
    t = chat_client(srv, p["teacher"])
    bob = chat_client(srv, p["bob"])
    a_chat, a_file = chat_client(srv, ann), file_client(srv, ann)
    assert t.request("kick", user=ann["username"], minutes=10, reason="spam")["status"] == "ok"
    kicked = a_chat.next_event("kicked")
    assert kicked["by"] == p["teacher"]["username"] and kicked["reason"] == "spam"
    a_chat.expect_closed()
    a_file.expect_closed()
    assert bob.next_event("moderation")["action"] == "kick"
    with WireClient(srv.chat) as again:
        assert again.request("auth", token=ann["token"])["status"] == "unauthorized"
    for c in (t, bob):
        c.close()
    srv.restart()
    with WireClient(srv.auth) as c:
        reply = c.request("login", login=ann["username"], password=ann["password"])
        assert reply["status"] == "banned" and 1 <= reply["retry_after"] <= 600
        # a kick for 0 minutes ends the connections but bans nobody
        with chat_client(srv, register_login(c, p["teacher"])) as t2:
            assert t2.request("kick", user=p["bob"]["username"], minutes=0)["status"] == "ok"
        assert c.request("login", login=p["bob"]["username"],
                         password=p["bob"]["password"])["status"] == "ok"


def register_login(c, person):
    reply = c.request("login", login=person["username"], password=person["password"])
    assert reply["status"] == "ok", reply
    return dict(person, token=reply["token"])


def test_quiet_room_lets_only_admins_speak_and_members_write_to_admins(klass):
    srv, p = klass
    with chat_client(srv, p["teacher"]) as t, chat_client(srv, p["ann"]) as ann:
        assert t.request("quiet", on="yes")["status"] == "bad_request"
        assert t.request("quiet", on=True)["status"] == "ok"
        assert ann.next_event("moderation") == {"op": "moderation", "action": "quiet",
                                                "on": True, "room": 1,
                                                "by": p["teacher"]["username"]}
        assert ann.request("say", text="hi all")["status"] == "forbidden"
        assert ann.request("say", text="hi", to=p["bob"]["username"])["status"] == "forbidden"
        assert ann.request("say", text="question", to=p["teacher"]["username"])["status"] == "ok"
        assert t.request("say", text="listen")["status"] == "ok"
        with chat_client(srv, p["bob"]) as bob:
            assert bob.auth_reply["quiet"] is True
        assert t.request("quiet", on=False)["status"] == "ok"
        assert ann.request("say", text="now?")["status"] == "ok"


def test_audit_lists_every_action_newest_first(klass):
    srv, p = klass
    with chat_client(srv, p["teacher"]) as t:
        t.request("mute", user=p["ann"]["username"], minutes=1)
        t.request("unmute", user=p["ann"]["username"])
        t.request("quiet", on=True)
        entries = t.request("audit", limit=2)["entries"]
        assert [e["action"] for e in entries] == ["quiet", "unmute"]
        assert set(entries[0]) == {"id", "ts", "by", "action", "user", "detail"}
        older = t.request("audit", before=entries[-1]["id"])["entries"]
        assert older[0]["action"] == "mute" and older[0]["user"] == p["ann"]["username"]
        assert t.request("audit", limit=201)["status"] == "bad_request"


def test_delete_message_rules_and_events(klass):
    srv, p = klass
    with chat_client(srv, p["teacher"]) as t, chat_client(srv, p["ann"]) as ann, \
            chat_client(srv, p["bob"]) as bob:
        mine = ann.request("say", text="oops")["msg_id"]
        bobs = bob.request("say", text="bob's")["msg_id"]
        private = ann.request("say", text="secret", to=p["bob"]["username"])["msg_id"]
        assert ann.request("delete_message", msg_id=bobs)["status"] == "forbidden"
        assert ann.request("delete_message", msg_id=mine)["status"] == "ok"
        assert bob.next_event("message_deleted") == {"op": "message_deleted", "msg_id": mine,
                                                     "by": p["ann"]["username"]}
        assert ann.request("delete_message", msg_id=mine)["status"] == "not_found"
        assert ann.request("delete_message", msg_id=10 ** 12)["status"] == "not_found"
        # a private message the admin cannot see is not revealed
        assert t.request("delete_message", msg_id=private)["status"] == "not_found"
        assert t.request("delete_message", msg_id=bobs)["status"] == "ok"
        ids = [m["msg_id"] for m in ann.request("history")["messages"]]
        assert mine not in ids and bobs not in ids and private in ids
        assert t.request("audit")["entries"][0]["action"] == "delete"


def upload(c, name, data, **extra):
    return c.upload(name, data, **extra)


def test_hand_ins_are_seen_by_owner_and_admins_only(klass):
    srv, p = klass
    with file_client(srv, p["ann"]) as ann, file_client(srv, p["bob"]) as bob, \
            file_client(srv, p["teacher"]) as teacher, \
            chat_client(srv, p["bob"]) as bob_chat, chat_client(srv, p["teacher"]) as t_chat:
        done = upload(ann, "hw1.txt", b"my homework", visibility="admins")
        assert done["status"] == "ok" and done["file"]["visibility"] == "admins"
        file_id = done["file"]["file_id"]
        assert t_chat.next_event("file_added")["file"]["file_id"] == file_id
        assert bob.request("download", file_id=file_id)["status"] == "not_found"
        assert bob.request("delete", file_id=file_id)["status"] == "not_found"
        assert file_id not in [f["file_id"] for f in bob.request("list")["files"]]
        assert file_id in [f["file_id"] for f in teacher.request("list")["files"]]
        assert teacher.download(file_id) == b"my homework"
        shared = upload(bob, "notes.txt", b"for all")
        announced = bob_chat.next_event("file_added")["file"]["file_id"]
        assert announced == shared["file"]["file_id"]
        # the hand-in was never announced to bob
        assert [e for e in bob_chat.events if e["op"] == "file_added"] == []
        assert upload(ann, "x", b"1", visibility="nobody")["status"] == "bad_request"
        # an admin deletes any file; the owner of a hand-in is told
        assert teacher.request("delete", file_id=shared["file"]["file_id"])["status"] == "ok"
        assert ann.request("delete", file_id=file_id)["status"] == "ok"


def test_uploads_admins_lets_members_only_hand_in(make_server):
    teacher = new_identity()[0]
    srv = make_server("--admin", teacher, "--uploads", "admins")
    t, ann = register(srv, teacher, new_identity()[1]), register(srv)
    with file_client(srv, ann) as a, file_client(srv, t) as tc:
        data = b"abc"
        reply = a.request("upload", name="a.txt", size=3,
                          sha256=hashlib.sha256(data).hexdigest())
        assert reply["status"] == "forbidden"
        assert upload(a, "a.txt", data, visibility="admins")["status"] == "ok"
        assert upload(tc, "slides.pdf", data)["status"] == "ok"


def test_admin_command_works_while_the_server_runs(make_server):
    srv = make_server()
    ann = register(srv)
    grant = subprocess.run([sys.executable, os.path.join(ROOT, "chatroom.py"), "admin", "grant",
                            ann["username"], "--data-dir", srv.data_dir],
                           capture_output=True, text=True, timeout=60)
    assert grant.returncode == 0, grant.stderr
    assert "admin" in grant.stdout
    with chat_client(srv, ann) as c:  # the next auth sees it
        assert c.auth_reply["role"] == "admin"
    unknown = subprocess.run([sys.executable, os.path.join(ROOT, "chatroom.py"), "admin",
                              "grant", "nobody_at_all", "--data-dir", srv.data_dir],
                             capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 1 and "nobody_at_all" in unknown.stderr


def test_admin_flag_makes_a_later_registration_an_admin(make_server):
    name = new_identity()[0]
    srv = make_server("--admin", name)
    with chat_client(srv, register(srv, name, new_identity()[1])) as c:
        assert c.auth_reply["role"] == "admin"


V1_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "schema_v1.sql")


def test_a_version_1_database_is_migrated_in_place(make_server, tmp_path):
    """An old chatroom-data folder keeps its users, messages and files (SQLite)."""
    from db.dialect import sqlite_schema
    data_dir = tmp_path / "old"
    data_dir.mkdir()
    with open(V1_SCHEMA, encoding="utf-8") as f:
        text = "\n".join(line for line in f.read().splitlines()
                         if not line.lstrip().startswith("--"))
    conn = sqlite3.connect(str(data_dir / "chatroom.db"))
    for statement in sqlite_schema([s.strip() for s in text.split(";") if s.strip()]):
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    conn.execute("INSERT INTO users (id, username, username_key, password_hash, phone, email, "
                 "created_at) VALUES (1001, 'old', 'old', 'x', '13900000001', '', 1.0)")
    for i in range(20):  # (more than the events a start and a login number meanwhile)
        conn.execute("INSERT INTO messages (sender_id, recipient_id, text, created_at) "
                     "VALUES (1001, NULL, ?, 2.0)", ("older %d" % i,))
    conn.execute("INSERT INTO messages (sender_id, recipient_id, text, created_at) "
                 "VALUES (1001, NULL, 'from 2025', 2.0)")
    conn.execute("INSERT INTO files (name, owner_id, size, sha256, type, uploaded_at, "
                 "storage_key, state) VALUES ('a.txt', 1001, 0, ?, 'text/plain', 3.0, 'k', "
                 "'complete')", (hashlib.sha256(b"").hexdigest(),))
    conn.commit()
    conn.close()
    (data_dir / "files").mkdir()
    (data_dir / "files" / "k").write_bytes(b"")
    srv = make_server(data_dir=str(data_dir))
    newcomer = register(srv)
    with chat_client(srv, newcomer) as c, file_client(srv, newcomer) as f:
        assert [m["text"] for m in c.auth_reply["history"]] == [
            "older %d" % i for i in range(20)] + ["from 2025"]
        assert c.auth_reply["history"][-1]["room"] == 1  # old public messages: the lobby's
        assert c.auth_reply["role"] == "member"
        files = f.request("list")["files"]
        assert [(x["name"], x["owner"], x["visibility"]) for x in files] == [
            ("a.txt", "old", "all")]
        # the numbering of messages (docs/PROTOCOL.md §13, schema 4) goes on after the old ones
        old_id = c.auth_reply["history"][-1]["msg_id"]
        said = c.request("say", text="from 2026")
        assert said["status"] == "ok" and said["msg_id"] > old_id
        assert [m["text"] for m in c.request("history", limit=2)["messages"]] == [
            "from 2025", "from 2026"]
    assert "schema migrated to version 3" in srv.log()
    assert "schema migrated to version 4" in srv.log()


def test_kicked_user_reconnecting_with_the_old_token_is_unauthorized(klass):
    srv, p = klass
    with chat_client(srv, p["teacher"]) as t:
        assert t.request("kick", user=p["bob"]["username"], minutes=1)["status"] == "ok"
    with file_client_raw(srv) as f:
        assert f.request("auth", token=p["bob"]["token"])["status"] == "unauthorized"
        with pytest.raises((Closed, ConnectionResetError)):
            f.request("ping")


def file_client_raw(srv):
    return WireClient(srv.file)


def test_hand_in_bytes_are_private_on_disk(klass):
    srv, p = klass
    with file_client(srv, p["ann"]) as ann:
        ann.request("upload", name="big.bin", size=4, sha256=hashlib.sha256(b"abcd").hexdigest(),
                    visibility="admins")
        ann.send_raw(frame(B, b"abcd"))
        assert ann.next_event("upload_done")["status"] == "ok"
