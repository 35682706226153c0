"""Creating accounts outside invites (first super admin) and managing a user's status."""
from flask import current_app
from mongoengine.errors import NotUniqueError
from mongoengine.queryset.visitor import Q

from servicekit import contract

from ..exceptions import Conflict, InvalidInput
from ..models import Organization, User
from ..models import audit_event as events
from ..models.rows import user_rows
from ..services import audit, lockout
from ..services.passwords import check_new_password
from ..services.organizations import find_visible_organization
from ..services.sessions import set_user_active
from ..services.users import find_managed_user
from ..utils.pagination import paginate, with_rows
from ..utils.passwords import hash_password
from ..utils.roles import SUPER_ADMIN, is_staff
from ..utils.timeutil import utcnow


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


def _listed_organization(actor, organization_id):
    """The organization a list is narrowed to: the one named (if the actor may see it), else the actor's own
    (None for staff: everyone)."""
    if organization_id:
        return find_visible_organization(actor, organization_id).id
    return None if is_staff(actor.role) else actor.organization.id


def list_users(actor, page, limit, search=None, role=None, organization_id=None, status=None):
    """Users the actor may see (staff: everyone; client_admin: its organization), newest first.

    Each row also says whether the user is locked out and names its organization.
    """
    queryset = User.objects
    organization = _listed_organization(actor, organization_id)
    if organization is not None:
        queryset = queryset.filter(organization=organization)
    if search:
        queryset = queryset.filter(Q(email__icontains=search) | Q(first_name__icontains=search)
                                   | Q(last_name__icontains=search))
    if role:
        queryset = queryset.filter(role=role)
    now = utcnow()
    locked = None
    if status == "inactive":
        queryset = queryset.filter(is_active=False)
    elif status:
        # Locks are few and keyed by email hash: find the locked among the candidates, then filter on them.
        # Every listed user is one of these candidates, so this set also answers each row's `locked`.
        locked = lockout.locked_user_ids(queryset.filter(is_active=True).scalar("id", "email"), now)
        queryset = queryset.filter(is_active=True, **{"id__in" if status == "locked" else "id__nin": list(locked)})
    # _id breaks ties: users created in the same millisecond keep one order from page to page.
    result = paginate(queryset.order_by("-created_at", "-id"), page, limit, read=user_rows)
    if locked is None:
        locked = lockout.locked_user_ids([(user.id, user.email) for user in result.items], now)
    names = dict(Organization.objects(id__in=list({user.organization_id for user in result.items} - {None}))
                 .scalar("id", "name"))
    names = {str(key): name for key, name in names.items()}
    return with_rows(result, lambda user: {"locked": str(user.id) in locked,
                                           "organization_name": names.get(user.organization_id)})


def update_profile(user, first_name=None, last_name=None):
    """The user changes its own names (already validated like an invite acceptance's)."""
    changes = {field: value.strip() for field, value in (("first_name", first_name), ("last_name", last_name))
               if value is not None}
    User.objects(id=user.id).update_one(**{f"set__{field}": value for field, value in changes.items()},
                                        set__updated_at=utcnow())
    user.reload()
    audit.record(events.PROFILE_UPDATED, actor=user, target=user,
                 details={"fields": sorted({"first_name": "firstName", "last_name": "lastName"}[f] for f in changes)})
    return user
