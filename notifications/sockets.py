"""Socket.IO handlers: authenticate on connect and join the user's rooms.

Rooms, and the events other services emit to them through the Redis message queue, are
defined in `servicekit.contract`.
"""
from flask import current_app, session
from flask_socketio import ConnectionRefusedError, emit, join_room

from servicekit.contract import org_room, role_room, user_room

from .exceptions import InvalidToken
from .extensions import socketio
from .utils import jwks
from .utils.tokens import verify_access_token


@socketio.on("connect")
def on_connect(auth=None):
    """Accept only a valid access token in `auth.token`; join user, role and org rooms."""
    token = auth.get("token") if isinstance(auth, dict) else None
    try:
        claims = verify_access_token(token, jwks.client(), current_app.config["JWT_ISSUER"],
                                     current_app.config["JWT_AUDIENCE"])
    except InvalidToken as exc:
        raise ConnectionRefusedError(exc.message) from None
    session["user_id"] = claims["sub"]
    session["role"] = claims["role"]
    session["org"] = claims.get("org")
    join_room(user_room(claims["sub"]))
    join_room(role_room(claims["role"]))
    if claims.get("org"):
        join_room(org_room(claims["org"]))
        join_room(org_room(claims["org"], claims["role"]))
    _connected_clients().inc()


@socketio.on("disconnect")
def on_disconnect(*_args):
    """Keep the connected-clients gauge true."""
    _connected_clients().dec()


def _connected_clients():
    return current_app.extensions["metrics"].sockets


@socketio.on("register")
def on_register(data=None):
    """Legacy client event: (re)join the user's room, only for the token's own user id."""
    user_id = data.get("userId") if isinstance(data, dict) else None
    if user_id is None or str(user_id) != session.get("user_id"):
        emit("error", {"message": "You can only register for your own user id"})
        return {"success": False}
    join_room(user_room(session["user_id"]))
    return {"success": True, "userId": session["user_id"]}
