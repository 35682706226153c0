"""Creating accounts outside invites (first super admin) and managing a user's status."""
from flask import current_app
from mongoengine.errors import NotUniqueError

from servicekit import contract

from ..exceptions import Conflict, InvalidInput
from ..models import User
from ..models import audit_event as events
from ..services import audit, lockout
from ..services.passwords import check_new_password
from ..services.sessions import set_user_active
from ..services.users import find_managed_user
from ..utils.passwords import hash_password
from ..utils.roles import SUPER_ADMIN


PLACEHOLDER_NAMES = ("Super", "Admin")


def create_super_admin(email, password, first_name=None, last_name=None):
    """Create a super_admin after checking the names and the password policy; Conflict on a taken email.

    Names not given are the placeholders "Super Admin", which are nobody's name, so the password is
    checked only against the names given.
    """
    valid_name = contract.name_validators(contract.NAME_MAX_LENGTH)
    errors = {field: found for field, value in (("firstName", first_name), ("lastName", last_name))
              if value is not None and (found := contract.problems(value, valid_name))}
    if errors:
        raise InvalidInput("Invalid name", errors)
    check_new_password(password, email, first_name, last_name, message="Password does not meet the policy")
    user = User(
        email=email.strip().lower(),
        password_hash=hash_password(password, current_app.config["BCRYPT_ROUNDS"]),
        first_name=(first_name or PLACEHOLDER_NAMES[0]).strip(),
        last_name=(last_name or PLACEHOLDER_NAMES[1]).strip(),
        role=SUPER_ADMIN,
    )
    try:
        return user.save()
    except NotUniqueError:
        raise Conflict("An account with this email already exists") from None


def bootstrap_super_admin(email, password):
    """Create the first super_admin from the environment, once; safe when workers race."""
    if User.objects(role=SUPER_ADMIN).first() is not None:
        return None
    try:
        return create_super_admin(email, password)
    except Conflict:
        return None


def set_user_status(actor, user_id, is_active):
    """Deactivate or reactivate a user; deactivation ends every session at once."""
    target = find_managed_user(actor, user_id)
    set_user_active(target, is_active)
    target.reload()
    audit.record(events.USER_REACTIVATED if is_active else events.USER_DEACTIVATED, actor=actor, target=target)
    return target


def unlock_user(actor, user_id):
    """A higher role lifts the login and second-factor lockouts of a user it manages."""
    target = find_managed_user(actor, user_id)
    lockout.unlock_user(target)
    audit.record(events.USER_UNLOCKED, actor=actor, target=target)
    return target
