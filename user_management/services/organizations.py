"""Organizations as a user sees them: staff see any, a member only its own."""
from ..exceptions import NotFound
from ..models import Organization, get_or_404
from ..utils.roles import is_staff

ORGANIZATION_NOT_FOUND = "Organization not found"


def find_visible_organization(actor, organization_id):
    """Return an organization `actor` may look at: any for staff, only its own for a member.

    Another organization is reported as missing, so ids do not leak across tenants.
    """
    organization = get_or_404(Organization, organization_id, ORGANIZATION_NOT_FOUND)
    if not is_staff(actor.role) and str(organization.id) != actor.organization_id:
        raise NotFound(ORGANIZATION_NOT_FOUND)
    return organization
