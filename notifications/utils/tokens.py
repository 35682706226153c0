"""Verification of the access tokens that user_management issues."""
import jwt

from servicekit.contract import ROLES, is_valid_id

from ..exceptions import InvalidToken
from .jwks import ASYMMETRIC_ALGORITHMS


def verify_access_token(token, keys, issuer=None, audience=None):
    """Return the claims of a valid access token, or raise InvalidToken.

    `keys` is a PyJWKClient on user_management's JWKS: the token's `kid` picks the public
    key and that key's own algorithm is the only one accepted. `issuer` and `audience`
    are checked when given.
    """
    if not isinstance(token, str) or not token:
        raise InvalidToken("Authentication token required")
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    try:
        key = keys.get_signing_key_from_jwt(token)
        if key.algorithm_name not in ASYMMETRIC_ALGORITHMS:
            raise InvalidToken("Invalid token")
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm_name],
            issuer=issuer,
            audience=audience,
            options={"require": ["exp", "sub", "type"], "verify_aud": audience is not None},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("Token expired") from None
    except jwt.PyJWKClientConnectionError:
        raise InvalidToken("Token keys unavailable; try again shortly") from None
    except (jwt.InvalidTokenError, jwt.PyJWKClientError, jwt.PyJWKError):
        raise InvalidToken("Invalid token") from None
    # A refresh token must never open a socket.
    if claims.get("type") != "access":
        raise InvalidToken("Invalid token")
    # The claims name the socket's rooms.
    if not is_valid_id(claims["sub"]) or claims.get("role") not in ROLES:
        raise InvalidToken("Invalid token")
    # The token version is what revocation is checked against (servicekit.revocation).
    if not isinstance(claims.get("tv"), int) or isinstance(claims["tv"], bool):
        raise InvalidToken("Invalid token")
    if claims.get("org") is not None and not is_valid_id(claims["org"]):
        raise InvalidToken("Invalid token")
    # The session a socket belongs to, so ending that session alone ends the socket.
    if claims.get("sid") is not None and not isinstance(claims["sid"], str):
        raise InvalidToken("Invalid token")
    return claims
