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
