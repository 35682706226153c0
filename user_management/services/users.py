"""Users as the roles above them see them: who may manage whom."""
from ..exceptions import Forbidden, NotFound
from ..models import User, get_or_404
from ..utils.roles import is_staff, outranks

USER_NOT_FOUND = "User not found"


def find_managed_user(actor, user_id):
    """Return a user `actor` may manage: outranked, and in the actor's organization if it has one.

    A user of another organization is reported as missing, so ids do not leak across tenants.
    """
    target = get_or_404(User, user_id, USER_NOT_FOUND)
    if not is_staff(actor.role) and target.organization_id != actor.organization_id:
        raise NotFound(USER_NOT_FOUND)
    if target.id == actor.id or not outranks(actor.role, target.role):
        raise Forbidden("You can only manage users below your role")
    return target
