"""The file service end to end (docs/PROTOCOL.md §6)."""
import hashlib
import os
import subprocess
import threading

import pytest

from tests.conftest import chat_client, file_client, register
from tests.procs import wait_until
from tests.wire import B, WireClient, frame


@pytest.fixture
def alice(server):
    return register(server)


@pytest.fixture
def files(server, alice):
    with file_client(server, alice) as c:
        yield c


def listed(client):
    return client.request("list")["files"]


def test_first_request_must_be_auth(server):
    with WireClient(server.file) as c:
        c.send({"op": "list", "id": 1})
        assert c.expect_closed()[0]["status"] == "unauthorized"


@pytest.mark.parametrize("size,chunk", [(0, 1), (1, 1), (10, 1), (5 * 1024 * 1024, 65536),
                                        (1024 * 1024 + 1, 1024 * 1024)])
def test_round_trip_is_byte_identical(files, size, chunk):
    data = os.urandom(size)
    done = files.upload("rt/%d.bin" % size, data, chunk=chunk)
    assert done["status"] == "ok", done
    record = done["file"]
    assert record["size"] == size and record["sha256"] == hashlib.sha256(data).hexdigest()
    assert files.download(record["file_id"]) == data
    assert record in listed(files)


def test_upload_done_carries_the_upload_id_and_record_fields(files, alice):
    files.send({"op": "upload", "id": "up-1", "name": "notes/week1.pdf", "size": 3,
                "sha256": hashlib.sha256(b"abc").hexdigest()})
    ok = files.wait_reply("up-1")
    assert ok["status"] == "ok" and ok["offset"] == 0
    files.send_raw(frame(B, b"abc"))
    done = files.next_event("upload_done")
    assert done["id"] == "up-1" and done["status"] == "ok"
    assert set(done["file"]) == {"file_id", "name", "owner", "size", "sha256", "type",
                                 "uploaded_at", "visibility"}
    assert done["file"]["visibility"] == "all"
    assert done["file"]["owner"] == alice["username"]
    assert done["file"]["type"] == "application/pdf"


def test_type_defaults_and_can_be_given(files):
    assert files.upload("x.unknownext", b"1")["file"]["type"] == "application/octet-stream"
    assert files.upload("y.txt", b"1", type="text/x-mine")["file"]["type"] == "text/x-mine"


def test_wrong_hash_is_checksum_mismatch_and_nothing_listed(files):
    done = files.upload("bad.bin", b"hello", sha256="0" * 64)
    assert done["status"] == "checksum_mismatch"
    assert "bad.bin" not in [f["name"] for f in listed(files)]


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../b", "a/./b", "a//b", "a/",
                                  "a\\b", "a\x00b", "a\nb", "", "x" * 256,
                                  "/".join(["x" * 200] * 6)])
def test_unsafe_names_are_bad_request(files, name):
    r = files.request("upload", name=name, size=1, sha256="0" * 64)
    assert r["status"] == "bad_request"


@pytest.mark.parametrize("fields", [{"size": -1}, {"size": "1"}, {"sha256": "xyz"},
                                    {"sha256": "0" * 63}, {"name": 5}])
def test_ill_typed_upload_fields_are_bad_request(files, fields):
    req = dict({"name": "ok.txt", "size": 1, "sha256": "0" * 64}, **fields)
    assert files.request("upload", **req)["status"] == "bad_request"


def test_too_large(make_server):
    srv = make_server("--max-file-size", "100")
    user = register(srv)
    with file_client(srv, user) as c:
        assert c.request("upload", name="a", size=101, sha256="0" * 64)["status"] == "too_large"
        assert c.upload("b", b"x" * 100)["status"] == "ok"


def test_binary_frame_outside_transfer_is_bad_frame(files):
    files.send_raw(frame(B, b"x"))
    assert files.expect_closed()[0]["status"] == "bad_frame"


def test_more_bytes_than_size_is_bad_frame(files):
    r = files.request("upload", name="over.bin", size=3, sha256="0" * 64)
    assert r["status"] == "ok"
    files.send_raw(frame(B, b"abcd"))
    assert any(m.get("status") == "bad_frame" for m in files.expect_closed())


def test_second_transfer_on_one_connection_is_busy(files):
    r = files.request("upload", name="slow.bin", size=10, sha256="0" * 64)
    assert r["status"] == "ok"
    assert files.request("upload", name="b", size=1, sha256="0" * 64)["status"] == "busy"
    assert files.request("download", file_id=1)["status"] == "busy"
    assert files.request("ping")["status"] == "ok"  # other requests still answered
    assert isinstance(files.request("list")["files"], list)


def test_partial_uploads_are_invisible_and_resume_after_drop(server, alice):
    data = os.urandom(300_000)
    digest = hashlib.sha256(data).hexdigest()
    with file_client(server, alice) as c:
        assert c.request("upload", name="resume.bin", size=len(data), sha256=digest)["offset"] == 0
        c.send_raw(frame(B, data[:100_000]))
        assert c.request("ping")["status"] == "ok"  # the chunk was taken before the ping
    bob = register(server)
    with file_client(server, bob) as other:
        assert "resume.bin" not in [f["name"] for f in listed(other)]
        # Another user's identical upload does not resume alice's bytes.
        assert other.request("upload", name="resume.bin", size=len(data),
                             sha256=digest)["offset"] == 0
    with file_client(server, alice) as c:
        done = c.upload("resume.bin", data)
        assert done["status"] == "ok"
        assert c.download(done["file"]["file_id"]) == data


def test_download_from_offset_and_bad_offsets(files):
    data = os.urandom(5000)
    fid = files.upload("off.bin", data)["file"]["file_id"]
    assert files.download(fid, 1234) == data[1234:]
    r = files.request("download", file_id=fid, offset=5000)
    assert r["status"] == "ok" and r["offset"] == 5000
    assert files.request("ping")["status"] == "ok"  # no B frames came before this reply
    assert files.request("download", file_id=fid, offset=5001)["status"] == "bad_request"
    assert files.request("download", file_id=999999)["status"] == "not_found"


def test_only_owner_deletes_and_chat_hears_about_it(server, alice, files):
    bob = register(server)
    with chat_client(server, bob) as chat:
        done = files.upload("mine.txt", b"mine")
        fid = done["file"]["file_id"]
        assert chat.next_event("file_added") == {"op": "file_added", "file": done["file"]}
        with file_client(server, bob) as bobs:
            assert bobs.request("delete", file_id=fid)["status"] == "forbidden"
        assert files.request("delete", file_id=fid)["status"] == "ok"
        # `by`: who deleted it (docs/PROTOCOL.md §6), for the clients' notice
        assert chat.next_event("file_removed") == {"op": "file_removed", "file_id": fid,
                                                   "by": alice["username"]}
        assert files.request("delete", file_id=fid)["status"] == "not_found"
        assert files.request("download", file_id=fid)["status"] == "not_found"


def test_list_is_newest_first(files):
    a = files.upload("first.txt", b"1")["file"]["file_id"]
    b = files.upload("second.txt", b"2")["file"]["file_id"]
    ids = [f["file_id"] for f in listed(files)]
    assert ids.index(b) < ids.index(a)


def test_ten_parallel_transfers(server, alice):
    blobs = [os.urandom(200_000 + i) for i in range(10)]
    results = [None] * 10

    def run(i):
        with file_client(server, alice) as c:
            done = c.upload("par/%d.bin" % i, blobs[i])
            results[i] = c.download(done["file"]["file_id"])
    threads = [threading.Thread(target=run, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == blobs


def test_server_never_uses_name_as_a_path(server, alice, files, tmp_path):
    files.upload("etc/passwd", b"not really")
    storage = os.path.join(server.data_dir, "files")
    for _, dirs, names in os.walk(storage):
        assert "passwd" not in names and "etc" not in dirs


def test_kill_9_during_upload_then_restart_and_resume(make_server):
    srv = make_server()
    user = register(srv)
    data = os.urandom(2_000_000)
    digest = hashlib.sha256(data).hexdigest()
    with file_client(srv, user) as c:
        c.request("upload", name="crash.bin", size=len(data), sha256=digest)
        c.send_raw(frame(B, data[:1_000_000]))
        assert c.request("ping")["status"] == "ok"
        partial_dir = os.path.join(srv.data_dir, "files", "partial")

        def on_disk():
            return sum(os.path.getsize(os.path.join(partial_dir, n))
                       for n in os.listdir(partial_dir)) >= 1_000_000
        wait_until(on_disk, 10, what="the first megabyte written to the partial file")
        srv.kill()
    srv.restart()
    with WireClient(srv.auth) as a:
        token = a.request("login", login=user["username"], password=user["password"])["token"]
    with WireClient(srv.file) as c:
        c.request("auth", token=token)
        assert "crash.bin" not in [f["name"] for f in listed(c)]
        r = c.request("upload", name="crash.bin", size=len(data), sha256=digest)
        assert 0 < r["offset"] <= 1_000_000
        for i in range(r["offset"], len(data), 65536):
            c.send_raw(frame(B, data[i:i + 65536]))
        done = c.next_event("upload_done")
        assert done["status"] == "ok"
        assert c.download(done["file"]["file_id"]) == data


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int([line for line in f if line.startswith("VmRSS")][0].split()[1])


def test_slow_download_reader_keeps_server_memory_flat(server, alice, files):
    size = 32 * 1024 * 1024
    data = os.urandom(size)
    fid = files.upload("big.bin", data, chunk=1024 * 1024)["file"]["file_id"]
    with file_client(server, alice) as reader:
        before = rss_kib(server.proc.pid)
        reader.send({"op": "download", "id": "d", "file_id": fid})
        assert reader.wait_reply("d")["status"] == "ok"
        # Read nothing for a while: the server must not load the file for us meanwhile.
        peak = before
        for _ in range(10):
            threading.Event().wait(0.05)
            peak = max(peak, rss_kib(server.proc.pid))
        assert peak - before < 8 * 1024, "server RSS grew by %d KiB" % (peak - before)
        got = bytearray()
        while len(got) < size:
            got += reader.read_frame()
        assert got == data


def test_list_orders_by_completion_not_by_start(server, alice):
    with file_client(server, alice) as slow, file_client(server, alice) as fast:
        data = b"slow" * 1000
        r = slow.request("upload", name="started-first.txt", size=len(data),
                         sha256=hashlib.sha256(data).hexdigest())
        assert r["status"] == "ok"
        fast.upload("started-second.txt", b"quick")
        for i in range(0, len(data), 1000):
            slow.send_raw(frame(B, data[i:i + 1000]))
        assert slow.next_event("upload_done")["status"] == "ok"
        names = [f["name"] for f in listed(fast)]
        assert names.index("started-first.txt") < names.index("started-second.txt")


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MiB file system of our own (tmpfs), to fill up on purpose."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % out.stderr.strip())
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])


def test_disk_full_is_storage_full_and_nothing_is_left_behind(make_server, small_disk):
    srv = make_server("--storage", str(small_disk))
    user = register(srv)
    with file_client(srv, user) as c:
        # Announced too big for the disk: refused before any byte is sent.
        r = c.request("upload", name="huge.bin", size=30 * 1024 * 1024, sha256="0" * 64)
        assert r["status"] == "storage_full"
        # Fits when it starts, then the disk fills up under it.
        data = os.urandom(6 * 1024 * 1024)
        r = c.request("upload", name="big.bin", size=len(data),
                      sha256=hashlib.sha256(data).hexdigest())
        assert r["status"] == "ok"
        filler = small_disk / "filler"
        with open(str(filler), "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        for i in range(0, len(data), 256 * 1024):
            c.send_raw(frame(B, data[i:i + 256 * 1024]))
        done = c.next_event("upload_done")
        assert done["status"] == "storage_full"
        assert os.listdir(str(small_disk / "partial")) == []  # the partial was removed
        os.unlink(str(filler))
        assert c.request("ping")["status"] == "ok"  # same connection, same server
        assert c.upload("after.txt", b"room again")["status"] == "ok"
        assert [f["name"] for f in listed(c)] == ["after.txt"]
