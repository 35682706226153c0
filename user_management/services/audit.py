"""Write security events to the audit log, with the caller's IP, user agent and request id.

This is the one place outside routes that reads the request: controllers call
`record` without knowing of HTTP, and outside a request (CLI) the client fields
are simply empty.
"""
import logging
from datetime import timedelta

from flask import current_app, has_request_context, request
from mongoengine.errors import NotUniqueError

from servicekit.observability import current_request_id

from ..models import AuditEvent
from ..utils.timeutil import utcnow

log = logging.getLogger(__name__)

# Detail keys that must never reach the log, whatever a caller passes.
SECRET_KEYS = {"password", "newPassword", "currentPassword", "token", "refreshToken", "accessToken", "otp", "code",
               "secret", "twoFactorToken", "recoveryCodes"}


def client_context():
    """{ip, user_agent, request_id} of the current request; all None outside one."""
    if not has_request_context():
        return {"ip": None, "user_agent": None, "request_id": None}
    return {
        "ip": request.remote_addr,
        "user_agent": (request.user_agent.string or "")[:512] or None,
        "request_id": current_request_id(),
    }


def _id(document):
    return str(document.id) if document is not None and getattr(document, "id", None) is not None else None


def _organization_id(organization, *users):
    # An explicit "" means "no organization", even when the actor has one.
    if organization is not None:
        return (organization or None) if isinstance(organization, str) else _id(organization)
    for user in users:
        if user is not None and getattr(user, "organization_id", None):
            return user.organization_id
    return None


def record(event_type, actor=None, target=None, organization=None, details=None, event_id=None):
    """Store one audit event; the organization (object, id, or "" for none) defaults to the target's, then the actor's.

    A failure to write is logged, never raised: the action it describes already happened.
    With an `event_id` a retried step records its event once: a second write is skipped.
    """
    now = utcnow()
    client = client_context()
    clean = {key: value for key, value in (details or {}).items() if key not in SECRET_KEYS}
    try:
        event = AuditEvent(
            id=event_id,
            type=event_type,
            actor_id=_id(actor),
            actor_email=getattr(actor, "email", None),
            target_id=_id(target),
            target_email=getattr(target, "email", None),
            organization_id=_organization_id(organization, target, actor),
            ip=client["ip"],
            user_agent=client["user_agent"],
            request_id=client["request_id"],
            details=clean,
            created_at=now,
            expires_at=now + timedelta(days=current_app.config["AUDIT_RETENTION_DAYS"]),
        ).save(force_insert=True)
    except NotUniqueError:
        return AuditEvent.objects(id=event_id).first()
    except Exception:  # the audit log must not turn a done action into a 500
        log.exception("audit event not stored", extra={"event_type": event_type})
        return None
    log.info("audit event", extra={"event_type": event_type, "actor_id": event.actor_id, "target_id": event.target_id})
    return event
