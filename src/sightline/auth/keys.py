"""API key format: `sl_<scope>_<30 random base62><6 base62 CRC32>`, stored only as SHA-256.

The checksum (as in GitHub's token format) lets a scanner or the server reject a mistyped or
made-up key without a database lookup.
"""

import hashlib
import secrets
import string
import zlib
from enum import StrEnum

ALPHABET = string.digits + string.ascii_letters
RANDOM_LENGTH = 30
CHECKSUM_LENGTH = 6


class Scope(StrEnum):
    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def generate_key(scope: Scope) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"sl_{scope.value}_{body}{_checksum(body)}"


def has_valid_checksum(key: str) -> bool:
    parts = key.split("_")
    if len(parts) != 3 or parts[0] != "sl" or len(parts[2]) != RANDOM_LENGTH + CHECKSUM_LENGTH:
        return False
    body, checksum = parts[2][:RANDOM_LENGTH], parts[2][RANDOM_LENGTH:]
    return secrets.compare_digest(_checksum(body), checksum)


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def display_prefix(key: str) -> str:
    return key[: len("sl_") + 12]
