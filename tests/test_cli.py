"""ui/cli.py in process, against a real server: a folder is one owner's, so a folder
download takes only the files of the owner the user chose (issue #15, defect 11)."""
import io
import os

from tests.conftest import register
from ui.cli import Cli, find_folders
from ui.transfers import Folder


def run_cli(srv, lines):
    """The terminal client fed a script, as `python chatroom.py cli < script` would be."""
    out = io.StringIO()
    cli = Cli("127.0.0.1", srv.auth, "en", stdin=io.StringIO("\n".join(lines) + "\n"), out=out)
    return cli.run(), out.getvalue()


def files_under(folder):
    return sorted(os.path.relpath(os.path.join(root, name), str(folder)).replace(os.sep, "/")
                  for root, _, names in os.walk(str(folder)) for name in names)


def share_folder(srv, user, folder):
    rc, out = run_cli(srv, ["/login " + user["username"], user["password"],
                            "/upload " + str(folder), "/quit"])
    assert rc == 0, out


def test_folder_download_takes_only_the_chosen_owners_files(make_server, tmp_path):
    srv = make_server()
    alice, bob, carol = register(srv), register(srv), register(srv)
    for user, name in ((alice, "a.txt"), (bob, "b.txt")):
        notes = tmp_path / user["username"] / "notes"
        notes.mkdir(parents=True)
        (notes / name).write_text("from " + user["username"])
        share_folder(srv, user, notes)  # each shares a folder called notes

    rc, out = run_cli(srv, ["/login " + carol["username"], carol["password"],
                            "/download %s/notes/ %s" % (alice["username"], tmp_path / "got"),
                            "/quit"])
    assert rc == 0, out
    assert files_under(tmp_path / "got") == ["notes/a.txt"]
    assert (tmp_path / "got" / "notes" / "a.txt").read_text() == "from " + alice["username"]

    # The bare name is two folders now: refused, with the choices, and nothing downloaded.
    rc, out = run_cli(srv, ["/login " + carol["username"], carol["password"],
                            "/download notes/ %s" % (tmp_path / "both"), "/quit"])
    assert rc == 1
    for user in (alice, bob):
        assert "/download %s/notes/" % user["username"] in out
    assert not (tmp_path / "both").exists()


def record(owner, name):
    return {"owner": owner, "name": name}


def test_find_folders_names_one_owners_folder():
    records = [record("alice", "notes/a.txt"), record("bob", "notes/b.txt"),
               record("bob", "hw/w1/x.txt"), record("a/b", "c/d.txt"), record("a", "b/c/e.txt")]
    assert find_folders(records, "alice/notes/") == [Folder("alice", "notes")]
    assert find_folders(records, "notes") == [Folder("alice", "notes"), Folder("bob", "notes")]
    assert find_folders(records, "hw/") == [Folder("bob", "hw")]
    assert find_folders(records, "bob/hw/w1") == [Folder("bob", "hw/w1")]
    assert find_folders(records, "carol/notes/") == []
    # Usernames may hold '/': when both readings name a folder, the user must choose.
    assert find_folders(records, "a/b/c/") == [Folder("a", "b/c"), Folder("a/b", "c")]


# -- the limits of docs/PROTOCOL.md §10 and the paged list of §6 -----------------------------

def upload_files(srv, user, names):
    from tests.conftest import file_client
    with file_client(srv, user) as c:
        for name in names:
            assert c.upload(name, name.encode())["status"] == "ok"


def test_files_shows_a_page_and_files_more_the_next(make_server, monkeypatch):
    import ui.cli
    monkeypatch.setattr(ui.cli, "FILES_PAGE_LINES", 2)
    srv = make_server()
    user = register(srv)
    upload_files(srv, user, ["f1.txt", "f2.txt", "f3.txt"])
    rc, out = run_cli(srv, ["/login " + user["username"], user["password"], "/files",
                            "/files more", "/files more", "/quit"])
    assert rc == 0, out
    listed = [line.split()[1] for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert listed == ["f3.txt", "f2.txt", "f1.txt"]
    assert out.count("/files more shows the next 2") == 1
    assert out.index("f2.txt") < out.index("/files more shows") < out.index("f1.txt")
    assert "No older files." in out


def test_download_finds_a_folder_on_every_page(make_server, monkeypatch, tmp_path):
    import ui.session
    monkeypatch.setattr(ui.session, "LIST_LIMIT_MAX", 2)  # pages of two files
    srv = make_server()
    user = register(srv)
    upload_files(srv, user, ["hw/a.txt", "x1.txt", "x2.txt", "x3.txt", "hw/b.txt"])
    rc, out = run_cli(srv, ["/login " + user["username"], user["password"],
                            "/download hw/ %s" % (tmp_path / "got"), "/quit"])
    assert rc == 0, out
    assert files_under(tmp_path / "got") == ["hw/a.txt", "hw/b.txt"]

    monkeypatch.setattr(ui.session, "ALL_FILES_MAX_PAGES", 1)  # the bound, and it says so
    rc, out = run_cli(srv, ["/login " + user["username"], user["password"],
                            "/download hw/ %s" % (tmp_path / "bounded"), "/quit"])
    assert rc == 0, out
    assert "Only the newest 2 shared files were looked through" in out
    assert files_under(tmp_path / "bounded") == ["hw/b.txt"]


def test_upload_over_the_quota_says_so_once(make_server, tmp_path):
    srv = make_server("--quota", "1000")
    user = register(srv)
    (tmp_path / "big.bin").write_bytes(b"x" * 5000)
    rc, out = run_cli(srv, ["/login " + user["username"], user["password"],
                            "/upload %s" % (tmp_path / "big.bin"), "/quit"])
    assert rc == 1
    assert out.count("You have no room left for files on this server; delete some of yours "
                     "first.") == 1, out


def test_flood_control_names_the_wait_and_gives_the_text_back(make_server):
    srv = make_server("--flood-limit", "1")  # a burst of 2, then one a second
    user = register(srv)
    lines = ["message %d" % i for i in range(6)]
    rc, out = run_cli(srv, ["/login " + user["username"], user["password"]] + lines +
                      ["/quit"])
    assert rc == 1
    assert "You are sending too fast. Try again in 1 s" in out
    refused = [line.strip() for line in out.splitlines() if line.startswith("  message")]
    said = [line.split(": ", 1)[1] for line in out.splitlines() if "] " in line and ": " in line]
    assert refused and sorted(refused + said) == lines  # every line: said, or given back


def test_login_over_the_connection_cap_is_explained(make_server):
    from tests.test_session import hold_connections
    srv = make_server("--max-conns-per-ip", "1")
    user = register(srv)
    held = hold_connections(srv, 1)
    try:
        rc, out = run_cli(srv, ["/login " + user["username"], user["password"], "/quit"])
    finally:
        held[0].close()
    assert rc == 1
    assert "Too many connections from this computer. Close other chatroom windows" in out
