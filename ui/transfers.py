"""File transfers for the clients: a queue of uploads and downloads, each on its own file
connection, advanced a slice at a time by ``step()`` so a GUI never freezes.

An upload first hashes the local file (a few MiB per step), then asks to upload, then sends
chunks only while its connection's outbox is small. A download writes to ``<dest>.part``
(resumed from its length after a drop), hashes as it goes, and renames only once the SHA-256
matches the server's record. Names from the server are checked with the same rules the server
uses, so a hostile server cannot make us write outside the chosen folder. Tk-free.
"""
from __future__ import annotations

import collections
import errno
import hashlib
import itertools
import math
import os
import time
from typing import (
    Any,
    Callable,
    Collection,
    Deque,
    Dict,
    Iterable,
    List,
    NamedTuple,
    Optional,
    Tuple,
)

from net.client import ClientConnection
from net.rules import check_file_name
from ui.session import REFUSED_RETRY_S, Refusal, refusal_of, retry_after_s

Reply = Dict[str, Any]
# opener(on_auth) -> a new authenticated file connection; on_auth gets the auth reply
Opener = Callable[[Optional[Callable[[Reply], None]]], ClientConnection]

# How much of a file one step hashes, and how much of a download one step reads (then writes
# and hashes): well under 1 ms here, a few ms on an old lab PC without SHA instructions. The
# queue takes steps while the GUI tick's budget lasts, so a small step costs no speed, and a
# tick overruns its budget by one step at most (bench/gui_tick.py: a 1 GiB upload and
# download). Smaller download steps were tried: 256 KiB made a 1 GiB download 4x slower
# (16.8 s; why was not pinned down: the socket seemed to hold less per tick). Asking the
# kernel to write back early (posix_fadvise DONTNEED behind the writes) was measured and
# left out: the call itself waits when the disk's queue is full (183 ms once), the very
# stall it was meant to avoid.
HASH_SLICE_BYTES = 1024 * 1024
DOWNLOAD_STEP_BYTES = 1024 * 1024
# Chunk size for uploads; the server accepts up to 1 MiB per frame.
UPLOAD_CHUNK_BYTES = 256 * 1024
# Keep at most this much unsent on an upload's connection: enough to fill the pipe, small
# enough that cancelling is instant and memory stays flat.
UPLOAD_WINDOW_BYTES = 2 * 1024 * 1024
# Transfers that run at once; the rest wait in the queue.
MAX_PARALLEL = 2
# A transfer whose connection drops is retried this many times (resuming where it was).
MAX_RETRIES = 5
RETRY_DELAY_S = 2.0
# Speed (and so the time left) is measured over the last few seconds, sampled this often:
# long enough to be steady, short enough to follow a change, and it forgets the first burst
# that only filled the socket buffers.
SPEED_WINDOW_S = 5.0
SPEED_SAMPLE_S = 0.25
# Less time than this since the speed was first measured gives no estimate yet.
SPEED_MIN_S = 0.2
# Answers that say the same whatever we do (docs/PROTOCOL.md §7): a connection that ends
# with one of them as its last word is not tried again.
DEFINITIVE = frozenset(("bad_request", "bad_frame", "too_large", "quota_exceeded",
                        "forbidden", "not_found", "storage_full", "unauthorized", "banned",
                        "checksum_mismatch"))
# Why a transfer failed on this computer (Transfer.error), for the catalog's error.<code>.
LOCAL_ERRORS = {errno.ENOENT: "local_missing", errno.EACCES: "local_denied",
                errno.EPERM: "local_denied", errno.ENOSPC: "local_full",
                errno.EISDIR: "local_denied"}


def human_size(n: float) -> str:
    """1536 -> '1.5 KB': sizes as people read them (binary multiples, as file managers do)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024
    return "%d B" % n


def safe_local_path(root: str, name: str) -> Optional[str]:
    """Where a shared file called `name` goes under `root`, or None when the name is unsafe."""
    if check_file_name(name):
        return None
    path = os.path.normpath(os.path.join(root, *name.split("/")))
    root_abs = os.path.abspath(root)
    if os.path.commonpath([root_abs, os.path.abspath(path)]) != root_abs:
        return None
    return path


# A download's folder could not be made (error.local_no_folder in ui/i18n.py).
NO_FOLDER = "local_no_folder"


def local_error(exc: OSError) -> str:
    """The code (error.<code> in ui/i18n.py) of what went wrong with a local file."""
    return LOCAL_ERRORS.get(exc.errno or 0, "local_error")


def available_path(path: str, taken: Collection[str] = (), skip_parts: bool = False) -> str:
    """path, or else 'name (1).ext', 'name (2).ext', ...: the first that is no file here and
    not in taken (another download's). A download never overwrites a file. skip_parts: a name
    whose '.part' exists belongs to a download under way, so it is not free either."""
    root, ext = os.path.splitext(path)
    if root.lower().endswith(".tar"):  # 'data (1).tar.gz', not 'data.tar (1).gz'
        root, ext = root[:-4], root[-4:] + ext
    candidate, n = path, 0
    while os.path.lexists(candidate) or candidate in taken or \
            (skip_parts and os.path.lexists(candidate + ".part")):
        n += 1
        candidate = "%s (%d)%s" % (root, n, ext)
    return candidate


def folder_entries(folder: str) -> List[Tuple[str, str]]:
    """(local path, shared name) for every file under folder; names keep the relative paths
    under the folder's own name, '/'-separated, as docs/PROTOCOL.md §6 asks."""
    base = os.path.basename(os.path.normpath(folder))
    entries = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder).replace(os.sep, "/")
            entries.append((path, base + "/" + rel))
    return entries


class Folder(NamedTuple):
    """A shared folder: the files one owner shared under one name. It is its owner's alone:
    another user's files under the same name are another folder, so nobody can add a file
    to, or shadow one in, someone else's folder."""
    owner: str
    name: str  # a folder path without the trailing '/': 'hw', or 'hw/week1' inside it


def folder_records(records: Iterable[Dict[str, Any]], folder: Folder) -> List[Dict[str, Any]]:
    """The shared files in this folder and its subfolders."""
    prefix = folder.name.strip("/") + "/"
    return [r for r in records if r["owner"] == folder.owner and r["name"].startswith(prefix)]


# A transfer's states, in the order they usually come (the last three are final).
STATES = ("waiting", "hashing", "sending", "verifying", "done", "failed", "cancelled")
_transfer_ids = itertools.count(1)


class Transfer:
    """Common progress bookkeeping; state is one of STATES; id names it for its whole life
    (a position in the queue changes when finished transfers are cleared)."""

    kind = ""

    def __init__(self, name: str, size: int) -> None:
        self.id = next(_transfer_ids)
        self.name = name
        self.size = size
        self.done_bytes = 0
        self.hashed_bytes = 0
        self.state = "waiting"
        self.error: Optional[str] = None  # why it failed: a status code or a sentence
        self.error_reply: Optional[Reply] = None  # the server's reply that made it fail
        # While waiting to retry: the server refused the connection (docs/PROTOCOL.md §10).
        self.refusal: Optional[Refusal] = None
        self._refusal_reply: Optional[Reply] = None
        self.record: Optional[Dict[str, Any]] = None
        self.conn: Optional[ClientConnection] = None
        self.retries = 0
        self.retry_at = 0.0
        self.retry_why: Optional[str] = None  # why the last attempt ended, while waiting
        # The connection's own reason when it dropped (net/client.py's English sentence,
        # "connection lost: [Errno 104] ..."), put in the user's words by ui/neterrors.py.
        self.lost_reason: Optional[str] = None
        # (when, done_bytes) a few times a second while sending: the speed's window.
        self._samples: Deque[Tuple[float, int]] = collections.deque(
            maxlen=int(SPEED_WINDOW_S / SPEED_SAMPLE_S) + 1)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    @property
    def cancellable(self) -> bool:
        return not self.finished

    def note_progress(self, now: float) -> None:
        """Sample the progress for the speed (the queue calls this after every step)."""
        if self.state != "sending":
            self._samples.clear()
        elif not self._samples or now - self._samples[-1][0] >= SPEED_SAMPLE_S:
            self._samples.append((now, self.done_bytes))

    def speed_bps(self, now: float) -> float:
        """Bytes per second over the last SPEED_WINDOW_S; 0 while there is no estimate."""
        if self.state != "sending" or not self._samples:
            return 0.0
        since, done0 = self._samples[0]
        elapsed = now - since
        return max(0.0, self.done_bytes - done0) / elapsed if elapsed > SPEED_MIN_S else 0.0

    def eta_s(self, now: float) -> Optional[float]:
        """Whole seconds left, rounded up: a transfer not done has at least 1 s to go, never
        '0:00 left'."""
        speed = self.speed_bps(now)
        if speed <= 0:
            return None
        return float(max(1, math.ceil((self.size - self.done_bytes) / speed)))

    def cancel(self) -> bool:
        """Stop this transfer; False when it cannot be stopped now (see cancellable)."""
        if not self.cancellable:
            return False
        self.state = "cancelled"
        self._close()
        return True

    def fail(self, why: str, reply: Optional[Reply] = None) -> None:
        """Give up on this transfer: why is a status code or a sentence; reply, when the
        server said no, is its answer (with its message and retry_after)."""
        self.state = "failed"
        self.error = why
        self.error_reply = reply
        self._close()

    def _open(self, opener: Opener) -> ClientConnection:
        """A new connection for the next attempt; its auth reply may be a refusal."""
        self.refusal = self._refusal_reply = None
        self.conn = opener(self._authed)
        return self.conn

    def _authed(self, reply: Reply) -> None:
        status = reply.get("status")
        refusal = refusal_of(reply)
        if refusal is not None:  # the connection closes; _lost() waits longer than usual
            self.refusal, self._refusal_reply = refusal, reply
        elif status not in ("ok", "disconnected"):  # the token is gone: retrying is no use
            self.fail(status or "error", reply)

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _lost(self, now: float) -> None:
        """The connection dropped: retry later, resuming, unless out of tries or the server's
        last word was an answer that stays the same (DEFINITIVE). A refused connection waits
        as long as the server asks, and at least REFUSED_RETRY_S."""
        last_word = self.conn.last_word if self.conn is not None else None
        self.lost_reason = self.conn.error if self.conn is not None else None
        self._close()
        if last_word is not None and last_word.get("status") in DEFINITIVE:
            self.fail(last_word["status"], last_word)
            return
        self.retries += 1
        self.retry_why = "connection_lost"
        if self.retries > MAX_RETRIES:
            if self._refusal_reply is not None:
                self.fail("rate_limited", self._refusal_reply)
            else:
                self.fail("connection_lost", last_word)
            return
        self.state = "waiting"
        delay_s = RETRY_DELAY_S
        if self._refusal_reply is not None:
            delay_s = max(REFUSED_RETRY_S, retry_after_s(self._refusal_reply) or 0)
        self.retry_at = now + delay_s


# docs/PROTOCOL.md §11: who may see an upload. A hand-in is its owner's and the teachers'.
SHARED = "all"
HAND_IN = "admins"


class Upload(Transfer):
    kind = "up"

    def __init__(self, path: str, name: str, visibility: str = SHARED) -> None:
        super().__init__(name, os.path.getsize(path))
        self.path = path
        self.visibility = visibility  # SHARED, or HAND_IN
        self.sha256: Optional[str] = None
        self.limit_bytes: Optional[int] = None  # the server's largest file, when over it
        self._hasher = hashlib.sha256()
        self._file: Any = None

    @property
    def cancellable(self) -> bool:
        """Not while verifying: every byte is on its way, so the server may store the file
        whatever we do now, and "cancelled" would be a lie (issue 20, 8). It is short."""
        return not self.finished and self.state != "verifying"

    def refuse_too_large(self, limit_bytes: int) -> None:
        """The file is over the server's max_file_size (hello's limits, docs/PROTOCOL.md
        §4): fail now, without hashing it or asking the server."""
        self.limit_bytes = limit_bytes
        self.fail("too_large")

    def step(self, opener: Opener, now: float) -> None:
        """One slice of work: hash a block, or send what the window allows, or wait for
        the server's verdict."""
        if self.state == "waiting":
            if now < self.retry_at:
                return
            if self.sha256 is None:
                self.state = "hashing"
                self._file = open(self.path, "rb")
            else:
                self._start(opener, now)
        if self.state == "hashing":
            block = self._file.read(HASH_SLICE_BYTES)
            self._hasher.update(block)
            self.hashed_bytes += len(block)
            if not block or self.hashed_bytes >= self.size:
                self._file.close()
                self.sha256 = self._hasher.hexdigest()
                self._start(opener, now)
        elif self.state == "sending":
            self._send(now)
        elif self.state == "verifying":
            self._await_verdict(now)

    def _start(self, opener: Opener, now: float) -> None:
        conn = self._open(opener)
        self.state = "sending"
        self._file = None

        def started(reply: Dict[str, Any]) -> None:
            if self.finished:
                return
            if reply.get("status") != "ok":
                if reply.get("status") == "disconnected":
                    return  # poll() sees the closed connection and retries
                self.fail(reply.get("status", "error"), reply)  # quota_exceeded, too_large
                return
            self._file = open(self.path, "rb")
            self._file.seek(reply["offset"])
            self.done_bytes = reply["offset"]
            self._samples.clear()  # the speed counts from here
        # "visibility" only for a hand-in: a shared upload is the same request as before §11.
        extra = {"visibility": self.visibility} if self.visibility != SHARED else {}
        conn.request("upload", started, name=self.name, size=self.size, sha256=self.sha256,
                     **extra)

    def _send(self, now: float) -> None:
        conn = self.conn
        for item in conn.poll():
            if isinstance(item, dict) and item.get("op") == "upload_done":
                self._done(item)
                return
        if self.finished:  # the server said no (a reply handled inside poll)
            if self._file is not None:
                self._file.close()
                self._file = None
            return
        if conn.closed:
            if self._file is not None:
                self._file.close()
                self._file = None
            self._lost(now)
            return
        if self._file is None:
            return
        while self.done_bytes < self.size and conn.outbox_bytes < UPLOAD_WINDOW_BYTES:
            data = self._file.read(UPLOAD_CHUNK_BYTES)
            if not data:
                self.fail("local_changed")
                return
            conn.send_binary(data)
            self.done_bytes += len(data)
        if self.done_bytes >= self.size:
            self._file.close()
            self._file = None
            self.state = "verifying"
        # This poll sends what was queued; on a fast link the verdict may come back in it.
        for item in conn.poll():
            if isinstance(item, dict) and item.get("op") == "upload_done":
                self._done(item)
                return

    def _await_verdict(self, now: float) -> None:
        for item in self.conn.poll():
            if isinstance(item, dict) and item.get("op") == "upload_done":
                self._done(item)
                return
        if not self.finished and self.conn is not None and self.conn.closed:
            self._lost(now)

    def _done(self, message: Dict[str, Any]) -> None:
        if message.get("status") == "ok":
            self.record = message.get("file")
            self.done_bytes = self.size
            self.state = "done"
            self._close()
        else:
            self.fail(message.get("status", "error"), message)


class Download(Transfer):
    kind = "down"

    def __init__(self, record: Dict[str, Any], dest: str) -> None:
        super().__init__(record["name"], record["size"])
        self.record = record
        self.dest = dest
        self.part = dest + ".part"
        self._hasher = hashlib.sha256()
        self._file: Any = None

    def step(self, opener: Opener, now: float) -> None:
        if self.state == "waiting":
            if now < self.retry_at:
                return
            try:
                os.makedirs(os.path.dirname(self.dest) or ".", exist_ok=True)
                self._file = open(self.part, "ab+")
            except OSError as exc:
                # A folder that cannot be made (a file on its way, /proc, a name the disk
                # refuses): about where to save, not about a file that is "gone".
                if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EINVAL):
                    raise
                self.fail(NO_FOLDER)
                return
            self._file.seek(0)
            self._hasher = hashlib.sha256()
            self.hashed_bytes = 0
            self.state = "hashing"
        if self.state == "hashing":  # what an earlier attempt kept, before resuming
            block = self._file.read(HASH_SLICE_BYTES)
            self._hasher.update(block)
            self.hashed_bytes += len(block)
            if not block:
                self._request(opener)
        elif self.state == "sending":
            self._receive(now)

    def _request(self, opener: Opener) -> None:
        offset = min(self.hashed_bytes, self.size)
        self.done_bytes = offset
        self._samples.clear()
        conn = self._open(opener)
        self.state = "sending"

        def started(reply: Dict[str, Any]) -> None:
            status = reply.get("status")
            if self.finished:
                return
            if status == "ok":
                if offset == self.size:  # an earlier attempt got it all
                    self._verify()
            elif status != "disconnected":
                self.fail(status or "error", reply)
        conn.request("download", started, file_id=self.record["file_id"], offset=offset)

    def _receive(self, now: float) -> None:
        for item in self.conn.poll(DOWNLOAD_STEP_BYTES):
            if isinstance(item, bytes) and self.state == "sending":
                self._file.write(item)
                self._hasher.update(item)
                self.done_bytes += len(item)
                if self.done_bytes >= self.size:
                    self._verify()
                    return
        if self.state == "sending" and self.conn is not None and self.conn.closed:
            self._file.close()
            self._lost(now)

    def _verify(self) -> None:
        self._file.close()
        self._close()
        if self._hasher.hexdigest() != self.record["sha256"]:
            os.unlink(self.part)  # a damaged copy is worth nothing; next try starts over
            self.fail("checksum_mismatch")
            return
        # A file of this name may have come meanwhile: never overwrite it (issue 20, 3).
        if os.path.lexists(self.dest):  # (our own .part is named after it: not a rival)
            self.dest = available_path(self.dest, skip_parts=True)
        os.replace(self.part, self.dest)
        self.state = "done"

    def cancel(self) -> bool:
        if not self.cancellable:
            return False
        if self._file is not None and not self._file.closed:
            self._file.close()
        return super().cancel()

    def fail(self, why: str, reply: Optional[Reply] = None) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()  # the .part stays: a later download of the file resumes it
        super().fail(why, reply)


class TransferQueue:
    """Runs up to `parallel` (MAX_PARALLEL) transfers; ``step()`` does one slice of work for
    each and returns the transfers that finished during it. A step touches the running transfers
    only, however many wait or have finished: a folder of a thousand files costs a GUI tick
    no more than one file does."""

    def __init__(self, opener: Opener,
                 clock: Callable[[], float] = time.monotonic,
                 parallel: int = MAX_PARALLEL) -> None:
        self.opener = opener
        self.clock = clock
        self.parallel = parallel
        self.items: List[Transfer] = []  # every transfer in the order added, until cleared
        self._unfinished: List[Transfer] = []  # the same order; finished ones pruned in step

    def add(self, transfer: Transfer) -> Transfer:
        self.items.append(transfer)
        if not transfer.finished:  # an upload refused before it started is finished
            self._unfinished.append(transfer)
        return transfer

    def active(self) -> List[Transfer]:
        return [t for t in self._unfinished if not t.finished]

    @property
    def busy(self) -> bool:
        """Some transfer is not finished (the GUI ticks more often meanwhile)."""
        return any(not t.finished for t in self._unfinished)

    def find(self, transfer_id: int) -> Optional[Transfer]:
        for transfer in self.items:
            if transfer.id == transfer_id:
                return transfer
        return None

    def clear_finished(self) -> int:
        """Forget the finished transfers (done, failed, cancelled); returns how many."""
        kept = [t for t in self.items if not t.finished]
        cleared = len(self.items) - len(kept)
        self.items = kept
        return cleared

    def step(self, budget_s: float = 0.0) -> List[Transfer]:
        """Advance every running transfer by a slice; with a budget, keep going while there is
        progress and time (a GUI tick gives ~8 ms: fast transfers, no visible stutter).
        Returns the transfers that finished (done, failed) in this call, oldest first."""
        deadline = time.perf_counter() + budget_s
        finished: List[Transfer] = []
        while True:
            self._unfinished = [t for t in self._unfinished if not t.finished]
            running = self._unfinished[:self.parallel]
            before = [(t.state, t.hashed_bytes, t.done_bytes) for t in running]
            finished += self._step_once(running)
            after = [(t.state, t.hashed_bytes, t.done_bytes) for t in running]
            if before == after or time.perf_counter() >= deadline:
                return finished

    def _step_once(self, running: List[Transfer]) -> List[Transfer]:
        """The first `parallel` unfinished transfers run (one waiting to retry keeps its
        place); the rest wait their turn."""
        now = self.clock()
        finished = []
        for transfer in running:
            if transfer.finished:  # cancelled since
                continue
            try:
                transfer.step(self.opener, now)
            except OSError as exc:  # the local disk: unreadable source, full target, ...
                transfer.fail(local_error(exc))
            transfer.note_progress(now)
            if transfer.finished:
                finished.append(transfer)
        return finished
