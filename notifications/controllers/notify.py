"""Pushing Socket.IO events to connected users (across processes via the message queue)."""
from servicekit import contract

from ..extensions import socketio


def notify_user(user_id, type_, message, data=None):
    """Emit a `notification` event to every socket of one user; return the payload."""
    payload = contract.notification(type_, message, data)
    socketio.emit(contract.NOTIFICATION, payload, to=contract.user_room(user_id), namespace="/")
    return payload
