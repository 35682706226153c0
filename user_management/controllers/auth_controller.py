"""Login, token refresh with rotation and reuse detection, logout."""
import uuid

from flask import current_app
from flask_jwt_extended import create_access_token

from ..exceptions import Forbidden, Unauthorized
from ..models import RefreshToken, User
from ..utils.passwords import burn_verify_time, verify_password
from ..utils.timeutil import utcnow
from ..utils.tokens import new_token, token_digest

INVALID_CREDENTIALS = "Invalid email or password"
INVALID_REFRESH = "Invalid or expired refresh token"
REFRESH_REUSED = "Refresh token reuse detected; every session of this login was signed out"


def _refresh_digest(token):
    return token_digest(token, current_app.config["JWT_REFRESH_SECRET"])


def authenticate(email, password):
    """Return the active user with these credentials; same error and timing for every failure."""
    user = User.objects(email=email).first()
    if user is None:
        burn_verify_time(password, current_app.config["BCRYPT_ROUNDS"])
        raise Unauthorized(INVALID_CREDENTIALS)
    if not verify_password(password, user.password_hash):
        raise Unauthorized(INVALID_CREDENTIALS)
    if not user.is_active:
        raise Forbidden("This account has been deactivated")
    return user


def login(email, password, client=None):
    """Check the password; open a session, or return the second-factor challenge when one applies."""
    from .two_factor_controller import start_login

    user = authenticate(email, password)
    challenge = start_login(user)
    if challenge is not None:
        return challenge
    return {"requiresTwoFactor": False, **open_session(user, client)}


def open_session(user, client=None, family=None, family_expires_at=None):
    """Issue an access token and a refresh token (a new family unless one is given)."""
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
        "user": user.to_dict(),
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
            raise Unauthorized(REFRESH_REUSED)
        raise Unauthorized(INVALID_REFRESH)
    user = current.user
    if user is None or not user.is_active:
        RefreshToken.revoke_family(current.family, now)
        raise Unauthorized(INVALID_REFRESH)
    return open_session(user, client, family=current.family, family_expires_at=current.family_expires_at)


def logout(refresh_token):
    """End the session a refresh token belongs to (every token of its family)."""
    token = RefreshToken.objects(token_hash=_refresh_digest(refresh_token)).first()
    if token is not None:
        RefreshToken.revoke_family(token.family)


def logout_all(user):
    """End every session of `user`: refresh tokens revoked, access tokens invalidated."""
    RefreshToken.revoke_all_for_user(user)
    User.objects(id=user.id).update_one(inc__token_version=1)
