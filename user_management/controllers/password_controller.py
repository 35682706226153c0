"""Forgotten, reset and changed passwords; each ends the user's other sessions."""
import time

from flask import current_app

from ..exceptions import Gone, InvalidInput
from ..models import PasswordResetToken, Throttle, TwoFactorChallenge, User
from ..models import audit_event as events
from ..services import audit, lockout
from ..services.notification_client import queue_email
from ..services.passwords import check_current_password, check_new_password
from ..services.sessions import end_all_sessions, open_session
from ..utils.passwords import hash_password, verify_password
from ..utils.timeutil import utcnow
from ..utils.tokens import new_token, token_digest

INVALID_RESET = "This password reset link is invalid or has expired"
RESET_USED = "This password reset link was already used, or a newer one was sent; request a new one"
RESET_EXPIRED = "This password reset link has expired; request a new one"


def _set_password(user, password):
    """Store a new password and end every session and pending login of the user."""
    User.objects(id=user.id).update_one(
        set__password_hash=hash_password(password, current_app.config["BCRYPT_ROUNDS"]), set__updated_at=utcnow()
    )
    end_all_sessions(user)
    TwoFactorChallenge.void_pending(user)
    PasswordResetToken.objects(user=user, used_at=None).update(set__used_at=utcnow())
    user.reload()


def _reset_link(token):
    return f"{current_app.config['FRONTEND_URL']}/reset-password?token={token}"


def forgot_password(email):
    """Email a single-use reset link when the account exists and is active; silent otherwise.

    Both paths take at least FORGOT_PASSWORD_MIN_SECONDS, so the answer time
    does not tell whether the email belongs to an account.
    """
    config = current_app.config
    started = time.perf_counter()
    token = new_token()
    user = User.objects(email=email).first()
    if user is not None and user.is_active and not Throttle.hit(
        f"reset-mail:{user.id}", config["PASSWORD_RESET_EMAILS_PER_HOUR"], config["PASSWORD_RESET_EMAIL_WINDOW"]
    ):
        now = utcnow()
        # Only the newest link works.
        PasswordResetToken.objects(user=user, used_at=None).update(set__used_at=now)
        PasswordResetToken(user=user, token_hash=token_digest(token),
                           expires_at=now + config["PASSWORD_RESET_EXPIRES"]).save()
        queue_email(user.email, "password-reset", {
            "link": _reset_link(token),
            "firstName": user.first_name,
            "expiresInMinutes": int(config["PASSWORD_RESET_EXPIRES"].total_seconds() // 60),
        })
    remaining = config["FORGOT_PASSWORD_MIN_SECONDS"] - (time.perf_counter() - started)
    if remaining > 0:
        time.sleep(remaining)


def check_reset_token(token):
    """Tell the reset page, before the form is filled, whether its link still works (Gone saying why not).

    Unknown links count against the client as token guesses, as in `reset_password`.
    """
    guard = lockout.token_key("reset", audit.client_context()["ip"])
    lockout.check(guard)
    record = PasswordResetToken.objects(token_hash=token_digest(token)).first()
    user = record.user if record is not None else None
    if user is None or not user.is_active:
        lockout.record_failure(guard)
        raise Gone(INVALID_RESET)
    if record.used_at is not None:
        raise Gone(RESET_USED)
    if record.expires_at <= utcnow():
        raise Gone(RESET_EXPIRED)
    return True


def reset_password(token, password):
    """Set a new password with a reset link (single use); every session of the user ends.

    Unknown, used or expired links count against the client as token guesses.
    """
    guard = lockout.token_key("reset", audit.client_context()["ip"])
    lockout.check(guard)
    now = utcnow()
    record = PasswordResetToken.objects(token_hash=token_digest(token), used_at=None, expires_at__gt=now).first()
    if record is None:
        lockout.record_failure(guard)
    user = record.user if record is not None else None
    if user is None or not user.is_active:
        raise Gone(INVALID_RESET)
    check_new_password(password, user.email, user.first_name, user.last_name)
    if PasswordResetToken.objects(id=record.id, used_at=None).modify(new=True, set__used_at=now) is None:
        raise Gone(INVALID_RESET)
    _set_password(user, password)
    audit.record(events.PASSWORD_RESET, actor=user, target=user)
    return user


def change_password(user, current_password, new_password, client=None):
    """Change the caller's password, end its other sessions and return a fresh session for the caller."""
    check_current_password(user, current_password)
    if verify_password(new_password, user.password_hash):
        raise InvalidInput("Validation failed", {"newPassword": ["The new password must differ from the current one"]})
    check_new_password(new_password, user.email, user.first_name, user.last_name, field="newPassword")
    _set_password(user, new_password)
    audit.record(events.PASSWORD_CHANGED, actor=user, target=user)
    return open_session(user, client)
