"""Email one-time codes, recovery codes and the signed twoFactorToken.

Codes come from `secrets` and are stored only as HMAC digests keyed with a
server secret, so a database dump does not give away a 6-digit code by brute force.
"""
import hmac
import secrets
import uuid

import jwt as pyjwt
from flask import current_app

from .timeutil import utcnow
from .tokens import token_digest

OTP_DIGITS = 6
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes
RECOVERY_LENGTH = 10  # about 49 bits each
# Distinct from flask-jwt-extended's tokens (type "access"/"refresh", no audience),
# so @auth_required can never take a challenge token for an access token.
CHALLENGE_AUDIENCE = "user_management:two-factor"
CHALLENGE_TYPE = "two_factor"
# Signed and read only by user_management, with its own secret (access tokens use the asymmetric keys).
CHALLENGE_ALGORITHM = "HS256"


def _key():
    return current_app.config["JWT_ACCESS_SECRET"]


def new_otp():
    """Return a 6-digit code from the CSPRNG."""
    return f"{secrets.randbelow(10 ** OTP_DIGITS):0{OTP_DIGITS}d}"


def code_digest(kind, salt, code):
    """Keyed digest of a code, bound to what it is for (`kind`) and to whom (`salt`)."""
    return token_digest(f"{kind}:{salt}:{code}", _key())


def digests_match(digest, other):
    """Constant-time comparison of two digests."""
    return bool(digest and other) and hmac.compare_digest(digest, other)


def new_recovery_codes(count):
    """Return `count` fresh recovery codes formatted `xxxxx-xxxxx`."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalize_recovery_code(code):
    """Lower-case a recovery code and drop spaces and dashes, as people type it."""
    return "".join(ch for ch in code.lower() if ch not in " -")


def issue_challenge_token(user_id, challenge_id, purpose, expires):
    """Sign a short-lived twoFactorToken naming one stored challenge."""
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "cid": str(challenge_id),
        "purpose": purpose,
        "type": CHALLENGE_TYPE,
        "aud": CHALLENGE_AUDIENCE,
        "iat": now,
        "exp": now + expires,
        "jti": uuid.uuid4().hex,
    }
    return pyjwt.encode(claims, _key(), algorithm=CHALLENGE_ALGORITHM)


def read_challenge_token(token):
    """Return the claims of a valid twoFactorToken, or None (bad signature, expired, wrong type)."""
    try:
        claims = pyjwt.decode(
            token,
            _key(),
            algorithms=[CHALLENGE_ALGORITHM],
            audience=CHALLENGE_AUDIENCE,
            options={"require": ["exp", "sub", "cid", "aud", "type"]},
        )
    except pyjwt.PyJWTError:
        return None
    if claims.get("type") != CHALLENGE_TYPE:
        return None
    return claims
