"""argon2id password hashing with parameters from config."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128


def _hasher() -> PasswordHasher:
    cache = current_app.extensions.setdefault("booking_password_hasher", {})
    config = current_app.config
    key = (config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"], config["ARGON2_PARALLELISM"])
    if key not in cache:
        cache[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1], parallelism=key[2])
    return cache[key]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    # Without a stored hash, verify against a throwaway one so timing does not tell.
    target = password_hash or _dummy_hash()
    try:
        _hasher().verify(target, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def _dummy_hash() -> str:
    cache = current_app.extensions.setdefault("booking_dummy_hash", {})
    params = current_app.config["ARGON2_MEMORY_COST"]
    if params not in cache:
        cache[params] = hash_password("not-a-real-password-only-for-timing")
    return cache[params]
