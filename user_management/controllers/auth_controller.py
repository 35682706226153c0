"""Login (with per-account lockout), token refresh with rotation and reuse detection, logout."""
from flask import current_app

from ..exceptions import NotFound, Unauthorized
from ..models import RefreshToken, User
from ..models import audit_event as events
from ..models.rows import user_row
from ..services import audit, lockout
from ..services.sessions import (
    end_all_sessions,
    end_session,
    ensure_can_sign_in,
    open_session,
    organization_is_active,
    refresh_digest,
)
from ..services.two_factor import start_login
from ..utils.passwords import burn_verify_time, verify_password
from ..utils.timeutil import utcnow

INVALID_CREDENTIALS = "Invalid email or password"
INVALID_REFRESH = "Invalid or expired refresh token"
REFRESH_REUSED = "Refresh token reuse detected; every session of this login was signed out"


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
    user = authenticate(email, password)
    challenge = start_login(user)
    if challenge is not None:
        return challenge
    session = open_session(user, client)
    audit.record(events.LOGIN_SUCCESS, actor=user, target=user, details={"twoFactor": False})
    return {"requiresTwoFactor": False, **session}


def refresh(refresh_token, client=None):
    """Rotate a refresh token; a rotated token presented again revokes its whole family.

    Of two simultaneous refreshes with one token, one rotates it and the other sees the reuse and
    revokes the family. The winner checks the family again once its new token is stored, so the
    revocation catches that token too, whichever of the two finishes first.
    """
    digest = refresh_digest(refresh_token)
    now = utcnow()
    current = RefreshToken.use(digest, now)
    if current is None:
        _refused(RefreshToken.objects(token_hash=digest).first(), now)
    user = current.user
    if user is None or not user.is_active or not organization_is_active(user):
        RefreshToken.revoke_family(current.family, now)
        raise Unauthorized(INVALID_REFRESH)
    session = open_session(user, client, family=current.family, family_expires_at=current.family_expires_at)
    if RefreshToken.family_is_revoked(current.family):
        RefreshToken.revoke_family(current.family)
        raise Unauthorized(REFRESH_REUSED)
    return session


def _refused(spent, now):
    """A refresh token that cannot be used: raise, after revoking its family when it was stolen."""
    if spent is not None and spent.was_replayed(now):
        RefreshToken.revoke_family(spent.family, now)
        audit.record(events.REFRESH_TOKEN_REUSE, target=spent.user, details={"family": spent.family})
        raise Unauthorized(REFRESH_REUSED)
    if spent is not None and spent.was_revoked():
        audit.record(events.REFRESH_TOKEN_REVOKED, target=spent.user, details={"family": spent.family})
    raise Unauthorized(INVALID_REFRESH)


def logout(refresh_token):
    """End the session a refresh token belongs to (every token of its family, and its access tokens)."""
    token = RefreshToken.objects(token_hash=refresh_digest(refresh_token)).first()
    if token is not None:
        end_session(token.user.id if token.user else None, token.family)


def list_sessions(user, current_sid=None):
    """The user's signed-in sessions, most recently used first; `current` marks the caller's own."""
    return [{**session, "current": session["id"] == current_sid} for session in RefreshToken.active_sessions(user)]


def end_own_session(user, session_id, current_sid=None):
    """The user signs one of its sessions out; another user's, unknown or ended session is NotFound."""
    if not RefreshToken.live_family_of(user, session_id):
        raise NotFound("Session not found")
    end_session(user.id, session_id)
    audit.record(events.SESSION_ENDED, actor=user, target=user,
                 details={"sessionId": session_id, "current": session_id == current_sid})


def profile(user_id):
    """The answered fields of the signed-in user `user_id`, read raw (no Document built)."""
    user = user_row(user_id)
    if user is None:
        raise Unauthorized("Access token revoked")
    return user


def logout_all(user):
    """The user ends every session of its own: refresh tokens revoked, access tokens invalidated."""
    end_all_sessions(user)
    audit.record(events.LOGOUT_ALL, actor=user, target=user)
