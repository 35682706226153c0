"""Pushing Socket.IO events to connected users (across processes via the message queue)."""
from datetime import datetime, timezone

from ..extensions import socketio


def user_room(user_id):
    """Return the room every socket of a user joins."""
    return f"user:{user_id}"


def role_room(role):
    """Return the room every socket of a role joins."""
    return f"role:{role}"


def org_room(org_id, role=None):
    """Return the room of an organization's users, or of its users with one role (`org:<id>:client_admin`)."""
    return f"org:{org_id}:{role}" if role else f"org:{org_id}"


def now_iso():
    """Return the current UTC time as an ISO-8601 string, as in the event payloads."""
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def notify_user(user_id, type_, message, data=None):
    """Emit a `notification` event to every socket of one user; return the payload."""
    payload = {"type": type_, "message": message, "timestamp": now_iso(), "data": data or {}}
    socketio.emit("notification", payload, to=user_room(user_id), namespace="/")
    return payload
