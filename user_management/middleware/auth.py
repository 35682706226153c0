"""Access-token authentication and role checks on top of flask-jwt-extended.

An access token is accepted only while its user exists, is active, belongs to
an active organization (if any) and still has the token version the token was
issued with: logout-all, deactivation and password changes bump the version, so
every outstanding access token dies at once.

Per request the token is decoded and verified once (`access_claims`: the rate
limiter's key and `auth_required` share it), checked against the user's
revocation record in Redis (services.sessions.token_holds, no MongoDB read), and
the user document is loaded only when a view reads `current_user`. The errors
are flask-jwt-extended's, so its handlers (the callbacks below) answer as before.
"""
import base64
import json
from functools import wraps

import jwt as pyjwt
from flask import current_app, g, request
from flask_jwt_extended import current_user
from flask_jwt_extended.config import config as jwt_config
from flask_jwt_extended.exceptions import RevokedTokenError, UserClaimsVerificationError, UserLookupError
from flask_jwt_extended.view_decorators import _decode_jwt_from_headers
from flask_limiter.util import get_remote_address

from ..exceptions import Forbidden
from ..extensions import API_BUDGET, jwt
from ..models import User, get_by_id
from ..services.sessions import token_holds
from .error_handlers import error_response
from .signing import verification_key

# request.environ keys (per request; `g` can outlive a request when a test holds an app context).
_USERS = "user_management.jwt_users"
_DECODED = "user_management.access_token"


def _load_user(subject):
    cache = request.environ.setdefault(_USERS, {})
    if subject not in cache:
        cache[subject] = get_by_id(User, subject)
    return cache[subject]


class _LazyUser(dict):
    """flask-jwt-extended's per-request user slot, filled from MongoDB on first read of `current_user`."""

    def __init__(self, header, claims):
        super().__init__()
        self.header, self.claims = header, claims

    def __missing__(self, key):
        if key != "loaded_user":
            raise KeyError(key)
        user = _load_user(self.claims["sub"])
        if user is None:
            raise UserLookupError("The token's user does not exist", self.header, self.claims)
        self[key] = user
        return user


def _unverified_header(token):
    """The JOSE header of `token`, read alone (PyJWT's get_unverified_header parses the payload too)."""
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise pyjwt.DecodeError("Invalid header") from None
    if not isinstance(header, dict):
        raise pyjwt.DecodeError("Invalid header")
    return header


def _decode(token):
    """Verify `token` with the published key its header names: one signature check, one payload parse."""
    header = _unverified_header(token)
    key = verification_key(header)
    options = {"verify_aud": jwt_config.decode_audience is not None, "verify_sub": jwt_config.verify_sub}
    arguments = dict(algorithms=jwt_config.decode_algorithms, audience=jwt_config.decode_audience,
                     issuer=jwt_config.decode_issuer, leeway=jwt_config.leeway)
    try:
        claims = pyjwt.decode(token, key, options=options, **arguments)
    except pyjwt.ExpiredSignatureError as error:
        error.jwt_header = header
        error.jwt_data = pyjwt.decode(token, key, options={**options, "verify_exp": False}, **arguments)
        raise
    if jwt_config.identity_claim_key not in claims:
        raise pyjwt.InvalidTokenError(f"Missing claim: {jwt_config.identity_claim_key}")
    for claim, default in (("type", "access"), ("fresh", False), ("jti", None)):  # as flask-jwt-extended fills them
        claims.setdefault(claim, default)
    if not _is_access_token(header, claims):
        raise UserClaimsVerificationError("User claims verification failed", header, claims)
    return header, claims


def _decoded():
    """(header, claims) of this request's access token, or the error it raised: decoded once per request."""
    environ = request.environ
    if _DECODED not in environ:
        try:
            token, _ = _decode_jwt_from_headers()
            environ[_DECODED] = _decode(token)
        # Any error is kept and re-raised by verify_access_token to its handler: the limiter's key, which
        # asks first, must not see it (flask-limiter takes any error for a Redis outage).
        except Exception as error:
            environ[_DECODED] = error
    return environ[_DECODED]


def access_claims():
    """The verified claims of this request's access token, or None (missing, malformed, expired...)."""
    decoded = _decoded()
    return None if isinstance(decoded, Exception) else decoded[1]


def verify_access_token():
    """Require a valid, current access token (flask-jwt-extended's errors otherwise); `current_user` is lazy."""
    decoded = _decoded()
    if isinstance(decoded, Exception):
        raise decoded
    header, claims = decoded
    if getattr(g, "_jwt_extended_jwt", None) is not claims:
        holds, user = token_holds(claims)
        if not holds:
            raise RevokedTokenError(header, claims)
        users = request.environ.setdefault(_USERS, {})
        if user is not None:
            users[claims["sub"]] = user
        g._jwt_extended_jwt_user = _LazyUser(header, claims)
        g._jwt_extended_jwt_header = header
        g._jwt_extended_jwt = claims
        g._jwt_extended_jwt_location = "headers"
    return claims


def rate_limit_budget():
    """(limit, key) of the API budget this request spends: per user with a valid access token, else per IP."""
    claims = access_claims()
    if claims is None:
        return current_app.config["RATELIMIT_API"], get_remote_address()
    return current_app.config["RATELIMIT_USER"], f"user:{claims['sub']}"


def init_app(app):
    """Budget the app's API requests per user or per IP (extensions.limiter's application limit)."""
    app.extensions[API_BUDGET] = rate_limit_budget


@jwt.user_lookup_loader
def _user_lookup(_header, claims):
    return _load_user(claims["sub"])


@jwt.token_verification_loader
def _is_access_token(_header, claims):
    # flask-jwt-extended itself refuses only type "refresh" (the audience it checks at decode): a token
    # is an access token by its type, so a login challenge token (type "two_factor") never passes,
    # whatever key signed it.
    return claims.get("type") == "access"


@jwt.token_verification_failed_loader
def _not_an_access_token(_header, _claims):
    return error_response(401, "Invalid access token")


@jwt.token_in_blocklist_loader
def _token_revoked(_header, claims):
    # For a caller of flask-jwt-extended's own verify_jwt_in_request: the same check as verify_access_token.
    return not token_holds(claims)[0]


@jwt.additional_claims_loader
def _claims_for(user):
    return {"role": user.role, "org": user.organization_id, "tv": user.token_version}


@jwt.user_identity_loader
def _identity(user):
    return str(user.id)


@jwt.unauthorized_loader
def _missing_token(reason):
    return error_response(401, "Authentication required")


@jwt.invalid_token_loader
def _invalid_token(reason):
    return error_response(401, "Invalid access token")


@jwt.expired_token_loader
def _expired_token(_header, _claims):
    return error_response(401, "Access token expired")


@jwt.revoked_token_loader
def _revoked_token(_header, _claims):
    return error_response(401, "Access token revoked")


@jwt.user_lookup_error_loader
def _unknown_user(_header, _claims):
    return error_response(401, "Access token revoked")


def auth_required(*roles):
    """Require a valid access token and, when given, one of `roles`."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_access_token()
            if roles and current_user.role not in roles:
                raise Forbidden("Your role does not allow this")
            return view(*args, **kwargs)

        return wrapper

    return decorator
