"""Password checks the controllers share: the current password, and a new one against the policy."""
from ..exceptions import InvalidInput
from ..utils.password_strength import check_new_password  # noqa: F401  (the controllers' one entry point)
from ..utils.passwords import verify_password

# B105: an error message
WRONG_CURRENT_PASSWORD = "Current password is incorrect"  # nosec B105


def check_current_password(user, password, field="currentPassword"):
    """Raise InvalidInput unless `password` is the user's current password."""
    if not password or not verify_password(password, user.password_hash):
        raise InvalidInput(WRONG_CURRENT_PASSWORD, {field: [WRONG_CURRENT_PASSWORD]})
