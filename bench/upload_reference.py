"""The upload's real limit on this machine (issue 22): the simplest Python program doing the
same work as the server's upload path, and nothing else.

One process sends ``total_bytes`` over loopback TCP (1 MiB writes, as the benchmark client
does); this one receives them into one reused buffer, hashes them with SHA-256, writes them
to a file on the same file system as the server's storage, and fsyncs it at the end. One
thread, no framing, no checks: what the server does per byte, at the speed of this disk, this
hash and this loopback. The time runs from the first byte to the end of the fsync.

    python bench/upload_reference.py [--mib 1024] [--dir /tmp]     prints one JSON line
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import sys
import tempfile
import time
from typing import Any, Dict, Tuple

HOST = "127.0.0.1"
CHUNK = 1024 * 1024


def _block(seed: int) -> bytes:
    return hashlib.sha256(b"%d" % seed).digest() * (CHUNK // 32)


def loopback_sender(total_bytes: int, seed: int) -> Tuple[socket.socket, int]:
    """(the receiving end, the sender's pid): a forked process sends ``total_bytes`` over
    loopback TCP in CHUNK writes, then exits (the caller reaps it)."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    pid = os.fork()
    if pid == 0:  # the sender
        try:
            s = socket.create_connection((HOST, port))
            block = _block(seed)
            sent = 0
            while sent < total_bytes:
                s.sendall(block)
                sent += len(block)
            s.close()
        finally:
            os._exit(0)
    conn, _ = listener.accept()
    listener.close()
    return conn, pid


def reference(total_bytes: int, directory: str) -> Dict[str, Any]:
    """Receive, hash, write, fsync ``total_bytes``; MB/s from first byte to durable."""
    conn, pid = loopback_sender(total_bytes, 1)
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    hasher = hashlib.sha256()
    fd, path = tempfile.mkstemp(prefix="upload-reference-", dir=directory)
    got = 0
    try:
        with os.fdopen(fd, "wb", buffering=0) as f:
            n = conn.recv_into(view)
            t0 = time.perf_counter()
            while n:
                chunk = view[:n]
                hasher.update(chunk)
                f.write(chunk)
                got += n
                if got >= total_bytes:
                    break
                n = conn.recv_into(view)
            write_s = time.perf_counter() - t0
            os.fsync(f.fileno())
        elapsed = time.perf_counter() - t0
    finally:
        os.unlink(path)
        conn.close()
        os.waitpid(pid, 0)
    return {"bytes": got, "seconds": elapsed, "fsync_s": elapsed - write_s,
            "sha256": hasher.hexdigest(), "mb_per_s": got / elapsed / 1e6}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mib", type=int, default=1024)
    p.add_argument("--dir", default=tempfile.gettempdir())
    args = p.parse_args()
    print(json.dumps(reference(args.mib * 1024 * 1024, args.dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
