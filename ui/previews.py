"""The pictures fetched for a glance: the files window's preview of a selected PNG or GIF and
the chat's thumbnails of the pictures people share. One cache folder (in the settings
folder, named by SHA-256, trimmed to PREVIEW_CACHE_BYTES) and one downloader for both, so a
picture is fetched once whoever asks for it. Tk-free: the windows read the files it writes.

Who asks says so with want(record, listener) and stops with unwant(); a picture nobody wants
any more stops downloading. Fetches run MAX_FETCHING at a time, the newest wish first (the
picture the user just clicked, or the last one shared): a folder of 500 pictures shared at
once never starts 500 downloads, and the chat asks only for its last few anyway.
"""
from __future__ import annotations

import os
import re
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Set

from ui.transfers import Download, Opener, TransferQueue

Record = Dict[str, Any]  # a shared file as the server describes it (docs/PROTOCOL.md §6)
# listener(record, path): the picture is in the cache at path; path None: it could not be had
Listener = Callable[[Record, Optional[str]], None]

# A PNG or GIF up to this size is previewed (Tk reads both with no other library); a bigger
# one would take a while to fetch for a glance.
PREVIEW_MAX_BYTES = 5 * 1024 * 1024
PREVIEW_TYPES = {"image/png": ".png", "image/gif": ".gif"}
# The cache keeps at most this much; the least recently shown go first.
PREVIEW_CACHE_BYTES = 50 * 1024 * 1024
# Downloads of pictures at once: enough that three shared together arrive together, few
# enough that the user's own transfers keep the link.
MAX_FETCHING = 3
SHA256_RE = re.compile(r"[0-9a-f]{64}")


def preview_extension(record: Optional[Record]) -> Optional[str]:
    """'.png' or '.gif' for a shared picture small enough to preview; None for any other
    file (the server's sha256 names the cached copy, so it must look like one)."""
    if not record:
        return None
    extension = PREVIEW_TYPES.get(str(record.get("type", "")))
    size = record.get("size")
    if extension is None or not isinstance(size, int) or size > PREVIEW_MAX_BYTES or \
            not SHA256_RE.fullmatch(str(record.get("sha256", ""))):
        return None
    return extension


class _Wish:
    """One picture somebody wants: its record, who waits for it, its download once started."""

    __slots__ = ("record", "path", "listeners", "download")

    def __init__(self, record: Record, path: str) -> None:
        self.record = record
        self.path = path
        self.listeners: List[Listener] = []
        self.download: Optional[Download] = None


class PreviewCache:
    """Methods: path_for(record), cached(record), want(record, listener, urgent),
    unwant(sha256, listener), step() (the App's tick), trim(), close(). fetches counts the
    downloads ever started."""

    def __init__(self, opener: Opener, folder: str,
                 cache_bytes: Optional[int] = None) -> None:
        self.folder = folder
        self.cache_bytes = cache_bytes
        self.queue = TransferQueue(opener, parallel=MAX_FETCHING)
        # sha256 -> wish, oldest first; the newest MAX_FETCHING unstarted ones start next.
        self._wishes: "OrderedDict[str, _Wish]" = OrderedDict()
        self._failed: Set[str] = set()  # tried once: the chat does not ask again
        self.fetches = 0

    def path_for(self, record: Optional[Record]) -> Optional[str]:
        """Where the cached copy of this picture is (or goes); None: not a picture we fetch."""
        extension = preview_extension(record)
        if extension is None or record is None:
            return None
        return os.path.join(self.folder, record["sha256"] + extension)

    def cached(self, record: Optional[Record]) -> Optional[str]:
        """The cached copy's path when it is there (and now the most recently shown)."""
        path = self.path_for(record)
        if path is None or not os.path.isfile(path):
            return None
        try:
            os.utime(path)
        except OSError:
            pass
        return path

    @property
    def items(self) -> List[Download]:
        """The downloads started and not yet answered (TransferQueue.items)."""
        return self.queue.items  # type: ignore[return-value]

    @property
    def fetching(self) -> int:
        """Downloads started and not finished."""
        return sum(1 for wish in self._wishes.values()
                   if wish.download is not None and not wish.download.finished)

    def want(self, record: Record, listener: Listener, urgent: bool = True) -> Optional[str]:
        """The cached path at once when it is there; else None, and listener(record, path)
        once it is fetched (or could not be). urgent (a click): tried again after a failure;
        not urgent (a thumbnail): a picture that failed once is not asked for again, and
        listener hears so at the next step()."""
        path = self.cached(record)
        if path is not None:
            return path
        path = self.path_for(record)
        if path is None:
            raise ValueError("not a picture to preview: %r" % (record.get("name"),))
        sha = record["sha256"]
        wish = self._wishes.get(sha)
        if wish is None:
            if sha in self._failed and not urgent:
                wish = _Wish(record, path)  # answered "no" by the next step
                wish.download = _FAILED
            elif urgent:
                self._failed.discard(sha)
            if wish is None:
                wish = _Wish(record, path)
        self._wishes[sha] = wish
        self._wishes.move_to_end(sha)  # the newest wish starts first
        if listener not in wish.listeners:
            wish.listeners.append(listener)
        if urgent:  # a click: now; thumbnails wait for the tick, which starts the newest
            self._start()
        return None

    def unwant(self, sha256: str, listener: Listener) -> None:
        """listener no longer waits for this picture; nobody left: its download stops."""
        wish = self._wishes.get(sha256)
        if wish is None or listener not in wish.listeners:
            return
        wish.listeners.remove(listener)
        if not wish.listeners:
            del self._wishes[sha256]
            if wish.download is not None and wish.download is not _FAILED:
                wish.download.cancel()

    def step(self, budget_s: float = 0.0) -> None:
        """Start what may start, move the downloads along, tell the listeners of those that
        finished (a done one first trims the cache)."""
        self._start()
        self.queue.step(budget_s)
        answered = []
        for sha, wish in self._wishes.items():
            download = wish.download
            if download is _FAILED:
                answered.append((sha, wish, None))
            elif download is not None and download.finished:
                done = download.state == "done"
                if not done:
                    self._failed.add(sha)
                answered.append((sha, wish, download.dest if done else None))
        if not answered:
            return
        for sha, _, _ in answered:
            del self._wishes[sha]
        self.queue.clear_finished()
        if any(path is not None for _, _, path in answered):
            self.trim()
        for _, wish, path in answered:
            for listener in wish.listeners:
                listener(wish.record, path)

    def _start(self) -> None:
        free = MAX_FETCHING - self.fetching
        if free <= 0:
            return
        for wish in reversed(self._wishes.values()):  # newest first
            if free <= 0:
                break
            if wish.download is None:
                wish.download = self.queue.add(Download(wish.record, wish.path))
                self.fetches += 1
                free -= 1

    def trim(self) -> None:
        """Keep the cache under its size: the least recently shown go."""
        limit = PREVIEW_CACHE_BYTES if self.cache_bytes is None else self.cache_bytes
        try:
            entries = [(e.stat().st_mtime, e.stat().st_size, e.path)
                       for e in os.scandir(self.folder) if e.is_file()]
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= limit:
                break
            try:
                os.unlink(path)
                total -= size
            except OSError:
                pass

    def close(self) -> None:
        """Logged out or quitting: every download stops (each closes its connection)."""
        for transfer in self.queue.active():
            if not transfer.cancel():
                transfer.fail("connection_lost")
        self._wishes.clear()


# A wish answered "no" without a download (it failed before, and only a click tries again).
_FAILED: Any = object()
