"""Session life: who may sign in, opening a session, ending every session, and whether an access token still holds.

A session is a short-lived access token plus a refresh token whose family
rotates on each refresh. Ending every session revokes the refresh tokens and
bumps the user's token version, which every access token carries (`tv`).
"""
import uuid

from flask import current_app
from flask_jwt_extended import create_access_token

from ..exceptions import Forbidden
from ..models import RefreshToken, User
from ..utils.timeutil import utcnow
from ..utils.tokens import new_token, token_digest

ACCOUNT_DEACTIVATED = "This account has been deactivated"
ORGANIZATION_DEACTIVATED = "Your organization has been deactivated"


def organization_is_active(user):
    """True for staff, and for members while their organization is active."""
    if user.organization_id is None:
        return True
    organization = user.organization
    return organization is not None and organization.is_active


def ensure_can_sign_in(user):
    """Raise Forbidden unless `user` and its organization (if any) are active."""
    if not user.is_active:
        raise Forbidden(ACCOUNT_DEACTIVATED)
    if not organization_is_active(user):
        raise Forbidden(ORGANIZATION_DEACTIVATED)


def token_is_current(user, claims):
    """True when `claims` were issued to `user` as it is now, and its organization (if any) is active."""
    return bool(user and user.is_active and claims.get("tv") == user.token_version and organization_is_active(user))


def refresh_digest(token):
    """The stored digest of a refresh token (keyed with JWT_REFRESH_SECRET)."""
    return token_digest(token, current_app.config["JWT_REFRESH_SECRET"])


def open_session(user, client=None, family=None, family_expires_at=None):
    """Issue an access token and a refresh token (a new family unless one is given)."""
    ensure_can_sign_in(user)
    config = current_app.config
    now = utcnow()
    refresh_token = new_token()
    family_expires_at = family_expires_at or now + config["REFRESH_FAMILY_MAX_AGE"]
    RefreshToken(
        token_hash=refresh_digest(refresh_token),
        user=user,
        family=family or uuid.uuid4().hex,
        expires_at=min(now + config["JWT_REFRESH_EXPIRES"], family_expires_at),
        family_expires_at=family_expires_at,
        user_agent=(client or {}).get("user_agent"),
        ip=(client or {}).get("ip"),
    ).save()
    if family is None:
        User.objects(id=user.id).update_one(set__last_login_at=now)
        user.reload()
    return {
        "accessToken": create_access_token(identity=user),
        "refreshToken": refresh_token,
        "user": user,
    }


def end_all_sessions(user):
    """Revoke every refresh token of `user` and invalidate its access tokens (no audit event)."""
    RefreshToken.revoke_all_for_user(user)
    User.objects(id=user.id).update_one(inc__token_version=1)
