"""The role hierarchy: who outranks whom and who may invite whom."""
# The roles themselves are part of the contract with notifications; re-exported for this service.
from servicekit.contract import CLIENT_ADMIN, CLIENT_USER, OPERATOR, ROLES, SITE_ADMIN, SUPER_ADMIN  # noqa: F401

STAFF_ROLES = (SUPER_ADMIN, SITE_ADMIN, OPERATOR)

RANK = {role: len(ROLES) - index for index, role in enumerate(ROLES)}

INVITABLE_ROLES = {
    SUPER_ADMIN: (SITE_ADMIN, OPERATOR, CLIENT_ADMIN),
    SITE_ADMIN: (OPERATOR, CLIENT_ADMIN),
    OPERATOR: (CLIENT_ADMIN,),
    CLIENT_ADMIN: (CLIENT_USER,),
    CLIENT_USER: (),
}


def can_invite(inviter_role, invitee_role):
    """True when `inviter_role` may send an invite for `invitee_role`."""
    return invitee_role in INVITABLE_ROLES.get(inviter_role, ())


def outranks(role, other_role):
    """True when `role` is strictly higher than `other_role`."""
    return RANK[role] > RANK[other_role]


def roles_above(role):
    """Every role strictly higher than `role`, highest first."""
    return [candidate for candidate in ROLES if outranks(candidate, role)]


def is_staff(role):
    """Staff roles belong to no organization."""
    return role in STAFF_ROLES
