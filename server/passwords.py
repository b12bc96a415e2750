"""Password hashing: salted, slow, self-describing, compared in constant time.

A stored hash names its algorithm and cost, so the cost can be raised later without
invalidating old hashes:  scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>  or
pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>  (where OpenSSL lacks scrypt).
These functions are slow on purpose: call them on a worker thread, never on the loop.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

# scrypt cost: N=2**13, r=8 takes about 25 ms of CPU and 8 MiB here, inside the 20-50 ms a
# login may cost; an attacker pays the same for every guess.
SCRYPT_N = 2 ** 13
SCRYPT_R = 8
SCRYPT_P = 1
# About the same CPU time with PBKDF2-HMAC-SHA256, for Pythons built without scrypt.
PBKDF2_ITERATIONS = 100_000
SALT_BYTES = 16
HASH_BYTES = 32
# scrypt needs 128 * N * r bytes; OpenSSL's default cap (32 MiB) is lifted a little so that a
# later raise of N does not fail on hashes already stored.
SCRYPT_MAXMEM_BYTES = 256 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = os.urandom(SALT_BYTES)
    secret = password.encode("utf-8")
    if hasattr(hashlib, "scrypt"):
        digest = hashlib.scrypt(secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                                maxmem=SCRYPT_MAXMEM_BYTES, dklen=HASH_BYTES)
        return "scrypt$%d$%d$%d$%s$%s" % (SCRYPT_N, SCRYPT_R, SCRYPT_P, _b64(salt), _b64(digest))
    digest = hashlib.pbkdf2_hmac("sha256", secret, salt, PBKDF2_ITERATIONS, HASH_BYTES)
    return "pbkdf2_sha256$%d$%s$%s" % (PBKDF2_ITERATIONS, _b64(salt), _b64(digest))


def verify_password(password: str, stored: str) -> bool:
    secret = password.encode("utf-8")
    parts = stored.split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
            salt, expected = base64.b64decode(parts[4]), base64.b64decode(parts[5])
            digest = hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p,
                                    maxmem=SCRYPT_MAXMEM_BYTES, dklen=len(expected))
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            salt, expected = base64.b64decode(parts[2]), base64.b64decode(parts[3])
            digest = hashlib.pbkdf2_hmac("sha256", secret, salt, int(parts[1]), len(expected))
        else:
            return False
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


# Checked against when the login name does not exist, so that an unknown name costs the same
# time as a wrong password and timing does not reveal which names exist.
DUMMY_HASH = hash_password("not a real password 0")
