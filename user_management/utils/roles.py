"""The role hierarchy: who outranks whom and who may invite whom."""

SUPER_ADMIN = "super_admin"
SITE_ADMIN = "site_admin"
OPERATOR = "operator"
CLIENT_ADMIN = "client_admin"
CLIENT_USER = "client_user"

ROLES = (SUPER_ADMIN, SITE_ADMIN, OPERATOR, CLIENT_ADMIN, CLIENT_USER)
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
