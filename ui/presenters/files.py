"""The shared-files window and the transfer queue behind it: the file tree (loose files, then
each owner's folders), paged (docs/PROTOCOL.md §6: the newest page first, older pages on
"Load more"), uploads, downloads, deletes, and the progress rows; and hand-ins (§11): files
only their owner and the teachers see, handed in with "Hand in…" and shown apart from the
shared files, grouped by student, with "Download all" for the teacher. The queue outlives
the window: closing the window does not stop a transfer."""
from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Optional, Protocol, Tuple

from ui.i18n import Catalog
from ui.presenters.common import Shell, status_text
from ui.session import FILES_PAGE, Session
from ui.transfers import (
    HAND_IN,
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

Record = Dict[str, Any]  # a shared file as the server describes it (docs/PROTOCOL.md §6)
# One transfer's row: (index in the queue, label, fraction done, state text, finished)
TransferRow = Tuple[int, str, float, str, bool]


class FilesView(Protocol):
    def show_files(self, tree: List[Tuple[Optional[Folder], List[Record]]]) -> None:
        """tree: (None, loose files) first, then (folder, its files) for each folder; the
        files of each group newest first."""

    def show_hand_ins(self, groups: List[Tuple[str, List[Record]]]) -> None:
        """The hand-ins this user may see, (student, their hand-ins newest first) for each
        student in name order: every student's for a teacher, one's own for a student."""

    def show_more(self, note: str, loading: bool) -> None:
        """The "Load more" control at the end of the list: note says how many files are
        shown while older ones remain ('' hides the control); loading: a page is on its
        way (the control waits)."""

    def show_transfers(self, rows: List[TransferRow]) -> None: ...

    def show_error(self, text: str) -> None: ...

    def show_info(self, text: str) -> None: ...


def human_time(seconds: Optional[float]) -> str:
    if seconds is None:
        return "--"
    seconds = int(seconds)
    return "%d:%02d" % (seconds // 60, seconds % 60) if seconds < 3600 else \
        "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


class FilesPresenter:
    """The view is attached while the files window is open (attach/detach)."""

    def __init__(self, app: Shell, session: Session, view: Optional[FilesView] = None) -> None:
        self.app = app
        self.session = session
        self.view = view
        self.tr = app.tr
        self.files: Dict[int, Record] = {}
        self.more = False  # older files remain on the server (not loaded yet)
        self._last_listed: Optional[int] = None  # file_id of the last file of the last page
        self._loading = False  # a "Load more" page is on its way: one at a time
        # Bumped by each fresh first page, so a page asked for before it is not merged in.
        self._generation = 0
        self.queue = TransferQueue(session.open_file_connection)

    @property
    def is_admin(self) -> bool:
        return bool(self.session.is_admin)

    def attach(self, view: FilesView) -> None:
        """The files window opened: draw the list we have and ask for a fresh one."""
        self.view = view
        self._show()
        self.session.refresh_files()

    def detach(self) -> None:
        self.view = None

    def close(self) -> None:
        """Logged out or quitting: stop every transfer (each closes its connection)."""
        self.view = None
        for transfer in self.queue.active():
            transfer.cancel()

    # -- from the session -----------------------------------------------------------------

    def on_files(self, files: List[Record], more: bool) -> None:
        """A fresh first page: it replaces whatever pages were loaded."""
        self._generation += 1
        self._loading = False
        self.files = {}
        self._add_page(files, more)

    def _add_page(self, files: List[Record], more: bool) -> None:
        for record in files:
            self.files[record["file_id"]] = record
        if files:
            self._last_listed = files[-1]["file_id"]
        self.more = more and bool(files)
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
        folders: Dict[Optional[Folder], List[Record]] = {}
        hand_ins: Dict[str, List[Record]] = {}
        for record in sorted(self.files.values(), key=lambda f: -f["uploaded_at"]):
            if record.get("visibility") == HAND_IN:
                hand_ins.setdefault(record["owner"], []).append(record)
                continue
            name = record["name"]
            top = Folder(record["owner"], name.split("/")[0]) if "/" in name else None
            folders.setdefault(top, []).append(record)
        loose = folders.pop(None, [])
        tree: List[Tuple[Optional[Folder], List[Record]]] = [(None, loose)]
        tree += sorted(folders.items(), key=lambda item: (item[0].name, item[0].owner))
        self.view.show_files(tree)
        self.view.show_hand_ins(sorted(hand_ins.items(), key=lambda item: (
            item[0].casefold(), item[0])))
        self._show_more()

    def _show_more(self) -> None:
        if self.view is not None:
            note = self.tr("files.older_remain", n=len(self.files)) if self.more else ""
            self.view.show_more(note, self._loading)

    # -- actions --------------------------------------------------------------------------

    def refresh(self) -> None:
        self.session.refresh_files()

    def load_more(self) -> None:
        """The next page of older files (one page per click: the list grows by a bounded
        amount, and nothing loops)."""
        if not self.more or self._loading:
            return
        self._loading = True
        self._show_more()
        generation = self._generation

        def got(reply: Dict[str, Any]) -> None:
            if generation != self._generation:
                return  # a fresh first page came meanwhile; this page belongs to the old one
            self._loading = False
            if reply.get("status") != "ok":
                self._show_more()
                if self.view is not None:
                    self.view.show_error(status_text(self.tr, reply))
                return
            self._add_page(reply["files"], bool(reply.get("more")))
        self.session.list_files(got, before=self._last_listed, limit=FILES_PAGE)

    def download_folder(self) -> str:
        """Where downloads go unless the user picks another folder."""
        return self.app.settings.download_folder()

    def upload_paths(self, paths: List[str]) -> None:
        for path in paths:
            if os.path.isdir(path):
                for local, name in folder_entries(path):
                    self.queue.add(Upload(local, name))
            elif os.path.isfile(path):
                self.queue.add(Upload(path, os.path.basename(path)))

    def hand_in_paths(self, paths: List[str]) -> None:
        """Hand work in: files (or a folder's files) only the teachers and I will see."""
        for path in paths:
            if os.path.isdir(path):
                for local, name in folder_entries(path):
                    self.queue.add(Upload(local, name, HAND_IN))
            elif os.path.isfile(path):
                self.queue.add(Upload(path, os.path.basename(path), HAND_IN))

    def download_hand_ins(self, student: Optional[str], target: str) -> None:
        """Download every hand-in (of one student, or of all) into target/STUDENT/NAME, so
        two students' files of the same name stay apart. Hand-ins on pages not loaded yet
        are fetched first, as for a folder."""
        def wanted(records: List[Record]) -> List[Record]:
            return [r for r in records if r.get("visibility") == HAND_IN and
                    (student is None or r["owner"] == student)]
        if not self.more:
            self._queue_hand_ins(wanted(list(self.files.values())), target)
            return
        if self.view is not None:
            self.view.show_info(self.tr("files.searching_hand_ins"))

        def got(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok":
                if self.view is not None:
                    self.view.show_error(status_text(self.tr, reply))
                return
            records = {r["file_id"]: r for r in reply["files"]}
            records.update(self.files)
            if self.view is not None:
                self.view.show_info(self.tr("files.search_bound", n=len(records))
                                    if reply["more"] else "")
            self._queue_hand_ins(wanted(list(records.values())), target)
        self.session.list_all_files(got, before=None)

    def _queue_hand_ins(self, records: List[Record], target: str) -> None:
        if not records and self.view is not None:
            self.view.show_info(self.tr("files.no_hand_ins"))
        for record in sorted(records, key=lambda r: (r["owner"].casefold(), r["name"])):
            local = safe_local_path(target, record["owner"] + "/" + record["name"])
            if local is None:
                if self.view is not None:
                    self.view.show_error(self.tr("error.unsafe_name", name=record["name"]))
                continue
            self.queue.add(Download(record, local))

    def download(self, file_ids: List[int], folder: Optional[Folder], target: str) -> None:
        """Download some files, or every file of one owner's folder, into target (keeping
        folders). A folder's older files may be on pages not loaded yet: those pages are
        fetched first (a bounded number, Session.list_all_files), and shown too."""
        chosen = [self.files[i] for i in file_ids if i in self.files]
        if folder is None or not self.more:
            if folder is not None:
                chosen += folder_records(self.files.values(), folder)
            self._queue_downloads(chosen, target)
            return
        if self.view is not None:
            self.view.show_info(self.tr("files.searching"))
        self._loading = True
        self._show_more()
        generation = self._generation

        def got(reply: Dict[str, Any]) -> None:
            if generation == self._generation:
                self._loading = False
                if reply.get("status") == "ok":
                    self._add_page(reply["files"], bool(reply["more"]))
                else:
                    self._show_more()
            if reply.get("status") != "ok":
                if self.view is not None:
                    self.view.show_error(status_text(self.tr, reply))
                return
            records = {r["file_id"]: r for r in reply["files"]}
            records.update(self.files)
            if self.view is not None:
                self.view.show_info(self.tr("files.search_bound", n=len(records))
                                    if reply["more"] else "")
            self._queue_downloads(chosen + folder_records(records.values(), folder), target)
        self.session.list_all_files(got, before=self._last_listed)

    def _queue_downloads(self, chosen: List[Record], target: str) -> None:
        for record in chosen:
            local = safe_local_path(target, record["name"])
            if local is None:
                if self.view is not None:
                    self.view.show_error(self.tr("error.unsafe_name", name=record["name"]))
                continue
            self.queue.add(Download(record, local))

    def delete(self, file_id: int) -> None:
        def done(reply: Dict[str, Any]) -> None:
            if reply.get("status") == "forbidden" and self.view is not None:
                self.view.show_error(self.tr("files.delete_forbidden"))
            elif reply.get("status") != "ok" and self.view is not None:
                self.view.show_error(status_text(self.tr, reply))
        self.session.delete_file(file_id, done)

    def cancel(self, index: int) -> None:
        if 0 <= index < len(self.queue.items):
            self.queue.items[index].cancel()

    # -- the tick -------------------------------------------------------------------------

    def tick(self, budget_s: float = 0.0) -> None:
        """Move the transfers along for up to budget_s; a finished upload joins the list (the
        chat's file_added says so too, but the chat connection may be down)."""
        for transfer in self.queue.step(budget_s):
            if transfer.kind == "up" and transfer.state == "done" and transfer.record:
                self.on_file_added({"file": transfer.record})

    def redraw(self, now: Optional[float] = None) -> None:
        """Redraw the progress rows (a few times a second: the numbers are for people)."""
        if self.view is not None:
            self.view.show_transfers(self.transfer_rows(now))

    def transfer_rows(self, now: Optional[float] = None) -> List[TransferRow]:
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
            return self.tr("transfer.failed", why=failure_text(self.tr, t))
        if t.state == "waiting" and t.refusal is not None:
            return self.tr("transfer.retrying", why=self.tr(t.refusal.value))
        return self.tr("transfer." + t.state)


def failure_text(tr: Catalog, t: Transfer) -> str:
    """Why a transfer failed, for people: the server's answer in our words (quota_exceeded,
    a refused connection, ...), else the server's own message, else what went wrong here."""
    reply = t.error_reply
    if reply is not None and reply.get("status") == "forbidden" and t.kind == "up":
        return tr("files.upload_admins_only")  # docs/PROTOCOL.md §11: --uploads admins
    if reply is not None and (reply.get("status") in ("rate_limited", "disconnected") or
                              tr.has_error(reply.get("status", ""))):
        return status_text(tr, reply)
    if reply is not None and reply.get("message"):
        return tr("error.generic", why=reply["message"])
    why = t.error or ""
    return tr.error(why) if tr.has_error(why) else why
