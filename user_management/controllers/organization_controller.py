"""An organization as seen by its members."""
from mongoengine.errors import NotUniqueError

from ..exceptions import Conflict, NotFound
from ..models import Organization, User
from ..utils.pagination import paginate


def organization_of(user):
    """Return the user's organization, or NotFound for staff."""
    organization = user.organization
    if organization is None:
        raise NotFound("You do not belong to an organization")
    return organization


def update_organization(user, name=None, two_factor_method=None):
    """Rename the organization and/or change its second-factor method."""
    organization = organization_of(user)
    if name is not None and name.strip().lower() != organization.name_key:
        if Organization.objects(name_key=name.strip().lower()).first() is not None:
            raise Conflict("An organization with this name already exists")
        organization.name = name
    if two_factor_method is not None:
        organization.two_factor_method = two_factor_method
    try:
        return organization.save()
    except NotUniqueError:
        raise Conflict("An organization with this name already exists") from None


def list_members(user, page, limit):
    """Members of the user's organization, oldest first."""
    organization = organization_of(user)
    return paginate(User.objects(organization=organization).order_by("created_at"), page, limit)
