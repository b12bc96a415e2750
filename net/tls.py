"""TLS under the framing: contexts for both ends, certificate fingerprints, and a
self-signed certificate for a LAN server that has no CA-signed one.

The frames do not change: TLS sits between them and TCP. What changes is the loop's I/O
(see net/loop.py): a handshake that the loop drives step by step, reads that may find bytes
already decrypted inside the SSL object, and writes that may need the socket to be readable.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import ssl
import subprocess
from typing import Any, List, Optional, Tuple

# A peer that has not finished its handshake after this long is dropped: a half-open TLS
# connection must not hold a slot (or anyone's attention) for long.
HANDSHAKE_TIMEOUT_S = 10.0
CERT_DAYS = 825
# TLS writes: SSL has no scatter/gather, so small queued chunks are joined up to this much
# per send (a few TLS records), and a larger chunk is sent in slices of this size.
TLS_SEND_BYTES = 64 * 1024  # the longest validity most clients accept for a leaf certificate


def server_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context


def client_context(ca_file: Optional[str] = None) -> ssl.SSLContext:
    """With a CA file: verify the chain and the host name. Without: accept any certificate
    and let the caller pin its fingerprint (trust on first use)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file:
        context.load_verify_locations(ca_file)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def fingerprint(der: bytes) -> str:
    """SHA-256 of the DER certificate, as colon-separated upper-case hex pairs."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def normalize_fingerprint(text: str) -> str:
    digest = "".join(ch for ch in text.upper() if ch in "0123456789ABCDEF")
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def cert_fingerprint_file(cert_file: str) -> str:
    with open(cert_file, encoding="ascii") as f:
        return fingerprint(ssl.PEM_cert_to_DER_cert(f.read()))


def make_self_signed(folder: str, host: str = "localhost") -> Tuple[str, str]:
    """Write cert.pem and key.pem into folder with the `openssl` command; returns their
    paths. Raises RuntimeError with what to do when openssl is not installed."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("making a certificate needs the `openssl` command (Debian/Ubuntu: "
                           "apt install openssl; Windows: it comes with Git for Windows), or "
                           "give your own with --tls-cert FILE --tls-key FILE")
    os.makedirs(folder, exist_ok=True)
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    names = ["DNS:localhost", "IP:127.0.0.1"]
    if host not in ("localhost", "127.0.0.1"):
        names.insert(0, ("IP:" if host.replace(".", "").isdigit() else "DNS:") + host)
    out = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-days", str(CERT_DAYS), "-keyout", key, "-out", cert, "-subj", "/CN=" + host,
         "-addext", "subjectAltName=" + ",".join(names)],
        capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("openssl failed: " + out.stderr.strip()[-300:])
    os.chmod(key, 0o600)
    return cert, key


def tls_send_slice(chunks: List[Any]) -> Any:
    """What one TLS send gets: small chunks joined up to TLS_SEND_BYTES, or the first slice
    of a large chunk. The same outbox always gives the same prefix, as a retried SSL write
    requires."""
    first = chunks[0]
    if len(first) >= TLS_SEND_BYTES or len(chunks) == 1:
        return first[:TLS_SEND_BYTES] if len(first) > TLS_SEND_BYTES else first
    picked, total = [], 0
    for chunk in chunks:
        if total + len(chunk) > TLS_SEND_BYTES:
            break
        picked.append(chunk)
        total += len(chunk)
    return b"".join(picked)
