"""One upload in progress: received chunks are written to the partial file (disk lane) and
hashed (digest lane) at the same time, each pipeline with at most one job in flight, while
the loop goes on receiving. When either falls behind by UPLOAD_BACKLOG_BYTES the peer is held
(no more frames taken; reading stops after one frame of read-ahead), so memory stays flat
however fast the client sends. When every byte is written and hashed, the library verifies
the SHA-256 and moves the file into place.

Runs on the loop thread; the jobs it submits run on workers.
"""
from __future__ import annotations

import enum
import logging
from typing import Any, Callable, List, Optional

from net.messages import FramingError
from net.service import LoopAPI, PeerAPI
from server.library import Library, Opened
from server.storage import FileStorage, is_disk_full

log = logging.getLogger(__name__)

# Upload data received but not yet on disk, per upload, before we stop taking more.
UPLOAD_BACKLOG_BYTES = 4 * 1024 * 1024
# Received chunks this small on average are joined before a worker writes and hashes them.
SMALL_CHUNK_BYTES = 64 * 1024


class Phase(enum.Enum):
    RECEIVING = "receiving"
    FINISHING = "finishing"  # every byte is in: verifying and moving into place
    DETACHED = "detached"  # the connection went away: finish the jobs, keep the partial
    ENDED = "ended"


class Upload:
    """Methods for the file service:
        receive(data)        a B frame of this upload (FramingError past its size)
        start()              after the ok reply: a file already complete finishes at once
        detach()             the connection closed
    Callbacks it is built with:
        finished(upload, status, record)     on the loop, once, unless detached
        parked(upload, hasher or None, kept) the partial is closed and kept for a resume;
                                             with the SHA-256 state of exactly its bytes
    """

    def __init__(self, peer: PeerAPI, loop: LoopAPI, library: Library, storage: FileStorage,
                 request: dict, opened: Opened,
                 finished: Callable[["Upload", str, Optional[dict]], None],
                 parked: Callable[["Upload", Any, int], None]) -> None:
        self.peer = peer
        self.loop = loop
        self.library = library
        self.storage = storage
        self.request = request
        self.record = opened.record
        self.file = opened.file
        self.hasher = opened.hasher
        self.received = opened.kept  # bytes received so far, including those kept before
        self._finished = finished
        self._parked = parked
        self.phase = Phase.RECEIVING
        self.failed: Optional[str] = None  # a status once the upload cannot succeed
        self._to_write: List[bytes] = []  # received, not yet handed to a write job
        self._to_hash: List[bytes] = []  # received, not yet handed to a hash job
        self._unwritten = 0  # received, not yet on disk
        self._unhashed = 0  # received, not yet hashed
        self._writing = False
        self._hashing = False
        self._held = False

    @property
    def storage_key(self) -> str:
        return self.record.storage_key

    @property
    def _busy(self) -> bool:
        return self._writing or self._hashing

    def start(self) -> None:
        self._pump()

    def receive(self, data: bytes) -> None:
        if self.phase is not Phase.RECEIVING or self.received + len(data) > self.record.size:
            raise FramingError("more bytes than the upload's size")
        self.received += len(data)
        if self.failed is None:
            self._to_write.append(data)
            self._to_hash.append(data)
            self._unwritten += len(data)
            self._unhashed += len(data)
            if max(self._unwritten, self._unhashed) > UPLOAD_BACKLOG_BYTES and not self._held:
                self._held = True
                self.peer.hold()
        self._pump()

    def detach(self) -> None:
        if self.phase is Phase.RECEIVING:
            self.phase = Phase.DETACHED
            self._pump()
        # FINISHING: the library has the file; the result is simply not sent.

    # -- the two pipelines ----------------------------------------------------------------

    def _pump(self) -> None:
        if self.phase in (Phase.FINISHING, Phase.ENDED):
            return
        if not self._writing and self._to_write:
            chunks, self._to_write = _joined(self._to_write), []
            self._writing = True
            self.loop.submit("disk", self.storage.write_chunks, (self.file, chunks),
                             self._callback("write", chunks))
        if not self._hashing and self._to_hash:
            chunks, self._to_hash = _joined(self._to_hash), []
            self._hashing = True
            self.loop.submit("digest", self.storage.hash_chunks, (self.hasher, chunks),
                             self._callback("hash", chunks))
        if self._busy or self._to_write or self._to_hash:
            return
        if self.phase is Phase.DETACHED:
            self._park()
        elif self.received == self.record.size:
            self._finish()

    def _callback(self, stage: str, chunks: List[bytes]) -> Callable[..., None]:
        def done(result: Any, error: Optional[BaseException]) -> None:
            self.loop.guard(self.peer, self._stage_done, stage, chunks, error)
        return done

    def _stage_done(self, stage: str, chunks: List[bytes],
                    error: Optional[BaseException]) -> None:
        size = sum(map(len, chunks))
        if stage == "write":
            self._writing = False
            self._unwritten -= size
        else:
            self._hashing = False
            self._unhashed -= size
        if error is not None and self.failed is None:
            if is_disk_full(error):
                log.warning("disk full while receiving %r", self.record.name)
                self.failed = "storage_full"
            else:
                log.error("writing upload %r failed", self.record.name,
                          exc_info=(type(error), error, error.__traceback__))
                self.failed = "internal_error"
            # The rest is received and dropped; nothing more is written or hashed.
            self._unwritten -= sum(map(len, self._to_write))
            self._unhashed -= sum(map(len, self._to_hash))
            self._to_write, self._to_hash = [], []
        if self._held and max(self._unwritten, self._unhashed) <= UPLOAD_BACKLOG_BYTES // 2:
            self._held = False
            if self.phase is Phase.RECEIVING:
                self.peer.release()
        self._pump()

    # -- the end --------------------------------------------------------------------------

    def _park(self) -> None:
        """Every received byte is written and hashed (or the upload failed): the partial
        keeps exactly what the hasher saw, so a resume can go on from its state."""
        self.phase = Phase.ENDED
        hasher = self.hasher if self.failed is None else None
        self._parked(self, hasher, self.received)
        self.loop.submit("disk", self.library.close_partial, (self.file,), _log_failure)

    def _finish(self) -> None:
        """Verify and move into place (disk lane). The peer takes no request meanwhile; the
        result is handled even if the connection closes during it (a file that became
        complete is announced either way)."""
        self.phase = Phase.FINISHING
        self.peer.hold()
        self.peer.begin_task()

        def done(result: Any, error: Optional[BaseException]) -> None:
            self.loop.guard(self.peer, self._finished_job, result, error)
        self.loop.submit("disk", self.library.complete, (self.record, self.file,
                         self.hasher.hexdigest(), self.failed), done)

    def _finished_job(self, result: Any, error: Optional[BaseException]) -> None:
        self.phase = Phase.ENDED
        try:
            if error is not None:
                log.error("finishing upload %r failed", self.record.name,
                          exc_info=(type(error), error, error.__traceback__))
                result = ("internal_error", None)
            status, record = result
            self._finished(self, status, record)
        finally:
            self.peer.release()
            self.peer.end_task()


def _joined(chunks: List[bytes]) -> List[bytes]:
    """Small chunks as one: a client may send its upload in frames of one byte, and a worker
    writing or hashing them one by one would spend the GIL the loop needs. Large chunks (the
    usual frames) go as they are: copying them would cost more than it saves."""
    if len(chunks) > 1 and sum(map(len, chunks)) < SMALL_CHUNK_BYTES * len(chunks):
        return [b"".join(chunks)]
    return chunks


def _log_failure(result: Any, error: Optional[BaseException]) -> None:
    if error is not None:
        log.error("closing a partial upload failed: %s", error)
