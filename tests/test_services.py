"""The services and the fan-out without sockets: fake peers and a fake loop (tests/fakes.py)
over a real SQLite store. What each test checks is in docs/PROTOCOL.md §5 and §6."""
from __future__ import annotations

import hashlib
import os

import pytest

from db.store import open_store
from db.writer import MessageWriter
from net.messages import FramingError
from server.accounts import Accounts
from server.chat import ChatService
from server.config import ServerConfig
from server.fanout import Fanout
from server.files import FileService
from server.library import Library
from server.passwords import hash_password
from server.sessions import Sessions
from server.storage import FileStorage
from server.uploads import UPLOAD_BACKLOG_BYTES, Upload
from tests.fakes import FakeLoop, FakePeer


class Member:
    """A peer state with the floor attribute the fan-out reads."""

    def __init__(self) -> None:
        self.floor = None


def member(loop):
    peer = FakePeer(loop)
    peer.state = Member()
    return peer


def test_fanout_joins_one_turns_public_events_once_per_member():
    loop = FakeLoop()
    fanout = Fanout(loop.call_soon, lambda: False)
    a, b = member(loop), member(loop)
    fanout.members.update({a, b})
    fanout.to_everyone({"op": "message", "msg_id": 1, "text": "x"}, 1)
    fanout.to_everyone({"op": "message", "msg_id": 2, "text": "y"}, 2)
    fanout.to([a], {"op": "message", "msg_id": 3, "text": "private"}, 3, (7, 8))
    assert len(loop.soon) == 1  # one delivery per turn, however many events
    loop.pump()
    assert [m["msg_id"] for m in a.messages()] == [1, 2, 3]
    assert [m["msg_id"] for m in b.messages()] == [1, 2]


def test_fanout_history_comes_from_the_ring_only_when_the_ring_is_enough():
    loop = FakeLoop()
    fanout = Fanout(loop.call_soon, lambda: False)
    rooms_of = {7: {5}}  # user 7 is in room 5; user 5 is in no room

    def may_see_room(user, room):
        return room in rooms_of.get(user, ())
    fanout.to_everyone({"op": "message", "msg_id": 1}, 1)
    fanout.to([], {"op": "message", "msg_id": 2}, 2, ("room", 5))
    fanout.to([], {"op": "message", "msg_id": 3}, 3, (5, 9))  # private: users 5 and 9
    fanout.to_everyone({"op": "message", "msg_id": 4}, 4)
    loop.pump()
    ids = lambda events: [e["msg_id"] for e in events]  # noqa: E731
    # a user whose id is the room's id does not thereby see the room
    assert ids(fanout.history(5, 50, may_see_room)) == [1, 3, 4]
    assert ids(fanout.history(7, 2, may_see_room)) == [2, 4]
    fanout.forget(4)
    assert ids(fanout.history(7, 50, may_see_room)) == [1, 2]
    # messages stored before the process started are not in the ring: ask the database
    fanout.complete_from = 3
    assert fanout.history(7, 50, may_see_room) is None
    assert ids(fanout.history(9, 1, may_see_room)) == [3]  # (enough found in the ring)


def test_fanout_welcome_replays_what_a_joiner_missed_and_the_floor_drops_duplicates():
    loop = FakeLoop()
    fanout = Fanout(loop.call_soon, lambda: False)
    old = member(loop)
    fanout.members.add(old)
    for i in (1, 2, 3):
        fanout.to_everyone({"op": "message", "msg_id": i}, i)
    fanout.to([old], {"op": "message", "msg_id": 4}, 4, (5, 6))  # private to users 5 and 6
    loop.pump()
    joiner = member(loop)
    fanout.welcome(joiner, 5, newest=1)  # its history snapshot ended at message 1
    fanout.members.add(joiner)
    assert [m["msg_id"] for m in joiner.messages()] == [2, 3, 4]
    other = member(loop)
    fanout.welcome(other, 9, newest=5)  # user 9 may not see message 4; 5 was in history
    fanout.members.add(other)
    fanout.to_everyone({"op": "message", "msg_id": 5}, 5)  # stored before, delivered after
    fanout.to_everyone({"op": "message", "msg_id": 6}, 6)
    loop.pump()
    assert [m["msg_id"] for m in other.messages()] == [6]
    assert other.state.floor is None  # cleared by the first newer message


@pytest.fixture
def world(tmp_path):
    store = open_store("sqlite:///%s" % (tmp_path / "t.db"))
    accounts = Accounts(store)
    loop = FakeLoop()
    config = ServerConfig(flood_limit=0, quota=10_000)
    users = {}
    for i, name in enumerate(("ann", "bob")):
        uid = store.create_user(name, name, hash_password("pw12345678"), "1390000000%d" % i,
                                "", 1.0)
        user = store.user_by_key(name)
        users[name] = (user, accounts.login(user, "pw12345678")[1])
        assert user.id == uid
    yield store, accounts, loop, config, users
    store.close()


def authed(service, loop, token):
    peer = FakePeer(loop, service)
    service.on_request(peer, {"op": "auth", "id": "a", "token": token})
    # (the chat service answers after the log writer's sync: docs/PROTOCOL.md §13)
    loop.pump(until=lambda: bool(peer.messages("auth")))
    assert peer.messages("auth")[0]["status"] == "ok", peer.messages()
    return peer


def test_chat_acknowledges_after_storing_and_delivers_to_every_member(world):
    store, accounts, loop, config, users = world
    writer = MessageWriter(store, loop.post)
    chat = ChatService(config, accounts, Sessions(0), writer, "off")
    chat.loop = loop
    chat.start()
    ann, bob = (authed(chat, loop, users[n][1]) for n in ("ann", "bob"))
    assert [p for p in ann.messages("presence")] == [{"op": "presence", "user": "bob",
                                                      "online": True}]
    chat.on_request(ann, {"op": "say", "id": 1, "text": "hello"})
    chat.on_request(ann, {"op": "history", "id": 2})  # waits for the say: replies in order
    loop.pump(until=lambda: bool(ann.messages("history")))
    replies = [m for m in ann.messages() if "status" in m and m["op"] != "auth"]
    assert [r["op"] for r in replies] == ["say", "history"]
    assert replies[0]["msg_id"] == store.history(users["ann"][0].id, None, 1)[0].id
    assert [m["text"] for m in bob.messages("message")] == ["hello"]
    chat.on_request(bob, {"op": "say", "id": 3, "text": "psst", "to": "ann"})
    loop.pump(until=lambda: len(ann.messages("message")) == 2)
    assert ann.messages("message")[-1]["to"] == "ann"
    writer.stop()


def test_file_service_upload_list_and_delete_without_sockets(world, tmp_path):
    store, accounts, loop, config, users = world
    storage = FileStorage(str(tmp_path / "files"))
    announced = []

    class Chat:
        def share_then(self, peer, request, kind, answer, event, visibility,
                       owner_id):  # server/cluster.py
            assert kind == "file"
            announced.append(event)
            answer()
    files = FileService(config, accounts, Sessions(0), storage, Chat(), "off")
    files.loop = loop
    peer = authed(files, loop, users["ann"][1])
    data = b"hello world"
    files.on_request(peer, {"op": "upload", "id": 9, "name": "a/b.txt", "size": len(data),
                            "sha256": hashlib.sha256(data).hexdigest()})
    assert peer.messages("upload")[0]["offset"] == 0
    files.on_binary(peer, data)
    done = peer.messages("upload_done")[0]
    assert done["status"] == "ok" and done["id"] == 9 and done["file"]["type"] == "text/plain"
    assert announced == [{"op": "file_added", "file": done["file"]}]
    files.on_request(peer, {"op": "list", "id": 10, "limit": 1})
    listing = peer.messages("list")[0]
    assert [f["name"] for f in listing["files"]] == ["a/b.txt"] and listing["more"] is False
    files.on_request(peer, {"op": "upload", "id": 11, "name": "big", "size": 20_000,
                            "sha256": "0" * 64})
    assert peer.messages("upload")[-1]["status"] == "quota_exceeded"
    files.on_request(peer, {"op": "delete", "id": 12, "file_id": done["file"]["file_id"]})
    assert peer.messages("delete")[0]["status"] == "ok"
    assert announced[-1]["op"] == "file_removed"


def make_upload(tmp_path, loop, peer, data, finished, parked):
    store = open_store("sqlite:///%s" % (tmp_path / "u.db"))
    uid = store.create_user("up", "up", "x", "13900000009", "", 1.0)
    storage = FileStorage(str(tmp_path / "files"))
    library = Library(store, storage, 0)
    status, opened = library.open_upload(uid, "f.bin", len(data),
                                         hashlib.sha256(data).hexdigest(), "x/y", {})
    assert status == "ok"
    return Upload(peer, loop, library, storage, {"op": "upload", "id": 1}, opened,
                  finished, parked), storage


def test_upload_pipeline_holds_the_peer_while_the_disk_is_behind(tmp_path):
    loop = FakeLoop(eager=False)  # the jobs run when the test says: a slow disk
    peer = FakePeer(loop)
    data = os.urandom(3 * UPLOAD_BACKLOG_BYTES)
    results = []
    upload, _ = make_upload(tmp_path, loop, peer, data, lambda u, s, r: results.append(s),
                            lambda *a: None)
    chunk = 1024 * 1024
    for i in range(0, UPLOAD_BACKLOG_BYTES + chunk, chunk):
        upload.receive(data[i:i + chunk])
    assert peer.holds == 1  # more than the backlog is waiting for the disk
    while loop.jobs:
        loop.run_jobs()
    assert peer.holds == 0
    for i in range(UPLOAD_BACKLOG_BYTES + chunk, len(data), chunk):
        upload.receive(data[i:i + chunk])
        loop.run_jobs()
    while loop.jobs:
        loop.run_jobs()
    assert results == ["ok"]
    with pytest.raises(FramingError):
        upload.receive(b"x")


def test_a_detached_upload_parks_with_the_hash_of_exactly_its_bytes(tmp_path):
    loop = FakeLoop(eager=False)
    peer = FakePeer(loop)
    data = os.urandom(300_000)
    parked = []
    upload, storage = make_upload(tmp_path, loop, peer, data, lambda *a: None,
                                  lambda u, hasher, kept: parked.append((hasher, kept)))
    upload.receive(data[:100_000])
    upload.receive(data[100_000:200_000])
    upload.detach()  # the connection closed with jobs in flight
    while loop.jobs:
        loop.run_jobs()
    (hasher, kept), = parked
    assert kept == 200_000 and hasher.hexdigest() == hashlib.sha256(data[:200_000]).hexdigest()
    with open(storage.partial_path(upload.storage_key), "rb") as f:
        assert f.read() == data[:200_000]
