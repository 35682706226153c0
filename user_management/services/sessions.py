"""Session life: who may sign in, opening a session, ending every session, and whether an access token still holds.

A session is a short-lived access token plus a refresh token whose family
rotates on each refresh; the family's id is the session's id, which every access
token carries (`sid`). Ending every session revokes the refresh tokens and
bumps the user's token version, which every access token carries (`tv`). Ending
one session revokes its family and records its id as ended in the user's
revocation record, so that session's access tokens and sockets die at once.

Every change that ends access bumps the token version and then publishes the
user's revocation record (servicekit.revocation) to Redis, where notifications
(which has no database) checks sockets against it; every login and refresh
writes the record too, so a flushed Redis is repaired by the next refresh.
"""
import logging
import uuid
from datetime import timedelta

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


def _record_ttl():
    """How long a record (or an ended session in it) must live: the longest-lived access token, and some."""
    return current_app.config["JWT_ACCESS_EXPIRES"].total_seconds() + RECORD_GRACE_SECONDS


def _write_state(user, announce):
    prefix = current_app.config["SHARED_KEY_PREFIX"]
    try:
        client = get_redis()
        revocation.write(client, prefix, user.id, user_state(user), _record_ttl())
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
    """MongoDB's answer: True when `claims` were issued to `user` as it is now, its organization (if any) is
    active, and the token's session (`sid`, its refresh-token family) was not ended on its own."""
    sid = claims.get("sid")
    return bool(user and user.is_active and claims.get("tv") == user.token_version and organization_is_active(user)
                and not (sid and RefreshToken.family_is_revoked(sid)))


def token_holds(claims):
    """Whether an access token with (verified) `claims` still holds: (answer, the user if it had to be loaded).

    One HGETALL of the user's revocation record (also carrying ended sessions), no MongoDB read: every
    change writes the record before it returns, so every worker sees it at once. A missing record is
    rebuilt from MongoDB; while Redis is down MongoDB answers, as it did before the record existed.
    """
    try:
        state = revocation.read(get_redis(), current_app.config["SHARED_KEY_PREFIX"], claims["sub"])
    except redis.RedisError as exc:
        log.warning("revocation record unreadable; checking MongoDB", extra={"error": type(exc).__name__})
        user = get_by_id(User, claims["sub"])
        return token_is_current(user, claims), user
    if state is None:
        user = get_by_id(User, claims["sub"])
        current = token_is_current(user, claims)  # before the rebuild: MongoDB says which sessions ended
        if user is not None:
            _rebuild_record(user)
        return current, user
    return revocation.holds(state, claims.get("tv"), claims.get("sid")), None


def _rebuild_record(user):
    """Write a missing record from MongoDB: the user's state, and the sessions ended within a record's lifetime."""
    remember_user_state(user)
    ttl = _record_ttl()
    ended = RefreshToken.objects(user=user.id, revoked_at__gte=utcnow() - timedelta(seconds=ttl)).distinct("family")
    prefix = current_app.config["SHARED_KEY_PREFIX"]
    try:
        client = get_redis()
        for sid in ended:
            revocation.end_session(client, prefix, user.id, sid, ttl)
    except redis.RedisError as exc:
        log.error("revocation record not rebuilt", extra={"user_id": str(user.id), "error": type(exc).__name__})


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
    session_id = family or uuid.uuid4().hex
    RefreshToken(
        token_hash=refresh_digest(refresh_token),
        user=user,
        family=session_id,
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
        "accessToken": create_access_token(identity=user, additional_claims={"sid": session_id}),
        "refreshToken": refresh_token,
        "user": user,
    }


def end_session(user_id, sid):
    """End one session: revoke its refresh tokens, and refuse its access tokens and sockets at once."""
    RefreshToken.revoke_family(sid)
    if user_id is None:
        return
    prefix = current_app.config["SHARED_KEY_PREFIX"]
    try:
        client = get_redis()
        revocation.end_session(client, prefix, user_id, sid, _record_ttl())
        revocation.announce(client, prefix, user_id)
    except redis.RedisError as exc:
        # API requests then ask MongoDB only when the record is missing; sockets hold until the token expires.
        log.error("ended session not recorded", extra={"user_id": str(user_id), "error": type(exc).__name__})


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
