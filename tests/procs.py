"""Real processes for the tests: the chatroom server, a private MariaDB, and Xvfb.

Each is started on loopback with its own data directory under a temp folder, is waited for
by polling a condition with a deadline, and is stopped by the fixture that started it.
"""
from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Dict, Optional

from tests.wire import CHAOS_SEED

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER_START_TIMEOUT_S = 20.0


def wait_until(predicate, timeout_s: float = 10.0, interval_s: float = 0.01,
               what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out waiting for %s" % (what or predicate))
        time.sleep(interval_s)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The test suite registers and logs in hundreds of users from 127.0.0.1 within minutes: the
# per-address limits of docs/PROTOCOL.md §10 are lifted unless a test asks for them
# (relaxed=False, or the option given again: the later one wins).
RELAXED_LIMITS = ("--codes-per-ip", "0", "--sms-hourly", "0", "--logins-per-ip", "0",
                  "--max-conns-per-user", "0")


# CHATROOM_CHAOS=SEED (./test.sh's chaos run): every server cuts its writes and caps its
# reads (--chaos), and so does every WireClient (tests/wire.py).
CHAOS_ARGS = ("--chaos", str(CHAOS_SEED)) if CHAOS_SEED is not None else ()


class ServerProc:
    """python server_main.py on ports picked by the OS, its log in a file."""

    def __init__(self, data_dir: str, *args: str, python: str = sys.executable,
                 ports: Optional[Dict[str, int]] = None, relaxed: bool = True) -> None:
        self.data_dir = data_dir
        self.args = (list(RELAXED_LIMITS) if relaxed else []) + list(CHAOS_ARGS) + list(args)
        self.python = python
        os.makedirs(data_dir, exist_ok=True)
        self.log_path = os.path.join(data_dir, "server.log")
        self._start(ports)

    def _start(self, ports: Optional[Dict[str, int]]) -> None:
        ports = ports or {"auth": 0, "chat": 0, "file": 0}
        cmd = [self.python, os.path.join(ROOT, "server_main.py"), "--data-dir", self.data_dir,
               "--auth-port", str(ports["auth"]), "--chat-port", str(ports["chat"]),
               "--file-port", str(ports["file"])] + self.args
        self._log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        self._log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=ROOT)
        match = None

        def listening() -> bool:
            nonlocal match
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s:\n%s" % (self.proc.returncode,
                                                                    self.log()))
            match = re.search(r"listening auth=\S+:(\d+) chat=\S+:(\d+) file=\S+:(\d+)",
                              self.log())
            return match is not None
        wait_until(listening, SERVER_START_TIMEOUT_S, what="the server's 'listening' line")
        self.ports = {"auth": int(match.group(1)), "chat": int(match.group(2)),
                      "file": int(match.group(3))}

    @property
    def auth(self) -> int:
        return self.ports["auth"]

    @property
    def chat(self) -> int:
        return self.ports["chat"]

    @property
    def file(self) -> int:
        return self.ports["file"]

    def log(self) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(self._log_offset)
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern: str, timeout_s: float = 10.0) -> "re.Match":
        found = None

        def seen() -> bool:
            nonlocal found
            matches = list(re.finditer(pattern, self.log()))
            found = matches[-1] if matches else None
            return found is not None
        wait_until(seen, timeout_s, what="log line %r" % pattern)
        return found

    def sms_code(self, phone: str) -> str:
        return self.wait_log(r"SMS code for %s: (\d+)" % phone).group(1)

    def stop(self, timeout_s: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log_file.close()

    def restart(self) -> None:
        """Stop (if running) and start again on the same ports and data."""
        if self.proc.poll() is None:
            self.stop()
        self._start(dict(self.ports))


class MariaDB:
    """A MariaDB server of our own: private data directory, socket and port."""

    USER = "chat"
    PASSWORD = "chat-test-pw"
    _dbs = itertools.count(1)

    def __init__(self, base_dir: str) -> None:
        self.base = base_dir
        self.datadir = os.path.join(base_dir, "data")
        self.socket = os.path.join(base_dir, "mysqld.sock")
        self.port = free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.binary = shutil.which("mariadbd") or shutil.which("mysqld") or "/usr/sbin/mariadbd"
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        user = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run([install, "--no-defaults", "--datadir=" + self.datadir,
                        "--auth-root-authentication-method=normal", "--skip-test-db"] + user,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.start()
        self._bootstrap()

    def version(self) -> str:
        return subprocess.run([self.binary, "--version"], capture_output=True,
                              text=True).stdout.strip()

    def start(self) -> None:
        user = ["--user=root"] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen(
            [self.binary, "--no-defaults", "--datadir=" + self.datadir, "--socket=" + self.socket,
             "--port=%d" % self.port, "--bind-address=127.0.0.1", "--skip-name-resolve",
             "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
             "--log-error=" + os.path.join(self.base, "error.log"),
             "--pid-file=" + os.path.join(self.base, "mysqld.pid")] + user,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, 60, 0.05, "MariaDB to accept connections")

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            with open(os.path.join(self.base, "error.log"), errors="replace") as f:
                raise RuntimeError("mariadbd exited:\n" + f.read()[-3000:])
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def root(self):
        import pymysql
        return pymysql.connect(unix_socket=self.socket, user="root", password="",
                               autocommit=True)

    def _bootstrap(self) -> None:
        conn = self.root()
        with conn.cursor() as cur:
            cur.execute("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'"
                        % (self.USER, self.PASSWORD))
            cur.execute("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%'" % self.USER)
        conn.close()

    def new_url(self) -> str:
        """A URL to a database that does not exist yet (chatroom creates it)."""
        return "mysql://%s:%s@127.0.0.1:%d/chatroom_t%d_%d" % (
            self.USER, self.PASSWORD, self.port, os.getpid(), next(self._dbs))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Xvfb:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().strip()
        if not line:
            raise RuntimeError("Xvfb did not start")
        self.display = ":" + line

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


