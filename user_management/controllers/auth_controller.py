"""Login (with per-account lockout), token refresh with rotation and reuse detection, logout."""
import uuid

from flask import current_app
from flask_jwt_extended import create_access_token

from ..exceptions import Forbidden, Unauthorized
from ..models import RefreshToken, User
from ..models import audit_event as events
from ..utils import audit
from ..utils.passwords import burn_verify_time, verify_password
from ..utils.timeutil import utcnow
from ..utils.tokens import new_token, token_digest
from . import lockout

INVALID_CREDENTIALS = "Invalid email or password"
INVALID_REFRESH = "Invalid or expired refresh token"
REFRESH_REUSED = "Refresh token reuse detected; every session of this login was signed out"
ACCOUNT_DEACTIVATED = "This account has been deactivated"
ORGANIZATION_DEACTIVATED = "Your organization has been deactivated"


def _refresh_digest(token):
    return token_digest(token, current_app.config["JWT_REFRESH_SECRET"])


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


def authenticate(email, password):
    """Return the active user with these credentials; same error and timing for every failure.

    Consecutive failures lock the email (known or not) for growing delays; while
    locked, no password is checked and the answer is 429 with Retry-After.
    """
    lockout.check_login(email)
    user = User.objects(email=email).first()
    if user is None:
        burn_verify_time(password, current_app.config["BCRYPT_ROUNDS"])
        _login_failed(email, None)
    if not verify_password(password, user.password_hash):
        _login_failed(email, user)
    lockout.reset(lockout.login_key(email))
    ensure_can_sign_in(user)
    return user


def _login_failed(email, user):
    """Count and audit a failed login, then raise the one generic error."""
    locked_for = lockout.record_login_failure(email)
    details = {} if user is not None else {"emailHash": lockout.email_hash(email)}
    audit.record(events.LOGIN_FAILURE, target=user, details=details)
    if locked_for:
        audit.record(events.ACCOUNT_LOCKED, target=user, details={**details, "scope": "login", "seconds": locked_for})
    raise Unauthorized(INVALID_CREDENTIALS)


def login(email, password, client=None):
    """Check the password; open a session, or return the second-factor challenge when one applies."""
    from .two_factor_controller import start_login

    user = authenticate(email, password)
    challenge = start_login(user)
    if challenge is not None:
        return challenge
    session = open_session(user, client)
    audit.record(events.LOGIN_SUCCESS, actor=user, target=user, details={"twoFactor": False})
    return {"requiresTwoFactor": False, **session}


def open_session(user, client=None, family=None, family_expires_at=None):
    """Issue an access token and a refresh token (a new family unless one is given)."""
    ensure_can_sign_in(user)
    config = current_app.config
    now = utcnow()
    refresh_token = new_token()
    RefreshToken(
        token_hash=_refresh_digest(refresh_token),
        user=user,
        family=family or uuid.uuid4().hex,
        expires_at=min(now + config["JWT_REFRESH_EXPIRES"], family_expires_at or now + config["REFRESH_FAMILY_MAX_AGE"]),
        family_expires_at=family_expires_at or now + config["REFRESH_FAMILY_MAX_AGE"],
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


def refresh(refresh_token, client=None):
    """Rotate a refresh token; a token presented twice revokes its whole family."""
    digest = _refresh_digest(refresh_token)
    now = utcnow()
    current = RefreshToken.objects(token_hash=digest, used_at=None, revoked_at=None, expires_at__gt=now).modify(
        new=True, set__used_at=now
    )
    if current is None:
        spent = RefreshToken.objects(token_hash=digest).first()
        if spent is not None and spent.expires_at > now and (spent.used_at or spent.revoked_at):
            RefreshToken.revoke_family(spent.family, now)
            owner = spent.user
            audit.record(events.REFRESH_TOKEN_REUSE, target=owner, details={"family": spent.family})
            raise Unauthorized(REFRESH_REUSED)
        raise Unauthorized(INVALID_REFRESH)
    user = current.user
    if user is None or not user.is_active or not organization_is_active(user):
        RefreshToken.revoke_family(current.family, now)
        raise Unauthorized(INVALID_REFRESH)
    return open_session(user, client, family=current.family, family_expires_at=current.family_expires_at)


def logout(refresh_token):
    """End the session a refresh token belongs to (every token of its family)."""
    token = RefreshToken.objects(token_hash=_refresh_digest(refresh_token)).first()
    if token is not None:
        RefreshToken.revoke_family(token.family)


def end_all_sessions(user):
    """Revoke every refresh token of `user` and invalidate its access tokens (no audit event)."""
    RefreshToken.revoke_all_for_user(user)
    User.objects(id=user.id).update_one(inc__token_version=1)


def logout_all(user):
    """The user ends every session of its own: refresh tokens revoked, access tokens invalidated."""
    end_all_sessions(user)
    audit.record(events.LOGOUT_ALL, actor=user, target=user)
