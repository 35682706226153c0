"""Password hashing and the password policy.

Passwords are SHA-256 pre-hashed (base64) before bcrypt, so a password of any
accepted length (up to 128 characters, multi-byte included) is used in full:
bcrypt alone silently ignores, and bcrypt 5 refuses, input over 72 bytes.
"""
import base64
import hashlib
import re

import bcrypt

MIN_LENGTH = 8
MAX_LENGTH = 128
_DUMMY_HASHES = {}


def _prehash(password):
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password, rounds):
    """Return the bcrypt hash (`$2b$<rounds>$…`) of `password`."""
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password, password_hash):
    """True when `password` matches `password_hash`."""
    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))
    except (ValueError, TypeError):
        return False


def burn_verify_time(password, rounds):
    """Spend the time of one verification, for a user that does not exist."""
    if rounds not in _DUMMY_HASHES:
        _DUMMY_HASHES[rounds] = hash_password("dummy-password-for-timing", rounds)
    verify_password(password, _DUMMY_HASHES[rounds])


def policy_problems(password):
    """Return the reasons `password` breaks the basic policy (empty when it passes)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        problems.append(f"Password must be at most {MAX_LENGTH} characters long")
    if not re.search(r"[a-z]", password):
        problems.append("Password must contain a lowercase letter")
    if not re.search(r"[A-Z]", password):
        problems.append("Password must contain an uppercase letter")
    if not re.search(r"\d", password):
        problems.append("Password must contain a digit")
    return problems
