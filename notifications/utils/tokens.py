"""Verification of the access tokens that user_management issues."""
import jwt

from ..exceptions import InvalidToken

ROLES = frozenset({"super_admin", "site_admin", "operator", "client_admin", "client_user"})


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
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidToken("Invalid token")
    # The token version is what revocation is checked against (servicekit.revocation).
    if not isinstance(claims.get("tv"), int) or isinstance(claims["tv"], bool):
        raise InvalidToken("Invalid token")
    if claims.get("role") not in ROLES:
        raise InvalidToken("Invalid token")
    org = claims.get("org")
    if org is not None and (not isinstance(org, str) or not org):
        raise InvalidToken("Invalid token")
    return claims
