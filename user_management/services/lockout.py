"""Guessing protection: consecutive failures lock a key for growing delays (1, 5, 15 minutes).

Keys: a login is keyed on a hash of the normalized email (known or not, so an
unknown email behaves exactly like a known one), second-factor codes on the user,
invite and reset tokens (which name no account) on the client IP.
"""
import hashlib

from flask import current_app

from ..exceptions import TooManyRequests
from ..models import Lockout, Throttle
from ..utils.timeutil import utcnow

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


def two_factor_failures_key(user):
    """The hourly wrong-code counter key of `user`, across challenges."""
    return f"2fa-failures:{user.id}"


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


def _check_counted(key, hour_key, hour_limit, message):
    check(key, message)
    wait = Throttle.blocked_for(hour_key, _config(hour_limit))
    if wait:
        raise TooManyRequests(message, retry_after=wait)


def _record_counted(key, hour_key, hour_limit, window):
    Throttle.hit(hour_key, _config(hour_limit), _config(window))
    return record_failure(key)


def check_login(email):
    """Raise while logins to `email` are locked, or its hourly failure budget is spent."""
    _check_counted(login_key(email), login_hour_key(email), "LOGIN_MAX_FAILURES_PER_HOUR", LOCKED_MESSAGE)


def record_login_failure(email):
    """Count a failed login to `email`; return the lock in seconds it caused, else 0."""
    return _record_counted(login_key(email), login_hour_key(email), "LOGIN_MAX_FAILURES_PER_HOUR",
                           "LOGIN_FAILURE_WINDOW")


def check_two_factor(user, message):
    """Raise while `user`'s second-factor codes are locked, or its failure cap across challenges is reached."""
    _check_counted(two_factor_key(user), two_factor_failures_key(user), "TWO_FACTOR_USER_MAX_FAILURES", message)


def record_two_factor_failure(user):
    """Count a wrong second-factor code of `user`; return the lock in seconds it caused, else 0."""
    return _record_counted(two_factor_key(user), two_factor_failures_key(user), "TWO_FACTOR_USER_MAX_FAILURES",
                           "TWO_FACTOR_USER_FAILURE_WINDOW")


def clear_two_factor_failures(user):
    """Forget `user`'s second-factor lock and failure count (a reset by a higher role)."""
    reset(two_factor_key(user))
    Throttle.objects(key=two_factor_failures_key(user)).delete()


def unlock_user(user):
    """Clear every lock and counter of `user`: logins, hourly budget and second factor."""
    reset(login_key(user.email), two_factor_key(user))
    Throttle.objects(key__in=[login_hour_key(user.email), two_factor_failures_key(user)]).delete()


def locked_user_ids(users, now=None):
    """Ids (str) of `users` (pairs of id and email) that cannot sign in now: a login or second-factor lock,
    or a spent hourly failure budget. Two queries, whatever the number of users."""
    now = now or utcnow()
    owners, budgets = {}, {}
    for user_id, email in users:
        owners[login_key(email)] = owners[f"2fa:{user_id}"] = str(user_id)
        budgets[login_hour_key(email)] = (str(user_id), _config("LOGIN_MAX_FAILURES_PER_HOUR"))
        budgets[f"2fa-failures:{user_id}"] = (str(user_id), _config("TWO_FACTOR_USER_MAX_FAILURES"))
    if not owners:
        return set()
    locked = {owners[key] for key in Lockout.objects(key__in=list(owners), locked_until__gt=now).scalar("key")}
    for key, count in Throttle.objects(key__in=list(budgets), expires_at__gt=now).scalar("key", "count"):
        user_id, limit = budgets[key]
        if count >= limit:
            locked.add(user_id)
    return locked
