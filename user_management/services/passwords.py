"""Password checks the controllers share: the current password, and a new one against the policy."""
from ..exceptions import InvalidInput
from ..models import audit_event as events
from ..utils.password_strength import check_new_password  # noqa: F401  (the controllers' one entry point)
from ..utils.passwords import verify_password
from . import audit, lockout

# B105: an error message
WRONG_CURRENT_PASSWORD = "Current password is incorrect"  # nosec B105


def check_current_password(user, password, field="currentPassword"):
    """Raise InvalidInput unless `password` is the user's current password.

    A wrong one counts against the account's login lockout and is audited, like a failed login: a
    stolen access token must not become an unlimited password oracle. While locked: 429.
    """
    lockout.check_login(user.email)
    if not password or not verify_password(password, user.password_hash):
        locked_for = lockout.record_login_failure(user.email)
        audit.record(events.CURRENT_PASSWORD_FAILURE, actor=user, target=user)
        if locked_for:
            audit.record(events.ACCOUNT_LOCKED, actor=user, target=user,
                         details={"scope": "current_password", "seconds": locked_for})
        raise InvalidInput(WRONG_CURRENT_PASSWORD, {field: [WRONG_CURRENT_PASSWORD]})
    lockout.reset(lockout.login_key(user.email))
