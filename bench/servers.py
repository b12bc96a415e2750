"""The servers a benchmark runs side by side, each as its own process on loopback, and what
we read about them from /proc: CPU seconds (all threads) and resident memory.

    ours      python server_main.py (SQLite, flood control off)
    miniircd  the single-file Python IRC server (pip install miniircd)
    ngircd    the C IRC server (apt install ngircd), with a private config
    asyncio   bench/asyncio_baseline.py: a minimal asyncio server speaking our framing
    reference bench/pingpong_reference.py: the least work a stored message takes (issue 22)
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A benchmark logs in thousands of users and opens thousands of connections from 127.0.0.1:
# the per-address and per-user limits of docs/PROTOCOL.md §10 are for a classroom, not this.
BENCH_LIMITS = ["--max-conns-per-ip", "0", "--max-conns-per-user", "0", "--logins-per-ip", "0",
                "--codes-per-ip", "0", "--sms-hourly", "0"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a whole process (every thread), from /proc/<pid>/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peak_rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def wait_port(port: int, proc: subprocess.Popen, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError("port %d never opened" % port)


class Server:
    name = ""

    def __init__(self) -> None:
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> int:
        return rss_kib(self.pid)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class OurServer(Server):
    name = "chatroom"

    def __init__(self, data_dir: str, *extra: str, python: str = sys.executable) -> None:
        super().__init__()
        os.makedirs(data_dir, exist_ok=True)
        self.log_path = os.path.join(data_dir, "server.log")
        # A restart on the same folder appends: only what this process writes counts.
        self._log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        self._log = open(self.log_path, "ab")
        cmd = [python, os.path.join(ROOT, "server_main.py"), "--data-dir", data_dir,
               "--auth-port", "0", "--chat-port", "0", "--file-port", "0",
               "--flood-limit", "0", "--log-level", "WARNING"] + BENCH_LIMITS + list(extra)
        # The listening line is INFO; ask for it on a quiet server by reading ports back.
        cmd[cmd.index("--log-level") + 1] = "INFO"
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 30
        while True:
            m = re.search(r"listening auth=\S+:(\d+) chat=\S+:(\d+) file=\S+:(\d+)", self.log())
            if m:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("our server did not start; see " + self.log_path)
            time.sleep(0.02)
        self.ports: Dict[str, int] = {"auth": int(m.group(1)), "chat": int(m.group(2)),
                                      "file": int(m.group(3))}
        self.port = self.ports["chat"]

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            f.seek(self._log_offset)
            return f.read()


class MiniIrcd(Server):
    name = "miniircd"

    @staticmethod
    def available() -> bool:
        return shutil.which("miniircd") is not None

    def __init__(self) -> None:
        super().__init__()
        self.port = free_port()
        # miniircd refuses root unless told so explicitly (CI machines run as root).
        as_root = ["--setuid", "root"] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen(["miniircd", "--listen", "127.0.0.1", "--ports",
                                      str(self.port)] + as_root, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)


class NgIrcd(Server):
    name = "ngircd"

    @staticmethod
    def binary() -> Optional[str]:
        return shutil.which("ngircd") or ("/usr/sbin/ngircd" if os.path.exists(
            "/usr/sbin/ngircd") else None)

    @classmethod
    def available(cls) -> bool:
        return cls.binary() is not None

    def __init__(self, work_dir: str) -> None:
        super().__init__()
        self.port = free_port()
        os.makedirs(work_dir, exist_ok=True)
        conf = os.path.join(work_dir, "ngircd.conf")
        with open(conf, "w") as f:
            f.write("""[Global]
Name = bench.local
Info = benchmark
Listen = 127.0.0.1
Ports = %d
PidFile = %s/ngircd.pid
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 30
PingTimeout = 600
PongTimeout = 600
[Options]
PAM = no
DNS = no
Ident = no
""" % (self.port, work_dir))
        self.proc = subprocess.Popen([self.binary(), "-n", "-f", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)


class AsyncioBaseline(Server):
    name = "asyncio"

    def __init__(self, mode: str = "ping") -> None:
        super().__init__()
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "bench",
                                                                   "asyncio_baseline.py"),
                                      str(self.port), mode])
        wait_port(self.port, self.proc)


def versions() -> List[str]:
    out = ["Python %s" % sys.version.split()[0]]
    if NgIrcd.available():
        v = subprocess.run([NgIrcd.binary(), "--version"], capture_output=True, text=True)
        out.append(v.stdout.splitlines()[0].split("-")[0] if v.stdout else "ngIRCd")
    try:
        from importlib.metadata import version
        out.append("miniircd %s" % version("miniircd"))
    except Exception:  # not installed: the comparison is skipped and says so
        pass
    return out


class PingpongReference(Server):
    """bench/pingpong_reference.py: ``mode`` "loop" commits on its one thread, "writer" on a
    writer thread as chatroom does; its SQLite file lives in ``work_dir``."""

    def __init__(self, work_dir: str, mode: str) -> None:
        super().__init__()
        self.name = "reference (%s)" % mode
        os.makedirs(work_dir, exist_ok=True)
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "bench",
                                                                   "pingpong_reference.py"),
                                      str(self.port), os.path.join(work_dir, "ref.db"), mode])
        wait_port(self.port, self.proc)
