"""The moderation log window (teachers only, docs/PROTOCOL.md §11): who muted, removed,
quieted or deleted what and when, newest first, a page at a time."""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Protocol, Tuple

from ui.presenters.common import Shell, status_text
from ui.presenters.moderation import AUDIT_ACTIONS
from ui.session import Session

# Entries per page: a window's worth; older ones come with "Load older".
AUDIT_PAGE = 50

# One row as the view shows it: (entry id, time, by, action, user, detail)
AuditRow = Tuple[int, str, str, str, str, str]


class AuditView(Protocol):
    def show_rows(self, rows: List[AuditRow]) -> None:
        """Every entry loaded so far, newest first, instead of what is shown."""

    def set_more(self, more: bool) -> None:
        """Whether older entries may remain ("Load older" enabled)."""

    def show_error(self, text: str) -> None: ...


class AuditPresenter:
    def __init__(self, app: Shell, session: Session, view: Optional[AuditView] = None) -> None:
        self.tr = app.tr
        self.session = session
        self.view = view
        self.entries: List[Dict[str, Any]] = []
        self._loading = False
        self._generation = 0  # bumped by refresh(): a page asked for before it is dropped

    def attach(self, view: AuditView) -> None:
        self.view = view
        self.refresh()

    def detach(self) -> None:
        self.view = None

    def relabel(self) -> None:
        """After a language switch: the entries loaded, their actions in the new words."""
        if self.view is not None and not self._loading:
            self.view.show_rows([self.row(e) for e in self.entries])

    def refresh(self) -> None:
        """The newest page again."""
        self._generation += 1
        self.entries = []
        self._load(None)

    def load_older(self) -> None:
        if self._loading or not self.entries:
            return
        self._load(min(e["id"] for e in self.entries))

    def _load(self, before: Optional[int]) -> None:
        self._loading = True
        generation = self._generation

        def got(reply: Dict[str, Any]) -> None:
            if generation != self._generation:
                return
            self._loading = False
            if self.view is None:
                return
            if reply.get("status") != "ok":
                self.view.show_error(status_text(self.tr, reply))
                return
            page = [e for e in reply.get("entries", []) if isinstance(e, dict)]
            self.entries += page
            self.view.show_rows([self.row(e) for e in self.entries])
            self.view.set_more(len(page) == AUDIT_PAGE)
        self.session.audit(got, before=before, limit=AUDIT_PAGE)

    def row(self, entry: Dict[str, Any]) -> AuditRow:
        action = str(entry.get("action", ""))
        key = AUDIT_ACTIONS.get(action)
        ts = entry.get("ts")
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) \
            if isinstance(ts, (int, float)) else ""
        return (int(entry.get("id", 0)), when, str(entry.get("by") or ""),
                self.tr(key) if key else action, str(entry.get("user") or ""),
                str(entry.get("detail") or ""))
