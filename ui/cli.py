"""The terminal client: the whole chatroom without a display, and scriptable.

    python chatroom.py cli --host 192.168.1.10
    > /login alice              (asks for the password)
    > hello everyone            (plain text goes to the room)
    > /msg bob see you at 3     (private)
    > /upload ~/homework        (a file or a whole folder)
    > /files                    (the newest files; /files more: the next page)
    > /download 7 ~/Downloads
    > /download bob/homework/ ~/Downloads     (all of bob's folder homework)
    > /quit

Commands run one at a time: the next line is read only when the previous command has
finished, so a script can upload and then download. When stdin is not a terminal, the
password and the SMS code are read as the next lines, and the exit status is 1 if any
command failed.
"""
from __future__ import annotations

import getpass
import os
import select
import sys
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, TextIO

from net.client import wait_readable
from net.rules import check_email, check_password, check_phone, check_username
from ui.i18n import Catalog
from ui.presenters.chat import send_failure_text
from ui.presenters.common import status_text
from ui.presenters.files import failure_text
from ui.session import Session, refusal_of
from ui.transfers import (
    Download,
    Folder,
    Transfer,
    TransferQueue,
    Upload,
    folder_entries,
    folder_records,
    human_size,
    safe_local_path,
)

HELP = """commands:
  /login NAME               log in (asks for the password)
  /register NAME PHONE [EMAIL]   create an account (asks for password and SMS code)
  TEXT                      say TEXT to everyone
  /msg USER TEXT            say TEXT to USER only
  /users                    who is online
  /history [N]              the last N messages (default 20)
  /files                    the newest shared files
  /files more               the next page of older files
  /upload PATH              share a file or a whole folder
  /download ID [DEST]       fetch a shared file
  /download OWNER/NAME/ [DEST]   fetch every file of OWNER's folder NAME (just NAME/ when
                            only one user has a folder of that name)
  /delete ID                delete a file you shared
  /quit                     leave
"""
POLL_INTERVAL_S = 0.02
# Files /files shows at a time: a screenful or two; /files more shows the next ones.
FILES_PAGE_LINES = 50


class Lines:
    """Lines from stdin without blocking the pump. On POSIX the raw descriptor is selected
    and read (a buffered readline() would strand lines that select() cannot see); where stdin
    cannot be selected (Windows consoles), a reader thread feeds a queue."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.queue: Deque[Optional[str]] = deque()
        self.eof = False
        self._pending = b""
        self._fd: Optional[int] = None
        self._encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            fd = stream.fileno()
            select.select([fd], [], [], 0)
            self._fd = fd
        except (OSError, ValueError, TypeError, AttributeError):
            threading.Thread(target=self._read_all, daemon=True).start()

    def _read_all(self) -> None:
        for line in self.stream:
            self.queue.append(line)
        self.queue.append(None)

    def _read_fd(self) -> None:
        if self.queue or self.eof or not select.select([self._fd], [], [], 0)[0]:
            return
        data = os.read(self._fd, 65536)
        if not data:
            if self._pending:
                self.queue.append(self._pending.decode(self._encoding, "replace"))
            self.queue.append(None)
            return
        *lines, self._pending = (self._pending + data).split(b"\n")
        self.queue.extend(line.decode(self._encoding, "replace") for line in lines)

    def get(self) -> Optional[str]:
        """A line, '' when none is ready yet, None at end of input."""
        if self._fd is not None:
            self._read_fd()
        if not self.queue:
            return None if self.eof else ""
        line = self.queue.popleft()
        if line is None:
            self.eof = True
            return None
        return line.rstrip("\r\n") or " "


class Cli:
    def __init__(self, host: str, port: int, lang: str, stdin: TextIO = sys.stdin,
                 out: TextIO = sys.stdout, tls: Any = None) -> None:
        self.tr = Catalog(lang)
        self.out = out
        self.interactive = stdin.isatty()
        self.lines = Lines(stdin)
        self.session = Session(host, port, self, tls=tls)
        self.transfers = TransferQueue(self.session.open_file_connection)
        self.busy: Optional[Callable[[], bool]] = None  # "still running?" for the current command
        self.failed = False
        self.quitting = False
        self._progress_at = 0.0
        self._last_detail = ""  # the reconnect countdown last shown
        self._files_before: Optional[int] = None  # where /files more goes on; None: no more
        self._prompts: Deque[Callable[[str], None]] = deque()

    # -- output ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def error(self, text: str) -> None:
        self.failed = True
        self.say("! " + text)

    def on_state(self, state: str, detail: str) -> None:
        if state == "reconnecting" and detail and detail != self._last_detail:
            self._last_detail = detail
            refusal = self.session.refusal
            if refusal is not None:
                self.say("* " + self.tr("status.refused", why=self.tr(refusal.value), n=detail))
            else:
                self.say("* " + self.tr("status.reconnecting", n=detail))
        elif state == "online":
            self.say("* " + self.tr("status.connected", server=detail))
        elif state == "offline" and detail:
            self.say("* " + self.tr("status.offline", why=detail))

    def on_welcome(self, reply: Dict[str, Any]) -> None:
        for event in reply.get("history", [])[-10:]:
            self.on_message(event)
        self.say("* online: " + ", ".join(reply.get("online", [])))

    def on_message(self, event: Dict[str, Any]) -> None:
        stamp = time.strftime("%H:%M", time.localtime(event.get("ts", time.time())))
        if event.get("to"):
            self.say("[%s] %s -> %s: %s" % (stamp, event["from"], event["to"], event["text"]))
        else:
            self.say("[%s] %s: %s" % (stamp, event["from"], event["text"]))

    def on_presence(self, event: Dict[str, Any]) -> None:
        key = "chat.joined" if event.get("online") else "chat.left"
        self.say("* " + self.tr(key, user=event["user"]))

    def on_file_added(self, event: Dict[str, Any]) -> None:
        f = event["file"]
        self.say("* " + self.tr("chat.file_shared", user=f["owner"], name=f["name"]))

    def on_file_removed(self, event: Dict[str, Any]) -> None:
        self.say("* " + self.tr("chat.file_removed"))

    def on_files(self, files: List[Dict[str, Any]], more: bool) -> None:
        pass  # /files and /download ask for the list themselves

    def on_logged_out(self, status: str) -> None:
        for transfer in self.transfers.active():
            transfer.cancel()
        self.error(self.tr("login.logged_out" if status == "logged_out" else "login.expired"))

    # -- input ----------------------------------------------------------------------------

    def ask(self, prompt: str, secret: bool, then: Callable[[str], None]) -> None:
        if self.interactive:
            value = getpass.getpass(prompt + ": ") if secret else input(prompt + ": ")
            then(value)
        else:
            self._prompts.append(then)

    def handle(self, line: str) -> None:
        if self._prompts:
            self._prompts.popleft()(line.strip())
            return
        line = line.strip()
        if not line:
            return
        if not line.startswith("/"):
            self._say(line, None)
            return
        command, _, rest = line.partition(" ")
        handler = getattr(self, "cmd_" + command[1:].lower(), None)
        if handler is None:
            self.error("unknown command %s (try /help)" % command)
            return
        handler(rest.strip())

    def cmd_help(self, rest: str) -> None:
        self.say(HELP.rstrip())

    def cmd_quit(self, rest: str) -> None:
        self.quitting = True

    def _wait(self, done: Dict[str, Any]) -> None:
        self.busy = lambda: not done.get("done")

    def _reply_handler(self, done: Dict[str, Any], ok: Callable[[Dict[str, Any]], None]
                       ) -> Callable[[Dict[str, Any]], None]:
        def handle(reply: Dict[str, Any]) -> None:
            done["done"] = True
            if reply.get("status") == "ok":
                ok(reply)
            elif reply.get("status") == "disconnected" and refusal_of(reply) is None:
                self.error(reply.get("message", "disconnected"))
            else:
                self.error(status_text(self.tr, reply))
        return handle

    def cmd_login(self, rest: str) -> None:
        name = rest.split(" ")[0] if rest else ""
        if not name:
            self.error("usage: /login NAME")
            return
        done: Dict[str, Any] = {}
        # Finished when the chat connection is authenticated too (or the login failed).
        self.busy = lambda: not done.get("done") or self.session.state == "connecting"

        def with_password(password: str) -> None:
            self.session.login(name, password, self._reply_handler(
                done, lambda r: self.say("* logged in as %s" % r["username"])))
        self.ask(self.tr("login.password"), True, with_password)

    def cmd_register(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) not in (2, 3):
            self.error("usage: /register NAME PHONE [EMAIL]")
            return
        name, phone, email = parts[0], parts[1], parts[2] if len(parts) == 3 else ""
        for status in (check_username(name), check_phone(phone), check_email(email)):
            if status:
                self.error(self.tr.error(status))
                return
        done: Dict[str, Any] = {}
        self._wait(done)

        def registered(reply: Dict[str, Any]) -> None:
            self.say("* " + self.tr("register.done"))

        def with_code(password: str, code: str) -> None:
            self.session.register(name, password, phone, code, email,
                                  self._reply_handler(done, registered))

        def with_password(password: str) -> None:
            if check_password(password):
                done["done"] = True
                self.error(self.tr.error("bad_password"))
                return
            if self.session.sms == "off":
                with_code(password, "")
                return

            def sent(reply: Dict[str, Any]) -> None:
                if reply.get("status") != "ok":
                    done["done"] = True
                    self.error(status_text(self.tr, reply))
                    return
                self.say("* " + self.tr("register.code_sent"))
                self.ask(self.tr("register.code"), False, lambda c: with_code(password, c))
            self.session.send_code(phone, sent)

        def after_hello(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok":
                done["done"] = True
                self.error(reply.get("message", "no server"))
                return
            self.ask(self.tr("register.password"), True, with_password)
        self.session.hello(after_hello)

    def _need_login(self) -> bool:
        if self.session.state != "online":
            self.error("not logged in (use /login NAME)")
            return True
        return False

    def _say(self, text: str, to: Optional[str]) -> None:
        if self._need_login():
            return
        done: Dict[str, Any] = {}
        self._wait(done)

        def said(reply: Dict[str, Any]) -> None:
            done["done"] = True
            if reply.get("status") != "ok":  # say why, and give the text back: nothing lost
                self.error(send_failure_text(self.tr, reply))
                self.say("  " + text)
        self.session.say(text, to, said)

    def cmd_msg(self, rest: str) -> None:
        user, _, text = rest.partition(" ")
        if not user or not text.strip():
            self.error("usage: /msg USER TEXT")
            return
        self._say(text, user)

    def cmd_users(self, rest: str) -> None:
        if self._need_login():
            return
        done: Dict[str, Any] = {}
        self._wait(done)
        self.session.users(self._reply_handler(
            done, lambda r: self.say("* online: " + ", ".join(r["online"]))))

    def cmd_history(self, rest: str) -> None:
        if self._need_login():
            return
        limit = int(rest) if rest.isdigit() and 0 < int(rest) <= 200 else 20
        done: Dict[str, Any] = {}
        self._wait(done)

        def show(reply: Dict[str, Any]) -> None:
            for event in reply["messages"]:
                self.on_message(event)
        self.session.history(None, None, self._reply_handler(done, show), limit=limit)

    def cmd_files(self, rest: str) -> None:
        """/files: the newest page; /files more: the page after the one shown last."""
        if self._need_login():
            return
        more = rest.strip().lower() == "more"
        if rest.strip() and not more:
            self.error("usage: /files [more]")
            return
        if more and self._files_before is None:
            self.say("* " + self.tr("cli.no_more_files"))
            return
        done: Dict[str, Any] = {}
        self._wait(done)

        def show(reply: Dict[str, Any]) -> None:
            files = reply["files"]
            if not files and not more:
                self.say("* " + self.tr("cli.no_files"))
            for f in files:
                self.say("%6d  %-40s %10s  %-12s %s" % (
                    f["file_id"], f["name"], human_size(f["size"]), f["owner"],
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(f["uploaded_at"]))))
            self._files_before = files[-1]["file_id"] if files and reply.get("more") else None
            if self._files_before is not None:
                self.say("* " + self.tr("cli.more_files", n=FILES_PAGE_LINES))
        self.session.list_files(self._reply_handler(done, show),
                                before=self._files_before if more else None,
                                limit=FILES_PAGE_LINES)

    def cmd_upload(self, rest: str) -> None:
        if self._need_login():
            return
        path = os.path.expanduser(rest)
        if os.path.isdir(path):
            entries = folder_entries(path)
        elif os.path.isfile(path):
            entries = [(path, os.path.basename(path))]
        else:
            self.error("no such file or folder: %s" % rest)
            return
        jobs = [self.transfers.add(Upload(p, n)) for p, n in entries]
        self.busy = lambda: any(not j.finished for j in jobs)

    def cmd_download(self, rest: str) -> None:
        if self._need_login():
            return
        target, _, dest = rest.partition(" ")
        dest = os.path.expanduser(dest.strip() or ".")
        done: Dict[str, Any] = {}
        self._wait(done)
        jobs: List[Transfer] = []

        def start(reply: Dict[str, Any]) -> None:
            files = reply["files"]
            if reply.get("more"):  # the bound of list_all_files: say what was left out
                self.say("* " + self.tr("files.search_bound", n=len(files)))
            if target.isdigit():
                chosen = [f for f in files if f["file_id"] == int(target)]
            else:
                folders = find_folders(files, target)
                if len(folders) > 1:
                    self.error("%s: %s" % (self.tr("cli.which_folder"), ", ".join(
                        "/download %s/%s/" % folder for folder in folders)))
                    return
                chosen = folder_records(files, folders[0]) if folders else []
            if not chosen:
                self.error(self.tr.error("not_found"))
                return
            for f in chosen:
                name = f["name"] if not target.isdigit() else f["name"].split("/")[-1]
                local = safe_local_path(dest, name)
                if local is None:
                    self.error(self.tr("error.unsafe_name", name=f["name"]))
                    continue
                jobs.append(self.transfers.add(Download(f, local)))
            self.busy = lambda: any(not j.finished for j in jobs)
        # The file or folder may be on any page: look through them all (a bounded number).
        self.session.list_all_files(self._reply_handler(done, start))

    def cmd_delete(self, rest: str) -> None:
        if self._need_login() or not rest.isdigit():
            if not rest.isdigit():
                self.error("usage: /delete ID")
            return
        done: Dict[str, Any] = {}
        self._wait(done)
        self.session.delete_file(int(rest), self._reply_handler(
            done, lambda r: self.say("* deleted %s" % rest)))

    def _transfer_finished(self, transfer: Transfer) -> None:
        arrow = "up" if transfer.kind == "up" else "down"
        if transfer.state == "done":
            self.say("* %s %s: %s" % (arrow, transfer.name, self.tr("transfer.done")))
        elif transfer.state == "failed":
            self.error("%s %s: %s" % (arrow, transfer.name, failure_text(self.tr, transfer)))

    def _show_progress(self, now: float) -> None:
        if not self.interactive or now - self._progress_at < 0.5:
            return
        self._progress_at = now
        for t in self.transfers.active():
            if t.state == "sending" and t.size:
                pct = int(100 * t.done_bytes / t.size)
                sys.stderr.write("\r%s %s %d%% %s/s   " % (t.kind, t.name, pct,
                                                          human_size(t.speed_bps(now))))
                sys.stderr.flush()

    # -- the pump -------------------------------------------------------------------------

    def run(self) -> int:
        self.session.hello(lambda r: r.get("status") == "ok" or
                           self.error(r.get("message", "cannot reach the server")))
        if self.interactive:
            self.say("chatroom — %s:%d — /help for commands" % (self.session.host,
                                                             self.session.port))
        while not self.quitting:
            self.session.poll()
            for transfer in self.transfers.step():
                self._transfer_finished(transfer)
            now = time.monotonic()
            self._show_progress(now)
            if self.busy is not None and not self.busy():
                self.busy = None
            if self.busy is None or self._prompts:
                line = self.lines.get()
                if line is None:
                    if self.busy is None:
                        break
                elif line:
                    self.handle(line)
                    continue
            conns = self.session.connections() + [t.conn for t in self.transfers.active()
                                                  if t.conn is not None]
            busy_transfers = any(t.state in ("hashing", "sending") for t in
                                 self.transfers.active())
            wait_readable(conns, 0 if busy_transfers else POLL_INTERVAL_S)
        self.session.close()
        return 1 if self.failed else 0


def find_folders(records: List[Dict[str, Any]], target: str) -> List[Folder]:
    """The folders `target` may mean: 'OWNER/NAME' is OWNER's folder NAME; 'NAME' alone is
    the folder NAME of whoever has one (several owners: several folders, and the user must
    say which). Two users' folders of the same name are never merged."""
    path = target.strip("/")
    owners = {r["owner"] for r in records}
    named = [Folder(owner, path[len(owner) + 1:]) for owner in sorted(owners)
             if path.startswith(owner + "/")]
    named = [folder for folder in named if folder_records(records, folder)]
    if named:
        return named
    return [Folder(owner, path) for owner in sorted(owners)
            if folder_records(records, Folder(owner, path))]


def ask_trust(server: str, fingerprint: str) -> bool:
    """Trust on first use, in a terminal: show the fingerprint and ask."""
    if not sys.stdin.isatty():
        sys.stderr.write("! %s has an unknown certificate (SHA-256 %s); not trusted. Pass "
                         "--trust-fingerprint %s if that is the server's.\n"
                         % (server, fingerprint, fingerprint))
        return False
    sys.stderr.write("The server %s presents a certificate with SHA-256 fingerprint\n  %s\n"
                     "Compare it with the one the server's owner gave you.\n"
                     % (server, fingerprint))
    return input("Trust it from now on? [y/N] ").strip().lower() in ("y", "yes")


def main(host: str, port: int, lang: str, tls: Any = None) -> int:
    try:
        return Cli(host, port, lang, tls=tls).run()
    except KeyboardInterrupt:
        return 130
