"""An organization as seen by its members, and its status as managed by staff."""
from mongoengine.errors import NotUniqueError

from ..exceptions import Conflict, NotFound
from ..models import Invite, Organization, RefreshToken, User, get_or_404
from ..models import audit_event as events
from ..models.rows import user_rows
from ..services import audit
from ..services.organizations import ORGANIZATION_NOT_FOUND, find_visible_organization
from ..services.sessions import end_organization_sessions
from ..utils.pagination import WithExtras, paginate, with_rows
from ..utils.timeutil import utcnow


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
    previous_method = organization.two_factor_method
    if two_factor_method is not None:
        organization.two_factor_method = two_factor_method
    try:
        organization.save()
    except NotUniqueError:
        raise Conflict("An organization with this name already exists") from None
    if organization.two_factor_method != previous_method:
        audit.record(events.ORGANIZATION_TWO_FACTOR_CHANGED, actor=user, organization=organization,
                     details={"from": previous_method, "to": organization.two_factor_method})
    return organization


def list_members(user, page, limit):
    """Members of the user's organization, oldest first."""
    return _members_page(organization_of(user), page, limit)


def _members_page(organization, page, limit):
    # _id breaks ties: members created in the same millisecond keep one order from page to page.
    return paginate(User.objects(organization=organization).order_by("created_at", "id"), page, limit, read=user_rows)


def _counts(queryset, organization_ids):
    """{organization id: how many documents of `queryset` belong to it}, in one aggregation."""
    rows = queryset.filter(organization__in=organization_ids).aggregate(
        [{"$group": {"_id": "$organization", "count": {"$sum": 1}}}])
    return {str(row["_id"]): row["count"] for row in rows}


def _with_counts(organizations):
    """{organization id: extras} with memberCount and pendingInviteCount: two queries for any number."""
    ids = [organization.id for organization in organizations]
    members = _counts(User.objects, ids) if ids else {}
    pending = _counts(Invite.objects(**Invite.usable_filter()), ids) if ids else {}
    return {str(i): {"member_count": members.get(str(i), 0), "pending_invite_count": pending.get(str(i), 0)}
            for i in ids}


def list_organizations(page, limit, search=None, status=None):
    """Organizations (staff), newest first, with member and pending-invite counts."""
    # A provisional organization is still being created with its first invite: not listed yet.
    queryset = Organization.objects(provisional_until=None)
    if search:
        queryset = queryset.filter(name__icontains=search)
    if status:
        queryset = queryset.filter(is_active=status == "active")
    # _id breaks ties: organizations created in the same millisecond keep one order from page to page.
    result = paginate(queryset.order_by("-created_at", "-id"), page, limit)
    counts = _with_counts(result.items)
    return with_rows(result, lambda organization: counts[str(organization.id)])


def organization_detail(actor, organization_id):
    """One organization with its member and pending-invite counts."""
    organization = find_visible_organization(actor, organization_id)
    return WithExtras(organization, **_with_counts([organization])[str(organization.id)])


def members_of(actor, organization_id, page, limit):
    """Members of an organization the actor may look at, oldest first."""
    return _members_page(find_visible_organization(actor, organization_id), page, limit)


def set_organization_status(actor, organization_id, is_active):
    """Staff deactivate or reactivate an organization.

    While inactive its members cannot log in or refresh, their access tokens are
    refused, and its pending invites answer 410. Deactivation also revokes the
    members' refresh tokens, so reactivation means logging in again.
    """
    organization = get_or_404(Organization, organization_id, ORGANIZATION_NOT_FOUND)
    now = utcnow()
    Organization.objects(id=organization.id).update_one(set__is_active=is_active, set__updated_at=now)
    if not is_active:
        members = User.objects(organization=organization).scalar("id")
        RefreshToken.objects(user__in=list(members), revoked_at=None).update(set__revoked_at=now)
    end_organization_sessions(organization)
    organization.reload()
    audit.record(events.ORGANIZATION_REACTIVATED if is_active else events.ORGANIZATION_DEACTIVATED, actor=actor,
                 organization=organization)
    return organization
