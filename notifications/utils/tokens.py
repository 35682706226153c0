"""Verification of the access tokens that user_management issues."""
import jwt

from servicekit.contract import ROLES, is_valid_id

from ..exceptions import InvalidToken


def verify_access_token(token, secret, algorithm="HS256"):
    """Return the claims of a valid access token, or raise InvalidToken."""
    if not isinstance(token, str) or not token:
        raise InvalidToken("Authentication token required")
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[algorithm],
            options={"require": ["exp", "sub", "type"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("Token expired") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("Invalid token") from None
    # A refresh token must never open a socket.
    if claims.get("type") != "access":
        raise InvalidToken("Invalid token")
    # The claims name the socket's rooms.
    if not is_valid_id(claims["sub"]) or claims.get("role") not in ROLES:
        raise InvalidToken("Invalid token")
    if claims.get("org") is not None and not is_valid_id(claims["org"]):
        raise InvalidToken("Invalid token")
    return claims
