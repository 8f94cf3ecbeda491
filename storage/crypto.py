"""The process-wide key ring for data at rest and the resident pseudonym.

Keys come from configuration (ENCRYPTION_KEYS, PSEUDONYM_KEY). The first encryption
key encrypts; every key decrypts, so keys rotate with MultiFernet and `rotate()`.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, MultiFernet

_ring: MultiFernet | None = None
_pseudonym_key: bytes | None = None


class KeysNotConfiguredError(RuntimeError):
    pass


def configure(encryption_keys: list[str], pseudonym_key: str) -> None:
    global _ring, _pseudonym_key
    if not encryption_keys:
        raise KeysNotConfiguredError("ENCRYPTION_KEYS is empty")
    _ring = MultiFernet([Fernet(k.encode("ascii")) for k in encryption_keys])
    _pseudonym_key = pseudonym_key.encode("utf-8")


def _keys() -> MultiFernet:
    if _ring is None:
        raise KeysNotConfiguredError("storage.crypto.configure() was not called")
    return _ring


def encrypt(data: bytes) -> bytes:
    return _keys().encrypt(data)


def decrypt(token: bytes) -> bytes:
    return _keys().decrypt(token)


def rotate(token: bytes) -> bytes:
    """Re-encrypt a token under the primary key (used by the re-encryption command)."""
    return _keys().rotate(token)


def resident_key(channel: str, user_id: str) -> str:
    """The stable pseudonym of a channel user: HMAC-SHA256(PSEUDONYM_KEY, channel:user)."""
    if _pseudonym_key is None:
        raise KeysNotConfiguredError("PSEUDONYM_KEY is not configured")
    message = f"{channel}:{user_id}".encode()
    return hmac.new(_pseudonym_key, message, hashlib.sha256).hexdigest()


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")
