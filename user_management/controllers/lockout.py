"""Guessing protection: consecutive failures lock a key for growing delays (1, 5, 15 minutes).

Keys: a login is keyed on a hash of the normalized email (known or not, so an
unknown email behaves exactly like a known one), second-factor codes on the user,
invite and reset tokens (which name no account) on the client IP.
"""
import hashlib

from flask import current_app

from ..exceptions import TooManyRequests
from ..models import Lockout, Throttle

LOCKED_MESSAGE = "Too many failed attempts, please try again later"


def _config(name):
    return current_app.config[name]


def email_hash(email):
    """A stable, non-reversible-at-a-glance name for an email (known or not)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def login_key(email):
    """The lockout key of logins to `email`."""
    return f"login:{email_hash(email)}"


def login_hour_key(email):
    """The hourly failed-login counter key of `email`."""
    return f"login-hour:{email_hash(email)}"


def two_factor_key(user):
    """The lockout key of second-factor codes of `user`."""
    return f"2fa:{user.id}"


def token_key(kind, ip):
    """The lockout key of `kind` token guesses from one client IP."""
    return f"{kind}-token:{ip or 'unknown'}"


def check(key, message=LOCKED_MESSAGE):
    """Raise TooManyRequests (with Retry-After) while `key` is locked."""
    wait = Lockout.locked_for(key)
    if wait:
        raise TooManyRequests(message, retry_after=wait)


def record_failure(key):
    """Count a failure of `key`; return the lock in seconds this failure caused, else 0."""
    return Lockout.record_failure(key, _config("LOCKOUT_THRESHOLD"), _config("LOCKOUT_DELAYS"), _config("LOCKOUT_MEMORY"))


def reset(*keys):
    """Forget the failures of `keys` (a success or an unlock)."""
    Lockout.clear(*keys)


def check_login(email):
    """Raise while logins to `email` are locked, or its hourly failure budget is spent."""
    check(login_key(email))
    wait = Throttle.blocked_for(login_hour_key(email), _config("LOGIN_MAX_FAILURES_PER_HOUR"))
    if wait:
        raise TooManyRequests(LOCKED_MESSAGE, retry_after=wait)


def record_login_failure(email):
    """Count a failed login to `email`; return the lock in seconds it caused, else 0."""
    Throttle.hit(login_hour_key(email), _config("LOGIN_MAX_FAILURES_PER_HOUR"), _config("LOGIN_FAILURE_WINDOW"))
    return record_failure(login_key(email))


def unlock_user(user):
    """Clear every lock and counter of `user`: logins, hourly budget and second factor."""
    reset(login_key(user.email), two_factor_key(user))
    Throttle.objects(key__in=[login_hour_key(user.email), f"2fa-failures:{user.id}"]).delete()
