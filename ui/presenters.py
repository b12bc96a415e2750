"""What the windows do, without tkinter: login, register, chat, files.

Each presenter talks to a *view* (the thin Tk window in ui/windows.py, or a fake in the
tests) through a handful of methods, and to the Session for the network. Everything here
runs on the one GUI thread, driven by the App's ``after()`` tick.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from net.rules import (
    TEXT_MAX_CHARS,
    check_email,
    check_password,
    check_phone,
    check_text,
    check_username,
)
from ui.i18n import Catalog
from ui.session import Session, parse_address
from ui.transfers import (
    Download,
    Transfer,
    TransferQueue,
    Upload,
    folder_entries,
    human_size,
    safe_local_path,
)

# The chat view keeps at most this many messages per conversation; older ones are reloaded
# from the server on demand ("load older"), so a busy room stays fast.
MAX_VIEW_MESSAGES = 500
# Show the character counter once a message gets this close to the limit.
COUNTER_FROM_CHARS = TEXT_MAX_CHARS - 500
CODE_COUNTDOWN_S = 60

PUBLIC = ""  # the conversation key of the public room


def status_text(tr: Catalog, reply: Dict[str, Any]) -> str:
    status = reply.get("status", "")
    if status == "disconnected":
        return tr("error.generic", why=reply.get("message", status))
    return tr.error(status, n=reply.get("retry_after", 60))


class LoginPresenter:
    """View: fields() -> (server, login, password); set_busy(bool); show_error(text);
    show_info(text)."""

    def __init__(self, app: Any, view: Any) -> None:
        self.app = app
        self.view = view
        self.tr = app.tr

    def submit(self) -> None:
        server, login, password = self.view.fields()
        address = parse_address(server)
        if address is None:
            self.view.show_error(self.tr("login.bad_server"))
            return
        if not login.strip() or not password:
            self.view.show_error(self.tr("login.empty"))
            return
        session = self.app.connect(address)
        self.view.set_busy(True)
        self.view.show_info(self.tr("login.connecting", server="%s:%d" % address))

        def done(reply: Dict[str, Any]) -> None:
            self.view.set_busy(False)
            if reply.get("status") == "ok":
                self.view.show_info("")
                self.app.remember(server=server, last_login=login.strip())
                self.app.open_chat()
            else:
                self.view.show_error(status_text(self.tr, reply))
        session.login(login.strip(), password, done)

    def open_register(self) -> None:
        server = self.view.fields()[0]
        address = parse_address(server)
        if address is None:
            self.view.show_error(self.tr("login.bad_server"))
            return
        self.app.connect(address)
        self.app.open_register()


class RegisterPresenter:
    """View: values() -> dict of username, password, confirm, phone, code, email;
    set_hint(field, text, ok); set_code_visible(bool); set_send_code(enabled, text);
    set_busy(bool); show_error(text); show_info(text); close()."""

    FIELDS = ("username", "password", "confirm", "phone", "code", "email")

    def __init__(self, app: Any, view: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.view = view
        self.tr = app.tr
        self.clock = clock
        self.code_until = 0.0
        self.sms = "console"

    def start(self) -> None:
        def got(reply: Dict[str, Any]) -> None:
            if reply.get("status") == "ok":
                self.sms = reply.get("sms", "console")
                self.view.set_code_visible(self.sms != "off")
            else:
                self.view.show_error(status_text(self.tr, reply))
        self.app.session.hello(got)
        for name in self.FIELDS:
            self.view.set_hint(name, self._hint_key(name), None)

    @staticmethod
    def _hint_key(name: str) -> str:
        return "hint." + name

    def check(self, name: str) -> bool:
        """Validate one field as the user types; the same rules as the server."""
        values = self.view.values()
        value = values.get(name, "")
        if name == "confirm":
            ok = value == values.get("password") and value != ""
            hint = "hint.ok" if ok else ("hint.confirm_mismatch" if value else "hint.confirm")
        elif name == "code":
            ok = value.isdigit() and len(value) == 6
            hint = "hint.ok" if ok else "hint.code"
        else:
            checker = {"username": check_username, "password": check_password,
                       "phone": check_phone, "email": check_email}[name]
            ok = checker(value) is None
            hint = "hint.ok" if ok else "hint." + name
        shown_ok: Optional[bool] = ok if (value or name == "email") else None
        self.view.set_hint(name, hint, shown_ok)
        return ok

    def send_code(self) -> None:
        if not self.check("phone"):
            return
        self.view.set_send_code(False, self.tr("register.send_code"))

        def done(reply: Dict[str, Any]) -> None:
            if reply.get("status") == "ok":
                self.view.show_info(self.tr("register.code_sent"))
                self.code_until = self.clock() + reply.get("retry_after", CODE_COUNTDOWN_S)
            elif reply.get("status") == "rate_limited":
                self.code_until = self.clock() + reply.get("retry_after", CODE_COUNTDOWN_S)
                self.view.show_error(status_text(self.tr, reply))
            else:
                self.view.set_send_code(True, self.tr("register.send_code"))
                self.view.show_error(status_text(self.tr, reply))
        self.app.session.send_code(self.view.values()["phone"], done)

    def tick(self) -> None:
        """Once a second or so: the countdown on the send-code button."""
        if self.code_until:
            left = int(self.code_until - self.clock() + 0.999)
            if left > 0:
                self.view.set_send_code(False, self.tr("register.resend_in", n=left))
            else:
                self.code_until = 0.0
                self.view.set_send_code(True, self.tr("register.send_code"))

    def submit(self) -> None:
        names = [n for n in self.FIELDS if n != "code" or self.sms != "off"]
        results = [self.check(n) for n in names]
        if not all(results):
            return
        v = self.view.values()
        self.view.set_busy(True)

        def done(reply: Dict[str, Any]) -> None:
            self.view.set_busy(False)
            if reply.get("status") == "ok":
                self.app.registered(v["username"])
            else:
                self.view.show_error(status_text(self.tr, reply))
        self.app.session.register(v["username"], v["password"], v["phone"],
                                  v.get("code", "") if self.sms != "off" else "",
                                  v.get("email", ""), done)


class ChatPresenter:
    """View: show_conversation(entries); append_entry(entry); prepend_entries(entries);
    drop_oldest(count);
    set_online(names); set_conversations([(key, label, unread)], current);
    set_counter(text or ''); set_status(text); set_title(text); alert(); show_error(text);
    clear_input(). An entry is a dict: kind ('mine', 'other', 'system'), who, to, text,
    time (HH:MM), private (bool), msg_id."""

    def __init__(self, app: Any, view: Any) -> None:
        self.app = app
        self.view = view
        self.tr = app.tr
        self.session: Session = app.session
        self.conversations: Dict[str, List[Dict[str, Any]]] = {PUBLIC: []}
        self.unread: Dict[str, int] = {PUBLIC: 0}
        self.current = PUBLIC
        self.seen: set = set()
        self.online: List[str] = []
        self.focused = True
        self.unseen_while_away = 0
        self.no_older: set = set()

    @property
    def me(self) -> str:
        return self.session.username or ""

    # -- from the session -----------------------------------------------------------------

    def on_state(self, state: str, detail: str) -> None:
        if state == "online":
            self.view.set_status(self.tr("status.connected", server=detail))
        elif state == "reconnecting":
            self.view.set_status(self.tr("status.reconnecting", n=detail))
        elif state == "offline":
            self.view.set_status(self.tr("status.offline", why=detail or "-"))

    def on_welcome(self, reply: Dict[str, Any]) -> None:
        self.online = list(reply.get("online", []))
        self.view.set_online(self.online)
        for event in reply.get("history", []):
            self._add_message(event, live=False)
        self.view.set_title(self.tr("chat.title", user=self.me))
        self._refresh_conversation()

    def on_message(self, event: Dict[str, Any]) -> None:
        self._add_message(event, live=True)

    def on_presence(self, event: Dict[str, Any]) -> None:
        user = event["user"]
        if event.get("online"):
            if user not in self.online:
                self.online.append(user)
                self.online.sort(key=str.casefold)
            self._system(self.tr("chat.joined", user=user))
        else:
            if user in self.online:
                self.online.remove(user)
            self._system(self.tr("chat.left", user=user))
        self.view.set_online(self.online)

    def on_file_added(self, event: Dict[str, Any]) -> None:
        f = event["file"]
        self._system(self.tr("chat.file_shared", user=f["owner"], name=f["name"]))

    def on_file_removed(self, event: Dict[str, Any]) -> None:
        self._system(self.tr("chat.file_removed"))

    # -- conversations --------------------------------------------------------------------

    def _key_for(self, event: Dict[str, Any]) -> str:
        if not event.get("to"):
            return PUBLIC
        return event["to"] if event["from"] == self.me else event["from"]

    def _entry(self, event: Dict[str, Any]) -> Dict[str, Any]:
        return {"kind": "mine" if event["from"] == self.me else "other", "who": event["from"],
                "to": event.get("to"), "text": event["text"], "private": bool(event.get("to")),
                "time": time.strftime("%H:%M", time.localtime(event.get("ts", time.time()))),
                "msg_id": event["msg_id"]}

    def _add_message(self, event: Dict[str, Any], live: bool) -> None:
        msg_id = event.get("msg_id")
        if msg_id in self.seen:
            return  # resynced history after a reconnect: nothing twice
        self.seen.add(msg_id)
        key = self._key_for(event)
        entries = self.conversations.setdefault(key, [])
        entry = self._entry(event)
        # Keep id order even when a resync delivers an older message late.
        if entries and entries[-1].get("msg_id") is not None and msg_id < entries[-1]["msg_id"]:
            entries.append(entry)
            entries.sort(key=lambda e: e.get("msg_id") or 0)
            if key == self.current:
                self._refresh_conversation()
        else:
            entries.append(entry)
            if key == self.current:
                self.view.append_entry(entry)
        self._trim(key)
        if live and entry["kind"] != "mine":
            if key != self.current:
                self.unread[key] = self.unread.get(key, 0) + 1
                self._show_conversations()
            if not self.focused:
                self.unseen_while_away += 1
                self.view.set_title(self.tr("chat.new_title", n=self.unseen_while_away))
                if self.app.settings.notify:
                    self.view.alert()
        elif key not in self.unread:
            self.unread.setdefault(key, 0)
            self._show_conversations()

    def _trim(self, key: str) -> None:
        entries = self.conversations[key]
        extra = len(entries) - MAX_VIEW_MESSAGES
        if extra > 0:
            del entries[:extra]
            self.no_older.discard(key)
            if key == self.current:
                self.view.drop_oldest(extra)

    def _system(self, text: str) -> None:
        entry = {"kind": "system", "who": "", "to": None, "text": text, "private": False,
                 "time": time.strftime("%H:%M"), "msg_id": None}
        self.conversations[PUBLIC].append(entry)
        if self.current == PUBLIC:
            self.view.append_entry(entry)
        self._trim(PUBLIC)

    def _refresh_conversation(self) -> None:
        self.view.show_conversation(list(self.conversations.get(self.current, [])))
        self._show_conversations()

    def _show_conversations(self) -> None:
        items: List[Tuple[str, str, int]] = []
        for key in [PUBLIC] + sorted((k for k in self.conversations if k), key=str.casefold):
            label = self.tr("chat.public") if key == PUBLIC else self.tr("chat.private_with",
                                                                        user=key)
            items.append((key, label, self.unread.get(key, 0)))
        self.view.set_conversations(items, self.current)

    def switch_to(self, key: str) -> None:
        self.current = key
        self.conversations.setdefault(key, [])
        self.unread[key] = 0
        self._refresh_conversation()

    def open_private(self, user: str) -> None:
        if user and user != self.me:
            self.switch_to(user)

    # -- actions --------------------------------------------------------------------------

    def typed(self, text: str) -> None:
        n = len(text)
        self.view.set_counter(self.tr("chat.counter", n=n) if n >= COUNTER_FROM_CHARS else "")

    def send(self, text: str) -> None:
        text = text.rstrip("\n")
        if check_text(text):
            if text.strip() and len(text) > TEXT_MAX_CHARS:
                self.view.show_error(self.tr("chat.counter", n=len(text)))
            return
        to = self.current or None

        def done(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok":
                self.view.show_error(status_text(self.tr, reply))
        if self.session.say(text, to, done):
            self.view.clear_input()
            self.view.set_counter("")

    def load_older(self) -> None:
        key = self.current
        ids = [e["msg_id"] for e in self.conversations.get(key, []) if e.get("msg_id")]
        before = min(ids) if ids else None

        def done(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok":
                self.view.show_error(status_text(self.tr, reply))
                return
            older = [self._entry(m) for m in reply["messages"] if m["msg_id"] not in self.seen]
            if not older:
                self.no_older.add(key)
                self.view.show_error(self.tr("chat.no_older"))
                return
            self.seen.update(e["msg_id"] for e in older)
            self.conversations[key][:0] = older
            if key == self.current:
                self.view.prepend_entries(older)
        self.session.history(before, key or None, done)

    def focus_changed(self, focused: bool) -> None:
        self.focused = focused
        if focused and self.unseen_while_away:
            self.unseen_while_away = 0
            self.view.set_title(self.tr("chat.title", user=self.me))


def human_time(seconds: Optional[float]) -> str:
    if seconds is None:
        return "--"
    seconds = int(seconds)
    return "%d:%02d" % (seconds // 60, seconds % 60) if seconds < 3600 else \
        "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


class FilesPresenter:
    """View: show_files(tree) where tree is [(folder or None, [record, ...])]; show_transfers(
    [(key, label, fraction, text, finished)]); show_error(text); choose_folder(title) -> path."""

    def __init__(self, app: Any, view: Any) -> None:
        self.app = app
        self.view = view
        self.tr = app.tr
        self.files: Dict[int, Dict[str, Any]] = {}
        self.queue = TransferQueue(app.session.open_file_connection)
        self.queue.on_finished = self._finished

    def on_files(self, files: List[Dict[str, Any]]) -> None:
        self.files = {f["file_id"]: f for f in files}
        self._show()

    def on_file_added(self, event: Dict[str, Any]) -> None:
        self.files[event["file"]["file_id"]] = event["file"]
        self._show()

    def on_file_removed(self, event: Dict[str, Any]) -> None:
        self.files.pop(event["file_id"], None)
        self._show()

    def _show(self) -> None:
        if self.view is None:  # the files window is closed; it redraws when opened
            return
        folders: Dict[Optional[str], List[Dict[str, Any]]] = {}
        for record in sorted(self.files.values(), key=lambda f: -f["uploaded_at"]):
            top = record["name"].split("/")[0] if "/" in record["name"] else None
            folders.setdefault(top, []).append(record)
        tree = [(None, folders.pop(None, []))] + sorted(folders.items())
        self.view.show_files(tree)

    def upload_paths(self, paths: List[str]) -> None:
        for path in paths:
            if os.path.isdir(path):
                for local, name in folder_entries(path):
                    self.queue.add(Upload(local, name))
            elif os.path.isfile(path):
                self.queue.add(Upload(path, os.path.basename(path)))

    def download(self, file_ids: List[int], folder: Optional[str], target: str) -> None:
        """Download some files, or every file of a folder, into target (keeping folders)."""
        chosen = [self.files[i] for i in file_ids if i in self.files]
        if folder:
            chosen += [f for f in self.files.values() if f["name"].startswith(folder + "/")]
        for record in chosen:
            local = safe_local_path(target, record["name"])
            if local is None and self.view is not None:
                self.view.show_error(self.tr("error.unsafe_name", name=record["name"]))
            if local is None:
                continue
            self.queue.add(Download(record, local))

    def delete(self, file_id: int) -> None:
        def done(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok" and self.view is not None:
                self.view.show_error(status_text(self.tr, reply))
        self.app.session.delete_file(file_id, done)

    def cancel(self, index: int) -> None:
        if 0 <= index < len(self.queue.items):
            self.queue.items[index].cancel()

    def tick(self, budget_s: float = 0.0) -> None:
        self.queue.step(budget_s)

    def transfer_rows(self, now: Optional[float] = None) -> List[Tuple[int, str, float, str, bool]]:
        now = time.monotonic() if now is None else now
        rows = []
        for i, t in enumerate(self.queue.items):
            label = self.tr("transfer.up" if t.kind == "up" else "transfer.down", name=t.name)
            rows.append((i, label, self._fraction(t), self._state_text(t, now), t.finished))
        return rows

    @staticmethod
    def _fraction(t: Transfer) -> float:
        if t.state == "hashing" and t.size:
            return min(1.0, t.hashed_bytes / t.size)
        if not t.size:
            return 1.0 if t.state == "done" else 0.0
        return min(1.0, t.done_bytes / t.size)

    def _state_text(self, t: Transfer, now: float) -> str:
        if t.state == "hashing":
            return self.tr("transfer.hashing", pct=int(100 * self._fraction(t)))
        if t.state == "sending":
            return self.tr("transfer.sending", pct=int(100 * self._fraction(t)),
                           speed=human_size(t.speed_bps(now)), eta=human_time(t.eta_s(now)))
        if t.state == "failed":
            why = t.error or ""
            return self.tr("transfer.failed", why=self.tr.error(why) if why in (
                "checksum_mismatch", "too_large", "storage_full", "not_found") else why)
        return self.tr("transfer." + t.state)

    def _finished(self, transfer: Transfer) -> None:
        if transfer.kind == "up" and transfer.state == "done":
            self.app.session.refresh_files()
