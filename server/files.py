"""The file service (docs/PROTOCOL.md §6): auth, list, upload, download, delete, ping.

One transfer at a time per connection. An upload is an Upload (server/uploads.py): its
chunks are written and hashed on two worker lanes while the loop goes on receiving. A
download reads its next chunk on the disk lane only when the peer's outbox has drained below
DOWNLOAD_REFILL_BYTES, so memory stays flat however slow the client reads. Everything that
blocks is in server/library.py; this module only decides and answers, on the loop.
"""
from __future__ import annotations

import logging
import mimetypes
import time
from typing import Any, BinaryIO, Dict, Optional, Tuple

from db.store import User
from net.messages import (
    MAX_CHUNK_BYTES,
    BadRequest,
    FramingError,
    opt_int,
    req_int,
    req_str,
    upload_done,
)
from net.rules import check_file_name, check_sha256, check_type
from net.service import PeerAPI
from server.accounts import Accounts
from server.base import AuthenticatedService
from server.config import ServerConfig
from server.library import Library
from server.sessions import Sessions
from server.storage import FileStorage
from server.uploads import Upload

log = logging.getLogger(__name__)

# Refill a download's outbox while less than this is unsent: two chunks in flight keep the
# socket busy without holding more than ~2 MiB per download.
DOWNLOAD_REFILL_BYTES = 1024 * 1024
EXPIRY_INTERVAL_S = 3600
LIST_DEFAULT = 1000
LIST_MAX = 1000
# SHA-256 states of partial uploads this process wrote, so a resume hashes nothing again
# (docs/PROTOCOL.md §6). Each is about 200 bytes; the bound caps them whatever users do.
MAX_KNOWN_PARTIALS = 100_000
VISIBILITIES = ("all", "admins")  # docs/PROTOCOL.md §11: "admins" is a hand-in
BAD_NAME = ("'name' must be a relative path of 1 to 1024 bytes with no empty, '.' or '..' "
            "parts, no backslash and no control or format characters")


class Download:
    __slots__ = ("file", "remaining", "reading")

    def __init__(self, f: BinaryIO, remaining: int) -> None:
        self.file = f
        self.remaining = remaining
        self.reading = False  # a read job is on the disk lane


class FileState:
    __slots__ = ("user_id", "username", "is_admin", "transfer")

    def __init__(self, user: User) -> None:
        self.user_id = user.id
        self.username = user.username
        self.is_admin = user.is_admin  # as of this auth
        self.transfer: Any = None  # an Upload, a Download, or None


class FileService(AuthenticatedService):
    name = "file"

    def __init__(self, config: ServerConfig, accounts: Accounts, sessions: Sessions,
                 storage: FileStorage, chat: Any, sms_name: str) -> None:
        super().__init__(config, accounts, sessions, sms_name)
        self.storage = storage
        self.library = Library(accounts.store, storage, config.quota)
        self.chat = chat  # announces file_added / file_removed to chat connections
        self.active_keys: Dict[str, Upload] = {}  # partial uploads being fed right now
        self.hashed: Dict[str, Tuple[Any, int]] = {}  # storage key -> (sha256 state, bytes)

    # -- the connection's life ------------------------------------------------------------

    def welcome(self, peer: PeerAPI, request: Dict[str, Any], user: User, extra: Any) -> None:
        peer.state = FileState(user)
        peer.reply(request, user_id=user.id, username=user.username, role=user.role)

    def timeout_reason(self, peer: PeerAPI, now_s: float) -> Optional[str]:
        state = peer.state
        if state is None or state.transfer is None:
            return super().timeout_reason(peer, now_s)
        # docs/PROTOCOL.md §10: a transfer that moves no byte, in either direction, for the
        # idle timeout is closed (a long transfer that moves is not idleness).
        moved_s = max(peer.last_seen_s, peer.last_sent_s)
        if now_s - moved_s > self.config.idle_timeout_s:
            return "transfer moved no byte for %.0f s" % (now_s - moved_s)
        return None

    def on_close(self, peer: PeerAPI) -> None:
        super().on_close(peer)
        state = peer.state
        if state is None or state.transfer is None:
            return
        transfer, state.transfer = state.transfer, None
        if isinstance(transfer, Download):
            if not transfer.reading:
                self.loop.submit("disk", self.library.close_file, (transfer.file,), _logged)
            return
        transfer.detach()

    def start_expiry(self) -> None:
        def expire() -> None:
            self.loop.submit("disk", self.library.expire,
                             (time.time(), frozenset(self.active_keys)), _logged)
            self.loop.call_later(EXPIRY_INTERVAL_S, expire)
        self.loop.call_later(EXPIRY_INTERVAL_S, expire)

    # -- list -----------------------------------------------------------------------------

    def op_list(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        before = opt_int(request, "before")
        limit = opt_int(request, "limit", LIST_DEFAULT, lo=1, hi=LIST_MAX)

        def send(page: Any) -> None:
            files, more = page
            peer.reply(request, files=files, more=more)
        state: FileState = peer.state
        peer.call(request, "disk", self.library.list_page, before, limit, state.user_id,
                  state.is_admin, then=send)

    # -- upload ---------------------------------------------------------------------------

    def op_upload(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state: FileState = peer.state
        name = req_str(request, "name")
        size = req_int(request, "size")
        sha256 = req_str(request, "sha256").lower()
        type_ = request.get("type")
        if check_file_name(name):
            raise BadRequest(BAD_NAME)
        if check_sha256(sha256):
            raise BadRequest("'sha256' must be 64 hexadecimal digits")
        if type_ is not None and not isinstance(type_, str):
            raise BadRequest("'type' must be a string")
        visibility = request.get("visibility", "all")
        if visibility not in VISIBILITIES:
            raise BadRequest("'visibility' must be \"all\" or \"admins\" (a hand-in)")
        if visibility == "all" and self.config.uploads == "admins" and not state.is_admin:
            peer.reply(request, "forbidden", "on this server only teachers share files; you "
                       "may hand work in (visibility \"admins\")")
            return
        if size > self.config.max_file_size:
            peer.reply(request, "too_large", "the largest file this server accepts is %d bytes"
                       % self.config.max_file_size)
            return
        if state.transfer is not None:
            peer.reply(request, "busy")
            return
        if type_ is None or check_type(type_):  # docs/PROTOCOL.md §10: else our own guess
            type_ = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"

        def opened(result: Any) -> None:
            status, opening = result
            if status != "ok":
                peer.reply(request, status, "another connection is resuming this upload"
                           if status == "busy" else None)
                return
            upload = Upload(peer, self.loop, self.library, self.storage, request, opening,
                            self._upload_finished, self._upload_parked)
            self.hashed.pop(upload.storage_key, None)
            if peer.closed:  # gone while we opened it: keep the partial for a resume
                upload.detach()
                return
            self.active_keys[upload.storage_key] = upload
            state.transfer = upload
            peer.reply(request, offset=opening.kept)
            upload.start()

        peer.call(request, "disk", self.library.open_upload, state.user_id, name, size, sha256,
                  type_, self.hashed, visibility, then=opened)

    def on_binary(self, peer: PeerAPI, data: bytes) -> None:
        state = peer.state
        upload = state.transfer if state is not None else None
        if not isinstance(upload, Upload):
            raise FramingError("binary frame outside an upload")
        upload.receive(data)

    def _upload_finished(self, upload: Upload, status: str, record: Optional[dict]) -> None:
        self.active_keys.pop(upload.storage_key, None)
        self.library.unclaim(upload.storage_key)
        peer = upload.peer
        state = peer.state
        if state is not None and state.transfer is upload:
            state.transfer = None
        if status != "ok":
            peer.send(upload_done(upload.request, status, record))
            return
        log.info("%s shared %r (%d bytes)", record["owner"], record["name"], record["size"])
        self.chat.share_then(None if peer.closed else peer, None, "file",
                             lambda: peer.send(upload_done(upload.request, status, record)),
                             event={"op": "file_added", "file": record},
                             visibility=record["visibility"], owner_id=upload.record.owner_id)

    def _upload_parked(self, upload: Upload, hasher: Any, kept: int) -> None:
        self.active_keys.pop(upload.storage_key, None)
        self.library.unclaim(upload.storage_key)
        if hasher is not None and len(self.hashed) < MAX_KNOWN_PARTIALS:
            self.hashed[upload.storage_key] = (hasher, kept)

    # -- download -------------------------------------------------------------------------

    def op_download(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state: FileState = peer.state
        file_id = req_int(request, "file_id")
        offset = opt_int(request, "offset", 0)
        if state.transfer is not None:
            peer.reply(request, "busy")
            return

        def opened(result: Any) -> None:
            status, record, f, remaining = result
            if status != "ok":
                peer.reply(request, status)
                return
            peer.reply(request, file=record, offset=offset)
            if remaining == 0:
                self.loop.submit("disk", self.library.close_file, (f,), _logged)
                return
            state.transfer = Download(f, remaining)
            peer.begin_task()  # a client that half-closed still gets the whole file
            peer.on_drain = self._pump_download
            self._pump_download(peer)

        peer.call(request, "disk", self.library.open_download, file_id, offset, state.user_id,
                  state.is_admin, then=opened)

    def _pump_download(self, peer: PeerAPI) -> None:
        download = peer.state.transfer
        if not isinstance(download, Download):
            peer.on_drain = None
            return
        if download.reading or peer.outbox_bytes >= DOWNLOAD_REFILL_BYTES:
            return
        download.reading = True

        def done(data: Any, error: Optional[BaseException]) -> None:
            self.loop.guard(peer, self._chunk_read, peer, download, data, error)
        self.loop.submit("disk", self.library.read_chunk,
                         (download.file, min(MAX_CHUNK_BYTES, download.remaining)), done)

    def _chunk_read(self, peer: PeerAPI, download: Download, data: Any,
                    error: Optional[BaseException]) -> None:
        download.reading = False
        if peer.closed or peer.state.transfer is not download:
            self.loop.submit("disk", self.library.close_file, (download.file,), _logged)
            return
        if error is not None or not data:
            log.error("file %r could not be read to the end; closing the download",
                      getattr(download.file, "name", "?"), exc_info=error)
            peer.abort()
            return
        download.remaining -= len(data)
        peer.send_binary(data)
        if download.remaining:
            self._pump_download(peer)
            return
        self.loop.submit("disk", self.library.close_file, (download.file,), _logged)
        peer.state.transfer = None
        peer.on_drain = None
        peer.end_task()

    # -- delete ---------------------------------------------------------------------------

    def op_delete(self, peer: PeerAPI, request: Dict[str, Any]) -> None:
        state: FileState = peer.state
        file_id = req_int(request, "file_id")

        def deleted(result: Any) -> None:
            status, record = result
            if status != "ok":
                peer.reply(request, status)
                return
            # `by`: the notice can say who deleted it (docs/PROTOCOL.md §6)
            self.chat.share_then(peer, request, "file", lambda: peer.reply(request),
                                 event={"op": "file_removed", "file_id": file_id,
                                        "by": state.username},
                                 visibility=record.visibility, owner_id=record.owner_id)

        peer.call(request, "disk", self.library.delete, state.user_id, file_id,
                  state.is_admin, then=deleted)


def _logged(result: Any, error: Optional[BaseException]) -> None:
    if error is not None:
        log.error("disk work failed: %s", error, exc_info=error)
