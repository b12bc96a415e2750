"""A real two-node MariaDB Galera cluster on loopback: a multi-master database for the
"many server processes, one database" tests (docs/PROTOCOL.md §13).

Each node is its own mariadbd with its own data directory, socket, SQL port, group
communication port (gcomm), incremental state transfer port (IST) and snapshot transfer port
(SST), all on 127.0.0.1. Node 1 bootstraps the cluster (--wsrep-new-cluster) and gets the
database user; node 2 starts with an empty data directory and receives node 1's state by an
rsync snapshot transfer (SST), as a real second node joins, so the user exists on both.
Stopped in the reverse order (node 2 leaves first, so node 1 never loses its quorum on the
way down); every process by its own Popen.
"""
from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from typing import List, Optional

from tests.procs import MariaDB, free_port, wait_until

# Where Debian's galera-4 package puts the provider (`dpkg -L galera-4 | grep smm`).
PROVIDER_PATHS = ("/usr/lib/galera/libgalera_smm.so", "/usr/lib/libgalera_smm.so",
                  "/usr/lib64/galera-4/libgalera_smm.so", "/usr/lib64/galera/libgalera_smm.so")
# A node joins with a snapshot copied by rsync, and a bootstrap waits for the cluster to
# settle: both take seconds on a busy 2-core machine, so the bounds are generous.
NODE_START_TIMEOUT_S = 90.0


def galera_provider() -> Optional[str]:
    for path in PROVIDER_PATHS:
        if os.path.exists(path):
            return path
    return None


def mariadbd() -> Optional[str]:
    found = shutil.which("mariadbd") or shutil.which("mysqld")
    if found:
        return found
    return "/usr/sbin/mariadbd" if os.path.exists("/usr/sbin/mariadbd") else None


def missing_tools() -> List[str]:
    """What this machine lacks to run a Galera cluster (empty: everything is here)."""
    lacking = []
    if mariadbd() is None:
        lacking.append("mariadbd")
    if galera_provider() is None:
        lacking.append("galera-4 (libgalera_smm.so)")
    if not shutil.which("rsync"):
        lacking.append("rsync (the snapshot transfer)")
    if not shutil.which("wsrep_sst_rsync"):
        lacking.append("wsrep_sst_rsync (mariadb-server)")
    try:
        import pymysql  # noqa: F401
    except ImportError:
        lacking.append("PyMySQL")
    return lacking


class GaleraNode:
    """One mariadbd of the cluster: its ports and folders, started and stopped by the
    cluster."""

    def __init__(self, base_dir: str, number: int) -> None:
        self.number = number
        self.base = base_dir
        self.datadir = os.path.join(base_dir, "data")
        self.socket = os.path.join(base_dir, "mysqld.sock")
        self.error_log = os.path.join(base_dir, "error.log")
        self.port = free_port()
        self.gcomm_port = free_port()
        self.ist_port = free_port()
        self.sst_port = free_port()
        self.proc: Optional[subprocess.Popen] = None
        os.makedirs(self.datadir, exist_ok=True)
        os.chmod(base_dir, 0o711)
        if os.geteuid() == 0:
            # The snapshot arrives through an rsync daemon, which drops root for "nobody":
            # the joiner's data directory must be writable by it (mariadbd runs as root and
            # reads it all the same).
            nobody = pwd.getpwnam("nobody")
            os.chown(self.datadir, nobody.pw_uid, nobody.pw_gid)

    def start(self, provider: str, cluster_name: str, peers: str, bootstrap: bool) -> None:
        user = ["--user=root"] if os.geteuid() == 0 else []
        options = ";".join([
            "gmcast.listen_addr=tcp://127.0.0.1:%d" % self.gcomm_port,
            "ist.recv_addr=127.0.0.1:%d" % self.ist_port,
            "gcache.size=32M",
            # Two nodes on one machine share its cores with the test: the defaults (a
            # few seconds) would declare a node gone during a CPU-hungry moment.
            "evs.suspect_timeout=PT15S", "evs.inactive_timeout=PT30S",
        ])
        self.proc = subprocess.Popen(
            [mariadbd(), "--no-defaults", "--datadir=" + self.datadir,
             "--socket=" + self.socket, "--port=%d" % self.port,
             "--bind-address=127.0.0.1", "--skip-name-resolve",
             "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
             "--log-error=" + self.error_log,
             "--pid-file=" + os.path.join(self.base, "mysqld.pid"),
             # What Galera requires of every node.
             "--binlog-format=ROW", "--innodb-autoinc-lock-mode=2",
             "--default-storage-engine=InnoDB",
             "--wsrep-on=ON", "--wsrep-provider=" + provider,
             "--wsrep-cluster-name=" + cluster_name,
             "--wsrep-cluster-address=gcomm://" + peers,
             "--wsrep-node-name=node%d" % self.number,
             "--wsrep-node-address=127.0.0.1:%d" % self.gcomm_port,
             "--wsrep-node-incoming-address=127.0.0.1:%d" % self.port,
             "--wsrep-provider-options=" + options,
             "--wsrep-sst-method=rsync",
             "--wsrep-sst-receive-address=127.0.0.1:%d" % self.sst_port,
             ] + (["--wsrep-new-cluster"] if bootstrap else []) + user,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        wait_until(self._synced, NODE_START_TIMEOUT_S, 0.1,
                   "Galera node %d to be synced" % self.number)

    def _exited(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError("Galera node %d (mariadbd) exited with %s:\n%s" % (
                self.number, self.proc.returncode, self.log_tail()))

    def log_tail(self, chars: int = 4000) -> str:
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return "(no error log)"

    def root(self):
        import pymysql
        return pymysql.connect(unix_socket=self.socket, user="root", password="",
                               autocommit=True, connect_timeout=5)

    def status(self, name: str) -> str:
        conn = self.root()
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS LIKE %s", (name,))
                row = cur.fetchone()
        finally:
            conn.close()
        return str(row[1]) if row else ""

    def _synced(self) -> bool:
        self._exited()
        if not os.path.exists(self.socket):
            return False
        try:
            return self.status("wsrep_local_state_comment") == "Synced" and \
                self.status("wsrep_ready") == "ON"
        except Exception:  # not accepting connections yet (or still receiving its snapshot)
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class GaleraCluster:
    """Two (or more) MariaDB Galera nodes on 127.0.0.1; url(i, database) points a chatroom
    process at node i. Everything lives in a temp folder of its own, which stop() removes."""

    USER = MariaDB.USER
    PASSWORD = MariaDB.PASSWORD
    _dbs = itertools.count(1)

    def __init__(self, size: int = 2) -> None:
        provider = galera_provider()
        if provider is None or mariadbd() is None:
            raise RuntimeError("Galera needs mariadbd and galera-4: %s" % missing_tools())
        # A folder of its own in /tmp rather than pytest's (whose parents are private to
        # root): the rsync daemon of a snapshot transfer runs as "nobody" and must reach
        # the joiner's data directory. Only the data directories it writes are its own.
        base_dir = tempfile.mkdtemp(prefix="chatroom-galera-")
        os.chmod(base_dir, 0o711)
        self.base = base_dir
        self.provider = provider
        self.binary = mariadbd()
        self.nodes = [GaleraNode(os.path.join(base_dir, "node%d" % (i + 1)), i + 1)
                      for i in range(size)]
        self.name = "chatroom-test-%d" % os.getpid()
        peers = ",".join("127.0.0.1:%d" % n.gcomm_port for n in self.nodes)
        try:
            first = self.nodes[0]
            install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
            user = ["--user=root"] if os.geteuid() == 0 else []
            subprocess.run([install, "--no-defaults", "--datadir=" + first.datadir,
                            "--auth-root-authentication-method=normal", "--skip-test-db"] + user,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            first.start(provider, self.name, peers, bootstrap=True)
            self._bootstrap(first)
            for node in self.nodes[1:]:  # empty data directory: a snapshot transfer fills it
                node.start(provider, self.name, peers, bootstrap=False)
            wait_until(lambda: all(n.status("wsrep_cluster_size") == str(size)
                                   for n in self.nodes), 30, 0.1,
                       "every Galera node to see a cluster of %d" % size)
        except BaseException:
            self.stop()
            raise

    def _bootstrap(self, node: GaleraNode) -> None:
        conn = node.root()
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'"
                            % (self.USER, self.PASSWORD))
                cur.execute("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%'" % self.USER)
        finally:
            conn.close()

    def version(self) -> str:
        v = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return "%s; galera %s" % (v.stdout.strip(), self.nodes[0].status("wsrep_provider_version"))

    def new_database(self) -> str:
        """A database name that does not exist yet (the first chatroom process creates it,
        and Galera replicates the CREATE to every node)."""
        return "chatroom_g%d_%d" % (os.getpid(), next(self._dbs))

    def url(self, node: int, database: str) -> str:
        return "mysql://%s:%s@127.0.0.1:%d/%s" % (self.USER, self.PASSWORD,
                                                   self.nodes[node].port, database)

    def stop(self) -> None:
        """Stop every node, the last started first; then remove their folders."""
        for node in reversed(self.nodes):
            try:
                node.stop()
            except Exception:  # the others must stop all the same
                node.kill()
        shutil.rmtree(self.base, ignore_errors=True)
