"""Real-time events to the notifications service's Socket.IO clients.

user_management never serves Socket.IO itself: it publishes through a
write-only Flask-SocketIO client on the Redis message queue, and every
notifications process delivers to its own connected clients. Real-time events
are a courtesy on top of state that is already stored, so a Redis outage is
logged and never fails the request.
"""
import logging

from flask import current_app
from flask_socketio import SocketIO
from socketio import RedisManager

from .roles import CLIENT_ADMIN, roles_above
from .timeutil import isoformat, utcnow

log = logging.getLogger(__name__)


def _emitter():
    app = current_app._get_current_object()
    emitter = app.extensions.get("socketio_emitter")
    if emitter is None:
        # The queue is built here only to give its Redis timeouts: a Redis that is down or
        # unreachable then costs an emit seconds, never a hung request.
        queue = RedisManager(app.config["REDIS_URL"], channel=app.config["SOCKETIO_CHANNEL"], write_only=True,
                             redis_options={"socket_connect_timeout": 2, "socket_timeout": 2})
        emitter = SocketIO(message_queue=app.config["REDIS_URL"], client_manager=queue, async_mode="threading")
        app.extensions["socketio_emitter"] = emitter
    return emitter


def _emit(event, payload, room):
    try:
        _emitter().emit(event, payload, to=room, namespace="/")
    except Exception as exc:  # Redis down: the state change is stored; only the push is lost
        log.warning("socket emit failed", extra={"event": event, "error": type(exc).__name__})


def notify_user(user_id, notification_type, message, data=None):
    """Send a `notification` event to one user's sockets."""
    payload = {"type": notification_type, "message": message, "timestamp": isoformat(utcnow()), "data": data or {}}
    _emit("notification", payload, f"user:{user_id}")


def broadcast_invite_status(invite):
    """Send `inviteStatusUpdate` to every role above the invitee and to the invitee's organization admins."""
    organization_id = invite.reference_id("organization")
    payload = {
        "inviteId": str(invite.id),
        "email": invite.email,
        "role": invite.role,
        "status": invite.effective_status(),
        "organization": organization_id,
        "timestamp": isoformat(utcnow()),
    }
    rooms = [f"role:{role}" for role in roles_above(invite.role) if role != CLIENT_ADMIN]
    if organization_id:
        rooms.append(f"org:{organization_id}:{CLIENT_ADMIN}")
    for room in rooms:
        _emit("inviteStatusUpdate", payload, room)
