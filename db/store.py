"""The Store: every query chatroom makes, written once, for SQLite and MySQL alike.

Called from worker threads only (never from the loop). Each thread gets its own connection.
Queries are parameterised, always: a crafted username is data, never SQL. Writes that must
happen together run in one transaction (``_write``); a driver error leaves as one of our own
exceptions (db/errors.py), and a dead MySQL connection is dropped so the next call reconnects.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from typing import Any, Callable, Iterable, List, NamedTuple, Optional, Sequence, Tuple, TypeVar

from db.dialect import Dialect, parse_url
from db.errors import StoreError, StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

# Bump when schema.sql changes, and add the steps that bring an older database forward.
SCHEMA_VERSION = 4
# {new_version: [statements]}, applied in order. Tables new in a version come from schema.sql
# itself (CREATE TABLE IF NOT EXISTS); columns added to old tables come from here. The same
# statements work on SQLite and MySQL.
MIGRATIONS: dict = {
    2: [  # roles, mute and ban, deleted messages, hand-ins (docs/PROTOCOL.md §11)
        "ALTER TABLE users ADD COLUMN role VARCHAR(16) NOT NULL DEFAULT 'member'",
        "ALTER TABLE users ADD COLUMN muted_until DOUBLE NOT NULL DEFAULT 0",
        "ALTER TABLE users ADD COLUMN banned_until DOUBLE NOT NULL DEFAULT 0",
        "ALTER TABLE messages ADD COLUMN deleted INT NOT NULL DEFAULT 0",
        "ALTER TABLE files ADD COLUMN visibility VARCHAR(8) NOT NULL DEFAULT 'all'",
    ],
    3: [  # rooms (docs/PROTOCOL.md §12): every old public message belongs to the lobby
        "ALTER TABLE messages ADD COLUMN room_id INT NULL",
        "UPDATE messages SET room_id = 1 WHERE recipient_id IS NULL",
        "CREATE INDEX messages_room ON messages (room_id, id)",
    ],
    4: [  # many processes (docs/PROTOCOL.md §13): which process stored a message
        "ALTER TABLE messages ADD COLUMN node INT NULL",
    ],
}
LOBBY = 1
# A connection idle longer than this is checked before use (MySQL: a ping, which a live
# server answers in well under a millisecond).
STALE_CHECK_S = 1.0
# Larger than any msg_id: "before" when the caller did not give one.
NO_MSG_LIMIT = 2 ** 62


class User(NamedTuple):
    id: int
    username: str
    password_hash: str
    phone: str
    email: str
    role: str = "member"  # or "admin"
    muted_until: float = 0.0
    banned_until: float = 0.0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class SmsCode(NamedTuple):
    phone: str
    code_hash: str
    sent_at: float
    attempts: int
    used: bool


class Message(NamedTuple):
    id: int
    sender: str
    recipient: Optional[str]
    text: str
    created_at: float
    sender_id: int = 0
    recipient_id: Optional[int] = None
    room_id: Optional[int] = LOBBY  # None for a private message


class Room(NamedTuple):
    id: int
    name: str
    topic: str
    private: bool
    owner_id: Optional[int]
    owner: Optional[str]
    members: Tuple[int, ...]  # user ids; empty for the lobby (everyone)
    invited: Tuple[int, ...]


class AuditEntry(NamedTuple):
    id: int
    ts: float
    by: Optional[str]
    action: str
    user: Optional[str]
    detail: str


class FileRecord(NamedTuple):
    id: int
    name: str
    owner_id: int
    owner: str
    size: int
    sha256: str
    type: str
    uploaded_at: float
    storage_key: str
    state: str
    visibility: str = "all"


_USER_COLUMNS = ("u.id, u.username, u.password_hash, u.phone, u.email, u.role, u.muted_until, "
                 "u.banned_until")
_FILE_SELECT = ("SELECT f.id, f.name, f.owner_id, u.username, f.size, f.sha256, f.type, "
                "f.uploaded_at, f.storage_key, f.state, f.visibility FROM files f JOIN users u "
                "ON u.id = f.owner_id ")
_SEQ_UPDATE = "UPDATE cluster_seq SET value = value + ? WHERE name = 'log'"
_SEQ_SELECT = "SELECT value FROM cluster_seq WHERE name = 'log'"
_MESSAGE_INSERT = ("INSERT INTO messages (id, sender_id, recipient_id, text, created_at, room_id, "
                   "node) VALUES (?, ?, ?, ?, ?, ?, ?)")
_MESSAGE_SELECT = ("SELECT m.id, s.username, r.username, m.text, m.created_at, m.sender_id, "
                   "m.recipient_id, m.room_id FROM messages m JOIN users s ON s.id = m.sender_id "
                   "LEFT JOIN users r ON r.id = m.recipient_id ")


class _Conflict(Exception):
    """The database aborted a transaction for a clash with another: run it again."""


# A write aborted for a clash is tried again for this long, pausing a little longer each
# time (a clash lasts as long as the other transaction: milliseconds; two Galera masters
# writing the one numbering row clash often, measured about 1 in 10 commits under load).
CONFLICT_RETRY_S = 2.0
CONFLICT_PAUSE_S = 0.002
CONFLICT_PAUSE_MAX_S = 0.05


class Store:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._local = threading.local()
        self._all_conns: List[Any] = []
        self._all_lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------------

    def describe(self) -> str:
        return self.dialect.describe()  # type: ignore[attr-defined]

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        now = time.monotonic()
        if conn is not None and now - self._local.used_s > STALE_CHECK_S:
            # A connection that sat idle may have died with a database restart: check it
            # before use, so the first request after an outage succeeds (PROTOCOL.md §10).
            if not self.dialect.alive(conn):
                self._drop_conn()
                conn = None
        if conn is None:
            conn = self.dialect.connect()
            self._local.conn = conn
            with self._all_lock:
                self._all_conns.append(conn)
        self._local.used_s = now
        return conn

    def _drop_conn(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._all_lock:
                if conn in self._all_conns:
                    self._all_conns.remove(conn)
            try:
                conn.close()
            except Exception:  # already broken; nothing more to do with it
                pass

    def make_private(self) -> None:
        """An SQLite database file (and its journal files) readable by the server's user
        only (docs/PROTOCOL.md §10), also when an older version created it."""
        path = getattr(self.dialect, "path", None)
        if not path:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.chmod(path + suffix, 0o600)
            except FileNotFoundError:
                pass

    def close(self) -> None:
        """Close every thread's connection (at shutdown)."""
        with self._all_lock:
            conns, self._all_conns = self._all_conns, []
        for conn in conns:
            try:
                conn.close()
            except Exception:
                pass

    def _fail(self, exc: BaseException) -> None:
        mine = self.dialect.translate(exc)
        if mine is not None:
            raise mine from None
        if self.dialect.is_disconnect(exc):
            self._drop_conn()
            raise StoreUnavailable("database connection lost: %s" % exc) from None
        raise exc

    def _read(self, fn: Callable[[Any], T]) -> T:
        """fn(cursor) for a query that changes nothing: tried again once on a fresh
        connection when the first one turns out to be dead."""
        for attempt in (1, 2):
            try:
                conn = self._conn()
                cur = conn.cursor()
                try:
                    return fn(cur)
                finally:
                    cur.close()
            except StoreError:
                raise
            except Exception as exc:
                if attempt == 1 and self.dialect.is_disconnect(exc):
                    self._drop_conn()
                    continue
                self._fail(exc)
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _write(self, fn: Callable[[Any], T]) -> T:
        """fn(cursor) inside one transaction: all of it is committed, or none of it. A
        transaction the database aborted for a clash with another (another process, or on
        Galera another node, docs/PROTOCOL.md §13) is run again, a few times."""
        deadline = time.monotonic() + CONFLICT_RETRY_S
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._write_once(fn)
            except _Conflict as conflict:
                if time.monotonic() > deadline:
                    raise StoreUnavailable("the database kept refusing a write for clashes "
                                           "with others: %s" % conflict.args[0]) from None
                # A random pause, so two writers that clashed do not clash again in step.
                time.sleep(random.uniform(0, min(CONFLICT_PAUSE_MAX_S,
                                                 CONFLICT_PAUSE_S * attempt)))

    def _write_once(self, fn: Callable[[Any], T]) -> T:
        try:
            cur = self._begin()
            try:
                try:
                    result = fn(cur)
                    cur.execute("COMMIT")
                except BaseException:
                    try:
                        cur.execute("ROLLBACK")
                    except Exception:  # the connection died; dropping it rolls back
                        pass
                    raise
                return result
            finally:
                cur.close()
        except StoreError:
            raise
        except Exception as exc:
            if self.dialect.is_conflict(exc):
                raise _Conflict(str(exc)) from None
            self._fail(exc)
            raise

    def _begin(self) -> Any:
        """A cursor inside a new transaction. A connection found dead at BEGIN (nothing done
        yet, so nothing to lose) is replaced once."""
        for attempt in (1, 2):
            cur = self._conn().cursor()
            try:
                cur.execute(self.dialect.begin)
                return cur
            except Exception as exc:
                cur.close()
                if attempt == 2 or not self.dialect.is_disconnect(exc):
                    raise
                self._drop_conn()
        raise AssertionError("unreachable")

    def _q(self, cur: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        cur.execute(self.dialect.sql(sql), tuple(params))
        return cur

    # -- schema ---------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create missing tables; bring an older schema forward; refuse a newer one."""
        deferred: List[str] = []

        def create(cur: Any) -> None:
            for statement in self.dialect.schema():
                try:
                    cur.execute(statement)
                except Exception:
                    # An index on a column that an older database gets only from a migration
                    # below: made after the migrations.
                    if not statement.startswith("CREATE INDEX"):
                        raise
                    deferred.append(statement)
        self._read(create)

        def check(cur: Any) -> None:
            row = self._q(cur, "SELECT version FROM schema_version").fetchone()
            if row is None:  # a new database: schema.sql made it as this version wants
                self._q(cur, "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            version = SCHEMA_VERSION if row is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise StoreError("the database has schema version %d, newer than this program "
                                 "(%d): upgrade chatroom" % (version, SCHEMA_VERSION))
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS.get(target, []):
                    cur.execute(statement)
                self._q(cur, "UPDATE schema_version SET version = ?", (target,))
                log.info("database schema migrated to version %d", target)
            for statement in deferred:
                cur.execute(statement)
            if self._q(cur, "SELECT value FROM cluster_seq WHERE name = 'log'").fetchone() is None:
                # The numbering of messages and events (docs/PROTOCOL.md §13) goes on from the
                # newest message an older version stored.
                row = self._q(cur, "SELECT MAX(id) FROM messages").fetchone()
                self._q(cur, "INSERT INTO cluster_seq (name, value) VALUES ('log', ?)",
                        (int(row[0] or 0),))
            if self._q(cur, "SELECT id FROM rooms WHERE id = ?", (LOBBY,)).fetchone() is None:
                self._q(cur, "INSERT INTO rooms (id, name, name_key, topic, private, owner_id, "
                             "created_at) VALUES (?, 'lobby', 'lobby', '', 0, NULL, 0)", (LOBBY,))
        try:
            self._write(check)
        except StoreError:
            raise
        except Exception as exc:
            # Two servers starting at once on a new MySQL database (docs/PROTOCOL.md §13):
            # both saw no lobby row, and the second insert clashed with the first. Seen
            # again, the rows are there.
            log.info("the schema was being set up by another server at the same time (%s); "
                     "checking again", exc)
            time.sleep(0.2)
            self._write(check)

    # -- users ----------------------------------------------------------------------------

    def create_user(self, username: str, username_key: str, password_hash: str, phone: str,
                    email: str, now: float, use_code_of: Optional[str] = None,
                    role: str = "member") -> int:
        """Insert a user (UsernameTaken/PhoneTaken on a clash) and, in the same transaction,
        mark the phone's SMS code as used."""
        def run(cur: Any) -> int:
            self._q(cur, "INSERT INTO users (username, username_key, password_hash, phone, email, "
                         "created_at, role) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (username, username_key, password_hash, phone, email, now, role))
            user_id = int(cur.lastrowid)
            if use_code_of is not None:
                self._q(cur, "UPDATE sms_codes SET used = 1 WHERE phone = ?", (use_code_of,))
            return user_id
        return self._write(run)

    def user_by_key(self, username_key: str) -> Optional[User]:
        return self._one_user("SELECT %s FROM users u WHERE u.username_key = ?" % _USER_COLUMNS,
                              (username_key,))

    def user_by_phone(self, phone: str) -> Optional[User]:
        return self._one_user("SELECT %s FROM users u WHERE u.phone = ?" % _USER_COLUMNS, (phone,))

    def username_taken(self, username_key: str) -> bool:
        return self.user_by_key(username_key) is not None

    def phone_taken(self, phone: str) -> bool:
        return self.user_by_phone(phone) is not None

    def _one_user(self, sql: str, params: Sequence[Any]) -> Optional[User]:
        row = self._read(lambda cur: self._q(cur, sql, params).fetchone())
        if not row:
            return None
        return User(int(row[0]), row[1], row[2], row[3], row[4], row[5], float(row[6]),
                    float(row[7]))

    # -- sessions -------------------------------------------------------------------------

    def create_session(self, token_hash: str, user_id: int, now: float, expires_at: float) -> None:
        def run(cur: Any) -> None:
            # Forget this user's expired sessions while we are here: the table stays small.
            self._q(cur, "DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?",
                    (user_id, now))
            self._q(cur, "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) "
                         "VALUES (?, ?, ?, ?)", (token_hash, user_id, now, expires_at))
        self._write(run)

    def session_user(self, token_hash: str, now: float) -> Optional[User]:
        return self._one_user("SELECT %s FROM sessions s JOIN users u ON u.id = s.user_id "
                              "WHERE s.token_hash = ? AND s.expires_at > ?" % _USER_COLUMNS,
                              (token_hash, now))

    def delete_session(self, token_hash: str, now: float) -> bool:
        def run(cur: Any) -> bool:
            self._q(cur, "DELETE FROM sessions WHERE token_hash = ? AND expires_at > ?",
                    (token_hash, now))
            return cur.rowcount > 0
        return self._write(run)

    # -- SMS codes ------------------------------------------------------------------------

    def sms_code(self, phone: str) -> Optional[SmsCode]:
        row = self._read(lambda cur: self._q(
            cur, "SELECT phone, code_hash, sent_at, attempts, used FROM sms_codes "
                 "WHERE phone = ?", (phone,)).fetchone())
        return SmsCode(row[0], row[1], float(row[2]), int(row[3]), bool(row[4])) if row else None

    def save_sms_code(self, phone: str, code_hash: str, sent_at: float) -> None:
        """The phone's one current code (a new one replaces the old, with a fresh count)."""
        def run(cur: Any) -> None:
            self._q(cur, "DELETE FROM sms_codes WHERE phone = ?", (phone,))
            self._q(cur, "INSERT INTO sms_codes (phone, code_hash, sent_at, attempts, used) "
                         "VALUES (?, ?, ?, 0, 0)", (phone, code_hash, sent_at))
        self._write(run)

    def spend_code_attempt(self, phone: str, max_attempts: int) -> bool:
        """Count one check of the phone's code; False when none was left (or no code)."""
        def run(cur: Any) -> bool:
            self._q(cur, "UPDATE sms_codes SET attempts = attempts + 1 WHERE phone = ? AND "
                         "attempts < ? AND used = 0", (phone, max_attempts))
            return cur.rowcount > 0
        return self._write(run)

    # -- messages -------------------------------------------------------------------------

    def insert_messages(self, rows: Iterable[Tuple[Any, ...]], node: Optional[int] = None
                        ) -> List[int]:
        """Store (sender_id, recipient_id, text, created_at[, room_id]) rows in one
        transaction; their ids, increasing, in the same order. One commit for the batch is
        the point. room_id defaults to the lobby for a public message, None for a private one.
        The ids come from the cluster's numbering (db/cluster.py), shared with its events."""
        rows = list(rows)
        return self._write(lambda cur: self.insert_messages_in(cur, rows, node))

    def insert_messages_in(self, cur: Any, rows: Sequence[Tuple[Any, ...]],
                           node: Optional[int]) -> List[int]:
        """insert_messages inside the caller's transaction (db/cluster.py)."""
        first = self.take_numbers(cur, len(rows))
        values = []
        for msg_id, row in enumerate(rows, first):
            if len(row) == 4:
                row = tuple(row) + ((LOBBY if row[1] is None else None),)
            values.append((msg_id,) + tuple(row) + (node,))
        # One statement for a batch: PyMySQL sends executemany's rows as multi-row INSERTs
        # (one round trip per MB, not per message); sqlite3 loops in C.
        cur.executemany(self.dialect.sql(_MESSAGE_INSERT), values)
        return list(range(first, first + len(values)))

    def take_numbers(self, cur: Any, count: int) -> int:
        """The first of ``count`` new numbers of the cluster log (docs/PROTOCOL.md §13).
        Updating the one row locks it until this transaction ends, so the numbers of
        concurrent writers (threads or processes) become visible in order, without gaps."""
        top = self.dialect.bump_counter(cur, _SEQ_UPDATE, _SEQ_SELECT, count)
        return top - count + 1

    def history(self, user_id: int, before: Optional[int], limit: int,
                with_user_id: Optional[int] = None, room_id: Optional[int] = None,
                rooms: Sequence[int] = (LOBBY,)) -> List[Message]:
        """Up to `limit` messages older than `before` that the user may see, oldest first:
        the private conversation with `with_user_id`; or the messages of `room_id`; or else
        the messages of `rooms` (those the user is in) and the user's private messages."""
        before_id = NO_MSG_LIMIT if before is None else before
        where, params = _readable(user_id, with_user_id, room_id, rooms)
        sql = (_MESSAGE_SELECT + "WHERE " + where + " AND m.id < ? AND m.deleted = 0 "
               "ORDER BY m.id DESC LIMIT ?")
        rows = self._read(lambda cur: self._q(cur, sql, params + (before_id, limit)).fetchall())
        return [_message(r) for r in reversed(rows)]

    # -- rooms (docs/PROTOCOL.md §12) -----------------------------------------------------

    def rooms(self) -> List[Room]:
        """Every open room with its members and invitations (read once at start: the loop
        keeps them, so a message's fan-out never asks the database who is in a room)."""
        def run(cur: Any) -> List[Room]:
            rows = self._q(cur, "SELECT r.id, r.name, r.topic, r.private, r.owner_id, "
                                "u.username FROM rooms r LEFT JOIN users u ON u.id = r.owner_id "
                                "WHERE r.closed = 0 ORDER BY r.id").fetchall()
            members: dict = {}
            for room_id, user_id in self._q(cur, "SELECT room_id, user_id FROM room_members "
                                                 "ORDER BY joined_at").fetchall():
                members.setdefault(int(room_id), []).append(int(user_id))
            invited: dict = {}
            for room_id, user_id in self._q(cur, "SELECT room_id, user_id FROM "
                                                 "room_invites").fetchall():
                invited.setdefault(int(room_id), []).append(int(user_id))
            return [Room(int(r[0]), r[1], r[2], bool(r[3]), None if r[4] is None else int(r[4]),
                         r[5], tuple(members.get(int(r[0]), ())),
                         tuple(invited.get(int(r[0]), ()))) for r in rows]
        return self._read(run)

    def user_rooms(self, user_id: int) -> List[int]:
        """The open rooms the user is in, the lobby first."""
        rows = self._read(lambda cur: self._q(
            cur, "SELECT m.room_id FROM room_members m JOIN rooms r ON r.id = m.room_id "
                 "WHERE m.user_id = ? AND r.closed = 0 ORDER BY m.room_id", (user_id,)).fetchall())
        return [LOBBY] + [int(r[0]) for r in rows if int(r[0]) != LOBBY]

    def create_room(self, name: str, name_key: str, topic: str, private: bool, owner_id: int,
                    now: float) -> Optional[int]:
        """The new room's id (its owner its first member), or None when an open room has
        that name (ignoring case)."""
        def run(cur: Any) -> Optional[int]:
            if self._q(cur, "SELECT id FROM rooms WHERE name_key = ? AND closed = 0",
                       (name_key,)).fetchone() is not None:
                return None
            self._q(cur, "INSERT INTO rooms (name, name_key, topic, private, owner_id, "
                         "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, name_key, topic, 1 if private else 0, owner_id, now))
            room_id = int(cur.lastrowid)
            self._q(cur, "INSERT INTO room_members (room_id, user_id, joined_at) "
                         "VALUES (?, ?, ?)", (room_id, owner_id, now))
            return room_id
        return self._write(run)

    def join_room(self, room_id: int, user_id: int, now: float) -> None:
        def run(cur: Any) -> None:
            self._q(cur, "DELETE FROM room_members WHERE room_id = ? AND user_id = ?",
                    (room_id, user_id))
            self._q(cur, "INSERT INTO room_members (room_id, user_id, joined_at) "
                         "VALUES (?, ?, ?)", (room_id, user_id, now))
            self._q(cur, "DELETE FROM room_invites WHERE room_id = ? AND user_id = ?",
                    (room_id, user_id))
        self._write(run)

    def leave_room(self, room_id: int, user_id: int) -> None:
        self._write(lambda cur: self._q(
            cur, "DELETE FROM room_members WHERE room_id = ? AND user_id = ?",
            (room_id, user_id)))

    def invite(self, room_id: int, user_id: int, by_id: int, now: float) -> None:
        def run(cur: Any) -> None:
            self._q(cur, "DELETE FROM room_invites WHERE room_id = ? AND user_id = ?",
                    (room_id, user_id))
            self._q(cur, "INSERT INTO room_invites (room_id, user_id, by_id, invited_at) "
                         "VALUES (?, ?, ?, ?)", (room_id, user_id, by_id, now))
        self._write(run)

    def close_room(self, room_id: int) -> None:
        def run(cur: Any) -> None:
            self._q(cur, "UPDATE rooms SET closed = 1 WHERE id = ?", (room_id,))
            self._q(cur, "DELETE FROM room_members WHERE room_id = ?", (room_id,))
            self._q(cur, "DELETE FROM room_invites WHERE room_id = ?", (room_id,))
            self._q(cur, "DELETE FROM quiet_rooms WHERE room_id = ?", (room_id,))
        self._write(run)

    def message(self, msg_id: int) -> Optional[Message]:
        """A message that is not deleted, or None."""
        rows = self._read(lambda cur: self._q(
            cur, _MESSAGE_SELECT + "WHERE m.id = ? AND m.deleted = 0", (msg_id,)).fetchall())
        return _message(rows[0]) if rows else None

    def delete_message(self, msg_id: int) -> bool:
        """Mark it deleted (gone from history); False when it already was."""
        def run(cur: Any) -> bool:
            self._q(cur, "UPDATE messages SET deleted = 1 WHERE id = ? AND deleted = 0",
                    (msg_id,))
            return cur.rowcount > 0
        return self._write(run)

    # -- roles, moderation, audit (docs/PROTOCOL.md §11) ------------------------------------

    def set_role(self, username_key: str, role: str) -> Optional[User]:
        """The user with that role now, or None for an unknown name."""
        self._write(lambda cur: self._q(
            cur, "UPDATE users SET role = ? WHERE username_key = ?", (role, username_key)))
        return self.user_by_key(username_key)

    def set_muted(self, user_id: int, until: float) -> None:
        self._write(lambda cur: self._q(
            cur, "UPDATE users SET muted_until = ? WHERE id = ?", (until, user_id)))

    def ban(self, user_id: int, until: float) -> None:
        """Kick: the ban (until, maybe now) and the end of every session, together."""
        def run(cur: Any) -> None:
            self._q(cur, "UPDATE users SET banned_until = ? WHERE id = ?", (until, user_id))
            self._q(cur, "DELETE FROM sessions WHERE user_id = ?", (user_id,))
        self._write(run)

    def set_quiet(self, room_id: int, on: bool, by_id: int, now: float) -> None:
        def run(cur: Any) -> None:
            self._q(cur, "DELETE FROM quiet_rooms WHERE room_id = ?", (room_id,))
            if on:
                self._q(cur, "INSERT INTO quiet_rooms (room_id, by_id, since) VALUES (?, ?, ?)",
                        (room_id, by_id, now))
        self._write(run)

    def quiet_rooms(self) -> List[int]:
        rows = self._read(lambda cur: self._q(
            cur, "SELECT room_id FROM quiet_rooms").fetchall())
        return [int(r[0]) for r in rows]

    def add_audit(self, ts: float, by_id: Optional[int], action: str, user_id: Optional[int],
                  detail: str) -> int:
        def run(cur: Any) -> int:
            self._q(cur, "INSERT INTO audit (ts, by_id, action, user_id, detail) "
                         "VALUES (?, ?, ?, ?, ?)", (ts, by_id, action, user_id, detail))
            return int(cur.lastrowid)
        return self._write(run)

    def audit(self, before: Optional[int], limit: int) -> List[AuditEntry]:
        """Newest first."""
        rows = self._read(lambda cur: self._q(
            cur, "SELECT a.id, a.ts, b.username, a.action, u.username, a.detail FROM audit a "
                 "LEFT JOIN users b ON b.id = a.by_id LEFT JOIN users u ON u.id = a.user_id "
                 "WHERE a.id < ? ORDER BY a.id DESC LIMIT ?",
            (NO_MSG_LIMIT if before is None else before, limit)).fetchall())
        return [AuditEntry(int(r[0]), float(r[1]), r[2], r[3], r[4], r[5]) for r in rows]

    # -- files ----------------------------------------------------------------------------

    def create_file(self, name: str, owner_id: int, size: int, sha256: str, type_: str,
                    now: float, storage_key: str, visibility: str = "all") -> int:
        def run(cur: Any) -> int:
            self._q(cur, "INSERT INTO files (name, owner_id, size, sha256, type, uploaded_at, "
                         "storage_key, state, visibility) VALUES (?, ?, ?, ?, ?, ?, ?, "
                         "'partial', ?)",
                    (name, owner_id, size, sha256, type_, now, storage_key, visibility))
            return int(cur.lastrowid)
        return self._write(run)

    def find_partials(self, owner_id: int, name: str, size: int, sha256: str,
                      visibility: str = "all") -> List[FileRecord]:
        return self._files(_FILE_SELECT + "WHERE f.owner_id = ? AND f.sha256 = ? AND f.size = ? "
                           "AND f.name = ? AND f.visibility = ? AND f.state = 'partial' "
                           "ORDER BY f.id DESC", (owner_id, sha256, size, name, visibility))

    def complete_file(self, file_id: int, now: float) -> Optional[FileRecord]:
        self._write(lambda cur: self._q(
            cur, "UPDATE files SET state = 'complete', uploaded_at = ? WHERE id = ?",
            (now, file_id)))
        return self.file(file_id)

    def file(self, file_id: int) -> Optional[FileRecord]:
        rows = self._files(_FILE_SELECT + "WHERE f.id = ?", (file_id,))
        return rows[0] if rows else None

    def list_files(self, before: Optional[int], limit: int, viewer_id: Optional[int] = None
                   ) -> Tuple[List[FileRecord], bool]:
        """A page of finished files, newest first (= most recently completed: a long upload
        started early is still news; ties by id), and whether older ones remain. ``before``:
        the files completed before that one (an unknown id: the files with smaller ids).
        ``viewer_id``: a member, who sees hand-ins of their own only (None: an admin)."""
        where = "WHERE f.state = 'complete' "
        params: Tuple[Any, ...] = ()
        if viewer_id is not None:
            where += "AND (f.visibility = 'all' OR f.owner_id = ?) "
            params = (viewer_id,)
        if before is not None:
            anchor = self.file(before)
            if anchor is not None and anchor.state == "complete":
                where += "AND (f.uploaded_at < ? OR (f.uploaded_at = ? AND f.id < ?)) "
                params += (anchor.uploaded_at, anchor.uploaded_at, before)
            else:
                where += "AND f.id < ? "
                params += (before,)
        rows = self._files(_FILE_SELECT + where + "ORDER BY f.uploaded_at DESC, f.id DESC "
                           "LIMIT ?", params + (limit + 1,))
        return rows[:limit], len(rows) > limit

    def bytes_held(self, owner_id: int) -> int:
        """What counts against a user's quota: finished files and unfinished uploads, each
        at its declared size."""
        row = self._read(lambda cur: self._q(
            cur, "SELECT COALESCE(SUM(size), 0) FROM files WHERE owner_id = ?",
            (owner_id,)).fetchone())
        return int(row[0])

    def partials_of(self, owner_id: int) -> List[FileRecord]:
        """A user's unfinished uploads, oldest first."""
        return self._files(_FILE_SELECT + "WHERE f.owner_id = ? AND f.state = 'partial' "
                           "ORDER BY f.id", (owner_id,))

    def all_partials(self) -> List[FileRecord]:
        return self._files(_FILE_SELECT + "WHERE f.state = 'partial'", ())

    def storage_keys(self) -> List[str]:
        rows = self._read(lambda cur: self._q(cur, "SELECT storage_key FROM files").fetchall())
        return [r[0] for r in rows]

    def delete_file(self, file_id: int) -> bool:
        def run(cur: Any) -> bool:
            self._q(cur, "DELETE FROM files WHERE id = ?", (file_id,))
            return cur.rowcount > 0
        return self._write(run)

    def _files(self, sql: str, params: Sequence[Any]) -> List[FileRecord]:
        rows = self._read(lambda cur: self._q(cur, sql, params).fetchall())
        return [FileRecord(int(r[0]), r[1], int(r[2]), r[3], int(r[4]), r[5], r[6], float(r[7]),
                           r[8], r[9], r[10]) for r in rows]

    # -- directory, search, read marks, passwords (server/directory.py) -------------------

    def user_by_id(self, user_id: int) -> Optional[User]:
        return self._one_user("SELECT %s FROM users u WHERE u.id = ?" % _USER_COLUMNS,
                              (user_id,))

    def members(self, name_pattern: str, limit: int) -> List[Tuple[int, str, str]]:
        """(id, username, role) of up to ``limit`` users whose username key matches the LIKE
        pattern (``!`` escapes), ordered by username key: by name, ignoring case."""
        rows = self._read(lambda cur: self._q(
            cur, "SELECT id, username, role FROM users WHERE username_key LIKE ? ESCAPE '!' "
                 "ORDER BY username_key LIMIT ?", (name_pattern, limit)).fetchall())
        return [(int(r[0]), r[1], r[2]) for r in rows]

    def search_messages(self, user_id: int, text_pattern: str, before: Optional[int],
                        limit: int, rooms: Sequence[int] = (LOBBY,),
                        with_user_id: Optional[int] = None, room_id: Optional[int] = None
                        ) -> List[Message]:
        """Up to ``limit`` messages older than ``before`` whose lower-cased text matches the
        LIKE pattern (``!`` escapes), newest first, among those the user may read: the
        private conversation with ``with_user_id``; or ``room_id``'s; or else the messages of
        ``rooms`` and the user's private messages. Deleted messages never match."""
        where, params = _readable(user_id, with_user_id, room_id, rooms)
        sql = (_MESSAGE_SELECT + "WHERE " + where + " AND m.id < ? AND m.deleted = 0 "
               "AND LOWER(m.text) LIKE ? ESCAPE '!' ORDER BY m.id DESC LIMIT ?")
        before_id = NO_MSG_LIMIT if before is None else before
        rows = self._read(lambda cur: self._q(
            cur, sql, params + (before_id, text_pattern, limit)).fetchall())
        return [_message(r) for r in rows]

    def mark_read(self, user_id: int, peer_id: int, room_id: int, msg_id: int) -> None:
        """The user has read up to msg_id of a conversation (a room: peer_id 0; a private
        one: room_id 0). A mark only moves forward."""
        def run(cur: Any) -> None:
            # The user's row is locked first (an update that changes nothing still locks):
            # two connections of one user, in any process, marking a conversation for the
            # first time at once take turns instead of both inserting.
            self._q(cur, "UPDATE users SET role = role WHERE id = ?", (user_id,))
            row = self._q(cur, "SELECT msg_id FROM read_marks WHERE user_id = ? AND "
                               "peer_id = ? AND room_id = ?",
                          (user_id, peer_id, room_id)).fetchone()
            if row is None:
                self._q(cur, "INSERT INTO read_marks (user_id, peer_id, room_id, msg_id) "
                             "VALUES (?, ?, ?, ?)", (user_id, peer_id, room_id, msg_id))
            elif int(row[0]) < msg_id:
                self._q(cur, "UPDATE read_marks SET msg_id = ? WHERE user_id = ? AND "
                             "peer_id = ? AND room_id = ?", (msg_id, user_id, peer_id, room_id))
        self._write(run)

    def private_conversations(self, user_id: int, limit: int
                              ) -> List[Tuple[str, int, float, int]]:
        """(peer username, newest msg_id, its time, unread) of the user's private
        conversations, the most recent first, at most ``limit``. Unread: the peer's messages
        after the user's read mark (all of them without one)."""
        sql = ("SELECT u.username, c.last_id, m.created_at, c.unread FROM ("
               "SELECT x.peer AS peer, MAX(x.id) AS last_id, "
               "SUM(CASE WHEN x.incoming = 1 AND x.id > COALESCE(r.msg_id, 0) THEN 1 ELSE 0 "
               "END) AS unread FROM ("
               "SELECT recipient_id AS peer, id, 0 AS incoming FROM messages "
               "WHERE sender_id = ? AND recipient_id IS NOT NULL AND deleted = 0 "
               "UNION ALL "
               "SELECT sender_id AS peer, id, 1 AS incoming FROM messages "
               "WHERE recipient_id = ? AND sender_id <> ? AND deleted = 0) x "
               "LEFT JOIN read_marks r ON r.user_id = ? AND r.peer_id = x.peer "
               "AND r.room_id = 0 GROUP BY x.peer) c "
               "JOIN users u ON u.id = c.peer JOIN messages m ON m.id = c.last_id "
               "ORDER BY c.last_id DESC LIMIT ?")
        rows = self._read(lambda cur: self._q(
            cur, sql, (user_id, user_id, user_id, user_id, limit)).fetchall())
        return [(r[0], int(r[1]), float(r[2]), int(r[3] or 0)) for r in rows]

    def room_unread(self, user_id: int, rooms: Sequence[int], scan: int
                    ) -> List[Tuple[int, int, float, int]]:
        """(room, newest msg_id or 0, its time or 0, unread) for each of ``rooms``. Unread:
        messages of others after the user's read mark; without a mark, those since the user
        joined the room (the lobby: registered). Counted among the newest ``scan`` messages
        after the mark at most, so a count costs the same however long the room's past."""
        def run(cur: Any) -> List[Tuple[int, int, float, int]]:
            marks = {int(r[0]): int(r[1]) for r in self._q(
                cur, "SELECT room_id, msg_id FROM read_marks WHERE user_id = ? AND "
                     "peer_id = 0", (user_id,)).fetchall()}
            joined = {int(r[0]): float(r[1]) for r in self._q(
                cur, "SELECT room_id, joined_at FROM room_members WHERE user_id = ?",
                (user_id,)).fetchall()}
            row = self._q(cur, "SELECT created_at FROM users WHERE id = ?",
                          (user_id,)).fetchone()
            joined[LOBBY] = float(row[0]) if row else 0.0
            out = []
            for room in rooms:
                newest = self._q(cur, "SELECT id, created_at FROM messages WHERE room_id = ? "
                                      "AND deleted = 0 ORDER BY id DESC LIMIT 1",
                                 (room,)).fetchone()
                if newest is None:
                    out.append((room, 0, 0.0, 0))
                    continue
                since_ts = 0.0 if room in marks else joined.get(room, 0.0)
                (unread,) = self._q(
                    cur, "SELECT COUNT(*) FROM (SELECT sender_id, created_at FROM messages "
                         "WHERE room_id = ? AND id > ? AND deleted = 0 "
                         "ORDER BY id DESC LIMIT ?) t WHERE t.sender_id <> ? "
                         "AND t.created_at > ?",
                    (room, marks.get(room, 0), scan, user_id, since_ts)).fetchone()
                out.append((room, int(newest[0]), float(newest[1]), int(unread)))
            return out
        return self._read(run)

    def set_password(self, user_id: int, password_hash: str,
                     keep_token_hash: Optional[str] = None) -> None:
        """A new password, and the end of every session of the user but the one whose token
        hashes to ``keep_token_hash`` (None: all of them), together."""
        def run(cur: Any) -> None:
            self._q(cur, "UPDATE users SET password_hash = ? WHERE id = ?",
                    (password_hash, user_id))
            if keep_token_hash is None:
                self._q(cur, "DELETE FROM sessions WHERE user_id = ?", (user_id,))
            else:
                self._q(cur, "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?",
                        (user_id, keep_token_hash))
        self._write(run)


def _readable(user_id: int, with_user_id: Optional[int], room_id: Optional[int],
              rooms: Sequence[int]) -> Tuple[str, Tuple[Any, ...]]:
    """The WHERE clause (and its parameters) of the messages a user reads: the private
    conversation with ``with_user_id``; or ``room_id``'s; or else the messages of ``rooms``
    and the user's private messages."""
    if with_user_id is not None:
        return ("((m.sender_id = ? AND m.recipient_id = ?) OR "
                "(m.sender_id = ? AND m.recipient_id = ?))",
                (user_id, with_user_id, with_user_id, user_id))
    if room_id is not None:
        return "m.room_id = ?", (room_id,)
    marks = ", ".join("?" for _ in rooms)
    return ("(m.room_id IN (%s) OR (m.recipient_id IS NOT NULL AND "
            "(m.sender_id = ? OR m.recipient_id = ?)))" % marks,
            tuple(rooms) + (user_id, user_id))


def _message(r: Sequence[Any]) -> Message:
    return Message(int(r[0]), r[1], r[2], r[3], float(r[4]), int(r[5]),
                   None if r[6] is None else int(r[6]), None if r[7] is None else int(r[7]))


def open_store(url: str) -> Store:
    """Open (and create when missing) the database at url; raises StoreError with a sentence
    an operator can act on."""
    store = Store(parse_url(url))
    store.ensure_schema()
    return store
