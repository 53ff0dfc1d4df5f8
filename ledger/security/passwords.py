"""Password hashing (argon2id, argon2-cffi's defaults) and the one password policy.

Hashes are never facts about the partnership: they live in the credentials
table (``ledger.security.store``), never in an event, an export or the chain.
"""

from __future__ import annotations

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.errors import InvalidInput

#: A password shorter than this is refused (NCSC guidance favours length over composition rules).
MIN_LENGTH = 12
#: Longer input is refused before hashing, so a huge "password" cannot cost the server seconds.
MAX_LENGTH = 1024

#: argon2-cffi's defaults (RFC 9106's low-memory profile: 64 MiB, 3 passes) everywhere, except that the test
#: suite sets OPENBOOK_PASSWORD_HASHING=fast (argon2's cheapest profile) so that hundreds of logins take
#: seconds, not minutes. A hash records its own parameters, so either verifies the other's hashes.
_hasher = (
    PasswordHasher.from_parameters(profiles.CHEAPEST)
    if os.environ.get("OPENBOOK_PASSWORD_HASHING") == "fast"
    else PasswordHasher()
)


def check_policy(password: str) -> None:
    """Refuse a password the policy does not allow (what `openbook users set-password` and the pages ask)."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password: at least {MIN_LENGTH} characters are needed")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"password: at most {MAX_LENGTH} characters")
    if password.strip() != password or not password.strip():
        raise InvalidInput("password: no leading or trailing spaces")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def matches(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash still costs one hash, so timing does not tell who exists."""
    if len(password) > MAX_LENGTH:
        return False
    if stored_hash is None:
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
