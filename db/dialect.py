"""Everything that differs between SQLite and MySQL, in one place.

The rest of db/ writes SQL once, with ``?`` placeholders, and asks a Dialect to connect,
to translate placeholders, to build the schema, and to tell what a driver error means.
PyMySQL is imported only when a MySQL URL is used.
"""
from __future__ import annotations

import os
import re
import sqlite3
from typing import Any, List, Optional
from urllib.parse import parse_qs, unquote, urlparse

from db.errors import PhoneTaken, StoreError, StoreUnavailable, UsernameTaken

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "schema.sql")
# Waiting this long for another process's write lock is better than failing a request.
SQLITE_BUSY_TIMEOUT_MS = 5000
# A department database on the LAN answers in milliseconds; after this, give up and report
# internal_error rather than hang a worker thread.
MYSQL_CONNECT_TIMEOUT_S = 5
MYSQL_IO_TIMEOUT_S = 30


def _schema_text() -> str:
    try:
        with open(SCHEMA_PATH, encoding="utf-8") as f:
            return f.read()
    except OSError:
        # Inside dist/chatroom.pyz the schema is a member of the archive, not a file.
        loader = globals().get("__loader__")
        if loader is None or not hasattr(loader, "get_data"):
            raise
        return loader.get_data(SCHEMA_PATH).decode("utf-8")


def schema_statements() -> List[str]:
    """The MySQL statements of schema.sql, comments removed."""
    text = _schema_text()
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in text.split(";") if s.strip()]


_TABLE_RE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*)\)([^)]*)\Z", re.S)
_KEY_RE = re.compile(r"(UNIQUE )?KEY (\w+) \(([^)]*)\)")
_AUTO_START_RE = re.compile(r"AUTO_INCREMENT=(\d+)")


def sqlite_schema(statements: List[str]) -> List[str]:
    """Derive SQLite DDL from the MySQL statements of schema.sql."""
    out: List[str] = []
    for statement in statements:
        match = _TABLE_RE.match(statement)
        if not match:
            raise StoreError("schema.sql: cannot translate %r" % statement[:60])
        table, body, options = match.groups()
        columns: List[str] = []
        indexes: List[str] = []
        for line in body.split(",\n"):
            line = line.strip()
            key = _KEY_RE.match(line)
            if key:
                unique, name, cols = key.groups()
                if unique:
                    columns.append("UNIQUE (%s)" % cols)
                else:
                    indexes.append("CREATE INDEX IF NOT EXISTS %s ON %s (%s)" % (name, table, cols))
                continue
            line = line.replace(" UNSIGNED", "")
            if "AUTO_INCREMENT PRIMARY KEY" in line:
                line = line.split()[0] + " INTEGER PRIMARY KEY AUTOINCREMENT"
            columns.append(line)
        out.append("CREATE TABLE IF NOT EXISTS %s (\n  %s\n)" % (table, ",\n  ".join(columns)))
        out.extend(indexes)
        start = _AUTO_START_RE.search(options)
        if start and int(start.group(1)) > 1:
            # SQLite has no AUTO_INCREMENT=N; seeding its sequence table does the same.
            out.append("INSERT INTO sqlite_sequence (name, seq) SELECT '%s', %d WHERE NOT EXISTS "
                       "(SELECT 1 FROM sqlite_sequence WHERE name = '%s')"
                       % (table, int(start.group(1)) - 1, table))
    return out


class Dialect:
    """Methods for the Store:
        connect()                 a new DB-API connection in autocommit mode
        sql(text)                 the query with this driver's placeholders
        schema()                  statements that create every table when missing
        begin                     the statement that opens a write transaction
        translate(exc)            our exception for a driver exception, or None
        alive(conn)               False when an idle connection died (checked before use)
        is_disconnect(exc)        True when the connection is dead and must be replaced
    """

    name = ""
    begin = "BEGIN"

    def connect(self) -> Any:
        raise NotImplementedError

    def sql(self, text: str) -> str:
        return text

    def schema(self) -> List[str]:
        raise NotImplementedError

    def translate(self, exc: BaseException) -> Optional[Exception]:
        return None

    def alive(self, conn: Any) -> bool:
        """Whether a connection that sat idle can still be used (SQLite: always)."""
        return True

    def is_disconnect(self, exc: BaseException) -> bool:
        return False

    def is_conflict(self, exc: BaseException) -> bool:
        """True when the database aborted the transaction for a clash with a concurrent one
        (it may simply be run again)."""
        return False

    def bump_counter(self, cur: Any, update: str, select: str, step: int) -> int:
        """Run ``update`` (``value = value + ?``, inside the caller's transaction) and return
        the new value: here with a second statement; the dialects do it in one."""
        cur.execute(self.sql(update), (step,))
        cur.execute(self.sql(select))
        return int(cur.fetchone()[0])

    @staticmethod
    def _duplicate(message: str) -> Optional[Exception]:
        if "username_key" in message:
            return UsernameTaken()
        if "phone" in message:
            return PhoneTaken()
        return None


class SQLiteDialect(Dialect):
    name = "sqlite"
    # Take the write lock at the start, so two writers never deadlock upgrading a read lock.
    begin = "BEGIN IMMEDIATE"

    def __init__(self, path: str) -> None:
        self.path = path

    def describe(self) -> str:
        return "sqlite:///%s" % self.path

    def connect(self) -> Any:
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(folder, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None, check_same_thread=False)
            # WAL: readers never block the writer. NORMAL: a commit survives a crash of this
            # process (what kill -9 tests); only a power cut can lose the newest commits.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=%d" % SQLITE_BUSY_TIMEOUT_MS)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError("cannot open the SQLite database %s: %s" % (self.path, exc)) from None
        return conn

    def schema(self) -> List[str]:
        return sqlite_schema(schema_statements())

    def bump_counter(self, cur: Any, update: str, select: str, step: int) -> int:
        if sqlite3.sqlite_version_info < (3, 35):  # no RETURNING (old Pythons' SQLite)
            return super().bump_counter(cur, update, select, step)
        cur.execute(update + " RETURNING value", (step,))
        return int(cur.fetchone()[0])

    def is_conflict(self, exc: BaseException) -> bool:
        # Another process held the write lock past the busy timeout.
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

    def translate(self, exc: BaseException) -> Optional[Exception]:
        if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc):
            return self._duplicate(str(exc))
        return None


class MySQLDialect(Dialect):
    name = "mysql"

    def __init__(self, host: str, port: int, user: str, password: str, database: str,
                 unix_socket: Optional[str]) -> None:
        try:
            import pymysql  # noqa: F401  (only when a MySQL URL is given)
        except ImportError:
            raise StoreError("a mysql:// database needs PyMySQL: "
                             "pip install PyMySQL (or pip install -r requirements.txt)") from None
        self.host, self.port, self.user, self.password = host, port, user, password
        self.database, self.unix_socket = database, unix_socket

    def describe(self) -> str:
        return "mysql://%s@%s:%s/%s" % (self.user, self.host, self.port, self.database)

    def _connect(self, database: Optional[str]) -> Any:
        import pymysql
        return pymysql.connect(
            host=self.host, port=self.port, user=self.user, password=self.password,
            database=database, unix_socket=self.unix_socket, charset="utf8mb4",
            autocommit=True, connect_timeout=MYSQL_CONNECT_TIMEOUT_S,
            read_timeout=MYSQL_IO_TIMEOUT_S, write_timeout=MYSQL_IO_TIMEOUT_S)

    def connect(self) -> Any:
        import pymysql
        try:
            conn = self._connect(self.database)
        except pymysql.err.OperationalError as exc:
            if exc.args and exc.args[0] == 1049:  # unknown database: create it if we may
                return self._causal(self._create_database())
            raise StoreUnavailable("cannot connect to %s: %s" % (self.describe(), exc)) from None
        return self._causal(conn)

    @staticmethod
    def _causal(conn: Any) -> Any:
        """On a Galera node, reads wait until the node has applied what other nodes committed
        before them (a token made on one node is known on the next read on another); on a
        server without Galera the setting does nothing, and MySQL without it refuses it."""
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION wsrep_sync_wait = 1")
        except Exception:  # not MariaDB: nothing to wait for
            pass
        return conn

    def _create_database(self) -> Any:
        import pymysql
        try:
            conn = self._connect(None)
            with conn.cursor() as cur:
                cur.execute("CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 "
                            "COLLATE utf8mb4_bin" % self.database.replace("`", "``"))
            conn.select_db(self.database)
            return conn
        except pymysql.err.MySQLError as exc:
            raise StoreError("database %r does not exist and could not be created: %s"
                             % (self.database, exc)) from None

    def sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def schema(self) -> List[str]:
        return schema_statements()

    def translate(self, exc: BaseException) -> Optional[Exception]:
        import pymysql
        if isinstance(exc, pymysql.err.IntegrityError) and exc.args and exc.args[0] == 1062:
            return self._duplicate(str(exc))
        return None

    def alive(self, conn: Any) -> bool:
        try:
            conn.ping(reconnect=False)
            return True
        except Exception:  # any failure means: replace it
            return False

    def bump_counter(self, cur: Any, update: str, select: str, step: int) -> int:
        # LAST_INSERT_ID(expr) sets the value the server returns with the UPDATE's own answer:
        # no second round trip.
        cur.execute(self.sql(update.replace("value = value + ?",
                                            "value = LAST_INSERT_ID(value + ?)")), (step,))
        return int(cur.lastrowid)

    def is_conflict(self, exc: BaseException) -> bool:
        # 1213: a deadlock, or on Galera a certification failure (another node committed a
        # clashing write first); 1205: a lock wait timeout.
        import pymysql
        return (isinstance(exc, pymysql.err.OperationalError) and bool(exc.args)
                and exc.args[0] in (1213, 1205))

    def is_disconnect(self, exc: BaseException) -> bool:
        import pymysql
        if isinstance(exc, pymysql.err.InterfaceError):
            return True
        if isinstance(exc, pymysql.err.OperationalError):
            # 2003 can't connect, 2006 gone away, 2013 lost during query, 2055 lost at
            # handshake, 1927 killed (server shutting down), 4031 idle disconnect.
            return bool(exc.args) and exc.args[0] in (2003, 2006, 2013, 2055, 1053, 1927, 4031)
        return isinstance(exc, (ConnectionError, OSError))


def parse_url(url: str) -> Dialect:
    """sqlite:///relative.db, sqlite:////absolute.db, mysql://user:pw@host:port/db"""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
        if not path or path == ":memory:":
            raise StoreError("a SQLite URL names a file: sqlite:///path/to/chatroom.db")
        return SQLiteDialect(path)
    if parsed.scheme in ("mysql", "mysql+pymysql", "mariadb"):
        database = parsed.path.lstrip("/")
        if not database:
            raise StoreError("a MySQL URL names its database: mysql://user:pw@host:3306/chatroom")
        query = parse_qs(parsed.query)
        return MySQLDialect(parsed.hostname or "127.0.0.1", parsed.port or 3306,
                            unquote(parsed.username or "root"), unquote(parsed.password or ""),
                            database, (query.get("unix_socket") or [None])[0])
    raise StoreError("unknown database URL %r: use sqlite:///FILE or "
                     "mysql://user:password@host:port/database" % url)

