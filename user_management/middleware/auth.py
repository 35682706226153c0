"""Access-token authentication and role checks on top of flask-jwt-extended.

An access token is accepted only while its user exists, is active, belongs to
an active organization (if any) and still has the token version the token was
issued with: logout-all, deactivation and password changes bump the version, so
every outstanding access token dies at once.
"""
from functools import wraps

from flask import request
from flask_jwt_extended import current_user, verify_jwt_in_request

from ..exceptions import Forbidden
from ..extensions import jwt
from ..models import User, get_by_id
from ..services.sessions import token_is_current
from .error_handlers import error_response


def _load_user(subject):
    # Per request (not `g`, which can outlive a request): both JWT callbacks need the user.
    cache = request.environ.setdefault("user_management.jwt_users", {})
    if subject not in cache:
        cache[subject] = get_by_id(User, subject)
    return cache[subject]


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
    return not token_is_current(_load_user(claims["sub"]), claims)


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
            verify_jwt_in_request()
            if roles and current_user.role not in roles:
                raise Forbidden("Your role does not allow this")
            return view(*args, **kwargs)

        return wrapper

    return decorator
