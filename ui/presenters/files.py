"""The shared-files window and the transfer queue behind it: the file tree (loose files, then
each owner's folders), paged (docs/PROTOCOL.md §6: the newest page first, older pages on
"Load more"), filtered by name as the user types, with a preview of a selected PNG or GIF;
uploads (checked against the server's largest file first), downloads (never over a file
that is there: 'name (1).ext'), deletes (of files and whole folders, asked first, only where
the user may), and the progress rows; and hand-ins (§11): files only their owner and the
teachers see, handed in with "Hand in…" and shown apart from the shared files, grouped by
student, with "Download all" for the teacher. The queue outlives the window: closing the
window does not stop a transfer."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Protocol, Set, Tuple

from ui.i18n import Catalog
from ui.neterrors import known_network_error
from ui.presenters.common import Shell, status_text
from ui.previews import PreviewCache
from ui.session import FILES_PAGE, Session
from ui.settings import config_dir
from ui.transfers import (
    HAND_IN,
    MAX_RETRIES,
    NO_FOLDER,
    Download,
    Folder,
    Transfer,
    TransferQueue,
    Upload,
    available_path,
    folder_entries,
    folder_records,
    human_size,
    safe_local_path,
)

Record = Dict[str, Any]  # a shared file as the server describes it (docs/PROTOCOL.md §6)


class TransferRow(NamedTuple):
    """One transfer's row in the queue."""
    id: int  # Transfer.id: the row's name for the transfer's whole life
    label: str
    fraction: float  # done, 0..1
    text: str  # the state in words
    cancellable: bool  # Cancel may be pressed (not finished, not verifying)


# The rows drawn at once: the running transfers and those around them. A folder of a
# thousand files is a thousand transfers, and a thousand rows of widgets would make every
# redraw slow; the line above the rows counts them all.
SHOWN_TRANSFERS = 100
# Files removed from the list are remembered this long (in number) for the chat's notice
# of their removal, which may arrive after the list forgot them (a folder: one per file).
REMOVED_KEPT = 1000
# Transfer.error codes of our own (not server statuses) and their sentences.
WHY_KEYS = {"connection_lost": "error.connection_lost", "local_missing": "error.local_missing",
            "local_denied": "error.local_denied", "local_full": "error.local_full",
            "local_changed": "error.local_changed", "local_error": "error.local_error"}


class FilesView(Protocol):
    def show_files(self, tree: List[Tuple[Optional[Folder], List[Record]]]) -> None:
        """tree: (None, loose files) first, then (folder, its files) for each folder; the
        files of each group newest first. Only what matches the filter."""

    def show_hand_ins(self, groups: List[Tuple[str, List[Record]]]) -> None:
        """The hand-ins this user may see, (student, their hand-ins newest first) for each
        student in name order: every student's for a teacher, one's own for a student."""

    def show_more(self, note: str, loading: bool) -> None:
        """The "Load more" control at the end of the list: note says how many files are
        shown while older ones remain ('' hides the control); loading: a page is on its
        way (the control waits)."""

    def show_transfers(self, rows: List[TransferRow], summary: str, clearable: bool) -> None:
        """The rows to draw (others are gone: cleared, or out of the window shown), a line
        counting every transfer ('' when there are none), and whether any has finished
        ("Clear finished" has something to clear)."""

    def show_downloaded(self, text: str, folder: str) -> None:
        """A download finished into folder: say so, and offer to open the folder."""

    def show_preview(self, path: Optional[str], caption: str) -> None:
        """Show the image at path (a PNG or GIF) beside the list; None: no preview; a
        caption alone: one is on its way."""

    def select_file(self, file_id: int) -> None:
        """Select this file in the list and scroll to it (a picture clicked in the chat)."""

    def show_error(self, text: str) -> None: ...

    def show_info(self, text: str) -> None: ...


def human_time(seconds: Optional[float]) -> str:
    if seconds is None:
        return "--"
    seconds = int(seconds)
    return "%d:%02d" % (seconds // 60, seconds % 60) if seconds < 3600 else \
        "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


def open_folder(path: str) -> bool:
    """Show a folder in the desktop's file manager; False where there is none to ask (no
    xdg-open) or it could not be started. Never waits for it."""
    try:
        if sys.platform.startswith("win"):
            os.startfile(path)  # type: ignore[attr-defined]  # Windows only
            return True
        opener = "open" if sys.platform == "darwin" else shutil.which("xdg-open")
        if not opener:
            return False
        subprocess.Popen([opener, path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
        return True
    except OSError:
        return False


class Batch:
    """Downloads asked for together (a folder, or several files): `label` is the folder's
    name ('' for files), `waiting` the ids of those not finished yet, `done` how many
    arrived."""

    def __init__(self, label: str, waiting: Set[int]) -> None:
        self.label = label
        self.waiting = waiting
        self.done = 0


class FilesPresenter:
    """The view is attached while the files window is open (attach/detach)."""

    def __init__(self, app: Shell, session: Session, view: Optional[FilesView] = None,
                 preview_dir: Optional[str] = None,
                 opener: Callable[[str], bool] = open_folder,
                 previews: Optional[PreviewCache] = None) -> None:
        self.app = app
        self.session = session
        self.view = view
        self.tr = app.tr
        self.files: Dict[int, Record] = {}
        self._removed: Dict[int, Record] = {}  # the last REMOVED_KEPT removed, oldest first
        self.more = False  # older files remain on the server (not loaded yet)
        self._last_listed: Optional[int] = None  # file_id of the last file of the last page
        self._loading = False  # a "Load more" page is on its way: one at a time
        # Bumped by each fresh first page, so a page asked for before it is not merged in.
        self._generation = 0
        self.queue = TransferQueue(session.open_file_connection)
        self.filter = ""  # the name filter, casefolded
        # The list changed by an event (file_added, file_removed): redrawn on the next
        # redraw(), so a folder of a thousand files arriving redraws a few times, not 1000.
        self._dirty = False
        self._targets: Dict[int, str] = {}  # download's Transfer.id -> the folder chosen
        # download's Transfer.id -> the downloads asked for with it (a folder): a folder
        # says it is done once, when its last file is
        self._batches: Dict[int, Batch] = {}
        self.opener = opener
        # Previews: the pictures' cache, shared with the chat's thumbnails (the App steps
        # it); one made here for a presenter alone is stepped by tick().
        self._own_previews = previews is None
        self.previews = previews or PreviewCache(
            session.open_file_connection,
            preview_dir or os.path.join(config_dir(), "previews"))
        self.preview_dir = self.previews.folder
        self._preview_wanted: Optional[int] = None  # the file_id the view waits to see
        self._reveal: Optional[int] = None  # the file to select once the list has it

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
        self._want_preview(None)

    def close(self) -> None:
        """Logged out or quitting: stop every transfer (each closes its connection). One
        being verified is let go: its connection closes with the session's."""
        self.view = None
        for transfer in self.queue.active():
            if not transfer.cancel():
                transfer.fail("connection_lost")
        if self._own_previews:
            self.previews.close()
        else:
            self._want_preview(None)

    @property
    def busy(self) -> bool:
        """A transfer of the user's is under way (the App ticks more often meanwhile)."""
        return self.queue.busy

    def relabel(self) -> None:
        """After a language switch (ui/tk/app.App.set_language): the list (its folder rows,
        the hand-ins' counts, "older files remain"), the transfer rows and the preview's
        caption again, in the new language."""
        if self.view is None:
            return
        self._show()
        self.redraw()
        wanted = self.files.get(self._preview_wanted) \
            if self._preview_wanted is not None else None
        if wanted is not None:
            self._preview_wanted = None  # select() shows it again, or says it is on its way
            self.select([wanted["file_id"]], None)

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
        if self._reveal is not None and self._reveal in self.files and self.view is not None:
            self.view.select_file(self._reveal)
            self._reveal = None

    def on_file_added(self, event: Dict[str, Any]) -> None:
        self.files[event["file"]["file_id"]] = event["file"]
        self._dirty = True

    def on_file_removed(self, event: Dict[str, Any]) -> None:
        record = self.files.pop(event["file_id"], None)
        if record is not None:
            self._dirty = True
            # The chat's notice of this removal may come after our own delete's reply
            # (another connection): it still finds what was deleted (record()).
            self._removed[event["file_id"]] = record
            while len(self._removed) > REMOVED_KEPT:
                del self._removed[next(iter(self._removed))]

    def record(self, file_id: int) -> Optional[Record]:
        """The shared file with this id, when it is in the loaded pages or was removed from
        them a moment ago (the chat's notice of a removal asks, to say what and whose)."""
        return self.files.get(file_id) or self._removed.get(file_id)

    def _show(self) -> None:
        self._dirty = False
        if self.view is None:  # the files window is closed; it redraws when opened
            return
        folders: Dict[Optional[Folder], List[Record]] = {}
        hand_ins: Dict[str, List[Record]] = {}
        needle = self.filter
        for record in sorted(self.files.values(), key=lambda f: -f["uploaded_at"]):
            name = record["name"]
            if needle and needle not in name.casefold():
                continue
            if record.get("visibility") == HAND_IN:
                hand_ins.setdefault(record["owner"], []).append(record)
                continue
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

    def set_filter(self, text: str) -> None:
        """Show only the files whose name (with its folder) holds text, in any case."""
        needle = text.strip().casefold()
        if needle != self.filter:
            self.filter = needle
            self._show()

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
        """Where downloads go unless the user picks another folder: the last one picked."""
        return self.app.settings.download_folder()

    def _add_upload(self, upload: Upload) -> None:
        """Queue an upload, refused at once when the server said (hello's limits,
        docs/PROTOCOL.md §4) that it takes no file that big: no hashing, no retrying."""
        limits = getattr(self.session, "limits", None) or {}
        limit = limits.get("max_file_size")
        if isinstance(limit, int) and not isinstance(limit, bool) and upload.size > limit:
            upload.refuse_too_large(limit)
        self.queue.add(upload)

    def upload_folder(self) -> str:
        """Where "Upload folder…" starts choosing: the folder the last upload was chosen
        in, or home."""
        return self.app.settings.upload_folder()

    def _remember_upload_folder(self, paths: List[str]) -> None:
        if paths:
            folder = os.path.dirname(os.path.abspath(paths[0]))
            if folder != self.app.settings.upload_dir:
                self.app.remember(upload_dir=folder)

    def upload_paths(self, paths: List[str]) -> None:
        self._remember_upload_folder(paths)
        for path in paths:
            if os.path.isdir(path):
                for local, name in folder_entries(path):
                    self._add_upload(Upload(local, name))
            elif os.path.isfile(path):
                self._add_upload(Upload(path, os.path.basename(path)))

    def hand_in_paths(self, paths: List[str]) -> None:
        """Hand work in: files (or a folder's files) only the teachers and I will see."""
        self._remember_upload_folder(paths)
        for path in paths:
            if os.path.isdir(path):
                for local, name in folder_entries(path):
                    self._add_upload(Upload(local, name, HAND_IN))
            elif os.path.isfile(path):
                self._add_upload(Upload(path, os.path.basename(path), HAND_IN))

    def _remember_target(self, target: str) -> None:
        if target and target != self.app.settings.download_dir:
            self.app.remember(download_dir=target)

    def download_hand_ins(self, student: Optional[str], target: str) -> None:
        """Download every hand-in (of one student, or of all) into target/STUDENT/NAME, so
        two students' files of the same name stay apart. Hand-ins on pages not loaded yet
        are fetched first, as for a folder."""
        self._remember_target(target)

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
            self._queue_download(record, record["owner"] + "/" + record["name"], target)

    def _with_folder(self, chosen: List[Record], folder: Optional[Folder],
                     then: Callable[[List[Record]], None]) -> None:
        """then(the chosen files plus every file of folder): a folder's older files may be on
        pages not loaded yet, so those pages are fetched first (a bounded number,
        Session.list_all_files), and shown too."""
        if folder is None or not self.more:
            if folder is not None:
                chosen = chosen + folder_records(self.files.values(), folder)
            then(chosen)
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
            then(chosen + folder_records(records.values(), folder))
        self.session.list_all_files(got, before=self._last_listed)

    def download(self, file_ids: List[int], folder: Optional[Folder], target: str) -> None:
        """Download some files, or every file of one owner's folder, into target (keeping
        folders; a file there already stays, the new one is 'name (1).ext'). target becomes
        the folder offered next time."""
        self._remember_target(target)
        chosen = [self.files[i] for i in file_ids if i in self.files]
        label = folder.name + "/" if folder is not None else ""
        self._with_folder(chosen, folder, lambda records: self._queue_downloads(
            records, target, label))

    def _queue_downloads(self, chosen: List[Record], target: str, label: str = "") -> None:
        seen: Set[int] = set()
        ids: List[int] = []
        for record in chosen:
            if record["file_id"] not in seen:  # a file selected and in its folder too
                seen.add(record["file_id"])
                download_id = self._queue_download(record, record["name"], target)
                if download_id is not None:
                    ids.append(download_id)
        if len(ids) > 1 or (label and ids):
            batch = Batch(label, set(ids))
            for download_id in ids:
                self._batches[download_id] = batch

    def _queue_download(self, record: Record, name: str, target: str) -> Optional[int]:
        """The download's Transfer.id; None when the name is no safe local path."""
        local = safe_local_path(target, name)
        if local is None:
            if self.view is not None:
                self.view.show_error(self.tr("error.unsafe_name", name=record["name"]))
            return None
        taken = {t.dest for t in self.queue.active() if isinstance(t, Download)}
        download = self.queue.add(Download(record, available_path(local, taken)))
        self._targets[download.id] = target
        return download.id

    def open_folder(self, folder: str) -> None:
        """"Open folder" after a download: the desktop's file manager, where there is one."""
        if not self.opener(folder) and self.view is not None:
            self.view.show_error(self.tr("files.cannot_open", folder=folder))

    # -- deleting -------------------------------------------------------------------------

    def _may_delete(self, record: Record) -> bool:
        """docs/PROTOCOL.md §6, §11: the owner, or a teacher."""
        me = (self.session.username or "").casefold()
        return self.is_admin or record.get("owner", "").casefold() == me

    def _loaded(self, file_ids: List[int], folder: Optional[Folder]) -> List[Record]:
        chosen = {i: self.files[i] for i in file_ids if i in self.files}
        if folder is not None:
            chosen.update((r["file_id"], r) for r in folder_records(self.files.values(),
                                                                    folder))
        return list(chosen.values())

    def can_delete(self, file_ids: List[int], folder: Optional[Folder]) -> bool:
        """Whether Delete applies to this selection: something chosen, and all of it the
        user's own (a teacher's: anything)."""
        if folder is not None and not self.is_admin and \
                folder.owner.casefold() != (self.session.username or "").casefold():
            return False
        records = self._loaded(file_ids, folder)
        return (bool(records) or folder is not None) and all(map(self._may_delete, records))

    def delete_question(self, file_ids: List[int], folder: Optional[Folder]) -> str:
        """What to ask before deleting this selection ('' when there is nothing to delete)."""
        if not self.can_delete(file_ids, folder):
            return ""
        records = self._loaded(file_ids, folder)
        if folder is not None:
            return self.tr("files.delete_folder_question", name=folder.name + "/",
                           owner=folder.owner, n=len(records))
        if len(records) == 1:
            return self.tr("files.delete_question", name=records[0]["name"],
                           owner=records[0]["owner"])
        return self.tr("files.delete_many_question", n=len(records))

    def delete(self, file_ids: List[int], folder: Optional[Folder] = None) -> None:
        """Delete files, or a whole folder (every file in it, older pages too); the notice
        says what was deleted, and whose it was."""
        if not self.can_delete(file_ids, folder):
            if self.view is not None:
                self.view.show_error(self.tr("files.delete_forbidden"))
            return
        chosen = [self.files[i] for i in file_ids if i in self.files]
        self._with_folder(chosen, folder, lambda records: self._delete(records, folder))

    def _delete(self, records: List[Record], folder: Optional[Folder]) -> None:
        unique = list({r["file_id"]: r for r in records}.values())
        if not unique:
            return
        waiting = {"left": len(unique), "deleted": 0, "error": ""}

        def done(record: Record, reply: Dict[str, Any]) -> None:
            waiting["left"] -= 1
            if reply.get("status") == "ok":
                waiting["deleted"] += 1
                self.on_file_removed({"file_id": record["file_id"]})
            elif reply.get("status") == "forbidden":
                waiting["error"] = self.tr("files.delete_forbidden")
            elif reply.get("status") != "not_found":  # gone already: what we wanted
                waiting["error"] = status_text(self.tr, reply)
            if waiting["left"] == 0 and self.view is not None:
                self._show()
                if waiting["error"]:
                    self.view.show_error(waiting["error"])
                else:
                    self.view.show_info(self._deleted_text(unique, folder))
        for record in unique:
            self.session.delete_file(record["file_id"],
                                     lambda reply, r=record: done(r, reply))

    def _deleted_text(self, records: List[Record], folder: Optional[Folder]) -> str:
        if folder is not None:
            return self.tr("files.deleted_folder", name=folder.name + "/", owner=folder.owner,
                           n=len(records))
        if len(records) == 1:
            return self.tr("files.deleted", name=records[0]["name"],
                           owner=records[0]["owner"])
        return self.tr("files.deleted_many", n=len(records))

    # -- the queue ------------------------------------------------------------------------

    def cancel(self, transfer_id: int) -> None:
        transfer = self.queue.find(transfer_id)
        if transfer is not None:
            transfer.cancel()  # not while verifying: the row's Cancel is disabled then
            if transfer.id in self._batches:  # perhaps the last of its folder
                self._downloaded(transfer)
            self.redraw()

    def clear_finished(self) -> None:
        """Forget the finished transfers' rows ("Clear finished")."""
        self.queue.clear_finished()
        live = {t.id for t in self.queue.items}
        self._targets = {i: target for i, target in self._targets.items() if i in live}
        self._batches = {i: batch for i, batch in self._batches.items() if i in live}
        self.redraw()

    # -- previews -------------------------------------------------------------------------

    def select(self, file_ids: List[int], folder: Optional[Folder]) -> None:
        """The view's selection changed: preview a lone PNG or GIF (fetched into the
        preview cache first, once: ui/previews.py)."""
        record = self.files.get(file_ids[0]) if len(file_ids) == 1 and folder is None \
            else None
        if record is not None and record["file_id"] == self._preview_wanted:
            return  # shown, or on its way (the list was redrawn around it)
        if self.previews.path_for(record) is None or record is None:
            self._want_preview(None)
            if self.view is not None:
                self.view.show_preview(None, "")
            return
        self._want_preview(record)
        path = self.previews.want(record, self._preview_done)  # the latest selection first
        if path is not None:
            self._show_preview(record, path)
        elif self.view is not None:
            self.view.show_preview(None, self.tr("files.preview_loading"))

    def _want_preview(self, record: Optional[Record]) -> None:
        """One preview at a time: the one wanted before is no longer (its download stops
        unless the chat wants the picture too)."""
        old = self.files.get(self._preview_wanted) or self._removed.get(self._preview_wanted) \
            if self._preview_wanted is not None else None
        if old is not None and (record is None or old["sha256"] != record["sha256"]):
            self.previews.unwant(old["sha256"], self._preview_done)
        self._preview_wanted = record["file_id"] if record is not None else None

    def reveal(self, file_id: int) -> None:
        """Select this file in the window (a picture clicked in the chat): now when the list
        has it, else once the fresh list the window asked for comes."""
        if file_id in self.files and self.view is not None:
            self._reveal = None
            self.view.select_file(file_id)
        else:
            self._reveal = file_id

    def _show_preview(self, record: Record, path: str) -> None:
        if self.view is not None:
            self.view.show_preview(path, self.tr("files.preview_caption", name=record["name"],
                                                 size=human_size(record["size"])))

    def _preview_done(self, record: Record, path: Optional[str]) -> None:
        if record.get("file_id") != self._preview_wanted or self.view is None:
            return
        if path is not None:
            self._show_preview(record, path)
        else:
            self.view.show_preview(None, self.tr("files.preview_failed"))

    # -- the tick -------------------------------------------------------------------------

    def tick(self, budget_s: float = 0.0) -> None:
        """Move the transfers along for up to budget_s; a finished upload joins the list (the
        chat's file_added says so too, but the chat connection may be down); a finished
        download says where it went."""
        for transfer in self.queue.step(budget_s):
            if transfer.kind == "up" and transfer.state == "done" and transfer.record:
                self.on_file_added({"file": transfer.record})
            elif isinstance(transfer, Download) and (transfer.state == "done" or
                                                     transfer.id in self._batches):
                self._downloaded(transfer)
        if self._own_previews:
            self.previews.step()

    def _downloaded(self, download: Download) -> None:
        """A download finished: say where it went; for several asked for together (a
        folder), once the last of them has finished, how many arrived."""
        target = self._targets.get(download.id) or os.path.dirname(download.dest)
        batch = self._batches.pop(download.id, None)
        if batch is not None:
            self._batch_finished(batch, download, target)
            return
        if self.view is None:
            return
        name = os.path.basename(download.dest)
        key = "files.downloaded" if name == download.name.split("/")[-1] else \
            "files.downloaded_as"
        self.view.show_downloaded(self.tr(key, name=download.name, saved=name, folder=target),
                                  target)

    def _batch_finished(self, batch: Batch, download: Download, target: str) -> None:
        batch.waiting.discard(download.id)
        if download.state == "done":
            batch.done += 1
        if not batch.waiting and batch.done and self.view is not None:
            # a failed file's row says why it is missing
            key = "files.downloaded_folder" if batch.label else "files.downloaded_many"
            self.view.show_downloaded(self.tr(key, name=batch.label, n=batch.done,
                                              folder=target), target)

    def redraw(self, now: Optional[float] = None) -> None:
        """Redraw the progress rows, and the list when events changed it (a few times a
        second: the numbers are for people, and a burst of events is one redraw)."""
        if self._dirty:
            self._show()
        if self.view is not None:
            self.view.show_transfers(self.transfer_rows(now), self.queue_summary(),
                                     any(t.finished for t in self.queue.items))

    def queue_summary(self) -> str:
        items = self.queue.items
        if not items:
            return ""
        failed = sum(1 for t in items if t.state in ("failed", "cancelled"))
        done = sum(1 for t in items if t.state == "done")
        return self.tr("files.queue_summary", active=len(items) - done - failed, done=done,
                       failed=failed)

    def shown_transfers(self) -> List[Transfer]:
        """The transfers whose rows are drawn: all of them, or SHOWN_TRANSFERS from a little
        before the first one not finished."""
        items = self.queue.items
        if len(items) <= SHOWN_TRANSFERS:
            return items
        first = next((i for i, t in enumerate(items) if not t.finished), len(items))
        start = max(0, min(first - SHOWN_TRANSFERS // 5, len(items) - SHOWN_TRANSFERS))
        return items[start:start + SHOWN_TRANSFERS]

    def transfer_rows(self, now: Optional[float] = None) -> List[TransferRow]:
        now = time.monotonic() if now is None else now
        rows = []
        for t in self.shown_transfers():
            label = self.tr("transfer.up" if t.kind == "up" else "transfer.down", name=t.name)
            rows.append(TransferRow(t.id, label, self._fraction(t), self._state_text(t, now),
                                    t.cancellable))
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
            if isinstance(t, Upload) and t.error == "too_large" and t.limit_bytes is None:
                limit = (getattr(self.session, "limits", None) or {}).get("max_file_size")
                if isinstance(limit, int):  # the server said so before hello told us
                    t.limit_bytes = limit
            return self.tr("transfer.failed", why=failure_text(self.tr, t))
        if t.state == "waiting" and t.refusal is not None:
            return self.tr("transfer.retrying", why=self.tr(t.refusal.value))
        if t.state == "waiting" and t.retries and t.retry_why:
            why = lost_text(self.tr, t) if t.retry_why == "connection_lost" \
                else why_text(self.tr, t.retry_why)
            return self.tr("transfer.retry", why=why,
                           tries=t.retries, most=MAX_RETRIES)
        if t.state == "done" and isinstance(t, Download) and \
                os.path.basename(t.dest) != t.name.split("/")[-1]:
            return self.tr("transfer.done_as", saved=os.path.basename(t.dest))
        return self.tr("transfer." + t.state)


def why_text(tr: Catalog, why: str) -> str:
    """A Transfer.error in words: one of ours (WHY_KEYS), a server status, or as it is."""
    if why in WHY_KEYS:
        return tr(WHY_KEYS[why])
    return tr.error(why) if tr.has_error(why) else why


def lost_text(tr: Catalog, t: Transfer) -> str:
    """Why a transfer's connection dropped: what the OS said (net/client.py's English, in
    the user's words by ui/neterrors.py), or that it was lost when that is all we know."""
    known = known_network_error(tr, t.lost_reason) if t.lost_reason else None
    return known if known is not None else tr(WHY_KEYS["connection_lost"])


def failure_text(tr: Catalog, t: Transfer) -> str:
    """Why a transfer failed, for people: the server's answer in our words (quota_exceeded,
    a refused connection, ...), else the server's own message, else what went wrong here."""
    reply = t.error_reply
    if isinstance(t, Upload) and t.error == "too_large" and t.limit_bytes is not None:
        return tr("files.too_large", name=t.name.split("/")[-1], size=human_size(t.size),
                  limit=human_size(t.limit_bytes))
    if t.error == "connection_lost":
        return lost_text(tr, t)
    if t.error == NO_FOLDER and isinstance(t, Download):
        return tr("error.local_no_folder", folder=os.path.dirname(t.dest) or ".")
    if t.error in WHY_KEYS:
        return why_text(tr, t.error or "")
    if reply is not None and reply.get("status") == "forbidden" and t.kind == "up":
        return tr("files.upload_admins_only")  # docs/PROTOCOL.md §11: --uploads admins
    if reply is not None and (reply.get("status") in ("rate_limited", "disconnected") or
                              tr.has_error(reply.get("status", ""))):
        return status_text(tr, reply)
    if reply is not None and reply.get("message"):
        return tr("error.generic", why=reply["message"])
    return why_text(tr, t.error or "")
