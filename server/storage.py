"""File contents on the server's disk: partial uploads, verified files, and crash recovery.

Names on disk are random keys chosen by the server; a client's ``name`` is only ever a
database value, so no request can reach outside the storage folder. An upload grows in
``partial/<key>``; once its SHA-256 matches it is fsynced and renamed to ``<key>`` (atomic on
one file system), and only then marked complete in the database. After a crash, ``recover``
settles every combination of file and row that a crash can leave behind.

Everything here blocks on the disk: run it on the worker bridge's disk lane.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import secrets
import shutil
from typing import Any, BinaryIO, Optional, Tuple

log = logging.getLogger(__name__)

# Read size when re-hashing a partial file to resume it.
REHASH_CHUNK_BYTES = 1024 * 1024
# Keep this much disk free beyond an upload's size, so the database and logs can still write.
DISK_RESERVE_BYTES = 16 * 1024 * 1024
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _DISK_FULL


# docs/PROTOCOL.md §10: stored files are readable by the server's user only; other accounts
# on a lab machine must not read private uploads.
FILE_MODE = 0o600
FOLDER_MODE = 0o700


try:  # POSIX: a partial upload being fed is locked, so that no other process feeds it too
    import fcntl
except ImportError:  # Windows: one server process per storage folder
    fcntl = None  # type: ignore[assignment]


class PartialBusy(Exception):
    """Another process is feeding this partial upload right now (docs/PROTOCOL.md §13)."""


def lock_partial(f: BinaryIO) -> None:
    """Take the partial's lock for as long as ``f`` is open, or raise PartialBusy. The lock
    goes with the process: one killed with -9 leaves nothing locked."""
    if fcntl is None:
        return
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise PartialBusy() from None


def partial_in_use(path: str) -> bool:
    """Whether some process holds the partial's lock (is feeding it now)."""
    if fcntl is None:
        return False
    try:
        with open(path, "rb") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


class FileStorage:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.partial_dir = os.path.join(self.root, "partial")
        os.makedirs(self.partial_dir, mode=FOLDER_MODE, exist_ok=True)

    def make_private(self) -> None:
        """At startup: folders 0700 and files 0600, also for data an older version made."""
        for folder in (self.root, self.partial_dir):
            os.chmod(folder, FOLDER_MODE)
            for entry in os.scandir(folder):
                if entry.is_file(follow_symlinks=False):
                    os.chmod(entry.path, FILE_MODE)

    @staticmethod
    def new_key() -> str:
        return secrets.token_hex(16)

    def final_path(self, key: str) -> str:
        return os.path.join(self.root, key)

    def partial_path(self, key: str) -> str:
        return os.path.join(self.partial_dir, key)

    def has_room_for(self, size: int) -> bool:
        return shutil.disk_usage(self.root).free >= size + DISK_RESERVE_BYTES

    def start_partial(self, key: str) -> BinaryIO:
        fd = os.open(self.partial_path(key), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        f = os.fdopen(fd, "wb")
        lock_partial(f)
        return f

    def resume_partial(self, key: str, size: int, known: Optional[Tuple[Any, int]] = None
                       ) -> Optional[Tuple[BinaryIO, Any, int]]:
        """Open a partial upload to continue it: (file, sha256 of what is kept, bytes kept),
        or None when its data is gone. ``known``: (sha256 state, bytes) of the partial as
        this process last wrote it; when the file still has exactly those bytes, nothing is
        read again (docs/PROTOCOL.md §6: a resume costs only the bytes not yet received)."""
        path = self.partial_path(key)
        try:
            f = open(path, "r+b")
        except FileNotFoundError:
            return None
        lock_partial(f)  # raises PartialBusy: another process is feeding it
        if known is not None:
            hasher, kept = known
            if os.fstat(f.fileno()).st_size == kept <= size:
                f.seek(kept)
                return f, hasher.copy(), kept
        hasher = hashlib.sha256()
        kept = 0
        while kept < size:
            block = f.read(min(REHASH_CHUNK_BYTES, size - kept))
            if not block:
                break
            hasher.update(block)
            kept += len(block)
        f.truncate(kept)  # anything past `size` cannot be part of this file
        f.seek(kept)
        return f, hasher, kept

    @staticmethod
    def write_chunks(f: BinaryIO, chunks: list) -> None:
        for chunk in chunks:
            f.write(chunk)
        # Into the OS now, not at close: a resume on another connection may open the file
        # before this one's close has run, and must see every byte the hash has seen.
        f.flush()

    @staticmethod
    def hash_chunks(hasher: Any, chunks: list) -> None:
        for chunk in chunks:
            hasher.update(chunk)

    def finish(self, f: BinaryIO, key: str) -> None:
        """Make the verified partial durable and visible under its final name."""
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.replace(self.partial_path(key), self.final_path(key))

    def discard_partial(self, key: str, f: Optional[BinaryIO] = None) -> None:
        if f is not None:
            f.close()
        self._unlink(self.partial_path(key))

    def delete(self, key: str) -> None:
        self._unlink(self.final_path(key))

    def open_for_download(self, key: str, offset: int) -> Optional[BinaryIO]:
        try:
            f = open(self.final_path(key), "rb")
        except FileNotFoundError:
            return None
        f.seek(offset)
        return f

    @staticmethod
    def _unlink(path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def recover(self, store: Any, now: float, partial_max_age_s: float,
                active_keys: frozenset = frozenset(), at_startup: bool = False) -> None:
        """Settle what a crash may have left, and expire old partial uploads. Orphan files
        are looked for only at startup, when no upload can be creating one meanwhile."""
        for record in store.all_partials():
            if record.storage_key in active_keys:
                continue
            if partial_in_use(self.partial_path(record.storage_key)):
                continue  # another server process is feeding it (docs/PROTOCOL.md §13)
            final = self.final_path(record.storage_key)
            if os.path.exists(final) and os.path.getsize(final) == record.size:
                # Crashed between the rename and the database update: the hash was already
                # verified before the rename, so the upload is complete.
                store.complete_file(record.id, record.uploaded_at)
                log.info("recovered finished upload %d %r", record.id, record.name)
            elif not os.path.exists(self.partial_path(record.storage_key)):
                store.delete_file(record.id)
            elif record.uploaded_at < now - partial_max_age_s:
                store.delete_file(record.id)
                self.discard_partial(record.storage_key)
                log.info("expired partial upload %d %r", record.id, record.name)
        if not at_startup:
            return
        known = set(store.storage_keys())
        for folder in (self.root, self.partial_dir):
            for entry in os.listdir(folder):
                path = os.path.join(folder, entry)
                if os.path.isfile(path) and entry not in known:
                    # Content with no row: a crash after writing but before the row existed,
                    # or before a delete finished. Nobody can reach it; reclaim the space.
                    self._unlink(path)
                    log.info("removed orphan file %s", path)
