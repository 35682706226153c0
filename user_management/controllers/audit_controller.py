"""Reading the security audit log; writing goes through services/audit.record."""
from mongoengine.queryset.visitor import Q

from ..exceptions import Forbidden
from ..models import AuditEvent
from ..utils.pagination import paginate
from ..utils.roles import CLIENT_ADMIN, SITE_ADMIN, SUPER_ADMIN
from ..utils.timeutil import utcnow

READ_ALL = (SUPER_ADMIN, SITE_ADMIN)


def list_events(actor, page, limit, event_type=None, user_id=None, start=None, end=None):
    """Events `actor` may read, newest first: every event for super and site admins, the organization's for a client_admin."""
    if actor.role in READ_ALL:
        queryset = AuditEvent.objects()
    elif actor.role == CLIENT_ADMIN and actor.organization_id:
        queryset = AuditEvent.objects(organization_id=actor.organization_id)
    else:
        raise Forbidden("Your role does not allow this")
    # Past their retention, events are gone even before MongoDB's TTL monitor deletes them.
    queryset = queryset.filter(expires_at__gt=utcnow())
    if event_type:
        queryset = queryset.filter(type=event_type)
    if user_id:
        queryset = queryset.filter(Q(actor_id=user_id) | Q(target_id=user_id))
    if start is not None:
        queryset = queryset.filter(created_at__gte=start)
    if end is not None:
        queryset = queryset.filter(created_at__lte=end)
    return paginate(queryset.order_by("-created_at", "-id"), page, limit)
