"""db/: one suite, run on SQLite and on a real MariaDB."""
import os
import subprocess
import sys
import threading
import time

import pytest

from db import PhoneTaken, StoreError, StoreUnavailable, UsernameTaken, open_store
from db.dialect import schema_statements, sqlite_schema
from db.writer import MessageWriter
from tests.procs import ROOT, ServerProc


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp_path / "t.db")
    else:
        url = request.getfixturevalue("mariadb").new_url()
    s = open_store(url)
    yield s
    s.close()


def add_user(store, name, phone):
    return store.create_user(name, name.casefold(), "hash", phone, "", time.time())


def test_user_ids_start_at_1001(store):
    assert add_user(store, "a", "13000000001") == 1001
    assert add_user(store, "b", "13000000002") == 1002


def test_unicode_and_emoji_round_trip(store):
    name = "小明😀"
    uid = add_user(store, name, "13000000003")
    assert store.user_by_key(name.casefold()).username == name
    text = "你好 😀🎉 𝕏 \u200d"
    [mid] = store.insert_messages([(uid, None, text, 1.5)])
    assert store.history(uid, None, 10)[-1].text == text
    fid = store.create_file("资料/第一周😀.pdf", uid, 1, "a" * 64, "x/y", 1.0, "k")
    assert store.file(fid).name == "资料/第一周😀.pdf"


def test_sql_injection_strings_are_stored_literally(store):
    evil = "x');DROP TABLE u;--"  # 19 characters: a legal username
    uid = add_user(store, evil, "13000000004")
    assert store.user_by_key(evil.casefold()).id == uid
    store.insert_messages([(uid, None, "' OR 1=1 --", 1.0)])
    assert store.history(uid, None, 1)[0].text == "' OR 1=1 --"
    assert add_user(store, "still works", "13000000005") > uid


def test_duplicates_raise_our_errors(store):
    add_user(store, "Dup", "13000000006")
    with pytest.raises(UsernameTaken):
        store.create_user("DUP", "dup", "h", "13000000007", "", 1.0)
    with pytest.raises(PhoneTaken):
        add_user(store, "other", "13000000006")


def test_case_insensitive_uniqueness_is_exact_not_accent_folding(store):
    add_user(store, "resume", "13000000008")
    # MySQL's *_ci collations would call these equal; "ignoring case" must not.
    assert add_user(store, "résumé", "13000000009") > 0


def test_fifty_threads_register_same_username_exactly_one_wins(store):
    results = []

    def attempt(i):
        try:
            add_user(store, "race", "1310000%04d" % i)
            results.append("ok")
        except UsernameTaken:
            results.append("taken")
    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1 and results.count("taken") == 49


def test_sessions_expire_and_delete(store):
    uid = add_user(store, "sess", "13000000010")
    store.create_session("t1", uid, 100.0, 200.0)
    assert store.session_user("t1", 150.0).id == uid
    assert store.session_user("t1", 250.0) is None
    assert store.delete_session("t1", 150.0)
    assert store.session_user("t1", 150.0) is None


def test_sms_code_replace_and_failures(store):
    store.save_sms_code("13000000011", "h1", 10.0)
    assert store.spend_code_attempt("13000000011", 2)
    assert store.sms_code("13000000011").attempts == 1
    assert store.spend_code_attempt("13000000011", 2)
    assert not store.spend_code_attempt("13000000011", 2)  # none left: never more than max
    assert store.sms_code("13000000011").attempts == 2
    assert not store.spend_code_attempt("13000000099", 5)  # no code at all
    store.save_sms_code("13000000011", "h2", 20.0)
    code = store.sms_code("13000000011")
    assert (code.code_hash, code.attempts, code.used) == ("h2", 0, False)


def test_history_filters(store):
    a = add_user(store, "ha", "13000000012")
    b = add_user(store, "hb", "13000000013")
    c = add_user(store, "hc", "13000000014")
    ids = store.insert_messages([(a, None, "pub", 1.0), (a, b, "a->b", 2.0), (c, a, "c->a", 3.0),
                                 (b, c, "b->c", 4.0)])
    assert [m.id for m in store.history(a, None, 10)] == ids[:3]
    assert [m.id for m in store.history(a, None, 10, b)] == [ids[1]]
    assert [m.id for m in store.history(a, ids[2], 10)] == ids[:2]
    assert store.history(a, None, 10, b)[0].recipient == "hb"


def test_files_lifecycle(store):
    uid = add_user(store, "fl", "13000000015")
    fid = store.create_file("a.txt", uid, 3, "b" * 64, "text/plain", 1.0, "key1")
    assert store.list_files(None, 10) == ([], False)
    assert [r.id for r in store.find_partials(uid, "a.txt", 3, "b" * 64)] == [fid]
    assert store.bytes_held(uid) == 3 and [r.id for r in store.partials_of(uid)] == [fid]
    record = store.complete_file(fid, 2.0)
    assert record.state == "complete" and store.list_files(None, 10) == ([record], False)
    assert store.partials_of(uid) == []
    assert store.delete_file(fid) and store.file(fid) is None


def test_list_files_pages_newest_first_by_completion(store):
    uid = add_user(store, "pg", "13000000017")
    ids = [store.create_file("f%d" % i, uid, 1, "c" * 64, "x/y", 1.0, "pk%d" % i)
           for i in range(5)]
    for i, fid in enumerate(ids):
        store.complete_file(fid, 10.0 + (i % 2))  # ties on the completion time
    page, more = store.list_files(None, 2)
    order = sorted(ids, key=lambda f: (10.0 + (ids.index(f) % 2), f), reverse=True)
    assert [r.id for r in page] == order[:2] and more
    page2, more2 = store.list_files(page[-1].id, 2)
    page3, more3 = store.list_files(page2[-1].id, 2)
    assert [r.id for r in page2 + page3] == order[2:] and more2 and not more3


def test_group_commit_writer_acks_in_order_after_commit(store):
    uid = add_user(store, "gw", "13000000016")
    acks = []
    done = threading.Event()

    def post(callback, result, error):
        callback(result, error)

    def make_cb(i):
        def cb(msg_id, error):
            assert error is None
            acks.append((i, msg_id))
            if len(acks) == 500:
                done.set()
        return cb
    writer = MessageWriter(store, post)
    for i in range(500):
        writer.submit((uid, None, "m%d" % i, float(i)), make_cb(i))
    assert done.wait(30)
    writer.stop()
    assert [i for i, _ in acks] == list(range(500))
    ids = [m for _, m in acks]
    assert ids == sorted(ids)
    assert writer.batches < 500  # batching happened
    stored = store.history(uid, None, 200)
    assert [m.id for m in stored] == ids[-200:]


def test_sqlite_schema_is_derived_from_schema_sql():
    statements = sqlite_schema(schema_statements())
    assert any("INTEGER PRIMARY KEY AUTOINCREMENT" in s for s in statements)
    assert not any("ENGINE" in s or "UNSIGNED" in s for s in statements)


def test_sqlite_unwritable_location_is_a_clear_error(tmp_path):
    blocked = tmp_path / "ro"
    blocked.mkdir()
    blocked.chmod(0o500)
    try:
        if os.geteuid() == 0:
            target = "/proc/chatroom-cannot-exist/x.db"  # root ignores permissions
        else:
            target = str(blocked / "sub" / "x.db")
        with pytest.raises(StoreError) as info:
            open_store("sqlite:///" + target)
        assert "cannot open the SQLite database" in str(info.value)
    finally:
        blocked.chmod(0o700)


def test_server_reports_unusable_database_without_traceback(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "server_main.py"), "--data-dir",
                          str(tmp_path), "--db", "sqlite:////proc/nope/x.db", "--auth-port", "0",
                          "--chat-port", "0", "--file-port", "0"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "cannot start" in out.stderr and "Traceback" not in out.stderr


def test_sqlite_file_deleted_while_stopped_is_recreated(make_server, tmp_path):
    srv = make_server(data_dir=str(tmp_path / "d"))
    srv.stop()
    os.unlink(str(tmp_path / "d" / "chatroom.db"))
    srv.restart()
    assert srv.proc.poll() is None


def test_unknown_url_is_a_clear_error():
    with pytest.raises(StoreError):
        open_store("postgres://x/y")


@pytest.mark.mysql
def test_mariadb_restart_recovers_without_restarting_chatroom(mariadb, tmp_path):
    from tests.conftest import register
    from tests.wire import WireClient
    srv = ServerProc(str(tmp_path / "srv"), "--db", mariadb.new_url())
    try:
        user = register(srv)
        mariadb.stop()
        with WireClient(srv.auth) as c:
            r = c.request("login", login=user["username"], password=user["password"],
                          timeout_s=30)
            assert r["status"] == "internal_error"
        mariadb.start()
        # docs/PROTOCOL.md §10: the first request after the database is back succeeds (stale
        # connections are replaced before they are used), on every service.
        with WireClient(srv.auth) as c:
            login = c.request("login", login=user["username"], password=user["password"])
            assert login["status"] == "ok", login
        with WireClient(srv.chat) as c:
            assert c.request("auth", token=login["token"])["status"] == "ok"
            assert c.request("history", limit=5)["status"] == "ok"
            assert c.request("say", text="back")["status"] == "ok"
        assert srv.proc.poll() is None
    finally:
        srv.stop()
        if mariadb.proc.poll() is not None:
            mariadb.start()


@pytest.mark.mysql
def test_mysql_write_replaces_a_connection_found_dead_at_begin(mariadb):
    # A connection killed since its last use (too recently for the idle check) fails at the
    # write's BEGIN, with nothing done: the write goes through on a new connection, once,
    # with no gap in the numbering.
    s = open_store(mariadb.new_url())
    try:
        uid = add_user(s, "killed", "13000000098")
        [first] = s.insert_messages([(uid, None, "before", 1.0)])
        conn = s._conn()
        root = mariadb.root()
        with root.cursor() as cur:
            cur.execute("KILL %d" % conn.thread_id())
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                cur.execute("SELECT COUNT(*) FROM information_schema.processlist WHERE id = %s",
                            (conn.thread_id(),))
                if cur.fetchone()[0] == 0:
                    break
                time.sleep(0.01)
        root.close()
        assert s.insert_messages([(uid, None, "after", 2.0)]) == [first + 1]
        assert s._conn() is not conn
        assert [m.text for m in s.history(uid, None, 5)] == ["before", "after"]
    finally:
        s.close()


@pytest.mark.mysql
def test_mysql_url_creates_database(mariadb):
    url = mariadb.new_url()
    s = open_store(url)
    assert add_user(s, "created", "13000000099") == 1001
    s.close()


def test_store_unavailable_is_reported(tmp_path):
    # A dead MySQL endpoint: a clear StoreUnavailable/StoreError, not a driver exception.
    pytest.importorskip("pymysql")
    from tests.procs import free_port
    with pytest.raises(StoreError):
        open_store("mysql://u:p@127.0.0.1:%d/x" % free_port())
    assert issubclass(StoreUnavailable, StoreError)
