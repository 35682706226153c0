"""Opaque tokens: generated from `secrets`, stored only as digests."""
import hashlib
import hmac
import secrets

TOKEN_BYTES = 32


def new_token():
    """Return a fresh URL-safe token carrying 256 bits of randomness."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token, key=None):
    """Return the hex digest stored in place of `token` (HMAC-SHA256 when a key is given)."""
    data = token.encode()
    if key:
        return hmac.new(key.encode(), data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()
