"""The file service (SPEC §6): auth, list, upload, download, delete, ping.

One transfer at a time per connection. An upload's chunks are written (disk lane) and hashed
(digest lane) at the same time, one job of each in flight per upload, while the loop goes on
receiving; when either falls behind by UPLOAD_BACKLOG_BYTES the peer is held (no more frames
taken, reading stops after one frame of read-ahead), so memory stays flat however fast the
client sends. A
download reads the next chunk only when the peer's outbox has drained below
DOWNLOAD_REFILL_BYTES, so memory stays flat however slow the client reads.
"""
from __future__ import annotations

import hashlib
import logging
import mimetypes
import time
from typing import Any, BinaryIO, Dict, List, Optional, Set

from db.store import FileRecord, User
from net.framing import MAX_CHUNK_BYTES, FramingError
from net.loop import Peer
from net.messages import STATUSES, BadRequest, opt_int, opt_str, req_int, req_str
from net.rules import TYPE_MAX_CHARS, check_file_name, check_sha256
from server.accounts import Accounts
from server.base import BaseService
from server.chat import UNAUTHENTICATED_LIMIT_S
from server.config import ServerConfig
from server.storage import FileStorage, is_disk_full

log = logging.getLogger(__name__)

# Upload data received but not yet on disk, per upload, before we stop taking more.
UPLOAD_BACKLOG_BYTES = 4 * 1024 * 1024
# Refill a download's outbox while less than this is unsent: two chunks in flight keep the
# socket busy without holding more than ~2 MiB per download.
DOWNLOAD_REFILL_BYTES = 1024 * 1024
# Partial uploads nobody resumed for this long are deleted (their space reclaimed).
PARTIAL_MAX_AGE_S = 24 * 3600
EXPIRY_INTERVAL_S = 3600


class Upload:
    """One upload in progress. Received chunks go down two pipelines at once, each with at
    most one job in flight: written to the partial file (disk lane) and hashed (digest
    lane). The peer is held while either pipeline is UPLOAD_BACKLOG_BYTES behind."""

    __slots__ = ("request", "record", "file", "hasher", "received", "to_write", "to_hash",
                 "unwritten", "unhashed", "writing", "hashing", "finishing", "held", "failed",
                 "closed")

    def __init__(self, request: Dict[str, Any], record: FileRecord, f: BinaryIO, hasher: Any,
                 kept: int) -> None:
        self.request = request
        self.record = record
        self.file = f
        self.hasher = hasher
        self.received = kept  # bytes received so far, including those kept from before
        self.to_write: List[bytes] = []  # received, not yet handed to a write job
        self.to_hash: List[bytes] = []  # received, not yet handed to a hash job
        self.unwritten = 0  # received, not yet on disk
        self.unhashed = 0  # received, not yet hashed
        self.writing = False
        self.hashing = False
        self.finishing = False  # verifying and moving into place: no more jobs
        self.held = False
        self.failed: Optional[str] = None  # a status once the upload cannot succeed
        self.closed = False  # the connection went away

    @property
    def busy(self) -> bool:
        return self.writing or self.hashing


class Download:
    __slots__ = ("file", "remaining")

    def __init__(self, f: BinaryIO, remaining: int) -> None:
        self.file = f
        self.remaining = remaining


class FileState:
    __slots__ = ("user_id", "username", "transfer")

    def __init__(self, user: User) -> None:
        self.user_id = user.id
        self.username = user.username
        self.transfer: Any = None


class FileService(BaseService):
    name = "file"

    def __init__(self, config: ServerConfig, accounts: Accounts, storage: FileStorage,
                 chat: Any, sms_name: str) -> None:
        super().__init__(config, sms_name)
        self.accounts = accounts
        self.store = accounts.store
        self.storage = storage
        self.chat = chat  # announces file_added / file_removed to chat connections
        self.active_keys: Set[str] = set()  # partial uploads being written right now
        self.workers: Any = None  # set by the composition root

    # -- the connection's life ------------------------------------------------------------

    def on_request(self, peer: Peer, request: Dict[str, Any]) -> None:
        if peer.state is None and request["op"] not in ("hello", "auth"):
            peer.reply(request, "unauthorized", "the first request on the file service is auth")
            peer.close()
            return
        super().on_request(peer, request)

    def idle_limit_s(self, peer: Peer) -> Optional[float]:
        if peer.state is None:
            return min(UNAUTHENTICATED_LIMIT_S, self.config.idle_timeout_s)
        if peer.state.transfer is not None:
            return None  # a long transfer is not idleness
        return self.config.idle_timeout_s

    def on_close(self, peer: Peer) -> None:
        state = peer.state
        if not isinstance(state, FileState) or state.transfer is None:
            return
        transfer, state.transfer = state.transfer, None
        if isinstance(transfer, Download):
            transfer.file.close()
            return
        transfer.closed = True
        if not transfer.busy and not transfer.finishing:
            self._drop_upload(transfer)
        # else: the jobs in flight finish first; the last one drops it (or _complete has it).

    def _drop_upload(self, upload: Upload) -> None:
        """The connection went away mid-upload: keep the partial for a resume."""
        self.active_keys.discard(upload.record.storage_key)
        self._disk(upload.file.close, then=None)

    def start_expiry(self, loop: Any) -> None:
        def expire() -> None:
            self._disk(self.storage.recover, self.store, time.time(), PARTIAL_MAX_AGE_S,
                       frozenset(self.active_keys), then=None)
            loop.call_later(EXPIRY_INTERVAL_S, expire)
        loop.call_later(EXPIRY_INTERVAL_S, expire)

    def _disk(self, fn: Any, *args: Any, then: Any) -> None:
        """Disk work not tied to a request: errors are logged, results go to then()."""
        def done(result: Any, error: Optional[BaseException]) -> None:
            if error is not None:
                log.error("disk work %s failed", getattr(fn, "__name__", fn),
                          exc_info=(type(error), error, error.__traceback__))
            elif then is not None:
                then(result)
        self.workers.submit("disk", fn, args, done)

    # -- auth, list -----------------------------------------------------------------------

    def op_auth(self, peer: Peer, request: Dict[str, Any]) -> None:
        if peer.state is not None:
            peer.reply(request, "bad_request", "this connection is already authenticated")
            return
        token = req_str(request, "token")

        def verified(user: Optional[User]) -> None:
            if user is None:
                peer.reply(request, "unauthorized", "the token is unknown, expired or logged out")
                peer.close()
                return
            peer.state = FileState(user)
            peer.reply(request, user_id=user.id, username=user.username)

        peer.call(request, "db", self.accounts.user_for_token, token, then=verified,
                  on_error=peer.close)

    def op_list(self, peer: Peer, request: Dict[str, Any]) -> None:
        peer.call(request, "db", self.store.list_files,
                  then=lambda files: peer.reply(request, files=[f.public() for f in files]))

    # -- upload ---------------------------------------------------------------------------

    def op_upload(self, peer: Peer, request: Dict[str, Any]) -> None:
        state: FileState = peer.state
        name = req_str(request, "name")
        size = req_int(request, "size", lo=0)
        sha256 = req_str(request, "sha256").lower()
        type_ = opt_str(request, "type")
        if check_file_name(name):
            raise BadRequest("'name' must be a relative path of 1 to 1024 bytes with no empty, "
                             "'.' or '..' parts, no backslash and no control characters")
        if check_sha256(sha256):
            raise BadRequest("'sha256' must be 64 hexadecimal digits")
        if type_ is not None and len(type_) > TYPE_MAX_CHARS:
            raise BadRequest("'type' is too long")
        if size > self.config.max_file_size:
            peer.reply(request, "too_large", "the largest file this server accepts is %d bytes"
                       % self.config.max_file_size)
            return
        if state.transfer is not None:
            peer.reply(request, "busy")
            return
        type_ = type_ or mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
        busy_keys = frozenset(self.active_keys)

        def opened(result: Any) -> None:
            if result is None:
                peer.reply(request, "storage_full")
                return
            record, f, hasher, kept = result
            if peer.closed:  # gone while we opened it: keep the partial for a resume
                self._disk(f.close, then=None)
                return
            self.active_keys.add(record.storage_key)
            upload = Upload(request, record, f, hasher, kept)
            state.transfer = upload
            peer.reply(request, offset=kept)
            if kept == size:
                self._finish_upload(peer, upload)

        peer.call(request, "disk", self._open_upload, state.user_id, name, size, sha256, type_,
                  busy_keys, then=opened)

    def _open_upload(self, owner_id: int, name: str, size: int, sha256: str, type_: str,
                     busy_keys: frozenset) -> Any:
        """Worker: resume this user's unfinished upload of the same file, or start one.
        (record, file, hasher, bytes kept), or None when the disk has no room."""
        for record in self.store.find_partials(owner_id, name, size, sha256):
            if record.storage_key in busy_keys:
                continue  # being uploaded on another connection right now
            resumed = self.storage.resume_partial(record.storage_key, size)
            if resumed is not None:
                f, hasher, kept = resumed
                return record, f, hasher, kept
        if not self.storage.has_room_for(size):
            return None
        key = self.storage.new_key()
        file_id = self.store.create_file(name, owner_id, size, sha256, type_, time.time(), key)
        f = self.storage.start_partial(key)
        record = self.store.file(file_id)
        return record, f, hashlib.sha256(), 0

    def on_binary(self, peer: Peer, data: bytes) -> None:
        state = peer.state
        upload = state.transfer if isinstance(state, FileState) else None
        if not isinstance(upload, Upload):
            raise FramingError("binary frame outside an upload")
        if upload.received + len(data) > upload.record.size:
            raise FramingError("more bytes than the upload's size")
        upload.received += len(data)
        if upload.failed is None:
            upload.to_write.append(data)
            upload.to_hash.append(data)
            upload.unwritten += len(data)
            upload.unhashed += len(data)
            if max(upload.unwritten, upload.unhashed) > UPLOAD_BACKLOG_BYTES and not upload.held:
                upload.held = True
                peer.hold()
        self._pump(peer, upload)

    def _pump(self, peer: Peer, upload: Upload) -> None:
        if upload.finishing:
            return
        if not upload.writing and upload.to_write:
            chunks, upload.to_write = upload.to_write, []
            upload.writing = True
            self.workers.submit("disk", self.storage.write_chunks, (upload.file, chunks),
                                self._stage_callback(peer, upload, "write", chunks))
        if not upload.hashing and upload.to_hash:
            chunks, upload.to_hash = upload.to_hash, []
            upload.hashing = True
            self.workers.submit("digest", self.storage.hash_chunks, (upload.hasher, chunks),
                                self._stage_callback(peer, upload, "hash", chunks))
        if (not upload.busy and not upload.to_write and not upload.to_hash
                and upload.received == upload.record.size and not upload.closed):
            self._finish_upload(peer, upload)

    def _stage_callback(self, peer: Peer, upload: Upload, stage: str,
                        chunks: List[bytes]) -> Any:
        def done(result: Any, error: Optional[BaseException]) -> None:
            peer.loop.guard(peer, self._stage_done, peer, upload, stage, chunks, error)
        return done

    def _stage_done(self, peer: Peer, upload: Upload, stage: str, chunks: List[bytes],
                    error: Optional[BaseException]) -> None:
        size = sum(map(len, chunks))
        if stage == "write":
            upload.writing = False
            upload.unwritten -= size
        else:
            upload.hashing = False
            upload.unhashed -= size
        if upload.closed:
            if not upload.busy:
                self._drop_upload(upload)
            return
        if error is not None and upload.failed is None:
            if is_disk_full(error):
                log.warning("disk full while receiving %r", upload.record.name)
                upload.failed = "storage_full"
            else:
                log.error("writing upload %r failed", upload.record.name,
                          exc_info=(type(error), error, error.__traceback__))
                upload.failed = "internal_error"
            # The rest is received and dropped; nothing more is written or hashed.
            upload.unwritten -= sum(map(len, upload.to_write))
            upload.unhashed -= sum(map(len, upload.to_hash))
            upload.to_write, upload.to_hash = [], []
        if upload.held and max(upload.unwritten, upload.unhashed) <= UPLOAD_BACKLOG_BYTES // 2:
            upload.held = False
            peer.release()
        self._pump(peer, upload)

    def _finish_upload(self, peer: Peer, upload: Upload) -> None:
        record = upload.record
        state: FileState = peer.state
        upload.finishing = True  # no more jobs; and on_close leaves the file to _complete

        def finished(result: Any) -> None:
            status, final = result
            state.transfer = None
            self.active_keys.discard(record.storage_key)
            done = {"op": "upload_done"}
            if "id" in upload.request:
                done["id"] = upload.request["id"]
            if status != "ok":
                done.update(status=status, message=STATUSES[status])
                peer.send(done)
                return
            done.update(status="ok", file=final.public())
            peer.send(done)
            log.info("%s shared %r (%d bytes)", state.username, final.name, final.size)
            self.chat.broadcast({"op": "file_added", "file": final.public()})

        peer.call(None, "disk", self._complete, upload, then=finished,
                  on_error=lambda: self._send_failure(peer, upload))

    def _send_failure(self, peer: Peer, upload: Upload) -> None:
        peer.state.transfer = None
        self.active_keys.discard(upload.record.storage_key)
        done = {"op": "upload_done", "status": "internal_error",
                "message": "the server could not store the file"}
        if "id" in upload.request:
            done["id"] = upload.request["id"]
        peer.send(done)

    def _complete(self, upload: Upload) -> Any:
        """Worker: verify, move into place, mark complete. (status, record or None)."""
        record = upload.record
        if upload.failed is not None:
            self._forget(upload)
            return upload.failed, None
        if upload.hasher.hexdigest() != record.sha256:
            self._forget(upload)
            return "checksum_mismatch", None
        try:
            self.storage.finish(upload.file, record.storage_key)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            self._forget(upload)
            return "storage_full", None
        return "ok", self.store.complete_file(record.id, time.time())

    def _forget(self, upload: Upload) -> None:
        self.storage.discard_partial(upload.record.storage_key, upload.file)
        self.store.delete_file(upload.record.id)

    # -- download -------------------------------------------------------------------------

    def op_download(self, peer: Peer, request: Dict[str, Any]) -> None:
        state: FileState = peer.state
        file_id = req_int(request, "file_id")
        offset = opt_int(request, "offset", 0, lo=0)
        if state.transfer is not None:
            peer.reply(request, "busy")
            return

        def opened(result: Any) -> None:
            status, record, f = result
            if status != "ok":
                peer.reply(request, status)
                return
            peer.reply(request, file=record.public(), offset=offset)
            remaining = record.size - offset
            if remaining == 0:
                f.close()
                return
            state.transfer = Download(f, remaining)
            peer.on_drain = self._pump_download
            self._pump_download(peer)

        peer.call(request, "disk", self._open_download, file_id, offset, then=opened)

    def _open_download(self, file_id: int, offset: int) -> Any:
        record = self.store.file(file_id)
        if record is None or record.state != "complete":
            return "not_found", None, None
        if offset > record.size:
            return "bad_request", None, None
        f = self.storage.open_for_download(record.storage_key, offset)
        if f is None:
            return "not_found", None, None
        return "ok", record, f

    def _pump_download(self, peer: Peer) -> None:
        download = peer.state.transfer
        if not isinstance(download, Download):
            peer.on_drain = None
            return
        while download.remaining and peer.outbox_bytes < DOWNLOAD_REFILL_BYTES:
            data = download.file.read(min(MAX_CHUNK_BYTES, download.remaining))
            if not data:
                log.error("file %r ended early; closing the download", download.file.name)
                peer.abort()
                return
            download.remaining -= len(data)
            peer.send_binary(data)
        if not download.remaining:
            download.file.close()
            peer.state.transfer = None
            peer.on_drain = None

    # -- delete ---------------------------------------------------------------------------

    def op_delete(self, peer: Peer, request: Dict[str, Any]) -> None:
        state: FileState = peer.state
        file_id = req_int(request, "file_id")

        def deleted(status: str) -> None:
            if status != "ok":
                peer.reply(request, status)
                return
            peer.reply(request)
            self.chat.broadcast({"op": "file_removed", "file_id": file_id})

        peer.call(request, "disk", self._delete, state.user_id, file_id, then=deleted)

    def _delete(self, user_id: int, file_id: int) -> str:
        record = self.store.file(file_id)
        if record is None or record.state != "complete":
            return "not_found"
        if record.owner_id != user_id:
            return "forbidden"
        if not self.store.delete_file(file_id):
            return "not_found"  # someone else deleted it a moment ago
        self.storage.delete(record.storage_key)
        return "ok"

