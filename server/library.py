"""The blocking half of the file service: the shared files' rows and contents together.

Every method here runs on a worker (the disk lane) and blocks on the database or the disk;
the file service (server/files.py) calls them through ``peer.call`` and answers on the loop.
Statuses come back as strings the service can reply with directly.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any, BinaryIO, Dict, FrozenSet, List, Optional, Set, Tuple

from db.store import FileRecord
from net.messages import file_record
from server.storage import FileStorage, PartialBusy, is_disk_full

log = logging.getLogger(__name__)

# docs/PROTOCOL.md §6: a user has at most this many unfinished uploads; a new one beyond it
# discards that user's oldest, so abandoned uploads cannot pile up.
MAX_UNFINISHED_UPLOADS = 8
# Partial uploads nobody resumed for this long are deleted (their space reclaimed).
PARTIAL_MAX_AGE_S = 24 * 3600


def public(record: FileRecord) -> Dict[str, Any]:
    return file_record(record.id, record.name, record.owner, record.size, record.sha256,
                       record.type, record.uploaded_at, record.visibility)


def may_see(record: FileRecord, user_id: int, is_admin: bool) -> bool:
    """A hand-in is its owner's and the admins' only (docs/PROTOCOL.md §11)."""
    return record.visibility == "all" or is_admin or record.owner_id == user_id


class Opened:
    """An upload ready to receive: its row, the open partial file, the SHA-256 of what it
    holds, and how many bytes it holds."""

    __slots__ = ("record", "file", "hasher", "kept")

    def __init__(self, record: FileRecord, f: BinaryIO, hasher: Any, kept: int) -> None:
        self.record = record
        self.file = f
        self.hasher = hasher
        self.kept = kept


class Library:
    def __init__(self, store: Any, storage: FileStorage, quota_bytes: int) -> None:
        self.store = store
        self.storage = storage
        self.quota_bytes = quota_bytes  # 0 = no quota
        # Partial uploads a connection is feeding (or about to): taken and checked under the
        # lock in one step, so two resumes of one partial can never both attach.
        self._lock = threading.Lock()
        self._claimed: Set[str] = set()

    def unclaim(self, storage_key: str) -> None:
        """Any thread: the upload of that partial ended or was parked."""
        with self._lock:
            self._claimed.discard(storage_key)

    # -- uploads (disk lane) --------------------------------------------------------------

    def open_upload(self, owner_id: int, name: str, size: int, sha256: str, type_: str,
                    hashed: Dict[str, Tuple[Any, int]], visibility: str = "all"
                    ) -> Tuple[str, Optional[Opened]]:
        """Disk lane: resume this user's unfinished upload of the same file, or start one.
        ("ok", Opened) with its partial claimed, or a status: busy (another connection is
        feeding that partial), quota_exceeded, storage_full. ``hashed`` maps a partial's
        storage key to the SHA-256 state of its bytes when the loop still has it, so a
        resume hashes nothing again."""
        with self._lock:
            status, opened = self._open_upload(owner_id, name, size, sha256, type_, hashed,
                                               visibility)
            if opened is not None:
                self._claimed.add(opened.record.storage_key)
            return status, opened

    def _open_upload(self, owner_id: int, name: str, size: int, sha256: str, type_: str,
                     hashed: Dict[str, Tuple[Any, int]], visibility: str
                     ) -> Tuple[str, Optional[Opened]]:
        busy_keys = self._claimed
        for record in self.store.find_partials(owner_id, name, size, sha256, visibility):
            if record.storage_key in busy_keys:
                return "busy", None
            known = hashed.get(record.storage_key)
            try:
                resumed = self.storage.resume_partial(record.storage_key, size, known)
            except PartialBusy:  # a connection on another server process feeds it
                return "busy", None
            if resumed is not None:
                f, hasher, kept = resumed
                return "ok", Opened(record, f, hasher, kept)
            self.store.delete_file(record.id)  # its data is gone: start afresh
        partials = self.store.partials_of(owner_id)
        held = self.store.bytes_held(owner_id)
        # Making room: the oldest unfinished uploads go first, down to 7 (the new one is the
        # 8th). One that is being fed right now is skipped.
        excess = len(partials) - (MAX_UNFINISHED_UPLOADS - 1)
        for record in partials:
            if excess <= 0:
                break
            if record.storage_key in busy_keys:
                continue
            self._forget(record)
            held -= record.size
            excess -= 1
            log.info("discarded the unfinished upload %d %r (more than %d)", record.id,
                     record.name, MAX_UNFINISHED_UPLOADS)
        if self.quota_bytes and held + size > self.quota_bytes:
            return "quota_exceeded", None
        if not self.storage.has_room_for(size):
            return "storage_full", None
        key = self.storage.new_key()
        file_id = self.store.create_file(name, owner_id, size, sha256, type_, time.time(), key,
                                         visibility)
        f = self.storage.start_partial(key)
        return "ok", Opened(self.store.file(file_id), f, hashlib.sha256(), 0)

    def complete(self, record: FileRecord, f: BinaryIO, digest: str,
                 failed: Optional[str]) -> Tuple[str, Optional[Dict[str, Any]]]:
        """Disk lane: verify, move into place, mark complete. (status, file record or None).
        A failed or mismatched upload is discarded."""
        if failed is not None:
            self._forget(record, f)
            return failed, None
        if digest != record.sha256:
            self._forget(record, f)
            return "checksum_mismatch", None
        try:
            self.storage.finish(f, record.storage_key)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            self._forget(record, f)
            return "storage_full", None
        final = self.store.complete_file(record.id, time.time())
        return "ok", public(final)

    def close_partial(self, f: BinaryIO) -> None:
        """Disk lane: the connection went away mid-upload; the partial stays for a resume."""
        f.close()

    def _forget(self, record: FileRecord, f: Optional[BinaryIO] = None) -> None:
        self.storage.discard_partial(record.storage_key, f)
        self.store.delete_file(record.id)

    def expire(self, now: float, active_keys: FrozenSet[str]) -> None:
        """Disk lane: delete partial uploads nobody resumed for PARTIAL_MAX_AGE_S."""
        self.storage.recover(self.store, now, PARTIAL_MAX_AGE_S, active_keys)

    # -- listing, downloads, deleting (disk lane) -----------------------------------------

    def list_page(self, before: Optional[int], limit: int, user_id: int, is_admin: bool
                  ) -> Tuple[List[Dict[str, Any]], bool]:
        """Disk lane: a page of the file records this user may see, newest first, and
        whether older ones remain."""
        records, more = self.store.list_files(before, limit, None if is_admin else user_id)
        return [public(r) for r in records], more

    def open_download(self, file_id: int, offset: int, user_id: int, is_admin: bool
                      ) -> Tuple[str, Optional[Dict[str, Any]], Optional[BinaryIO], int]:
        """Disk lane: (status, file record, open file at offset, bytes to send). A hand-in
        the user may not see is not_found, never forbidden: its existence stays hidden."""
        record = self.store.file(file_id)
        if (record is None or record.state != "complete"
                or not may_see(record, user_id, is_admin)):
            return "not_found", None, None, 0
        if offset > record.size:
            return "bad_request", None, None, 0
        f = self.storage.open_for_download(record.storage_key, offset)
        if f is None:
            return "not_found", None, None, 0
        return "ok", public(record), f, record.size - offset

    @staticmethod
    def read_chunk(f: BinaryIO, size: int) -> bytes:
        """Disk lane: the next chunk of a download."""
        return f.read(size)

    @staticmethod
    def close_file(f: BinaryIO) -> None:
        """Disk lane."""
        f.close()

    def delete(self, user_id: int, file_id: int, is_admin: bool
               ) -> Tuple[str, Optional[FileRecord]]:
        """Disk lane: the owner or an admin may delete. (ok, record), not_found or
        forbidden."""
        record = self.store.file(file_id)
        if (record is None or record.state != "complete"
                or not may_see(record, user_id, is_admin)):
            return "not_found", None
        if record.owner_id != user_id and not is_admin:
            return "forbidden", None
        if not self.store.delete_file(file_id):
            return "not_found", None  # someone else deleted it a moment ago
        self.storage.delete(record.storage_key)
        if record.owner_id != user_id:
            self.store.add_audit(time.time(), user_id, "delete_file", record.owner_id,
                                 "file %d %s" % (record.id, record.name))
        return "ok", record
