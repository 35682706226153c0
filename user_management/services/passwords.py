"""Password checks the controllers share: the current password, and a new one against the policy."""
from ..exceptions import InvalidInput
from ..utils.password_strength import new_password_problems, user_inputs_for
from ..utils.passwords import verify_password

# B105: an error message
WRONG_CURRENT_PASSWORD = "Current password is incorrect"  # nosec B105


def check_current_password(user, password, field="currentPassword"):
    """Raise InvalidInput unless `password` is the user's current password."""
    if not password or not verify_password(password, user.password_hash):
        raise InvalidInput(WRONG_CURRENT_PASSWORD, {field: [WRONG_CURRENT_PASSWORD]})


def check_new_password(password, email, first_name, last_name, field="password", message="Validation failed"):
    """Raise InvalidInput when `password` breaks the policy or is guessable from the person's name or email."""
    problems = new_password_problems(password, user_inputs_for(email, first_name, last_name))
    if problems:
        raise InvalidInput(message, {field: problems})
