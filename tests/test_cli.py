"""ui/cli.py in process, against a real server: a folder is one owner's, so a folder
download takes only the files of the owner the user chose (issue #15, defect 11)."""
import io
import os
import time

from net.chaos import Chaos
from tests.conftest import register
from tests.wire import CHAOS_SEED
from ui.cli import Cli, find_folders
from ui.transfers import Folder


def run_cli(srv, lines):
    """The terminal client fed a script, as `python chatroom.py cli < script` would be (with
    --chaos too, in ./test.sh's chaos run)."""
    out = io.StringIO()
    chaos = Chaos(CHAOS_SEED) if CHAOS_SEED is not None else None
    cli = Cli("127.0.0.1", srv.auth, "en", stdin=io.StringIO("\n".join(lines) + "\n"), out=out,
              chaos=chaos)
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


# -- the teacher's controls (docs/PROTOCOL.md §11) -------------------------------------------

def a_class(make_server):
    """A server with a teacher (--admin) and two students."""
    from tests.conftest import new_identity
    teacher_name = new_identity()[0]
    srv = make_server("--admin", teacher_name, "--flood-limit", "0")
    return (srv, register(srv, teacher_name, new_identity()[1]), register(srv),
            register(srv))


def as_user(srv, user, commands):
    return run_cli(srv, ["/login " + user["username"], user["password"]] + commands +
                   ["/quit"])


def message_id(out, text):
    """The id the CLI shows before a message: '[14:05] [#42] ann: text' -> 42."""
    for line in out.splitlines():
        if line.endswith(": " + text) and "[#" in line:
            return int(line.split("[#", 1)[1].split("]", 1)[0])
    raise AssertionError("no line for %r in:\n%s" % (text, out))


def test_teacher_quiets_mutes_and_kicks_and_the_student_is_told(make_server):
    srv, teacher, ann, _ = a_class(make_server)
    t, a = teacher["username"], ann["username"]
    rc, out = as_user(srv, ann, ["before the lesson"])
    assert rc == 0, out
    early = message_id(out, "before the lesson")

    rc, out = as_user(srv, teacher, ["/quiet on", "/mute %s 5" % a, "/users"])
    assert rc == 0, out
    assert "You are a teacher (admin) here" in out
    assert "* %s made the room quiet: only the teacher speaks" % t in out
    assert "* %s was muted until " % a in out and (" by %s" % t) in out

    rc, out = as_user(srv, ann, ["may I speak?", "/msg %s a question, please" % t,
                                 "/delete #%d" % early, "/users"])
    assert rc == 1, out  # the refused say
    assert "* The room is quiet: only the teacher speaks." in out
    assert "! You are muted until " in out and "\n  may I speak?\n" in out
    assert "%s -> %s: a question, please" % (a, t) in out
    assert "* message #%d was deleted by %s" % (early, a) in out

    rc, out = as_user(srv, teacher, ["/unmute %s" % a, "/quiet off", "/audit",
                                     "/kick %s 10 spamming the room" % a, "/users"])
    assert rc == 0, out
    assert "* %s may speak again (unmuted by %s)" % (a, t) in out
    assert "* %s ended the quiet: everyone may speak again" % t in out
    audit = [line.split() for line in out.splitlines() if line.lstrip().startswith("#")]
    assert [words[4] for words in audit] == ["quiet", "mute", "unmute", "quiet"]
    assert "* %s was removed from the chat by %s until " % (a, t) in out

    rc, out = as_user(srv, ann, [])
    assert rc == 1 and "! You were removed until " in out, out


def test_a_student_online_when_kicked_is_told_who_why_and_until_when(make_server):
    import threading
    srv, teacher, ann, _ = a_class(make_server)
    read_fd, write_fd = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_fd, "r") as stdin:
        student = Cli("127.0.0.1", srv.auth, "zh", stdin=stdin, out=out)
        result = []
        thread = threading.Thread(target=lambda: result.append(student.run()))
        thread.start()
        os.write(write_fd, ("/login %s\n%s\n" % (ann["username"], ann["password"])).encode())
        deadline = time.monotonic() + 10
        while "已登录为" not in out.getvalue() or student.session.state != "online":
            assert time.monotonic() < deadline, out.getvalue()
            time.sleep(0.01)
        rc, teacher_out = as_user(srv, teacher, ["/kick %s 0 talking over the class"
                                                 % ann["username"]])
        assert rc == 0, teacher_out
        while "移出" not in out.getvalue():
            assert time.monotonic() < deadline, out.getvalue()
            time.sleep(0.01)
        os.close(write_fd)
        thread.join(10)
    assert result == [1]
    assert "! %s 已将你移出聊天室。 原因：talking over the class。" % teacher["username"] \
        in out.getvalue()
    assert student.session.state == "offline" and student.session.token is None


def test_hand_ins_reach_only_the_teacher_who_downloads_them_all(make_server, tmp_path):
    srv, teacher, ann, bob = a_class(make_server)
    for user, text in ((ann, "ann's answers"), (bob, "bob's answers")):
        (tmp_path / user["username"]).mkdir()
        homework = tmp_path / user["username"] / "hw1.txt"
        homework.write_text(text)
        rc, out = as_user(srv, user, ["/handin %s" % homework, "/users"])
        assert rc == 0 and "hw1.txt: done" in out, out
        assert "* %s handed in hw1.txt" % user["username"] in out

    rc, out = as_user(srv, bob, ["/files", "/handins"])
    assert rc == 0, out
    assert out.count("hw1.txt") == 2  # his own, in /files and /handins: never ann's
    assert "(hand-in)" in out and ann["username"] not in out

    dest = tmp_path / "collected"
    rc, out = as_user(srv, teacher, ["/handins", "/handins get all %s" % dest])
    assert rc == 0, out
    assert "%s: 1 file · " % ann["username"] in out and "%s: 1 file · " % bob["username"] in out
    for user, text in ((ann, "ann's answers"), (bob, "bob's answers")):
        assert (dest / user["username"] / "hw1.txt").read_text() == text
    rc, out = as_user(srv, teacher, ["/handins get %s %s" % (bob["username"],
                                                             tmp_path / "bob_only")])
    assert rc == 0 and files_under(tmp_path / "bob_only") == [bob["username"] + "/hw1.txt"]


def test_bad_input_is_refused_before_anything_is_sent(make_server):
    srv, teacher, ann, _ = a_class(make_server)
    bad = ["/mute %s x" % ann["username"], "/mute %s 0" % ann["username"],
           "/mute %s 10081" % ann["username"], "/mute %s" % ann["username"], "/unmute",
           "/kick", "/kick %s 5m" % ann["username"], "/kick %s -1" % ann["username"],
           "/quiet maybe", "/delete abc", "/delete file", "/delete 1 2", "/audit 500",
           "/handins get", "/handins everything"]
    rc, out = as_user(srv, teacher, bad)
    assert rc == 1
    errors = [line for line in out.splitlines() if line.startswith("! ")]
    assert len(errors) == len(bad) and all("usage: /" in line for line in errors), out
    assert "muted" not in out and "removed" not in out
    rc, out = as_user(srv, teacher, ["/mute nobody_at_all 5", "/mute %s 5" %
                                     teacher["username"], "/delete 999999"])
    assert rc == 1
    assert "! There is no such user." in out
    assert "! Teachers cannot be muted or removed." in out
    assert "! That message is gone already." in out
    rc, out = as_user(srv, ann, ["/mute %s 5" % teacher["username"], "/quiet on", "/audit"])
    assert rc == 1
    assert out.count("! Only a teacher (an admin) may do that.") == 3, out


# -- rooms (docs/PROTOCOL.md §12) ------------------------------------------------------------

def created_room(out, name):
    """'* created physics (#42); ...' -> 42."""
    for line in out.splitlines():
        if line.startswith("* created %s (#" % name):
            return int(line.split("(#", 1)[1].split(")", 1)[0])
    raise AssertionError("no room %r in:\n%s" % (name, out))


def test_rooms_from_the_terminal_create_join_say_invite_leave_and_close(make_server):
    srv = make_server("--flood-limit", "0")
    ann, bob = register(srv), register(srv)
    a, b = ann["username"], bob["username"]
    rc, out = as_user(srv, ann, ["/create physics", "/create secret private"])
    assert rc == 0, out
    physics, secret = created_room(out, "physics"), created_room(out, "secret")

    rc, out = as_user(srv, ann, ["/room %d" % physics, "hello physics", "/lobby",
                                 "hello lobby", "/invite %d %s" % (secret, b), "/rooms"])
    assert rc == 0, out
    assert "] (physics) %s: hello physics" % a in out
    assert "] %s: hello lobby" % a in out and "(physics) %s: hello lobby" % a not in out
    assert "* You invited %s to secret (#%d)" % (b, secret) in out
    assert "#%-5s %-20s 1 member private joined" % (secret, "secret") in out

    rc, out = as_user(srv, bob, ["hello physics from the lobby?", "/room %d" % physics,
                                 "/rooms", "/join %d" % physics, "/room %d" % physics,
                                 "bob in physics", "/history 5", "/join %d" % secret,
                                 "/leave %d" % physics, "/room %d" % physics, "/leave 1"])
    assert rc == 1, out  # /room of a room not joined, and leaving the lobby
    assert "] %s: hello physics from the lobby?" % b in out  # not joined: the lobby's
    assert "#%-5s %-20s 1 member private invited" % (secret, "secret") in out
    assert out.count("! You are not in that room; join it first. (/join %d)" % physics) == 2
    # Not in the auth reply's history (bob was not a member then): /history of the room.
    assert out.count("] (physics) %s: hello physics" % a) == 1
    assert "] (physics) %s: bob in physics" % b in out
    assert "* You left physics (#%d)" % physics in out
    assert "! Everyone stays in the lobby." in out

    rc, out = as_user(srv, bob, ["/closeroom %d" % secret])
    assert rc == 1 and "! You are not allowed to do that." in out, out
    rc, out = as_user(srv, ann, ["/closeroom %d" % physics, "/join %d" % physics])
    assert rc == 1, out
    assert "* The room physics (#%d) was closed" % physics in out
    assert "! There is no such room (or it is private)." in out


def test_rooms_by_name_and_the_current_room_issue_17(make_server):
    """/join, /leave, /invite, /switch and /closeroom take a room's name (any case) as well
    as its id; /leave and /invite without a room mean the current one; each switch says
    where plain lines go now."""
    srv = make_server("--flood-limit", "0")
    ann, bob = register(srv), register(srv)
    a, b = ann["username"], bob["username"]
    rc, out = as_user(srv, ann, ["/create Physics Lab", "/create Secret private",
                                 "/switch secret", "/invite " + b, "/invite physics lab " + b,
                                 "/room PHYSICS LAB", "in the lab", "/lobby"])
    assert rc == 0, out
    physics, secret = created_room(out, "Physics Lab"), created_room(out, "Secret")
    assert "* plain lines go to Secret (#%d)" % secret in out
    assert "* You invited %s to Secret (#%d)" % (b, secret) in out
    assert "* You invited %s to Physics Lab (#%d)" % (b, physics) in out
    assert "* plain lines go to Physics Lab (#%d)" % physics in out
    assert "] (Physics Lab) %s: in the lab" % a in out
    assert "* plain lines go to the lobby" in out

    # bob knows no room yet: the names are looked up in a fresh `rooms` list.
    rc, out = as_user(srv, bob, ["/join physics LAB", "/join #%d" % secret, "/switch secret",
                                 "bob in secret", "/leave", "bob in the lobby",
                                 "/switch Physics Lab", "/leave physics lab", "/join nowhere",
                                 "/switch nowhere"])
    assert rc == 1, out  # the room called nowhere does not exist
    assert "* joined Physics Lab (#%d)" % physics in out
    assert "* joined Secret (#%d)" % secret in out
    assert "] (Secret) %s: bob in secret" % b in out
    assert "* You left Secret (#%d)" % secret in out
    assert "] %s: bob in the lobby" % b in out and "(Secret) %s: bob in the lobby" % b not in out
    assert "* You left Physics Lab (#%d)" % physics in out
    assert out.count("* plain lines go to the lobby") == 2, out  # after each /leave
    assert out.count("! There is no such room (or it is private). (nowhere)") == 2, out

    rc, out = as_user(srv, ann, ["/switch physics lab", "/closeroom PHYSICS LAB"])
    assert rc == 0, out
    assert "* The room Physics Lab (#%d) was closed" % physics in out
    assert out.count("* plain lines go to the lobby") == 1, out  # the room we were in closed


def test_help_names_the_room_commands():
    out = io.StringIO()
    Cli("127.0.0.1", 1, "en", stdin=io.StringIO(""), out=out).cmd_help("")
    for usage in ("/join ROOM", "/leave [ROOM]", "/invite [ROOM] USER", "/switch ROOM"):
        assert usage in out.getvalue()


def test_quiet_is_about_the_room_plain_lines_go_to_and_its_owner_may_quiet_it(make_server):
    srv = make_server("--flood-limit", "0")
    ann, bob = register(srv), register(srv)
    a = ann["username"]
    rc, out = as_user(srv, ann, ["/create physics"])
    physics = created_room(out, "physics")
    rc, out = as_user(srv, bob, ["/join %d" % physics])
    assert rc == 0, out

    rc, out = as_user(srv, ann, ["/room %d" % physics, "/quiet on", "still mine to speak"])
    assert rc == 0, out
    assert "* (physics) %s made this room quiet: only its owner and the teachers speak" % a \
        in out
    assert "] (physics) %s: still mine to speak" % a in out

    rc, out = as_user(srv, bob, ["fine in the lobby", "/room %d" % physics, "not here",
                                 "/quiet off"])
    assert rc == 1, out  # the refused say, and a member's /quiet in ann's room
    assert "] %s: fine in the lobby" % bob["username"] in out
    assert "! This room is quiet: only its owner and the teachers speak." in out
    assert "\n  not here\n" in out
    assert "! Only this room's owner or a teacher may do that." in out
