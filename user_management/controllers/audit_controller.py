"""Reading the security audit log; writing goes through services/audit.record."""
from mongoengine.queryset.visitor import Q

from ..exceptions import Forbidden
from ..models import AuditEvent, User
from ..models.lookup import object_id
from ..models.rows import rows
from ..utils.pagination import paginate
from ..utils.roles import CLIENT_ADMIN, SITE_ADMIN, SUPER_ADMIN
from ..utils.timeutil import utcnow

READ_ALL = (SUPER_ADMIN, SITE_ADMIN)
# What a listed event answers (schemas.audit.AuditEventSchema), read raw.
EVENT_FIELDS = ("id", "type", "actor_id", "actor_email", "target_id", "target_email", "organization_id", "ip",
                "user_agent", "request_id", "details", "created_at")


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
    page = paginate(queryset.order_by("-created_at", "-id"), page, limit,
                    read=lambda page_set: rows(page_set, EVENT_FIELDS))
    if actor.role == CLIENT_ADMIN:
        _redact_outsiders(page.items, actor.organization_id)
    return page


def _redact_outsiders(events, organization_id):
    """A tenant sees who in it did what, but of anyone outside it (staff) only a role: no email, id, IP or agent.

    The events are changed in memory only, for this answer.
    """
    ids = {party_id for event in events for party_id in (event.actor_id, event.target_id) if party_id}
    users = {str(user.id): user for user in User.objects(id__in=[i for i in ids if object_id(i)]).only("role",
                                                                                                      "organization")}
    for event in events:
        for party in ("actor", "target"):
            party_id = getattr(event, f"{party}_id")
            user = users.get(party_id)
            if not party_id or (user is not None and user.organization_id == organization_id):
                continue
            setattr(event, f"{party}_role", user.role if user is not None else None)
            setattr(event, f"{party}_id", None)
            setattr(event, f"{party}_email", None)
            if party == "actor":
                event.ip = event.user_agent = None
