"""Session life: who may sign in, opening a session, ending every session, and whether an access token still holds.

A session is a short-lived access token plus a refresh token whose family
rotates on each refresh. Ending every session revokes the refresh tokens and
bumps the user's token version, which every access token carries (`tv`).

Every change that ends access bumps the token version and then publishes the
user's revocation record (servicekit.revocation) to Redis, where notifications
(which has no database) checks sockets against it; every login and refresh
writes the record too, so a flushed Redis is repaired by the next refresh.
"""
import logging
import uuid

import redis
from flask import current_app
from flask_jwt_extended import create_access_token

from servicekit import revocation

from ..exceptions import Forbidden
from ..models import RefreshToken, User, get_by_id
from ..utils.redis_client import get_redis
from ..utils.timeutil import utcnow
from ..utils.tokens import new_token, token_digest

log = logging.getLogger(__name__)
# A record outlives the newest access token it vouches for by this much (clock skew between services).
RECORD_GRACE_SECONDS = 60

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


def user_state(user):
    """The revocation facts of `user` as MongoDB has them now."""
    return revocation.UserState(user.token_version, user.is_active, organization_is_active(user))


def _write_state(user, announce):
    config = current_app.config
    prefix = config["SHARED_KEY_PREFIX"]
    ttl = config["JWT_ACCESS_EXPIRES"].total_seconds() + RECORD_GRACE_SECONDS
    try:
        client = get_redis()
        revocation.write(client, prefix, user.id, user_state(user), ttl)
        if announce:
            revocation.announce(client, prefix, user.id)
    except redis.RedisError as exc:
        # API requests still check MongoDB; sockets fall back to the token's expiry (docs/notifications.md).
        log.error("revocation record not written", extra={"user_id": str(user.id), "error": type(exc).__name__})


def remember_user_state(user):
    """Write `user`'s revocation record (a login or refresh: nothing to announce)."""
    _write_state(user, announce=False)


def publish_user_state(user_id):
    """Write the record of `user_id` fresh from MongoDB and announce it, so its open sockets are re-checked."""
    user = User.objects(id=user_id).first()
    if user is not None:
        _write_state(user, announce=True)


def token_is_current(user, claims):
    """True when `claims` were issued to `user` as it is now, and its organization (if any) is active."""
    return bool(user and user.is_active and claims.get("tv") == user.token_version and organization_is_active(user))


def token_holds(claims):
    """Whether an access token with (verified) `claims` still holds: (answer, the user if it had to be loaded).

    One HGETALL of the user's revocation record (also carrying ended sessions), no MongoDB read: every
    change writes the record before it returns, so every worker sees it at once. A missing record is
    rebuilt from MongoDB; while Redis is down MongoDB answers, as it did before the record existed.
    """
    config = current_app.config
    try:
        record = revocation.read_record(get_redis(), config["SHARED_KEY_PREFIX"], claims["sub"])
    except redis.RedisError as exc:
        log.warning("revocation record unreadable; checking MongoDB", extra={"error": type(exc).__name__})
        user = get_by_id(User, claims["sub"])
        return token_is_current(user, claims), user
    if record is None:
        user = get_by_id(User, claims["sub"])
        if user is not None:
            remember_user_state(user)
        return token_is_current(user, claims), user
    return revocation.record_holds(record, claims), None


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
    remember_user_state(user)
    return {
        "accessToken": create_access_token(identity=user),
        "refreshToken": refresh_token,
        "user": user,
    }


def end_all_sessions(user):
    """Revoke every refresh token of `user` and invalidate its access tokens and sockets (no audit event)."""
    RefreshToken.revoke_all_for_user(user)
    User.objects(id=user.id).update_one(inc__token_version=1)
    publish_user_state(user.id)


def set_user_active(user, is_active):
    """Deactivate (ending every session) or reactivate a user; either way its old tokens stay dead."""
    if is_active:
        User.objects(id=user.id).update_one(set__is_active=True, inc__token_version=1)
        publish_user_state(user.id)
    else:
        User.objects(id=user.id).update_one(set__is_active=False)
        end_all_sessions(user)


def end_organization_sessions(organization):
    """After an organization's status changed: every member's tokens die and open sockets are re-checked.

    Called once the organization's flag is stored, so no token issued from now on predates it.
    """
    members = list(User.objects(organization=organization).scalar("id"))
    User.objects(id__in=members).update(inc__token_version=1)
    for member in members:
        publish_user_state(member)
