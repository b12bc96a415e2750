"""Many server processes, one database (docs/PROTOCOL.md §13): real processes sharing one
SQLite file or one private MariaDB, clients spread over them."""
from __future__ import annotations

import hashlib
import threading
import time

import pytest

from tests.conftest import chat_client, file_client, new_identity, register
from tests.procs import wait_until
from tests.wire import WireClient

# docs/PROTOCOL.md §13: a dead process's users are offline elsewhere within this long.
OFFLINE_WITHIN_S = 15.0


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def cluster(request, make_server, tmp_path):
    """start(n, *args) -> n servers on one database and one storage folder."""
    if request.param == "mysql":
        db = request.getfixturevalue("mariadb").new_url()
    else:
        db = "sqlite:///%s" % (tmp_path / "shared.db")
    storage = str(tmp_path / "files")

    def start(n: int, *args: str):
        return [make_server("--db", db, "--storage", storage, "--flood-limit", "0", *args)
                for _ in range(n)]
    start.db = db
    return start


def sync(srv, user) -> None:
    """A chat auth on srv is answered only after srv has applied everything the cluster log
    held when it arrived (docs/PROTOCOL.md §13)."""
    chat_client(srv, user).close()


def wait_for_events(url: str, count: int, text: str) -> None:
    """Until the log holds ``count`` events containing ``text`` (read straight from the
    database: the processes write them just after they answer)."""
    from db import open_store
    store = open_store(url)
    try:
        wait_until(lambda: store._read(lambda cur: store._q(
            cur, "SELECT COUNT(*) FROM cluster_events WHERE body LIKE ?",
            ("%" + text + "%",)).fetchone())[0] >= count, 10, what="%d %s events" % (count, text))
    finally:
        store.close()


def events(client: WireClient, op: str, count: int, timeout_s: float = 10.0):
    return [client.next_event(op, timeout_s) for _ in range(count)]


def test_messages_reach_every_process_exactly_once_in_order(cluster):
    servers = cluster(3)
    people = [register(servers[i % 3]) for i in range(10)]
    readers = [chat_client(srv, people[i]) for i, srv in enumerate(servers)]
    senders = [chat_client(servers[i % 3], person) for i, person in enumerate(people)]
    per_sender = 30
    acked = []
    lock = threading.Lock()

    def send(client: WireClient, who: int) -> None:
        for i in range(per_sender):
            reply = client.request("say", text="%d-%d" % (who, i))
            assert reply["status"] == "ok", reply
            with lock:
                acked.append(reply["msg_id"])
    threads = [threading.Thread(target=send, args=(c, i)) for i, c in enumerate(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(acked) == 10 * per_sender and len(set(acked)) == len(acked)
    for reader in readers + senders:
        got = [e["msg_id"] for e in events(reader, "message", len(acked))]
        assert got == sorted(acked), "each connection hears every message once, in id order"
    for c in readers + senders:
        c.close()


def test_presence_and_private_messages_across_processes(cluster):
    a, b = cluster(2)
    ann, bob = register(a), register(b)
    with chat_client(a, ann) as on_a:
        with chat_client(b, bob) as on_b:
            assert on_a.next_event("presence") == {"op": "presence", "user": bob["username"],
                                                  "online": True}
            assert bob["username"] in on_a.request("users")["online"]
            assert ann["username"] in on_b.auth_reply["online"]
            # a second connection of bob on the other process is no news
            with chat_client(a, bob):
                pass
            sent = on_b.request("say", text="psst", to=ann["username"])
            assert sent["status"] == "ok"
            private = on_a.next_event("message")
            assert (private["msg_id"], private["to"], private["from"]) == (
                sent["msg_id"], ann["username"], bob["username"])
        assert on_a.next_event("presence") == {"op": "presence", "user": bob["username"],
                                              "online": False}
        assert bob["username"] not in on_a.request("users")["online"]


def test_rooms_moderation_and_files_are_cluster_wide(cluster):
    teacher = new_identity()[0]
    a, b = cluster(2, "--admin", teacher)
    boss = register(a, teacher, new_identity()[1])
    ann, bob = register(a), register(b)
    with chat_client(a, boss) as t, chat_client(a, ann) as on_a, chat_client(b, bob) as on_b:
        made = on_a.request("create_room", name="physics-%s" % ann["username"])
        room = made["room"]["room"]
        assert on_b.next_event("room")["room"]["room"] == room
        assert on_b.request("join", room=room)["status"] == "ok"
        assert on_a.next_event("joined") == {"op": "joined", "room": room,
                                             "user": bob["username"]}
        said = on_a.request("say", room=room, text="in the room")
        heard = on_b.next_event("message")
        assert (heard["msg_id"], heard["room"]) == (said["msg_id"], room)
        # delete, on the other process
        assert on_a.request("delete_message", msg_id=said["msg_id"])["status"] == "ok"
        assert on_b.next_event("message_deleted")["msg_id"] == said["msg_id"]
        # mute on a, refused on b
        assert t.request("mute", user=bob["username"], minutes=5)["status"] == "ok"
        assert on_b.next_event("moderation")["action"] == "mute"
        wait_until(lambda: on_b.request("say", text="hi")["status"] == "muted", 5,
                   what="the mute to reach process b")
        # a file shared on b is announced on a
        data = b"shared across processes"
        with file_client(b, bob) as f:
            done = f.upload("notes.txt", data)
        assert done["status"] == "ok", done
        added = on_a.next_event("file_added")
        assert added["file"]["sha256"] == hashlib.sha256(data).hexdigest()
        with file_client(a, ann) as f:
            assert f.download(added["file"]["file_id"]) == data
        # kick on a closes bob's connection on b
        assert t.request("kick", user=bob["username"], minutes=0)["status"] == "ok"
        closing = on_b.expect_closed(10)
        assert any(e.get("op") == "kicked" for e in closing)


def test_logout_on_one_process_ends_connections_on_the_others(cluster):
    a, b = cluster(2)
    ann = register(a)
    on_b = chat_client(b, ann)
    with WireClient(a.auth) as auth:
        assert auth.request("logout", token=ann["token"])["status"] == "ok"
    closing = on_b.expect_closed(10)
    assert {"op": "logged_out"} in closing
    with WireClient(b.chat) as again:
        assert again.request("auth", token=ann["token"])["status"] == "unauthorized"


def test_a_killed_process_loses_nothing_and_its_users_go_offline(cluster):
    a, b = cluster(2)
    ann, bob = register(a), register(b)
    on_a = chat_client(a, ann)
    on_b = chat_client(b, bob)
    acked = [on_a.request("say", text="before %d" % i)["msg_id"] for i in range(20)]
    a.kill()
    killed = time.monotonic()
    offline = on_b.next_event("presence", OFFLINE_WITHIN_S + 2)
    assert offline == {"op": "presence", "user": ann["username"], "online": False}
    assert time.monotonic() - killed <= OFFLINE_WITHIN_S
    assert ann["username"] not in on_b.request("users")["online"]
    history = on_b.request("history", limit=50)["messages"]
    assert acked == [m["msg_id"] for m in history if m["text"].startswith("before")]
    assert on_b.request("say", text="still serving")["status"] == "ok"
    on_b.close()


def worker_pids(srv) -> dict:
    """{worker index: pid} from the supervisor's log lines (the newest start of each)."""
    import re
    return {int(i): int(pid) for i, pid in
            re.findall(r"worker (\d+) started \(pid (\d+)\)", srv.log())}


def alive(pid: int) -> bool:
    import os
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (killed, not yet reaped by its parent) is not serving
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(") ", 1)[1][0] != "Z"


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="--workers needs fork")
def test_workers_share_the_ports_and_a_dead_one_is_restarted(cluster):
    import os
    import signal
    (srv,) = cluster(1, "--workers", "2")
    assert srv.log().count("listening") == 1
    pids = worker_pids(srv)
    assert sorted(pids) == [0, 1] and all(alive(p) for p in pids.values())
    people = [register(srv) for _ in range(6)]
    clients = [chat_client(srv, person) for person in people]
    said = clients[0].request("say", text="to every worker")
    for c in clients[1:]:
        assert c.next_event("message")["msg_id"] == said["msg_id"]
    os.kill(pids[0], signal.SIGKILL)
    srv.wait_log(r"worker 0 \(pid %d\) was killed by SIGKILL; restarting it" % pids[0])
    wait_until(lambda: worker_pids(srv)[0] != pids[0] and alive(worker_pids(srv)[0]), 10,
               what="worker 0 to be restarted")
    # the service goes on: new connections are served, old ones on worker 1 still are
    late = register(srv)
    with chat_client(srv, late) as c:
        assert c.request("say", text="after the restart")["status"] == "ok"
    for c in clients:
        c.close()
    assert srv.log().count("listening") == 1
    everyone = list(worker_pids(srv).values()) + [srv.proc.pid]
    started = time.monotonic()
    assert srv.stop(timeout_s=10) == 0
    assert time.monotonic() - started < 10
    wait_until(lambda: not any(alive(p) for p in everyone if p != srv.proc.pid), 2,
               what="every worker to be gone")


def test_workers_above_one_are_refused_where_there_is_no_fork(tmp_path):
    import subprocess
    import sys
    code = ("import sys, net.prefork as p; p.SUPPORTED = False; import server_main; "
            "sys.exit(server_main.main(['--data-dir', %r, '--workers', '2', "
            "'--auth-port', '0', '--chat-port', '0', '--file-port', '0']))" % str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=30, cwd=__import__("tests.procs").procs.ROOT)
    assert done.returncode == 2
    assert "--workers 2 needs fork()" in done.stderr


def test_throttles_count_across_processes(cluster):
    a, b = cluster(2, "--codes-per-ip", "3")
    someone = register(a)  # (its own code counts too: one of the three)
    for _ in range(2):
        with WireClient(a.auth) as c:
            assert c.request("send_code", phone=new_identity()[1])["status"] == "ok"
    wait_for_events(cluster.db, 3, "codes_per_ip")
    sync(b, someone)
    with WireClient(b.auth) as c:
        refused = c.request("send_code", phone=new_identity()[1])
    assert refused["status"] == "rate_limited" and refused["retry_after"] >= 1

    # five failed logins for one account, spread over both processes, lock it on both
    for srv in (a, b, a, b, a):
        with WireClient(srv.auth) as c:
            assert c.request("login", login=someone["username"],
                             password="wrong-password")["status"] == "bad_credentials"
    wait_for_events(cluster.db, 6, '"attempt"')  # (register's login was one)
    sync(a, someone)
    sync(b, someone)
    for srv in (a, b):
        with WireClient(srv.auth) as c:
            locked = c.request("login", login=someone["username"], password=someone["password"])
        assert locked["status"] == "rate_limited", locked


@pytest.mark.mysql
def test_processes_recover_on_their_own_when_mariadb_restarts_under_load(mariadb, make_server,
                                                                        tmp_path):
    url = mariadb.new_url()
    a, b = (make_server("--db", url, "--storage", str(tmp_path / "files"), "--flood-limit",
                        "0") for _ in range(2))
    ann, bob = register(a), register(b)
    on_a, on_b = chat_client(a, ann), chat_client(b, bob)
    statuses = []
    stop = threading.Event()

    def load() -> None:  # says on a, all through the outage (bounded in count and time)
        deadline = time.monotonic() + 60
        for i in range(2000):
            if stop.is_set() or time.monotonic() > deadline:
                return
            statuses.append(on_a.request("say", text="load %d" % i, timeout_s=30)["status"])
    sender = threading.Thread(target=load)
    sender.start()
    try:
        wait_until(lambda: len(statuses) >= 20, 10, what="the load to start")
        mariadb.stop()
        mariadb.start()
        wait_until(lambda: statuses[-5:] == ["ok"] * 5 and len(statuses) > 40, 30,
                   what="says to succeed again after the restart")
    finally:
        stop.set()
        sender.join(60)
    assert set(statuses) <= {"ok", "internal_error"}
    # the log is tailed again: a message said on a after the restart reaches b
    said = on_a.request("say", text="after the outage")
    assert said["status"] == "ok"
    wait_until(lambda: on_b.next_event("message")["msg_id"] == said["msg_id"], 15,
               what="b to hear a again")
    # and nobody was declared dead for an outage everyone shared
    assert ann["username"] in on_b.request("users")["online"]
    assert bob["username"] in on_a.request("users")["online"]
    on_a.close()
    on_b.close()


def test_an_upload_started_on_one_process_resumes_on_another_and_is_never_fed_twice(cluster):
    from tests.wire import frame
    a, b = cluster(2)
    ann = register(a)
    data = bytes(range(256)) * 4096  # 1 MiB
    digest = hashlib.sha256(data).hexdigest()
    with file_client(a, ann) as on_a:
        started = on_a.request("upload", name="big.bin", size=len(data), sha256=digest)
        assert started["status"] == "ok" and started["offset"] == 0
        on_a.send_raw(frame(0x42, data[:300000]))
        assert on_a.request("ping")["status"] == "ok"  # (the bytes were taken)
        # while a feeds it, b may not
        with file_client(b, ann) as on_b:
            busy = on_b.request("upload", name="big.bin", size=len(data), sha256=digest)
            assert busy["status"] == "busy", busy
    # a's connection is gone: b resumes where a stopped, and finishes it
    def resumed():
        with file_client(b, ann) as on_b:
            reply = on_b.request("upload", name="big.bin", size=len(data), sha256=digest)
            if reply["status"] == "busy":  # a has not noticed the close yet
                return None
            assert reply["status"] == "ok" and reply["offset"] == 300000, reply
            for i in range(reply["offset"], len(data), 65536):
                on_b.send_raw(frame(0x42, data[i:i + 65536]))
            return on_b.next_event("upload_done")
    done = None
    deadline = time.monotonic() + 10
    while done is None and time.monotonic() < deadline:
        done = resumed()
    assert done is not None and done["status"] == "ok", done
    with file_client(a, ann) as on_a:
        assert on_a.download(done["file"]["file_id"]) == data


def test_a_server_restarted_after_kill_9_shows_nobody_online_who_is_not(make_server):
    srv = make_server()
    ann, bob = register(srv), register(srv)
    chat_client(srv, ann)  # left open: the kill ends it
    srv.kill()
    srv.restart()
    with chat_client(srv, bob) as c:
        assert c.auth_reply["online"] == [bob["username"]]


def test_a_password_reset_on_one_process_ends_the_students_connections_on_the_others(cluster):
    teacher = new_identity()[0]
    a, b = cluster(2, "--admin", teacher)
    boss = register(a, teacher, new_identity()[1])
    ann = register(a)
    on_b = chat_client(b, ann)
    with chat_client(a, boss) as t:
        reset = t.request("reset_password", user=ann["username"], new_password="new-pass-123")
    assert reset["status"] == "ok", reset
    closing = on_b.expect_closed(10)
    assert any(e.get("op") == "logged_out" and e.get("reason") == "password_reset"
               for e in closing), closing


def test_a_token_known_to_a_process_stops_working_there_when_it_logs_out_elsewhere(cluster):
    a, b = cluster(2)
    ann = register(a)
    chat_client(b, ann).close()  # b now knows ann's token (server/sessions.py token cache)
    with WireClient(a.auth) as auth:
        assert auth.request("logout", token=ann["token"])["status"] == "ok"
    with WireClient(b.chat) as late:  # at once: the logout may not have reached b yet
        late.send({"op": "auth", "id": 1, "token": ann["token"]})
        seen = late.expect_closed(10)
    assert not any(f.get("op") == "auth" and f.get("status") == "ok" for f in seen), seen
    with WireClient(b.chat) as again:
        assert again.request("auth", token=ann["token"])["status"] == "unauthorized"


@pytest.mark.mysql
def test_two_servers_starting_at_once_on_a_new_database_both_serve(mariadb, tmp_path):
    from tests.procs import ServerProc
    url = mariadb.new_url()
    started, failed = [], []

    def start(i: int) -> None:
        try:
            started.append(ServerProc(str(tmp_path / ("s%d" % i)), "--db", url, "--storage",
                                      str(tmp_path / "files")))
        except Exception as exc:  # reported below
            failed.append(exc)
    threads = [threading.Thread(target=start, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert not failed, failed
        ann = register(started[0])
        for srv in started:
            with chat_client(srv, ann) as c:
                assert c.request("say", text="hello")["status"] == "ok"
    finally:
        for srv in started:
            srv.stop()


def test_users_and_rooms_answer_what_other_processes_did_just_before(cluster):
    a, b = cluster(2)
    ann, bob = register(a), register(b)
    with chat_client(b, bob) as on_b:
        for i in range(5):  # no wait between the change on a and the question on b
            made = chat_client(a, ann)
            assert ann["username"] in on_b.request("users")["online"]
            room = made.request("create_room", name="r%d-%s" % (i, ann["username"]))
            assert room["room"]["name"] in {r["name"] for r in on_b.request("rooms")["rooms"]}
            made.close()
