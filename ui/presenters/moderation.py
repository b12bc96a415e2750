"""The teacher's controls as people see them (docs/PROTOCOL.md §11), shared by the chat
window, the login window and the terminal client: the words of every moderation notice, of
a kick and a ban, why a member cannot speak now, and the actions a right-click on a user
offers. Pure: no tkinter, no sockets."""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Tuple

from ui.i18n import Catalog
from ui.session import LOBBY

# What a right-click on a user offers a teacher: (catalog key of the label, action). An
# action is "mute:MINUTES", "unmute" or "kick:MINUTES" (0: removed, not banned); the
# durations are the ones a class needs: a moment, the lesson, the day.
MODERATION_ACTIONS: List[Tuple[str, str]] = [
    ("mod.mute_minutes", "mute:5"), ("mod.mute_hour", "mute:60"),
    ("mod.mute_day", "mute:1440"), ("mod.unmute", "unmute"), ("mod.kick", "kick:0"),
    ("mod.ban", "kick:1440")]
# docs/PROTOCOL.md §11: the longest mute or ban, in minutes (a week).
MINUTES_MAX = 7 * 24 * 60
# The audit log's actions in people's words; an action this client does not know yet is
# shown as the server names it.
AUDIT_ACTIONS = {"mute": "audit.action_mute", "unmute": "audit.action_unmute",
                 "kick": "audit.action_kick", "quiet": "audit.action_quiet",
                 "delete": "audit.action_delete", "delete_file": "audit.action_delete_file",
                 "reset_password": "audit.action_reset_password"}


def clock_text(ts: float, now: Optional[float] = None) -> str:
    """A moment as a clock shows it: '14:05' today, '03-28 14:05' on another day."""
    now = time.time() if now is None else now
    moment = time.localtime(ts)
    if time.strftime("%Y-%m-%d", moment) == time.strftime("%Y-%m-%d", time.localtime(now)):
        return time.strftime("%H:%M", moment)
    return time.strftime("%m-%d %H:%M", moment)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else 0.0


def moderation_notice(tr: Catalog, event: Dict[str, Any], now: Optional[float] = None) -> str:
    """The chat notice for a `moderation` event: 'bob was muted until 14:05 by teacher'."""
    action, by, user = event.get("action"), event.get("by", "?"), event.get("user", "?")
    until = _number(event.get("until"))
    if action == "mute":
        return tr("mod.muted", user=user, by=by, time=clock_text(until, now))
    if action == "unmute":
        return tr("mod.unmuted", user=user, by=by)
    if action == "kick":
        if until:
            return tr("mod.kicked_until", user=user, by=by, time=clock_text(until, now))
        return tr("mod.kicked", user=user, by=by)
    if action == "quiet":
        if event.get("room") not in (None, LOBBY):  # its owner speaks too (§12)
            return tr("mod.room_quiet_on" if event.get("on") else "mod.room_quiet_off", by=by)
        return tr("mod.quiet_on" if event.get("on") else "mod.quiet_off", by=by)
    return tr("mod.other", by=by, action=str(action))


def kicked_text(tr: Catalog, event: Dict[str, Any], now: Optional[float] = None) -> str:
    """What a removed user reads (the `kicked` event): who, why, and until when."""
    parts = [tr("login.kicked", by=event.get("by", "?"))]
    reason = event.get("reason")
    if isinstance(reason, str) and reason.strip():
        parts.append(tr("login.kicked_reason", reason=reason.strip()))
    until = _number(event.get("until"))
    if until:
        parts.append(tr("login.kicked_until", time=clock_text(until, now)))
    return " ".join(parts)


def banned_text(tr: Catalog, retry_after_s: Optional[int], now: Optional[float] = None) -> str:
    """A login refused with `banned`: 'You were removed until 14:05.'"""
    if not retry_after_s:
        return tr("error.banned")
    now = time.time() if now is None else now
    return tr("error.banned_until", time=clock_text(now + retry_after_s, now))


def speaking_lock(tr: Catalog, session: Any, conversation: str, quiet: Optional[int]) -> str:
    """Why this user cannot write in this conversation now ('' when they can): muted, or a
    quiet room. Teachers always may; a private conversation with a teacher stays open (a
    student must be able to ask, docs/PROTOCOL.md §11), and so does one with somebody not
    known to be a member, since members are not told who the teachers are: there the server
    decides, and its refusal teaches us who is not a teacher. quiet: the room shown, when it
    is quiet and this user does not own it (else None)."""
    if session.is_admin:
        return ""
    if conversation and (session.is_known_admin(conversation) or
                         not session.is_known_member(conversation)):
        return ""
    muted_s = session.muted_s()
    if muted_s > 0:
        now = session.wall()
        return tr("lock.muted", time=clock_text(now + muted_s, now))
    if quiet is not None:
        return tr("lock.quiet" if quiet == LOBBY else "lock.room_quiet")
    return ""


def moderation_failure(tr: Catalog, reply: Dict[str, Any], fallback: str,
                       is_admin: bool = True) -> str:
    """Why a teacher's action failed: only teachers may (forbidden, for a member), a teacher
    cannot be muted or removed (forbidden, for a teacher), or the words of the common
    statuses (fallback: status_text's)."""
    if reply.get("status") == "forbidden":
        return tr("mod.cannot_admin" if is_admin else "mod.teachers_only")
    return fallback


def parse_minutes(text: str, lo: int, hi: int = MINUTES_MAX) -> Optional[int]:
    """A whole number of minutes from lo to hi, or None (the CLI's /mute, /kick)."""
    text = text.strip()
    if not text.isdigit() or len(text) > 6:
        return None
    minutes = int(text)
    return minutes if lo <= minutes <= hi else None
