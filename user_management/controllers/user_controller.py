"""Creating accounts outside invites (first super admin) and managing a user's status."""
from bson import ObjectId
from bson.errors import InvalidId
from flask import current_app
from mongoengine.errors import NotUniqueError

from ..exceptions import Conflict, Forbidden, NotFound
from ..models import RefreshToken, User
from ..models import audit_event as events
from ..utils import audit
from ..utils.password_strength import check_new_password
from ..utils.passwords import hash_password
from ..utils.roles import SUPER_ADMIN, is_staff, outranks


def create_super_admin(email, password, first_name="Super", last_name="Admin"):
    """Create a super_admin after checking the password policy; Conflict on a taken email."""
    check_new_password(password, email, first_name, last_name, message="Password does not meet the policy")
    user = User(
        email=email.strip().lower(),
        password_hash=hash_password(password, current_app.config["BCRYPT_ROUNDS"]),
        first_name=first_name,
        last_name=last_name,
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


def find_user(user_id):
    """Return the user with this id, or raise NotFound (also for a malformed id)."""
    try:
        user = User.objects(id=ObjectId(user_id)).first()
    except (InvalidId, TypeError):
        user = None
    if user is None:
        raise NotFound("User not found")
    return user


def find_managed_user(actor, user_id):
    """Return a user `actor` may manage: outranked, and in the actor's organization if it has one.

    A user of another organization is reported as missing, so ids do not leak across tenants.
    """
    target = find_user(user_id)
    if not is_staff(actor.role) and target.organization_id != actor.organization_id:
        raise NotFound("User not found")
    if target.id == actor.id or not outranks(actor.role, target.role):
        raise Forbidden("You can only manage users below your role")
    return target


def set_user_status(actor, user_id, is_active):
    """Deactivate or reactivate a user; deactivation ends every session at once."""
    target = find_managed_user(actor, user_id)
    if is_active:
        User.objects(id=target.id).update_one(set__is_active=True)
    else:
        User.objects(id=target.id).update_one(set__is_active=False, inc__token_version=1)
        RefreshToken.revoke_all_for_user(target)
    target.reload()
    audit.record(events.USER_REACTIVATED if is_active else events.USER_DEACTIVATED, actor=actor, target=target)
    return target


def unlock_user(actor, user_id):
    """A higher role lifts the login and second-factor lockouts of a user it manages."""
    from . import lockout

    target = find_managed_user(actor, user_id)
    lockout.unlock_user(target)
    audit.record(events.USER_UNLOCKED, actor=actor, target=target)
    return target
