"""The shared-files window and the transfer queue behind it: the file tree (loose files, then
each owner's folders), uploads, downloads, deletes, and the progress rows. The queue outlives
the window: closing the window does not stop a transfer."""
from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Optional, Protocol, Tuple

from ui.presenters.common import Shell, status_text
from ui.session import Session
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

Record = Dict[str, Any]  # a shared file as the server describes it (docs/PROTOCOL.md §6)
# One transfer's row: (index in the queue, label, fraction done, state text, finished)
TransferRow = Tuple[int, str, float, str, bool]


class FilesView(Protocol):
    def show_files(self, tree: List[Tuple[Optional[Folder], List[Record]]]) -> None:
        """tree: (None, loose files) first, then (folder, its files) for each folder; the
        files of each group newest first."""

    def show_transfers(self, rows: List[TransferRow]) -> None: ...

    def show_error(self, text: str) -> None: ...


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
        self.queue = TransferQueue(session.open_file_connection)

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

    def on_files(self, files: List[Record]) -> None:
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
        folders: Dict[Optional[Folder], List[Record]] = {}
        for record in sorted(self.files.values(), key=lambda f: -f["uploaded_at"]):
            name = record["name"]
            top = Folder(record["owner"], name.split("/")[0]) if "/" in name else None
            folders.setdefault(top, []).append(record)
        loose = folders.pop(None, [])
        tree: List[Tuple[Optional[Folder], List[Record]]] = [(None, loose)]
        tree += sorted(folders.items(), key=lambda item: (item[0].name, item[0].owner))
        self.view.show_files(tree)

    # -- actions --------------------------------------------------------------------------

    def refresh(self) -> None:
        self.session.refresh_files()

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

    def download(self, file_ids: List[int], folder: Optional[Folder], target: str) -> None:
        """Download some files, or every file of one owner's folder, into target (keeping
        folders)."""
        chosen = [self.files[i] for i in file_ids if i in self.files]
        if folder is not None:
            chosen += folder_records(self.files.values(), folder)
        for record in chosen:
            local = safe_local_path(target, record["name"])
            if local is None:
                if self.view is not None:
                    self.view.show_error(self.tr("error.unsafe_name", name=record["name"]))
                continue
            self.queue.add(Download(record, local))

    def delete(self, file_id: int) -> None:
        def done(reply: Dict[str, Any]) -> None:
            if reply.get("status") != "ok" and self.view is not None:
                self.view.show_error(status_text(self.tr, reply))
        self.session.delete_file(file_id, done)

    def cancel(self, index: int) -> None:
        if 0 <= index < len(self.queue.items):
            self.queue.items[index].cancel()

    # -- the tick -------------------------------------------------------------------------

    def tick(self, budget_s: float = 0.0) -> None:
        """Move the transfers along for up to budget_s; a finished upload refreshes the list."""
        for transfer in self.queue.step(budget_s):
            if transfer.kind == "up" and transfer.state == "done":
                self.session.refresh_files()

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
            why = t.error or ""
            return self.tr("transfer.failed", why=self.tr.error(why) if why in (
                "checksum_mismatch", "too_large", "storage_full", "not_found") else why)
        return self.tr("transfer." + t.state)
