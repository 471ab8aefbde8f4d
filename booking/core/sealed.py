"""Secrets kept for a short while, encrypted with a key derived from SECRET_KEY.

A manage token waits in the outbox until its message is sent, and an API answer is kept for
a retry: neither may be readable in the database. Fernet (AES-128-CBC with HMAC-SHA256)
from `cryptography`; a key per purpose, derived with HKDF, so one sealed value can never be
opened for another purpose.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


@lru_cache(maxsize=16)
def _fernet(secret_key: str, purpose: str) -> Fernet:
    key = HKDF(
        algorithm=SHA256(), length=32, salt=None, info=f"sprechstunde:{purpose}".encode()
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str, purpose: str) -> str:
    return _fernet(current_app.config["SECRET_KEY"], purpose).encrypt(value.encode()).decode()


def unseal(sealed: str | None, purpose: str) -> str | None:
    """The value, or None when it cannot be opened (another SECRET_KEY, tampered with)."""
    if not sealed:
        return None
    try:
        fernet = _fernet(current_app.config["SECRET_KEY"], purpose)
        return fernet.decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None
