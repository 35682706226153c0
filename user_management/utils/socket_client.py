"""Real-time events to the notifications service's Socket.IO clients.

user_management never serves Socket.IO itself: it publishes through a
write-only Flask-SocketIO client on the Redis message queue, and every
notifications process delivers to its own connected clients. Real-time events
are a courtesy on top of state that is already stored, so a Redis outage is
logged and never fails the request.
"""
import logging

from servicekit import contract

from .redis_client import socketio_emitter
from .roles import CLIENT_ADMIN, roles_above

log = logging.getLogger(__name__)


def _emit(event, payload, room):
    try:
        socketio_emitter().emit(event, payload, to=room, namespace="/")
    except Exception as exc:  # Redis down: the state change is stored; only the push is lost
        log.warning("socket emit failed", extra={"event": event, "error": type(exc).__name__})


def notify_user(user_id, notification_type, message, data=None):
    """Send a `notification` event to one user's sockets."""
    _emit(contract.NOTIFICATION, contract.notification(notification_type, message, data), contract.user_room(user_id))


def broadcast_invite_status(invite):
    """Send `inviteStatusUpdate` to every role above the invitee and to the invitee's organization admins."""
    organization_id = invite.reference_id("organization")
    payload = {
        "inviteId": str(invite.id),
        "email": invite.email,
        "role": invite.role,
        "status": invite.effective_status(),
        "organization": organization_id,
        "timestamp": contract.timestamp(),
    }
    rooms = [contract.role_room(role) for role in roles_above(invite.role) if role != CLIENT_ADMIN]
    if organization_id:
        rooms.append(contract.org_room(organization_id, CLIENT_ADMIN))
    for room in rooms:
        _emit(contract.INVITE_STATUS_UPDATE, payload, room)
